"""alternative.me Crypto Fear & Greed Index: ``/fng/`` (and ``/fng``).

Strings throughout, newest first, one entry per UTC day; errors go in
``metadata.error``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .error_pages import nginx_page, plain_text
from .faults import COMMON_KINDS, Fault
from .timeframes import DAY
from .upstream import Upstream, json_answer

INDEX_NAME = "Fear and Greed Index"
#: 2018-02-01, the first day of the real index's history (``limit=0``).
HISTORY_START = 17_563 * DAY
_DATE_FORMATS = {"us": "%m-%d-%Y", "cn": "%Y-%m-%d", "kr": "%Y-%m-%d", "world": "%d-%m-%Y"}


def classify(value: int) -> str:
    """The index's label for ``value``."""
    if value <= 24:
        return "Extreme Fear"
    if value <= 46:
        return "Fear"
    if value <= 54:
        return "Neutral"
    if value <= 75:
        return "Greed"
    return "Extreme Greed"


def fng_body(data: Any, error: str | None = None) -> dict[str, Any]:
    """The index's envelope around ``data``."""
    return {"name": INDEX_NAME, "data": data, "metadata": {"error": error}}


class AlternativeMeUpstream(Upstream):
    """alternative.me, mounted at ``/alternative_me`` (the service's ``ALTERNATIVE_ME_BASE_URL``)."""

    name = "alternative_me"
    prefix = "/alternative_me"
    host = "api.alternative.me"
    fault_kinds = COMMON_KINDS | {"metadata_error"}

    def routes(self) -> list[web.RouteDef]:
        """``/fng/`` with and without the trailing slash."""
        return [self.get("/fng/", self.fng), self.get("/fng", self.fng)]

    def answer(self, fault: Fault, request: web.Request, path: str) -> web.Response:
        """nginx pages for 5xx, plain text for 429, errors in ``metadata.error``."""
        kind = fault.kind
        if kind in ("http_500", "http_503"):
            return nginx_page(int(kind[-3:]))
        if kind == "rate_limit":
            response = plain_text(429, "Too Many Requests")
            response.headers["Retry-After"] = str(int(fault.params.get("retry_after", 30)))
            return response
        if kind == "metadata_error":
            return json_answer(fng_body([], str(fault.params.get("message", "Internal error"))))
        if kind == "empty":
            return json_answer(fng_body([]))
        if kind == "wrong_shape":
            return json_answer(fng_body({"value": "50", "value_classification": "Neutral"}))
        raise ValueError(f"alternative_me cannot answer fault {kind!r}")

    async def fng(self, request: web.Request) -> web.Response:
        """The latest ``limit`` days (default 1; 0 = the whole history), newest first."""
        query = request.query
        try:
            limit = int(query.get("limit", "1"))
        except ValueError:
            limit = 1
        now = self.market.now()
        today = int(now // DAY) * DAY
        days = (today - HISTORY_START) // DAY + 1
        count = days if limit <= 0 else min(limit, days)
        date_format = _DATE_FORMATS.get(query.get("date_format", ""))
        entries = []
        for back in range(count):
            day_start = today - back * DAY
            value = self.market.fear_greed(day_start // DAY)
            stamp = (
                datetime.fromtimestamp(day_start, tz=UTC).strftime(date_format)
                if date_format
                else str(day_start)
            )
            entry = {"value": str(value), "value_classification": classify(value), "timestamp": stamp}
            if back == 0:
                entry["time_until_update"] = str(max(0, int(today + DAY - now)))
            entries.append(entry)
        return json_answer(fng_body(entries))
