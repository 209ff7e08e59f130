"""A learner's progress: per module (viewed, completed, quiz passed) and per course.

Progress is numbers in 0–1 plus explicit times; "completed" is recorded once and never
moved (Kolibri's content summary logs do the same).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ModuleProgress(Base):
    """One learner's progress in one module."""

    __tablename__ = "module_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id"),
        CheckConstraint("fraction >= 0 AND fraction <= 1", name="fraction_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    #: Share of the module's requirements met: completion, and its quiz where the course
    #: rule asks for quizzes.
    fraction: Mapped[float] = mapped_column(Float, default=0.0)
    viewed_at: Mapped[datetime | None]
    last_viewed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    #: The version the learner had read when they completed the module.
    module_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("module_versions.id", ondelete="SET NULL")
    )
    quiz_passed_at: Mapped[datetime | None]


class CourseProgress(Base):
    """A learner's completion of a course, recorded once when its rule is first met."""

    __tablename__ = "course_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime]
