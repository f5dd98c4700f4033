"""Catching a candles stream up over REST after its upstream stream was (re)opened."""

from __future__ import annotations

from collections.abc import Sequence

from application.fallback_chain import first_answer
from application.provider_calls import ProviderCalls
from domain.candle import MAX_CANDLES
from domain.candle_continuity import PublishedCandles, fill_limit, fill_plan
from domain.live import CandleEvent, StreamKey
from domain.ports import Clock, OhlcvProvider

#: Candles published when a stream opens that nothing was published for yet: as many as a
#: client snapshot holds, so the live state has the recent history at once.
FIRST_FILL = 100
#: A newest candle whose interval ended this long ago is final even without a newer one.
SETTLE_SECONDS = 2.0


class GapFiller:
    """Fetches the recent candles of a stream straight from the OHLCV providers (through the
    provider-call gate and the fallback chain, as GetOhlcv does, but never from the cache,
    which may be minutes old) and says which to publish, per ``domain.candle_continuity``.

    The REST provider named like the stream provider is asked first, so a stream and its
    fill come from the same exchange whenever it answers.
    """

    def __init__(
        self,
        providers: Sequence[OhlcvProvider],
        calls: ProviderCalls,
        clock: Clock,
        *,
        first_fill: int = FIRST_FILL,
        settle: float = SETTLE_SECONDS,
    ) -> None:
        self._providers = tuple(providers)
        self._calls = calls
        self._clock = clock
        self._first_fill = first_fill
        self._settle_ms = int(settle * 1000)

    async def fill(self, key: StreamKey, published: PublishedCandles, stream: str) -> tuple[CandleEvent, ...]:
        """The candles of ``key`` to publish after ``published``, oldest first, as events of
        source the REST provider that answered. Raises ``AllProvidersFailed``."""
        assert key.interval is not None, "only candles streams are filled"
        symbol, interval = key.symbol, key.interval
        limit = fill_limit(published, interval.milliseconds, self._now_ms(), self._first_fill, MAX_CANDLES)
        chain = sorted(self._providers, key=lambda provider: provider.name != stream)
        series = await first_answer(
            chain,
            self._calls,
            lambda provider: provider.fetch_ohlcv(symbol, interval, limit),
            lambda provider: None if provider.supports(symbol, interval) else f"does not serve {key}",
        )
        now_ms = self._now_ms()
        plan = fill_plan(
            series.candles,
            published,
            interval_ms=interval.milliseconds,
            now_ms=now_ms,
            settle_ms=self._settle_ms,
            first_fill=self._first_fill,
        )
        return tuple(
            CandleEvent(symbol, interval, candle, closed, now_ms, series.source) for candle, closed in plan
        )

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)
