"""SIGTERM to a real ``serve`` process: every in-flight client gets an answer, and the process
tree is gone within SHUTDOWN_GRACE + 1 s (../shared/API.md, "Connections and shutdown").

The upstream simulator's ``slow`` fault holds some calls far past the grace (they are cut: a
503 envelope, or UNAVAILABLE over gRPC) and lets others finish during the drain (200 / OK).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.e2e.served_process import ServedProcess, alive, until
from tests.e2e.test_grpc_serve import REPO_ROOT
from tests.redis_server import free_port

GRACE = 2.0
CUT_AFTER = 1.5  # GRACE less the documented half-second margin: in-flight calls are cut here
EXIT_WITHIN = GRACE + 1  # the contract
SETTINGS = {"SHUTDOWN_GRACE": str(GRACE), "REQUEST_TIMEOUT": "60"}
NEVER_IN_TIME = 30.0  # an upstream delay far past the grace
IN_TIME = 1.0  # an upstream delay that ends during the drain, well before the cut
ADMIN = "shutdown-test-admin-token"


class Answer:
    """What an HTTP client got, and when (seconds after SIGTERM)."""

    def __init__(self, status: int, headers: Any, body: dict[str, Any], at: float) -> None:
        self.status, self.headers, self.body, self.at = status, headers, body, at


async def _get(http: aiohttp.ClientSession, url: str, request_id: str, served: ServedProcess) -> Answer:
    async with http.get(url, headers={"X-Request-ID": request_id}) as response:
        body = await response.json()  # a complete answer, or this raises
        return Answer(response.status, response.headers, body, served.since_signal())


def _assert_cut(answer: Answer, request_id: str) -> None:
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.headers["X-Request-ID"] == request_id
    assert answer.headers["Connection"] == "close"
    assert answer.body["success"] is False
    assert answer.body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert answer.body["error"]["details"] == {"reason": "shutting_down"}
    assert answer.body["error"]["retryAfter"] == 1
    assert answer.at >= CUT_AFTER  # the drain let it run until the grace was nearly spent


def _slow_upstreams(simulator: UpstreamSimulator) -> None:
    simulator.set_fault("binance", "slow", path="/api/v3/klines", delay=NEVER_IN_TIME)  # ohlcv
    simulator.set_fault("alternative_me", "slow", delay=IN_TIME)  # sentiment


async def test_sigterm_answers_in_flight_rest_requests_and_exits_within_the_grace(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    _slow_upstreams(simulator)
    served = await ServedProcess.start(simulator, tmp_path, "--rest-only", "--port", "0", **SETTINGS)
    try:
        port = await served.port("rest listening")
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            cut = {
                f"cut-{interval}": asyncio.create_task(
                    _get(http, f"{base}/api/ohlcv?symbol=BTC&interval={interval}", f"cut-{interval}", served)
                )
                for interval in ("1m", "5m", "1h")
            }
            finishing = asyncio.create_task(_get(http, f"{base}/api/sentiment", "finishing", served))
            await until(lambda: simulator.calls("binance") == 3 and simulator.calls("alternative_me") == 1)
            served.terminate()

            done = await finishing
            # Draining: in-flight requests still run, but no new connection is accepted.
            with pytest.raises(aiohttp.ClientConnectorError):
                await http.get(f"{base}/api/health")
            answers = {request_id: await task for request_id, task in cut.items()}
            code, exited_after = await served.exit()
    finally:
        await served.kill()

    assert done.status == 200
    assert done.at < CUT_AFTER
    for request_id, answer in answers.items():
        _assert_cut(answer, request_id)
    assert exited_after <= EXIT_WITHIN
    assert code == 0
    # The access log says what each client really got.
    logged = served.access_statuses("request")
    assert {request_id: logged[request_id] for request_id in [*answers, "finishing"]} == {
        "cut-1m": 503, "cut-5m": 503, "cut-1h": 503, "finishing": 200,
    }  # fmt: skip


async def test_sigterm_ends_grpc_calls_and_streams_and_exits_within_the_grace(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    _slow_upstreams(simulator)
    served = await ServedProcess.start(
        simulator, tmp_path, "--port", "0", "--grpc-port", "0", ADMIN_TOKEN=ADMIN, **SETTINGS
    )
    try:
        port = await served.port("grpc listening")
        rest = f"http://127.0.0.1:{await served.port('rest listening')}"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel, aiohttp.ClientSession() as http:
            stub = pb_grpc.MarketDataStub(channel)
            # A stream that has its board and waits for the next update ...
            idle_stream = stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
            await idle_stream.read()
            # ... one whose update is stuck upstream, and a health watch.
            simulator.set_fault("coingecko", "slow", delay=NEVER_IN_TIME)
            cleared = await http.post(f"{rest}/api/cache/clear", headers={"Authorization": f"Bearer {ADMIN}"})
            assert cleared.status == 200  # the board is fetched again, slowly
            busy_stream = stub.StreamPrices(pb.StreamPricesRequest(symbols=["ETH"]))
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
            cut = stub.GetOhlcv(
                pb.GetOhlcvRequest(symbol="BTC", interval="1h"), metadata=(("x-request-id", "cut"),)
            )
            finishing = stub.GetSentiment(pb.GetSentimentRequest(), metadata=(("x-request-id", "finishing"),))
            await until(lambda: simulator.calls("binance", "/api/v3/klines") == 1
                        and simulator.calls("alternative_me") == 1
                        and simulator.calls("coingecko") == 2)  # fmt: skip
            served.terminate()

            streams_ended = []
            for stream in (idle_stream, busy_stream):
                streams_ended.append((await stream.code(), served.since_signal()))
            watched = []
            while (message := await watch.read()) is not grpc.aio.EOF:
                watched.append(message.status)
            watch_ended = (await watch.code(), served.since_signal())
            await finishing
            finishing_code = await finishing.code()
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await cut
            cut_at = served.since_signal()
            code, exited_after = await served.exit()
    finally:
        await served.kill()

    # Streams end cleanly at once: they do not hold the shutdown until the grace is spent.
    assert [status for status, _ in streams_ended] == [grpc.StatusCode.OK, grpc.StatusCode.OK]
    assert all(at < CUT_AFTER for _, at in streams_ended)
    assert watched == [health_pb2.HealthCheckResponse.NOT_SERVING]
    assert watch_ended[0] == grpc.StatusCode.OK and watch_ended[1] < CUT_AFTER
    assert finishing_code == grpc.StatusCode.OK
    error = failed.value
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    trailers = dict(error.trailing_metadata() or ())
    assert (trailers["error-code"], trailers["retry-after"], trailers["x-request-id"]) == (
        "SERVICE_UNAVAILABLE", "1", "cut",
    )  # fmt: skip
    assert cut_at >= CUT_AFTER
    assert exited_after <= EXIT_WITHIN
    assert code == 0
    logged = served.access_statuses("rpc")
    assert (logged["cut"], logged["finishing"]) == ("UNAVAILABLE", "OK")


async def test_sigterm_to_the_workers_supervisor_answers_everyone_and_the_tree_exits_within_the_grace(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    _slow_upstreams(simulator)
    port = free_port()
    served = await ServedProcess.start(
        simulator, tmp_path, "--workers", "2", "--rest-only", "--port", str(port), **SETTINGS
    )
    base = f"http://127.0.0.1:{port}"
    intervals = ("1m", "5m", "15m", "1h", "4h", "1d")
    try:
        async with asyncio.timeout(60):
            pids = await _both_worker_pids(base)
        # One connection per request: the kernel spreads them over both workers.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            cut = {
                f"cut-{interval}": asyncio.create_task(
                    _get(http, f"{base}/api/ohlcv?symbol=BTC&interval={interval}", f"cut-{interval}", served)
                )
                for interval in intervals
            }
            await until(lambda: simulator.calls("binance", "/api/v3/klines") == len(intervals))
            served.terminate()
            answers = {request_id: await task for request_id, task in cut.items()}
            code, exited_after = await served.exit()
        still_running = {pid for pid in pids if alive(pid)}
    finally:
        await served.kill()

    for request_id, answer in answers.items():
        _assert_cut(answer, request_id)
    assert exited_after <= EXIT_WITHIN
    assert still_running == set()
    assert code == 0
    logged = served.access_statuses("request")
    assert {logged[request_id] for request_id in answers} == {503}


async def _both_worker_pids(base: str) -> set[int]:
    pids: set[int] = set()
    while len(pids) < 2:
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
                for _ in range(20):
                    async with http.get(f"{base}/api/health") as response:
                        pids.add((await response.json())["pid"])
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.2)
    return pids


STUCK = """
import asyncio, time
from entrypoints.log import configure_logging
from entrypoints.shutdown import ShutdownCoordinator

async def main():
    configure_logging("INFO", "json")
    ShutdownCoordinator(0.2, hard_stop=True).begin()
    time.sleep(30)  # the loop is blocked: nothing of the graceful shutdown can run

asyncio.run(main())
"""


async def test_a_process_whose_shutdown_is_stuck_ends_itself_past_the_grace(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STUCK, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 1
    assert b"shutdown overran SHUTDOWN_GRACE: exiting now" in stderr


async def test_the_watchdog_ends_a_process_blocked_writing_to_a_full_stderr(tmp_path: Path) -> None:
    """The last resort must not need the stderr stream: here the main thread is stuck writing
    to a pipe nobody reads (holding the stream's lock), and the process still ends on time."""
    script = tmp_path / "blocked.py"
    script.write_text(
        "import asyncio, sys\n"
        "from entrypoints.log import configure_logging\n"
        "from entrypoints.shutdown import ShutdownCoordinator\n"
        "async def main():\n"
        "    configure_logging('INFO', 'json')\n"  # the service's log lines go to stderr
        "    ShutdownCoordinator(0.2, hard_stop=True).begin()\n"
        "    while True:\n"
        "        sys.stderr.write('x' * 65536)\n"  # blocks once the pipe is full: nobody reads it
        "asyncio.run(main())\n"
    )
    unread, stderr = os.pipe()  # a plain pipe this test never reads: it fills at 64 KB
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(script), cwd=REPO_ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=stderr
        )
        os.close(stderr)
        try:
            code = await asyncio.wait_for(process.wait(), 10)  # due at 0.2 + 0.5 s
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    finally:
        os.close(unread)
    assert code == 1
