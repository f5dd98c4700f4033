"""Pages of closed candles over any range: from the candle store, fetched upstream only where
the store does not cover the range yet."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from application.provider_calls import ProviderCalls
from domain.candle import Candle, CandleSeries
from domain.candle_page import CandlePage
from domain.candle_range import CandleRange
from domain.candle_span import CandleSpan
from domain.candle_store_batch import SETTLE_MS, CandleStoreBatch
from domain.errors import BadPayload, ProviderDisabled, ProviderError, UpstreamRejected
from domain.fallback import FallbackAttempts
from domain.interval import Interval
from domain.ports import CandleStore, Clock, OhlcvHistory
from domain.range_plan import gaps
from domain.symbol import Symbol

log = logging.getLogger("history")


@dataclass(slots=True)
class _Walk:
    """A page being gathered: the candles so far, how far the range is known, what could not
    be reached."""

    cursor: int
    candles: list[Candle]
    unreachable: bool = False


class CandleHistory:
    """Closed candles of ``[start_ms, end_ms)`` a page at a time, for every caller of history
    (ranges, export, backfill), so they all fetch and store alike.

    A page comes from one provider, the first of ``providers`` (in OHLCV_PROVIDERS order) that
    can give any of it: stored spans are read from the store, the rest is fetched upstream a
    provider page per call (through ``calls``: budgets, circuit, deadline) and stored with the
    span it covers, so no span is fetched twice. A provider failing part way ends the page
    where its candles end (``next`` says where to go on), rather than mixing providers in one
    page. Spans a provider cannot reach (Kraken's 720 bars) make the page not ``complete``.
    """

    def __init__(
        self,
        providers: Sequence[OhlcvHistory],
        calls: ProviderCalls,
        store: CandleStore,
        clock: Clock,
    ) -> None:
        self._providers = tuple(providers)
        self._calls = calls
        self._store = store
        self._clock = clock
        self._in_flight: dict[tuple[str, str, str, int, int], asyncio.Future[CandleRange]] = {}

    def serves(self, market: Symbol, interval: Interval) -> bool:
        """Whether any provider answers ranges of this market and interval (no I/O)."""
        return any(p.supports(market, interval) for p in self._providers)

    async def page(
        self, market: Symbol, interval: Interval, start_ms: int, end_ms: int, limit: int, *, fallback: bool = True
    ) -> CandlePage:
        """At most ``limit`` closed candles of ``[start_ms, end_ms)`` (``end_ms`` no later than
        the candle in progress), oldest first. Raises ``AllProvidersFailed`` when no provider
        gives any of it. Without ``fallback``, only the first provider that serves the market
        is asked (a backfill waits for it rather than filling the store from the next one)."""
        attempts = FallbackAttempts()
        for provider in self._providers:
            if not self._calls.is_enabled(provider.name):
                attempts.record(ProviderDisabled(provider.name, "disabled by configuration"))
                continue
            if not provider.supports(market, interval):
                attempts.record(UpstreamRejected(provider.name, f"does not serve {market.pair} {interval.name}"))
                continue
            walk = _Walk(start_ms, [])
            try:
                await self._gather(provider, market, interval, walk, end_ms, limit)
            except ProviderError as error:
                if walk.cursor == start_ms or (walk.unreachable and not walk.candles):
                    attempts.record(error)
                    if not fallback:
                        break
                    continue
                log.info("history page of %s %s from %s cut at %d: %s", market.pair, interval.name,
                         provider.name, walk.cursor, error.reason)  # fmt: skip
            if walk.unreachable and not walk.candles and walk.cursor >= end_ms:
                attempts.record(UpstreamRejected(provider.name, "cannot reach this range"))
                if not fallback:
                    break
                continue
            return self._page(provider.name, market, interval, walk, start_ms, end_ms)
        raise attempts.exhausted()

    async def _gather(
        self, provider: OhlcvHistory, market: Symbol, interval: Interval, walk: _Walk, end_ms: int, limit: int
    ) -> None:
        """Move ``walk`` on from its cursor until ``limit`` candles or ``end_ms``."""
        step = interval.milliseconds
        while walk.cursor < end_ms and len(walk.candles) < limit:
            room = limit - len(walk.candles)
            covered = await self._store.covered(provider.name, market, interval, walk.cursor, end_ms)
            if covered and covered[0].start_ms <= walk.cursor:
                stored = await self._store.range(
                    market, interval, walk.cursor, covered[0].end_ms, room, provider=provider.name
                )
                walk.candles.extend(s.candle for s in stored)
                walk.cursor = stored[-1].candle.timestamp + step if len(stored) == room else covered[0].end_ms
                continue
            # Up to the next stored span, unless it begins within one provider page: a page
            # across scattered short holes (a live feed skipping quiet minutes) is one call,
            # not one call per hole.
            near = walk.cursor + provider.page_size * step
            hole_end = covered[0].start_ms if covered and covered[0].start_ms >= near else end_ms
            fetched = await self._fetch_once(provider, market, interval, walk.cursor, hole_end)
            span = fetched.covering.clipped(walk.cursor, hole_end) if fetched.covering else None
            if span is None or span.start_ms > walk.cursor:  # the provider cannot reach back here
                walk.unreachable = True
                walk.cursor = span.start_ms if span is not None else hole_end
                if span is None:
                    continue
            if span.end_ms <= walk.cursor:
                raise BadPayload(provider.name, f"a range page from {walk.cursor} covered nothing")
            taken = [c for c in fetched.candles if span.start_ms <= c.timestamp < span.end_ms][:room]
            walk.candles.extend(taken)
            walk.cursor = taken[-1].timestamp + step if len(taken) == room else span.end_ms

    async def _fetch_once(
        self, provider: OhlcvHistory, market: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> CandleRange:
        """One upstream page from ``start_ms``, stored with the span it covers; callers asking
        for the same page at once share one call (single-flight)."""
        key = (provider.name, market.pair, interval.name, start_ms, end_ms)
        running = self._in_flight.get(key)
        if running is None:
            running = asyncio.ensure_future(self._fetch(provider, market, interval, start_ms, end_ms))
            self._in_flight[key] = running
            running.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(running)

    async def _fetch(
        self, provider: OhlcvHistory, market: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> CandleRange:
        asked_ms = self._now_ms()  # before the call: a candle closing meanwhile is not yet final
        fetched = await self._calls.run(
            provider.name, lambda: provider.fetch_ohlcv_range(market, interval, start_ms, end_ms)
        )
        batch = CandleStoreBatch.of(fetched.candles, interval, asked_ms - SETTLE_MS, fetched.covering)
        if batch.candles or batch.covering is not None:
            try:
                await self._store.upsert(provider.name, market, interval, batch.candles, batch.covering)
            except Exception:  # the adapter's own errors: the page is had, only not kept
                log.warning("candle store write failed: %s %s from %s not kept", market.pair,
                            interval.name, provider.name, exc_info=True)  # fmt: skip
        return fetched

    def _page(
        self, source: str, market: Symbol, interval: Interval, walk: _Walk, start_ms: int, end_ms: int
    ) -> CandlePage:
        page_end = min(walk.cursor, end_ms)
        candles = tuple(walk.candles)
        missing = gaps((c.timestamp for c in candles), CandleSpan(start_ms, page_end), interval)
        return CandlePage(
            CandleSeries(market, interval, candles, source),
            page_end if page_end < end_ms else None,
            not walk.unreachable,
            missing,
        )

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)
