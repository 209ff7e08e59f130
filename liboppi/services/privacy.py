"""The data protection rights of a person (GDPR): erasure and a data export of their records.

Erasure (``erase_user``):

* Every xAPI statement about the person -- theirs (``outbox_statements.user_id``) and any other
  that names their account, such as a plan assigned to them -- is voided at the LRS: a voiding
  statement per statement goes into the outbox, in this transaction, sent by the usual sender.
  The voiding statements' actor is the instance's service account, so they do not name the
  person. Voiding hides a statement from LRS queries; removing it from the LRS's storage is done
  with the LRS's own tools (xAPI has no delete).
* Statements not yet delivered are withdrawn (deleted) and voided too: one may be on its way
  to the LRS at this moment, and an LRS accepts voiding a statement it does not (yet) have.
  Parked statements were refused by the LRS, so they are only deleted. Delivered ones are
  deleted locally once their voiding statement is queued.
* The account is anonymised: email, display name, password, interface language, last sign-in,
  the public id (the xAPI account name: statements kept elsewhere no longer lead to the row),
  and the link nonce. The row itself stays, inactive, with its memberships, progress and
  attempts, so that the numbers of a library and a course (aggregates) do not change.

Export (``export_user``) returns one JSON-ready document with the account, its memberships,
every row of the learning records that refer to the person, and their xAPI statements.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.models import Base, Library, Membership, OutboxStatement, OutboxStatus, Region, User
from liboppi.xapi import statements as xs
from liboppi.xapi import vocabulary as v

from .authz import Action, Principal, can, require
from .errors import Forbidden, NotFound
from .outbox import enqueue

#: The account name that voids statements on the instance's behalf (its ``homePage`` is the
#: instance's base URL), so that a voiding statement does not itself name the erased person.
SERVICE_ACCOUNT = "liboppi-service"
#: Email domain of erased accounts (``.invalid`` is reserved: it can never receive mail).
ERASED_DOMAIN = "erased.invalid"
ERASED_NAME = "Poistettu käyttäjä"
EXPORT_FORMAT = "liboppi-personal-data-export/1"

#: Tables that the export writes in their own sections (or leaves out).
_SPECIAL_TABLES = frozenset({"users", "memberships", "outbox_statements", "xapi_delivery_state"})
#: Columns never exported: secrets, not personal data.
_SECRET_COLUMNS = frozenset({"password_hash", "token_nonce"})


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did."""

    user_id: int
    voided: int
    withdrawn: int
    deleted_parked: int


def find_user_id(session: Session, email: str) -> int:
    """Return the id of the account with ``email`` (any case); NotFound when there is none."""
    user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if user_id is None:
        raise NotFound(f"no user with the email {email!r}")
    return user_id


def is_erased(user: User) -> bool:
    """Tell whether the account was erased already."""
    return user.email.endswith("@" + ERASED_DOMAIN)


def _statements_about(session: Session, user: User) -> Iterator[OutboxStatement]:
    """Yield the outbox rows of ``user`` and every other row whose statement names them."""
    yield from session.scalars(
        select(OutboxStatement)
        .where(OutboxStatement.user_id == user.id)
        .order_by(OutboxStatement.id)
    )
    # Their account appears in others' statements too (an assignee, say). Its name is an
    # opaque 32-character id, so a byte search finds exactly those statements.
    needle = json.dumps({"name": user.public_id}, separators=(",", ":"))[1:-1].encode()
    last_id = 0
    while True:
        rows = session.execute(
            select(OutboxStatement.id, OutboxStatement.payload)
            .where(
                OutboxStatement.id > last_id,
                or_(OutboxStatement.user_id.is_(None), OutboxStatement.user_id != user.id),
            )
            .order_by(OutboxStatement.id)
            .limit(500)
        ).all()
        if not rows:
            return
        for row_id, payload in rows:
            last_id = row_id
            if needle in bytes(payload):
                row = session.get(OutboxStatement, row_id)
                if row is not None:
                    yield row


def erase_user(session: Session, actor: Principal, user_id: int, *, base_url: str) -> ErasureReport:
    """Void the person's statements at the LRS (via the outbox) and anonymise their account.

    The caller commits. Raises NotFound for an unknown or already erased account.
    """
    require(actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None or is_erased(user):
        raise NotFound("user")
    voided = withdrawn = deleted_parked = 0
    to_delete: list[int] = []
    for row in list(_statements_about(session, user)):
        if row.verb == v.VOIDED.iri:
            continue  # a voiding statement cannot itself be voided, and names no learner
        to_delete.append(row.id)
        if row.status == OutboxStatus.PARKED:
            deleted_parked += 1
            continue
        if row.status == OutboxStatus.PENDING:
            withdrawn += 1
        enqueue(
            session,
            xs.statement_voided(base_url, SERVICE_ACCOUNT, row.statement_id, clock=clock.now),
            user_id=None,
            library_id=row.library_id,
        )
        voided += 1
    if to_delete:
        session.execute(
            delete(OutboxStatement)
            .where(OutboxStatement.id.in_(to_delete))
            .execution_options(synchronize_session=False)
        )
    _anonymise(user)
    session.flush()
    return ErasureReport(user.id, voided, withdrawn, deleted_parked)


def _anonymise(user: User) -> None:
    user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
    user.display_name = ERASED_NAME
    user.password_hash = None
    user.is_active = False
    user.locale = None
    user.last_login_at = None
    user.public_id = uuid.uuid4().hex
    user.token_nonce = secrets.token_hex(16)


# -- Export ------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        # Binary columns hold files (course images an editor uploaded): content, not
        # records about the person. Say what there is without copying it.
        raw = bytes(value)
        return {"size_bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    return value


def _row_dict(table: Table, row: Any) -> dict[str, Any]:
    return {
        column.name: _json_value(row._mapping[column])
        for column in table.columns
        if column.name not in _SECRET_COLUMNS
    }


def _referring_tables(parent: Table) -> list[tuple[Table, list[Any]]]:
    """Tables with a foreign key to ``parent``'s primary key, with those key columns."""
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in _SPECIAL_TABLES or table is parent:
            continue
        columns = [fk.parent for fk in table.foreign_keys if fk.column.table is parent]
        if columns:
            found.append((table, columns))
    return found


def _records(session: Session, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table that refers to the user, and the rows that belong to those rows.

    "Belong" is a required (non-null) foreign key: an answer belongs to its attempt. Two levels
    reach every learning record (progress, attempts and their answers, plans and their items)
    without wandering into content that merely names its author.
    """
    users = Base.metadata.tables["users"]
    records: dict[str, list[dict[str, Any]]] = {}
    for table, columns in _referring_tables(users):
        rows = session.execute(
            select(table).where(or_(*(column == user_id for column in columns)))
        ).all()
        if not rows:
            continue
        records.setdefault(table.name, []).extend(_row_dict(table, row) for row in rows)
        keys = [row._mapping[column] for row in rows for column in table.primary_key.columns]
        if len(table.primary_key.columns) != 1:
            continue
        for child, child_columns in _referring_tables(table):
            owning = [column for column in child_columns if not column.nullable]
            if not owning:
                continue
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                child_rows = session.execute(
                    select(child).where(or_(*(column.in_(chunk) for column in owning)))
                ).all()
                records.setdefault(child.name, []).extend(
                    _row_dict(child, row) for row in child_rows
                )
    return {name: rows for name, rows in sorted(records.items()) if rows}


def export_user(session: Session, actor: Principal, user_id: int) -> dict[str, Any]:
    """Return everything Liboppi holds about one person as a JSON-ready document.

    Administrators may export anyone; a person may export themselves.
    """
    if not (can(actor, Action.MANAGE_USERS) or actor.user_id == user_id):
        raise Forbidden()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    memberships = []
    for membership in session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    ):
        library = session.get(Library, membership.library_id) if membership.library_id else None
        region = session.get(Region, membership.region_id) if membership.region_id else None
        memberships.append(
            {
                "role": membership.role.value,
                "library": library.code if library else None,
                "library_name": library.name_fi if library else None,
                "region": region.code if region else None,
                "job_role": membership.job_role,
                "joined_at": _json_value(membership.joined_at),
                "left_at": _json_value(membership.left_at),
            }
        )
    statements = [
        {
            "status": row.status.value,
            "created_at": _json_value(row.created_at),
            "delivered_at": _json_value(row.delivered_at),
            "statement": json.loads(row.payload),
        }
        for row in session.scalars(
            select(OutboxStatement)
            .where(OutboxStatement.user_id == user.id)
            .order_by(OutboxStatement.id)
        )
    ]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _json_value(clock.now()),
        "user": {
            "id": user.id,
            "public_id": user.public_id,
            "email": user.email,
            "display_name": user.display_name,
            "locale": user.locale,
            "is_active": user.is_active,
            "created_at": _json_value(user.created_at),
            "last_login_at": _json_value(user.last_login_at),
        },
        "memberships": memberships,
        "records": _records(session, user.id),
        "statements": statements,
    }
