"""WebSocket clients of ``GET /ws``, run as their own process: the load of the live benchmarks.

    python -m tests.benchmarks.live_load --url ws://127.0.0.1:P/ws --clients N
        --markets BTC:1m,ETH:1m [--duration S] [--watch PIDS]

Opens ``--clients`` connections (client ``i`` subscribes to the candles of market
``i mod len(markets)``, one subscription each), waits until every one has its ``subscribed``
answer and its snapshot, prints one ``{"ready": ...}`` line, then waits for SIGUSR1. From the
signal on it records, for ``--duration`` seconds, the delivery lag of every update: the wall
time the client read the frame minus the frame's ``eventTime`` (the simulator's clock when it
sent the upstream frame, in whole milliseconds). It then prints one JSON object and exits
(the connections go with the process).

One event loop (uvloop when installed) for all the clients of the process; a frame is read
with aiohttp's WebSocket client and only its ``eventTime`` and ``timestamp`` are picked out
(no JSON parse), so the client costs little per frame. Its own CPU use over the window is in
the output: near 100% of a core, the client, not the service, set the lag.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from typing import Any

import aiohttp

from tests.benchmarks.latency import Histogram
from tests.benchmarks.processes import cpu_seconds

_EVENT_TIME = re.compile(r'"eventTime":(\d+)')
_TIMESTAMP = re.compile(r'"timestamp":(\d+)')
_UPDATE = '{"type":"update"'
CONNECTING_AT_ONCE = 50


class Recorder:
    """What the clients of this process saw while measuring."""

    def __init__(self, clients: int) -> None:
        self.measuring = False
        self.lag = Histogram()  # client read time - eventTime
        self.ingest = Histogram()  # the service's timestamp - eventTime (upstream to fan-out)
        self.fanout = Histogram()  # client read time - the service's timestamp (fan-out to client)
        self.updates = [0] * clients
        self.closes: dict[str, int] = {}

    def frame(self, index: int, text: str, read_at: float) -> None:
        """One update frame read by client ``index`` at ``read_at`` (epoch seconds)."""
        if not self.measuring:
            return
        event = _EVENT_TIME.search(text, text.rfind('"eventTime":'))
        if event is None:
            return
        event_time = int(event.group(1)) / 1000
        self.lag.add(read_at - event_time)
        stamp = _TIMESTAMP.search(text, text.rfind('"timestamp":'))
        if stamp is not None:
            made_at = int(stamp.group(1)) / 1000
            self.ingest.add(made_at - event_time)
            self.fanout.add(read_at - made_at)
        self.updates[index] += 1

    def closed(self, code: object) -> None:
        """A connection ended before the end of the run."""
        self.closes[str(code)] = self.closes.get(str(code), 0) + 1


async def _client(
    session: aiohttp.ClientSession,
    url: str,
    index: int,
    subscribe: str,
    recorder: Recorder,
    gate: asyncio.Semaphore,
    ready: asyncio.Event,
    pending: list[int],
) -> None:
    async with gate:
        ws = await session.ws_connect(url, autoping=True, heartbeat=None, max_msg_size=0)
        await ws.send_str(subscribe)
        seen = 0  # subscribed, then the snapshot
        while seen < 2:
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"client {index}: {message.type.name} {ws.close_code} before its snapshot")
            kind = json.loads(message.data)["type"]
            if kind == "error":
                raise RuntimeError(f"client {index}: {message.data}")
            if kind in ("subscribed", "snapshot"):
                seen += 1
    pending[0] -= 1
    if pending[0] == 0:
        ready.set()
    receive, clock, frame, text_kind = ws.receive, time.time, recorder.frame, aiohttp.WSMsgType.TEXT
    while True:
        message = await receive()
        read_at = clock()
        if message.type is text_kind:
            if message.data.startswith(_UPDATE):
                frame(index, message.data, read_at)
        else:
            recorder.closed(ws.close_code)
            return


def _parse_markets(text: str) -> list[tuple[str, str]]:
    markets = []
    for item in text.split(","):
        symbol, _, interval = item.partition(":")
        markets.append((symbol, interval or "1m"))
    return markets


async def run(url: str, clients: int, markets: list[tuple[str, str]], duration: float, watch: list[int]) -> dict[str, Any]:
    """Connect, report ready, wait for SIGUSR1, measure ``duration`` seconds; the results."""
    loop = asyncio.get_running_loop()
    go = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, go.set)
    recorder = Recorder(clients)
    ready = asyncio.Event()
    pending = [clients]
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        for index in range(clients):
            symbol, interval = markets[index % len(markets)]
            subscribe = json.dumps({"op": "subscribe", "channel": "candles", "symbol": symbol,
                                    "interval": interval, "id": index})  # fmt: skip
            tasks.append(asyncio.create_task(_client(session, url, index, subscribe, recorder, gate, ready, pending)))
        waiting = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:  # a client failed (or ended) before every client was ready
            failure = next((task.exception() for task in done if task.exception() is not None), None)
            waiting.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(waiting, *tasks, return_exceptions=True)
            ready_count = clients - pending[0]
            raise RuntimeError(f"{ready_count} of {clients} clients ready, then one ended: {failure!r}")
        connect_seconds = time.monotonic() - started
        print(json.dumps({"ready": clients, "connect_seconds": connect_seconds}), flush=True)
        await go.wait()
        cpu_before, watched_before = time.process_time(), cpu_seconds(watch)
        began = time.monotonic()
        recorder.measuring = True
        await asyncio.sleep(duration)
        recorder.measuring = False
        elapsed = time.monotonic() - began
        own_cpu = (time.process_time() - cpu_before) / elapsed if elapsed > 0 else None
        watched_cpu = (cpu_seconds(watch) - watched_before) / elapsed if watch and elapsed > 0 else None
        failed = [task for task in tasks if task.done() and task.exception() is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": clients,
        "connect_seconds": connect_seconds,
        "elapsed": elapsed,
        "lag": recorder.lag.to_json(),
        "ingest": recorder.ingest.to_json(),
        "fanout": recorder.fanout.to_json(),
        "updates_per_client": recorder.updates,
        "closes": recorder.closes,
        "failed_clients": len(failed),
        "client_cpu": own_cpu,
        "watched_cpu": watched_cpu,
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.live_load", description=__doc__)
    parser.add_argument("--url", required=True, help="ws://HOST:PORT/ws")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--markets", required=True, help="SYMBOL:INTERVAL,... (client i takes market i mod M)")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds measured after SIGUSR1")
    parser.add_argument("--watch", default="", help="pids whose CPU use over the window is reported")
    arguments = parser.parse_args(argv)
    watch = [int(pid) for pid in arguments.watch.split(",") if pid]
    try:
        import uvloop  # noqa: PLC0415 - optional, the service's own event loop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(run(arguments.url, arguments.clients, _parse_markets(arguments.markets),
                        arguments.duration, watch))  # fmt: skip
    print(json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
