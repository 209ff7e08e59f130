"""Taking a quiz: start, answer, submit, review, and practise the mistakes.

Every answer is saved on the server as it is given, one row per question (saving the same
answer again changes nothing). An unfinished attempt resumes with the same questions and
option order, which were drawn from its seed at the start and stored. The time limit is
enforced here with ``liboppi.clock``: an answer after ``deadline_at`` is refused, and an
expired attempt is submitted with what was saved the next time anyone touches it.
Submitting twice (two tabs) grades once: the first request claims the attempt with a
conditional UPDATE and the second sees it already submitted.

Grading is the pure ``liboppi.quiz.grading`` on the version the attempt started with and
the pass mark copied onto the attempt. xAPI statements go to the outbox in the caller's
transaction: ``quiz_attempted`` at the start, ``question_answered`` for each saved answer
that changed, ``quiz_passed``/``quiz_failed`` at submit. Practice attempts are ungraded
and send nothing.

What a page may show follows the quiz's rules: ``feedback`` says when answer-specific
feedback (whether right, and the chosen option's feedback) shows, ``review`` when the
correct answers and the general feedback show.

An attempt is loaded (``load``) as plain records read by two Core queries, and answers are
written by Core statements: a page or an answer save builds no ORM objects. Only what
changes an attempt itself (submitting, practice) works on its ORM row.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from liboppi import clock
from liboppi.database import DriverStatement
from liboppi.models import Answer, Attempt, AttemptStatus, Quiz, QuizVersion, User
from liboppi.models.content import Course
from liboppi.quiz import grading, order
from liboppi.quiz.registry import get_question_type
from liboppi.quiz.source import Question, QuizSettings, QuizSource
from liboppi.quiz.types.base import ResponseInvalid, Result
from liboppi.xapi import statements as xs

from . import item_analysis, outbox, progress
from .errors import Conflict, NotFound
from .quiz_import import get_current_version, get_quiz, quiz_source

#: The language of a quiz's texts when its course is not imported (courses are fi or sv).
UNKNOWN_LANGUAGE = "und"


@dataclass(frozen=True, slots=True)
class Recorder:
    """Where statements about a learner's actions are grouped: instance URL and UI language."""

    base_url: str
    language: str = "fi"


# -- What pages get ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One attempt as listed on the quiz's intro page."""

    id: int
    number: int
    status: str
    started_at: datetime
    submitted_at: datetime | None
    score_scaled: float | None
    has_passed: bool | None
    is_auto_submitted: bool
    can_practise: bool


@dataclass(frozen=True, slots=True)
class QuizOverview:
    """The intro page: rules, attempts used and left, best score, what can be done now."""

    quiz_id: str
    course_id: str
    title: str
    intro: str
    settings: QuizSettings
    question_count: int
    is_archived: bool
    attempts_used: int
    attempts_left: int | None
    best_scaled: float | None
    has_passed: bool
    open_attempt_id: int | None
    open_practice_id: int | None
    attempts: tuple[AttemptRow, ...]

    @property
    def can_start(self) -> bool:
        """Tell whether a new attempt can start now (or the open one be resumed)."""
        if self.open_attempt_id is not None:
            return True
        return not self.is_archived and (self.attempts_left is None or self.attempts_left > 0)


@dataclass(frozen=True, slots=True)
class Feedback:
    """What a learner is told about one answer, as far as the quiz's rules allow.

    ``is_correct``/``score``/``option_feedback`` are answer-specific feedback (None/empty
    when not allowed); ``correct_summary`` and ``general_feedback`` belong to the review.
    """

    is_correct: bool | None = None
    score: float | None = None
    option_feedback: tuple[str, ...] = ()
    correct_summary: str | None = None
    general_feedback: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionState:
    """One question of an attempt as the learner sees it, with their saved answer."""

    number: int
    id: str
    type: str
    view: Mapping[str, Any]
    response: Any
    is_answered: bool
    is_valid: bool
    is_final: bool
    answer_lines: tuple[str, ...] = ()
    feedback: Feedback | None = None


@dataclass(frozen=True, slots=True)
class QuestionForm:
    """What reading the answer to a question from a posted form needs: its id and public
    view (``question_form_at``; a ``QuestionState`` has them too)."""

    id: str
    view: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AttemptView:
    """An attempt in progress (or just closed), question by question."""

    attempt_id: int
    quiz_id: str
    title: str
    status: AttemptStatus
    settings: QuizSettings
    started_at: datetime
    deadline_at: datetime | None
    questions: tuple[QuestionState, ...]
    is_practice: bool

    @property
    def is_open(self) -> bool:
        return self.status is AttemptStatus.IN_PROGRESS

    @property
    def answered_count(self) -> int:
        return sum(question.is_answered for question in self.questions)

    @property
    def unanswered(self) -> tuple[QuestionState, ...]:
        return tuple(question for question in self.questions if not question.is_answered)

    def seconds_left(self) -> int | None:
        """Return the whole seconds until the deadline (0 when past), or None without one."""
        if self.deadline_at is None:
            return None
        return max(0, int((self.deadline_at - clock.now()).total_seconds()))


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """What became of the answers sent in one request.

    ``status`` is ``saved``; ``late`` when the deadline had passed (nothing saved, the
    attempt is now submitted); or ``closed`` when the attempt was already submitted.
    """

    status: str
    saved: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    locked: tuple[str, ...] = ()
    saved_at: datetime | None = None
    #: The origin and activities the answers' statements were recorded with
    #: (``save_unlocked``'s, for a caller that keeps the attempt between requests).
    recording: Recording | None = None


@dataclass(frozen=True, slots=True)
class ResultView:
    """A submitted attempt: score, pass, and the review as far as the rules allow."""

    attempt_id: int
    quiz_id: str
    title: str
    settings: QuizSettings
    started_at: datetime
    submitted_at: datetime | None
    is_auto_submitted: bool
    score_raw: float
    score_max: float
    score_scaled: float
    has_passed: bool
    pass_mark: float
    version_number: int
    shows_feedback: bool
    shows_correct: bool
    questions: tuple[QuestionState, ...]
    wrong_count: int
    can_practise: bool


@dataclass(frozen=True, slots=True)
class PracticeView:
    """A practice round: the question to try now and how many are right so far."""

    attempt_id: int
    source_attempt_id: int
    quiz_id: str
    title: str
    total: int
    done: int
    current: QuestionState | None
    last: QuestionState | None = None
    shows_correct: bool = False
    shows_feedback: bool = False

    @property
    def is_finished(self) -> bool:
        return self.done >= self.total


@dataclass(frozen=True, slots=True)
class CourseRef:
    """What statements need of a quiz's course: its id, language and titles."""

    stable_id: str
    language: str | None
    title: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """An attempt's row as read (``quiz_attempts``): what pages, saves and statements use.

    Loading reads plain rows, not ORM objects: building them costs more than the queries
    on a request that saves one answer. What changes an attempt (``finish``, practice)
    works on the ORM row and takes a new record of it.
    """

    id: int
    user_id: int
    quiz_id: int
    quiz_version_id: int
    seed: str
    question_ids: list[str]
    option_orders: dict[str, list[str]]
    status: AttemptStatus
    started_at: datetime
    deadline_at: datetime | None
    submitted_at: datetime | None
    is_auto_submitted: bool
    score_raw: float | None
    score_max: float | None
    score_scaled: float | None
    has_passed: bool | None
    pass_mark: float
    registration: str
    is_practice: bool
    practice_of_id: int | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptRecord:
        """Return the record of an ORM attempt as it is now."""
        return cls(*(getattr(attempt, name) for name in _ATTEMPT_FIELDS))


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """A saved answer's row as read (``quiz_answers``), without what only grading stores."""

    id: int
    question_id: str
    response: Any
    is_valid: bool
    saved_at: datetime
    seconds_spent: float | None
    score: float | None
    is_correct: bool | None
    is_final: bool

    @classmethod
    def of(cls, answer: Answer) -> SavedAnswer:
        """Return the record of an ORM answer as it is now."""
        return cls(*(getattr(answer, name) for name in _ANSWER_FIELDS))


@dataclass(frozen=True, slots=True)
class QuizRef:
    """The quiz of an attempt: its primary key and stable id."""

    id: int
    stable_id: str


@dataclass(frozen=True, slots=True)
class VersionRef:
    """The quiz version of an attempt: its primary key, number and content hash."""

    id: int
    number: int
    content_hash: str


#: An attempt as the rules below read it: an ORM row (lists, changes) or a loaded record.
AnyAttempt = Attempt | AttemptRecord
#: Each record's fields, in the order the load queries select their columns.
_ATTEMPT_FIELDS = tuple(item.name for item in fields(AttemptRecord))
_ANSWER_FIELDS = tuple(item.name for item in fields(SavedAnswer))
_ATTEMPT_WIDTH = len(_ATTEMPT_FIELDS)


@dataclass(slots=True)
class Loaded:
    """An attempt with its quiz, version and parsed content, loaded once per call.

    ``public_id`` is the attempt's user's and ``course`` the quiz's course (None when not
    imported), read with the attempt so a saved answer's statement needs no more queries.
    """

    attempt: AttemptRecord
    quiz: QuizRef
    version: VersionRef
    source: QuizSource
    answers: dict[str, SavedAnswer] = field(default_factory=dict)
    public_id: str | None = None
    course: CourseRef | None = None

    @property
    def settings(self) -> QuizSettings:
        return self.source.settings

    def questions(self) -> list[Question]:
        return [self.source.get_question(question_id) for question_id in self.attempt.question_ids]


# -- Loading and rules ------------------------------------------------------------------------


_ATTEMPTS = Attempt.__table__
_ANSWERS_TABLE = Answer.__table__
_VERSIONS = QuizVersion.__table__
# The queries of ``load`` are Core statements built once with bound parameters, run on the
# session's connection: building a select costs more than SQLite takes to run it, and the
# ORM's execution and objects cost several times what the queries do. One query reads the
# attempt with its version's number and hash, its quiz's stable id, the user's public id and
# the course; the answers are read by a second one, after the attempt's row lock is taken.
_LOAD_SELECT = (
    select(
        *(_ATTEMPTS.c[name] for name in _ATTEMPT_FIELDS),
        _VERSIONS.c.quiz_id,
        _VERSIONS.c.number,
        _VERSIONS.c.content_hash,
        Quiz.__table__.c.stable_id,
        User.__table__.c.public_id,
        Course.__table__.c.stable_id,
        Course.__table__.c.language,
        Course.__table__.c.title,
    )
    .select_from(_ATTEMPTS)
    .join(_VERSIONS, _VERSIONS.c.id == _ATTEMPTS.c.quiz_version_id)
    .join(Quiz.__table__, Quiz.__table__.c.id == _ATTEMPTS.c.quiz_id)
    .join(User.__table__, User.__table__.c.id == _ATTEMPTS.c.user_id)
    .outerjoin(Course.__table__, Course.__table__.c.stable_id == Quiz.__table__.c.course_id)
    .where(_ATTEMPTS.c.id == bindparam("attempt_id"), _ATTEMPTS.c.user_id == bindparam("user_id"))
)
_LOAD_LOCKED = DriverStatement(_LOAD_SELECT.with_for_update(of=_ATTEMPTS))
_ANSWERS_SELECT = select(*(_ANSWERS_TABLE.c[name] for name in _ANSWER_FIELDS)).where(
    _ANSWERS_TABLE.c.attempt_id == bindparam("attempt_id")
)
_ANSWERS = DriverStatement(_ANSWERS_SELECT)
_LOAD_WIDTH = len(_LOAD_SELECT.selected_columns)


def _load_with_answers_query() -> Any:
    """The attempt's row (``part`` 0) and its answers' rows (``part`` 1) in one statement, for
    a load without the lock: one round trip to a PostgreSQL server instead of two. Each part
    has the other's columns as NULLs of the same types, so both come back as one row type."""
    attempt_columns = list(_LOAD_SELECT.selected_columns)
    answer_columns = list(_ANSWERS_SELECT.selected_columns)

    def nulls(columns: list[Any]) -> list[Any]:
        return [type_coerce(null(), c.type) for c in columns]

    attempt = _LOAD_SELECT.with_only_columns(
        literal_column("0").label("part"), *attempt_columns, *nulls(answer_columns)
    )
    answers = _ANSWERS_SELECT.with_only_columns(
        literal_column("1"), *nulls(attempt_columns), *answer_columns
    )
    return union_all(attempt, answers).order_by(literal_column("part"))


_LOAD_WITH_ANSWERS = DriverStatement(_load_with_answers_query())


def load(
    session: Session,
    user_id: int,
    attempt_id: int,
    *,
    lock: bool = False,
    connection: Connection | None = None,
) -> Loaded:
    """Load the user's attempt; NotFound for anyone else's (its existence is not revealed).

    ``lock`` takes the row lock (PostgreSQL) so a concurrent submit waits for this request;
    the answers are read after it, so they are the ones as of the lock. SQLite has no row
    locks: there, answer writes are conditional instead (see ``upsert_answer``) and
    ``finish`` reads the answers again after claiming the attempt. ``connection``, when
    given, is read on instead of the session's (``save_unlocked``'s autocommit reads).
    """
    if connection is None:
        connection = session.connection()
    values = {"attempt_id": attempt_id, "user_id": user_id}
    if lock:
        rows = _LOAD_LOCKED.rows(connection, values)
        if not rows:
            raise NotFound("attempt")
        (row,) = rows
        answer_rows = _ANSWERS.rows(connection, {"attempt_id": attempt_id})
    else:
        rows = _LOAD_WITH_ANSWERS.rows(connection, values)
        if not rows or rows[0][0] != 0:
            raise NotFound("attempt")
        row = rows[0][1 : 1 + _LOAD_WIDTH]
        answer_rows = [r[1 + _LOAD_WIDTH :] for r in rows[1:]]
    attempt = AttemptRecord(*row[:_ATTEMPT_WIDTH])
    version_quiz, number, content_hash, stable_id, public_id, *course = row[_ATTEMPT_WIDTH:]
    assert version_quiz == attempt.quiz_id
    quiz = QuizRef(attempt.quiz_id, stable_id)
    version = VersionRef(attempt.quiz_version_id, number, content_hash)
    saved = [SavedAnswer(*answer) for answer in answer_rows]
    answers = {answer.question_id: answer for answer in saved}
    source = source_of(session, quiz, version)
    return Loaded(
        attempt,
        quiz,
        version,
        source,
        answers,
        public_id,
        CourseRef(*course) if course[0] is not None else None,
    )


#: Parsed quizzes by content hash and quiz id, as ``quiz_source`` caches them: here so that
#: finding an attempt's quiz needs only its version's hash, not the version's ORM row.
_parsed: dict[tuple[str, str], QuizSource] = {}


def source_of(session: Session, quiz: QuizRef, version: VersionRef) -> QuizSource:
    """Return the parsed quiz of a version (its rows are read only the first time)."""
    key = (version.content_hash, quiz.stable_id)
    found = _parsed.get(key)
    if found is None:
        quiz_row = session.get(Quiz, quiz.id)
        version_row = session.get(QuizVersion, version.id)
        assert quiz_row is not None and version_row is not None
        found = quiz_source(quiz_row, version_row)
        if len(_parsed) >= 512:
            _parsed.clear()
        _parsed[key] = found
    return found


def shows_correct(settings: QuizSettings, attempt: AnyAttempt) -> bool:
    """Tell whether a submitted attempt's review may show the correct answers."""
    if settings.review == "after_submit":
        return True
    return settings.review == "after_pass" and bool(attempt.has_passed)


def shows_feedback_after_submit(settings: QuizSettings) -> bool:
    """Tell whether answer-specific feedback shows once the attempt is submitted."""
    return settings.feedback in ("immediately", "after_submit")


def can_practise(settings: QuizSettings, attempt: AnyAttempt, wrong_count: int) -> bool:
    """Tell whether the learner may practise the questions they got wrong in an attempt.

    Not when the quiz never reveals answers (``review: never``): trying until right
    would reveal them.
    """
    return (
        not attempt.is_practice
        and attempt.status is AttemptStatus.SUBMITTED
        and settings.review != "never"
        and wrong_count > 0
    )


def is_expired(attempt: AnyAttempt) -> bool:
    """Tell whether an open attempt's deadline has passed."""
    return (
        attempt.status is AttemptStatus.IN_PROGRESS
        and attempt.deadline_at is not None
        and clock.now() > attempt.deadline_at
    )


@dataclass(frozen=True, slots=True)
class QuizListRow:
    """A quiz in the list of quizzes, with the user's best result."""

    quiz_id: str
    course_id: str
    course_title: str
    title: str
    attempts: int
    best_scaled: float | None
    has_passed: bool
    has_open_attempt: bool


def list_quizzes(session: Session, user_id: int, language: str = "fi") -> list[QuizListRow]:
    """Return the quizzes in use, by course, with the user's attempts summed up in SQL.

    ``course_title`` is the course's title in ``language`` (its id when not imported).
    """
    mine = (
        select(
            Attempt.quiz_id.label("quiz_id"),
            func.count().label("attempts"),
            func.max(Attempt.score_scaled).label("best"),
            func.max(case((Attempt.has_passed.is_(True), 1), else_=0)).label("passed"),
            func.max(case((Attempt.status == AttemptStatus.IN_PROGRESS, 1), else_=0)).label("open"),
        )
        .where(Attempt.user_id == user_id, Attempt.is_practice.is_(False))
        .group_by(Attempt.quiz_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Quiz.stable_id,
            Quiz.course_id,
            Quiz.title,
            mine.c.attempts,
            mine.c.best,
            mine.c.passed,
            mine.c.open,
            Course,
        )
        .outerjoin(mine, mine.c.quiz_id == Quiz.id)
        .outerjoin(Course, Course.stable_id == Quiz.course_id)
        .where(Quiz.is_archived.is_(False))
        .order_by(Course.position, Quiz.course_id, Quiz.stable_id)
    )
    return [
        QuizListRow(
            quiz_id=stable_id,
            course_id=course_id,
            course_title=course.title_in(language) if course is not None else course_id,
            title=title,
            attempts=int(count or 0),
            best_scaled=best,
            has_passed=bool(passed),
            has_open_attempt=bool(is_open),
        )
        for stable_id, course_id, title, count, best, passed, is_open, course in rows
    ]


# -- Intro page -------------------------------------------------------------------------------


def get_overview(session: Session, user_id: int, quiz_id: str, recorder: Recorder) -> QuizOverview:
    """Return the intro page of a quiz for a user (submitting an expired attempt first)."""
    quiz = get_quiz(session, quiz_id)
    version = get_current_version(session, quiz)
    source = quiz_source(quiz, version)
    attempts = list(
        session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.quiz_id == quiz.id)
            .order_by(Attempt.started_at, Attempt.id)
        )
    )
    for attempt in attempts:
        if is_expired(attempt):
            close_expired(session, load(session, user_id, attempt.id, lock=True), recorder)
    graded = [attempt for attempt in attempts if not attempt.is_practice]
    wrong = wrong_counts(session, [a.id for a in graded])
    rows: list[AttemptRow] = []
    settings_by_version: dict[int, QuizSettings] = {}
    for number, attempt in enumerate(graded, 1):
        settings = settings_by_version.get(attempt.quiz_version_id)
        if settings is None:
            attempt_version = session.get(QuizVersion, attempt.quiz_version_id)
            assert attempt_version is not None
            settings = quiz_source(quiz, attempt_version).settings
            settings_by_version[attempt.quiz_version_id] = settings
        rows.append(
            AttemptRow(
                id=attempt.id,
                number=number,
                status=attempt.status.value,
                started_at=attempt.started_at,
                submitted_at=attempt.submitted_at,
                score_scaled=attempt.score_scaled,
                has_passed=attempt.has_passed,
                is_auto_submitted=attempt.is_auto_submitted,
                can_practise=can_practise(settings, attempt, wrong.get(attempt.id, 0)),
            )
        )
    settings = source.settings
    used = len(graded)
    scores = [a.score_scaled for a in graded if a.score_scaled is not None]
    open_attempt = next((a for a in graded if a.status is AttemptStatus.IN_PROGRESS), None)
    open_practice = next(
        (a for a in attempts if a.is_practice and a.status is AttemptStatus.IN_PROGRESS), None
    )
    return QuizOverview(
        quiz_id=quiz.stable_id,
        course_id=quiz.course_id,
        title=source.title,
        intro=source.intro,
        settings=settings,
        question_count=len(order.draw_questions(source, 0)),
        is_archived=quiz.is_archived,
        attempts_used=used,
        attempts_left=max(0, settings.attempts - used) if settings.attempts else None,
        best_scaled=max(scores) if scores else None,
        has_passed=any(a.has_passed for a in graded),
        open_attempt_id=open_attempt.id if open_attempt else None,
        open_practice_id=open_practice.id if open_practice else None,
        attempts=tuple(reversed(rows)),
    )


def wrong_counts(session: Session, attempt_ids: Sequence[int]) -> dict[int, int]:
    """Return how many graded questions each attempt got wrong (or left unanswered)."""
    if not attempt_ids:
        return {}
    rows = session.execute(
        select(Answer.attempt_id, func.count())
        .where(
            Answer.attempt_id.in_(attempt_ids),
            Answer.score.is_not(None),
            Answer.is_correct.is_(False),
        )
        .group_by(Answer.attempt_id)
    )
    return {attempt_id: count for attempt_id, count in rows}


# -- Start ------------------------------------------------------------------------------------


def find_open(
    session: Session, user_id: int, quiz: Quiz | QuizRef, *, practice: bool
) -> Attempt | None:
    """Return the user's unfinished attempt (or practice) at a quiz, if any."""
    return session.scalar(
        select(Attempt).where(
            Attempt.user_id == user_id,
            Attempt.quiz_id == quiz.id,
            Attempt.is_practice.is_(practice),
            Attempt.status == AttemptStatus.IN_PROGRESS,
        )
    )


def start_attempt(session: Session, user_id: int, quiz_id: str, recorder: Recorder) -> Attempt:
    """Start an attempt at the quiz's current version, or return the unfinished one.

    Raises NotFound for an unknown or archived quiz and Conflict("no_attempts_left") when
    the attempt limit is reached.
    """
    quiz = get_quiz(session, quiz_id)
    found = find_open(session, user_id, quiz, practice=False)
    if found is not None:
        if not is_expired(found):
            return found
        close_expired(session, load(session, user_id, found.id, lock=True), recorder)
    if quiz.is_archived:
        raise NotFound("quiz")
    version = get_current_version(session, quiz)
    source = quiz_source(quiz, version)
    settings = source.settings
    if settings.attempts:
        used = session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(
                Attempt.user_id == user_id,
                Attempt.quiz_id == quiz.id,
                Attempt.is_practice.is_(False),
            )
        )
        if (used or 0) >= settings.attempts:
            raise Conflict("no_attempts_left")
    now = clock.now()
    seed = secrets.token_hex(8)
    question_ids = order.draw_questions(source, seed)
    attempt = Attempt(
        user_id=user_id,
        quiz_id=quiz.id,
        quiz_version_id=version.id,
        seed=seed,
        question_ids=question_ids,
        option_orders={
            question_id: order.option_order(
                source.get_question(question_id), seed, shuffle=settings.shuffle_options
            )
            for question_id in question_ids
        },
        status=AttemptStatus.IN_PROGRESS,
        started_at=now,
        deadline_at=now + timedelta(minutes=settings.time_limit) if settings.time_limit else None,
        pass_mark=settings.pass_mark,
        registration=str(uuid.uuid4()),
        is_practice=False,
        is_auto_submitted=False,
    )
    if not insert_unless_open(session, attempt):
        found = find_open(session, user_id, quiz, practice=False)
        assert found is not None
        return found
    origin, library_id = outbox.origin_for(
        session, user_id, base_url=recorder.base_url, language=recorder.language
    )
    about = activity(session, quiz, source)
    outbox.enqueue(
        session,
        xs.quiz_attempted(
            origin,
            about.quiz,
            registration=attempt.registration,
            course=about.course,
            clock=clock.now,
        ),
        user_id=user_id,
        library_id=library_id,
    )
    return attempt


def insert_unless_open(session: Session, attempt: Attempt) -> bool:
    """Insert an attempt; False when another request opened one first (the unique index)."""
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Activity:
    """The quiz and its course as xAPI activities, in the language of the course."""

    quiz: xs.Content
    course: xs.Content | None
    language: str


def activity(session: Session, quiz: Quiz, source: QuizSource) -> Activity:
    """Return the quiz's xAPI content, with its course as parent when the course is known."""
    course = session.scalar(select(Course).where(Course.stable_id == quiz.course_id))
    return activity_of(source, course)


def activity_of(source: QuizSource, course: Course | CourseRef | None) -> Activity:
    """Return the quiz's xAPI content under ``course`` (None: the course is not imported)."""
    if course is None:
        return Activity(xs.Content(source.id, {UNKNOWN_LANGUAGE: source.title}), None, "und")
    language = course.language or UNKNOWN_LANGUAGE
    return Activity(
        xs.Content(source.id, {language: source.title}),
        xs.Content(course.stable_id, dict(course.title)),
        language,
    )


@dataclass(frozen=True, slots=True)
class Recording:
    """Everything a statement about an attempt needs: actor, library and activities."""

    origin: xs.Origin
    library_id: int | None
    about: Activity


def recording_for(session: Session, loaded: Loaded, recorder: Recorder) -> Recording:
    """Return the statement parts for an attempt's user and quiz."""
    origin, library_id = outbox.origin_for(
        session,
        loaded.attempt.user_id,
        base_url=recorder.base_url,
        language=recorder.language,
        public_id=loaded.public_id,
    )
    return Recording(origin, library_id, activity_of(loaded.source, loaded.course))


# -- Pages of an attempt ----------------------------------------------------------------------


def get_attempt(session: Session, user_id: int, attempt_id: int, recorder: Recorder) -> AttemptView:
    """Return an attempt's questions with the saved answers (an expired one is submitted)."""
    return attempt_view(get_loaded(session, user_id, attempt_id, recorder))


def get_loaded(
    session: Session, user_id: int, attempt_id: int, recorder: Recorder, *, lock: bool = False
) -> Loaded:
    """Load an attempt for a page (an expired one is submitted), once per request.

    ``lock`` takes the row lock at once, for a request that goes on to ``save_answers`` with
    what it loaded: the attempt is then read once, and nothing changes it in between.
    """
    loaded = load(session, user_id, attempt_id, lock=lock)
    if is_expired(loaded.attempt):
        if not lock:
            loaded = load(session, user_id, attempt_id, lock=True)
        close_expired(session, loaded, recorder)
    return loaded


def attempt_view(loaded: Loaded) -> AttemptView:
    """Build the view of an attempt: public question views, never the answers."""
    attempt = loaded.attempt
    states = [
        attempt_question_state(loaded, number, question)
        for number, question in enumerate(loaded.questions(), 1)
    ]
    return AttemptView(
        attempt_id=attempt.id,
        quiz_id=loaded.quiz.stable_id,
        title=loaded.source.title,
        status=attempt.status,
        settings=loaded.settings,
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        questions=tuple(states),
        is_practice=attempt.is_practice,
    )


def question_at(loaded: Loaded, number: int) -> QuestionState:
    """Return one question of an attempt (``number`` from 1) as ``attempt_view`` shows it.

    For a request that needs only the question it saves, not the whole attempt's view.
    """
    question = loaded.source.get_question(loaded.attempt.question_ids[number - 1])
    return attempt_question_state(loaded, number, question)


def question_form_at(loaded: Loaded, number: int) -> QuestionForm:
    """Return question ``number`` of an attempt as a posted answer to it is read: without
    the saved answer's state that ``question_at`` adds, which a save does not show."""
    question = loaded.source.get_question(loaded.attempt.question_ids[number - 1])
    option_order = loaded.attempt.option_orders.get(question.id, [])
    view = get_question_type(question.type).public_view(question, option_order=option_order)
    return QuestionForm(question.id, view)


def attempt_question_state(loaded: Loaded, number: int, question: Question) -> QuestionState:
    """Return a question of an attempt being taken, with immediate feedback when due."""
    answer = loaded.answers.get(question.id)
    feedback = None
    if (
        loaded.settings.feedback == "immediately"
        and answer is not None
        and answer.is_final
        and not loaded.attempt.is_practice
    ):
        feedback = answer_feedback(question, answer.response, specific=True)
    return question_state(loaded, number, question, answer, feedback=feedback)


def question_state(
    loaded: Loaded,
    number: int,
    question: Question,
    answer: Answer | None,
    *,
    feedback: Feedback | None = None,
) -> QuestionState:
    """Return one question's public view with the learner's saved answer."""
    question_type = get_question_type(question.type)
    option_order = loaded.attempt.option_orders.get(question.id, [])
    view = question_type.public_view(question, option_order=option_order)
    response = answer.response if answer is not None else None
    return QuestionState(
        number=number,
        id=question.id,
        type=question.type,
        view=view,
        response=response,
        is_answered=is_answered(question, response),
        is_valid=answer.is_valid if answer is not None else True,
        is_final=answer.is_final if answer is not None else False,
        answer_lines=tuple(describe_response(question, view, response)),
        feedback=feedback,
    )


def is_answered(question: Question, response: Any) -> bool:
    """Tell whether a saved response gives an answer (an invalid one counts as given)."""
    try:
        canonical = get_question_type(question.type).normalise_response(response)
    except ResponseInvalid:
        return True
    return canonical not in (None, "", [], {})


def answer_feedback(
    question: Question,
    response: Any,
    *,
    specific: bool,
    correct: bool = False,
) -> Feedback:
    """Grade a response and keep what the rules let the learner see."""
    result = grading.grade(question, response)
    return Feedback(
        is_correct=result.is_correct if specific and result.is_graded else None,
        score=result.score if specific else None,
        option_feedback=result.feedback if specific else (),
        correct_summary=result.correct_response_summary if correct else None,
        general_feedback=question.feedback if correct else None,
    )


def describe_response(question: Question, view: Mapping[str, Any], response: Any) -> list[str]:
    """Return the learner's answer as lines of text for summaries and the review."""
    question_type = get_question_type(question.type)
    try:
        canonical = question_type.normalise_response(response)
    except ResponseInvalid:
        return [str(response)] if isinstance(response, str) else []
    if canonical in (None, "", [], {}):
        return []
    kind = view.get("input")
    if kind in ("radio", "checkbox"):
        texts = {option["id"]: option["text"] for option in view["options"]}
        chosen = [canonical] if isinstance(canonical, str) else list(canonical)
        return [texts.get(option_id, option_id) for option_id in chosen]
    if kind == "truefalse":
        return ["true" if canonical else "false"]
    if kind == "likert":
        texts = {point["id"]: point["text"] for point in view["scale"]}
        return [texts.get(canonical, canonical)]
    if kind == "matching":
        sources = {item["id"]: item["text"] for item in view["sources"]}
        targets = {item["id"]: item["text"] for item in view["targets"]}
        return [
            f"{sources.get(left, left)} → {targets.get(right, right)}"
            for left, right in canonical.items()
        ]
    if kind == "ordering":
        texts = {item["id"]: item["text"] for item in view["items"]}
        return [f"{n}. {texts.get(item_id, item_id)}" for n, item_id in enumerate(canonical, 1)]
    return [str(canonical)]


# -- Saving answers ---------------------------------------------------------------------------


def save_answers(
    session: Session,
    user_id: int,
    attempt_id: int,
    responses: Mapping[str, Any],
    recorder: Recorder,
    *,
    loaded: Loaded | None = None,
) -> SaveOutcome:
    """Save answers (question id → form values) in an open attempt, each as given.

    Saving a response equal to the saved one changes nothing. Questions not in the attempt
    are ignored. An answer after the deadline is refused and the attempt submitted with
    what was saved (status ``late``). With ``feedback: immediately`` a saved answer is
    final: its feedback shows at once, so it can no longer change (listed in ``locked``).

    ``loaded`` is the attempt as ``get_loaded(..., lock=True)`` read it in this transaction;
    without it the attempt is loaded (and locked) here.
    """
    if loaded is None or loaded.attempt.id != attempt_id or loaded.attempt.user_id != user_id:
        loaded = load(session, user_id, attempt_id, lock=True)
    attempt = loaded.attempt
    if attempt.status is not AttemptStatus.IN_PROGRESS:
        return SaveOutcome("closed")
    if is_expired(attempt):
        close_expired(session, loaded, recorder)
        return SaveOutcome("late")
    now = clock.now()
    saved, invalid, locked, changes = plan_changes(loaded, responses)
    # Whatever the statements need is read, and the statements built, before the first
    # write, so the write transaction (SQLite's one writer at a time) stays short.
    recording, planned = plan_statements(session, loaded, changes, recorder, now)
    written = 0
    for number, change in enumerate(changes):
        question_id = change.question.id
        plan = planned[number] if planned else None
        record = None
        if plan is not None and recording is not None:
            record = Recorded(plan[0], attempt.user_id, recording.library_id)
        answer, is_recorded = write_answer(
            session,
            loaded,
            change.question,
            change.response,
            now=now,
            is_valid=change.is_valid,
            result=change.result if change.is_final else None,
            is_final=change.is_final,
            canonical=change.canonical,
            record=record,
        )
        if answer is None:
            # Another request made the answer final (or submitted the attempt) after this
            # one read it: nothing was written.
            if not written and is_closed(session, attempt.id):
                return SaveOutcome("closed")
            locked.append(question_id)
            continue
        written += 1
        saved.append(question_id)
        if plan is None or recording is None or is_recorded:
            continue
        statement, seconds = plan
        if answer.seconds_spent != seconds:
            # Another request saved this question first, with its own time to answer.
            statement = answered_statement(
                loaded,
                change.question,
                change.canonical,
                change.result,
                answer.seconds_spent,
                recording,
            )
        outbox.enqueue(session, statement, user_id=attempt.user_id, library_id=recording.library_id)
    return SaveOutcome("saved", tuple(saved), tuple(invalid), tuple(locked), now)


def plan_changes(
    loaded: Loaded, responses: Mapping[str, Any], *, trust_saved: bool = True
) -> tuple[list[str], list[str], list[str], list[Change]]:
    """Grade what a save request sends: the question ids saved already (the same response
    again), invalid and locked (final), and the changes to write. Without ``trust_saved``,
    a response equal to the loaded one is a change too (the write decides)."""
    immediate = loaded.settings.feedback == "immediately"
    in_attempt = set(loaded.attempt.question_ids)
    saved: list[str] = []
    invalid: list[str] = []
    locked: list[str] = []
    changes: list[Change] = []
    for question_id, raw in responses.items():
        if question_id not in in_attempt:
            continue
        question = loaded.source.get_question(question_id)
        existing = loaded.answers.get(question_id)
        if existing is not None and existing.is_final:
            locked.append(question_id)
            continue
        response = clean_response(raw)
        question_type = get_question_type(question.type)
        try:
            canonical = question_type.normalise_response(response)
            is_valid = True
        except ResponseInvalid:
            canonical = None
            is_valid = False
        if not is_valid:
            invalid.append(question_id)
        answered = not is_valid or canonical not in (None, "", [], {})
        if existing is None and not answered:
            continue
        if trust_saved and existing is not None and existing.response == response:
            saved.append(question_id)
            continue
        result = grading.grade(question, response)
        is_final = immediate and is_valid and answered
        records = not loaded.attempt.is_practice and answered and is_valid
        changes.append(Change(question, response, canonical, is_valid, result, is_final, records))
    return saved, invalid, locked, changes


def plan_statements(
    session: Session | None,
    loaded: Loaded,
    changes: Sequence[Change],
    recorder: Recorder,
    now: datetime,
    recording: Recording | None = None,
) -> tuple[Recording | None, list[tuple[xs.Statement, float] | None]]:
    """The ``question_answered`` statement of each change that records one (else None), with
    the time to answer it carries: a saved answer's own, else the time since the attempt's
    latest save (or its start). ``recording``, when given, is the origin and activities to
    build them with (else they are read)."""
    if not any(change.records for change in changes):
        return None, []
    if recording is None:
        assert session is not None
        recording = recording_for(session, loaded, recorder)
    latest = latest_save(loaded)
    planned: list[tuple[xs.Statement, float] | None] = []
    for change in changes:
        existing = loaded.answers.get(change.question.id)
        seconds = (
            existing.seconds_spent
            if existing is not None
            else max(0.0, (now - latest).total_seconds())
        )
        latest = now
        if change.records:
            statement = answered_statement(
                loaded, change.question, change.canonical, change.result, seconds, recording
            )
            planned.append((statement, seconds))
        else:
            planned.append(None)
    return recording, planned


def latest_save(loaded: Loaded) -> datetime:
    """When the attempt's latest answer was saved (its start when none was)."""
    return max((a.saved_at for a in loaded.answers.values()), default=loaded.attempt.started_at)


@dataclass(frozen=True, slots=True)
class Change:
    """One answer a save request changes, graded, before anything is written."""

    question: Question
    response: Any
    canonical: Any
    is_valid: bool
    result: Result
    is_final: bool
    #: Whether a ``question_answered`` statement goes with it (a valid, given answer).
    records: bool


def is_closed(session: Session, attempt_id: int) -> bool:
    """Tell whether an attempt is no longer in progress, as the database has it now."""
    status = session.scalar(select(Attempt.status).where(Attempt.id == attempt_id))
    return status is not AttemptStatus.IN_PROGRESS


def clean_response(raw: Any) -> Any:
    """Return form values in a JSON shape: strings, lists of strings, mappings of those.

    One-element lists from single-valued fields become their string, so the saved
    response compares equal however the browser sent it.
    """
    if isinstance(raw, Mapping):
        return {str(key): clean_response(value) for key, value in sorted(raw.items())}
    if isinstance(raw, (list, tuple)):
        values = [clean_response(value) for value in raw]
        return values
    if raw is None or isinstance(raw, (str, bool, int, float)):
        return raw
    return str(raw)


#: The columns every save of an answer sets (the first save sets the others too).
_ANSWER_CHANGES = (
    "response",
    "canonical",
    "is_valid",
    "saved_at",
    "is_final",
    "score",
    "points",
    "is_correct",
)
#: Those columns as bound parameters of their own names, for the UPDATEs that set them.
_ANSWER_CHANGE_VALUES = {
    name: bindparam(name, type_=_ANSWERS_TABLE.c[name].type) for name in _ANSWER_CHANGES
}
#: A save of an answer already there, unless it is final: only the row count is needed.
_UPDATE_ANSWER = DriverStatement(
    update(_ANSWERS_TABLE)
    .where(_ANSWERS_TABLE.c.id == bindparam("answer_id"), _ANSWERS_TABLE.c.is_final.is_(False))
    .values(_ANSWER_CHANGE_VALUES)
)


def _insert_answer(insert: Any) -> Any:
    statement = insert(_ANSWERS_TABLE)
    # A concurrent save of the same question (autosave and a form post) updates the row
    # the other request inserted instead of failing on the unique constraint.
    return statement.on_conflict_do_update(
        index_elements=["attempt_id", "question_id"],
        set_={key: statement.excluded[key] for key in _ANSWER_CHANGES},
        where=_ANSWERS_TABLE.c.is_final.is_(False),
    ).returning(*(_ANSWERS_TABLE.c[name] for name in _ANSWER_FIELDS))


#: The answer upsert, by whether the database is PostgreSQL (else SQLite).
_INSERT_ANSWER = {True: _insert_answer(pg_insert), False: _insert_answer(sqlite_insert)}


@dataclass(frozen=True, slots=True)
class Recorded:
    """The statement of an answer about to be written, for ``write_answer`` to store with it."""

    statement: xs.Statement
    user_id: int
    library_id: int | None


def upsert_answer(
    session: Session,
    loaded: Loaded,
    question: Question,
    response: Any,
    *,
    now: datetime,
    is_valid: bool,
    result: Result | None,
    is_final: bool,
    canonical: Any = ...,
) -> SavedAnswer | None:
    """Insert or update the answer row of a question (one row per attempt and question).

    ``seconds_spent`` is measured once, at the first save: the time since the previous
    save in the attempt, or since the attempt started. A final answer is never changed:
    the write is conditional on the row not being final, so it also holds on SQLite, which
    has no row lock to keep a concurrent request out (``finish`` makes every answer of a
    submitted attempt final). Returns None when nothing was written for that reason, else
    the answer as saved (also put in ``loaded.answers``).
    ``canonical`` is the normalised response when the caller has it already.
    """
    answer, _ = write_answer(
        session,
        loaded,
        question,
        response,
        now=now,
        is_valid=is_valid,
        result=result,
        is_final=is_final,
        canonical=canonical,
    )
    return answer


#: On PostgreSQL, a changed answer and its statement's outbox row in one SQL statement.
_UPDATE_ANSWER_RECORDED = outbox.GatedEnqueue(
    _UPDATE_ANSWER.statement.returning(_ANSWERS_TABLE.c.id)
)


def write_answer(
    session: Session,
    loaded: Loaded,
    question: Question,
    response: Any,
    *,
    now: datetime,
    is_valid: bool,
    result: Result | None,
    is_final: bool,
    canonical: Any = ...,
    record: Recorded | None = None,
) -> tuple[SavedAnswer | None, bool]:
    """Do what ``upsert_answer`` does; also tell whether ``record`` was stored with the write.

    ``record`` is the answer's statement, for when it does not depend on the write: a save of
    an answer already there keeps its ``seconds_spent``. On PostgreSQL that UPDATE and the
    statement's outbox row are then one SQL statement (``outbox.GatedEnqueue``), a round trip
    fewer, unless the save makes the answer final. When that stored nothing, the UPDATE runs
    again on its own (it sets the same values and leaves the answer open, so a second run
    finds what the first did) to tell a final answer from a statement whose cached origin
    was stale, and the caller stores the statement as usual.
    """
    attempt = loaded.attempt
    existing = loaded.answers.get(question.id)
    if canonical is ...:
        canonical = canonical_or_none(question, response)
    values = _answer_values(question, response, now, is_valid, result, is_final, canonical)
    connection = session.connection()
    is_recorded = False
    if existing is not None:
        parameters = {"answer_id": existing.id, **values}
        # Not a write that makes the answer final: run again, it would find the row final
        # (by its own doing) and report the answer as locked.
        if record is not None and not is_final and connection.dialect.name == "postgresql":
            is_recorded = _UPDATE_ANSWER_RECORDED.enqueue(
                session,
                record.statement,
                user_id=record.user_id,
                library_id=record.library_id,
                write_values=parameters,
            )
        if not is_recorded and _UPDATE_ANSWER.rowcount(connection, parameters) != 1:
            return None, False
        _update_held(session, existing.id, values)
        answer = SavedAnswer(
            id=existing.id,
            question_id=existing.question_id,
            response=response,
            is_valid=is_valid,
            saved_at=now,
            seconds_spent=existing.seconds_spent,
            score=values["score"],
            is_correct=values["is_correct"],
            is_final=is_final,
        )
    else:
        previous = max(
            (answer.saved_at for answer in loaded.answers.values()), default=attempt.started_at
        )
        insert_values = values | {
            "attempt_id": attempt.id,
            "question_id": question.id,
            "first_saved_at": now,
            "seconds_spent": max(0.0, (now - previous).total_seconds()),
        }
        statement = _INSERT_ANSWER[connection.dialect.name == "postgresql"]
        row = connection.execute(statement, insert_values).one_or_none()
        if row is None:
            return None, False
        answer = SavedAnswer(*row)
        _update_held(session, answer.id, {name: getattr(answer, name) for name in _ANSWER_FIELDS})
    loaded.answers[question.id] = answer
    return answer, is_recorded


def _answer_values(
    question: Question,
    response: Any,
    now: datetime,
    is_valid: bool,
    result: Result | None,
    is_final: bool,
    canonical: Any,
) -> dict[str, Any]:
    """The columns a save of an answer sets (``_ANSWER_CHANGES``)."""
    return {
        "response": response,
        "canonical": canonical if is_valid else None,
        "is_valid": is_valid,
        "saved_at": now,
        "is_final": is_final,
        "score": result.score if result is not None else None,
        "points": result.score * question.points
        if result is not None and result.score is not None
        else None,
        "is_correct": result.is_correct if result is not None else None,
    }


# -- Saving without the attempt's lock held across round trips (PostgreSQL) --------------------

#: The user's attempt, in progress and within its deadline.
_OPEN = (
    _ATTEMPTS.c.id == bindparam("attempt_id"),
    _ATTEMPTS.c.user_id == bindparam("user_id"),
    _ATTEMPTS.c.status == AttemptStatus.IN_PROGRESS,
    or_(
        _ATTEMPTS.c.deadline_at.is_(None),
        _ATTEMPTS.c.deadline_at >= bindparam("now", type_=_ATTEMPTS.c.deadline_at.type),
    ),
)
#: The attempt, still open as the database has it now, locked for the rest of the statement
#: it is part of (as ``load(lock=True)`` locks it for a transaction).
_STILL_OPEN = select(_ATTEMPTS.c.id).where(*_OPEN).with_for_update().exists()


#: No answer of the attempt has been saved since the latest save the caller read: its time to
#: answer a new question (since that save) is then what reading again would give.
_NONE_SAVED_SINCE = ~(
    select(_ANSWERS_TABLE.c.id)
    .where(
        _ANSWERS_TABLE.c.attempt_id == bindparam("attempt_id"),
        _ANSWERS_TABLE.c.saved_at > bindparam("seen_latest", type_=_ANSWERS_TABLE.c.saved_at.type),
    )
    .exists()
)


def _unlocked_update(conditions: Sequence[Any], _insert: Any) -> Any:
    return (
        update(_ANSWERS_TABLE)
        .where(
            _ANSWERS_TABLE.c.id == bindparam("answer_id"),
            _ANSWERS_TABLE.c.attempt_id == bindparam("attempt_id"),
            _ANSWERS_TABLE.c.is_final.is_(False),
            # A response equal to the saved one is saved already (no statement): the write
            # decides it on what the database has, whatever the caller read. Both sides are
            # JSON texts this code wrote, so equal values are equal texts.
            cast(_ANSWERS_TABLE.c.response, Text).is_distinct_from(
                cast(_ANSWER_CHANGE_VALUES["response"], Text)
            ),
            _STILL_OPEN,
            *conditions,
        )
        .values(_ANSWER_CHANGE_VALUES)
    )


#: Columns of a first save of an answer, beside ``_ANSWER_CHANGES``.
_FIRST_SAVE = ("attempt_id", "question_id", "first_saved_at", "seconds_spent")


def _unlocked_insert(conditions: Sequence[Any], insert: Any) -> Any:
    columns = (*_ANSWER_CHANGES, *_FIRST_SAVE)
    row = select(*(bindparam(name, type_=_ANSWERS_TABLE.c[name].type) for name in columns)).where(
        _STILL_OPEN, _NONE_SAVED_SINCE, *conditions
    )
    return (
        insert(_ANSWERS_TABLE)
        .from_select(list(columns), row)
        .on_conflict_do_nothing(index_elements=["attempt_id", "question_id"])
    )


#: Whether an answer whose save wrote nothing has the response already (saved, and open to
#: change: not final, in the user's attempt, in progress and within its deadline): the
#: report of ``_SAVE_UNLOCKED[True]``, so a kept attempt's save that repeats what the
#: database has costs no more than one that changes it.
_SAVED_ALREADY = (
    select(_ANSWERS_TABLE.c.id)
    .where(
        _ANSWERS_TABLE.c.id == bindparam("answer_id"),
        _ANSWERS_TABLE.c.attempt_id == bindparam("attempt_id"),
        _ANSWERS_TABLE.c.is_final.is_(False),
        cast(_ANSWERS_TABLE.c.response, Text).is_not_distinct_from(
            cast(_ANSWER_CHANGE_VALUES["response"], Text)
        ),
        *_OPEN,
    )
    .exists()
)

_SAVE_UNLOCKED = {
    True: outbox.AtomicEnqueue(_unlocked_update, _ANSWERS_TABLE.c.id, _SAVED_ALREADY),
    False: outbox.AtomicEnqueue(_unlocked_insert, _ANSWERS_TABLE.c.id),
}


def can_save_unlocked(connection: Connection) -> bool:
    """Whether ``save_unlocked`` can run on ``connection``: PostgreSQL in autocommit mode, or
    SQLite (whose driver opens a transaction only before a write) outside a transaction."""
    return not connection.in_transaction()


def save_unlocked(
    session: Session | None,
    connection: Connection,
    loaded: Loaded,
    responses: Mapping[str, Any],
    recorder: Recorder,
    *,
    kept: Recording | None = None,
    synchronous_commit: bool = True,
) -> SaveOutcome | None:
    """Save one changed answer of an attempt read without its lock, writing the answer and its
    statement's outbox row, or nothing; None when it wrote nothing or the save is not this
    simple (then ``save_answers`` does it, under the attempt's lock, in the ORM session).

    For the common save, on PostgreSQL this is the round trips of the locked path (``BEGIN``,
    the locked attempt, its answers, the write, ``COMMIT``) cut to the unlocked read
    (``loaded``, read on ``connection``, in autocommit mode) and one statement; on SQLite,
    the ORM session's machinery cut to two statements in one short transaction on
    ``connection`` (``outbox.AtomicEnqueue``). The write holds everything the lock held the
    rules to: it locks the attempt's row (PostgreSQL; SQLite's one writer holds the whole
    database) and writes only while the attempt is still in progress and within its
    deadline as the database has it then, the answer not final and its response not the
    posted one (then the write's report says it is saved already), and for a first save, no
    answer to the question saved since the read and none to any other saved after the
    latest one read (the new answer's time to answer counts from that one); with a
    statement built from a cached origin, only while that origin still holds. What the
    unlocked read decided by itself is only what no concurrent save can change: the
    attempt's questions and version, and the saved answer's time to answer (set at its first
    save). A response equal to the saved one is saved already and writes nothing, as under
    the lock. ``session`` is used only for reads a cache does not hold (the origin, a quiz
    version); with ``kept``, there are none, and it may be None.

    ``kept`` is for an attempt read by an earlier request and kept since (``loaded``, with
    the origin and activities its statements were recorded with). Only a change to an
    answer saved already is made on it (a first save's time to answer counts from the
    attempt's latest save, which another worker may have made since: None). The write's
    conditions hold the kept answer, and the kept origin (as a cached one, see
    ``outbox.origin_for``), to what the database has now, as they hold a fresh read's, so
    the kept response is not trusted: the write is tried whatever it was, and when it wrote
    nothing, its report tells a response the database has already (saved, no statement)
    from anything else (None). On success, the written answer is put in ``loaded.answers``
    (as a fresh read would now give it), and the outcome carries the recording used, for
    keeping them both again.

    ``synchronous_commit=False`` acknowledges the save on PostgreSQL before its WAL is
    flushed (``outbox.AtomicEnqueue``; ``LIBOPPI_ANSWER_COMMIT``). Submitting the attempt
    commits synchronously, which flushes every answer saved before it.
    """
    attempt = loaded.attempt
    if (
        attempt.status is not AttemptStatus.IN_PROGRESS
        or attempt.is_practice
        or is_expired(attempt)
        or loaded.settings.feedback == "immediately"
    ):
        return None
    now = clock.now()
    saved, invalid, locked, changes = plan_changes(loaded, responses, trust_saved=kept is None)
    if invalid or locked or len(changes) > 1:
        return None
    if not changes:
        return SaveOutcome("saved", tuple(saved), saved_at=now)
    (change,) = changes
    if not change.records or change.is_final:
        return None
    if kept is not None and (change.question.id not in loaded.answers or kept.library_id is None):
        # A first save's time to answer counts from the latest save: read it. An origin with
        # no home library (grouped by region) cannot be checked in the write: read it.
        return None
    if kept is None:
        assert session is not None, "a fresh read's origin is read in the session"
    recording, planned = plan_statements(session, loaded, changes, recorder, now, kept)
    (plan,) = planned
    assert recording is not None and plan is not None
    statement, seconds = plan
    question = change.question
    existing = loaded.answers.get(question.id)
    values = _answer_values(
        question, change.response, now, change.is_valid, None, False, change.canonical
    )
    values |= {"attempt_id": attempt.id, "now": now}
    if existing is not None:
        values["answer_id"] = existing.id
    else:
        values |= {
            "question_id": question.id,
            "first_saved_at": now,
            "seconds_spent": seconds,
            "seen_latest": latest_save(loaded),
        }
    answer_id, saved_already = _SAVE_UNLOCKED[existing is not None].enqueue(
        connection,
        session,
        statement,
        user_id=attempt.user_id,
        library_id=recording.library_id,
        write_values=values,
        kept_origin=kept.origin if kept is not None else None,
        synchronous_commit=synchronous_commit,
    )
    if answer_id is None:
        if saved_already:
            return SaveOutcome("saved", (*saved, question.id), saved_at=now, recording=kept)
        return None
    loaded.answers[question.id] = SavedAnswer(
        id=answer_id,
        question_id=question.id,
        response=change.response,
        is_valid=change.is_valid,
        saved_at=now,
        seconds_spent=seconds,
        score=None,
        is_correct=None,
        is_final=False,
    )
    return SaveOutcome("saved", (*saved, question.id), saved_at=now, recording=recording)


def _update_held(session: Session, answer_id: int, values: Mapping[str, Any]) -> None:
    """Bring an ORM copy of the answer that the session holds, if any, up to date with a write.

    The writes above are Core statements; without this, such a copy (read earlier in the
    session) would go on showing the answer as it was.
    """
    if not session.identity_map:  # a request that saves answers holds no ORM objects
        return
    held = session.identity_map.get(session.identity_key(Answer, (answer_id,)))
    if held is not None:
        for name, value in values.items():
            set_committed_value(held, name, value)


def canonical_or_none(question: Question, response: Any) -> Any:
    """Return the normalised response, or None when it is not a valid answer."""
    try:
        return get_question_type(question.type).normalise_response(response)
    except ResponseInvalid:
        return None


def interaction_fields(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Return a question type's activity definition without ``type``, which the builder sets."""
    return {key: value for key, value in definition.items() if key != "type"}


def answered_statement(
    loaded: Loaded,
    question: Question,
    canonical: Any,
    result: Result,
    seconds_spent: float | None,
    recording: Recording,
) -> xs.Statement:
    """Build the ``question_answered`` statement of an answer (``canonical``: valid, normalised)."""
    question_type = get_question_type(question.type)
    score = None
    if result.score is not None:
        score = xs.Score(raw=result.score * question.points, max=question.points)
    return answering(loaded, question, recording).statement(
        result=xs.answer_result(
            question_type.xapi_response(question, canonical),
            success=result.is_correct if result.score is not None else None,
            score=score,
            duration=seconds_spent,
        ),
        clock=clock.now,
    )


#: The prepared parts of ``question_answered`` statements (``xs.answering``), by everything
#: they are built from: the question (its version's content hash, quiz id, question id and
#: language, as ``_xapi_questions``), the attempt's registration, the origin and the course.
#: A learner who answers one question again and again gets them built and encoded once.
_answering: dict[tuple[Any, ...], xs.Prepared] = {}


def answering(loaded: Loaded, question: Question, recording: Recording) -> xs.Prepared:
    """Return the parts every statement of an answer to ``question`` in the attempt shares."""
    about = recording.about
    key = (
        loaded.version.content_hash,
        loaded.quiz.stable_id,
        question.id,
        about.language,
        loaded.attempt.registration,
        recording.origin.key(),
        about.quiz.key(),
        about.course.key() if about.course is not None else None,
    )
    found = _answering.get(key)
    if found is None:
        found = xs.answering(
            recording.origin,
            about.quiz,
            xapi_question(loaded, question, about.language),
            registration=loaded.attempt.registration,
            course=about.course,
        )
        if len(_answering) >= 4096:
            _answering.clear()
        _answering[key] = found
    return found


#: Questions as xAPI activities, by their quiz version's content hash, quiz id, question id
#: and language: a version's content never changes, so neither does what is built from it.
#: (``Question`` objects hold dicts and cannot be keys; the content hash also keeps two
#: databases in one process, as in tests, from sharing entries.)
_xapi_questions: dict[tuple[str, str, str, str], xs.Question] = {}


def xapi_question(loaded: Loaded, question: Question, language: str) -> xs.Question:
    """Return a question of the attempt's quiz version as an xAPI activity, built once."""
    key = (loaded.version.content_hash, loaded.quiz.stable_id, question.id, language)
    found = _xapi_questions.get(key)
    if found is None:
        interaction = get_question_type(question.type).xapi_interaction(question, lang=language)
        found = xs.Question(
            id=question.id,
            name={language: question.id},
            description={language: question.prompt},
            interaction=interaction_fields(interaction),
        )
        if len(_xapi_questions) >= 4096:
            _xapi_questions.clear()
        _xapi_questions[key] = found
    return found


# -- Submitting and grading -------------------------------------------------------------------


def submit_attempt(
    session: Session, user_id: int, attempt_id: int, recorder: Recorder
) -> AttemptRecord:
    """Submit and grade an attempt; submitting an already submitted attempt changes nothing.

    Returns the attempt as it is now (graded, or as another request submitted it).
    """
    loaded = load(session, user_id, attempt_id, lock=True)
    if loaded.attempt.is_practice:
        raise Conflict("practice_is_not_submitted")
    if is_expired(loaded.attempt):
        close_expired(session, loaded, recorder)
    else:
        finish(session, loaded, clock.now(), recorder, auto=False)
    return loaded.attempt


def close_expired(session: Session, loaded: Loaded, recorder: Recorder) -> None:
    """Submit an attempt whose deadline passed, at its deadline, with what was saved."""
    attempt = loaded.attempt
    if attempt.is_practice or attempt.deadline_at is None:
        return
    finish(session, loaded, attempt.deadline_at, recorder, auto=True)


def finish(
    session: Session, loaded: Loaded, submitted_at: datetime, recorder: Recorder, *, auto: bool
) -> bool:
    """Claim, grade and record an open attempt; False when it was already submitted.

    ``loaded`` is brought up to date either way: its attempt as the database has it after
    the claim, and, when this request claimed it, the graded answers.
    """
    claimed = session.execute(
        update(Attempt)
        .where(Attempt.id == loaded.attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.SUBMITTED, submitted_at=submitted_at, is_auto_submitted=auto)
        .execution_options(synchronize_session=False)
    ).rowcount
    # The ORM row, read afresh (also updating the one the session may hold already).
    attempt = session.get(Attempt, loaded.attempt.id, populate_existing=True)
    assert attempt is not None
    loaded.attempt = AttemptRecord.of(attempt)
    if claimed != 1:
        return False
    # Graded from the answers as they are now that the attempt is claimed: on SQLite the
    # ones loaded before were read outside the write transaction, and a save may have
    # committed since (saves after the claim find every answer final and write nothing).
    answers = {
        answer.question_id: answer
        for answer in session.scalars(
            select(Answer)
            .where(Answer.attempt_id == attempt.id)
            .execution_options(populate_existing=True)
        )
    }
    questions = loaded.questions()
    responses = {question_id: answer.response for question_id, answer in answers.items()}
    result = grading.grade_attempt(questions, responses, attempt.pass_mark)
    for question in questions:
        graded = result.per_question[question.id]
        answer = answers.get(question.id)
        points = graded.score * question.points if graded.score is not None else None
        if answer is None:
            answer = Answer(
                attempt_id=attempt.id,
                question_id=question.id,
                response=None,
                canonical=None,
                is_valid=True,
                saved_at=submitted_at,
                first_saved_at=submitted_at,
                seconds_spent=None,
                is_final=True,
            )
            session.add(answer)
            answers[question.id] = answer
        answer.score = graded.score
        answer.points = points
        answer.is_correct = graded.is_correct if graded.score is not None else None
        answer.is_final = True
    attempt.score_raw = result.points
    attempt.score_max = result.max_points
    attempt.score_scaled = result.scaled
    attempt.has_passed = result.has_passed
    session.flush()
    item_analysis.record_graded(session, attempt, questions, answers)
    loaded.attempt = AttemptRecord.of(attempt)
    loaded.answers = {
        question_id: SavedAnswer.of(answer) for question_id, answer in answers.items()
    }
    record_finished(session, loaded, result, recorder)
    return True


def record_finished(
    session: Session, loaded: Loaded, result: grading.AttemptResult, recorder: Recorder
) -> None:
    """Enqueue ``quiz_passed``/``quiz_failed``, and tell progress about a pass."""
    attempt = loaded.attempt
    recording = recording_for(session, loaded, recorder)
    if result.max_points > 0:
        score = xs.Score(raw=result.points, max=result.max_points, scaled=round(result.scaled, 4))
    else:
        score = xs.Score(raw=0, max=0, scaled=1.0)
    build = xs.quiz_passed if result.has_passed else xs.quiz_failed
    assert attempt.submitted_at is not None
    statement = build(
        recording.origin,
        recording.about.quiz,
        score,
        registration=attempt.registration,
        duration=max(timedelta(0), attempt.submitted_at - attempt.started_at),
        course=recording.about.course,
        clock=clock.now,
    )
    outbox.enqueue(session, statement, user_id=attempt.user_id, library_id=recording.library_id)
    if result.has_passed:
        progress.on_quiz_passed(
            session,
            attempt.user_id,
            loaded.quiz.stable_id,
            base_url=recorder.base_url,
            language=recorder.language,
        )


def close_all_expired(session: Session, recorder: Recorder) -> int:
    """Submit every attempt whose deadline has passed; return how many (for a cron job)."""
    ids = session.execute(
        select(Attempt.id, Attempt.user_id).where(
            Attempt.status == AttemptStatus.IN_PROGRESS,
            Attempt.deadline_at.is_not(None),
            Attempt.deadline_at < clock.now(),
        )
    ).all()
    for attempt_id, user_id in ids:
        close_expired(session, load(session, user_id, attempt_id, lock=True), recorder)
    return len(ids)


# -- Result and review ------------------------------------------------------------------------


def get_result(session: Session, user_id: int, attempt_id: int, recorder: Recorder) -> ResultView:
    """Return a submitted attempt's result with the review its quiz's rules allow.

    Raises Conflict("not_submitted") for an attempt still in progress.
    """
    loaded = load(session, user_id, attempt_id)
    if is_expired(loaded.attempt):
        loaded = load(session, user_id, attempt_id, lock=True)
        close_expired(session, loaded, recorder)
    attempt = loaded.attempt
    if attempt.status is not AttemptStatus.SUBMITTED or attempt.is_practice:
        raise Conflict("not_submitted")
    settings = loaded.settings
    correct = shows_correct(settings, attempt)
    specific = shows_feedback_after_submit(settings)
    states = []
    wrong = 0
    for number, question in enumerate(loaded.questions(), 1):
        answer = loaded.answers.get(question.id)
        response = answer.response if answer is not None else None
        if answer is not None and answer.score is not None and answer.is_correct is False:
            wrong += 1
        feedback = None
        if specific or correct:
            feedback = answer_feedback(
                question,
                response,
                specific=specific,
                correct=correct,
            )
        states.append(question_state(loaded, number, question, answer, feedback=feedback))
    return ResultView(
        attempt_id=attempt.id,
        quiz_id=loaded.quiz.stable_id,
        title=loaded.source.title,
        settings=settings,
        started_at=attempt.started_at,
        submitted_at=attempt.submitted_at,
        is_auto_submitted=attempt.is_auto_submitted,
        score_raw=attempt.score_raw or 0.0,
        score_max=attempt.score_max or 0.0,
        score_scaled=attempt.score_scaled or 0.0,
        has_passed=bool(attempt.has_passed),
        pass_mark=attempt.pass_mark,
        version_number=loaded.version.number,
        shows_feedback=specific,
        shows_correct=correct,
        questions=tuple(states),
        wrong_count=wrong,
        can_practise=can_practise(settings, attempt, wrong),
    )


# -- Mistakes-only practice -------------------------------------------------------------------


def start_practice(session: Session, user_id: int, attempt_id: int) -> Attempt:
    """Start practising the questions answered wrongly in a submitted attempt.

    Returns the open practice of that attempt if there is one; an open practice of another
    attempt at the same quiz is closed first. Raises Conflict("nothing_to_practise") when
    the attempt has no wrong answers or its quiz never reveals answers.
    """
    source = load(session, user_id, attempt_id)
    attempt = source.attempt
    wrong = [
        question_id
        for question_id in attempt.question_ids
        if (answer := source.answers.get(question_id)) is not None
        and answer.score is not None
        and answer.is_correct is False
    ]
    if not can_practise(source.settings, attempt, len(wrong)):
        raise Conflict("nothing_to_practise")
    found = find_open(session, user_id, source.quiz, practice=True)
    if found is not None:
        if found.practice_of_id == attempt.id:
            return found
        found.status = AttemptStatus.SUBMITTED
        found.submitted_at = clock.now()
        session.flush()
    practice = Attempt(
        user_id=user_id,
        quiz_id=attempt.quiz_id,
        quiz_version_id=attempt.quiz_version_id,
        seed=attempt.seed,
        question_ids=wrong,
        option_orders={question_id: attempt.option_orders[question_id] for question_id in wrong},
        status=AttemptStatus.IN_PROGRESS,
        started_at=clock.now(),
        deadline_at=None,
        pass_mark=attempt.pass_mark,
        registration=str(uuid.uuid4()),
        is_practice=True,
        is_auto_submitted=False,
        practice_of_id=attempt.id,
    )
    if not insert_unless_open(session, practice):
        found = find_open(session, user_id, source.quiz, practice=True)
        assert found is not None
        return found
    return practice


def load_practice(session: Session, user_id: int, practice_id: int) -> tuple[Loaded, Attempt]:
    """Load a practice attempt and the attempt it practises."""
    loaded = load(session, user_id, practice_id)
    if not loaded.attempt.is_practice or loaded.attempt.practice_of_id is None:
        raise NotFound("practice")
    source = session.get(Attempt, loaded.attempt.practice_of_id)
    assert source is not None
    return loaded, source


def get_practice(
    session: Session, user_id: int, practice_id: int, *, last_question_id: str | None = None
) -> PracticeView:
    """Return the practice round: the next question not yet right, after the last one tried.

    ``last_question_id`` (the question just answered) is shown with its feedback.
    """
    loaded, source_attempt = load_practice(session, user_id, practice_id)
    settings = loaded.settings
    correct = shows_correct(settings, source_attempt)
    specific = settings.feedback != "never"
    questions = loaded.questions()
    remaining = [q for q in questions if not (a := loaded.answers.get(q.id)) or not a.is_correct]
    current = None
    if remaining:
        tried = [a for a in loaded.answers.values() if a.question_id in loaded.attempt.question_ids]
        latest = max(tried, key=lambda a: (a.saved_at, a.id)).question_id if tried else None
        ids = [q.id for q in questions]
        start = ids.index(latest) + 1 if latest in ids else 0
        cycle = ids[start:] + ids[:start]
        next_id = next(
            question_id for question_id in cycle if question_id in {q.id for q in remaining}
        )
        number = ids.index(next_id) + 1
        question = loaded.source.get_question(next_id)
        # A wrong answer is not shown back: each try starts from a clean form.
        current = question_state(loaded, number, question, None)
    last = None
    if last_question_id is not None and last_question_id in loaded.attempt.question_ids:
        question = loaded.source.get_question(last_question_id)
        answer = loaded.answers.get(last_question_id)
        if answer is not None:
            result = grading.grade(question, answer.response)
            feedback = answer_feedback(
                question,
                answer.response,
                specific=specific,
                correct=correct,
            )
            # Whether the try was right is the point of practice: always shown.
            feedback = Feedback(
                is_correct=result.is_correct,
                score=result.score,
                option_feedback=feedback.option_feedback,
                correct_summary=feedback.correct_summary,
                general_feedback=feedback.general_feedback,
            )
            number = loaded.attempt.question_ids.index(last_question_id) + 1
            last = question_state(loaded, number, question, answer, feedback=feedback)
    return PracticeView(
        attempt_id=loaded.attempt.id,
        source_attempt_id=source_attempt.id,
        quiz_id=loaded.quiz.stable_id,
        title=loaded.source.title,
        total=len(questions),
        done=len(questions) - len(remaining),
        current=current,
        last=last,
        shows_correct=correct,
        shows_feedback=specific,
    )


def answer_practice(
    session: Session, user_id: int, practice_id: int, question_id: str, raw: Any
) -> bool | None:
    """Grade one practice try; return whether it was right (None when not a valid answer).

    A right answer is final; when every question has been right once the practice ends.
    """
    loaded, _source = load_practice(session, user_id, practice_id)
    attempt = loaded.attempt
    if attempt.status is not AttemptStatus.IN_PROGRESS:
        raise Conflict("practice_finished")
    if question_id not in attempt.question_ids:
        raise NotFound("question")
    existing = loaded.answers.get(question_id)
    if existing is not None and existing.is_correct:
        return True
    question = loaded.source.get_question(question_id)
    response = clean_response(raw)
    if not is_answered(question, response):
        return None
    result = grading.grade(question, response)
    upsert_answer(
        session,
        loaded,
        question,
        response,
        now=clock.now(),
        is_valid=result.is_valid,
        result=result,
        is_final=result.is_correct,
    )
    if not result.is_valid:
        return None
    if all(
        (answer := loaded.answers.get(q)) is not None and answer.is_correct
        for q in attempt.question_ids
    ):
        now = clock.now()
        session.execute(
            update(Attempt)
            .where(Attempt.id == attempt.id)
            .values(status=AttemptStatus.SUBMITTED, submitted_at=now)
        )
        loaded.attempt = replace(attempt, status=AttemptStatus.SUBMITTED, submitted_at=now)
    return result.is_correct
