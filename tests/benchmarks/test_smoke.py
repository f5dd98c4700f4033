"""Smoke run of the benchmark suite with tiny durations, so it cannot rot.

Asserts only that every benchmark produced its rows and the files were written, and that no
process outlived the run. Never a timing: targets are read from the suite's output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.benchmarks import BENCHMARKS
from tests.benchmarks.processes import REPO_ROOT, alive


def test_every_benchmark_produces_its_rows_and_the_results_are_written(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tests.benchmarks", "--smoke", "--out", str(tmp_path)]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        # the suite's children die with it (PR_SET_PDEATHSIG)
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(
            f"the smoke run did not finish in 300 s:\n{output.decode(errors='replace')}"
        ) from None
    log = output.decode(errors="replace")

    assert process.returncode == 0, log
    assert (tmp_path / "results.md").is_file(), log
    results = json.loads((tmp_path / "results.json").read_text())
    rows = results["rows"]
    assert {row["benchmark"] for row in rows} == set(BENCHMARKS), log
    assert not [row for row in rows if row["status"] == "failed"], log
    markdown = (tmp_path / "results.md").read_text()
    assert results["machine_label"] in markdown
    assert all(row["figure"] in markdown for row in rows)

    assert results["config"]["leftover_pids"] == []
    assert results["config"]["spawned_pids"], "the suite recorded no process"
    assert not [pid for pid in results["config"]["spawned_pids"] if alive(pid)]
