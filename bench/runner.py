"""The benchmark runner: a registry of named benchmarks, the results table and the JSON file.

A benchmark is a function ``(context) -> Row | list[Row]`` registered under a name. It measures
its figure *and* the floor that figure is compared with, in the same run on the same machine,
because the machines are shared and noisy: only the ratio is meaningful. A benchmark whose
feature does not exist yet raises :class:`Skip`; the runner prints ``skipped: <reason>``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

RESULTS_DIR = Path(__file__).resolve().parent / "results"

Status = Literal["pass", "miss", "info", "skipped", "error"]


class Skip(Exception):
    """Raised by a benchmark whose feature (module, command, table) does not exist yet."""


@dataclass(frozen=True)
class Goal:
    """What a row is judged against.

    ``ratio_min``/``ratio_max`` compare figure/floor; ``figure_max``/``figure_min`` compare the
    figure itself (in the row's unit). ``strict`` makes the bound exclusive (``<`` not ``≤``).
    """

    kind: Literal["ratio_min", "ratio_max", "figure_max", "figure_min"]
    value: float
    unit: str = ""
    strict: bool = False

    def text(self) -> str:
        if self.kind == "ratio_min":
            return f"{'>' if self.strict else '≥'} {self.value:g}× floor"
        if self.kind == "ratio_max":
            return f"{'<' if self.strict else '≤'} {self.value:g}× floor"
        op = {"figure_max": "<" if self.strict else "≤", "figure_min": ">" if self.strict else "≥"}
        return f"{op[self.kind]} {self.value:g}{(' ' + self.unit) if self.unit else ''}"

    def met(self, figure: float, ratio: float | None) -> bool | None:
        if self.kind.startswith("ratio"):
            if ratio is None:
                return None
            measured = ratio
        else:
            measured = figure
        if self.kind.endswith("min"):
            return measured > self.value if self.strict else measured >= self.value
        return measured < self.value if self.strict else measured <= self.value


def at_least(ratio: float) -> Goal:
    return Goal("ratio_min", ratio)


def at_most(ratio: float) -> Goal:
    return Goal("ratio_max", ratio)


@dataclass
class Row:
    """One line of the table: a figure, its floor (same unit), the ratio and the goal."""

    name: str
    figure: float | None = None
    unit: str = ""
    floor: float | None = None
    goal: Goal | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    status: Status = "info"
    benchmark: str = ""

    @property
    def ratio(self) -> float | None:
        if self.figure is None or self.floor is None or self.floor == 0:
            return None
        return self.figure / self.floor

    def judge(self) -> Row:
        """Set ``status`` from the goal (rows without a goal are informational)."""
        if self.status in ("skipped", "error"):
            return self
        if self.goal is None or self.figure is None:
            self.status = "info"
            return self
        met = self.goal.met(self.figure, self.ratio)
        self.status = "info" if met is None else ("pass" if met else "miss")
        return self

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "name": self.name,
            "figure": _finite(self.figure),
            "floor": _finite(self.floor),
            "unit": self.unit,
            "ratio": _finite(self.ratio),
            "goal": self.goal.text() if self.goal else None,
            "goal_spec": asdict(self.goal) if self.goal else None,
            "status": self.status,
            "note": self.note,
            "details": self.details,
        }


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


BenchFunction = Callable[[Any], "Row | list[Row]"]


@dataclass(frozen=True)
class Benchmark:
    name: str
    function: BenchFunction
    description: str


class Registry:
    """Benchmarks by name, in registration order."""

    def __init__(self) -> None:
        self._benchmarks: dict[str, Benchmark] = {}

    def register(self, name: str) -> Callable[[BenchFunction], BenchFunction]:
        def decorate(function: BenchFunction) -> BenchFunction:
            if name in self._benchmarks:
                raise ValueError(f"benchmark {name!r} registered twice")
            doc = (function.__doc__ or "").strip().splitlines()
            self._benchmarks[name] = Benchmark(name, function, doc[0] if doc else "")
            return function

        return decorate

    def names(self) -> list[str]:
        return list(self._benchmarks)

    def select(self, only: Sequence[str] | None) -> list[Benchmark]:
        """The benchmarks to run: all, or those named (comma-separated names allowed)."""
        if not only:
            return list(self._benchmarks.values())
        wanted = [n.strip() for item in only for n in item.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in self._benchmarks]
        if unknown:
            raise KeyError(
                f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(self.names())}"
            )
        return [self._benchmarks[n] for n in wanted]


#: The project's benchmarks register here (see ``bench/benchmarks.py``).
registry = Registry()
register = registry.register


def run_benchmarks(
    benchmarks: Iterable[Benchmark], context: Any, *, out: TextIO = sys.stdout
) -> list[Row]:
    """Run each benchmark, turning Skip and errors into rows so one failure stops nothing."""
    rows: list[Row] = []
    for bench in benchmarks:
        print(f"→ {bench.name}: {bench.description}", file=out, flush=True)
        started = time.monotonic()
        try:
            produced = bench.function(context)
            produced_rows = produced if isinstance(produced, list) else [produced]
        except Skip as skip:
            produced_rows = [Row(name=bench.name, status="skipped", note=str(skip))]
            print(f"  skipped: {skip}", file=out, flush=True)
        except Exception as error:  # a broken benchmark must not hide the others' figures
            trace = traceback.format_exc()
            produced_rows = [
                Row(
                    name=bench.name,
                    status="error",
                    note=f"{type(error).__name__}: {error}",
                    details={"traceback": trace[-4000:]},
                )
            ]
            print(f"  error: {type(error).__name__}: {error}", file=out, flush=True)
            print(trace, file=sys.stderr, flush=True)
        elapsed = time.monotonic() - started
        for row in produced_rows:
            row.benchmark = bench.name
            row.details.setdefault("benchmark_seconds", round(elapsed, 2))
            rows.append(row.judge())
        print(f"  done in {elapsed:.1f} s", file=out, flush=True)
    return rows


def format_number(value: float | None, unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}".replace(",", " ")
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 0.1 or value == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".rstrip()


def table_lines(rows: Sequence[Row], *, markdown: bool = False) -> list[str]:
    """The results as a table: name, figure, floor, ratio, goal, result."""
    header = ["benchmark", "figure", "floor", "ratio", "goal", "result"]
    body = []
    for row in rows:
        if row.status == "skipped":
            result = f"skipped: {row.note}"
        elif row.status == "error":
            result = f"error: {row.note}"
        else:
            result = row.status
        ratio = row.ratio
        body.append(
            [
                row.name,
                format_number(row.figure, row.unit),
                format_number(row.floor, row.unit),
                "—" if ratio is None else f"{ratio:.2f}×",
                row.goal.text() if row.goal else "—",
                result,
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return lines
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header) - 1)]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths, strict=True)]
        return "  ".join([*padded, cells[-1]])

    return [line(header), line(["-" * w for w in widths] + ["------"]), *map(line, body)]


def machine_info() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }


def write_results(
    rows: Sequence[Row],
    meta: dict[str, Any],
    *,
    started_at: datetime,
    results_dir: Path = RESULTS_DIR,
) -> Path:
    """Write ``<results_dir>/<UTC timestamp>.json`` and return its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    path = results_dir / f"{stamp}.json"
    n = 1
    while path.exists():
        n += 1
        path = results_dir / f"{stamp}-{n}.json"
    document = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **meta,
        "results": [row.as_json() for row in rows],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path


def report(
    rows: Sequence[Row],
    meta: dict[str, Any],
    *,
    started_at: datetime,
    results_dir: Path = RESULTS_DIR,
    out: TextIO = sys.stdout,
) -> Path:
    """Print the table with the run's context, and write the JSON file."""
    machine = machine_info()
    print("", file=out)
    print(
        f"Liboppi benchmarks {started_at:%Y-%m-%d %H:%M} UTC · {machine['cores']} cores · "
        f"database {meta.get('database', {}).get('kind', '?')} · Python {machine['python']} · "
        f"load {meta.get('load_generator', '?')}",
        file=out,
    )
    for line in table_lines(rows):
        print(line, file=out)
    notes = [row for row in rows if row.note and row.status not in ("skipped", "error")]
    if notes:
        print("\nNotes:", file=out)
        for row in notes:
            print(f"  {row.name}: {row.note}", file=out)
    path = write_results(rows, meta, started_at=started_at, results_dir=results_dir)
    print(f"\nResults written to {path}", file=out)
    return path
