"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from .account import Membership, Role, User
from .base import Base
from .org import Library, LibraryKind, Municipality, Region

__all__ = ["Base", "Library", "LibraryKind", "Membership", "Municipality", "Region", "Role", "User"]
