"""The REST answer memo: encoded bodies kept per served answer, a fresh timestamp spliced into each."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

import orjson

from application.served import Served
from entrypoints.answer_memo.json_body import REST_BYTES, JsonBody
from entrypoints.answer_memo.memo import AnswerMemo


def _body(n: int) -> dict:
    return {"success": True, "timestamp": 1, "stale": False,
            "data": [{"timestamp": i, "close": i * 1.5} for i in range(n)], "source": "binance"}  # fmt: skip


def _served(request: Hashable) -> Served[str]:
    return Served("value", stale=False, fetched_at=1_700_000_000.0, request=request)


def _memo(max_bytes: int = REST_BYTES) -> AnswerMemo[dict[str, Any]]:
    return AnswerMemo(JsonBody(), max_bytes)


def _present(render: Callable[[], dict]) -> Callable[[Served[str]], dict]:
    return lambda served: render()


def test_a_remembered_body_is_the_rendered_one_with_a_fresh_timestamp() -> None:
    bodies = _memo()
    renders = []

    def render() -> dict:
        renders.append(1)
        return _body(3)

    before = int(time.time() * 1000)
    first = orjson.loads(bodies.answer(_served("k"), _present(render)))
    second = orjson.loads(bodies.answer(_served("k"), _present(render)))
    after = int(time.time() * 1000)

    assert len(renders) == 1
    expected = _body(3)
    for answer in (first, second):
        assert before <= answer.pop("timestamp") <= after
        expected.pop("timestamp", None)
        assert answer == expected
    assert list(orjson.loads(bodies.answer(_served("k"), _present(render))))[:2] == ["success", "timestamp"]


def test_another_key_renders_again() -> None:
    bodies = _memo()
    a = orjson.loads(bodies.answer(_served(("ohlcv", 1.0)), _present(lambda: _body(1))))
    b = orjson.loads(bodies.answer(_served(("ohlcv", 2.0)), _present(lambda: _body(2))))
    assert len(a["data"]) == 1 and len(b["data"]) == 2
    assert len(bodies) == 2


def test_the_least_recently_used_bodies_go_first_when_over_budget() -> None:
    size = len(orjson.dumps(_body(50)))
    bodies = _memo(max_bytes=int(size * 2.5))
    bodies.answer(_served("a"), _present(lambda: _body(50)))
    bodies.answer(_served("b"), _present(lambda: _body(50)))
    bodies.answer(_served("a"), _present(lambda: _body(50)))  # a is now the most recent
    bodies.answer(_served("c"), _present(lambda: _body(50)))
    assert len(bodies) == 2
    assert bodies.size <= size * 2.5
    renders = []
    bodies.answer(_served("a"), _present(lambda: renders.append("a") or _body(50)))
    bodies.answer(_served("b"), _present(lambda: renders.append("b") or _body(50)))
    assert renders == ["b"]  # a was kept, b evicted


def test_a_body_over_the_whole_budget_is_served_but_not_kept() -> None:
    bodies = _memo(max_bytes=100)
    answer = orjson.loads(bodies.answer(_served("big"), _present(lambda: _body(50))))
    assert len(answer["data"]) == 50
    assert len(bodies) == 0 and bodies.size == 0


def test_a_mark_is_applied_once_when_the_body_is_kept() -> None:
    marks = []

    def mark(body: bytes) -> bytes:
        marks.append(body)
        return body[:-1] + b',"sandbox":true}'

    bodies = AnswerMemo(JsonBody(mark=mark), REST_BYTES)
    answers = [orjson.loads(bodies.answer(_served("k"), _present(lambda: _body(2)))) for _ in range(3)]
    assert len(marks) == 1
    assert all(answer["sandbox"] is True and answer["data"] == _body(2)["data"] for answer in answers)
