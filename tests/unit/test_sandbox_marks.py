"""The REST sandbox marks: spliced into a JSON object, never decoded and encoded again."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from entrypoints.rest.sandbox import marked

BODIES: list[dict[str, Any]] = [
    {"success": True, "data": [{"timestamp": 1, "close": 1.5}], "timestamp": 2, "stale": False},
    {"success": False, "error": {"code": "NOT_FOUND", "message": "no such route"}, "timestamp": 3},
    {"status": "healthy", "providers": [], "cache": {"backend": "memory"}, "timestamp": 4},
    {},
]


def _decoded_and_encoded_again(body: dict[str, Any], health: bool) -> bytes:
    """What marking cost before: the object decoded, the marks added, encoded again."""
    value = dict(body, sandbox=True)
    if health:
        value["mode"] = "sandbox"
    return orjson.dumps(value)


@pytest.mark.parametrize("health", [False, True], ids=["data", "health"])
@pytest.mark.parametrize("body", BODIES, ids=["data", "error", "health", "empty"])
def test_the_marks_are_the_same_bytes_as_adding_them(body: dict[str, Any], health: bool) -> None:
    assert marked(orjson.dumps(body), health=health) == _decoded_and_encoded_again(body, health)


@pytest.mark.parametrize("health", [False, True], ids=["data", "health"])
def test_marking_twice_marks_once(health: bool) -> None:
    once = marked(orjson.dumps(BODIES[0]), health=health)
    assert marked(once, health=health) is once


@pytest.mark.parametrize("body", [b"[1,2]", b'"text"', b"42", b"", b"null"])
def test_what_is_not_a_json_object_is_left_alone(body: bytes) -> None:
    assert marked(body) is body
