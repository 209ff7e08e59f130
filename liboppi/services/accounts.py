"""Accounts: sign-in, passwords, set-password links, users and their memberships."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import Connection, and_, bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from liboppi import clock
from liboppi.database import DriverStatement
from liboppi.models import Library, Membership, Region, Role, User
from liboppi.models.account import REGION_ROLES

from .authz import Action, Grant, Principal, UserTarget, require
from .errors import Invalid, NotFound

MIN_PASSWORD_LENGTH = 10
LOCALES = ("fi", "sv", "en")

_hasher = PasswordHasher()
# Verifying against this when the email is unknown keeps the timing of a wrong email
# and a wrong password alike, so sign-in does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str, field: str = "password") -> None:
    """Raise Invalid when a new password is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"too_short:{MIN_PASSWORD_LENGTH}", field)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer for every failure)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = _verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = clock.now()
    return user


def change_password(session: Session, user_id: int, current: str, new: str) -> None:
    """Change a signed-in user's password after checking the current one."""
    user = session.get(User, user_id)
    if user is None or not _verify(user.password_hash, current):
        raise Invalid("wrong_current_password", "current_password")
    check_password_rules(new, "new_password")
    _set_password(user, new)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.token_nonce = secrets.token_hex(16)


class _ClockSigner(TimestampSigner):
    # itsdangerous reads the wall clock; Liboppi's settable clock makes expiry testable.
    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="set-password", signer=_ClockSigner)


def make_set_password_token(secret_key: str, user: User) -> str:
    """A signed token for a one-time set-password link; used once, it stops working."""
    return _serializer(secret_key).dumps({"u": user.public_id, "n": user.token_nonce})


def _user_for_token(session: Session, secret_key: str, token: str, max_age: int) -> User:
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Invalid("link_expired") from None
    except BadSignature:
        raise Invalid("link_invalid") from None
    user = session.scalar(select(User).where(User.public_id == data.get("u")))
    if user is None or user.token_nonce != data.get("n") or not user.is_active:
        raise Invalid("link_invalid")
    return user


def check_set_password_token(session: Session, secret_key: str, token: str, max_age: int) -> str:
    """The email a valid set-password link is for; Invalid when expired, used or forged."""
    return _user_for_token(session, secret_key, token, max_age).email


def set_password_with_token(
    session: Session, secret_key: str, token: str, password: str, max_age: int
) -> User:
    """Set a password through a one-time link, which then stops working."""
    user = _user_for_token(session, secret_key, token, max_age)
    check_password_rules(password)
    _set_password(user, password)
    return user


def set_locale(session: Session, user_id: int, locale: str) -> None:
    """Remember a user's interface language."""
    if locale not in LOCALES:
        raise Invalid("unknown_locale", "locale")
    user = session.get(User, user_id)
    if user is not None:
        user.locale = locale


@dataclass(frozen=True)
class MembershipSpec:
    """A role to give: in a library, or (regional roles) in a region."""

    role: Role
    library_id: int | None = None
    region_id: int | None = None
    job_role: str | None = None


@dataclass(frozen=True)
class SessionUser:
    """What a signed-in request needs of its user: identity, language and current grants."""

    user_id: int
    public_id: str
    display_name: str
    email: str
    locale: str | None
    token_nonce: str
    principal: Principal


def session_user_query():
    """The active user ``:user_id`` with their current memberships, a row per membership."""
    users, memberships = User.__table__, Membership.__table__
    return (
        select(
            users.c.public_id,
            users.c.display_name,
            users.c.email,
            users.c.locale,
            users.c.token_nonce,
            memberships.c.role,
            memberships.c.library_id,
            memberships.c.region_id,
        )
        .select_from(
            users.outerjoin(
                memberships,
                and_(memberships.c.user_id == users.c.id, memberships.c.left_at.is_(None)),
            )
        )
        .where(users.c.id == bindparam("user_id"), users.c.is_active.is_(True))
        .order_by(memberships.c.id)
    )


#: One statement per signed-in request: the active user and their current memberships.
_SESSION_USER = DriverStatement(session_user_query())


def load_session_user(connection: Connection, user_id: int) -> SessionUser | None:
    """The active user ``user_id`` with the grants of their current memberships, else None.

    Read fresh on every request (one light query), so a deactivation, a changed password or
    an ended membership takes effect on the user's next request. ``connection`` may be a
    session's connection or a request's read connection (``liboppi.web.database``).
    """
    return session_user(user_id, _SESSION_USER.rows(connection, {"user_id": user_id}))


def session_user(user_id: int, rows: Sequence[Any]) -> SessionUser | None:
    """The user read as ``session_user_query``'s ``rows`` (none: no such active user)."""
    if not rows:
        return None
    first = rows[0]
    grants = frozenset(
        Grant(Role(r.role), r.library_id, r.region_id) for r in rows if r.role is not None
    )
    return SessionUser(
        user_id=user_id,
        public_id=first.public_id,
        display_name=first.display_name,
        email=first.email,
        locale=first.locale,
        token_nonce=first.token_nonce,
        principal=Principal(user_id, grants),
    )


def _check_spec(session: Session, spec: MembershipSpec) -> None:
    if spec.role in REGION_ROLES:
        if spec.region_id is None or session.get(Region, spec.region_id) is None:
            raise Invalid("region_required", "region")
    elif spec.library_id is None or session.get(Library, spec.library_id) is None:
        raise Invalid("library_required", "library")


def _membership(spec: MembershipSpec) -> Membership:
    regional = spec.role in REGION_ROLES
    return Membership(
        role=spec.role,
        library_id=None if regional else spec.library_id,
        region_id=spec.region_id if regional else None,
        job_role=spec.job_role or None,
        joined_at=clock.now(),
    )


def create_user(
    session: Session,
    actor: Principal,
    *,
    email: str,
    display_name: str,
    memberships: list[MembershipSpec],
) -> User:
    """Create an account without a password; the person sets it through a one-time link."""
    require(actor, Action.MANAGE_USERS)
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise Invalid("invalid_email", "email")
    if not display_name.strip():
        raise Invalid("required", "display_name")
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Invalid("email_taken", "email")
    if not memberships:
        raise Invalid("library_required", "library")
    for spec in memberships:
        _check_spec(session, spec)
    user = User(email=email, display_name=display_name.strip(), created_at=clock.now())
    user.memberships = [_membership(spec) for spec in memberships]
    session.add(user)
    session.flush()
    return user


def _target(session: Session, user_id: int) -> UserTarget:
    ids = session.scalars(
        select(Membership.library_id).where(
            Membership.user_id == user_id,
            Membership.library_id.is_not(None),
            Membership.left_at.is_(None),
        )
    )
    return UserTarget(user_id, frozenset(i for i in ids if i is not None))


def get_user(session: Session, actor: Principal, user_id: int) -> User:
    """A user the actor may see; NotFound for anyone else, so ids reveal nothing."""
    user = session.get(User, user_id, options=[selectinload(User.memberships)])
    if user is None:
        raise NotFound("user")
    try:
        require(actor, Action.VIEW_USER, _target(session, user_id))
    except Exception:
        raise NotFound("user") from None
    return user


@dataclass(frozen=True)
class UserRow:
    """A line in the user list."""

    id: int
    email: str
    display_name: str
    is_active: bool
    roles: tuple[str, ...]
    libraries: tuple[str, ...]
    last_login_at: datetime | None


def list_users(session: Session, actor: Principal, query: str = "") -> list[UserRow]:
    """Users the actor may see: all for admins, their libraries' staff for coordinators."""
    require(actor, Action.LIST_USERS)
    stmt = (
        select(User)
        .options(selectinload(User.memberships).selectinload(Membership.library))
        .order_by(User.display_name)
    )
    if not actor.is_admin:
        libraries = actor.library_ids(Role.LIBRARY_COORDINATOR)
        stmt = stmt.where(
            User.id.in_(
                select(Membership.user_id).where(
                    Membership.library_id.in_(libraries), Membership.left_at.is_(None)
                )
            )
        )
    if query.strip():
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(User.display_name).like(like) | User.email.like(like))
    rows = []
    for user in session.scalars(stmt):
        current = [m for m in user.memberships if m.left_at is None]
        rows.append(
            UserRow(
                id=user.id,
                email=user.email,
                display_name=user.display_name,
                is_active=user.is_active,
                roles=tuple(sorted({m.role.value for m in current})),
                libraries=tuple(sorted({m.library.name_fi for m in current if m.library})),
                last_login_at=user.last_login_at,
            )
        )
    return rows


def set_active(session: Session, actor: Principal, user_id: int, is_active: bool) -> User:
    """Deactivate (or reactivate) an account; a deactivated user cannot sign in."""
    require(actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    if user.id == actor.user_id and not is_active:
        raise Invalid("cannot_deactivate_self")
    user.is_active = is_active
    return user


def add_membership(session: Session, actor: Principal, user_id: int, spec: MembershipSpec) -> None:
    """Give a user a role in a library or region."""
    require(actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    _check_spec(session, spec)
    membership = _membership(spec)
    membership.user_id = user.id
    session.add(membership)


def end_membership(session: Session, actor: Principal, membership_id: int) -> None:
    """End a membership; the row stays as history with ``left_at`` set."""
    require(actor, Action.MANAGE_USERS)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.left_at is not None:
        raise NotFound("membership")
    membership.left_at = clock.now()
