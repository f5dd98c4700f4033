"""The IndicatorEngine over TA-Lib: its own function metadata says what exists and how."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache

import numpy as np
import talib
from talib import abstract

from domain.candle import Candle
from domain.client_input import quoted
from domain.errors import InvalidParameter
from domain.indicators import OHLCV_INPUTS, IndicatorFunction, IndicatorParam, IndicatorSpec
from domain.time_range import MAX_RANGE_CANDLES

_UNSTABLE = "Function has an unstable period"
_PROBE = 2000  # made-up candles a function is tried on, to learn whether it carries state
_MA_TYPES = frozenset(talib.MA_Type._lookup)  # TA-Lib's moving-average types by number


class TalibEngine:
    """Implements IndicatorEngine with TA-Lib's abstract API.

    The functions offered are those of ``talib.get_functions()`` whose inputs are all candle
    fields (``MAVP``, which also takes a periods series, is not); parameters, defaults and output
    names are TA-Lib's own. Parameter values TA-Lib refuses are found by TA-Lib itself: a
    negative lookback, or an error computing over a few candles.
    """

    def functions(self) -> Mapping[str, IndicatorFunction]:
        """See ``IndicatorEngine.functions``."""
        return _catalog()

    def lookback(self, spec: IndicatorSpec) -> int:
        """See ``IndicatorEngine.lookback``."""
        for name, value in spec.values:
            if name.endswith("matype") and int(value) not in _MA_TYPES:
                raise InvalidParameter(f"{_refused(spec)}: {name} must be one of {sorted(_MA_TYPES)}",
                                       field="indicators")  # fmt: skip
        function = self._function(spec)
        lookback = int(function.lookback)
        if lookback < 0:
            raise InvalidParameter(_refused(spec), field="indicators")
        if lookback >= MAX_RANGE_CANDLES:  # checked before any computation: no client sizes our arrays
            raise InvalidParameter(f"{quoted(spec.key)} needs {lookback} candles before its first value: "
                                   f"at most {MAX_RANGE_CANDLES} candles in all", field="indicators")  # fmt: skip
        try:  # values the lookback does not check (an unknown moving-average type, say)
            function.run(_sample(lookback + 2))
        except Exception as error:  # TA-Lib's own errors carry no type of their own
            raise InvalidParameter(f"{_refused(spec)}: {error}", field="indicators") from None
        return lookback

    def compute(self, spec: IndicatorSpec, candles: Sequence[Candle]) -> dict[str, list[float | None]]:
        """See ``IndicatorEngine.compute``."""
        function = self._function(spec)
        inputs = {
            "open": np.fromiter((c.open for c in candles), float, len(candles)),
            "high": np.fromiter((c.high for c in candles), float, len(candles)),
            "low": np.fromiter((c.low for c in candles), float, len(candles)),
            "close": np.fromiter((c.close for c in candles), float, len(candles)),
            "volume": np.fromiter((c.volume for c in candles), float, len(candles)),
        }
        result = function.run(inputs)
        outputs = result if isinstance(result, list) else [result]
        return {name: _values(series) for name, series in zip(spec.function.outputs, outputs, strict=True)}

    @staticmethod
    def _function(spec: IndicatorSpec) -> abstract.Function:
        function = abstract.Function(spec.function.name)
        function.set_parameters(spec.arguments)
        return function


def _values(series: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in series.tolist()]


def _refused(spec: IndicatorSpec) -> str:
    shown = ", ".join(f"{name}={value}" for name, value in spec.values)
    return f"{quoted(spec.key)}: TA-Lib refuses {spec.function.name.lower()} with {shown}"


@lru_cache(maxsize=8)
def _sample(length: int) -> dict[str, np.ndarray]:
    """``length`` made-up candles to try parameter values on (never served)."""
    rising = np.linspace(100.0, 110.0, length)
    return {"open": rising, "high": rising + 1, "low": rising - 1, "close": rising + 0.5, "volume": rising}


def _walk(length: int) -> dict[str, np.ndarray]:
    """A seeded random walk of made-up candles (never served), like prices, to learn how a
    function behaves on them."""
    rng = np.random.default_rng(7)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, length)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.random(length) * 0.005)
    low = np.minimum(open_, close) * (1 - rng.random(length) * 0.005)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": rng.random(length) * 50 + 1}


def _behaviour(name: str) -> tuple[bool, bool]:
    """(whether ``name`` with its defaults gives any value over price-like candles, whether its
    values carry state from all earlier history): the latter when its newest values change as
    earlier candles are added, which TA-Lib's flags do not always say (ADXR, STOCHRSI, SAR...)."""
    sample = _walk(_PROBE)
    function = abstract.Function(name)
    skipped = _PROBE // 2
    longer = function.run(sample)
    shorter = function.run({field: values[skipped:] for field, values in sample.items()})
    longer_outputs = longer if isinstance(longer, list) else [longer]
    shorter_outputs = shorter if isinstance(shorter, list) else [shorter]
    gives = any(np.isfinite(np.asarray(out, dtype=float)).any() for out in longer_outputs)
    # The first values after the lookback are where earlier history would show.
    first = int(function.lookback)
    window = slice(first, first + 50)
    carries = any(
        not np.allclose(np.asarray(a, dtype=float)[skipped:][window], np.asarray(b, dtype=float)[window],
                        rtol=1e-9, atol=1e-12, equal_nan=True)
        for a, b in zip(longer_outputs, shorter_outputs, strict=True)
    )  # fmt: skip
    return gives, carries


@cache
def _catalog() -> Mapping[str, IndicatorFunction]:
    found: dict[str, IndicatorFunction] = {}
    for name in talib.get_functions():
        info = abstract.Function(name).info
        inputs: list[str] = []
        for value in info["input_names"].values():
            inputs.extend([value] if isinstance(value, str) else value)
        if not set(inputs) <= OHLCV_INPUTS:
            continue
        gives, carries = _behaviour(name)
        if not gives:  # ACOS, ASIN: prices are outside their domain, every value would be null
            continue
        found[name] = IndicatorFunction(
            name=name,
            inputs=tuple(inputs),
            params=tuple(IndicatorParam(p, v) for p, v in info["parameters"].items()),
            outputs=tuple(info["output_names"]),
            unstable=_UNSTABLE in info["function_flags"] or carries,
        )
    return found
