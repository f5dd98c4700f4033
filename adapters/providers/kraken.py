"""Kraken public OHLC: pair mapping, errors inside HTTP 200, the newest bars, reachable ranges."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from adapters.providers.upstream import UpstreamClient, decode, status_error
from adapters.providers.wire import Amount, Price
from domain.candle import Candle, CandleSeries
from domain.candle_range import CandleRange
from domain.candle_resampling import daily_to_weekly, monday_week_start
from domain.candle_span import CandleSpan
from domain.errors import (
    BadPayload,
    ProviderError,
    ProviderUnavailable,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.interval import Interval
from domain.ports import Clock
from domain.symbol import Symbol

NAME = "kraken"
_BASES = {"BTC": "XBT", "MATIC": "POL"}  # Kraken calls bitcoin XBT; MATIC became POL
# Kraken's deep markets are in USD; USDT requests are answered from the USD market.
_QUOTES = {"USDT": "USD", "USD": "USD", "USDC": "USDC"}
_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}
_MAX_BARS = 720  # Kraken keeps the 720 most recent bars, the one in progress included
_DAY_MS = 86_400_000
_WEEK_MS = 7 * _DAY_MS
_RATE_LIMIT_PAUSE = 5.0
_UNKNOWN_RECHECK = 3600.0

_Row = tuple[int, Price, Price, Price, Price, Amount, Amount, int]
_ROWS = TypeAdapter(list[_Row])


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    error: list[str]
    result: dict[str, Any] | None = None


_ENVELOPE = TypeAdapter(_Envelope)


class KrakenAdapter:
    """Implements OhlcvHistory over Kraken's public OHLC endpoint.

    Kraken keeps only the 720 most recent bars (the one in progress included) and answers
    with all of them, whatever ``since`` says: the newest ``limit`` are served, and a range
    is answered only from the oldest bar it still keeps (its reach). Weekly candles are built from daily bars so that weeks open on
    Monday, as on Binance, instead of Kraken's Thursday-aligned weeks.
    """

    name = NAME
    page_size = _MAX_BARS

    def __init__(self, client: UpstreamClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._unknown: dict[str, float] = {}  # pair -> when to ask Kraken about it again

    @property
    def enabled(self) -> bool:
        """Kraken's public market data needs no key."""
        return True

    def supports(self, symbol: Symbol, interval: Interval) -> bool:
        """Intervals Kraken has (weekly built from daily), pairs not found unknown lately."""
        known_interval = interval.name == "1w" or interval.name in _MINUTES
        return known_interval and self._unknown.get(self.pair(symbol), 0.0) <= self._clock.now()

    @staticmethod
    def pair(symbol: Symbol) -> str:
        """Kraken's request name for a market, e.g. ``XBTUSD``."""
        return _BASES.get(symbol.base, symbol.base) + _QUOTES[symbol.quote]

    async def fetch_ohlcv(self, symbol: Symbol, interval: Interval, limit: int) -> CandleSeries:
        """The ``limit`` most recent bars (at most what Kraken keeps), oldest first."""
        candles = await self._bars(symbol, interval, None)
        if interval.name == "1w":
            candles = daily_to_weekly(candles)
        if not candles:
            raise BadPayload(NAME, "no candles in the answer")
        return CandleSeries(symbol, interval, candles[-limit:], NAME)

    async def fetch_ohlcv_range(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> CandleRange:
        """The bars of ``[start_ms, end_ms)`` that Kraken still keeps, in one call.

        The answer covers the range from the reach on; a bar it lacks there is one Kraken does
        not have (before the listing, an outage). When the whole range lies before the reach,
        nothing is asked: covering is None.
        """
        if end_ms <= start_ms:
            raise ValueError(f"empty range [{start_ms}, {end_ms})")
        reach = self.reach(interval)
        covering = CandleSpan(start_ms, end_ms).clipped(reach, end_ms)
        if covering is None:
            return CandleRange((), None)
        # Kraken's ``since`` is exclusive; one second before leaves no doubt either way.
        candles = await self._bars(symbol, interval, covering.start_ms // 1000 - 1)
        if covering.start_ms == reach and candles:
            # Kraken's 720 bars follow Kraken's clock: when its window has moved on since we
            # worked the reach out (a call across a bar boundary, clocks apart), its oldest bar
            # is younger than the reach, and the bar it dropped must not be taken for a gap.
            covering = covering.clipped(_first_whole(interval, candles[0].timestamp), covering.end_ms)
            if covering is None:
                return CandleRange((), None)
        if interval.name == "1w":
            # Every week from the covering's start is whole within the daily reach: a week
            # whose Monday has no bar (an outage, a mid-week listing) still existed.
            candles = daily_to_weekly(candles, whole_from_ms=covering.start_ms)
        inside = tuple(c for c in candles if covering.start_ms <= c.timestamp < covering.end_ms)
        return CandleRange(inside, covering)

    def reach(self, interval: Interval) -> int:
        """The oldest open time (ms) Kraken still answers for ``interval`` now: the 720 most
        recent bars include the one in progress; weeks start at the first whole Monday week
        within the daily bars' reach."""
        now_ms = int(self._clock.now() * 1000)
        if interval.name == "1w":
            oldest_day = now_ms // _DAY_MS * _DAY_MS - (_MAX_BARS - 1) * _DAY_MS
            monday = monday_week_start(oldest_day)
            return monday if monday == oldest_day else monday + _WEEK_MS
        step = interval.milliseconds
        return now_ms // step * step - (_MAX_BARS - 1) * step

    async def _bars(self, symbol: Symbol, interval: Interval, since_s: int | None) -> tuple[Candle, ...]:
        """Kraken's bars for ``interval`` (daily ones for weeks), oldest first, checked."""
        minutes = 1440 if interval.name == "1w" else _MINUTES.get(interval.name)
        if minutes is None:
            raise UpstreamRejected(NAME, f"Kraken has no {interval.name} bars")
        params = {"pair": self.pair(symbol), "interval": str(minutes)}
        if since_s is not None:
            params["since"] = str(since_s)
        response = await self._client.get("/0/public/OHLC", params)
        if response.status != 200:
            raise status_error(NAME, response)
        envelope = decode(NAME, response, _ENVELOPE)
        if envelope.error:
            error = _error_from(envelope.error)
            if isinstance(error, UpstreamRejected) and "Unknown asset pair" in error.reason:
                self._unknown[self.pair(symbol)] = self._clock.now() + _UNKNOWN_RECHECK
            raise error
        rows = _rows_of(envelope.result)
        return tuple(Candle(r[0] * 1000, r[1], r[2], r[3], r[4], r[6]) for r in rows)


def _rows_of(result: dict[str, Any] | None) -> list[_Row]:
    # The result is keyed by Kraken's canonical pair name (XBTUSD → XXBTZUSD), never by the
    # name we sent; "last" sits beside it.
    if result is None:
        raise BadPayload(NAME, "no result in the answer")
    keys = [key for key in result if key != "last"]
    if len(keys) != 1:
        raise BadPayload(NAME, f"expected one pair in the result, got {keys}")
    try:
        rows = _ROWS.validate_python(result[keys[0]])
    except ValueError as error:
        raise BadPayload(NAME, f"unexpected OHLC rows: {str(error).splitlines()[0]}") from None
    previous = None
    for row in rows:
        if row[3] > row[2] or (previous is not None and row[0] <= previous):
            raise BadPayload(NAME, f"inconsistent bar at {row[0]}")
        previous = row[0]
    return rows


def _error_from(messages: list[str]) -> ProviderError:
    text = "; ".join(messages)
    if any("Too many requests" in m or m.startswith("EAPI:Rate limit") for m in messages):
        return UpstreamRateLimited(NAME, text, retry_after=_RATE_LIMIT_PAUSE)
    if any(m.startswith(("EQuery:", "EGeneral:Invalid arguments")) for m in messages):
        return UpstreamRejected(NAME, text)
    return ProviderUnavailable(NAME, text)


def _first_whole(interval: Interval, oldest_bar_ms: int) -> int:
    """The oldest open time answerable from bars beginning at ``oldest_bar_ms`` (daily bars for
    weeks: the first Monday at or after it, so no week is built from part of its days)."""
    if interval.name != "1w":
        return oldest_bar_ms
    monday = monday_week_start(oldest_bar_ms)
    return monday if monday == oldest_bar_ms else monday + _WEEK_MS
