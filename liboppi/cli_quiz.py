"""Command line: ``flask quiz import | import-gift | export-gift | item-analysis | close-expired``.

Problems in quiz files are printed one a line as ``path:line:col: message`` (GIFT files:
``file:line: message``) and exit with status 1, with nothing imported. Other errors are
one line on standard error with status 2, as everywhere in ``flask``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from liboppi.cli import fail, transaction
from liboppi.content.problems import ContentError, Problem
from liboppi.quiz.format import parse_quiz, parse_quiz_file, serialise_quiz
from liboppi.quiz.gift import export_gift, gift_unsupported_reason, parse_gift, slug
from liboppi.quiz.source import QuizSettings, QuizSource, is_valid_id
from liboppi.services import attempts, item_analysis, quiz_import
from liboppi.services.authz import SYSTEM
from liboppi.services.errors import NotFound

EXIT_PROBLEMS = 1

quiz_cli = AppGroup("quiz", help="Quizzes: import, GIFT (Moodle) import and export, statistics.")


def _settings():
    return current_app.config["LIBOPPI"]


def _print_problems(problems: Iterable[Problem], *, with_column: bool = True) -> int:
    """Print problems to standard error; return how many were errors."""
    errors = 0
    for problem in problems:
        if with_column:
            click.echo(str(problem), err=True)
        else:
            prefix = "" if problem.severity == "error" else "warning: "
            click.echo(f"{problem.path}:{problem.line}: {prefix}{problem.message}", err=True)
        errors += problem.severity == "error"
    return errors


@quiz_cli.command("import")
@click.argument(
    "path", required=False, type=click.Path(file_okay=False, path_type=Path), metavar="[PATH]"
)
def quiz_import_command(path: Path | None) -> None:
    """Import every quiz under PATH (default: the quiz folder) into the database.

    Idempotent: unchanged files are skipped, a changed file becomes a new version, and
    a quiz whose file is gone is archived. Any problem in any file imports nothing.
    """
    root = path or _settings().quiz_root
    files = quiz_import.quiz_files(root) if root.is_dir() else []
    with click.progressbar(length=len(files), label="Reading quizzes", file=sys.stderr) as bar:
        scanned, problems = quiz_import.scan_quiz_root(
            root, files=files, progress=lambda _path: bar.update(1)
        )
    errors = _print_problems(problems)
    if errors:
        click.echo(f"{errors} problem(s) in the quiz files; nothing was imported.", err=True)
        sys.exit(EXIT_PROBLEMS)
    with transaction() as session:
        summary = quiz_import.import_quizzes(session, scanned, archive_missing=True)
    click.echo(summary.line())


@quiz_cli.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", required=True, help="The course id: the quiz goes to quizzes/COURSE/.")
@click.option("--quiz-id", help="The new quiz's id (default: from the file name).")
@click.option(
    "--skip-unsupported",
    is_flag=True,
    help="Leave out questions Liboppi cannot grade (essays, descriptions) and list them.",
)
def import_gift_command(
    file: Path, course: str, quiz_id: str | None, skip_unsupported: bool
) -> None:
    """Import a Moodle GIFT FILE as a quiz file under quizzes/COURSE/ and into the database.

    An existing quiz file of the same id keeps its title and settings; its questions are
    replaced. Nothing is written when any question has an error.
    """
    shown = str(file)
    data = file.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        click.echo(f"{shown}:{line}: the file is not UTF-8 text", err=True)
        sys.exit(EXIT_PROBLEMS)
    if not is_valid_id(course):
        fail(f"--course {course!r} must be a course id (lowercase letters a-z, digits, hyphens)")
    quiz_id = quiz_id or slug(file.stem)
    if not is_valid_id(quiz_id):
        fail(f"the quiz id {quiz_id!r} must be lowercase letters a-z, digits and hyphens")
    try:
        imported = parse_gift(shown, text, skip_unsupported=skip_unsupported)
    except ContentError as error:
        _print_problems(error.problems, with_column=False)
        click.echo(f"{len(error.errors)} error(s); nothing was imported.", err=True)
        sys.exit(EXIT_PROBLEMS)
    if not imported.questions:
        click.echo(f"{shown}:1: the file has no question Liboppi can import", err=True)
        sys.exit(EXIT_PROBLEMS)
    root = _settings().quiz_root
    target = root / course / f"{quiz_id}.md"
    elsewhere = [p for p in root.glob(f"*/{quiz_id}.md") if p.parent.name != course]
    if elsewhere:
        fail(f"the quiz id {quiz_id!r} is already used by {elsewhere[0]}; choose --quiz-id")
    base = quiz_import.shown_root(root)
    shown_target = quiz_import.shown(target.resolve(), base)
    title, settings, intro = imported.category or file.stem, QuizSettings(), ""
    if target.exists():
        try:
            existing = parse_quiz_file(target, base)
        except ContentError as error:
            _print_problems(error.problems)
            sys.exit(EXIT_PROBLEMS)
        title, settings, intro = existing.title, existing.settings, existing.intro
    draft = QuizSource(quiz_id, title, settings, intro, imported.questions)
    quiz_text = serialise_quiz(draft)
    try:
        source = parse_quiz(shown_target, quiz_text)
    except ContentError as error:
        _print_problems(error.problems)
        sys.exit(EXIT_PROBLEMS)
    _print_problems(imported.warnings, with_column=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, commit the database, then rename: a failed import leaves
    # neither a half-written file nor a database row without its file.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{quiz_id}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(quiz_text)
        with transaction() as session:
            owner = quiz_import.course_of(session, quiz_id)
            if owner is not None and owner != course:
                fail(f"the quiz id {quiz_id!r} belongs to the course {owner!r}; choose --quiz-id")
            outcome = quiz_import.import_quiz(session, course, source)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    if imported.skipped:
        click.echo(f"Skipped {len(imported.skipped)} unsupported question(s):")
        for problem in imported.skipped:
            click.echo(f"  {problem.path}:{problem.line}: {problem.message}")
    click.echo(
        f"Wrote {shown_target} with {len(source.questions)} question(s); quiz {quiz_id} {outcome}."
    )


@quiz_cli.command("export-gift")
@click.argument("quiz_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export_gift_command(quiz_id: str, output: Path | None) -> None:
    """Write the current version of QUIZ_ID as Moodle GIFT text."""
    with transaction() as session:
        try:
            source = quiz_import.get_current_source(session, quiz_id)
        except NotFound:
            fail(f"no quiz {quiz_id!r}; run 'flask quiz import' first")
    text = export_gift(source, category=source.title)
    left_out = [q.id for q in source.questions if gift_unsupported_reason(q) is not None]
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8", newline="\n")
        exported = len(source.questions) - len(left_out)
        click.echo(f"Wrote {output} with {exported} question(s).")
    if left_out:
        click.echo(
            f"Left out {len(left_out)} question(s) GIFT cannot hold: {', '.join(left_out)}",
            err=True,
        )


@quiz_cli.command("item-analysis")
@click.argument("quiz_id")
@click.option("--version", type=int, help="Analyse one version only (default: all versions).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the per-question numbers as CSV to this file ('-' for standard output).",
)
@click.option(
    "--rebuild", is_flag=True, help="Recount the quiz's statistics from its attempts first."
)
def item_analysis_command(
    quiz_id: str, version: int | None, csv_path: Path | None, rebuild: bool
) -> None:
    """Print the item analysis of QUIZ_ID: facility, discrimination, times, options."""
    if rebuild:
        with transaction() as session:
            try:
                counted = item_analysis.rebuild(session, SYSTEM, quiz_id)
            except NotFound:
                fail(f"no quiz {quiz_id!r}")
        click.echo(f"Recounted {counted} attempt(s).", err=True)
    with transaction() as session:
        try:
            analysis = item_analysis.analyse(session, SYSTEM, quiz_id, version=version)
        except NotFound:
            fail(f"no quiz {quiz_id!r}" + (f" version {version}" if version else ""))
    if csv_path is not None and str(csv_path) == "-":
        click.echo(item_analysis.to_csv(analysis), nl=False)
        return
    mean = item_analysis.number_text(analysis.mean_scaled) or "-"
    passed = item_analysis.number_text(analysis.pass_rate) or "-"
    click.echo(
        f"{analysis.quiz_id}: {analysis.attempts} attempts by {analysis.people} people; "
        f"mean score {mean}, pass rate {passed}"
    )
    click.echo("Score bands: " + " ".join(str(band.count) for band in analysis.bands))
    click.echo(f"{'#':>3} {'question':<32} {'n':>6} {'facility':>8} {'discr.':>7} {'median s':>8}")
    for stats in analysis.questions:
        click.echo(
            f"{stats.number:>3} {stats.id[:32]:<32} {stats.attempts:>6} "
            f"{item_analysis.number_text(stats.facility) or '-':>8} "
            f"{item_analysis.number_text(stats.discrimination) or '-':>7} "
            f"{_seconds(stats.median_seconds):>8}"
        )
    if csv_path is not None:
        csv_path.write_text(item_analysis.to_csv(analysis), encoding="utf-8")
        click.echo(f"Wrote {csv_path}.")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


@quiz_cli.command("close-expired")
def close_expired_command() -> None:
    """Submit every attempt whose time limit has passed, with the answers saved in time."""
    recorder = attempts.Recorder(_settings().base_url)
    with transaction() as session:
        count = attempts.close_all_expired(session, recorder)
    click.echo(f"Submitted {count} expired attempt(s).")


def register_quiz_cli(app: Flask) -> None:
    """Attach ``flask quiz`` to ``app``."""
    app.cli.add_command(quiz_cli)
