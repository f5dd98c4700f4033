"""``crypto-data-engine backfill`` as a real child process against the upstream simulator.

The tests that walk ranges need the providers' ``fetch_ohlcv_range`` (issue 15, the adapters'
part, landing in parallel): until the Binance adapter has it they are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.providers.binance import BinanceAdapter
from simulator import UpstreamSimulator
from tests.e2e.test_grpc_serve import _environment

HOUR = 3_600_000
KLINES = "/api/v3/klines"
needs_range_adapters = pytest.mark.skipif(
    not hasattr(BinanceAdapter, "fetch_ohlcv_range"),
    reason="needs BinanceAdapter.fetch_ohlcv_range (issue 15, adapters part): run after it is merged",
)


@dataclass
class Ended:
    code: int
    stdout: str
    stderr: str


def _command() -> list[str]:
    script = Path(sys.executable).with_name("crypto-data-engine")  # the installed console script
    return [str(script)] if script.exists() else [sys.executable, "-m", "entrypoints.cli"]


def _env(simulator: UpstreamSimulator, tmp_path: Path) -> dict[str, str]:
    store = str(tmp_path / "candles.sqlite3")
    return {**_environment(simulator), "CANDLE_STORE_PATH": store, "LOG_LEVEL": "WARNING"}


async def _spawn(simulator: UpstreamSimulator, tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *_command(), "backfill", *args, cwd=tmp_path, env=_env(simulator, tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _run(simulator: UpstreamSimulator, tmp_path: Path, *args: str) -> Ended:
    process = await _spawn(simulator, tmp_path, *args)
    try:
        async with asyncio.timeout(90):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Ended(process.returncode, out.decode(), err.decode())


def _hour_now() -> int:
    import time

    return int(time.time() * 1000) // HOUR * HOUR


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--symbols", "DOGE", "--intervals", "1h", "--since", "2024-01-01"), "error: unknown symbol 'DOGE'"),
        (
            ("--symbols", "BTC", "--intervals", "2h", "--since", "2024-01-01"),
            "error: unsupported interval '2h'",
        ),
        (
            ("--symbols", "BTC", "--intervals", "1h", "--since", "2999-01-01"),
            "error: --since is in the future: '2999-01-01'",
        ),
        (
            ("--symbols", "BTC", "--intervals", "1h", "--since", "2024-02-01", "--until", "2024-01-01"),
            "error: --since must be before --until",
        ),
        (
            ("--symbols", "BTC", "--intervals", "1h", "--since", "2024-01-01", "--budget-share", "0"),
            "error: --budget-share must be in (0, 1], got 0",
        ),
    ],
)
async def test_bad_input_exits_2_with_a_clear_message_and_no_upstream_call(
    simulator: UpstreamSimulator, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    ended = await _run(simulator, tmp_path, *args)
    assert ended.code == 2, ended.stderr
    assert f"crypto-data-engine backfill: {message}" in ended.stderr
    assert ended.stdout == ""
    assert simulator.call_counts() == {name: 0 for name in simulator.call_counts()}


@needs_range_adapters
async def test_it_fills_the_store_and_a_second_run_makes_no_upstream_call(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    until = _hour_now() - 24 * HOUR
    since = until - 2500 * HOUR
    args = ("--symbols", "BTC,ETH", "--intervals", "1h", "--since", str(since), "--until", str(until))

    first = await _run(simulator, tmp_path, *args)
    assert first.code == 0, first.stderr
    assert "candles stored: 5000; gaps found: 0 spans; upstream calls: 6" in first.stdout.splitlines()
    assert "  BTCUSDT 1h: 2500 candles from binance, 0 gaps" in first.stdout.splitlines()
    assert simulator.calls("binance", KLINES) == 6  # 1000 bars a call: 3 per market

    second = await _run(simulator, tmp_path, *args)
    assert second.code == 0, second.stderr
    assert "candles stored: 5000; gaps found: 0 spans; upstream calls: 0" in second.stdout.splitlines()
    assert simulator.calls("binance", KLINES) == 6


@needs_range_adapters
async def test_an_interrupted_backfill_resumed_fetches_nothing_twice(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    until = _hour_now() - 24 * HOUR
    since = until - 25_000 * HOUR  # 3 pages of at most 10000 a market: 25 upstream calls each
    args = ("--symbols", "BTC,ETH", "--intervals", "1h", "--since", str(since), "--until", str(until))
    simulator.set_fault("binance", "slow", path=KLINES, delay=0.1)  # a page takes about a second

    process = await _spawn(simulator, tmp_path, *args)
    try:
        assert process.stderr is not None and process.stdout is not None
        async with asyncio.timeout(90):
            while b"page:" not in (line := await process.stderr.readline()):
                assert line, "the backfill ended before its first page"
            process.send_signal(signal.SIGINT)  # Ctrl-C, by its pid
            out, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 130
    assert "interrupted: run the same command again to resume (what was stored is kept)" in out.decode()
    fetched_first = simulator.calls("binance", KLINES)
    assert 10 <= fetched_first < 50  # the page running when Ctrl-C came was finished, no more

    resumed = await _run(simulator, tmp_path, *args)
    assert resumed.code == 0, resumed.stderr
    lines = resumed.stdout.splitlines()
    assert f"candles stored: 50000; gaps found: 0 spans; upstream calls: {50 - fetched_first}" in lines
    assert simulator.calls("binance", KLINES) == 50  # every candle fetched once over both runs
