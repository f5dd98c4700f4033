"""A Python HTTP/1.1 load generator, run as its own process (the fallback when wrk is missing,
and the client of the cold burst).

Plain asyncio streams over keep-alive connections rather than an HTTP client library: the
less the client costs per request, the later it becomes the bottleneck.

    python -m tests.benchmarks.http_load load  --url URL --duration S --connections C
    python -m tests.benchmarks.http_load burst --url URL --requests N

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

from tests.benchmarks.latency import Histogram
from tests.benchmarks.processes import cpu_seconds


class Target:
    """Where to connect and the request bytes to send."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"only http:// URLs: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: cde-bench\r\nAccept: */*\r\n\r\n"
        ).encode()


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked body); returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        await reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _connect(target: Target, attempts: int = 50) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    for attempt in range(attempts):
        try:
            return await asyncio.open_connection(target.host, target.port)
        except OSError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.05)
    raise AssertionError("unreachable")


async def load(target: Target, duration: float, connections: int, watch: list[int]) -> dict[str, object]:
    """``connections`` keep-alive connections sending back to back for ``duration`` seconds;
    ``watch``: server pids whose CPU use over exactly that time is reported."""
    histogram = Histogram()
    statuses: dict[str, int] = {}
    errors = 0

    async def connection(deadline: float) -> None:
        nonlocal errors
        reader, writer = await _connect(target)
        try:
            while (started := time.perf_counter()) < deadline:
                try:
                    writer.write(target.request)
                    status = await read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await _connect(target)
                    continue
                histogram.add(time.perf_counter() - started)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        finally:
            writer.close()

    cpu_before, began = cpu_seconds(watch), time.perf_counter()
    await asyncio.gather(*(connection(began + duration) for _ in range(connections)))
    elapsed = time.perf_counter() - began
    watched = (cpu_seconds(watch) - cpu_before) / elapsed if watch else None
    return {
        "requests": histogram.count,
        "elapsed": elapsed,
        "errors": errors,
        "statuses": statuses,
        "histogram": histogram.to_json(),
        "watched_cpu": watched,
    }


async def burst(target: Target, requests: int) -> dict[str, object]:
    """Open ``requests`` connections first, then send one request on each at the same moment."""
    gate = asyncio.Semaphore(64)  # below the server's listen backlog: every connection accepted

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with gate:
            return await _connect(target)

    opened = await asyncio.gather(*(connect() for _ in range(requests)))
    go = asyncio.Event()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal errors
        await go.wait()
        started = time.perf_counter()
        try:
            writer.write(target.request)
            status = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            return
        finally:
            writer.close()
        latencies.append(time.perf_counter() - started)
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    tasks = [asyncio.create_task(one(reader, writer)) for reader, writer in opened]
    await asyncio.sleep(0)  # every task is waiting on the event
    began = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    return {
        "requests": len(latencies),
        "elapsed": time.perf_counter() - began,
        "errors": errors,
        "statuses": statuses,
        "latencies": latencies,
    }


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.http_load", description=__doc__)
    modes = parser.add_subparsers(dest="mode", required=True)
    steady = modes.add_parser("load")
    steady.add_argument("--url", required=True)
    steady.add_argument("--duration", type=float, required=True)
    steady.add_argument("--connections", type=int, required=True)
    steady.add_argument("--watch", default="", help="comma-separated server pids to report the CPU use of")
    once = modes.add_parser("burst")
    once.add_argument("--url", required=True)
    once.add_argument("--requests", type=int, required=True)
    arguments = parser.parse_args()
    target = Target(arguments.url)
    if arguments.mode == "load":
        watch = [int(pid) for pid in arguments.watch.split(",") if pid]
        result = asyncio.run(load(target, arguments.duration, arguments.connections, watch))
    else:
        result = asyncio.run(burst(target, arguments.requests))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
