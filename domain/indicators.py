"""Indicator requests (``rsi:14,macd:12:26:9``), the functions an engine offers, and warm-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from domain.client_input import quoted
from domain.errors import InvalidParameter

MAX_INDICATORS = 20  # in one request
OHLCV_INPUTS = frozenset({"open", "high", "low", "close", "volume"})
#: How many periods an exponential indicator is given beyond its lookback to settle: after ten
#: periods the weight left on the values before the window is below e^-10 (~5e-5) for an EMA.
SETTLE_PERIODS = 10
#: The settling candles of a function that carries state but has no period to scale them by
#: (SAR, MAMA, the Hilbert transform ones).
SETTLE_CANDLES = 300
# Moving-average types (TA-Lib's MA_Type) whose value keeps some weight of all history: EMA,
# DEMA, TEMA, KAMA, MAMA, T3, the function's own default, zero-lag EMA, Wilder's (SMA, WMA,
# TRIMA, Hull and identity forget what left their window).
_EXPONENTIAL_MA_TYPES = frozenset({1, 3, 4, 6, 7, 8, 11, 12, 13})
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_NUMBER = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,9})?")

Number = int | float


@dataclass(frozen=True, slots=True)
class IndicatorParam:
    """One optional input of a function: its name and default (whose type, int or float, is the
    type the function takes)."""

    name: str
    default: Number


@dataclass(frozen=True, slots=True)
class IndicatorFunction:
    """A function an indicator engine offers: its name (TA-Lib's, upper case), the candle fields
    it reads, its parameters in order, its output names, and whether its values depend on
    history before its lookback (``unstable``: TA-Lib's unstable period, or state the engine
    found it carries, as exponential smoothing does)."""

    name: str
    inputs: tuple[str, ...]
    params: tuple[IndicatorParam, ...]
    outputs: tuple[str, ...]
    unstable: bool = False


@dataclass(frozen=True, slots=True)
class IndicatorRequest:
    """One indicator as a client wrote it: ``macd:12:26:9`` → name ``macd``, raw parameters."""

    text: str
    name: str
    params: tuple[str, ...]

    @property
    def key(self) -> str:
        """Its key in an answer's rows: the text with ``:`` replaced by ``_`` (``rsi_14``)."""
        return self.text.replace(":", "_")


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """A checked indicator: the function and every parameter's value (defaults filled in)."""

    key: str
    function: IndicatorFunction
    values: tuple[tuple[str, Number], ...]

    @property
    def arguments(self) -> dict[str, Number]:
        """The parameters by name, as the engine takes them."""
        return dict(self.values)


def parse_indicators(raw: str | None) -> tuple[IndicatorRequest, ...]:
    """The comma-separated indicators of ``raw`` (syntax only), or ``InvalidParameter``."""
    if raw is None or not raw.strip():
        raise InvalidParameter("indicators is required, e.g. indicators=rsi:14,ema:50", field="indicators")
    requests: list[IndicatorRequest] = []
    for text in (part.strip() for part in raw.split(",")):
        name, *params = text.split(":")
        if not _NAME.fullmatch(name):
            raise InvalidParameter(f"not an indicator name: {quoted(text)}", field="indicators")
        for param in params:
            if not _NUMBER.fullmatch(param):
                raise InvalidParameter(f"{quoted(text)}: parameter {quoted(param)} is not a number", field="indicators")
        requests.append(IndicatorRequest(text, name, tuple(params)))
    if len(requests) > MAX_INDICATORS:
        raise InvalidParameter(f"at most {MAX_INDICATORS} indicators in one request, got {len(requests)}",
                               field="indicators")  # fmt: skip
    keys = [r.key for r in requests]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidParameter(f"indicator asked twice: {', '.join(repeated)}", field="indicators")
    return tuple(requests)


def resolve(request: IndicatorRequest, functions: Mapping[str, IndicatorFunction]) -> IndicatorSpec:
    """``request`` checked against the ``functions`` an engine offers: a known function taking
    candle fields only, no more parameters than it has, each of its type (values the function
    refuses, such as a period of 0, are for the engine to find)."""
    function = functions.get(request.name.upper())
    if function is None:
        raise InvalidParameter(f"unknown indicator function {quoted(request.name)}", field="indicators")
    if len(request.params) > len(function.params):
        raise InvalidParameter(
            f"{quoted(request.text)}: {request.name} takes at most {len(function.params)} parameters "
            f"({', '.join(p.name for p in function.params) or 'none'}), got {len(request.params)}",
            field="indicators",
        )
    values: list[tuple[str, Number]] = []
    for i, param in enumerate(function.params):
        if i >= len(request.params):
            values.append((param.name, param.default))
            continue
        raw = request.params[i]
        if isinstance(param.default, int) and not isinstance(param.default, bool):
            if "." in raw:
                raise InvalidParameter(f"{quoted(request.text)}: {param.name} must be a whole number, got {raw}",
                                       field="indicators")  # fmt: skip
            values.append((param.name, int(raw)))
        else:
            values.append((param.name, float(raw)))
    return IndicatorSpec(request.key, function, tuple(values))


def warmup(spec: IndicatorSpec, lookback: int) -> int:
    """Candles to compute over before the first row: the function's ``lookback`` (candles
    before its first value), plus, when its values keep some weight of all earlier history
    (exponential smoothing, or state the engine found it carries), ``SETTLE_PERIODS`` times its
    longest period (``SETTLE_CANDLES`` without one) so that weight is negligible. The answer's values are the engine's over exactly these candles, whatever."""
    periods = [int(v) for name, v in spec.values if "period" in name and v > 0]
    exponential = spec.function.unstable or any(
        name.endswith("matype") and int(v) in _EXPONENTIAL_MA_TYPES for name, v in spec.values
    )
    if not exponential:
        return lookback
    return lookback + (SETTLE_PERIODS * max(periods) if periods else SETTLE_CANDLES)
