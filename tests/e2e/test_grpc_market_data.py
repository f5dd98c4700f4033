"""Every MarketData RPC over a real loopback connection, and parity with REST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from entrypoints.rest.app import create_app
from protos.cryptodata.v1 import market_data_pb2 as pb
from simulator import UpstreamSimulator
from tests.e2e.conftest import GrpcService, MakeGrpc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_to_ms(text: str) -> int:
    """REST's ISO 8601 ``...Z`` as epoch milliseconds, exactly."""
    return (datetime.fromisoformat(text) - _EPOCH) // timedelta(milliseconds=1)


def optional(message: Any, field: str) -> Any:
    """A proto3 optional field as REST renders it: None when unset."""
    return getattr(message, field) if message.HasField(field) else None


async def rest_client(aiohttp_client: Any, service: GrpcService) -> Any:
    """REST on the same container and use cases as the gRPC server, like ``serve`` runs them."""
    return await aiohttp_client(create_app(service.settings, service.container, service.use_cases))


async def test_get_ohlcv_returns_the_candles_oldest_first(grpc_service: GrpcService) -> None:
    answer = await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="btc-usdt", interval="1h", limit=24))

    assert answer.symbol == "BTCUSDT"
    assert answer.interval == "1h"
    assert answer.source == "binance"
    assert answer.count == len(answer.candles) == 24
    times = [c.timestamp for c in answer.candles]
    assert times == sorted(times) and len(set(times)) == 24
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in answer.candles)
    assert not answer.stale and not answer.HasField("data_timestamp")
    assert answer.timestamp > 0


async def test_get_ohlcv_defaults_match_rest(grpc_service: GrpcService, aiohttp_client: Any) -> None:
    answer = await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="ETH"))

    rest = await (await (await rest_client(aiohttp_client, grpc_service)).get("/api/ohlcv?symbol=ETH")).json()
    assert (answer.interval, answer.count) == (rest["interval"], rest["count"]) == ("1h", 100)


async def test_get_ohlcv_falls_back_to_kraken(
    grpc_service: GrpcService, simulator: UpstreamSimulator
) -> None:
    simulator.set_fault("binance", "http_500")

    answer = await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC", interval="4h", limit=10))

    assert answer.source == "kraken"
    assert answer.count == 10


async def test_ohlcv_parity_with_rest(grpc_service: GrpcService, aiohttp_client: Any) -> None:
    client = await rest_client(aiohttp_client, grpc_service)

    answer = await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="SOL", interval="15m", limit=50))
    rest = await (await client.get("/api/ohlcv?symbol=SOL&interval=15m&limit=50")).json()

    assert answer.source == rest["source"]
    assert (answer.symbol, answer.interval, answer.count) == (rest["symbol"], rest["interval"], rest["count"])
    assert [
        {"timestamp": c.timestamp, "open": c.open, "high": c.high, "low": c.low, "close": c.close,
         "volume": c.volume}
        for c in answer.candles
    ] == rest["data"]  # fmt: skip


def _as_rest(q: pb.Quote) -> dict[str, Any]:
    return {
        "symbol": q.symbol,
        "name": q.name,
        "price": q.price,
        "priceUsd": q.price_usd,
        "change24h": optional(q, "change_24h"),
        "volume24h": optional(q, "volume_24h"),
        "marketCap": optional(q, "market_cap"),
        "lastUpdate": q.last_update,
        "sources": list(q.sources),
        "dropped": list(q.dropped),
        "spread": q.spread,
        "disputed": q.disputed,
    }


async def test_prices_parity_with_rest(grpc_service: GrpcService, aiohttp_client: Any) -> None:
    client = await rest_client(aiohttp_client, grpc_service)

    answer = await grpc_service.stub.GetPrices(pb.GetPricesRequest(symbols=["BTC", "ETH", "SOL"]))
    rest = await (await client.get("/api/prices?symbols=BTC,ETH,SOL")).json()

    expected = [{**q, "lastUpdate": iso_to_ms(q["lastUpdate"])} for q in rest["data"]]
    assert [_as_rest(q) for q in answer.quotes] == expected
    assert [q.symbol for q in answer.quotes] == ["BTC", "ETH", "SOL"]
    assert answer.source == rest["source"] == "coingecko+coincap+binance"
    assert (answer.count, list(answer.missing)) == (rest["count"], rest["missing"])


async def test_get_prices_without_symbols_lists_every_supported_symbol(grpc_service: GrpcService) -> None:
    answer = await grpc_service.stub.GetPrices(pb.GetPricesRequest())

    listed = {q.symbol for q in answer.quotes} | set(answer.missing)
    assert listed == set(grpc_service.settings.supported_symbols)


async def test_unknown_values_are_unset_not_zero(make_grpc: MakeGrpc, aiohttp_client: Any) -> None:
    # Binance's ticker has no market cap: REST says null, gRPC must leave the field unset.
    service = await make_grpc(price_providers="binance")
    client = await rest_client(aiohttp_client, service)

    answer = await service.stub.GetPrices(pb.GetPricesRequest(symbols=["BTC"]))
    rest = await (await client.get("/api/prices?symbols=BTC")).json()

    assert rest["data"][0]["marketCap"] is None
    assert not answer.quotes[0].HasField("market_cap")
    assert answer.quotes[0].price > 0


async def test_get_sentiment(grpc_service: GrpcService, aiohttp_client: Any) -> None:
    client = await rest_client(aiohttp_client, grpc_service)

    answer = await grpc_service.stub.GetSentiment(pb.GetSentimentRequest())
    rest = (await (await client.get("/api/sentiment")).json())["data"]

    assert answer.source == "alternative_me"
    assert 0 <= answer.fear_greed.value <= 100
    assert answer.fear_greed.value == rest["fearGreed"]["value"]
    assert answer.fear_greed.classification == rest["fearGreed"]["classification"]
    assert answer.fear_greed.timestamp == iso_to_ms(rest["fearGreed"]["timestamp"])
    assert (answer.overall.sentiment, answer.overall.score, answer.overall.confidence) == (
        rest["overall"]["sentiment"], rest["overall"]["score"], rest["overall"]["confidence"],
    )  # fmt: skip
    assert [r.value for r in answer.history] == [r["value"] for r in rest["history"]]


async def test_get_market_overview(grpc_service: GrpcService, aiohttp_client: Any) -> None:
    client = await rest_client(aiohttp_client, grpc_service)

    answer = await grpc_service.stub.GetMarketOverview(pb.GetMarketOverviewRequest())
    rest = (await (await client.get("/api/market/overview")).json())["data"]

    assert answer.source == "coingecko"
    assert {
        "totalMarketCap": answer.total_market_cap,
        "totalVolume24h": answer.total_volume_24h,
        "btcDominance": answer.btc_dominance,
        "ethDominance": answer.eth_dominance,
        "activeCoins": answer.active_coins,
        "markets": optional(answer, "markets"),
        "marketCapChange24h": optional(answer, "market_cap_change_24h"),
        "lastUpdate": answer.last_update,
    } == {**rest, "lastUpdate": iso_to_ms(rest["lastUpdate"])}
    assert answer.total_market_cap > 0


async def test_get_health(grpc_service: GrpcService, aiohttp_client: Any) -> None:
    await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC"))

    answer = await grpc_service.stub.GetHealth(pb.GetHealthRequest())
    rest = await (await (await rest_client(aiohttp_client, grpc_service)).get("/api/health")).json()

    assert answer.status == rest["status"] == "healthy"
    assert answer.version == rest["version"]
    assert [(p.name, p.status, p.circuit) for p in answer.providers] == [
        (p["name"], p["status"], p["circuit"]) for p in rest["providers"]
    ]
    by_name = {p.name: p for p in answer.providers}
    assert by_name["binance"].calls == 1 and by_name["binance"].HasField("latency")
    # Never called yet: no latency or check time to report, rather than a fake 0.
    assert not by_name["kraken"].HasField("latency") and not by_name["kraken"].HasField("last_check")
    assert answer.cache.backend == "memory"
    assert answer.cache.misses == rest["cache"]["misses"] == 1  # the one cold GetOhlcv
