"""Checking content before it is imported or saved: every mistake as ``path:line:col: message``.

``check_tree`` is what ``flask content check`` runs over the repository; ``check_text`` is
what the web editor runs on one module's text before saving it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from liboppi.content.body_checks import check_body
from liboppi.content.frontmatter import ModuleMeta, parse_module_meta, split_front_matter
from liboppi.content.loader import COURSE_FILE, TreeScan, scan_tree
from liboppi.content.problems import ContentError, Problem


def _quiz_problem(path: str, meta: ModuleMeta, known_quiz_ids: Collection[str]) -> list[Problem]:
    if meta.quiz is None or meta.quiz in known_quiz_ids:
        return []
    at = meta.position_of("quiz")
    return [Problem(path, at.line, at.col, f"unknown quiz `{meta.quiz}`: no quiz file has this id")]


def _changed_id_problem(path: str, line: int, col: int, old: str, new: str) -> Problem:
    return Problem(
        path,
        line,
        col,
        f"id changed from `{old}` to `{new}`: ids are permanent (progress and statements "
        f"refer to them); restore `{old}`",
    )


def check_tree(
    root: Path,
    *,
    known_quiz_ids: set[str] | None,
    previous_ids: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Check every course under ``root/courses``; return all problems, sorted, errors and warnings.

    ``known_quiz_ids`` (when given) are the quiz ids a module's ``quiz:`` may name;
    ``previous_ids`` maps a repository-relative file path to the id the database knows
    it by, so that an edited id is caught before import.
    """
    return check_scan(scan_tree(root), known_quiz_ids=known_quiz_ids, previous_ids=previous_ids)


def check_scan(
    scan: TreeScan,
    *,
    known_quiz_ids: set[str] | None,
    previous_ids: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Check a tree ``scan_tree`` has read (see ``check_tree``); return all problems, sorted."""
    problems = list(scan.problems)
    for module in scan.modules:
        if known_quiz_ids is not None:
            problems.extend(_quiz_problem(module.path, module.meta, known_quiz_ids))
        old = (previous_ids or {}).get(module.path)
        if old is not None and old != module.meta.id:
            at = module.meta.position_of("id")
            problems.append(_changed_id_problem(module.path, at.line, at.col, old, module.meta.id))
    for course in scan.courses:
        path = f"{course.path}/{COURSE_FILE}"
        old = (previous_ids or {}).get(path)
        if old is not None and old != course.id:
            at = course.position_of("id")
            problems.append(_changed_id_problem(path, at.line, at.col, old, course.id))
    return sorted(problems)


def check_text(
    path: str,
    text: str,
    *,
    known_quiz_ids: Collection[str] | None,
    known_module_files: Collection[str],
    root: Path | None = None,
    previous_id: str | None = None,
) -> list[Problem]:
    """Check one module's text (as typed in the web editor) before saving it; return all problems.

    ``path`` is the module's repository-relative path. Relative links and images must point
    at a path in ``known_module_files`` (repository-relative, e.g. the course's modules and
    images) or, when ``root`` is given, at a file on disk. ``previous_id`` is the id the
    saved file had, which must not change.
    """
    known = set(known_module_files)

    def file_exists(relative: str) -> bool:
        return relative in known or (root is not None and (root / relative).is_file())

    try:
        split = split_front_matter(text, path)
    except ContentError as exc:
        return sorted(exc.problems)
    problems: list[Problem] = []
    try:
        meta, warnings = parse_module_meta(split, path)
    except ContentError as exc:
        problems.extend(exc.problems)
    else:
        problems.extend(warnings)
        if known_quiz_ids is not None:
            problems.extend(_quiz_problem(path, meta, known_quiz_ids))
        if previous_id is not None and previous_id != meta.id:
            at = meta.position_of("id")
            problems.append(_changed_id_problem(path, at.line, at.col, previous_id, meta.id))
    problems.extend(check_body(path, split, file_exists=file_exists).problems)
    return sorted(problems)
