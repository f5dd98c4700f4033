"""GET /api/ohlcv while a market is live: the live newest candle and the streamed closed ones
joined into the cached window without refetching, ``live`` said, and never an old answer kept
in the answer memo for a live candle that has changed since."""

from __future__ import annotations

import asyncio

import orjson

from application.live.fanout import LiveFanout
from application.live.mailbox import Mailbox
from application.live.topic import TopicWatch
from domain.candle import Candle
from entrypoints.answer_memo.json_body import REST_BYTES, JsonBody
from entrypoints.answer_memo.memo import AnswerMemo
from entrypoints.rest import rendering
from tests.unit.fanout_world import MINUTE_MS, OPEN_MS, LiveWorld, candle_event, final, forming, live_world

T = OPEN_MS
M = MINUTE_MS


async def watch_btc(feed: LiveFanout, inbox: Mailbox) -> TopicWatch:
    task = asyncio.ensure_future(feed.watch_candles(inbox, "BTC", "1m"))
    await asyncio.sleep(0)
    feed.apply(candle_event(T, False))
    return await asyncio.wait_for(task, 2)


async def live_btc() -> LiveWorld:
    """A world where one subscriber watches BTCUSDT 1m and the stream showed candle T forming."""
    w = live_world()
    await watch_btc(w.feed, w.feed.inbox())
    return w


async def test_an_unwatched_market_is_answered_from_the_cache_and_not_live() -> None:
    w = live_world()
    served = await w.get_ohlcv.execute("BTC", "1m", 3)
    assert served.live is False and served.live_version is None
    assert served.value.candles == (final(T - 2 * M), final(T - M), forming(T))


async def test_a_live_market_is_answered_with_the_streamed_candles_joined_in() -> None:
    w = await live_btc()
    w.clock.advance(45)  # T + 75 s
    w.feed.apply(candle_event(T, True))
    later = forming(T + M)
    w.feed.apply(candle_event(T + M, False, candle=later))
    served = await w.get_ohlcv.execute("BTC", "1m", 4)
    assert served.live is True and served.stale is False
    assert served.value.candles == (final(T - 2 * M), final(T - M), final(T), later)
    assert served.value.source == "binance"
    assert w.exchange.calls == 1


async def test_the_cached_window_is_not_refetched_while_the_stream_keeps_it_current() -> None:
    w = await live_btc()
    for i in range(10):  # ten minutes: twice the TTL of the cached window
        w.clock.advance(60)
        w.feed.apply(candle_event(T + i * M, True))
        w.feed.apply(candle_event(T + (i + 1) * M, False))
    served = await w.get_ohlcv.execute("BTC", "1m", 1000)
    assert w.exchange.calls == 1
    assert served.live is True
    assert len(served.value.candles) == 1000
    assert served.value.candles[-12:] == (final(T - M),) + tuple(final(T + i * M) for i in range(10)) + (
        forming(T + 10 * M),
    )
    stamps = [c.timestamp for c in served.value.candles]
    assert stamps == list(range(stamps[0], stamps[0] + 1000 * M, M))


async def test_a_cached_window_older_than_the_stream_is_fetched_again_once() -> None:
    w = live_world()
    await w.get_ohlcv.execute("BTC", "1m", 5)  # cached at T + 30 s
    w.clock.advance(150)  # T + 3 min: candles T, T+1, T+2 closed since
    await watch_btc_at(w, T + 3 * M)
    served = await w.get_ohlcv.execute("BTC", "1m", 5)
    assert w.exchange.calls == 2
    assert served.live is True
    assert served.value.candles == (
        final(T - M),
        final(T),
        final(T + M),
        final(T + 2 * M),
        forming(T + 3 * M),
    )
    await w.get_ohlcv.execute("BTC", "1m", 5)
    assert w.exchange.calls == 2


async def watch_btc_at(w: LiveWorld, opened: int) -> None:
    task = asyncio.ensure_future(w.feed.watch_candles(w.feed.inbox(), "BTC", "1m"))
    await asyncio.sleep(0)
    w.feed.apply(candle_event(opened, False))
    await asyncio.wait_for(task, 2)


async def test_not_live_while_the_streams_provider_is_not_connected() -> None:
    w = await live_btc()
    w.report.states["binance"] = "reconnecting"
    served = await w.get_ohlcv.execute("BTC", "1m", 2)
    assert served.live is False
    w.report.states["binance"] = "connected"
    assert (await w.get_ohlcv.execute("BTC", "1m", 2)).live is True


def body(answer: bytes) -> dict[str, object]:
    decoded = orjson.loads(answer)
    del decoded["timestamp"]
    return decoded


async def test_a_changed_live_candle_is_never_answered_from_an_old_memo_entry() -> None:
    w = await live_btc()
    memo: AnswerMemo[dict[str, object]] = AnswerMemo(JsonBody(), REST_BYTES)
    first = await w.get_ohlcv.execute("BTC", "1m", 2)
    answered = body(memo.answer(first, rendering.ohlcv_body))
    assert answered["live"] is True
    assert answered["data"][-1]["close"] == forming(T).close  # type: ignore[index]

    newer = Candle(T, 140.0, 150.0, 130.0, 149.0, 3.0)
    w.feed.apply(candle_event(T, False, candle=newer))
    second = await w.get_ohlcv.execute("BTC", "1m", 2)
    # Same cache entry, same request, same staleness: only the live state moved on.
    assert (second.fetched_at, second.request, second.stale) == (first.fetched_at, first.request, first.stale)
    again = body(memo.answer(second, rendering.ohlcv_body))
    assert again["data"][-1]["close"] == 149.0  # type: ignore[index]
    assert again == body(AnswerMemo(JsonBody(), REST_BYTES).answer(second, rendering.ohlcv_body))
    assert body(memo.answer(second, rendering.ohlcv_body)) == again
    assert len(memo) == 2


async def test_the_rest_answer_says_live_false_when_it_is_not() -> None:
    w = live_world()
    served = await w.get_ohlcv.execute("BTC", "1m", 2)
    assert body(AnswerMemo(JsonBody(), REST_BYTES).answer(served, rendering.ohlcv_body))["live"] is False
