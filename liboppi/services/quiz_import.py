"""Importing quiz files into the database: idempotent by content hash, versioned, all or nothing.

``scan_quiz_root`` reads every ``quizzes/<course-id>/<quiz-id>.md`` and reports every
problem at once; ``import_quizzes`` then writes them in the caller's transaction: a new quiz
is added with version 1, a changed file becomes the next version, an unchanged one is
skipped, and a quiz whose file is gone is archived (its attempts stay). Nothing is written
when any file has an error, because the caller only calls ``import_quizzes`` on a clean scan.

A version stores the parsed settings and questions as JSON (``encode``); ``quiz_source``
turns a stored version back into the pure ``QuizSource`` that grading works on.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.content.problems import ContentError, Problem
from liboppi.models import Quiz, QuizVersion
from liboppi.quiz.format import parse_quiz_file
from liboppi.quiz.source import QuizSettings, QuizSource, is_valid_id

from .errors import NotFound

#: The key naming a dataclass in stored JSON; only classes of the pure quiz package decode.
TYPE_KEY = "$type"
DECODABLE_PREFIX = "liboppi.quiz."


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """How many quizzes an import added, changed, left unchanged and archived."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    archived: int = 0

    def line(self) -> str:
        """Return the one-line summary the command prints."""
        return (
            f"Quizzes: added {self.added}, changed {self.changed}, "
            f"unchanged {self.unchanged}, archived {self.archived}."
        )


@dataclass(frozen=True, slots=True)
class ScannedQuiz:
    """A quiz file read from the quiz root: its course (the folder) and its content."""

    course_id: str
    source: QuizSource


# -- Stored JSON ------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """Return a JSON-ready form of a parsed quiz value (dataclasses tagged by class)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        data: dict[str, Any] = {TYPE_KEY: f"{kind.__module__}:{kind.__qualname__}"}
        for item in dataclasses.fields(value):
            data[item.name] = encode(getattr(value, item.name))
        return data
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def decode(value: Any) -> Any:
    """Rebuild what ``encode`` wrote; JSON lists come back as tuples (quiz data is frozen)."""
    if isinstance(value, list):
        return tuple(decode(item) for item in value)
    if isinstance(value, dict):
        if TYPE_KEY not in value:
            return {key: decode(item) for key, item in value.items()}
        module_name, _, class_name = str(value[TYPE_KEY]).partition(":")
        if not module_name.startswith(DECODABLE_PREFIX):
            raise ValueError(f"refusing to decode {value[TYPE_KEY]!r}")
        kind = getattr(importlib.import_module(module_name), class_name)
        fields = {key: decode(item) for key, item in value.items() if key != TYPE_KEY}
        return kind(**fields)
    return value


# Decoded versions by content hash: the same file text always parses to the same quiz.
_sources: dict[str, QuizSource] = {}


def quiz_source(quiz: Quiz, version: QuizVersion) -> QuizSource:
    """Return the QuizSource a stored version holds (decoded once per process)."""
    key = version.content_hash
    found = _sources.get(key)
    if found is not None and found.id == quiz.stable_id:
        return found
    source = QuizSource(
        id=quiz.stable_id,
        title=version.title,
        settings=decode(version.settings),
        intro=version.intro,
        questions=decode(version.questions),
        raw_text=version.raw_text,
        content_hash=version.content_hash,
        path=version.source_path,
    )
    if len(_sources) > 512:
        _sources.clear()
    _sources[key] = source
    return source


def settings_of(version: QuizVersion) -> QuizSettings:
    """Return a version's settings."""
    return decode(version.settings)


# -- Reading the quiz root -------------------------------------------------------------------


def shown_root(root: Path) -> Path:
    """Return the folder problem paths are relative to: the working directory when possible.

    An editor then sees ``quizzes/digituki/x.md:4:1: ...`` and can open the file as written.
    """
    cwd = Path.cwd()
    resolved = root.resolve()
    return cwd if resolved.is_relative_to(cwd) else resolved


def quiz_files(root: Path) -> list[Path]:
    """Return the quiz files under ``root``: ``<course>/<quiz>.md`` (README.md files excepted)."""
    return sorted(
        path for path in root.glob("*/*.md") if path.is_file() and path.name.lower() != "readme.md"
    )


def scan_quiz_root(
    root: Path,
    *,
    files: Sequence[Path] | None = None,
    progress: Callable[[Path], None] | None = None,
) -> tuple[list[ScannedQuiz], list[Problem]]:
    """Read every quiz file under ``root``; return the quizzes and every problem found.

    A quiz's course is the name of its folder. Quiz ids must be unique across courses.
    """
    base = shown_root(root)
    resolved_root = root.resolve()
    problems: list[Problem] = []
    scanned: list[ScannedQuiz] = []
    seen: dict[str, str] = {}
    if not root.is_dir():
        return [], [Problem(str(root), 1, 1, "the quiz folder does not exist")]
    for path in sorted(resolved_root.glob("*.md")):
        if path.name.lower() != "readme.md":
            problems.append(
                Problem(
                    shown(path, base),
                    1,
                    1,
                    "a quiz file goes in its course's folder: quizzes/<course-id>/<quiz-id>.md",
                )
            )
    for path in files if files is not None else quiz_files(resolved_root):
        if progress is not None:
            progress(path)
        course_id = path.parent.name
        if not is_valid_id(course_id):
            problems.append(
                Problem(
                    shown(path, base),
                    1,
                    1,
                    f"the course folder name {course_id!r} must be a course id "
                    "(lowercase letters a-z, digits and hyphens)",
                )
            )
            continue
        try:
            source = parse_quiz_file(path, base)
        except ContentError as error:
            problems.extend(error.problems)
            continue
        if source.id in seen:
            problems.append(
                Problem(
                    source.path,
                    1,
                    1,
                    f"the quiz id {source.id!r} is already used by {seen[source.id]}",
                )
            )
            continue
        seen[source.id] = source.path
        scanned.append(ScannedQuiz(course_id, source))
    return scanned, sorted(problems)


def shown(path: Path, base: Path) -> str:
    """Return ``path`` as problems show it."""
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


# -- Writing ---------------------------------------------------------------------------------


def import_quizzes(
    session: Session, scanned: Sequence[ScannedQuiz], *, archive_missing: bool
) -> ImportSummary:
    """Write scanned quizzes in the caller's transaction; archive the others when asked."""
    counts = {"added": 0, "changed": 0, "unchanged": 0, "archived": 0}
    for item in scanned:
        counts[import_quiz(session, item.course_id, item.source)] += 1
    if archive_missing:
        present = {item.source.id for item in scanned}
        for quiz in session.scalars(select(Quiz).where(Quiz.is_archived.is_(False))):
            if quiz.stable_id not in present:
                quiz.is_archived = True
                quiz.updated_at = clock.now()
                counts["archived"] += 1
    session.flush()
    return ImportSummary(**counts)


def import_quiz(session: Session, course_id: str, source: QuizSource) -> str:
    """Add or update one quiz; return ``added``, ``changed`` or ``unchanged``.

    A file with new content becomes the next version. A quiz that moved to another
    course folder, or came back after being archived, counts as changed.
    """
    now = clock.now()
    quiz = session.scalar(select(Quiz).where(Quiz.stable_id == source.id))
    if quiz is None:
        quiz = Quiz(
            stable_id=source.id,
            course_id=course_id,
            title=source.title,
            current_version=1,
            is_archived=False,
            created_at=now,
            updated_at=now,
        )
        session.add(quiz)
        session.flush()
        session.add(new_version(quiz, 1, source, now))
        return "added"
    current = get_current_version(session, quiz)
    outcome = "unchanged"
    if current.content_hash != source.content_hash:
        number = quiz.current_version + 1
        session.add(new_version(quiz, number, source, now))
        quiz.current_version = number
        quiz.title = source.title
        outcome = "changed"
    if quiz.course_id != course_id or quiz.is_archived:
        quiz.course_id = course_id
        quiz.is_archived = False
        outcome = "changed"
    if outcome == "changed":
        quiz.updated_at = now
    return outcome


def new_version(quiz: Quiz, number: int, source: QuizSource, now: Any) -> QuizVersion:
    """Return the version row for a parsed quiz."""
    return QuizVersion(
        quiz_id=quiz.id,
        number=number,
        content_hash=source.content_hash,
        source_path=source.path[:500],
        raw_text=source.raw_text,
        title=source.title,
        intro=source.intro,
        settings=encode(source.settings),
        questions=encode(source.questions),
        imported_at=now,
    )


# -- Reading back ----------------------------------------------------------------------------


def get_quiz(session: Session, stable_id: str) -> Quiz:
    """Return a quiz by its stable id; NotFound when there is none."""
    quiz = session.scalar(select(Quiz).where(Quiz.stable_id == stable_id))
    if quiz is None:
        raise NotFound("quiz")
    return quiz


def course_of(session: Session, stable_id: str) -> str | None:
    """Return the course a quiz id belongs to, or None when the id is free."""
    return session.scalar(select(Quiz.course_id).where(Quiz.stable_id == stable_id))


def get_current_version(session: Session, quiz: Quiz) -> QuizVersion:
    """Return the quiz's current version."""
    return session.scalars(
        select(QuizVersion).where(
            QuizVersion.quiz_id == quiz.id, QuizVersion.number == quiz.current_version
        )
    ).one()


def get_current_source(session: Session, stable_id: str) -> QuizSource:
    """Return the current content of a quiz by its stable id."""
    quiz = get_quiz(session, stable_id)
    return quiz_source(quiz, get_current_version(session, quiz))
