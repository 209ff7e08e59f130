"""Recording a learner's progress: viewing and completing modules, passing their quizzes.

Each event writes its progress row and its xAPI statement (to the outbox) in the caller's
transaction: the first view of a module is "experienced", completing it is "completed",
and meeting the course's completion rule the first time records the course completion
once, with its own "completed" statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    insert,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.database import DriverStatement, database_key
from liboppi.models import (
    Course,
    CourseProgress,
    Membership,
    Module,
    ModuleProgress,
    ModuleVersion,
)
from liboppi.xapi import statements as xs

from . import accounts, catalog, outbox
from .errors import NotFound

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
RULE_WITH_QUIZZES = "all_modules_and_quizzes"
VIEW_REFRESH = timedelta(minutes=1)


@dataclass(frozen=True)
class ModuleStatus:
    """Where a learner is in one module."""

    status: str
    fraction: float
    viewed_at: datetime | None = None
    completed_at: datetime | None = None
    quiz_passed_at: datetime | None = None


@dataclass(frozen=True)
class CourseStatus:
    """Where a learner is in one course."""

    status: str
    completed_modules: int
    total_modules: int
    completed_at: datetime | None = None

    @property
    def fraction(self) -> float:
        """Share of the course's modules completed, 0–1."""
        return self.completed_modules / self.total_modules if self.total_modules else 0.0

    @property
    def percent(self) -> int:
        """The fraction as a whole percentage."""
        return round(self.fraction * 100)


@dataclass(frozen=True)
class CompletionResult:
    """What completing a module recorded just now."""

    module_completed: bool
    course_completed: bool


def _needs_quiz(course: Course, version: ModuleVersion | None) -> bool:
    return course.completion == RULE_WITH_QUIZZES and bool(version and version.quiz_id)


def _is_done(course: Course, version: ModuleVersion | None, row: ModuleProgress | None) -> bool:
    if row is None or row.completed_at is None:
        return False
    return not _needs_quiz(course, version) or row.quiz_passed_at is not None


def _fraction(course: Course, version: ModuleVersion | None, row: ModuleProgress) -> float:
    if not _needs_quiz(course, version):
        return 1.0 if row.completed_at is not None else 0.0
    met = (row.completed_at is not None) + (row.quiz_passed_at is not None)
    return met / 2


def _status(course: Course, version: ModuleVersion | None, row: ModuleProgress | None) -> str:
    if row is None or (row.viewed_at is None and row.completed_at is None):
        return NOT_STARTED if row is None or row.quiz_passed_at is None else IN_PROGRESS
    return COMPLETED if _is_done(course, version, row) else IN_PROGRESS


def _active_modules(session: Session, course: Course) -> list[tuple[Module, ModuleVersion]]:
    rows = session.execute(
        select(Module, ModuleVersion)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .where(Module.course_id == course.id, Module.is_archived.is_(False))
        .order_by(Module.position)
    )
    return [(module, version) for module, version in rows]


def _rows(session: Session, user_id: int, module_ids: list[int]) -> dict[int, ModuleProgress]:
    if not module_ids:
        return {}
    return {
        row.module_id: row
        for row in session.scalars(
            select(ModuleProgress).where(
                ModuleProgress.user_id == user_id, ModuleProgress.module_id.in_(module_ids)
            )
        )
    }


@dataclass
class CourseState:
    """A course's current modules and one learner's progress rows in them, read once."""

    course: Course
    modules: Sequence[tuple[Module, ModuleVersion]]
    #: Progress rows by module row id.
    rows: dict[int, ModuleProgress]


def module_statuses(session: Session, user_id: int, course_id: str) -> dict[str, ModuleStatus]:
    """The learner's status in each current module of a course, by module id."""
    course = session.scalar(select(Course).filter_by(stable_id=course_id))
    if course is None:
        raise NotFound(course_id)
    modules = _active_modules(session, course)
    rows = _rows(session, user_id, [m.id for m, _ in modules])
    return _statuses(CourseState(course, modules, rows))


@dataclass
class _Progress:
    """A learner's progress in one module as the module page reads it (a light row)."""

    viewed_at: datetime | None
    last_viewed_at: datetime | None
    completed_at: datetime | None
    quiz_passed_at: datetime | None


@dataclass(frozen=True)
class _CourseFields:
    stable_id: str
    title: dict[str, str]
    description: dict[str, str]
    language: str
    tags: list[str]
    audience: list[str]
    prerequisites: list[str]
    completion: str


def _module_page_query(*, full: bool):
    """The module page's query: the course's current modules and the learner's progress.

    The light form (``full=False``) reads only what names the page's content (the course's
    hash and time, each module's current version) and the viewed module's number, date and
    progress: what every view needs. The full form adds what the page's structure is built
    from (the course's fields, each module's title, language, minutes, words and quiz), read
    only when no structure is cached for the light form's fingerprint.
    """
    course, module = Course.__table__, Module.__table__
    version, row = ModuleVersion.__table__, ModuleProgress.__table__
    viewed = module.c.stable_id == bindparam("module_id")
    structure = (
        [
            course.c.stable_id.label("course_stable_id"),
            # The course's JSON columns repeat on every row: read as text, decoded once.
            cast(course.c.title, Text).label("course_title"),
            cast(course.c.description, Text).label("course_description"),
            course.c.language.label("course_language"),
            cast(course.c.tags, Text).label("tags"),
            cast(course.c.audience, Text).label("audience"),
            cast(course.c.prerequisites, Text).label("prerequisites"),
            course.c.completion,
            version.c.title,
            version.c.language,
            version.c.estimated_minutes,
            version.c.word_count,
            version.c.quiz_id,
        ]
        if full
        else []
    )
    return (
        select(
            course.c.content_hash.label("course_hash"),
            cast(course.c.updated_at, Text).label("course_updated_at"),
            module.c.id.label("module_pk"),
            module.c.stable_id,
            version.c.id.label("version_pk"),
            version.c.content_hash,
            case((viewed, version.c.number)).label("number"),
            case((viewed, version.c.created_at)).label("created_at"),
            row.c.id.label("progress_pk"),
            row.c.viewed_at,
            row.c.last_viewed_at,
            row.c.completed_at,
            row.c.quiz_passed_at,
            *structure,
        )
        .select_from(
            course.join(
                module, and_(module.c.course_id == course.c.id, module.c.is_archived.is_(False))
            )
            .join(version, version.c.id == module.c.current_version_id)
            .outerjoin(
                row,
                and_(row.c.module_id == module.c.id, row.c.user_id == bindparam("user_id"), viewed),
            )
        )
        .where(course.c.stable_id == bindparam("course_id"), course.c.is_archived.is_(False))
        .order_by(module.c.position, module.c.id)
    )


#: Every view of a module page runs the light query; the full one only when the course's
#: structure for that fingerprint is not yet cached in the process. The rendered HTML comes
#: from ``catalog.version_body``.
_MODULE_PAGE = DriverStatement(_module_page_query(full=False))
_MODULE_PAGE_FULL = DriverStatement(_module_page_query(full=True))


def _signed_in_page_query():
    """The signed-in user's rows and the module page's light rows, in one statement.

    ``part`` 0: ``accounts.session_user_query``'s rows (none when the user is not active);
    ``part`` 1: the light page query's rows, in module order. Each part has the other's
    columns as NULLs of the same types, so the rows of both come back as one row type and
    each part's readers find the columns they know by name. One statement instead of two
    is one round trip to a PostgreSQL server instead of two, on every module page.
    """
    user, page = accounts.session_user_query(), _module_page_query(full=False)
    module, membership = Module.__table__, Membership.__table__
    user_columns = list(user.selected_columns)
    page_columns = list(page.selected_columns)

    def nulls(columns):
        return [type_coerce(null(), c.type).label(c.key) for c in columns]

    users = user.with_only_columns(
        literal_column("0").label("part"),
        *user_columns,
        *nulls(page_columns),
        type_coerce(null(), Integer).label("position"),
        membership.c.id.label("sort_key"),
        maintain_column_froms=True,
    ).order_by(None)
    pages = page.with_only_columns(
        literal_column("1"),
        *nulls(user_columns),
        *page_columns,
        module.c.position,
        module.c.id,
        maintain_column_froms=True,
    ).order_by(None)
    return union_all(users, pages).order_by(
        literal_column("part"), literal_column("position"), literal_column("sort_key")
    )


_SIGNED_IN_PAGE = DriverStatement(_signed_in_page_query())


@dataclass(frozen=True)
class PageRead:
    """A module page's light rows, read for ``user_id`` with their user (see below)."""

    user_id: int
    course_id: str
    module_id: str
    rows: Sequence[Any]


def signed_in_module_page(
    reads: Connection, user_id: int, course_id: str, module_id: str
) -> tuple[accounts.SessionUser | None, PageRead]:
    """The active user ``user_id`` (as ``accounts.load_session_user``) and the page's rows.

    For a request to a module page: the user check every request makes and the page's
    own first query share one statement. The rows are only data until the user is found
    active; pass them to ``view_module`` as ``read``.
    """
    values = {"user_id": user_id, "course_id": course_id, "module_id": module_id}
    rows = _SIGNED_IN_PAGE.rows(reads, values)
    user = accounts.session_user(user_id, [r for r in rows if r.part == 0])
    page = PageRead(user_id, course_id, module_id, [r for r in rows if r.part == 1])
    return user, page


@dataclass(frozen=True)
class _Structure:
    """A course's fields and its module list as the module page shows them (no learner)."""

    course: _CourseFields
    card: catalog.CourseCard
    entries: tuple[catalog.ModuleEntry, ...]


#: Structures by (database, fingerprint): what ``_fingerprint`` names (the course file's hash
#: and time, every current module version in order) is all a structure is built from, so an
#: entry never goes stale; a changed course or module gives another key. Bounded.
_structures: dict[tuple[Any, ...], _Structure] = {}
_STRUCTURES_MAX = 256


def _fingerprint(rows: Sequence[Any], index: int) -> tuple[Any, ...]:
    first = rows[0]
    return (
        first.course_hash,
        first.course_updated_at,
        index,
        tuple((r.version_pk, r.content_hash) for r in rows),
    )


def _structure(database: Any, rows: Sequence[Any], fingerprint: tuple[Any, ...]) -> _Structure:
    """The structure built from ``rows`` of the full query, kept under ``fingerprint``."""
    first = rows[0]
    course = _CourseFields(
        first.course_stable_id,
        json.loads(first.course_title),
        json.loads(first.course_description),
        first.course_language,
        json.loads(first.tags),
        json.loads(first.audience),
        json.loads(first.prerequisites),
        first.completion,
    )
    entries = tuple(catalog.module_entry(r, r, i) for i, r in enumerate(rows))
    found = _Structure(course, catalog.course_card(course, list(entries)), entries)
    if len(_structures) >= _STRUCTURES_MAX:
        _structures.clear()
    _structures[(database, fingerprint)] = found
    return found


@dataclass(frozen=True)
class _View:
    """A recorded view: the course's module rows as read, which one, and the learner's state."""

    rows: Sequence[Any]
    index: int
    structure: _Structure
    fingerprint: tuple[Any, ...]
    state: _Progress
    first: bool
    wrote: bool


@dataclass(frozen=True)
class Reads:
    """Where a page reads: its database (``database_key``) and a connection, opened only when
    something is not in a cache (``connect`` is called for each read: return the same one)."""

    database: str
    connect: Callable[[], Connection]

    @classmethod
    def on(cls, connection: Connection) -> Reads:
        return cls(database_key(connection.engine), lambda: connection)


def _read_page(
    reads: Reads, values: dict[str, Any], read: PageRead | None
) -> tuple[Sequence[Any], int, _Structure]:
    """The module's rows, its index among them and the course's structure.

    The light query (or ``read``, its rows read with the user) names the content by its
    fingerprint; only when no structure is cached under it is the full query run, and its
    own rows (read a moment later, maybe after an import) are then the ones used, so rows,
    index and structure always agree.
    """
    database = reads.database
    if read is not None and (read.user_id, read.course_id, read.module_id) == (
        values["user_id"],
        values["course_id"],
        values["module_id"],
    ):
        rows = read.rows
    else:
        rows = _MODULE_PAGE.rows(reads.connect(), values)
    index = _index(rows, values["module_id"])
    structure = _structures.get((database, _fingerprint(rows, index)))
    if structure is None:
        rows = _MODULE_PAGE_FULL.rows(reads.connect(), values)
        index = _index(rows, values["module_id"])
        structure = _structure(database, rows, _fingerprint(rows, index))
    return rows, index, structure


def _index(rows: Sequence[Any], module_id: str) -> int:
    index = next((i for i, r in enumerate(rows) if r.stable_id == module_id), None)
    if index is None:
        raise NotFound(module_id)
    return index


def _record(
    reads: Reads,
    writer: Callable[[], Session],
    user_id: int,
    course_id: str,
    module_id: str,
    base_url: str,
    language: str,
    read: PageRead | None = None,
) -> _View:
    """Read the module page and record the view; writes go through ``writer()``'s session.

    ``reads`` is on the session's own connection or a request's read connection: a view that
    needs no write (the learner was here within the last minute) then never opens a session.
    """
    values = {"user_id": user_id, "course_id": course_id, "module_id": module_id}
    rows, index, structure = _read_page(reads, values, read)
    found, entry = rows[index], structure.entries[index]
    fingerprint = _fingerprint(rows, index)
    now = clock.now()
    table = ModuleProgress.__table__
    if found.progress_pk is not None and found.viewed_at is not None:
        state = _Progress(
            found.viewed_at, found.last_viewed_at, found.completed_at, found.quiz_passed_at
        )
        # Reloads and back-and-forth within a minute need no write.
        wrote = state.last_viewed_at is None or now - state.last_viewed_at >= VIEW_REFRESH
        if wrote:
            writer().execute(
                update(table).where(table.c.id == found.progress_pk).values(last_viewed_at=now)
            )
            state.last_viewed_at = now
        return _View(rows, index, structure, fingerprint, state, first=False, wrote=wrote)
    session = writer()
    if found.progress_pk is None:
        session.execute(
            insert(table).values(
                user_id=user_id,
                module_id=found.module_pk,
                fraction=0.0,
                viewed_at=now,
                last_viewed_at=now,
            )
        )
        state = _Progress(now, now, None, None)
    else:  # a row without a view: the module's quiz was passed before it was opened
        session.execute(
            update(table)
            .where(table.c.id == found.progress_pk)
            .values(viewed_at=now, last_viewed_at=now)
        )
        state = _Progress(now, now, found.completed_at, found.quiz_passed_at)
    origin, library_id = outbox.origin_for(session, user_id, base_url=base_url, language=language)
    statement = xs.module_experienced(
        origin,
        _course_content(structure.course),
        xs.Content(id=entry.id, name={entry.language: entry.title}),
        clock=clock.now,
    )
    outbox.enqueue(session, statement, user_id=user_id, library_id=library_id)
    return _View(rows, index, structure, fingerprint, state, first=True, wrote=True)


def record_view(
    session: Session, user_id: int, course_id: str, module_id: str, *, base_url: str, language: str
) -> bool:
    """Record that the learner opened a module; return True on their first view.

    The first view adds an xAPI "experienced" statement; later views only refresh
    ``last_viewed_at``, at most once a minute.
    """
    view = _record(
        Reads.on(session.connection()),
        lambda: session,
        user_id,
        course_id,
        module_id,
        base_url,
        language,
    )
    return view.first


def view_module(
    reads: Reads,
    writer: Callable[[], Session],
    user_id: int,
    course_id: str,
    module_id: str,
    *,
    base_url: str,
    language: str,
    read: PageRead | None = None,
) -> ModuleView:
    """A module's page for the learner, with the view recorded (``record_view``), and their
    status in it after that.

    One query of light columns (no module texts, no course fields) reads the content's
    fingerprint and the learner's progress on ``reads`` (unless ``read`` has them: then, with
    everything below cached, no connection is opened at all); what is built from the course and
    its modules alone is kept per process by that fingerprint, and the version's rendered
    body comes from ``catalog.version_body``. A write (the first view, or a refresh of the
    last view's time) goes through ``writer()``'s session, and ``wrote`` says so: the caller
    commits it. Most views write nothing and open no session. ``read``: the page's rows
    as ``signed_in_module_page`` read them with the user, used when they are for this view.
    """
    view = _record(reads, writer, user_id, course_id, module_id, base_url, language, read)
    rows, index, state, structure = view.rows, view.index, view.state, view.structure
    found, entry = rows[index], structure.entries[index]
    page = catalog.module_page(
        structure.card,
        structure.entries,
        index,
        catalog.version_body(reads.database, reads.connect, found.version_pk, found.content_hash),
        version_number=found.number,
        updated_at=found.created_at,
        fingerprint=view.fingerprint,
    )
    status = ModuleStatus(
        status=_status(structure.course, entry, state),
        fraction=_fraction(structure.course, entry, state),
        viewed_at=state.viewed_at,
        completed_at=state.completed_at,
        quiz_passed_at=state.quiz_passed_at,
    )
    return ModuleView(page, status, view.wrote)


@dataclass(frozen=True)
class ModuleView:
    """A module page as a learner opened it: the page, their status, and whether it wrote."""

    page: catalog.ModulePage
    status: ModuleStatus
    wrote: bool


def _statuses(state: CourseState) -> dict[str, ModuleStatus]:
    course, rows = state.course, state.rows
    statuses: dict[str, ModuleStatus] = {}
    for module, version in state.modules:
        row = rows.get(module.id)
        statuses[module.stable_id] = ModuleStatus(
            status=_status(course, version, row),
            fraction=_fraction(course, version, row) if row else 0.0,
            viewed_at=row.viewed_at if row else None,
            completed_at=row.completed_at if row else None,
            quiz_passed_at=row.quiz_passed_at if row else None,
        )
    return statuses


def course_statuses(session: Session, user_id: int) -> dict[str, CourseStatus]:
    """The learner's status in every current course, by course id."""
    courses = list(session.scalars(select(Course).where(Course.is_archived.is_(False))))
    completions = {
        row.course_id: row.completed_at
        for row in session.scalars(select(CourseProgress).filter_by(user_id=user_id))
    }
    result: dict[str, CourseStatus] = {}
    for course in courses:
        modules = _active_modules(session, course)
        rows = _rows(session, user_id, [m.id for m, _ in modules])
        done = sum(_is_done(course, v, rows.get(m.id)) for m, v in modules)
        completed_at = completions.get(course.id)
        if completed_at is not None:
            status = COMPLETED
        elif rows:
            status = IN_PROGRESS
        else:
            status = NOT_STARTED
        result[course.stable_id] = CourseStatus(status, done, len(modules), completed_at)
    return result


def _find(session: Session, course_id: str, module_id: str) -> tuple[Course, Module, ModuleVersion]:
    found = session.execute(
        select(Course, Module, ModuleVersion)
        .join(Module, Module.course_id == Course.id)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .where(
            Course.stable_id == course_id,
            Module.stable_id == module_id,
            Course.is_archived.is_(False),
            Module.is_archived.is_(False),
        )
    ).one_or_none()
    if found is None:
        raise NotFound(module_id)
    course, module, version = found
    return course, module, version


def _row(session: Session, user_id: int, module: Module) -> ModuleProgress:
    row = session.scalar(select(ModuleProgress).filter_by(user_id=user_id, module_id=module.id))
    return row if row is not None else _new_row(session, user_id, module)


def _new_row(session: Session, user_id: int, module: Module) -> ModuleProgress:
    row = ModuleProgress(user_id=user_id, module_id=module.id, fraction=0.0)
    session.add(row)
    return row


def _course_content(course: Course) -> xs.Content:
    return xs.Content(id=course.stable_id, name=dict(course.title))


def _module_content(module: Module, version: ModuleVersion) -> xs.Content:
    return xs.Content(id=module.stable_id, name={version.language: version.title})


def complete_module(
    session: Session, user_id: int, course_id: str, module_id: str, *, base_url: str, language: str
) -> CompletionResult:
    """Mark a module completed for the learner (once), and the course if that finishes it."""
    course, module, version = _find(session, course_id, module_id)
    row = _row(session, user_id, module)
    if row.completed_at is not None:
        return CompletionResult(False, False)
    now = clock.now()
    row.viewed_at = row.viewed_at or now
    row.last_viewed_at = now
    row.completed_at = now
    row.module_version_id = version.id
    row.fraction = _fraction(course, version, row)
    origin, library_id = outbox.origin_for(session, user_id, base_url=base_url, language=language)
    statement = xs.module_completed(
        origin, _course_content(course), _module_content(module, version), clock=clock.now
    )
    outbox.enqueue(session, statement, user_id=user_id, library_id=library_id)
    session.flush()
    finished = _complete_course_if_done(session, user_id, course, base_url, language)
    return CompletionResult(True, finished)


def _complete_course_if_done(
    session: Session, user_id: int, course: Course, base_url: str, language: str
) -> bool:
    existing = session.scalar(
        select(CourseProgress).filter_by(user_id=user_id, course_id=course.id)
    )
    if existing is not None:
        return False
    modules = _active_modules(session, course)
    if not modules:
        return False
    rows = _rows(session, user_id, [m.id for m, _ in modules])
    if not all(_is_done(course, version, rows.get(module.id)) for module, version in modules):
        return False
    session.add(CourseProgress(user_id=user_id, course_id=course.id, completed_at=clock.now()))
    origin, library_id = outbox.origin_for(session, user_id, base_url=base_url, language=language)
    statement = xs.course_completed(origin, _course_content(course), clock=clock.now)
    outbox.enqueue(session, statement, user_id=user_id, library_id=library_id)
    session.flush()
    return True


def on_quiz_passed(
    session: Session, user_id: int, quiz_id: str, *, base_url: str, language: str
) -> None:
    """Record that the learner passed ``quiz_id`` on every current module linking that quiz.

    Called by the quiz engine when an attempt passes. The quiz's own xAPI statement is the
    quiz engine's; this only adds "course completed" when the pass meets the course's
    ``all_modules_and_quizzes`` rule for the first time.
    """
    found = session.execute(
        select(Course, Module, ModuleVersion)
        .join(Module, Module.course_id == Course.id)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .where(
            ModuleVersion.quiz_id == quiz_id,
            Module.is_archived.is_(False),
            Course.is_archived.is_(False),
        )
    ).all()
    now = clock.now()
    courses: dict[int, Course] = {}
    for course, module, version in found:
        row = _row(session, user_id, module)
        if row.quiz_passed_at is None:
            row.quiz_passed_at = now
        row.fraction = _fraction(course, version, row)
        courses[course.id] = course
    session.flush()
    for course in courses.values():
        _complete_course_if_done(session, user_id, course, base_url, language)
