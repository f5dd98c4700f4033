"""The ports: what the application needs from the outside world, as Protocols.

Adapters implement them; the application depends only on these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from domain.candle import Candle, CandleSeries
from domain.candle_range import CandleRange
from domain.candle_span import CandleSpan
from domain.indicators import IndicatorFunction, IndicatorSpec
from domain.interval import Interval
from domain.live import StreamEvent, StreamKey, StreamStatus
from domain.market import MarketOverview
from domain.quote import Quote
from domain.sentiment import FearGreedHistory
from domain.stored_candle import StoredCandle
from domain.symbol import Symbol

T = TypeVar("T")


@runtime_checkable
class Provider(Protocol):
    """What every provider port shares: its id, and whether configuration switched it on."""

    name: str

    @property
    def enabled(self) -> bool:
        """False when configuration switches the provider off (e.g. a missing API key)."""
        ...


@runtime_checkable
class OhlcvProvider(Provider, Protocol):
    """A source of OHLCV candles."""

    def supports(self, symbol: Symbol, interval: Interval) -> bool:
        """Whether the provider can be asked for this market and interval at all.

        Answered without I/O, so a request it cannot serve is skipped before its circuit.
        """
        ...

    async def fetch_ohlcv(self, symbol: Symbol, interval: Interval, limit: int) -> CandleSeries:
        """Return up to ``limit`` of the most recent candles, oldest first.

        The last candle may be the one in progress. Raises a ``ProviderError`` subclass.
        """
        ...


@runtime_checkable
class OhlcvHistory(OhlcvProvider, Protocol):
    """A source of OHLCV candles that also answers ranges of past candles, a page per call."""

    page_size: int  # the most candles one call answers (Binance 1000, Kraken 720)

    async def fetch_ohlcv_range(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> CandleRange:
        """One call's worth of the candles whose open time is in ``[start_ms, end_ms)``, oldest
        first, from ``start_ms`` on, and the span they cover (see ``CandleRange``): all of the
        range when it fits one page, up to past the page's last candle when it does not,
        nothing before what the provider can reach. An empty answer for a range the provider
        reaches is a real gap (before the market was listed, an outage), not an error. The
        candle in progress may be included. Raises a ``ProviderError`` subclass.
        """
        ...


@runtime_checkable
class PriceProvider(Provider, Protocol):
    """A source of USD spot quotes."""

    def lists(self, base: str) -> bool:
        """Whether the provider can quote ``base`` at all (answered without I/O)."""
        ...

    async def fetch_quotes(self, bases: Sequence[str]) -> dict[str, Quote]:
        """Return quotes keyed by base asset for the bases this provider lists.

        Bases it does not list are absent from the result. Raises a ``ProviderError``
        subclass when the provider fails as a whole.
        """
        ...


@runtime_checkable
class MarketOverviewProvider(Provider, Protocol):
    """A source of global market totals."""

    async def fetch_overview(self) -> MarketOverview:
        """Return the current market overview. Raises a ``ProviderError`` subclass."""
        ...


@runtime_checkable
class SentimentProvider(Provider, Protocol):
    """A source of Fear & Greed readings."""

    async def fetch_fear_greed(self, days: int) -> FearGreedHistory:
        """Return the last ``days`` daily readings, newest first."""
        ...


class StreamSink(Protocol):
    """Where a ``MarketStream`` reports what happens on its connections. Called from the
    stream's own task; every method returns at once (never blocks the reading of frames)."""

    def live(self, provider: str, keys: frozenset[StreamKey]) -> None:
        """``keys`` are subscribed from now on (after a connect, a reconnect, or a new
        subscription): their events flow without a break from here, and whatever happened to
        them before this call was not seen and must be filled from elsewhere (REST)."""
        ...

    def event(self, event: StreamEvent) -> None:
        """A candle or ticker event, in the order the exchange sent them."""
        ...

    def lost(self, provider: str, reason: str, failures: int) -> None:
        """The connection is gone (or could not be opened): ``failures`` counts the attempts in
        a row that failed to bring subscriptions up (0 when a connection that was up dropped)."""
        ...


@runtime_checkable
class MarketStream(Provider, Protocol):
    """An exchange's WebSocket market streams: holds the streams it is told to want, over as
    few connections as the exchange's limits allow, and reopens them when they break."""

    def supports(self, key: StreamKey) -> bool:
        """Whether this exchange can stream ``key`` at all (answered without I/O)."""
        ...

    def want(self, keys: frozenset[StreamKey]) -> None:
        """Hold exactly ``keys`` from now on: the difference with what is held becomes batched
        subscribe/unsubscribe messages; nothing wanted closes the connections. Returns at once."""
        ...

    async def run(self, sink: StreamSink) -> None:
        """Connect, subscribe and read until cancelled, reconnecting with capped, jittered
        backoff; report to ``sink``. Never raises except ``CancelledError``."""
        ...

    def status(self) -> StreamStatus:
        """The provider's connection state for health."""
        ...


BusMessage = StreamEvent | StreamStatus


class EventBus(Protocol):
    """Carries live events from the replica that holds the upstream streams to every replica
    (itself included). In one process it is a fan-out in memory; across replicas Redis pub/sub."""

    async def publish(self, message: BusMessage) -> None:
        """Send ``message`` to every listener of every replica."""
        ...

    def listen(self) -> AsyncIterator[BusMessage]:
        """Every message published from now on, in publishing order per publisher, until the
        iterator is closed."""
        ...


class StreamLease(Protocol):
    """Who holds the upstream streams: one replica at a time."""

    async def hold(self, ttl: float) -> bool:
        """Take or renew the lease for ``ttl`` seconds; True while this replica holds it."""
        ...

    async def release(self) -> None:
        """Give the lease up if held, so another replica takes over at once."""
        ...


class StreamDemand(Protocol):
    """Which streams the clients of all replicas watch."""

    async def announce(self, keys: frozenset[StreamKey], ttl: float) -> None:
        """This replica's clients watch ``keys`` (for ``ttl`` seconds unless announced again);
        replaces this replica's previous announcement."""
        ...

    async def wanted(self) -> frozenset[StreamKey]:
        """Every key some replica announced and whose announcement has not expired."""
        ...


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A cached value with its freshness: fresh until ``fresh_until``, servable as stale until
    ``stale_until`` (both epoch seconds)."""

    value: Any
    stored_at: float
    fresh_until: float
    stale_until: float


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a cache backend; ``state`` is ok, or degraded while a shared backend is
    unreachable and the in-process fallback serves."""

    backend: str
    size: int
    hits: int
    misses: int
    max_entries: int | None
    state: str = "ok"

    @property
    def hit_rate(self) -> float:
        """Share of lookups answered fresh from the cache (0 when none were made)."""
        total = self.hits + self.misses
        return round(self.hits / total, 4) if total else 0.0


class Cache(Protocol):
    """A key-value cache of domain values with a fresh TTL and a longer stale window."""

    async def get(self, key: str) -> CacheEntry | None:
        """Return the entry for ``key`` while it is fresh or still servable as stale."""
        ...

    async def set(self, key: str, value: Any, ttl: float, stale_ttl: float) -> CacheEntry:
        """Store ``value``: fresh for ``ttl`` seconds, then stale for ``stale_ttl`` more.

        Returns the entry as stored. Its ``stored_at`` is never repeated by a later write of
        this cache, even on a clock that has not moved: it identifies the write.
        """
        ...

    async def clear(self) -> int:
        """Remove every entry this service stored; return how many were removed."""
        ...

    async def stats(self) -> CacheStats:
        """Return the backend's counters."""
        ...


class CandleStore(Protocol):
    """Closed candles kept for good, keyed by (provider, market, interval, open time), and the
    spans of open times whose candles were all fetched (covered), so a range already stored
    costs no upstream call, also after a restart. Ranges are half-open ``[start_ms, end_ms)``
    of open times in epoch ms. Range planning (what to fetch, what is a gap) is domain code
    over what this answers: inside a covered span, an open time with no candle is a gap the
    exchange has; outside every covered span, it is not known yet."""

    name: str  # the adapter: sqlite, postgres or off

    async def upsert(
        self,
        provider: str,
        symbol: Symbol,
        interval: Interval,
        candles: Sequence[Candle],
        covering: CandleSpan | None = None,
    ) -> int:
        """Store ``candles`` as ``provider`` served them and, in the same transaction, mark
        ``covering`` as covered (merged with the covered spans it touches or overlaps).

        Idempotent: a candle already stored is replaced by the new one, never an error, so one
        duplicate never loses the batch. Only closed candles are kept (the store's clock says
        which): the candle in progress is dropped, and ``covering`` is cut where it begins.
        Returns how many candles were written.
        """
        ...

    async def range(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int,
        end_ms: int,
        limit: int,
        provider: str | None = None,
    ) -> tuple[StoredCandle, ...]:
        """At most ``limit`` stored candles whose open time is in ``[start_ms, end_ms)``,
        oldest first: ``provider``'s only, or every provider's (ordered by open time, then
        provider) when None."""
        ...

    async def covered(
        self, provider: str, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> tuple[CandleSpan, ...]:
        """The covered spans of ``provider``'s candles clipped to ``[start_ms, end_ms)``,
        disjoint and oldest first (touching spans are reported as one)."""
        ...

    async def close(self) -> None:
        """Release the connections; the store is not used afterwards."""
        ...


class FillLocks(Protocol):
    """Who fills a cold cache key when several replicas miss it at once."""

    async def try_acquire(self, key: str, ttl: float) -> bool:
        """True when the caller now fills ``key`` (held at most ``ttl`` seconds)."""
        ...

    async def release(self, key: str) -> None:
        """Give up the fill lock on ``key`` if still held."""
        ...


class Clock(Protocol):
    """Time, behind a port so tests control it."""

    def now(self) -> float:
        """Wall-clock epoch seconds."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds, for measuring durations."""
        ...


@dataclass(frozen=True, slots=True)
class CircuitState:
    """A provider's circuit: ``state`` closed, open or half_open; ``retry_after`` seconds until
    an open circuit lets a call through again."""

    state: str
    retry_after: float | None = None


class CircuitBreakers(Protocol):
    """One circuit per provider (the purgatory wiring is an adapter)."""

    async def call(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` through ``provider``'s circuit.

        Raises ``CircuitOpen`` without running it while the circuit is open, or while it is
        half-open and another call is already probing.
        """
        ...

    async def state(self, provider: str) -> CircuitState:
        """The circuit's current state."""
        ...


class Cooldowns(Protocol):
    """Times before which a provider must not be called (its Retry-After orders)."""

    async def until(self, provider: str) -> float | None:
        """Epoch seconds before which ``provider`` must not be called, if any."""
        ...

    async def hold(self, provider: str, until: float) -> None:
        """Record that ``provider`` must not be called before ``until`` (epoch seconds)."""
        ...


class UpstreamBudgets(Protocol):
    """Our own request budget per provider, spent before each call."""

    async def take(self, provider: str) -> None:
        """Spend one call's cost or raise ``BudgetExhausted`` (nothing is spent then)."""
        ...


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of counting one client request against its limit."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: float


class ClientRateLimiter(Protocol):
    """Per-client request limits (the storage is an adapter choice)."""

    async def hit(self, group: str, client: str, per_minute: int) -> RateDecision:
        """Count one request of ``client`` in ``group`` against ``per_minute``."""
        ...

    async def refund(self, group: str, client: str) -> None:
        """Uncount the latest counted request of ``client`` in ``group``: it turned out not to
        count (an admin call counted as failed until its token proved right)."""
        ...


class Telemetry(Protocol):
    """What the application reports as it works; counting and exporting is an adapter's business.

    Every method is synchronous and cheap: it runs on the hot path of cached requests.
    ``kind`` is the kind of cached data (``ohlcv``, ``prices``, ``sentiment``, ``market``).
    """

    def cache_lookup(self, kind: str, hit: bool) -> None:
        """A request looked ``kind`` up in the cache: a fresh hit, or a miss (absent or expired)."""
        ...

    def stale_served(self, kind: str) -> None:
        """Every provider failed and a stale copy of ``kind`` was served instead."""
        ...

    def single_flight_joined(self, kind: str) -> None:
        """A miss joined a fetch already under way instead of calling upstream itself."""
        ...

    def upstream_call(self, provider: str, outcome: str, seconds: float | None) -> None:
        """A provider call ended with ``outcome`` (``ok``, ``timeout``, ``circuit_open``…);
        ``seconds`` is None when the call was refused before reaching the provider."""
        ...

    def rate_limited(self, group: str) -> None:
        """A client request was refused by the per-client limit of ``group``."""
        ...

    # -- live fan-out: ``channel`` is ``candles`` or ``prices`` --------------------------------

    def stream_subscribers(self, count: int) -> None:
        """``count`` live subscribers (inboxes) are open now."""
        ...

    def slow_subscriber_dropped(self) -> None:
        """A live subscriber fell too far behind and was dropped."""
        ...

    def fanned_out(self, channel: str, lag: float | None) -> None:
        """A live update was offered to its subscribers ``lag`` seconds after the exchange's
        event time (None when the update carries none)."""
        ...

    def update_delivered(self, channel: str) -> None:
        """A subscriber took one live update from its inbox."""
        ...

    def upstream_stream_message(self, provider: str, channel: str) -> None:
        """``provider``'s stream delivered one ``channel`` event (candles or ticker) to the
        replica holding the streams."""
        ...

    def upstream_stream_lost(self, provider: str) -> None:
        """A connection of ``provider``'s streams dropped or could not be opened (each one is
        followed by a reconnect attempt)."""
        ...


class NoTelemetry:
    """Telemetry that records nothing (tests, tools)."""

    def cache_lookup(self, kind: str, hit: bool) -> None:
        """Ignored."""

    def stale_served(self, kind: str) -> None:
        """Ignored."""

    def single_flight_joined(self, kind: str) -> None:
        """Ignored."""

    def upstream_call(self, provider: str, outcome: str, seconds: float | None) -> None:
        """Ignored."""

    def rate_limited(self, group: str) -> None:
        """Ignored."""

    def stream_subscribers(self, count: int) -> None:
        """Ignored."""

    def slow_subscriber_dropped(self) -> None:
        """Ignored."""

    def fanned_out(self, channel: str, lag: float | None) -> None:
        """Ignored."""

    def update_delivered(self, channel: str) -> None:
        """Ignored."""

    def upstream_stream_message(self, provider: str, channel: str) -> None:
        """Ignored."""

    def upstream_stream_lost(self, provider: str) -> None:
        """Ignored."""


class IndicatorEngine(Protocol):
    """Computes technical indicators over candles (TA-Lib)."""

    def functions(self) -> Mapping[str, IndicatorFunction]:
        """Every function whose inputs are candle fields only, by upper-case name."""
        ...

    def lookback(self, spec: IndicatorSpec) -> int:
        """How many candles come before ``spec``'s first value; ``InvalidParameter`` when the
        function refuses its parameter values (a period of 0, say)."""
        ...

    def compute(self, spec: IndicatorSpec, candles: Sequence[Candle]) -> dict[str, list[float | None]]:
        """``spec``'s outputs over ``candles`` (oldest first), one value per candle (None before
        the first one), by output name."""
        ...
