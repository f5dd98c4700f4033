"""The gRPC edge's encoding: a serialized message with its ``timestamp`` field appended per call.

A kept answer is serialized once without its ``timestamp`` and each call appends the field:
protobuf parses fields in any order, so the client reads the same message with a fresh
timestamp.
"""

from __future__ import annotations

from google.protobuf.message import Message

from entrypoints.answer_memo.byte_bounded_lru import Parts

#: Building 200 candle messages costs more than the rest of a cached call; 4 MB keeps plenty.
GRPC_BYTES = 4 * 1024 * 1024


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


class ProtobufAnswer:
    """Serializes a message (with an int64 ``timestamp`` field) once, without that field."""

    @staticmethod
    def encode(message: Message) -> Parts:
        """The message serialized without its timestamp, and the timestamp field's tag."""
        number = message.DESCRIPTOR.fields_by_name["timestamp"].number
        message.ClearField("timestamp")
        return message.SerializeToString(), _varint(number << 3)  # wire type 0: varint

    @staticmethod
    def stamped(parts: Parts, timestamp_ms: int) -> bytes:
        """The serialized message with ``timestamp_ms`` as its timestamp."""
        body, tag = parts
        return body + tag + _varint(timestamp_ms)
