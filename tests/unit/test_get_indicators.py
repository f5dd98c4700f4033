"""GetIndicators: TA-Lib's numbers over exactly limit + warmup candles, checks before any call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import talib

from adapters.indicators.talib_engine import TalibEngine
from adapters.store.sqlite import SqliteCandleStore
from application.get_indicators import GetIndicators
from application.get_ohlcv import GetOhlcv
from application.history.candle_history import CandleHistory
from application.history.get_ohlcv_range import GetOhlcvRange
from domain.candle import Candle
from domain.errors import InvalidParameter
from domain.interval import IntervalParser
from domain.symbol import SymbolParser
from tests.history_fakes import FakeHistoryProvider
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, infrastructure


class CountingEngine(TalibEngine):
    """The TA-Lib engine, counting computations."""

    def __init__(self) -> None:
        self.computed = 0

    def compute(self, spec, candles):  # type: ignore[no-untyped-def]
        self.computed += 1
        return super().compute(spec, candles)


@dataclass
class World:
    indicators: GetIndicators
    latest: GetOhlcv
    binance: FakeHistoryProvider
    engine: CountingEngine
    make: Callable[..., GetIndicators]  # another GetIndicators over the same parts

    @property
    def calls(self) -> int:
        return self.binance.window_calls + len(self.binance.range_calls)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    infra = infrastructure(["binance"])
    binance = FakeHistoryProvider("binance", infra.clock)
    store = await SqliteCandleStore.open(str(tmp_path / "c.sqlite3"), infra.clock)
    symbols, intervals = SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS)
    latest = GetOhlcv(symbols, intervals, [binance], infra.calls, infra.read_through, 60.0)
    ranges = GetOhlcvRange(symbols, intervals, CandleHistory([binance], infra.calls, store, infra.clock), latest,
                           infra.clock)  # fmt: skip
    engine = CountingEngine()

    def make(**options: Any) -> GetIndicators:
        return GetIndicators(symbols, intervals, engine, latest, ranges, infra.clock, **options)

    yield World(make(), latest, binance, engine, make)
    await store.close()


def columns(candles: tuple[Candle, ...]) -> dict[str, np.ndarray]:
    return {f: np.array([getattr(c, f) for c in candles], dtype=float) for f in ("open", "high", "low", "close", "volume")}


async def test_values_are_talib_over_limit_plus_warmup_candles(world: World) -> None:
    served = await world.indicators.execute("BTC", "1h", 50, "rsi:14,macd,bbands:20:2:2,obv,sma:10")
    table = served.value
    assert table.warmup == 300  # the most any needs: obv carries all history and has no period
    candles = (await world.latest.execute("BTC", "1h", 50 + table.warmup)).value.candles
    data = columns(candles)
    rsi = talib.RSI(data["close"], timeperiod=14)
    macd, signal, hist = talib.MACD(data["close"])
    upper, middle, lower = talib.BBANDS(data["close"], timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
    obv = talib.OBV(data["close"], data["volume"])
    sma = talib.SMA(data["close"], timeperiod=10)
    assert [r.timestamp for r in table.rows] == [c.timestamp for c in candles[-50:]]
    for i, row in enumerate(table.rows, start=table.warmup):
        assert row.values == {
            "rsi_14": rsi[i],
            "macd": {"macd": macd[i], "macdsignal": signal[i], "macdhist": hist[i]},
            "bbands_20_2_2": {"upperband": upper[i], "middleband": middle[i], "lowerband": lower[i]},
            "obv": obv[i],
            "sma_10": sma[i],
        }


async def test_a_warmup_beyond_the_window_comes_from_the_history_ranges(world: World) -> None:
    table = (await world.indicators.execute("BTC", "1h", 100, "ema:200")).value
    assert table.warmup == 199 + 2000
    assert len(table.rows) == 100
    assert len(world.binance.range_calls) == 3  # 2300 candles (with slack 2530): three pages of 1000
    assert all(isinstance(r.values["ema_200"], float) for r in table.rows)


async def test_a_table_is_computed_again_only_when_its_candles_change(world: World) -> None:
    await world.indicators.execute("BTC", "1h", 10, "rsi,atr")
    await world.indicators.execute("BTC", "1h", 10, "rsi,atr")
    assert world.engine.computed == 2  # two indicators, once


@pytest.mark.parametrize(
    ("indicators", "limit", "field", "message"),
    [
        ("rsi:0", 10, "indicators", "'rsi_0': TA-Lib refuses rsi with timeperiod=0"),
        ("rsi:14.5", 10, "indicators", "'rsi:14.5': timeperiod must be a whole number, got 14.5"),
        ("nosuch:3", 10, "indicators", "unknown indicator function 'nosuch'"),
        ("mavp", 10, "indicators", "unknown indicator function 'mavp'"),  # takes a periods series
        ("rsi:1:2", 10, "indicators", "'rsi:1:2': rsi takes at most 1 parameters (timeperiod), got 2"),
        ("rsi,rsi", 10, "indicators", "indicator asked twice: rsi"),
        ("rsi:x", 10, "indicators", "'rsi:x': parameter 'x' is not a number"),
        ("", 10, "indicators", "indicators is required, e.g. indicators=rsi:14,ema:50"),
        (",".join(f"sma:{n}" for n in range(2, 23)), 10, "indicators", "at most 20 indicators in one request, got 21"),
        ("ema:1000", 1000, "indicators",
         "these indicators need 10999 candles of warm-up before 1000 rows: at most 10000 candles in all"),
        ("rsi", 0, "limit", "limit must be between 1 and 1000, got 0"),
    ],
)
async def test_bad_input_is_refused_before_any_call(
    world: World, indicators: str, limit: int, field: str, message: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        await world.indicators.execute("BTC", "1h", limit, indicators)
    assert (caught.value.field, caught.value.message) == (field, message)
    assert world.calls == 0


async def test_a_market_with_too_little_history_is_refused(world: World) -> None:
    world.binance.listed_ms = int(world.binance.clock.now() * 1000) - 100 * 3_600_000
    with pytest.raises(InvalidParameter) as caught:
        await world.indicators.execute("BTC", "1h", 50, "rsi:14")
    assert caught.value.message == "BTCUSDT 1h has 100 candles; these indicators need 154 before the 50 rows asked for"


async def test_an_answer_names_its_window_and_indicators_so_its_encoding_can_be_kept(world: World) -> None:
    first = await world.indicators.execute("BTC", "1h", 10, "rsi")
    again = await world.indicators.execute("BTC", "1h", 10, "rsi")
    other = await world.indicators.execute("BTC", "1h", 11, "rsi")
    assert first.request is not None
    assert (again.request, again.fetched_at) == (first.request, first.fetched_at)
    assert other.request != first.request
    ranged = await world.indicators.execute("BTC", "1h", 10, "ema:200")  # from a history range
    assert ranged.request is None


_WALK = 100.0 * np.exp(np.cumsum(np.random.default_rng(7).normal(0.0, 0.01, 20_000)))


def walking_candle(timestamp: int, provider: str) -> Candle:
    """Prices of a seeded random walk (one step an hour), like a market's."""
    close = float(_WALK[(timestamp // 3_600_000) % len(_WALK)])
    previous = float(_WALK[(timestamp // 3_600_000 - 1) % len(_WALK)])
    return Candle(timestamp, previous, max(previous, close) * 1.002, min(previous, close) * 0.998, close,
                  10.0 + (timestamp // 3_600_000) % 7)  # fmt: skip


@pytest.mark.parametrize("indicator", ["adxr", "stochrsi", "sar", "mama", "tsi", "adosc", "ht_sine", "kc"])
async def test_the_first_row_has_settled_on_what_all_earlier_history_gives(world: World, indicator: str) -> None:
    """Functions carrying state that TA-Lib does not flag (found by review): the warm-up lets
    it settle, so the first row is what TA-Lib gives over far more history."""
    world.binance.candle = walking_candle
    table = (await world.indicators.execute("BTC", "1h", 5, indicator)).value
    long = (await world.latest.execute("BTC", "1h", 1000)).value.candles
    data = columns(long)
    function = getattr(talib, indicator.upper())
    from talib import abstract

    names = [x for v in abstract.Function(indicator.upper()).info["input_names"].values()
             for x in ([v] if isinstance(v, str) else v)]  # fmt: skip
    outputs = function(*(data[n] for n in names))
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    first = table.rows[0]
    found = first.values[indicator]
    values = list(found.values()) if isinstance(found, dict) else [found]
    at = len(long) - 5
    assert first.timestamp == long[at].timestamp
    for served, expected in zip(values, (o[at] for o in outputs), strict=True):
        assert served == pytest.approx(expected, rel=1e-3, abs=1e-9)


async def test_a_lookback_beyond_the_candle_cap_is_refused_before_any_computation(world: World) -> None:
    with pytest.raises(InvalidParameter) as caught:
        await world.indicators.execute("BTC", "1h", 10, "t3:99999")
    assert caught.value.message == "'t3_99999' needs 599988 candles before its first value: at most 10000 candles in all"
    assert world.calls == 0


async def test_functions_giving_no_value_over_prices_are_not_offered(world: World) -> None:
    with pytest.raises(InvalidParameter) as caught:
        await world.indicators.execute("BTC", "1h", 10, "acos")
    assert caught.value.message == "unknown indicator function 'acos'"


async def test_kept_tables_are_bounded_by_the_values_they_hold(world: World) -> None:
    indicators = world.make(memo_cells=25)
    await indicators.execute("BTC", "1h", 10, "rsi")  # 10 rows x (1 value + timestamp) = 20
    await indicators.execute("BTC", "1h", 10, "sma")  # 20 more: over 25, the rsi table goes
    await indicators.execute("BTC", "1h", 10, "sma")
    assert world.engine.computed == 2
    await indicators.execute("BTC", "1h", 10, "rsi")
    assert world.engine.computed == 3
