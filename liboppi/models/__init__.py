"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from .account import Membership, Role, User
from .base import Base
from .content import Course, CourseFile, Module, ModuleVersion
from .delivery import DeliveryState
from .org import Library, LibraryKind, Municipality, Region
from .outbox import OutboxStatement, OutboxStatus
from .progress import CourseProgress, ModuleProgress
from .quiz import (
    Answer,
    Attempt,
    AttemptStatus,
    ItemCount,
    ItemStat,
    Quiz,
    QuizVersion,
    VersionStat,
)

__all__ = [
    "Answer",
    "Attempt",
    "AttemptStatus",
    "Base",
    "Course",
    "CourseFile",
    "CourseProgress",
    "DeliveryState",
    "ItemCount",
    "ItemStat",
    "Library",
    "LibraryKind",
    "Membership",
    "Module",
    "ModuleProgress",
    "ModuleVersion",
    "Municipality",
    "OutboxStatement",
    "OutboxStatus",
    "Quiz",
    "QuizVersion",
    "Region",
    "Role",
    "User",
    "VersionStat",
]
