"""A grpc.aio load client, run as its own process: ``--concurrency`` unary calls in flight
on one channel for ``--duration`` seconds. Requests go out as pre-serialized bytes and
answers are not parsed, so the client spends as little as it can per call.

    python -m tests.benchmarks.grpc_load load --target HOST:PORT --method /pkg.Svc/Rpc \
        --request HEX --duration S --concurrency N
    python -m tests.benchmarks.grpc_load capture --target HOST:PORT --call METHOD HEX FILE [--call ...]

``capture`` makes each call twice (the first may fill the cache) and writes the second,
cached, serialized answer to FILE (for the bare server).
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import grpc

from tests.benchmarks.latency import Histogram
from tests.benchmarks.processes import cpu_seconds


def _raw(payload: bytes) -> bytes:
    return payload


async def load(
    target: str, method: str, request: bytes, duration: float, concurrency: int, watch: list[int]
) -> dict[str, object]:
    """Calls back to back from ``concurrency`` tasks; latency per call. ``watch``: server pids
    whose CPU use over exactly that time is reported."""
    histogram = Histogram()
    codes: dict[str, int] = {}
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(method, request_serializer=_raw, response_deserializer=_raw)
        await asyncio.wait_for(channel.channel_ready(), 10)

        async def caller(deadline: float) -> None:
            while (started := time.perf_counter()) < deadline:
                try:
                    await call(request, timeout=30)
                    code = "OK"
                except grpc.aio.AioRpcError as error:
                    code = error.code().name
                histogram.add(time.perf_counter() - started)
                codes[code] = codes.get(code, 0) + 1

        cpu_before, began = cpu_seconds(watch), time.perf_counter()
        await asyncio.gather(*(caller(began + duration) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        watched = (cpu_seconds(watch) - cpu_before) / elapsed if watch else None
    errors = sum(count for code, count in codes.items() if code != "OK")
    return {
        "requests": histogram.count,
        "elapsed": elapsed,
        "errors": errors,
        "statuses": codes,
        "histogram": histogram.to_json(),
        "watched_cpu": watched,
    }


async def capture(target: str, calls: list[tuple[str, bytes, Path]]) -> dict[str, object]:
    """Each call twice; the second serialized answer goes to its file."""
    sizes = {}
    async with grpc.aio.insecure_channel(target) as channel:
        for method, request, out in calls:
            call = channel.unary_unary(method, request_serializer=_raw, response_deserializer=_raw)
            await call(request, timeout=30)
            answer = await call(request, timeout=30)
            out.write_bytes(answer)
            sizes[method] = len(answer)
    return {"bytes": sizes}


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.grpc_load", description=__doc__)
    modes = parser.add_subparsers(dest="mode", required=True)
    steady = modes.add_parser("load")
    steady.add_argument("--target", required=True)
    steady.add_argument("--method", required=True)
    steady.add_argument("--request", required=True, help="the serialized request, hex")
    steady.add_argument("--duration", type=float, required=True)
    steady.add_argument("--concurrency", type=int, required=True)
    steady.add_argument("--watch", default="", help="comma-separated server pids to report the CPU use of")
    grab = modes.add_parser("capture")
    grab.add_argument("--target", required=True)
    grab.add_argument("--call", nargs=3, action="append", required=True, metavar=("METHOD", "HEX", "FILE"))
    arguments = parser.parse_args()
    if arguments.mode == "load":
        request = bytes.fromhex(arguments.request)
        result = asyncio.run(
            load(
                arguments.target,
                arguments.method,
                request,
                arguments.duration,
                arguments.concurrency,
                [int(pid) for pid in arguments.watch.split(",") if pid],
            )
        )
    else:
        calls = [(method, bytes.fromhex(raw), Path(file)) for method, raw, file in arguments.call]
        result = asyncio.run(capture(arguments.target, calls))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
