"""The course catalogue as learners see it, and the content as files (export, stats).

Everything here reads; pages get plain data, never models, and never render Markdown
(each ModuleVersion was rendered when it was written).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from liboppi.content.loader import COURSE_FILE, COURSES_DIR
from liboppi.models import Course, CourseFile, Module, ModuleVersion

from .errors import NotFound

WORDS_PER_MINUTE = 200
#: A module with at least this many headings gets a table of contents.
TOC_MIN_HEADINGS = 3


def reading_minutes(word_count: int) -> int:
    """Minutes to read ``word_count`` words at 200 words a minute, rounded up."""
    return math.ceil(word_count / WORDS_PER_MINUTE)


@dataclass(frozen=True)
class CourseCard:
    """A course as the catalogue lists it."""

    id: str
    title: dict[str, str]
    description: dict[str, str]
    language: str
    tags: tuple[str, ...]
    audience: tuple[str, ...]
    prerequisites: tuple[str, ...]
    completion: str
    module_count: int
    minutes: int

    def title_in(self, language: str) -> str:
        """The title in ``language``, else in the course's own language."""
        return self.title.get(language) or self.title.get(self.language) or self.id

    def description_in(self, language: str) -> str:
        """The description in ``language``, else in the course's own language."""
        return self.description.get(language) or self.description.get(self.language) or ""

    def title_language(self, language: str) -> str:
        """The language the title is shown in (for the ``lang`` attribute)."""
        return language if language in self.title else self.language


@dataclass(frozen=True)
class ModuleEntry:
    """A module in its course's list."""

    id: str
    position: int
    title: str
    language: str
    estimated_minutes: int | None
    word_count: int
    quiz_id: str | None

    @property
    def minutes(self) -> int:
        """The time to plan for: the editor's estimate, else the reading time."""
        return self.estimated_minutes or reading_minutes(self.word_count)


@dataclass(frozen=True)
class CourseDetail:
    """A course with its modules in order."""

    card: CourseCard
    modules: tuple[ModuleEntry, ...]
    prerequisites: tuple[CourseCard, ...]


@dataclass(frozen=True)
class ModulePage:
    """What the module page shows: the current version, rendered, and its neighbours."""

    course: CourseCard
    module: ModuleEntry
    version_number: int
    html: str
    toc: tuple[dict[str, Any], ...]
    objectives: tuple[str, ...]
    previous: ModuleEntry | None
    next: ModuleEntry | None
    count: int
    updated_at: datetime
    #: Identifies everything the page was built from (the course file and the current version
    #: of each of its modules): equal fingerprints mean equal pages.
    fingerprint: tuple[Any, ...]

    @property
    def shows_toc(self) -> bool:
        """Long modules (several headings) get a table of contents."""
        return len(self.toc) >= TOC_MIN_HEADINGS


@dataclass(frozen=True)
class Facets:
    """The tags and audiences that the catalogue can be filtered by."""

    tags: tuple[str, ...]
    audiences: tuple[str, ...]


def _active_module_rows(
    session: Session, course_ids: list[int]
) -> list[tuple[Module, ModuleVersion]]:
    return [
        (module, version)
        for module, version in session.execute(
            select(Module, ModuleVersion)
            .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
            .where(Module.course_id.in_(course_ids), Module.is_archived.is_(False))
            .order_by(Module.course_id, Module.position, Module.id)
        )
    ]


def _active_modules(session: Session, course_ids: list[int]) -> dict[int, list[ModuleEntry]]:
    rows = _active_module_rows(session, course_ids)
    by_course: dict[int, list[ModuleEntry]] = {course_id: [] for course_id in course_ids}
    for module, version in rows:
        by_course[module.course_id].append(
            module_entry(module, version, len(by_course[module.course_id]))
        )
    return by_course


def module_entry(module: Module, version: ModuleVersion, index: int) -> ModuleEntry:
    """The list entry of a module at ``index`` (0-based); rows with the same attributes do."""
    return ModuleEntry(
        id=module.stable_id,
        position=index + 1,
        title=version.title,
        language=version.language,
        estimated_minutes=version.estimated_minutes,
        word_count=version.word_count,
        quiz_id=version.quiz_id,
    )


def course_card(course: Course, modules: list[ModuleEntry]) -> CourseCard:
    """The catalogue card of a course with its current ``modules``."""
    return CourseCard(
        id=course.stable_id,
        title=dict(course.title),
        description=dict(course.description),
        language=course.language,
        tags=tuple(course.tags),
        audience=tuple(course.audience),
        prerequisites=tuple(course.prerequisites),
        completion=course.completion,
        module_count=len(modules),
        minutes=sum(m.minutes for m in modules),
    )


def _active_courses(session: Session) -> list[Course]:
    return list(
        session.scalars(
            select(Course)
            .where(Course.is_archived.is_(False))
            .order_by(Course.position, Course.stable_id)
        )
    )


def list_courses(
    session: Session, *, tag: str | None = None, audience: str | None = None
) -> list[CourseCard]:
    """Courses in catalogue order, optionally only those with ``tag`` and for ``audience``."""
    courses = [
        c
        for c in _active_courses(session)
        if (not tag or tag in c.tags) and (not audience or audience in c.audience)
    ]
    modules = _active_modules(session, [c.id for c in courses])
    return [course_card(c, modules[c.id]) for c in courses]


def list_facets(session: Session) -> Facets:
    """The tags and audiences of the courses in the catalogue."""
    courses = _active_courses(session)
    tags = sorted({t for c in courses for t in c.tags})
    audiences = sorted({a for c in courses for a in c.audience})
    return Facets(tuple(tags), tuple(audiences))


def _get_course(session: Session, course_id: str) -> Course:
    course = session.scalar(
        select(Course).where(Course.stable_id == course_id, Course.is_archived.is_(False))
    )
    if course is None:
        raise NotFound(course_id)
    return course


def get_course(session: Session, course_id: str) -> CourseDetail:
    """A course with its modules in order; NotFound for unknown or archived courses."""
    course = _get_course(session, course_id)
    modules = _active_modules(session, [course.id])[course.id]
    prerequisites = []
    if course.prerequisites:
        found = {
            c.stable_id: c
            for c in session.scalars(
                select(Course).where(
                    Course.stable_id.in_(course.prerequisites), Course.is_archived.is_(False)
                )
            )
        }
        others = _active_modules(session, [c.id for c in found.values()])
        prerequisites = [
            course_card(found[cid], others[found[cid].id])
            for cid in course.prerequisites
            if cid in found
        ]
    return CourseDetail(course_card(course, modules), tuple(modules), tuple(prerequisites))


@dataclass(frozen=True)
class VersionBody:
    """The heavy, immutable part of a module version that its page shows."""

    html: str
    toc: tuple[dict[str, Any], ...]
    objectives: tuple[str, ...]


#: Version bodies by (database, version id, content hash). A version never changes once
#: written (edits and imports add new versions), so entries never go stale; the database url
#: and hash in the key keep test databases that reuse ids apart. Bounded: cleared when full.
_bodies: dict[tuple[str, int, str], VersionBody] = {}
_BODIES_MAX = 256


def version_body(
    database: str, connect: Callable[[], Connection], version_id: int, content_hash: str
) -> VersionBody:
    """A version's rendered HTML, table of contents and objectives, read once per process
    (``database`` is the engine's ``database_key``; ``connect`` is called only to read)."""
    key = (database, version_id, content_hash)
    body = _bodies.get(key)
    if body is None:
        html, toc, objectives = (
            connect()
            .execute(
                select(ModuleVersion.html, ModuleVersion.toc, ModuleVersion.objectives).where(
                    ModuleVersion.id == version_id
                )
            )
            .one()
        )
        body = VersionBody(html, tuple(toc), tuple(objectives))
        if len(_bodies) >= _BODIES_MAX:
            _bodies.clear()
        _bodies[key] = body
    return body


def module_page(
    card: CourseCard,
    modules: Sequence[ModuleEntry],
    index: int,
    body: VersionBody,
    *,
    version_number: int,
    updated_at: datetime,
    fingerprint: tuple[Any, ...],
) -> ModulePage:
    """The page of ``modules[index]`` in a course listed as ``card``."""
    return ModulePage(
        course=card,
        module=modules[index],
        version_number=version_number,
        html=body.html,
        toc=body.toc,
        objectives=body.objectives,
        previous=modules[index - 1] if index > 0 else None,
        next=modules[index + 1] if index + 1 < len(modules) else None,
        count=len(modules),
        updated_at=updated_at,
        fingerprint=fingerprint,
    )


@dataclass(frozen=True)
class FileData:
    """An image's bytes and what a response needs to cache it."""

    data: bytes
    content_type: str
    etag: str
    updated_at: datetime


def get_course_file(session: Session, course_id: str, name: str) -> FileData:
    """An image of a course by its name in the course folder; NotFound if there is none."""
    row = session.execute(
        select(CourseFile)
        .join(Course, Course.id == CourseFile.course_id)
        .where(Course.stable_id == course_id, CourseFile.name == name)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(name)
    return FileData(row.data, row.content_type, row.content_hash, row.updated_at)


# -- Content as files ------------------------------------------------------------------------


@dataclass
class ExportPlan:
    """The files that make up the database's current content, and module files to remove."""

    files: dict[str, bytes] = field(default_factory=dict)
    #: Repository-relative path → stable id of an archived module last stored there.
    archived: dict[str, str] = field(default_factory=dict)


def export_plan(session: Session) -> ExportPlan:
    """Every current file (course.yaml, modules, images), exactly as stored."""
    plan = ExportPlan()
    for course in _active_courses(session):
        base = f"{COURSES_DIR}/{course.folder}"
        plan.files[f"{base}/{COURSE_FILE}"] = course.raw_text.encode("utf-8")
        modules = session.execute(
            select(Module, ModuleVersion)
            .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
            .where(Module.course_id == course.id)
            .order_by(Module.position)
        ).all()
        for module, version in modules:
            path = f"{base}/{module.file_name}"
            if module.is_archived:
                plan.archived[path] = module.stable_id
            else:
                plan.files[path] = version.raw_text.encode("utf-8")
        for image in session.scalars(select(CourseFile).filter_by(course_id=course.id)):
            plan.files[f"{base}/{image.name}"] = image.data
    for path in list(plan.archived):
        if path in plan.files:
            del plan.archived[path]  # a live module took over the file name
    return plan


@dataclass(frozen=True)
class ModuleStats:
    """One module's size for ``flask content stats``."""

    course_id: str
    module_id: str
    words: int
    reading_minutes: int
    quiz_id: str | None


def module_stats(session: Session) -> list[ModuleStats]:
    """Word count and reading time of every current module, in catalogue order."""
    rows = session.execute(
        select(Course.stable_id, Module.stable_id, ModuleVersion.word_count, ModuleVersion.quiz_id)
        .join(Module, Module.course_id == Course.id)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .where(Course.is_archived.is_(False), Module.is_archived.is_(False))
        .order_by(Course.position, Course.stable_id, Module.position)
    ).all()
    return [
        ModuleStats(course_id, module_id, words, reading_minutes(words), quiz_id)
        for course_id, module_id, words, quiz_id in rows
    ]
