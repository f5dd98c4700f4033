"""A LiveFeed fake for the edge tests: a test pushes updates into it and drops subscribers.

It implements ``application.live.feed`` (LiveFeed, Inbox, Watch) as the edges use it:
validation with the service's own parsers (the domain's errors), a snapshot per watch, and
ONE update object per push offered to every inbox watching its topic, as the real feed does
(so a test can check that the edges encode it once). ``drop`` makes an inbox's next ``get``
raise SlowSubscriber, as the real feed does with a subscriber that keeps falling behind.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from application.live.feed import FeedClosed, SlowSubscriber
from application.live.updates import CandleUpdate, LiveCandle, LiveUpdate, PriceUpdate
from domain.candle import Candle
from domain.errors import FeatureDisabled
from domain.interval import Interval, IntervalParser
from domain.live import StreamStatus
from domain.quote import CombinedQuote
from domain.symbol import SymbolParser

SYMBOLS = ("BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOT", "LINK", "LTC", "BCH", "MATIC", "AVAX", "XLM", "TRX")
INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d", "1w")
MINUTE_MS = 60_000
T0 = 1_780_000_020_000 - 1_780_000_020_000 % MINUTE_MS  # a minute boundary in 2026


def candle(open_ms: int, close: float, volume: float = 1.5) -> Candle:
    """A candle opening at ``open_ms`` whose other prices derive from ``close``."""
    return Candle(open_ms, close - 1.0, close + 2.0, close - 3.0, close, volume)


def quote(symbol: str, price: float, at: float = T0 / 1000) -> CombinedQuote:
    """A combined quote as the board has them."""
    return CombinedQuote(symbol, symbol.title(), price, 1.25, 1_000_000.0, None, at, ("binance",))


_NEVER = object()


class FakeInbox:
    """An unbounded queue (bounded by ``limit``: past it the subscriber is dropped)."""

    def __init__(self, feed: FakeLiveFeed, limit: int) -> None:
        self._feed = feed
        self._limit = limit
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._dropped: str | None = None
        self.closed = False
        self.watches: list[FakeWatch] = []
        self.received = 0  # updates offered
        self._flowing = asyncio.Event()
        self._flowing.set()

    def offer(self, update: LiveUpdate) -> None:
        if self.closed or self._dropped is not None:
            return
        self.received += 1
        if self._queue.qsize() >= self._limit:
            self.drop(f"fell {self._limit} updates behind")
            return
        self._queue.put_nowait(update)

    def drop(self, reason: str) -> None:
        """The subscriber is too slow: its next ``get`` raises SlowSubscriber(reason)."""
        self._dropped = reason
        self._queue.put_nowait(_NEVER)

    def hold(self) -> None:
        """Updates stay queued (``get`` waits) until :meth:`release`."""
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def get(self) -> LiveUpdate:
        while True:
            if self._dropped is not None:
                raise SlowSubscriber(self._dropped)
            if self.closed or self._feed.closed:
                raise FeedClosed()
            item = await self._queue.get()
            await self._flowing.wait()  # held: even an update already taken waits
            if item is not _NEVER:
                return item  # type: ignore[return-value]

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for watch in list(self.watches):
            watch.stop()
        self._queue.put_nowait(_NEVER)


@dataclass(eq=False)
class FakeWatch:
    feed: FakeLiveFeed
    inbox: FakeInbox
    topic: tuple[str, ...]
    snapshot: CandleUpdate | PriceUpdate
    symbols: frozenset[str] = field(default_factory=frozenset)
    stopped: bool = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.feed._watches.discard(self)
            if self in self.inbox.watches:
                self.inbox.watches.remove(self)


class FakeLiveFeed:
    """The fake feed (see the module's docstring). ``candles`` holds each market's recent
    candles (the snapshots); ``boards`` the price board; ``fail_with`` makes the next watch raise."""

    def __init__(self, *, limit: int = 1000, disabled: bool = False) -> None:
        self.symbols = SymbolParser(SYMBOLS)
        self.intervals = IntervalParser(INTERVALS)
        self.limit = limit
        self.disabled = disabled
        self.closed = False
        self.inboxes: list[FakeInbox] = []
        self._watches: set[FakeWatch] = set()
        self.candles: dict[tuple[str, str], list[LiveCandle]] = {}
        self.board: dict[str, CombinedQuote] = {s: quote(s, 100.0 + i) for i, s in enumerate(SYMBOLS)}
        self.fail_with: Exception | None = None
        self.watch_delay = 0.0
        # Called once a watch is registered, before the watch call returns (as a feed that
        # builds its snapshot after registering would let updates in), then a pause.
        self.during_watch: Callable[[], object] | None = None
        self._seq = itertools.count(1)
        self.watch_calls: list[tuple[str, ...]] = []

    # -- LiveFeed -------------------------------------------------------------------------

    def inbox(self) -> FakeInbox:
        inbox = FakeInbox(self, self.limit)
        self.inboxes.append(inbox)
        return inbox

    async def watch_candles(self, inbox: FakeInbox, symbol: str | None, interval: str | None) -> FakeWatch:  # type: ignore[override]
        if self.disabled:
            raise FeatureDisabled("streams off")
        parsed = self.symbols.parse(symbol)
        bar = self.intervals.parse(interval)
        self.watch_calls.append(("candles", parsed.pair, bar.name))
        await self._before_watch()
        recent = tuple(self.history(parsed.pair, bar.name))
        snapshot = CandleUpdate("snapshot", parsed, bar, "binance", recent, None, _now_ms(), next(self._seq))
        watch = self._watch(inbox, ("candles", parsed.pair, bar.name), snapshot)
        await self._after_registering()
        return watch

    async def watch_prices(self, inbox: FakeInbox, symbols: Sequence[str] | str | None) -> FakeWatch:  # type: ignore[override]
        if self.disabled:
            raise FeatureDisabled("streams off")
        raw = ",".join(symbols) if isinstance(symbols, (list, tuple)) else symbols
        bases = self.symbols.parse_bases(raw)  # type: ignore[arg-type]
        self.watch_calls.append(("prices", *bases))
        await self._before_watch()
        quotes = tuple(self.board[base] for base in bases if base in self.board)  # none priced: absent
        snapshot = PriceUpdate("snapshot", quotes, None, _now_ms(), next(self._seq))
        watch = self._watch(inbox, ("prices",), snapshot, frozenset(bases))
        await self._after_registering()
        return watch

    # -- driving it -----------------------------------------------------------------------

    def history(self, pair: str, interval: str) -> list[LiveCandle]:
        """The recent candles of a market (three by default: two closed, one in progress)."""
        return self.candles.setdefault((pair, interval), [
            LiveCandle(candle(T0 - 2 * MINUTE_MS, 100.0), True),
            LiveCandle(candle(T0 - MINUTE_MS, 101.0), True),
            LiveCandle(candle(T0, 102.0), False),
        ])  # fmt: skip

    def push_candles(self, pair: str, interval: str, *candles: LiveCandle, event_time: int | None = None) -> CandleUpdate:
        """One update of a market's candles, offered to every inbox watching it; the history
        (the next snapshots) follows it."""
        history = self.history(pair, interval)
        for live in candles:
            if history and history[-1].candle.timestamp == live.candle.timestamp:
                history[-1] = live
            else:
                history.append(live)
        del history[:-100]
        update = CandleUpdate("update", self.symbols.parse(pair), Interval(interval), "binance", candles,
                              event_time if event_time is not None else candles[-1].candle.timestamp,
                              _now_ms(), next(self._seq))  # fmt: skip
        self._offer(("candles", pair, interval), update)
        return update

    def push_quotes(self, *quotes: CombinedQuote, event_time: int | None = None) -> PriceUpdate:
        """One prices update, offered to every inbox watching one of its assets."""
        for q in quotes:
            self.board[q.symbol] = q
        update = PriceUpdate("update", quotes, event_time, _now_ms(), next(self._seq))
        changed = {q.symbol for q in quotes}
        for watch in list(self._watches):
            if watch.topic == ("prices",) and watch.symbols & changed:
                watch.inbox.offer(update)
        return update

    def watchers(self, *topic: str) -> int:
        """Watches open now on ``topic`` (e.g. ``"candles", "BTCUSDT", "1m"``)."""
        return sum(1 for watch in self._watches if watch.topic == topic)

    def open_inboxes(self) -> list[FakeInbox]:
        return [inbox for inbox in self.inboxes if not inbox.closed]

    # -- internals ------------------------------------------------------------------------

    async def _before_watch(self) -> None:
        if self.watch_delay:
            await asyncio.sleep(self.watch_delay)
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error

    async def _after_registering(self) -> None:
        if self.during_watch is not None:
            hook, self.during_watch = self.during_watch, None
            hook()
            await asyncio.sleep(0.05)

    def _watch(self, inbox: FakeInbox, topic: tuple[str, ...], snapshot: CandleUpdate | PriceUpdate,
               symbols: frozenset[str] = frozenset()) -> FakeWatch:  # fmt: skip
        watch = FakeWatch(self, inbox, topic, snapshot, symbols)
        self._watches.add(watch)
        inbox.watches.append(watch)
        return watch

    def _offer(self, topic: tuple[str, ...], update: LiveUpdate) -> None:
        for watch in list(self._watches):
            if watch.topic == topic:
                watch.inbox.offer(update)


class FakeStreamReport:
    """A StreamReport with fixed statuses."""

    def __init__(self, *statuses: StreamStatus) -> None:
        self.status_list = statuses

    def statuses(self) -> tuple[StreamStatus, ...]:
        return self.status_list


def _now_ms() -> int:
    return int(time.time() * 1000)
