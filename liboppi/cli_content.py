"""Command line: ``flask content check | import | export | stats``.

``check`` and ``import`` print every problem as ``path:line:col: message`` and exit with
status 1 when any is an error (warnings alone exit 0); ``import`` then changes nothing.
PATH is the repository root (the folder holding ``courses/`` and ``quizzes/``) or the
``courses`` folder itself; without it the configured content folder is used. Quizzes are
read from ``quizzes/`` beside ``courses/``, else from the configured quiz folder.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect

from liboppi.cli import fail, transaction
from liboppi.content.frontmatter import parse_module_meta, split_front_matter
from liboppi.content.lint import check_scan, check_tree
from liboppi.content.loader import COURSES_DIR, TreeScan, scan_tree, tree_from_scan
from liboppi.content.problems import ContentError, Problem
from liboppi.services import catalog, content_import, quiz_import

EXIT_PROBLEMS = 1

content_cli = AppGroup("content", help="Course content: check, import, export and statistics.")

path_argument = click.argument(
    "path", required=False, type=click.Path(file_okay=False, path_type=Path), metavar="[PATH]"
)


def _roots(path: Path | None) -> tuple[Path, Path]:
    """The repository root (holding ``courses/``) and the quiz folder for PATH."""
    settings = current_app.config["LIBOPPI"]
    if path is None:
        content_root, quiz_root = settings.content_root, settings.quiz_root
    else:
        content_root = path if path.name == COURSES_DIR else path / COURSES_DIR
        beside = content_root.parent / "quizzes"
        quiz_root = beside if beside.is_dir() else settings.quiz_root
    if content_root.name != COURSES_DIR:
        fail(f"the content folder must be called '{COURSES_DIR}', not {str(content_root)!r}")
    return content_root.parent, quiz_root


def _quizzes(root: Path, quiz_root: Path) -> tuple[set[str], list[Problem], dict[str, int]]:
    """Quiz ids (also of files with problems), the problems, and question counts by quiz id."""
    if not quiz_root.is_dir():
        return set(), [], {}
    scanned, problems = quiz_import.scan_quiz_root(quiz_root)
    ids = {path.stem for path in quiz_import.quiz_files(quiz_root)}
    counts = {quiz.source.id: len(quiz.source.questions) for quiz in scanned}
    return ids | set(counts), [_from_root(p, root, quiz_root) for p in problems], counts


def _from_root(problem: Problem, root: Path, quiz_root: Path) -> Problem:
    """Show a quiz problem's path from the repository root, like the content problems."""
    for candidate in (Path(problem.path), quiz_root / problem.path, Path.cwd() / problem.path):
        if candidate.is_file():
            resolved = candidate.resolve()
            if resolved.is_relative_to(root.resolve()):
                shown = resolved.relative_to(root.resolve()).as_posix()
                return replace(problem, path=shown)
            break
    return problem


def _previous_ids() -> dict[str, str]:
    """The ids the database knows each file by (none when it has no content tables yet)."""
    engine = current_app.extensions["liboppi.engine"]
    if not inspect(engine).has_table("modules"):
        return {}
    session = current_app.extensions["liboppi.sessions"]()
    try:
        return content_import.previous_ids(session)
    finally:
        session.close()


def _scan_for_import(root: Path, site_host: str | None) -> TreeScan:
    """Read the tree as the import does (the plain scan when there are no content tables)."""
    engine = current_app.extensions["liboppi.engine"]
    if not inspect(engine).has_table("modules"):
        return scan_tree(root)
    session = current_app.extensions["liboppi.sessions"]()
    try:
        return content_import.scan_for_import(session, root, site_host=site_host)
    finally:
        session.close()


def _print(problems: Iterable[Problem], *, err: bool = False) -> tuple[int, int]:
    errors = warnings = 0
    for problem in problems:
        click.echo(str(problem), err=err)
        if problem.severity == "error":
            errors += 1
        else:
            warnings += 1
    return errors, warnings


@content_cli.command("check")
@path_argument
def content_check(path: Path | None) -> None:
    """Check every course, module and quiz file; exit 1 if any has an error."""
    root, quiz_root = _roots(path)
    quiz_ids, quiz_problems, _ = _quizzes(root, quiz_root)
    problems = check_tree(root, known_quiz_ids=quiz_ids, previous_ids=_previous_ids())
    errors, warnings = _print(sorted([*problems, *quiz_problems]))
    click.echo(f"{errors} error(s), {warnings} warning(s).")
    if errors:
        sys.exit(EXIT_PROBLEMS)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch command runs.

    An import holds every file's text, facts and rendering until it writes them, and
    makes an object per row besides; the collector walked all of them again and again
    (0.2-0.3 s of a 1,000-module import, mostly in its serial tail) to find almost no
    cycles. The command's garbage is collected afterwards as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@content_cli.command("import")
@path_argument
def content_import_command(path: Path | None) -> None:
    """Import every course under PATH: all of it, or nothing if any file has an error.

    Unchanged modules are skipped, a changed one becomes a new version, and a module no
    longer listed in its course.yaml is archived.
    """
    with _collector_paused():
        _import_content(path)


def _import_content(path: Path | None) -> None:
    settings = current_app.config["LIBOPPI"]
    root, quiz_root = _roots(path)
    quiz_ids, _, _ = _quizzes(root, quiz_root)
    site_host = content_import.site_host_of(settings.base_url)
    # One reading of the files serves both the checker and the import: each new body is
    # parsed once (checked and rendered), and unchanged files reuse their stored facts.
    scan = _scan_for_import(root, site_host)
    problems = check_scan(scan, known_quiz_ids=quiz_ids, previous_ids=_previous_ids())
    errors, _ = _print(problems, err=True)
    if errors:
        click.echo(f"{errors} error(s); nothing was imported.", err=True)
        sys.exit(EXIT_PROBLEMS)
    try:
        tree = tree_from_scan(root, scan)
        total = sum(len(course.modules) for course in tree.courses)
        with (
            click.progressbar(length=total, label="Importing modules", file=sys.stderr) as bar,
            transaction() as session,
        ):
            summary = content_import.import_tree(
                session,
                tree,
                site_host=site_host,
                progress=lambda: bar.update(1),
            )
    except ContentError as error:
        errors, _ = _print(error.problems, err=True)
        click.echo(f"{errors} error(s); nothing was imported.", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(summary.line())
    if summary.kept:
        click.echo(
            f"kept {summary.kept} module(s) edited on the web since their files were last "
            "imported; 'flask content export' writes them to files."
        )


def _module_id_in(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
        meta, _ = parse_module_meta(split_front_matter(text, path.name), path.name)
    except (OSError, UnicodeDecodeError, ContentError):
        return None
    return meta.id


@content_cli.command("export")
@path_argument
def content_export(path: Path | None) -> None:
    """Write the database's current content (web edits included) as files under PATH.

    Files are written byte for byte as stored; unchanged files are not touched. The file
    of a module archived since is removed when it still holds that module.
    """
    root, _ = _roots(path)
    with transaction() as session:
        plan = catalog.export_plan(session)
    written = removed = 0
    for relative, data in sorted(plan.files.items()):
        target = root / relative
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
    for relative, module_id in sorted(plan.archived.items()):
        target = root / relative
        if target.is_file() and _module_id_in(target) == module_id:
            target.unlink()
            removed += 1
    click.echo(
        f"exported {len(plan.files)} file(s) to {root / COURSES_DIR}: "
        f"wrote {written}, unchanged {len(plan.files) - written}, removed {removed}"
    )


@content_cli.command("stats")
def content_stats() -> None:
    """Print each module's words, reading time (200 words a minute) and quiz questions."""
    root, quiz_root = _roots(None)
    _, _, counts = _quizzes(root, quiz_root)
    with transaction() as session:
        rows = catalog.module_stats(session)
    header = f"{'course':<22} {'module':<48} {'words':>6} {'min':>4} {'questions':>9}"
    click.echo(header)
    words = minutes = questions = 0
    for row in rows:
        count = counts.get(row.quiz_id, 0) if row.quiz_id else 0
        click.echo(
            f"{row.course_id:<22} {row.module_id:<48} {row.words:>6} "
            f"{row.reading_minutes:>4} {count:>9}"
        )
        words += row.words
        minutes += row.reading_minutes
        questions += count
    click.echo(
        f"{'total':<22} {str(len(rows)) + ' modules':<48} {words:>6} {minutes:>4} {questions:>9}"
    )
