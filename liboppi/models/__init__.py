"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from .account import Membership, Role, User
from .base import Base
from .org import Library, LibraryKind, Municipality, Region
from .outbox import OutboxStatement, OutboxStatus

__all__ = [
    "Base",
    "Library",
    "LibraryKind",
    "Membership",
    "Municipality",
    "OutboxStatement",
    "OutboxStatus",
    "Region",
    "Role",
    "User",
]
