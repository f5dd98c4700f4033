"""The gRPC answer memo: serialized answers kept per served answer, a fresh timestamp appended."""

from __future__ import annotations

import time
from collections.abc import Hashable

from google.protobuf.message import Message

from application.served import Served
from entrypoints.answer_memo.memo import AnswerMemo
from entrypoints.answer_memo.protobuf_answer import GRPC_BYTES, ProtobufAnswer
from protos.cryptodata.v1 import market_data_pb2 as pb


def _answer(n: int) -> pb.GetOhlcvResponse:
    candles = [pb.Candle(timestamp=1_700_000_000_000 + i, open=1.5, high=2.0, low=1.0, close=1.75, volume=9.0)
               for i in range(n)]  # fmt: skip
    return pb.GetOhlcvResponse(candles=candles, symbol="BTCUSDT", interval="1h", source="binance",
                               stale=False, timestamp=123)  # fmt: skip


def _served(request: Hashable) -> Served[str]:
    return Served("value", stale=False, fetched_at=1_700_000_000.0, request=request)


def _memo(max_bytes: int = GRPC_BYTES) -> AnswerMemo[Message]:
    return AnswerMemo(ProtobufAnswer(), max_bytes)


def test_a_kept_answer_parses_as_the_built_message_with_a_fresh_timestamp() -> None:
    answers = _memo()
    builds = []

    def build(served: Served[str]) -> pb.GetOhlcvResponse:
        builds.append(1)
        return _answer(3)

    before = int(time.time() * 1000)
    first = pb.GetOhlcvResponse.FromString(answers.answer(_served("k"), build))
    second = pb.GetOhlcvResponse.FromString(answers.answer(_served("k"), build))
    after = int(time.time() * 1000)

    assert len(builds) == 1
    for parsed in (first, second):
        assert before <= parsed.timestamp <= after
        expected = _answer(3)
        expected.timestamp = parsed.timestamp
        assert parsed == expected


def test_each_key_is_built_once_and_the_memo_is_bounded() -> None:
    size = len(_answer(40).SerializeToString())
    answers = _memo(max_bytes=int(size * 2.5))
    for key in ("a", "b", "c"):
        answers.answer(_served(key), lambda served: _answer(40))
    assert len(answers) == 2
    rebuilt = []
    answers.answer(_served("a"), lambda served: rebuilt.append("a") or _answer(40))
    assert rebuilt == ["a"]  # the oldest went first
