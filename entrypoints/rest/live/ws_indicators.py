"""The ``indicators`` subscriptions of one WebSocket connection: which markets they follow and
the frames a candle update of one of those markets makes for them."""

from __future__ import annotations

import structlog

from application.live.live_indicators import IndicatorWatch
from application.live.updates import CandleUpdate
from entrypoints.rest.live.messages import LiveMessages

log = structlog.get_logger("live")

Market = tuple[str, str]  # (pair, interval)


class IndicatorSubscriptions:
    """A connection's indicator watches, by market (several indicator sets may follow one)."""

    def __init__(self, messages: LiveMessages) -> None:
        self._messages = messages
        self._by_market: dict[Market, dict[str, IndicatorWatch]] = {}

    def __contains__(self, market: object) -> bool:
        return market in self._by_market

    def add(self, watch: IndicatorWatch) -> None:
        """Follow ``watch`` (its snapshot is sent by the caller)."""
        market = (watch.symbol.pair, watch.interval.name)
        self._by_market.setdefault(market, {})[watch.indicators] = watch

    def discard(self, watch: IndicatorWatch) -> None:
        """Stop following ``watch`` (the caller stops it)."""
        market = (watch.symbol.pair, watch.interval.name)
        watches = self._by_market.get(market)
        if watches is not None and watches.get(watch.indicators) is watch:
            del watches[watch.indicators]
            if not watches:
                del self._by_market[market]

    async def frames(self, update: CandleUpdate) -> list[bytes]:
        """The newest row of each indicator set following ``update``'s market (none for a set
        whose row did not change). A row that cannot be had now (its candles' provider failing,
        say) is skipped: the next candle update tries again."""
        watches = self._by_market.get((update.symbol.pair, update.interval.name))
        if not watches:
            return []
        frames = []
        for watch in tuple(watches.values()):
            try:
                row = await watch.next(update)
            except Exception as error:  # noqa: BLE001 - one missed row, not a dropped connection
                log.warning("indicators row not made", symbol=watch.symbol.pair, interval=watch.interval.name,
                            error=f"{type(error).__name__}: {error}")  # fmt: skip
                continue
            if row is not None and watches.get(watch.indicators) is watch:  # not unsubscribed meanwhile
                frames.append(self._messages.indicators(row))
        return frames
