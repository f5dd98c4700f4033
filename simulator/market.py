"""A deterministic market: one price path per asset that every venue reads from.

Nothing here uses global random state. Every number comes from a seeded hash of what it
describes (asset, period, open time...), so the same question always gets the same
answer, two simulators with the same seed agree, and venues agree with each other.

The price of an asset at time ``t`` is ``true_price * exp(drift(t))``, where the drift
is a bounded sum of slow waves plus a little interpolated noise (a few percent at most).
Closed candles are read from that path and never change. The candle in progress closes
at the true price, which ``set_price`` controls and which tickers report.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .catalogue import ASSETS, Asset
from .timeframes import DAY, HOUR, Timeframe

#: (period in seconds, amplitude in log-price) of the waves that make up the drift.
_WAVES: tuple[tuple[int, float], ...] = (
    (8_280, 0.0015),
    (34_920, 0.002),
    (164_160, 0.003),
    (552_960, 0.004),
    (1_987_200, 0.005),
    (8_380_800, 0.006),
    (35_424_000, 0.008),
)
_NOISE_STEP = 300
_NOISE_AMPLITUDE = 0.0015
#: Largest relative difference between two venues quoting the same asset.
_SOURCE_SPREAD = 0.0002


def unit_hash(seed: int, *parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``seed`` and ``parts``."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Candle:
    """One OHLCV bar in USD; ``volume`` is in units of the asset.

    ``close_time`` is the next bar's open time (exclusive end). ``taker_buy_ratio`` is the
    share of the volume bought by takers.
    """

    open_time: int
    close_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    trades: int
    taker_buy_ratio: float
    complete: bool

    @property
    def vwap(self) -> float:
        """Volume-weighted average price, inside [low, high]."""
        typical = (self.high + self.low + 2 * self.close) / 4
        return min(self.high, max(self.low, typical))


@dataclass(frozen=True)
class DayStats:
    """Rolling 24-hour statistics of an asset as one venue sees them (USD)."""

    open: float
    high: float
    low: float
    last: float
    vwap: float
    volume_usd: float
    trades: int

    @property
    def change_percent(self) -> float:
        """Price change over the 24 hours, in percent."""
        return (self.last / self.open - 1) * 100


class Market:
    """Prices, candles, 24-hour statistics and the Fear & Greed index of one simulator."""

    def __init__(self, *, seed: int, now: Callable[[], float], assets: Iterable[Asset] = ASSETS) -> None:
        self.seed = seed
        self._now = now
        self._assets = {asset.symbol: asset for asset in assets}
        self._aliases = {alias: asset.symbol for asset in self._assets.values() for alias in asset.aliases}
        self._prices = {symbol: asset.price_usd for symbol, asset in self._assets.items()}
        self._phases: dict[str, tuple[float, ...]] = {}

    def now(self) -> float:
        """The simulator's clock, in Unix seconds."""
        return self._now()

    @property
    def assets(self) -> tuple[Asset, ...]:
        """Every asset, in catalogue order."""
        return tuple(self._assets.values())

    def canonical(self, symbol: str) -> str:
        """The canonical symbol for ``symbol`` or one of its aliases (``POL`` -> ``MATIC``)."""
        upper = symbol.upper()
        upper = self._aliases.get(upper, upper)
        if upper not in self._assets:
            raise KeyError(f"unknown asset {symbol!r}")
        return upper

    def asset(self, symbol: str) -> Asset:
        """The catalogue entry of ``symbol``."""
        return self._assets[self.canonical(symbol)]

    def price(self, symbol: str) -> float:
        """The true USD price of ``symbol`` right now."""
        return self._prices[self.canonical(symbol)]

    def set_price(self, symbol: str, usd: float) -> None:
        """Move the true USD price of ``symbol``; every venue follows."""
        if not math.isfinite(usd) or usd <= 0:
            raise ValueError(f"price must be a positive number, got {usd!r}")
        self._prices[self.canonical(symbol)] = float(usd)

    def reset_prices(self) -> None:
        """Go back to the catalogue prices."""
        self._prices = {symbol: asset.price_usd for symbol, asset in self._assets.items()}

    def spot(self, symbol: str, source: str) -> float:
        """What venue ``source`` quotes: the true price within a fixed, tiny spread."""
        offset = unit_hash(self.seed, self.canonical(symbol), "source", source) * 2 - 1
        return self.price(symbol) * (1 + offset * _SOURCE_SPREAD)

    def level(self, symbol: str, t: float) -> float:
        """The price path of ``symbol`` at time ``t`` (the open of a bar starting at ``t``)."""
        return self.price(symbol) * math.exp(self._drift(self.canonical(symbol), t))

    def candle(self, symbol: str, timeframe: Timeframe, open_time: int) -> Candle:
        """The bar of ``timeframe`` opening at ``open_time``; the current one is partial."""
        key = self.canonical(symbol)
        now = self.now()
        close_time = timeframe.shift(open_time, 1)
        length = close_time - open_time
        complete = close_time <= now
        progress = 1.0 if complete else min(1.0, max(0.01, (now - open_time) / length))
        first = self.level(key, open_time)
        last = self.level(key, close_time) if complete else self.price(key)

        def draw(tag: str) -> float:
            return unit_hash(self.seed, key, timeframe.seconds, open_time, tag)

        wick = min(0.04, 0.0008 * math.sqrt(length / 60)) * math.sqrt(progress)
        asset = self._assets[key]
        volume = (
            asset.volume_usd_24h / asset.price_usd * length / DAY * (0.6 + 0.8 * draw("volume")) * progress
        )
        return Candle(
            open_time=open_time,
            close_time=close_time,
            open=first,
            high=max(first, last) * (1 + wick * draw("high")),
            low=min(first, last) * (1 - wick * draw("low")),
            close=last,
            volume=volume,
            trades=max(1, int(volume * asset.price_usd / 1_500)),
            taker_buy_ratio=0.4 + 0.2 * draw("taker"),
            complete=complete,
        )

    def day_stats(self, symbol: str, source: str) -> DayStats:
        """Rolling 24-hour statistics of ``symbol`` as venue ``source`` reports them."""
        key = self.canonical(symbol)
        now = self.now()
        start = now - DAY
        last = self.spot(key, source)
        path = [self.level(key, start + hour * HOUR) for hour in range(24)]
        hour_index = int(now // HOUR)
        wick = 0.004 * unit_hash(self.seed, key, "wick24", hour_index)
        volume = self._assets[key].volume_usd_24h * (
            0.8 + 0.4 * unit_hash(self.seed, key, "volume24", hour_index)
        )
        high = max(*path, last) * (1 + wick)
        low = min(*path, last) * (1 - wick)
        vwap = min(high, max(low, sum(path) / len(path)))
        return DayStats(path[0], high, low, last, vwap, volume, max(1, int(volume / 1_500)))

    def fear_greed(self, day: int) -> int:
        """The Fear & Greed value (0-100) of the UTC day ``day`` (days since the epoch)."""
        phase_a = 2 * math.pi * unit_hash(self.seed, "fng", "a")
        phase_b = 2 * math.pi * unit_hash(self.seed, "fng", "b")
        value = (
            50
            + 25 * math.sin(2 * math.pi * day / 97 + phase_a)
            + 12 * math.sin(2 * math.pi * day / 29 + phase_b)
            + 10 * (unit_hash(self.seed, "fng", day) - 0.5)
        )
        return int(min(100, max(0, round(value))))

    def _drift(self, key: str, t: float) -> float:
        phases = self._phases.get(key)
        if phases is None:
            phases = tuple(
                2 * math.pi * unit_hash(self.seed, key, "phase", index) for index in range(len(_WAVES))
            )
            self._phases[key] = phases
        waves = sum(
            amplitude * math.sin(2 * math.pi * t / period + phase)
            for (period, amplitude), phase in zip(_WAVES, phases)
        )
        step = math.floor(t / _NOISE_STEP)
        fraction = t / _NOISE_STEP - step
        before = unit_hash(self.seed, key, "noise", step) * 2 - 1
        after = unit_hash(self.seed, key, "noise", step + 1) * 2 - 1
        return waves + _NOISE_AMPLITUDE * (before + (after - before) * fraction)
