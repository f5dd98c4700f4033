"""Live streams ended together when the process drains."""

from __future__ import annotations

import asyncio

from entrypoints.stream_ends import StreamEnds


async def test_the_drain_ends_every_registered_stream_once() -> None:
    draining = asyncio.Event()
    ends = StreamEnds(draining)
    ended: list[str] = []
    for name in ("ws", "sse", "grpc"):
        ends.add(lambda name=name: ended.append(name))
    gone = lambda: ended.append("gone")  # noqa: E731
    ends.add(gone)
    ends.discard(gone)  # ended by itself first
    assert len(ends) == 3 and not ends.draining
    await asyncio.sleep(0.01)
    assert ended == []
    draining.set()
    await asyncio.sleep(0.01)
    assert sorted(ended) == ["grpc", "sse", "ws"]
    assert len(ends) == 0 and ends.draining


async def test_a_stream_registered_after_the_drain_began_ends_at_once() -> None:
    draining = asyncio.Event()
    draining.set()
    ends = StreamEnds(draining)
    ended: list[int] = []
    ends.add(lambda: ended.append(1))
    await asyncio.sleep(0)
    assert ended == [1]


async def test_one_failing_end_does_not_keep_the_others_open() -> None:
    draining = asyncio.Event()
    ends = StreamEnds(draining)
    ended: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    ends.add(broken)
    ends.add(lambda: ended.append("ok"))
    draining.set()
    await asyncio.sleep(0.01)
    assert ended == ["ok"]
    ends.close()
