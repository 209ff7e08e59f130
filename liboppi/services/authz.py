"""Authorisation: who may do what, decided here and nowhere else.

Views hide links a user cannot follow, but the decision that counts is ``can``/``require``,
called by every service that reads or changes data.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi.models import Membership, Role, User

from .errors import Forbidden


class Action(enum.StrEnum):
    """Things a principal may be allowed to do."""

    MANAGE_USERS = "manage_users"
    LIST_USERS = "list_users"
    VIEW_USER = "view_user"
    EDIT_CONTENT = "edit_content"
    VIEW_LIBRARY = "view_library"
    VIEW_REGION = "view_region"
    VIEW_ITEM_ANALYSIS = "view_item_analysis"


@dataclass(frozen=True)
class Grant:
    """One role held in one library or region."""

    role: Role
    library_id: int | None = None
    region_id: int | None = None


@dataclass(frozen=True)
class Principal:
    """The acting user with the roles they hold now (memberships not ended)."""

    user_id: int
    grants: frozenset[Grant] = field(default_factory=frozenset)
    is_system: bool = False

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        return self.is_system or self.has_role(Role.ADMIN)

    def library_ids(self, *roles: Role) -> frozenset[int]:
        """Libraries where the principal holds any of ``roles`` (any role when none given)."""
        return frozenset(
            g.library_id
            for g in self.grants
            if g.library_id is not None and (not roles or g.role in roles)
        )

    def region_ids(self, *roles: Role) -> frozenset[int]:
        return frozenset(
            g.region_id
            for g in self.grants
            if g.region_id is not None and (not roles or g.role in roles)
        )

    @cached_property
    def roles(self) -> frozenset[Role]:
        # Kept in the instance's __dict__ (a frozen dataclass allows that): a principal is
        # asked on every request, and its grants never change.
        return frozenset(g.role for g in self.grants)


#: The command line acts as the system: it is run by whoever runs the server.
SYSTEM = Principal(user_id=0, is_system=True)


@dataclass(frozen=True)
class UserTarget:
    """A user as an authorisation target: who they are and where they work."""

    user_id: int
    library_ids: frozenset[int]


@dataclass(frozen=True)
class LibraryTarget:
    """A library as an authorisation target."""

    library_id: int
    region_id: int


def can(principal: Principal, action: Action, target: object = None) -> bool:
    """Whether ``principal`` may do ``action`` on ``target``."""
    if principal.is_admin:
        return True
    match action:
        case Action.MANAGE_USERS:
            return False
        case Action.LIST_USERS:
            return bool(principal.library_ids(Role.LIBRARY_COORDINATOR))
        case Action.VIEW_USER:
            assert isinstance(target, UserTarget)
            return target.user_id == principal.user_id or bool(
                principal.library_ids(Role.LIBRARY_COORDINATOR) & target.library_ids
            )
        case Action.EDIT_CONTENT:
            return principal.has_role(Role.EDITOR)
        case Action.VIEW_LIBRARY:
            assert isinstance(target, LibraryTarget)
            return target.library_id in principal.library_ids(
                Role.LIBRARY_COORDINATOR
            ) or target.region_id in principal.region_ids(Role.REGIONAL_COORDINATOR)
        case Action.VIEW_REGION:
            return target in principal.region_ids(Role.REGIONAL_COORDINATOR)
        case Action.VIEW_ITEM_ANALYSIS:
            return bool(
                principal.roles & {Role.EDITOR, Role.LIBRARY_COORDINATOR, Role.REGIONAL_COORDINATOR}
            )
    return False


def require(principal: Principal, action: Action, target: object = None) -> None:
    """Raise Forbidden unless ``principal`` may do ``action`` on ``target``."""
    if not can(principal, action, target):
        raise Forbidden(action.value)


def grants_of(memberships: Iterable[Membership]) -> frozenset[Grant]:
    """The grants given by memberships that have not ended."""
    return frozenset(
        Grant(m.role, m.library_id, m.region_id) for m in memberships if m.left_at is None
    )


def load_principal(session: Session, user_id: int) -> Principal:
    """The principal for an active user; a user with no such row gets no grants."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return Principal(user_id=user_id)
    memberships = session.scalars(select(Membership).where(Membership.user_id == user_id))
    return Principal(user_id=user_id, grants=grants_of(memberships))
