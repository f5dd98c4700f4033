"""What a WebSocket client may send, parsed: ``subscribe`` / ``unsubscribe`` a channel, ``ping``.

Refusals are the domain's errors (``InvalidParameter`` for anything malformed: a frame that is
not a JSON object, an unknown op, channel or field, a value of the wrong type), so they are
answered with the REST codes through the one mapping. ``id`` is read first, so even a refused
request's error carries it when it was sane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from domain.client_input import QUOTE_LIMIT, clipped, quoted
from domain.errors import InvalidInput, InvalidParameter, InvalidSymbol

Channel = Literal["candles", "prices", "indicators"]
RequestId = int | str | None

_FIELDS: dict[str | None, frozenset[str]] = {
    None: frozenset({"op", "id"}),  # ping
    "candles": frozenset({"op", "id", "channel", "symbol", "interval"}),
    "prices": frozenset({"op", "id", "channel", "symbols"}),
    "indicators": frozenset({"op", "id", "channel", "symbol", "interval", "indicators"}),
}
_ECHOED = ("op", "channel", "symbol", "interval", "symbols", "indicators", "id")
_MAX_INTEGER_ID = 2**53  # what every JSON client can hold exactly


class BadOp(Exception):
    """A refused client message: ``error`` says why, ``id`` is the request's (when sane)."""

    def __init__(self, error: InvalidInput, request_id: RequestId = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.id = request_id


@dataclass(frozen=True, slots=True)
class ClientOp:
    """One valid client message. ``echo`` is the request's own fields, as the ``subscribed``
    answer repeats them."""

    op: Literal["subscribe", "unsubscribe", "ping"]
    id: RequestId
    channel: Channel | None = None
    symbol: str | None = None
    interval: str | None = None
    symbols: tuple[str, ...] | None = None
    indicators: str | None = None
    echo: tuple[tuple[str, Any], ...] = ()


def parse_op(frame: str) -> ClientOp:
    """Parse a text frame, or raise :class:`BadOp`."""
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise BadOp(InvalidParameter("a message must be a JSON object, e.g. {\"op\":\"ping\"}",
                                     field="message")) from None  # fmt: skip
    if not isinstance(message, dict):
        raise BadOp(InvalidParameter("a message must be a JSON object, e.g. {\"op\":\"ping\"}", field="message"))
    request_id = _request_id(message.get("id"))
    try:
        return _parse(message, request_id)
    except InvalidInput as error:
        raise BadOp(error, request_id) from None


def _request_id(raw: object) -> RequestId:
    if raw is None or (isinstance(raw, str) and len(raw) <= QUOTE_LIMIT):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) <= _MAX_INTEGER_ID:
        return raw
    raise BadOp(InvalidParameter(f"id must be an integer or a string of at most {QUOTE_LIMIT} characters",
                                 field="id"))  # fmt: skip


def _parse(message: dict[str, Any], request_id: RequestId) -> ClientOp:
    op = message.get("op")
    if op not in ("subscribe", "unsubscribe", "ping"):
        shown = quoted(op) if isinstance(op, str) else repr(type(op).__name__)
        raise InvalidParameter(f"unknown op {shown}; use subscribe, unsubscribe or ping", field="op")
    channel = None if op == "ping" else message.get("channel")
    if op != "ping" and channel not in ("candles", "prices", "indicators"):
        shown = quoted(channel) if isinstance(channel, str) else "none"
        raise InvalidParameter(f"unknown channel {shown}; use candles, prices or indicators", field="channel")
    for name in message:
        if name not in _FIELDS[channel]:
            where = f"channel {channel}" if channel else "ping"
            raise InvalidParameter(f"unknown field {quoted(name)} for {where}", field=clipped(name))
    echo = tuple((name, message[name]) for name in _ECHOED if name in message)
    if channel == "candles":
        symbol = _text(message, "symbol", InvalidSymbol)
        interval = _text(message, "interval", InvalidParameter)
        return ClientOp(op, request_id, "candles", symbol=symbol, interval=interval, echo=echo)
    if channel == "indicators":
        symbol = _text(message, "symbol", InvalidSymbol)
        interval = _text(message, "interval", InvalidParameter)
        indicators = _text(message, "indicators", InvalidParameter)
        return ClientOp(op, request_id, "indicators", symbol=symbol, interval=interval, indicators=indicators,
                        echo=echo)  # fmt: skip
    if channel == "prices":
        return ClientOp(op, request_id, "prices", symbols=_symbols(message.get("symbols")), echo=echo)
    return ClientOp("ping", request_id)


def _text(message: dict[str, Any], name: str, error: type[InvalidInput]) -> str | None:
    value = message.get(name)
    if value is not None and not isinstance(value, str):
        raise error(f"{name} must be a string", field=name)
    return value


def _symbols(value: object) -> tuple[str, ...] | None:
    """A list of symbols; None (absent) means every supported symbol."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidSymbol("symbols must be a list of strings, e.g. [\"BTC\",\"ETH\"]", field="symbols")
    if not value:  # an empty list is a mistake, not "everything": leave symbols out for that
        raise InvalidParameter(
            "symbols is empty: list one symbol at least, or leave it out for every symbol", field="symbols"
        )
    if any(not item.strip() or "," in item for item in value):
        raise InvalidSymbol("each entry of symbols is one symbol: not empty, no commas", field="symbols")
    return tuple(value)
