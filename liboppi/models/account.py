"""Accounts: users and their memberships (roles) in libraries and regions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .org import Library, Region


class Role(enum.StrEnum):
    """What a membership lets a user do."""

    LEARNER = "learner"
    EDITOR = "editor"
    LIBRARY_COORDINATOR = "library_coordinator"
    REGIONAL_COORDINATOR = "regional_coordinator"
    ADMIN = "admin"


#: Roles held in a region rather than in one library.
REGION_ROLES = frozenset({Role.REGIONAL_COORDINATOR, Role.ADMIN})


def _new_public_id() -> str:
    return uuid.uuid4().hex


class User(Base):
    """A person who signs in: library staff, editors, coordinators, admins."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque and stable: the xAPI actor's account name, never the email.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_new_public_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    # Rotated on every password change, which voids outstanding set-password links.
    token_nonce: Mapped[str] = mapped_column(String(32), default=_new_public_id)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Membership.id"
    )


class Membership(Base):
    """A user's role in one library, or in a region for regional roles."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("(library_id IS NULL) <> (region_id IS NULL)", name="library_xor_region"),
        Index("ix_memberships_library_role", "library_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])
    )
    job_role: Mapped[str | None] = mapped_column(String(60))
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="memberships")
    library: Mapped[Library | None] = relationship()
    region: Mapped[Region | None] = relationship()
