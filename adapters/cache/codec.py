"""A compact, safe encoding of cached domain values for shared caches (Redis).

Registered dataclasses become JSON arrays ``[tag, field, field, ...]`` and tuples become
arrays, so a candle costs about 60 bytes and decoding never executes code (unlike pickle,
which a shared Redis would turn into a remote-code-execution risk).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from domain.candle import Candle, CandleSeries
from domain.interval import Interval
from domain.market import MarketOverview
from domain.quote import CombinedQuote, PriceBoard
from domain.sentiment import FearGreed, OverallSentiment, Sentiment
from domain.symbol import Symbol

_TYPES: dict[str, type] = {
    "§c": Candle,
    "§cs": CandleSeries,
    "§sy": Symbol,
    "§iv": Interval,
    "§cq": CombinedQuote,
    "§pb": PriceBoard,
    "§fg": FearGreed,
    "§os": OverallSentiment,
    "§se": Sentiment,
    "§mo": MarketOverview,
}
_TAGS = {cls: tag for tag, cls in _TYPES.items()}
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _TYPES.values()}


class CodecError(ValueError):
    """A cached blob that this version cannot read."""


def encode(value: Any) -> bytes:
    """Encode a registered domain value."""
    return orjson.dumps(_pack(value))


def decode(blob: bytes) -> Any:
    """Decode what :func:`encode` produced; raises ``CodecError`` on anything else."""
    try:
        return _unpack(orjson.loads(blob))
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError) as error:
        raise CodecError(f"unreadable cache entry: {error}") from None


def _pack(value: Any) -> Any:
    cls = type(value)
    if cls is Candle:  # the hot path: thousands per entry
        return ["§c", value.timestamp, value.open, value.high, value.low, value.close, value.volume]
    tag = _TAGS.get(cls)
    if tag is not None:
        return [tag, *(_pack(getattr(value, name)) for name in _FIELDS[cls])]
    if cls is tuple or cls is list:
        return [_pack(item) for item in value]
    if value is None or cls in (str, int, float, bool):
        return value
    raise TypeError(f"cannot cache a {cls.__name__}")


def _unpack(data: Any) -> Any:
    if type(data) is not list:
        return data
    if data and type(data[0]) is str and data[0] in _TYPES:
        cls = _TYPES[data[0]]
        if cls is Candle:
            return Candle(*data[1:])
        return cls(*(_unpack(item) for item in data[1:]))
    return tuple(_unpack(item) for item in data)
