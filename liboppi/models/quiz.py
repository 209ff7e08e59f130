"""Quizzes: the quiz, its imported versions, attempts and the answers saved in them.

A quiz version is immutable: an attempt keeps the version it started with, so a quiz
file changed mid-attempt never changes the questions or the grading of that attempt.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

#: JSON stored as SQL NULL when the Python value is None (not the JSON text ``null``).
JsonValue = JSON(none_as_null=True)


class Quiz(Base):
    """A quiz by its stable id (front matter ``id:``), in the course folder it lives in."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    stable_id: Mapped[str] = mapped_column(String(100), unique=True)
    course_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(300))
    current_version: Mapped[int]
    # A quiz whose file was removed: kept for its attempts, no longer started.
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    versions: Mapped[list[QuizVersion]] = relationship(
        back_populates="quiz", order_by="QuizVersion.number"
    )


class QuizVersion(Base):
    """One imported content of a quiz file; a changed file makes the next number."""

    __tablename__ = "quiz_versions"
    __table_args__ = (UniqueConstraint("quiz_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(String(500))
    raw_text: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(300))
    intro: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    questions: Mapped[list[Any]] = mapped_column(JsonValue)
    imported_at: Mapped[datetime]

    quiz: Mapped[Quiz] = relationship(back_populates="versions")


class AttemptStatus(enum.StrEnum):
    """An attempt is answered while in progress, then submitted (graded) once."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Attempt(Base):
    """A user's attempt at one quiz version, with the order they see and the grade it got.

    ``question_ids`` and ``option_orders`` are drawn from ``seed`` at the start and stored,
    so a resumed attempt and its review show exactly what the learner saw. ``pass_mark`` is
    the rule the attempt is graded under. A practice attempt (``is_practice``) repeats the
    questions answered wrongly in ``practice_of_id``; it is never graded.
    """

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        # Covers counting the people who took a quiz (item analysis) without the table.
        Index("ix_quiz_attempts_quiz_status", "quiz_id", "status", "is_practice", "user_id"),
        Index("ix_quiz_attempts_user_quiz", "user_id", "quiz_id"),
        # At most one unfinished attempt (and one unfinished practice) per user and quiz:
        # two tabs pressing "start" at once resume one attempt instead of making two.
        Index(
            "uq_quiz_attempts_one_open",
            "user_id",
            "quiz_id",
            "is_practice",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"))
    seed: Mapped[str] = mapped_column(String(32))
    question_ids: Mapped[list[str]] = mapped_column(JsonValue)
    option_orders: Mapped[dict[str, list[str]]] = mapped_column(JsonValue)
    status: Mapped[AttemptStatus] = mapped_column(
        Enum(
            AttemptStatus,
            native_enum=False,
            length=12,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=AttemptStatus.IN_PROGRESS,
    )
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    is_auto_submitted: Mapped[bool] = mapped_column(default=False)
    score_raw: Mapped[float | None] = mapped_column(Float)
    score_max: Mapped[float | None] = mapped_column(Float)
    score_scaled: Mapped[float | None] = mapped_column(Float)
    has_passed: Mapped[bool | None]
    pass_mark: Mapped[float] = mapped_column(Float)
    # The xAPI context.registration of every statement about this attempt.
    registration: Mapped[str] = mapped_column(String(36), unique=True)
    is_practice: Mapped[bool] = mapped_column(default=False)
    practice_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_attempts.id", ondelete="CASCADE")
    )

    quiz: Mapped[Quiz] = relationship()
    version: Mapped[QuizVersion] = relationship()


class Answer(Base):
    """The answer to one question of an attempt, saved as given; one row per question.

    ``response`` is what the form sent (kept even when it is not a valid answer, so
    nothing typed is lost); ``canonical`` is the normalised response, or None when it was
    not valid. ``score`` (0–1, None for ungraded questions), ``points`` (score × the
    question's points) and ``is_correct`` are set when graded. ``seconds_spent`` is the time
    from the previous save in the attempt (or its start) to the first save of this answer.
    """

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(100))
    response: Mapped[Any] = mapped_column(JsonValue, nullable=True)
    canonical: Mapped[Any] = mapped_column(JsonValue, nullable=True)
    is_valid: Mapped[bool] = mapped_column(default=True)
    saved_at: Mapped[datetime]
    first_saved_at: Mapped[datetime]
    seconds_spent: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    points: Mapped[float | None] = mapped_column(Float)
    is_correct: Mapped[bool | None]
    # Final answers cannot change: immediate feedback was shown, or practice got it right.
    is_final: Mapped[bool] = mapped_column(default=False)


class VersionStat(Base):
    """Running totals of the graded attempts at one quiz version (for item analysis)."""

    __tablename__ = "quiz_version_stats"

    quiz_version_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_versions.id", ondelete="CASCADE"), primary_key=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    passed: Mapped[int] = mapped_column(default=0)
    sum_scaled: Mapped[float] = mapped_column(Float, default=0.0)


class ItemStat(Base):
    """Running sums of one question's scores in the graded attempts at one quiz version.

    x is the question's score (0–1), y the rest of the attempt's points; the sums give the
    facility (mean x) and the point-biserial correlation of x and y without reading
    attempts again. ``attempts`` counts attempts that held the question, ``graded`` those
    where it was graded, ``answered`` those that gave an answer.
    """

    __tablename__ = "quiz_item_stats"

    quiz_version_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_versions.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    graded: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    sum_x: Mapped[float] = mapped_column(Float, default=0.0)
    sum_xx: Mapped[float] = mapped_column(Float, default=0.0)
    sum_y: Mapped[float] = mapped_column(Float, default=0.0)
    sum_yy: Mapped[float] = mapped_column(Float, default=0.0)
    sum_xy: Mapped[float] = mapped_column(Float, default=0.0)


class ItemCount(Base):
    """A running count for item analysis: how often ``key`` of ``kind`` occurred.

    Kinds: ``option`` (a choice, true/false or likert option chosen), ``response`` (a typed
    short or numeric answer), ``result`` (a matching or ordering answer right, partly or
    wrong), ``seconds`` (whole seconds to the first answer, a histogram for the median),
    and ``band`` (question_id empty: attempts per tenth of the score).
    """

    __tablename__ = "quiz_item_counts"

    quiz_version_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_versions.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
