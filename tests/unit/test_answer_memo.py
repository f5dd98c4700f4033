"""The answer memo's key: derived from what was served, so no served difference reuses old bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import orjson
import pytest

from application.get_market_overview import GetMarketOverview
from application.get_ohlcv import GetOhlcv
from application.get_prices import GetPrices
from application.get_sentiment import GetSentiment
from application.served import Served
from domain.candle import CandleSeries
from domain.errors import ProviderUnavailable
from domain.interval import IntervalParser
from domain.symbol import SymbolParser
from entrypoints.answer_memo.answer_key import KEY_FIELDS, answer_key
from entrypoints.answer_memo.json_body import REST_BYTES, JsonBody
from entrypoints.answer_memo.memo import AnswerMemo
from entrypoints.answer_memo.protobuf_answer import GRPC_BYTES, ProtobufAnswer
from entrypoints.grpc import mapping
from entrypoints.rest import rendering
from tests.fakes import FakeOhlcvProvider, FakeOverviewProvider, FakePriceProvider, FakeSentimentProvider
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, T0, infrastructure

TTL = 60.0


@dataclass(frozen=True)
class Edge:
    """One edge's memo, its presenters by kind, and how to read an answer without its timestamp."""

    name: str
    memo: Callable[[], AnswerMemo[Any]]
    present: dict[str, Callable[[Served[Any]], Any]]
    read: Callable[[bytes, str], Any]


def _read_json(answer: bytes, kind: str) -> dict[str, Any]:
    body = orjson.loads(answer)
    del body["timestamp"]
    return body


_MESSAGES = {"ohlcv": "GetOhlcvResponse", "prices": "GetPricesResponse",
             "sentiment": "GetSentimentResponse", "market": "GetMarketOverviewResponse"}  # fmt: skip


def _read_message(answer: bytes, kind: str) -> Any:
    message = getattr(mapping.pb, _MESSAGES[kind]).FromString(answer)
    message.ClearField("timestamp")
    return message


REST = Edge(
    "rest",
    lambda: AnswerMemo(JsonBody(), REST_BYTES),
    {"ohlcv": rendering.ohlcv_body, "prices": rendering.prices_body,
     "sentiment": rendering.sentiment_body, "market": rendering.overview_body},  # fmt: skip
    _read_json,
)
GRPC = Edge(
    "grpc",
    lambda: AnswerMemo(ProtobufAnswer(), GRPC_BYTES),
    {"ohlcv": mapping.ohlcv_response, "prices": mapping.prices_response,
     "sentiment": mapping.sentiment_response, "market": mapping.overview_response},  # fmt: skip
    _read_message,
)
EDGES = pytest.mark.parametrize("edge", [REST, GRPC], ids=lambda edge: edge.name)


def _fresh(edge: Edge, kind: str, served: Served[Any]) -> Any:
    """What the edge answers to ``served`` with nothing kept."""
    return edge.read(edge.memo().answer(served, edge.present[kind]), kind)


# -- the key -------------------------------------------------------------------------------


def test_the_key_is_every_field_of_served_but_the_value() -> None:
    assert set(KEY_FIELDS) == {f.name for f in fields(Served)} - {"value"}
    served = Served("value", stale=False, fetched_at=T0, request="ohlcv:BTCUSDT:1h")
    others = [
        Served("value", stale=True, fetched_at=T0, request="ohlcv:BTCUSDT:1h"),
        Served("value", stale=False, fetched_at=T0 + 1, request="ohlcv:BTCUSDT:1h"),
        Served("value", stale=False, fetched_at=T0, request="ohlcv:ETHUSDT:1h"),
        served.narrowed("value", 100),
    ]
    assert len({answer_key(s) for s in [served, *others]}) == 1 + len(others)


def test_a_cut_is_named_in_the_request() -> None:
    entry = Served("whole", stale=True, fetched_at=T0, request="prices:board")
    cut = entry.narrowed("part", ("BTC", "ETH"))
    assert (cut.value, cut.stale, cut.fetched_at) == ("part", True, T0)
    assert cut.request == ("prices:board", ("BTC", "ETH"))
    assert answer_key(cut) != answer_key(entry.narrowed("part", ("ETH", "BTC")))


# -- the hazard of a key listed by hand ------------------------------------------------------


def _old_hand_made_key(served: Served[CandleSeries]) -> tuple[Any, ...]:
    """The key the candles answers were kept by before: the fields a presenter read, listed by hand."""
    s = served.value
    return ("ohlcv", s.symbol.pair, s.interval.name, len(s.candles), s.source,
            served.fetched_at, served.stale)  # fmt: skip


async def _candle_entry() -> Served[CandleSeries]:
    symbols, intervals = SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS)
    series = await FakeOhlcvProvider("binance").fetch_ohlcv(symbols.parse("BTC"), intervals.parse("1h"), 10)
    return Served(series, stale=False, fetched_at=T0, request="ohlcv:BTCUSDT:1h")


@EDGES
async def test_answers_alike_in_every_field_the_old_key_listed_get_their_own_bytes(edge: Edge) -> None:
    """Two cuts of one entry: the newest 3 candles, and 3 candles ending one bar earlier (what a
    history range would ask). Same market, interval, count, source, entry and staleness: the
    old key could not tell them apart and answered the second with the first one's bytes."""
    entry = await _candle_entry()
    series = entry.value
    market, interval, source = series.symbol, series.interval, series.source
    newest = entry.narrowed(CandleSeries(market, interval, series.candles[-3:], source), 3)
    earlier = entry.narrowed(CandleSeries(market, interval, series.candles[-4:-1], source), (3, "ending -1"))
    assert _old_hand_made_key(newest) == _old_hand_made_key(earlier)

    memo = edge.memo()
    first = edge.read(memo.answer(newest, edge.present["ohlcv"]), "ohlcv")
    second = edge.read(memo.answer(earlier, edge.present["ohlcv"]), "ohlcv")

    assert second == _fresh(edge, "ohlcv", earlier)
    assert second != first
    assert len(memo) == 2


@EDGES
async def test_the_same_entry_served_stale_is_answered_as_stale(edge: Edge) -> None:
    entry = await _candle_entry()
    stale = Served(entry.value, stale=True, fetched_at=entry.fetched_at, request=entry.request)
    memo = edge.memo()
    memo.answer(entry, edge.present["ohlcv"])
    assert edge.read(memo.answer(stale, edge.present["ohlcv"]), "ohlcv") == _fresh(edge, "ohlcv", stale)


@EDGES
async def test_an_answer_that_does_not_say_what_was_asked_is_never_kept(edge: Edge) -> None:
    entry = await _candle_entry()
    anonymous = Served(entry.value, stale=False, fetched_at=entry.fetched_at)
    memo = edge.memo()
    answer = edge.read(memo.answer(anonymous, edge.present["ohlcv"]), "ohlcv")
    assert answer == _fresh(edge, "ohlcv", anonymous)
    assert len(memo) == 0


# -- every answer the use cases serve ---------------------------------------------------------


@EDGES
async def test_every_kept_answer_is_what_a_fresh_presentation_of_the_served_value_gives(edge: Edge) -> None:
    """Real use cases over one cache, requests that cut entries differently, a refetch with new
    data and stale answers: whatever the memo answers, presenting the served value afresh
    gives the same (the use cases name every cut they make)."""
    infra = infrastructure(["binance", "coingecko", "alternative_me"])
    symbols, intervals = SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS)
    candles = FakeOhlcvProvider("binance")
    quotes = FakePriceProvider("coingecko", {"BTC": 50_000.0, "ETH": 3000.0})
    sentiment, overview = FakeSentimentProvider(), FakeOverviewProvider()
    read, calls = infra.read_through, infra.calls
    use_cases: dict[str, Callable[[Any], Any]] = {
        "ohlcv": GetOhlcv(symbols, intervals, [candles], calls, read, TTL).execute,
        "prices": GetPrices(symbols, [quotes], calls, read, TTL, 0.02).execute,
        "sentiment": GetSentiment([sentiment], calls, read, TTL).execute,
        "market": GetMarketOverview([overview], calls, read, TTL).execute,
    }
    requests: list[tuple[str, tuple[Any, ...]]] = [
        ("ohlcv", ("BTC", "1h", 3)), ("ohlcv", ("BTC", "1h", 5)), ("ohlcv", ("BTC", "1h", 1000)),
        ("ohlcv", ("BTCUSDT", "1h", 3)), ("ohlcv", ("ETH", "1h", 3)), ("ohlcv", ("BTC", "4h", 3)),
        ("prices", (None,)), ("prices", ("BTC,ETH",)), ("prices", ("ETH,BTC",)), ("prices", ("BTC",)),
        ("prices", ("BTC,XRP",)), ("sentiment", ()), ("market", ()),
    ]  # fmt: skip
    memo = edge.memo()
    answered = 0

    async def serve_all() -> None:
        nonlocal answered
        for kind, arguments in requests:
            served = await use_cases[kind](*arguments)
            for _ in range(2):  # the second answer comes from what the first kept
                assert edge.read(memo.answer(served, edge.present[kind]), kind) == _fresh(edge, kind, served)
                answered += 1

    await serve_all()
    infra.clock.advance(TTL + 1)  # refetched, with other data
    quotes.prices["BTC"] = 51_000.0
    sentiment.values = (10, 20, 30, 40, 50, 60, 70)
    await serve_all()
    infra.clock.advance(TTL + 1)  # every provider fails: the same entries served stale
    for provider in (candles, quotes, sentiment, overview):
        provider.error = ProviderUnavailable(provider.name, "HTTP 503")
    await serve_all()
    assert answered == 6 * len(requests)
