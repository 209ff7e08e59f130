"""The benchmark runner's output: the table and the JSON file (no timing is asserted)."""

from __future__ import annotations

import io
import json
import os
import platform
from datetime import UTC, datetime

import pytest

from bench.__main__ import main
from bench.load import Request, lua_string, wrk_script
from bench.runner import Goal, Registry, Row, Skip, at_least, at_most, report, run_benchmarks


def fake_registry() -> Registry:
    registry = Registry()

    @registry.register("fast-page")
    def fast_page(_context) -> Row:
        """A page at half the floor's rate."""
        return Row("fast page", 50.0, "req/s", 100.0, at_least(0.25), details={"requests": 500})

    @registry.register("slow-import")
    def slow_import(_context) -> list[Row]:
        """An import twice as slow as its floor."""
        return [
            Row("import, cold", 20.0, "s", 10.0, at_most(1.3)),
            Row("memory", 90.0, "MiB", 30.0, Goal("figure_max", 120, "MiB")),
        ]

    @registry.register("absent")
    def absent(_context) -> Row:
        """A feature that is not there yet."""
        raise Skip("'flask nothing' does not exist yet")

    @registry.register("broken")
    def broken(_context) -> Row:
        """A benchmark that fails."""
        raise ValueError("boom")

    return registry


@pytest.fixture
def run(tmp_path):
    out = io.StringIO()
    rows = run_benchmarks(fake_registry().select(None), context=None, out=out)
    path = report(
        rows,
        {"database": {"kind": "sqlite"}, "load_generator": "fake"},
        started_at=datetime(2026, 11, 26, 8, 30, tzinfo=UTC),
        results_dir=tmp_path,
        out=out,
    )
    return rows, path, out.getvalue()


def test_results_file_is_named_by_utc_time_and_holds_figure_floor_ratio_goal(run, tmp_path):
    _rows, path, _text = run
    assert path == tmp_path / "20261126T083000Z.json"
    document = json.loads(path.read_text())
    assert document["machine"]["cores"] == os.cpu_count()
    assert document["machine"]["python"] == platform.python_version()
    assert document["database"] == {"kind": "sqlite"}
    by_name = {result["name"]: result for result in document["results"]}
    page = by_name["fast page"]
    assert (page["figure"], page["floor"], page["ratio"]) == (50.0, 100.0, 0.5)
    assert page["status"] == "pass"
    assert page["benchmark"] == "fast-page"
    assert page["details"]["requests"] == 500
    assert page["goal_spec"] == {"kind": "ratio_min", "value": 0.25, "unit": "", "strict": False}
    assert by_name["import, cold"]["ratio"] == 2.0
    assert by_name["import, cold"]["status"] == "miss"
    assert by_name["memory"]["status"] == "pass"


def test_skipped_and_broken_benchmarks_become_rows_without_stopping_the_run(run):
    rows, path, text = run
    statuses = [(row.benchmark, row.status) for row in rows]
    assert statuses == [
        ("fast-page", "pass"),
        ("slow-import", "miss"),
        ("slow-import", "pass"),
        ("absent", "skipped"),
        ("broken", "error"),
    ]
    document = json.loads(path.read_text())
    absent = next(r for r in document["results"] if r["benchmark"] == "absent")
    assert absent["figure"] is None and absent["note"] == "'flask nothing' does not exist yet"
    assert "skipped: 'flask nothing' does not exist yet" in text


def test_table_has_a_column_for_each_part_and_a_line_per_row(run):
    _rows, _path, text = run
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("benchmark"))
    assert header.split() == ["benchmark", "figure", "floor", "ratio", "goal", "result"]
    page = next(line for line in lines if line.startswith("fast page"))
    assert "50.0 req/s" in page and "100 req/s" in page and "0.50×" in page
    assert page.rstrip().endswith("pass")
    assert sum(1 for line in lines if line.startswith(("fast page", "import, cold", "memory"))) == 3


def test_only_selects_named_benchmarks_in_the_order_given():
    registry = fake_registry()
    chosen = registry.select(["broken,fast-page"])
    assert [b.name for b in chosen] == ["broken", "fast-page"]
    with pytest.raises(KeyError):
        registry.select(["no-such-benchmark"])


def test_unknown_benchmark_name_exits_with_status_2_before_starting_anything(tmp_path):
    assert main(["--only", "no-such-benchmark", "--results-dir", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []


def test_wrk_script_embeds_every_request_byte_for_byte():
    body = 'csrf_token=a"b\\c&q=ä'.encode()
    script = wrk_script([Request("POST", "/login", {"Cookie": "s=1"}, body)], 10, 2)
    assert lua_string(body) in script
    assert '"\\097' not in lua_string("a")  # plain ASCII stays readable
    assert lua_string("ä") == '"\\195\\164"'
    assert "local max_per_thread = 5" not in script and "local max_per_thread = 10" in script


@pytest.mark.parametrize("pages", [1, 2, 7, 32, 33])
@pytest.mark.parametrize("threads", [1, 2, 3, 4])
def test_every_load_thread_sends_every_page_in_the_memory_benchmark(pages, threads):
    from bench.web import _every_thread_every_page

    requests = [Request("GET", f"/page-{n}") for n in range(pages)]
    longer = _every_thread_every_page(requests, threads)
    assert longer[:pages] == requests
    for thread in range(threads):
        # As the generators hand out items: thread i sends i, i + T, … modulo the length.
        sent = {longer[(thread + k * threads) % len(longer)].path for k in range(len(longer))}
        assert sent == {r.path for r in requests}
