"""Demo data: invented people in real Lapland libraries, one for each role."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.models import (
    Attempt,
    Course,
    CourseProgress,
    Module,
    ModuleProgress,
    ModuleVersion,
    Region,
    Role,
    User,
)
from liboppi.quiz.registry import get_question_type
from liboppi.quiz.source import Question

from . import accounts, attempts, orgs, progress
from .accounts import MembershipSpec
from .authz import SYSTEM
from .errors import Conflict, NotFound

#: Demo accounts only; ``flask demo seed`` refuses to run in production.
DEMO_PASSWORD = "liboppi-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    """A printed demo login."""

    email: str
    role: str
    library: str


# Invented people. None of them is a real member of Lapland's library staff.
PEOPLE = [
    ("uusi@kirjasto.example", "Sanni Aaltola", Role.LEARNER, "rovaniemi-main", "asiakaspalvelu"),
    ("oppija@kirjasto.example", "Ville Honkanen", Role.LEARNER, "inari-main", "kirjastovirkailija"),
    (
        "oppija2@kirjasto.example",
        "Elsa Mäkikangas",
        Role.LEARNER,
        "sodankyla-main",
        "kirjastonhoitaja",
    ),
    (
        "koordinaattori@kirjasto.example",
        "Marja Kivelä",
        Role.LIBRARY_COORDINATOR,
        "rovaniemi-main",
        "esihenkilö",
    ),
    (
        "koordinaattori2@kirjasto.example",
        "Pekka Rautio",
        Role.LIBRARY_COORDINATOR,
        "sodankyla-main",
        "esihenkilö",
    ),
    (
        "alue@kirjasto.example",
        "Helmi Saarela",
        Role.REGIONAL_COORDINATOR,
        None,
        "kehittämiskoordinaattori",
    ),
    (
        "toimittaja@kirjasto.example",
        "Oskari Niemelä",
        Role.EDITOR,
        "rovaniemi-main",
        "kirjastonhoitaja",
    ),
    ("admin@kirjasto.example", "Anna Lindqvist", Role.ADMIN, None, "pääkäyttäjä"),
]
# The new employee and the editor also study: everyone who works in a library is a learner.
EXTRA_LEARNER_ROLES = {"toimittaja@kirjasto.example", "koordinaattori@kirjasto.example"}


def seed(session: Session) -> list[DemoLogin]:
    """Create the demo users (once; existing ones are kept) and return their logins."""
    region = session.scalar(select(Region).where(Region.code == "lappi"))
    if region is None:
        raise RuntimeError("load the Lapland organisations before seeding demo users")
    logins = []
    # One argon2 hash for every demo account (same password): hashing is slow on purpose.
    password_hash = None
    for email, name, role, library_code, job_role in PEOPLE:
        library = orgs.get_library_by_code(session, library_code) if library_code else None
        if session.scalar(select(User).where(User.email == email)) is None:
            specs = [
                MembershipSpec(
                    role=role,
                    library_id=library.id if library else None,
                    region_id=None if library else region.id,
                    job_role=job_role,
                )
            ]
            if email in EXTRA_LEARNER_ROLES and library:
                specs.append(MembershipSpec(Role.LEARNER, library_id=library.id, job_role=job_role))
            user = accounts.create_user(
                session, SYSTEM, email=email, display_name=name, memberships=specs
            )
            password_hash = password_hash or accounts.hash_password(DEMO_PASSWORD)
            user.password_hash = password_hash
        logins.append(DemoLogin(email, role.value, library.name_fi if library else region.name_fi))
    session.flush()
    return logins


# -- Demo learning activity ---------------------------------------------------------------------
#
# Recorded through the same services a learner's requests use (progress for module views and
# completions, attempts for quizzes), so every event has its xAPI statement in the outbox, just
# as if the people had studied in the browser. Spread over the last two weeks with the settable
# clock; option order and the like come from the services' own randomness ("deterministic-ish").


@dataclass(frozen=True)
class Study:
    """One person's work in one course.

    ``modules`` is how many modules (in order) they read and completed (None: all);
    ``viewed_only`` more they opened without finishing; ``quizzes`` the outcome of each
    attempt, in order, at the quizzes of the completed modules: ``"P"`` pass, ``"F"`` fail,
    e.g. ``("FP", "P")`` = first quiz failed then passed, second passed.
    """

    email: str
    course_id: str
    language: str
    modules: int | None
    viewed_only: int = 0
    quizzes: tuple[str, ...] = ()


STUDIES = (
    # The new employee works through the whole onboarding course, failing one quiz once.
    Study("uusi@kirjasto.example", "perehdytys", "fi", None, 0, ("P", "FP", "P", "P", "P", "P")),
    Study("oppija@kirjasto.example", "kirjastojarjestelma", "fi", 3, 1, ("P", "F", "P")),
    Study("oppija2@kirjasto.example", "digituki", "fi", None, 0, ("P", "P", "FP", "P", "P", "P")),
    Study("oppija2@kirjasto.example", "verkkokirjasto", "fi", 1, 2, ("F",)),
    # Coordinators and the editor study too; the editor takes the Swedish course.
    Study("koordinaattori@kirjasto.example", "verkkokirjasto", "fi", 2, 1, ("P", "P")),
    Study("koordinaattori2@kirjasto.example", "digituki", "fi", 1, 1, ("F",)),
    Study("toimittaja@kirjasto.example", "introduktion", "sv", 2, 0, ("P", "FF")),
    Study("alue@kirjasto.example", "perehdytys", "fi", 0, 2),
)
#: How far back the demo activity starts.
ACTIVITY_DAYS = 14


@dataclass
class ActivitySummary:
    """What ``seed_activity`` recorded."""

    views: int = 0
    completions: int = 0
    attempts: int = 0
    passed: int = 0
    failed: int = 0
    courses_completed: int = 0
    skipped: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return the summary as one line for the command line."""
        return (
            f"Demo activity: {self.views} module views, {self.completions} completions, "
            f"{self.attempts} quiz attempts ({self.passed} passed, {self.failed} failed), "
            f"{self.courses_completed} courses completed."
        )


def has_activity(session: Session) -> bool:
    """Tell whether anyone has learning activity already (then the demo adds none)."""
    return bool(
        session.scalar(select(func.count()).select_from(ModuleProgress))
        or session.scalar(select(func.count()).select_from(Attempt))
    )


def seed_activity(session: Session, *, base_url: str) -> ActivitySummary | None:
    """Record the demo people's learning through the services; None if activity exists.

    Needs the demo users and the imported courses and quizzes; a course that is not imported
    is skipped (and named in ``skipped``). Leaves ``liboppi.clock`` running (unfrozen).
    """
    if has_activity(session):
        return None
    summary = ActivitySummary()
    start = clock.now().replace(hour=7, minute=0, second=0, microsecond=0) - timedelta(
        days=ACTIVITY_DAYS
    )
    rng = random.Random(2026)
    try:
        for day, study in enumerate(STUDIES):
            clock.set_now(start + timedelta(days=day + 1, minutes=rng.randint(0, 240)))
            _study(session, study, base_url, rng, summary)
    finally:
        clock.set_now(None)
    session.flush()
    summary.courses_completed = (
        session.scalar(select(func.count()).select_from(CourseProgress)) or 0
    )
    return summary


def _study(
    session: Session, study: Study, base_url: str, rng: random.Random, summary: ActivitySummary
) -> None:
    user_id = session.scalar(select(User.id).where(User.email == study.email))
    modules = session.execute(
        select(Module.stable_id, ModuleVersion.quiz_id)
        .join(Course, Course.id == Module.course_id)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .where(
            Course.stable_id == study.course_id,
            Course.is_archived.is_(False),
            Module.is_archived.is_(False),
        )
        .order_by(Module.position)
    ).all()
    if user_id is None or not modules:
        summary.skipped.append(study.course_id)
        return
    done = len(modules) if study.modules is None else min(study.modules, len(modules))
    recorder = attempts.Recorder(base_url, study.language)
    outcomes = iter(study.quizzes)
    for index, (module_id, quiz_id) in enumerate(modules[: done + study.viewed_only]):
        _later(rng, 2, 6)
        progress.record_view(
            session, user_id, study.course_id, module_id, base_url=base_url, language=study.language
        )
        summary.views += 1
        if index >= done:
            continue
        _later(rng, 5, 20)
        progress.complete_module(
            session, user_id, study.course_id, module_id, base_url=base_url, language=study.language
        )
        summary.completions += 1
        if quiz_id is None:
            continue
        for result in next(outcomes, ""):
            _later(rng, 1, 4)
            passed = _take_quiz(session, user_id, quiz_id, recorder, correct=result == "P", rng=rng)
            if passed is None:
                break
            summary.attempts += 1
            summary.passed += passed
            summary.failed += not passed


def _later(rng: random.Random, low: int, high: int) -> None:
    clock.advance(timedelta(minutes=rng.randint(low, high), seconds=rng.randint(0, 59)))


def _take_quiz(
    session: Session,
    user_id: int,
    quiz_id: str,
    recorder: attempts.Recorder,
    *,
    correct: bool,
    rng: random.Random,
) -> bool | None:
    """Take one attempt, answering every question right (or wrong); None if none can start."""
    try:
        attempt = attempts.start_attempt(session, user_id, quiz_id, recorder)
    except (NotFound, Conflict):
        return None
    loaded = attempts.load(session, user_id, attempt.id)
    answers = {}
    for question in loaded.questions():
        response = _response(question, attempt.option_orders.get(question.id, []), correct)
        if response is not None:
            answers[question.id] = response
    # All answers in one save, as the single-page layout posts them (and quicker to seed).
    clock.advance(timedelta(seconds=rng.randint(30, 40) * max(len(answers), 1)))
    attempts.save_answers(session, user_id, attempt.id, answers, recorder)
    clock.advance(timedelta(seconds=rng.randint(10, 60)))
    submitted = attempts.submit_attempt(session, user_id, attempt.id, recorder)
    return bool(submitted.has_passed)


def _response(question: Question, option_order: list[str], correct: bool) -> Any:
    """Form values answering ``question`` right or wrong, from its review view; None if unknown."""
    kind = get_question_type(question.type)
    review = kind.review_view(question, None, option_order=option_order)
    try:
        if question.type in ("single", "multiple", "truefalse"):
            options = review["options"]
            right = [o["id"] for o in options if o["is_correct"]]
            wrong = [o["id"] for o in options if not o["is_correct"]]
            chosen = right if correct else wrong[:1]
            return chosen if question.type == "multiple" else chosen[0]
        if question.type == "short":
            return review["accept"][0] if correct else "en tiedä"
        if question.type == "numeric":
            low, high = kind.data(question).bounds()
            return str(float((low + high) / 2)) if correct else str(float(high) + 1000)
        if question.type == "matching":
            pairs = {s["id"]: s["correct_target"] for s in review["sources"]}
            if correct:
                return pairs
            targets = list(pairs.values())
            return dict(zip(pairs, targets[1:] + targets[:1], strict=True))
        if question.type == "ordering":
            count = len(review["items"])
            return {
                item["id"]: str(
                    item["correct_position"] if correct else count + 1 - item["correct_position"]
                )
                for item in review["items"]
            }
        if question.type == "likert":
            return review["scale"][len(review["scale"]) // 2]["id"]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return None
