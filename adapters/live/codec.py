"""The JSON encoding of live values between replicas: bus messages and stream keys.

Every field round-trips exactly: floats as JSON numbers in their shortest exact form,
absent figures as null (never a made-up zero). Decoding never executes code.
"""

from __future__ import annotations

from typing import Any

import orjson

from domain.candle import Candle
from domain.interval import Interval
from domain.live import CandleEvent, StreamKey, StreamStatus, TickerEvent
from domain.ports import BusMessage
from domain.symbol import Symbol


class LiveCodecError(ValueError):
    """A message or key this version cannot read."""


def encode_message(message: BusMessage) -> bytes:
    """``message`` as one JSON object."""
    if isinstance(message, CandleEvent):
        c = message.candle
        return orjson.dumps({
            "kind": "candle", "symbol": [message.symbol.base, message.symbol.quote],
            "interval": message.interval.name,
            "candle": [c.timestamp, c.open, c.high, c.low, c.close, c.volume],
            "closed": message.closed, "eventTime": message.event_time, "source": message.source,
        })  # fmt: skip
    if isinstance(message, TickerEvent):
        return orjson.dumps({
            "kind": "ticker", "symbol": [message.symbol.base, message.symbol.quote], "last": message.last,
            "figures": [message.open_24h, message.high_24h, message.low_24h,
                        message.volume_base, message.volume_quote],
            "eventTime": message.event_time, "source": message.source,
        })  # fmt: skip
    if isinstance(message, StreamStatus):
        return orjson.dumps({
            "kind": "status", "provider": message.provider, "state": message.state, "streams": message.streams,
            "lastMessage": message.last_message, "reconnects": message.reconnects,
        })  # fmt: skip
    raise TypeError(f"not a bus message: {type(message).__name__}")


def decode_message(blob: bytes | str) -> BusMessage:
    """The message ``encode_message`` wrote. Raises ``LiveCodecError``."""
    try:
        data = orjson.loads(blob)
        kind = data["kind"]
        if kind == "candle":
            t, o, h, low, c, v = data["candle"]
            candle = Candle(int(t), float(o), float(h), float(low), float(c), float(v))
            return CandleEvent(_symbol(data["symbol"]), Interval(data["interval"]), candle,
                               _bool(data["closed"]), int(data["eventTime"]), str(data["source"]))  # fmt: skip
        if kind == "ticker":
            o, h, low, vb, vq = (_figure(value) for value in data["figures"])
            return TickerEvent(_symbol(data["symbol"]), float(data["last"]), o, h, low, vb, vq,
                               int(data["eventTime"]), str(data["source"]))  # fmt: skip
        if kind == "status":
            state = data["state"]
            if state not in ("connected", "reconnecting", "down"):
                raise ValueError(f"unknown state {state!r}")
            return StreamStatus(str(data["provider"]), state, int(data["streams"]),
                                _figure(data["lastMessage"]), int(data["reconnects"]))  # fmt: skip
        raise ValueError(f"unknown kind {kind!r}")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise LiveCodecError(f"unreadable live message: {error}") from None


def encode_key(key: StreamKey) -> str:
    """``candles|BTC|USDT|1m`` or ``ticker|BTC|USDT|`` (symbols never contain ``|``)."""
    return "|".join(
        (key.channel, key.symbol.base, key.symbol.quote, key.interval.name if key.interval else "")
    )


def decode_key(text: str) -> StreamKey:
    """The key ``encode_key`` wrote. Raises ``LiveCodecError``."""
    try:
        channel, base, quote, interval = text.split("|")
        if channel not in ("candles", "ticker"):
            raise ValueError(f"unknown channel {channel!r}")
        return StreamKey(channel, Symbol(base, quote), Interval(interval) if interval else None)  # type: ignore[arg-type]
    except ValueError as error:
        raise LiveCodecError(f"unreadable stream key {text!r}: {error}") from None


def _symbol(parts: Any) -> Symbol:
    base, quote = parts
    return Symbol(str(base), str(quote))


def _figure(value: Any) -> float | None:
    return None if value is None else float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"not a boolean: {value!r}")
    return value
