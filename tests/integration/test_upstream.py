"""The shared upstream client and its status → domain error mapping."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import TypeAdapter

from adapters.providers.alternative_me import AlternativeMeAdapter
from adapters.providers.binance import BinanceAdapter
from adapters.providers.coincap import CoinCapAdapter
from adapters.providers.coingecko import CoinGeckoAdapter
from adapters.providers.kraken import KrakenAdapter
from adapters.providers.upstream import BLOCKED_PAUSE, UpstreamClient, UpstreamResponse, decode, status_error
from adapters.resilience.memory_cooldowns import MemoryCooldowns
from adapters.resilience.purgatory_breakers import PurgatoryBreakers
from application.provider_calls import ProviderCalls
from domain.breaker_policy import BreakerPolicy, counts_as_failure
from domain.errors import (
    BadPayload,
    CircuitOpen,
    ProviderError,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.interval import Interval
from domain.symbol import Symbol
from simulator import UpstreamSimulator
from tests.fakes import FakeClock
from tests.integration.conftest import ClientFactory
from tests.integration.support import requests_to


def response(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> UpstreamResponse:
    """An answer with headers as aiohttp hands them over (case-insensitive)."""
    return UpstreamResponse(status, CIMultiDictProxy(CIMultiDict(headers or {})), body)


# -- status mapping --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, UpstreamRateLimited),  # rate limited
        (418, UpstreamRateLimited),  # Binance's IP ban
        (451, UpstreamBlocked),  # geo-block
        (403, UpstreamBlocked),  # WAF
        (401, UpstreamBlocked),  # key refused
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (504, ProviderUnavailable),
        # Any other status means we call the provider wrongly (a bug or a misconfigured base
        # URL): a provider fault. Only documented "no such market" answers are rejections,
        # and the adapters recognise those themselves.
        (400, BadPayload),
        (404, BadPayload),
        (422, BadPayload),
        (204, BadPayload),  # nothing a provider should answer a data request with
        (304, BadPayload),
    ],
)
def test_status_error_table(status: int, expected: type[ProviderError]) -> None:
    error = status_error("someprovider", response(status))
    assert type(error) is expected
    assert error.provider == "someprovider"


@pytest.mark.parametrize("status", [400, 404, 405, 422])
def test_an_unexpected_status_points_at_the_base_url(status: int) -> None:
    error = status_error("coingecko", response(status))
    assert isinstance(error, BadPayload) and not isinstance(error, UpstreamRejected)
    assert str(status) in error.reason and "base URL" in error.reason
    assert counts_as_failure(error)  # it counts against the provider's circuit


@pytest.mark.parametrize("status", [429, 418])
def test_rate_limits_carry_retry_after(status: int) -> None:
    assert status_error("binance", response(status, headers={"Retry-After": "120"})).retry_after == 120.0
    assert status_error("binance", response(status)).retry_after is None


@pytest.mark.parametrize("status", [451, 401])
def test_a_block_for_good_pauses_the_provider_for_an_hour(status: int) -> None:
    # A geo-block or a refused key does not lift by itself: ask again only after a long pause.
    for headers in ({"Retry-After": "120"}, {}):
        error = status_error("binance", response(status, headers=headers))
        assert isinstance(error, UpstreamBlocked)
        assert error.retry_after == BLOCKED_PAUSE == 3600.0


@pytest.mark.parametrize("status", [403, 500, 400, 404])
def test_other_errors_carry_no_retry_after(status: int) -> None:
    assert status_error("binance", response(status, headers={"Retry-After": "120"})).retry_after is None


# -- Retry-After -----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "seconds"), [("30", 30.0), ("0", 0.0), ("3600", 3600.0), (" 7 ", 7.0)])
def test_retry_after_in_seconds(raw: str, seconds: float) -> None:
    assert response(429, headers={"Retry-After": raw}).retry_after == seconds


def test_retry_after_header_name_is_case_insensitive() -> None:
    assert response(429, headers={"retry-after": "45"}).retry_after == 45.0  # CoinGecko's spelling


@pytest.mark.parametrize(
    "raw",
    [
        "soon",
        "",
        "Wed, 21 Oct 2015 07:28:00 GMT",  # an HTTP-date: not seconds
        "30s",
        "1,5",
        "nan",
        "inf",
    ],
)
def test_garbage_retry_after_is_none(raw: str) -> None:
    assert response(429, headers={"Retry-After": raw}).retry_after is None


def test_no_retry_after_is_none() -> None:
    assert response(429).retry_after is None


# -- bodies ----------------------------------------------------------------------------

_LIST_OF_INTS = TypeAdapter(list[int])


@pytest.mark.parametrize(
    "body",
    [b"<!DOCTYPE html><html></html>", b"  \n<html>", b'{"a": [1, 2', b"", b'{"a": 1}', b'[1, 2, "x"]'],
    ids=["html", "html-after-blanks", "truncated", "empty", "wrong-type", "wrong-item"],
)
def test_anything_but_the_expected_json_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload) as caught:
        decode("kraken", response(200, body), _LIST_OF_INTS)
    assert caught.value.provider == "kraken"


def test_the_expected_json_decodes() -> None:
    assert decode("kraken", response(200, b"[1, 2, 3]"), _LIST_OF_INTS) == [1, 2, 3]


# -- the client over HTTP --------------------------------------------------------------


async def test_the_client_sends_params_and_headers_and_returns_any_status(
    sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    client = UpstreamClient(session, "binance", sim.base_urls["binance"] + "/", {"X-Probe": "yes"})
    answer = await client.get("/api/v3/klines", {"symbol": "NOPEUSDT", "interval": "1h"})

    assert answer.status == 400  # returned, not raised: the adapters map statuses themselves
    assert b"-1121" in answer.body
    [sent] = requests_to(sim, "binance")
    assert sent.path == "/api/v3/klines"  # the base URL's trailing slash did not double up
    assert sent.query == {"symbol": "NOPEUSDT", "interval": "1h"}
    assert sent.headers.get("X-Probe") == "yes"


async def test_a_timeout_names_the_provider(
    sim: UpstreamSimulator, client_for: ClientFactory, impatient_session: aiohttp.ClientSession
) -> None:
    sim.set_fault("kraken", "timeout")
    with pytest.raises(ProviderUnavailable) as caught:
        await client_for("kraken", http=impatient_session).get("/0/public/Time")
    assert caught.value.provider == "kraken"


async def test_a_dropped_connection_names_the_provider(
    sim: UpstreamSimulator, client_for: ClientFactory
) -> None:
    sim.set_fault("coingecko", "connection_reset")
    with pytest.raises(ProviderUnavailable) as caught:
        await client_for("coingecko").get("/ping")
    assert caught.value.provider == "coingecko"


async def test_an_answer_over_the_size_cap_is_refused_not_read_whole(
    sim: UpstreamSimulator, client_for: ClientFactory
) -> None:
    from adapters.providers.upstream import MAX_BODY

    sim.set_fault("binance", "oversized", size=MAX_BODY + 1024 * 1024)
    with pytest.raises(BadPayload) as caught:
        await client_for("binance").get("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1h"})
    assert "larger than" in caught.value.reason
    sim.clear_faults()
    sim.set_fault("binance", "oversized", size=MAX_BODY - 1024 * 1024)  # under the cap: read whole
    answer = await client_for("binance").get("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1h"})
    assert answer.status == 200 and answer.body.strip() == b"[]"


async def test_a_refused_connection_names_the_provider(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = UpstreamClient(session, "coincap", f"http://127.0.0.1:{port}/v3")
    with pytest.raises(ProviderUnavailable) as caught:
        await client.get("/assets")
    assert caught.value.provider == "coincap"


# -- trap 6: a Retry-After is an order --------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "kind", "retry_after"),
    [
        ("binance", "rate_limit", 30),
        ("binance", "ban_418", 120),
        ("coingecko", "rate_limit", 45),
        ("coincap", "rate_limit", 20),
        ("alternative_me", "rate_limit", 15),
        ("kraken", "rate_limit", None),  # Kraken names no time: the adapter's own pause applies
    ],
)
async def test_no_call_reaches_the_provider_until_its_retry_after_has_passed(
    sim: UpstreamSimulator, client_for: ClientFactory, provider: str, kind: str, retry_after: int | None
) -> None:
    clock = FakeClock(1_800_000_000.0)
    calls = ProviderCalls(clock, 5.0, cooldowns=MemoryCooldowns())
    operation = _operations(client_for, clock)[provider]
    params: dict[str, Any] = {} if retry_after is None else {"retry_after": retry_after}
    sim.set_fault(provider, kind, times=1, **params)

    with pytest.raises(UpstreamRateLimited) as caught:
        await calls.run(provider, operation)
    wait = caught.value.retry_after
    assert wait is not None and wait > 0
    if retry_after is not None:
        assert wait == retry_after
    assert sim.calls(provider) == 1

    clock.advance(wait - 0.5)
    with pytest.raises(CircuitOpen):
        await calls.run(provider, operation)
    assert sim.calls(provider) == 1  # refused without touching the provider

    clock.advance(0.5)
    await calls.run(provider, operation)
    assert sim.calls(provider) == 2


def _operations(client_for: ClientFactory, clock: FakeClock) -> dict[str, Callable[[], Awaitable[object]]]:
    binance = BinanceAdapter(client_for("binance"), clock)
    kraken = KrakenAdapter(client_for("kraken"), clock)
    coingecko = CoinGeckoAdapter(client_for("coingecko"))
    coincap = CoinCapAdapter(client_for("coincap", {"Authorization": "Bearer k"}), "k")
    fng = AlternativeMeAdapter(client_for("alternative_me"))
    return {
        "binance": lambda: binance.fetch_ohlcv(Symbol("BTC", "USDT"), Interval("1h"), 5),
        "kraken": lambda: kraken.fetch_ohlcv(Symbol("BTC", "USDT"), Interval("1h"), 5),
        "coingecko": lambda: coingecko.fetch_quotes(["BTC"]),
        "coincap": lambda: coincap.fetch_quotes(["BTC"]),
        "alternative_me": lambda: fng.fetch_fear_greed(1),
    }


# -- a wrong base URL is the provider's (configuration's) fault --------------------------


async def test_a_misconfigured_base_url_opens_the_circuit(
    sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    # CoinGecko's base URL without its /api/v3: every call is a 404 from the host.
    base_url = sim.base_urls["coingecko"].removesuffix("/api/v3")
    wrong = CoinGeckoAdapter(UpstreamClient(session, "coingecko", base_url))
    clock = FakeClock(1_800_000_000.0)
    calls = ProviderCalls(clock, 5.0, breakers=PurgatoryBreakers(BreakerPolicy(3, 60), clock))
    calls.register("coingecko")
    for _ in range(3):
        with pytest.raises(BadPayload) as caught:
            await calls.run("coingecko", lambda: wrong.fetch_quotes(["BTC"]))
        assert "404" in caught.value.reason
    assert sim.calls("coingecko") == 3

    with pytest.raises(CircuitOpen):
        await calls.run("coingecko", lambda: wrong.fetch_quotes(["BTC"]))
    assert sim.calls("coingecko") == 3  # no longer asked
    health = next(h for h in await calls.health() if h.name == "coingecko")
    assert (health.status, health.circuit) == ("offline", "open")
