"""Helpers for the adapter integration suite: a fixed clock, raw upstream reads, time maths.

Everything an expected value is built from comes from here or from the simulator's own
answers, fetched and parsed independently of the adapters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from adapters.providers.upstream import UpstreamClient, UpstreamResponse
from simulator import RecordedRequest, UpstreamSimulator

#: Friday 2024-05-24 05:20:34.5 UTC: the simulator's clock, so raw and adapter reads agree.
NOW = 1_716_528_034.5
#: Monday 2024-05-27 00:00:30 UTC, a week that has only just opened.
MONDAY_JUST_OPENED = 1_716_768_030.0
#: Sunday 2024-05-26 23:59:59 UTC, the last second of a week.
SUNDAY_LAST_SECOND = 1_716_767_999.0

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
INTERVAL_MS = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "4h": 4 * HOUR_MS,
    "1d": DAY_MS,
    "1w": WEEK_MS,
}


def exact(text: str | float) -> float:
    """A provider number parsed independently of the adapters (decimal strings via Decimal)."""
    return float(Decimal(text)) if isinstance(text, str) else float(text)


def period_start_ms(interval: str, now_s: float) -> int:
    """Open time (ms) of the ``interval`` bar containing ``now_s``, per calendar rules.

    Weeks open Monday 00:00 UTC (the exchange convention); every other interval is aligned
    on the Unix epoch.
    """
    moment = datetime.fromtimestamp(now_s, tz=UTC)
    if interval == "1w":
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        monday = day - timedelta(days=day.weekday())
        return int(monday.timestamp()) * 1000
    step = INTERVAL_MS[interval]
    return int(now_s * 1000) // step * step


def is_monday_midnight(timestamp_ms: int) -> bool:
    """Whether ``timestamp_ms`` is Monday 00:00:00 UTC."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return moment.weekday() == 0 and (moment.hour, moment.minute, moment.second, moment.microsecond) == (
        0,
        0,
        0,
        0,
    )


@dataclass(frozen=True)
class Raw:
    """One raw upstream answer."""

    status: int
    body: Any
    headers: Any


async def fetch_raw(url: str, headers: dict[str, str] | None = None, **params: str) -> Raw:
    """GET ``url`` on a session of its own (not the adapters') and parse JSON if it is JSON."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        http.get(url, params=params, headers=headers) as response,
    ):
        text = await response.text()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        return Raw(response.status, body, response.headers)


def requests_to(sim: UpstreamSimulator, provider: str, path: str | None = None) -> list[RecordedRequest]:
    """What ``provider`` received, optionally only for ``path`` (trailing slash ignored)."""
    wanted = None if path is None else path.rstrip("/")
    return [
        r for r in sim.requests if r.provider == provider and (wanted is None or r.path.rstrip("/") == wanted)
    ]


class CannedClient:
    """Stands in for an adapter's UpstreamClient: answers every GET with one canned JSON body,
    for payloads the simulator never serves (zeros, odd error codes). Records what was asked."""

    def __init__(self, provider: str, body: Any, status: int = 200) -> None:
        self.provider = provider
        self._body = json.dumps(body).encode()
        self._status = status
        self.requests: list[tuple[str, dict[str, str]]] = []

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> UpstreamResponse:
        self.requests.append((path, dict(params or {})))
        return UpstreamResponse(self._status, CIMultiDictProxy(CIMultiDict()), self._body)


def canned(provider: str, body: Any, status: int = 200) -> UpstreamClient:
    """A :class:`CannedClient`, typed as the client the adapters take."""
    return cast(UpstreamClient, CannedClient(provider, body, status))
