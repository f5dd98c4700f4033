"""RenderedBodies: encoded bodies kept by key, a fresh timestamp spliced into each response."""

from __future__ import annotations

import time

import orjson

from entrypoints.rest.rendered import RenderedBodies


def _body(n: int) -> dict:
    return {"success": True, "timestamp": 1, "stale": False,
            "data": [{"timestamp": i, "close": i * 1.5} for i in range(n)], "source": "binance"}  # fmt: skip


def test_a_remembered_body_is_the_rendered_one_with_a_fresh_timestamp() -> None:
    bodies = RenderedBodies()
    renders = []

    def render() -> dict:
        renders.append(1)
        return _body(3)

    before = int(time.time() * 1000)
    first = orjson.loads(bodies.response("k", render).body)
    second = orjson.loads(bodies.response("k", render).body)
    after = int(time.time() * 1000)

    assert len(renders) == 1
    expected = _body(3)
    for answer in (first, second):
        assert before <= answer.pop("timestamp") <= after
        expected.pop("timestamp", None)
        assert answer == expected
    assert list(orjson.loads(bodies.response("k", render).body))[:2] == ["success", "timestamp"]


def test_another_key_renders_again() -> None:
    bodies = RenderedBodies()
    a = orjson.loads(bodies.response(("ohlcv", 1.0), lambda: _body(1)).body)
    b = orjson.loads(bodies.response(("ohlcv", 2.0), lambda: _body(2)).body)
    assert len(a["data"]) == 1 and len(b["data"]) == 2
    assert len(bodies) == 2


def test_the_least_recently_used_bodies_go_first_when_over_budget() -> None:
    size = len(orjson.dumps(_body(50)))
    bodies = RenderedBodies(max_bytes=int(size * 2.5))
    bodies.response("a", lambda: _body(50))
    bodies.response("b", lambda: _body(50))
    bodies.response("a", lambda: _body(50))  # a is now the most recent
    bodies.response("c", lambda: _body(50))
    assert len(bodies) == 2
    assert bodies.size <= size * 2.5
    renders = []
    bodies.response("a", lambda: renders.append("a") or _body(50))
    bodies.response("b", lambda: renders.append("b") or _body(50))
    assert renders == ["b"]  # a was kept, b evicted


def test_a_body_over_the_whole_budget_is_served_but_not_kept() -> None:
    bodies = RenderedBodies(max_bytes=100)
    answer = orjson.loads(bodies.response("big", lambda: _body(50)).body)
    assert len(answer["data"]) == 50
    assert len(bodies) == 0 and bodies.size == 0
