"""Serialized answers, kept by what they were built from, for the unary market-data calls.

Building 200 candle messages costs more than the rest of a cached call; a kept answer is
serialized once without its ``timestamp`` and each call appends the field: protobuf parses
fields in any order, so the client reads the same message with a fresh timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

import grpc
from google.protobuf.message import Message

from entrypoints.kept_parts import KeptParts
from protos.cryptodata.v1 import market_data_pb2 as pb

_BYTES_DEFAULT = 4 * 1024 * 1024


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


class EncodedAnswers:
    """Serialized answers without their ``timestamp`` field, kept by key (least recently used out)."""

    def __init__(self, max_bytes: int = _BYTES_DEFAULT) -> None:
        self._answers = KeptParts(max_bytes)

    def answer(self, key: Hashable, build: Callable[[], Message]) -> bytes:
        """The serialized answer for ``key`` with the current time; ``build`` makes it once."""
        kept = self._answers.get(key)
        if kept is None:
            message = build()
            number = message.DESCRIPTOR.fields_by_name["timestamp"].number
            message.ClearField("timestamp")
            kept = (message.SerializeToString(), _varint(number << 3))  # wire type 0: varint
            self._answers.put(key, kept)
        body, tag = kept
        return body + tag + _varint(int(time.time() * 1000))

    def __len__(self) -> int:
        return len(self._answers)


def serialize(answer: Any) -> bytes:
    """The response serializer of every MarketData method: messages, or answers already encoded."""
    return answer if isinstance(answer, bytes) else answer.SerializeToString()


def add_market_data(servicer: Any, server: grpc.aio.Server) -> None:
    """Register ``servicer`` like the generated ``add_MarketDataServicer_to_server``, with a
    serializer that also accepts the encoded answers of :class:`EncodedAnswers`."""
    service = pb.DESCRIPTOR.services_by_name["MarketData"]
    handlers = {}
    for method in service.methods:
        request = getattr(pb, method.input_type.name)
        make = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = make(
            getattr(servicer, method.name),
            request_deserializer=request.FromString,
            response_serializer=serialize,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)
