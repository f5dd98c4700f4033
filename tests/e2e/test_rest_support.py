"""Shared helpers for the REST end-to-end suites (no tests live here).

Everything runs over real loopback sockets: the real aiohttp app from ``make_service`` in
front, the upstream simulator behind. Expected values come from ../shared/API.md or are read
independently from the simulator's own wire answers, never from what the service printed.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from entrypoints.settings import Settings
from simulator import UpstreamSimulator
from tests.fakes import FakeClock

#: A fixed simulator clock (2026-05-28 20:26:40.5 UTC), so that candles in progress, 24 h
#: statistics and timestamps are the same for the service and for an independent read.
FIXED_NOW = 1_780_000_000.5

PROVIDERS = ("binance", "kraken", "coingecko", "coincap", "alternative_me")
PRICE_PROVIDERS = ("coingecko", "coincap", "binance")
SUPPORTED = (
    "BTC",
    "ETH",
    "SOL",
    "XRP",
    "BNB",
    "ADA",
    "DOT",
    "LINK",
    "LTC",
    "BCH",
    "MATIC",
    "AVAX",
    "XLM",
    "TRX",
)
INTERVAL_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800}
ERROR_KEYS = {"code", "message", "details", "retryAfter"}

#: Our own upstream budgets are out of the way unless a test is about them.
GENEROUS_BUDGETS: dict[str, Any] = {f"upstream_budget_{p}": "100000/second" for p in PROVIDERS}
#: Small timeouts keep the fault matrix fast.
FAST: dict[str, Any] = {"request_timeout": 1.0, **GENEROUS_BUDGETS}

# Per-provider faults the simulator offers that make the provider fail (``skew``, ``slow``
# below the timeout and ``last_as_string`` are modifiers that leave a valid answer).
COMMON_FAILURES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("http_500", {}),
    ("http_503", {}),
    ("timeout", {}),
    ("slow", {"delay": 3.0}),  # far beyond REQUEST_TIMEOUT (0.4 s)
    ("malformed_json", {}),
    ("html", {}),  # a CDN error page (502)
    ("html", {"status": 200}),  # an HTML page served with 200
    ("rate_limit", {}),
    ("wrong_shape", {}),
    ("empty", {}),
    ("connection_reset", {}),
    ("oversized", {}),  # 6 MB of JSON: refused past the 4 MB cap
)
EXTRA_FAILURES: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "binance": (("ban_418", {}), ("geo_451", {}), ("waf_403", {})),
    "kraken": (
        ("kraken_error", {}),  # EService:Unavailable with HTTP 200
        ("kraken_error", {"message": "EService:Busy"}),
        ("kraken_error", {"message": "EGeneral:Internal error"}),
    ),
    "coingecko": (),
    "coincap": (("deprecated_v2", {}),),
    "alternative_me": (("metadata_error", {}), ("metadata_error", {"message": "Rate limited"})),
}


def failures_of(provider: str) -> list[tuple[str, dict[str, Any]]]:
    """Every failing fault the simulator offers for ``provider``."""
    return [*COMMON_FAILURES, *EXTRA_FAILURES[provider]]


def fault_id(fault: tuple[str, dict[str, Any]]) -> str:
    """A readable test id for a (kind, params) fault."""
    kind, params = fault
    return kind + "".join(f"-{k}={v}" for k, v in sorted(params.items()))


def matrix(*providers: str) -> list[Any]:
    """pytest params (provider, kind, params) over every failing fault of ``providers``."""
    return [
        pytest.param(p, kind, params, id=f"{p}-{fault_id((kind, params))}")
        for p in providers
        for kind, params in failures_of(p)
    ]


@pytest.fixture
async def simulator() -> AsyncIterator[UpstreamSimulator]:
    """The upstream simulator with a frozen market clock (overrides tests/conftest.py's).

    Only the simulated market stands still, so its answers can be compared field for field;
    the service keeps its own clock (the real one, unless started by ``start_on_clock``).
    """
    sim = UpstreamSimulator(now=lambda: FIXED_NOW)
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
def start(make_service: Callable[..., Any]) -> Callable[..., Any]:
    """``await start(**overrides)``: the real service with FAST defaults plus overrides."""

    async def starter(**overrides: Any) -> Any:
        return await make_service(**fast(overrides))

    return starter


def fast(overrides: dict[str, Any]) -> dict[str, Any]:
    """FAST settings plus ``overrides``, each of which must name a setting."""
    # Settings ignore unknown names: a misspelt override would silently test nothing.
    unknown = set(overrides) - set(Settings.model_fields)
    assert not unknown, f"not a setting: {sorted(unknown)}"
    return {**FAST, **overrides}


@pytest.fixture
def clock() -> FakeClock:
    """The service's clock for suites about time: it stands at ``FIXED_NOW``, with the
    simulated market, and moves only when the test advances it."""
    return FakeClock(now=FIXED_NOW)


@pytest.fixture
def start_on_clock(make_service: Callable[..., Any], clock: FakeClock) -> Callable[..., Any]:
    """As ``start``, with the service's Clock replaced by ``clock``: TTLs, circuit timeouts,
    cool-downs, budgets and limits pass when the test advances it, not while it sleeps.
    Request timeouts and slow answers stay real (they are about sockets)."""

    async def starter(**overrides: Any) -> Any:
        return await make_service(clock=clock, **fast(overrides))

    return starter


# -- reading the simulator independently ---------------------------------------------------


async def upstream(
    sim: UpstreamSimulator, provider: str, path: str, params: dict[str, str] | None = None
) -> Any:
    """GET a provider's own answer straight from the simulator (not through the service).

    This is a call the simulator counts: tests read independently after their counting
    assertions, or count differences.
    """
    async with (
        aiohttp.ClientSession() as session,
        session.get(sim.base_urls[provider] + path, params=params or {}) as response,
    ):
        assert response.status == 200, await response.text()
        body = await response.json(content_type=None)
    return body


async def binance_candles(
    sim: UpstreamSimulator, pair: str, interval: str, limit: int
) -> list[dict[str, float]]:
    """Binance's klines as API.md candles: ms open time and numbers parsed from the strings."""
    rows = await upstream(
        sim, "binance", "/api/v3/klines", {"symbol": pair, "interval": interval, "limit": str(limit)}
    )
    return [
        {"timestamp": r[0], "open": float(r[1]), "high": float(r[2]), "low": float(r[3]),
         "close": float(r[4]), "volume": float(r[5])}
        for r in rows
    ]  # fmt: skip


_KRAKEN_BARS: dict[tuple[int, str, int], list[dict[str, float]]] = {}


async def kraken_candles(sim: UpstreamSimulator, pair: str, minutes: int) -> list[dict[str, float]]:
    """Every bar Kraken keeps for ``pair``, as API.md candles (seconds → ms, volume is column 6).

    Kraken's 720 bars are slow to simulate, and with the frozen clock and the fixed seed every
    simulator answers the same: each market is read once per run (callers never skew Kraken).
    """
    key = (sim.market.seed, pair, minutes)
    if key not in _KRAKEN_BARS:
        body = await upstream(sim, "kraken", "/0/public/OHLC", {"pair": pair, "interval": str(minutes)})
        assert body["error"] == []
        (name,) = [k for k in body["result"] if k != "last"]
        _KRAKEN_BARS[key] = [
            {"timestamp": r[0] * 1000, "open": float(r[1]), "high": float(r[2]), "low": float(r[3]),
             "close": float(r[4]), "volume": float(r[6])}
            for r in body["result"][name]
        ]  # fmt: skip
    return list(_KRAKEN_BARS[key])


COINGECKO_IDS = {"BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana", "XRP": "ripple", "BNB": "binancecoin",
                 "ADA": "cardano", "DOT": "polkadot", "LINK": "chainlink", "LTC": "litecoin",
                 "BCH": "bitcoin-cash", "MATIC": "matic-network", "AVAX": "avalanche-2", "XLM": "stellar",
                 "TRX": "tron"}  # fmt: skip
COINCAP_IDS = {"BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana", "XRP": "xrp", "BNB": "binance-coin",
               "ADA": "cardano", "DOT": "polkadot", "LINK": "chainlink", "LTC": "litecoin",
               "BCH": "bitcoin-cash", "MATIC": "polygon", "AVAX": "avalanche", "XLM": "stellar",
               "TRX": "tron"}  # fmt: skip
BINANCE_BASES = {"MATIC": "POL"}  # PROVIDERS.md: Binance trades POLUSDT, no longer MATICUSDT


async def provider_prices(sim: UpstreamSimulator, provider: str, bases: tuple[str, ...]) -> dict[str, float]:
    """USD price per base as ``provider`` itself quotes it (PROVIDERS.md wire formats)."""
    if provider == "coingecko":
        ids = {COINGECKO_IDS[b]: b for b in bases}
        body = await upstream(
            sim, "coingecko", "/simple/price", {"ids": ",".join(ids), "vs_currencies": "usd"}
        )
        return {ids[i]: float(v["usd"]) for i, v in body.items()}
    if provider == "coincap":
        ids = {COINCAP_IDS[b]: b for b in bases}
        body = await upstream(sim, "coincap", "/assets", {"ids": ",".join(ids), "apiKey": "independent-read"})
        return {ids[a["id"]]: float(a["priceUsd"]) for a in body["data"]}
    if provider == "binance":
        markets = {BINANCE_BASES.get(b, b) + "USDT": b for b in bases}
        symbols = "[" + ",".join(f'"{m}"' for m in markets) + "]"
        body = await upstream(sim, "binance", "/api/v3/ticker/24hr", {"symbols": symbols})
        return {markets[t["symbol"]]: float(t["lastPrice"]) for t in body}
    raise ValueError(provider)


# -- checking answers ----------------------------------------------------------------------


def is_number(value: Any) -> bool:
    """A JSON number (not a string, not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_epoch_ms(value: Any) -> bool:
    """An epoch-milliseconds integer within a day of now (seconds would be 1000× smaller)."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and abs(value - time.time() * 1000) < 86_400_000
    )


def parse_iso_z(value: Any) -> float:
    """Epoch seconds of an ISO 8601 UTC timestamp that ends with ``Z`` (asserts the form)."""
    assert isinstance(value, str) and value.endswith("Z"), value
    return datetime.fromisoformat(value).timestamp()  # Python 3.11 reads the Z


async def error_of(response: aiohttp.ClientResponse, status: int, code: str) -> dict[str, Any]:
    """Assert the API.md error envelope with ``status`` and ``code``; return ``error``."""
    assert response.status == status, (response.status, await response.text())
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"success", "error", "timestamp"}, body
    assert body["success"] is False
    assert set(body["error"]) == ERROR_KEYS, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert is_epoch_ms(body["timestamp"])
    return body["error"]


async def provider_error(response: aiohttp.ClientResponse, providers: set[str]) -> dict[str, Any]:
    """Assert 503 PROVIDER_ERROR naming exactly ``providers``, with Retry-After both ways."""
    error = await error_of(response, 503, "PROVIDER_ERROR")
    assert isinstance(error["details"], dict) and set(error["details"]) == providers, error
    assert all(isinstance(why, str) and why for why in error["details"].values()), error
    retry = error["retryAfter"]
    assert isinstance(retry, int) and not isinstance(retry, bool) and retry >= 1, error
    assert response.headers.get("Retry-After") == str(retry)
    return error


async def data_of(response: aiohttp.ClientResponse, *, stale: bool = False) -> dict[str, Any]:
    """Assert the API.md success envelope; return the whole body."""
    assert response.status == 200, (response.status, await response.text())
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["success"] is True, body
    assert "data" in body
    assert is_epoch_ms(body["timestamp"])
    assert body["stale"] is stale, body
    return body


def median(values: list[float]) -> float:
    """The median, as the aggregation rule in README.md defines the served price."""
    return statistics.median(values)


def current_open_ms(interval: str, now: float = FIXED_NOW) -> int:
    """Open time (ms) of the bar in progress at ``now``; weeks open on Monday 00:00 UTC."""
    seconds = INTERVAL_SECONDS[interval]
    anchor = 4 * 86_400 if interval == "1w" else 0  # 1970-01-05 was the first Monday
    return (anchor + math.floor((now - anchor) / seconds) * seconds) * 1000


async def health_of(client: Any, provider: str) -> dict[str, Any]:
    """One provider's entry in /api/health."""
    response = await client.get("/api/health")
    body = await response.json()
    (entry,) = [p for p in body["providers"] if p["name"] == provider]
    return entry
