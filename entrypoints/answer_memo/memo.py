"""``AnswerMemo``: an edge's encoded answers, kept by what was served."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from application.served import Served
from entrypoints.answer_memo.answer_key import answer_key
from entrypoints.answer_memo.byte_bounded_lru import ByteBoundedLru, Parts

Body = TypeVar("Body")
Body_contra = TypeVar("Body_contra", contravariant=True)
T = TypeVar("T")


class AnswerEncoding(Protocol[Body_contra]):
    """How one edge encodes its answers: once without the timestamp, then stamped per request."""

    def encode(self, body: Body_contra) -> Parts:
        """``body`` encoded, its timestamp left out: the two pieces a fresh one goes with."""
        ...

    def stamped(self, parts: Parts, timestamp_ms: int) -> bytes:
        """The whole answer: ``parts`` with ``timestamp_ms`` (epoch milliseconds) put in."""
        ...


class AnswerMemo(Generic[Body]):
    """Encoded answers kept by :func:`answer_key` of what was served, least recently used out.

    ``present`` turns a served value into the edge's body (a JSON object, a protobuf message)
    and is called only when nothing is kept for that served value; it gets the served value
    alone, so the answer cannot depend on anything its key leaves out.
    """

    def __init__(self, encoding: AnswerEncoding[Body], max_bytes: int) -> None:
        self._encoding = encoding
        self._kept = ByteBoundedLru(max_bytes)

    def answer(self, served: Served[T], present: Callable[[Served[T]], Body]) -> bytes:
        """The encoded answer to ``served``, stamped with the current time."""
        key = answer_key(served)
        parts = self._kept.get(key)
        if parts is None:
            parts = self._encoding.encode(present(served))
            if served.request is not None:  # an answer that does not say what was asked is never kept
                self._kept.put(key, parts)
        return self._encoding.stamped(parts, int(time.time() * 1000))

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._kept.size

