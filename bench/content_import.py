"""Content import of 1,000 generated modules against plain markdown-it-py rendering of them.

The modules (about 20 KB each: headings, paragraphs, lists, tables, fenced code, a callout)
are generated from a fixed seed into 10 courses of 100. The floor reads the same files and
renders their bodies with ``MarkdownIt("js-default")`` and nothing else. Goals: a cold import
(empty database) ≤ 1.3× the floor; re-importing the unchanged files ≤ 0.1×.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from .context import Context
from .runner import Row, Skip, at_most, register
from .servers import REPO_ROOT

COURSES = 10
MODULES_PER_COURSE = 100
TARGET_BYTES = 20_000
#: An import is stopped after this many floors (and at least IMPORT_LIMIT_MIN seconds).
IMPORT_LIMIT_FLOORS = float(os.environ.get("BENCH_IMPORT_LIMIT_FLOORS", "8"))
IMPORT_LIMIT_MIN = 60.0

WORDS = (
    "kirjasto asiakas laina varaus nide aineisto palautus uusinta kirjastokortti haku "
    "tietokanta verkkokirjasto kuvailu luettelointi kokoelma hylly signum kirjastoauto "
    "asiakaspalvelu opastus digituki tunnistautuminen tietoturva salasana sähköposti "
    "e-kirja äänikirja lehti kausijulkaisu kaukolaina kuljetus noutopaikka maksu muistutus "
    "lainaaja henkilökunta perehdytys työvuoro kunta maakunta Lappi Rovaniemi Inari Sodankylä "
    "järjestelmä käyttöliittymä raportti tilasto saavutettavuus kieli suomi ruotsi saame "
    "tapahtuma näyttely lukupiiri satutunti koululainen opettaja yhteistyö sopimus sääntö"
).split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))


def _table(rng: random.Random) -> str:
    columns = rng.randint(3, 5)
    header = "| " + " | ".join(rng.choice(WORDS).capitalize() for _ in range(columns)) + " |"
    rule = "|" + "---|" * columns

    def cell() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))

    rows = [
        "| " + " | ".join(cell() for _ in range(columns)) + " |" for _ in range(rng.randint(4, 9))
    ]
    return "\n".join([header, rule, *rows])


def _code(rng: random.Random) -> str:
    lines = [
        f"SELECT {rng.choice(WORDS)}_id, COUNT(*) FROM {rng.choice(WORDS)}",
        f"WHERE tila = '{rng.choice(WORDS)}' AND pvm >= '2026-0{rng.randint(1, 9)}-01'",
        f"GROUP BY {rng.choice(WORDS)}_id ORDER BY 2 DESC LIMIT {rng.randint(5, 50)};",
    ]
    return "```sql\n" + "\n".join(lines * rng.randint(1, 3)) + "\n```"


def _list(rng: random.Random) -> str:
    marker = rng.choice(["-", "1."])
    return "\n".join(f"{marker} {_sentence(rng)}" for _ in range(rng.randint(3, 7)))


def module_text(course: int, number: int, rng: random.Random) -> str:
    """One module file: front matter and a body of about TARGET_BYTES bytes."""
    module_id = f"bench-{course:02d}-{number:03d}"
    front = (
        "---\n"
        f"id: {module_id}\n"
        f"title: Vertailumoduuli {course}.{number}\n"
        "estimated_minutes: 20\n"
        "objectives:\n"
        f"  - {_sentence(rng)}\n"
        f"  - {_sentence(rng)}\n"
        "tags: [bench, koha]\n"
        "---\n\n"
    )
    parts = [_paragraph(rng)]
    section = 0
    while sum(len(p.encode()) for p in parts) < TARGET_BYTES:
        section += 1
        parts.append(f"## Osio {section}: {rng.choice(WORDS)}")
        parts.append(_paragraph(rng))
        kind = section % 4
        if kind == 0:
            parts.append(_table(rng))
        elif kind == 1:
            parts.append(_code(rng))
        elif kind == 2:
            parts.append(_list(rng))
        else:
            parts.append(f"### Tarkennus {section}")
            parts.append(f"::: tip\n{_sentence(rng)}\n:::")
        parts.append(_paragraph(rng))
    return front + "\n\n".join(parts) + "\n"


def generate(root: Path) -> list[Path]:
    """Write the 10 courses × 100 modules under ``root``; return the module files."""
    rng = random.Random(20261126)
    files = []
    for course in range(1, COURSES + 1):
        folder = root / f"bench-{course:02d}"
        folder.mkdir(parents=True)
        names = []
        for number in range(1, MODULES_PER_COURSE + 1):
            name = f"{number:03d}-vertailu.md"
            path = folder / name
            path.write_text(module_text(course, number, rng), encoding="utf-8")
            names.append(name)
            files.append(path)
        (folder / "course.yaml").write_text(
            f"id: bench-{course:02d}\n"
            "language: fi\n"
            "title:\n"
            f"  fi: Vertailukurssi {course}\n"
            "description:\n"
            "  fi: Suorituskykymittauksen tuottama kurssi.\n"
            "audience: [learner]\n"
            "tags: [bench]\n"
            "prerequisites: []\n"
            "completion: all_modules\n"
            "modules:\n" + "".join(f"  - {name}\n" for name in names),
            encoding="utf-8",
        )
    return files


def markdown_floor(files: list[Path]) -> float:
    """Seconds to read the files and render their bodies with plain markdown-it-py."""
    from markdown_it import MarkdownIt

    started = time.perf_counter()
    md = MarkdownIt("js-default")
    for path in files:
        text = path.read_text(encoding="utf-8")
        body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
        md.render(body)
    return time.perf_counter() - started


def timed_import(env: dict[str, str], limit: float) -> tuple[float | None, str]:
    """Run ``flask content import`` in a child process; its own timing, or None past ``limit``.

    A child process, so that an import slower than the limit can be stopped without leaving
    this run waiting; the child times only the command, not its start-up.
    """
    command = [sys.executable, "-m", "bench.content_import"]
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return None, f"stopped after {limit:.0f} s"
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(
            f"content import failed:\n{(completed.stdout + completed.stderr)[-3000:]}"
        )
    data = json.loads(line.removeprefix("BENCHJSON "))
    return data["seconds"], data["summary"]


def _child() -> None:
    """``python -m bench.content_import``: import with the environment's settings, timed."""
    from .seed import invoke, make_app

    app = make_app({})
    try:
        started = time.perf_counter()
        output = invoke(app, "content", "import")
        seconds = time.perf_counter() - started
    finally:
        app.extensions["liboppi.engine"].dispose()
    summary = (output.strip().splitlines() or [""])[-1]
    print("BENCHJSON " + json.dumps({"seconds": seconds, "summary": summary}))


@register("content-import")
def content_import(ctx: Context) -> list[Row]:
    """Cold and unchanged re-import of 1,000 generated modules against markdown-it-py."""
    from .seed import cli_commands, invoke, make_app

    root = ctx.tmp / "generated" / "courses"
    files = generate(root)
    (root.parent / "quizzes").mkdir()  # no quizzes: the real ones are not scanned either
    total_bytes = sum(p.stat().st_size for p in files)
    url = ctx.new_database("content")
    env = ctx.app_env(
        url, LIBOPPI_CONTENT_ROOT=str(root), LIBOPPI_QUIZ_ROOT=str(root.parent / "quizzes")
    )
    app = make_app(env)
    try:
        if "content import" not in cli_commands(app):
            raise Skip("'flask content import' does not exist yet")
        invoke(app, "orgs", "load")
    finally:
        app.extensions["liboppi.engine"].dispose()
    floors = [markdown_floor(files)]
    limit = max(IMPORT_LIMIT_MIN, IMPORT_LIMIT_FLOORS * floors[0])
    cold, cold_summary = timed_import(env, limit)
    floors.append(markdown_floor(files))
    again = again_summary = None
    if cold is not None:
        again, again_summary = timed_import(env, limit)
        floors.append(markdown_floor(files))
    floor = min(floors)
    details = {
        "modules": len(files),
        "total_bytes": total_bytes,
        "floor_runs_s": [round(f, 3) for f in floors],
        "time_limit_s": round(limit, 1),
        "cold_summary": cold_summary,
        "again_summary": again_summary,
    }
    cold_row = Row(
        "content import, cold (1,000 modules)",
        cold if cold is not None else limit,
        "s",
        floor,
        at_most(1.3),
        details=details,
    )
    if cold is None:
        cold_row.judge()
        cold_row.status = "miss"
        cold_row.note = f"{cold_summary}: > {limit / floor:.0f}× the floor; real figure higher"
        again_row = Row(
            "content import, unchanged again",
            status="skipped",
            note="the cold import did not finish within the time limit",
        )
        return [cold_row, again_row]
    return [cold_row, Row("content import, unchanged again", again, "s", floor, at_most(0.1))]


if __name__ == "__main__":
    _child()
