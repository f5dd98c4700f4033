"""``LiveFanout``: the ``LiveFeed`` the edges use. The bus feeds the live state; every accepted
event becomes one update object, offered to every mailbox watching its topic.

Ingestion never waits for a subscriber: an offer is a dictionary write into a bounded mailbox
(see ``mailbox``), so a thousand subscribers cost a thousand cheap offers and one update,
which the edges encode once (``rendered``). Topics: one per candles key, one for prices.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from application.live.candle_snapshots import CandleSnapshots
from application.live.closed_candles import ClosedCandleQueue
from application.live.feed import FeedClosed, Inbox
from application.live.interest import StreamInterest, StreamReport
from application.live.mailbox import DEFAULT_QUEUE_LIMIT, Mailbox
from application.live.price_quotes import PriceQuotes, ticker_key
from application.live.sources import CandleHistory, PriceBoards
from application.live.state import LiveState
from application.live.topic import Topic, TopicWatch
from application.live.updates import CandleUpdate, LiveCandle
from domain.interval import IntervalParser
from domain.live import CandleEvent, StreamKey, TickerEvent
from domain.ports import BusMessage, Clock, EventBus, NoTelemetry, Telemetry
from domain.symbol import SymbolParser

#: The interval of a candles watch that names none (as GET /api/ohlcv).
DEFAULT_INTERVAL = "1h"
#: Seconds a subscriber of a stream that delivered nothing yet waits for its first event.
FIRST_EVENT_WAIT = 3.0

log = logging.getLogger("live.fanout")


class LiveFanout:
    """Live candles and prices for subscribers (implements ``LiveFeed``).

    Run ``run()`` for as long as the service serves (it reads the bus); watches validate their
    parameters before anything else, tell ``interest`` what is watched (the upstream side opens
    and closes streams by it) and start from a snapshot. ``queue_limit`` is STREAM_QUEUE_LIMIT.
    ``board_refresh`` (seconds; None: never) is how often the watched assets' quotes are read
    from the cached price board again, so an asset no live ticker moves (none streamed for it,
    its provider down) never goes stale, and name and market cap follow the board.
    ``closed_candles`` (None: none kept) takes every closed candle the bus carries, watched
    here or not, on its way into the candle store; ``run()`` drains it.
    """

    def __init__(
        self,
        bus: EventBus,
        interest: StreamInterest,
        report: StreamReport,
        history: CandleHistory,
        boards: PriceBoards,
        symbols: SymbolParser,
        intervals: IntervalParser,
        clock: Clock,
        telemetry: Telemetry | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        first_event_wait: float = FIRST_EVENT_WAIT,
        state: LiveState | None = None,
        board_refresh: float | None = None,
        closed_candles: ClosedCandleQueue | None = None,
    ) -> None:
        self._board_refresh = board_refresh
        self._closed_candles = closed_candles
        self.state = state if state is not None else LiveState()
        self._bus = bus
        self._interest = interest
        self._history = history
        self._symbols = symbols
        self._intervals = intervals
        self._clock = clock
        self._telemetry = telemetry or NoTelemetry()
        self._queue_limit = queue_limit
        self._candles = CandleSnapshots(history, self.state, report, clock, first_event_wait)
        self._quotes = PriceQuotes(boards, self.state, clock)
        # Topics stay once made (their seq keeps growing): one per valid key at most.
        self._candle_topics: dict[StreamKey, Topic] = {}
        self._prices = Topic()
        self._mailboxes: set[Mailbox] = set()
        self._closed: str | None = None

    # -- subscribing ---------------------------------------------------------------------------

    def inbox(self) -> Mailbox:
        """A new, empty inbox for one client connection."""
        if self._closed is not None:
            raise FeedClosed(self._closed)
        mailbox = Mailbox(self._queue_limit, self._ended, self._telemetry)
        self._mailboxes.add(mailbox)
        self._telemetry.stream_subscribers(len(self._mailboxes))
        return mailbox

    async def watch_candles(self, inbox: Inbox, symbol: str | None, interval: str | None) -> TopicWatch:
        """Validate, watch the candles stream and start from its snapshot (see ``LiveFeed``)."""
        mailbox = self._open(inbox)
        market = self._symbols.parse(symbol)
        bar = self._intervals.parse(interval or DEFAULT_INTERVAL)
        self._history.check(market, bar)
        key = StreamKey.candles(market, bar)
        self._start(key)
        try:
            history = await self._candles.prepare(key, market, bar)
            self._open(mailbox)  # the client may have gone meanwhile
        except BaseException:
            self._stop(key)
            raise
        # From here to the return, no await: the first update after the snapshot is the next
        # change of the state the snapshot shows.
        topic = self._candle_topics.setdefault(key, Topic())
        snapshot = self._candles.take(key, market, bar, history, topic.seq)
        watch = TopicWatch(snapshot, mailbox, lambda w: self._unwatch(topic, w, (key,)))
        return self._subscribe(topic, watch)

    async def watch_prices(self, inbox: Inbox, symbols: Sequence[str] | str | None) -> TopicWatch:
        """Validate, watch the tickers of the assets and start from their snapshot."""
        mailbox = self._open(inbox)
        bases = self._symbols.parse_bases(symbols if symbols is None or isinstance(symbols, str)
                                          else ",".join(symbols))  # fmt: skip
        keys = tuple(ticker_key(base) for base in bases)
        for key in keys:
            self._start(key)
        try:
            await self._quotes.prepare(bases)
            self._open(mailbox)
        except BaseException:
            for key in keys:
                self._stop(key)
            raise
        snapshot = self._quotes.take(bases, self._prices.seq)
        watch = TopicWatch(
            snapshot, mailbox, lambda w: self._unwatch(self._prices, w, keys), frozenset(bases)
        )
        return self._subscribe(self._prices, watch)

    # -- the bus -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Feed the live state from the bus until cancelled; every inbox ends then."""
        messages = self._bus.listen()
        loop = asyncio.get_running_loop()
        background = []
        if self._board_refresh:
            background.append(
                loop.create_task(self._refresh_boards(self._board_refresh), name="live price board refresh")
            )
        if self._closed_candles is not None:
            background.append(
                loop.create_task(self._closed_candles.run(), name="closed candles to the store")
            )
        try:
            async for message in messages:
                self.apply(message)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            self.close("the live feed stopped")
            finish = getattr(messages, "aclose", None)
            if finish is not None:
                await finish()

    def apply(self, message: BusMessage) -> None:
        """Take one bus message in and offer the update it makes (never awaits)."""
        if isinstance(message, CandleEvent):
            if message.closed and self._closed_candles is not None:
                self._closed_candles.offer(message)
            self._candle(message)
        elif isinstance(message, TickerEvent):
            self._ticker(message)
        # StreamStatus messages are the stream report's business.

    def close(self, reason: str = "the live feed stopped") -> None:
        """End every inbox (``get()`` raises ``FeedClosed``) and refuse new ones."""
        if self._closed is None:
            self._closed = reason
        for mailbox in tuple(self._mailboxes):
            mailbox.shut(reason)

    @property
    def subscribers(self) -> int:
        """Inboxes open."""
        return len(self._mailboxes)

    def _candle(self, event: CandleEvent) -> None:
        if not self.state.apply(event):
            return
        key = event.key
        self._candles.arrived(key)
        topic = self._candle_topics.get(key)
        if topic is None or not topic.watches:
            return
        now = self._clock.now()
        update = CandleUpdate(
            type="update",
            symbol=event.symbol,
            interval=event.interval,
            source=event.source,
            candles=(LiveCandle(event.candle, event.closed),),
            event_time=event.event_time,
            timestamp=int(now * 1000),
            seq=topic.next_seq(),
        )
        # Conflated under the topic (one per key, kept for good, so it stands for the key) and
        # the candle's open time: a topic hashes by identity, where the key's hash would be
        # recomputed from its fields at each of a thousand subscribers' offers.
        topic.offer((topic, event.candle.timestamp), update, event.closed)
        self._telemetry.fanned_out("candles", now - event.event_time / 1000)

    async def refresh_boards(self) -> None:
        """Read the watched assets' quotes from the board again and offer those it changed."""
        bases = sorted({base for watch in self._prices.watches for base in watch.bases or ()})
        if not bases:
            return
        for quote in await self._quotes.refresh(bases):
            if self._prices.watches:
                update = self._quotes.board_update(quote, self._prices.next_seq())
                self._prices.offer(("prices", quote.symbol), update, base=quote.symbol)

    async def _refresh_boards(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.refresh_boards()
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("price board refresh failed: %s: %s", type(error).__name__, error)

    def _ticker(self, event: TickerEvent) -> None:
        if not self.state.apply(event):
            return
        quote = self._quotes.changed(event)
        if quote is None or not self._prices.watches:
            return
        update = self._quotes.update(quote, event, self._prices.next_seq())
        self._prices.offer(("prices", quote.symbol), update, base=quote.symbol)
        self._telemetry.fanned_out("prices", self._clock.now() - event.event_time / 1000)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _open(self, inbox: Inbox) -> Mailbox:
        if not isinstance(inbox, Mailbox):
            raise TypeError("watch into an inbox made by this feed's inbox()")
        if self._closed is not None or inbox.ended:
            raise FeedClosed(self._closed or "the inbox was closed")
        return inbox

    def _subscribe(self, topic: Topic, watch: TopicWatch) -> TopicWatch:
        topic.watches[watch] = None
        watch.mailbox.watches.add(watch)
        return watch

    def _unwatch(self, topic: Topic, watch: TopicWatch, keys: tuple[StreamKey, ...]) -> None:
        topic.watches.pop(watch, None)
        for key in keys:
            self._stop(key)

    def _start(self, key: StreamKey) -> None:
        self.state.track(key)
        self._interest.watch(key)

    def _stop(self, key: StreamKey) -> None:
        self.state.untrack(key)
        self._interest.unwatch(key)
        if key.channel == "ticker" and not self.state.watched(key):
            self._quotes.forget(key.symbol.base)

    def _ended(self, mailbox: Mailbox) -> None:
        for watch in tuple(mailbox.watches):
            watch.stop()
        self._mailboxes.discard(mailbox)
        self._telemetry.stream_subscribers(len(self._mailboxes))
