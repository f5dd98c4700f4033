"""What a WebSocket client may send, parsed; refusals are the domain's errors with the id."""

from __future__ import annotations

import pytest

from domain.errors import InvalidParameter, InvalidSymbol
from entrypoints.rest.live.client_ops import BadOp, ClientOp, parse_op


def test_a_candles_subscription() -> None:
    op = parse_op('{"op":"subscribe","channel":"candles","symbol":"BTC","interval":"1m","id":7}')
    assert op == ClientOp("subscribe", 7, "candles", symbol="BTC", interval="1m", echo=(
        ("op", "subscribe"), ("channel", "candles"), ("symbol", "BTC"), ("interval", "1m"), ("id", 7)))  # fmt: skip


def test_a_prices_unsubscription_and_a_ping() -> None:
    op = parse_op('{"id":"a","symbols":["BTC","ETH"],"channel":"prices","op":"unsubscribe"}')
    assert (op.op, op.id, op.channel, op.symbols) == ("unsubscribe", "a", "prices", ("BTC", "ETH"))
    assert [name for name, _ in op.echo] == ["op", "channel", "symbols", "id"]  # in a fixed order
    assert parse_op('{"op":"subscribe","channel":"prices"}').symbols is None  # every supported symbol
    assert parse_op('{"op":"ping"}') == ClientOp("ping", None)


@pytest.mark.parametrize(
    ("frame", "error", "field", "request_id"),
    [
        ("{", InvalidParameter, "message", None),
        ('"ping"', InvalidParameter, "message", None),
        ('{"op":"ping","id":true}', InvalidParameter, "id", None),
        ('{"op":"ping","id":' + str(2**60) + "}", InvalidParameter, "id", None),
        ('{"op":"ping","id":"' + "x" * 65 + '"}', InvalidParameter, "id", None),
        ('{"op":"ping","channel":"prices","id":1}', InvalidParameter, "channel", 1),
        ('{"op":5,"id":2}', InvalidParameter, "op", 2),
        ('{"op":"subscribe","id":3}', InvalidParameter, "channel", 3),
        ('{"op":"subscribe","channel":"candles","symbols":["BTC"],"id":4}', InvalidParameter, "symbols", 4),
        ('{"op":"subscribe","channel":"candles","symbol":7}', InvalidSymbol, "symbol", None),
        ('{"op":"subscribe","channel":"candles","symbol":"BTC","interval":60}', InvalidParameter, "interval", None),
        ('{"op":"subscribe","channel":"prices","symbols":["BTC",""]}', InvalidSymbol, "symbols", None),
        ('{"op":"subscribe","channel":"prices","symbols":["BTC,ETH"]}', InvalidSymbol, "symbols", None),
        ('{"op":"subscribe","channel":"prices","symbols":[1]}', InvalidSymbol, "symbols", None),
        ('{"op":"subscribe","channel":"prices","symbols":[],"id":5}', InvalidParameter, "symbols", 5),
    ],
)  # fmt: skip
def test_refusals(frame: str, error: type[Exception], field: str, request_id: object) -> None:
    with pytest.raises(BadOp) as refused:
        parse_op(frame)
    assert type(refused.value.error) is error
    assert refused.value.error.field == field
    assert refused.value.id == request_id


def test_a_refusal_quotes_at_most_64_characters_of_the_input() -> None:
    with pytest.raises(BadOp) as refused:
        parse_op('{"op":"' + "z" * 3000 + '"}')
    assert len(refused.value.error.message) < 150
    with pytest.raises(BadOp) as refused:
        parse_op('{"op":"ping","' + "k" * 3000 + '":1}')
    assert refused.value.error.field == "k" * 64
