"""The results: one row per figure, written as a markdown table and as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks.machine import label


@dataclass
class Row:
    """One figure of one benchmark, next to the baseline it was measured against.

    ``ratio`` is measured / baseline (or the count itself for counting benchmarks);
    ``met`` is None when the target could not be judged (e.g. the benchmark failed).
    """

    benchmark: str  # the benchmark's name, as --only takes it
    figure: str  # what this row measures
    measured: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    status: str = "ok"  # ok, skipped or failed
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """Everything one run produced."""

    machine: dict[str, Any]
    config: dict[str, Any]
    settings: dict[str, dict[str, str]]  # setting -> {"value", "why"}
    rows: list[Row] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # benchmark -> how to read it
    started: str = ""
    finished: str = ""
    wall_seconds: float = 0.0

    def add(self, row: Row) -> Row:
        """Append ``row``."""
        self.rows.append(row)
        return row

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "machine": self.machine,
            "machine_label": label(self.machine),
            "config": self.config,
            "settings_changed": self.settings,
            "started": self.started,
            "finished": self.finished,
            "wall_seconds": round(self.wall_seconds, 1),
            "rows": [asdict(row) for row in self.rows],
            "notes": self.notes,
        }

    def markdown(self) -> str:
        """The results table with the machine label, settings and reading notes."""
        command = self.config.get("command", "")
        load_start, load_end = (
            self.machine.get("load_average_at_start"),
            self.machine.get("load_average_at_end"),
        )
        lines = [
            "# Benchmark results",
            "",
            f"Machine: **{label(self.machine)}**  ",
            f"Run: {self.started} → {self.finished} ({self.wall_seconds:.0f} s), `{command}`  ",
            f"Code: {self.config.get('code', 'unknown')}  ",
            f"Load average at start / end: {load_start} / {load_end}",
            "",
            _READING,
            "",
            "| # | benchmark | figure | measured | side-by-side baseline | ratio | target | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for number, row in enumerate(self.rows, 1):
            ratio = "" if row.ratio is None else f"{row.ratio:.2f}"
            met = {True: "yes", False: "**no**", None: "–"}[row.met]
            measured = row.measured if row.status == "ok" else f"{row.status}: {row.measured}"
            lines.append(
                f"| {number} | {row.benchmark} | {row.figure} | {_cell(measured)} | {_cell(row.baseline)} "
                f"| {ratio} | {_cell(row.target)} | {met} |"
            )
        row_notes = [(n, r) for n, r in enumerate(self.rows, 1) if r.note]
        if row_notes:
            lines += ["", "Row notes:", ""]
            lines += [f"- row {n} ({r.benchmark}): {r.note}" for n, r in row_notes]
        if self.notes:
            lines += ["", "## How each benchmark is measured", ""]
            lines += [f"- **{name}**: {text}" for name, text in self.notes.items()]
        lines += [
            "",
            "## Settings changed from the defaults (every service process)",
            "",
            "| setting | value | why |",
            "|---|---|---|",
        ]
        lines += [f"| {name} | `{spec['value']}` | {spec['why']} |" for name, spec in self.settings.items()]
        config = {key: value for key, value in self.config.items() if key != "spawned_pids"}
        lines += ["", "## Run configuration", "", "```json", json.dumps(config, indent=2), "```", ""]
        return "\n".join(lines)

    def write(self, directory: Path, stem: str = "results") -> tuple[Path, Path]:
        """``<stem>.md`` and ``<stem>.json`` in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        markdown, data = directory / f"{stem}.md", directory / f"{stem}.json"
        markdown.write_text(self.markdown())
        data.write_text(json.dumps(self.as_dict(), indent=2) + "\n")
        return markdown, data


_READING = (
    "Every ratio compares two figures measured side by side in this run, on this machine (loopback, "
    "upstream simulator); absolute numbers do not carry over to other machines. Targets are read here, "
    "never asserted in tests."
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
