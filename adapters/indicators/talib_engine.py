"""The IndicatorEngine over TA-Lib: its own function metadata says what exists and how."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import talib
from talib import abstract

from domain.candle import Candle
from domain.client_input import quoted
from domain.errors import InvalidParameter
from domain.indicators import OHLCV_INPUTS, IndicatorFunction, IndicatorParam, IndicatorSpec

_UNSTABLE = "Function has an unstable period"
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


@cache
def _sample(length: int) -> dict[str, np.ndarray]:
    rising = np.linspace(100.0, 110.0, length)
    return {"open": rising, "high": rising + 1, "low": rising - 1, "close": rising + 0.5, "volume": rising}


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
        found[name] = IndicatorFunction(
            name=name,
            inputs=tuple(inputs),
            params=tuple(IndicatorParam(p, v) for p, v in info["parameters"].items()),
            outputs=tuple(info["output_names"]),
            unstable=_UNSTABLE in info["function_flags"],
        )
    return found
