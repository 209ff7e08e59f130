"""Recording xAPI statements in the outbox, in the caller's transaction.

Every service that records a learning event calls ``enqueue`` with the statement it built, by an
explicit call and before the caller commits: the event and its statement exist together or not
at all. Nothing here talks to the LRS; the sender (``flask xapi worker``/``flush``) does.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.models import Library, Membership, Municipality, Region, User
from liboppi.models.outbox import OutboxStatement, OutboxStatus
from liboppi.xapi import statements as xs


def enqueue(
    session: Session,
    statement: xs.Statement,
    *,
    user_id: int | None,
    library_id: int | None,
) -> OutboxStatement:
    """Add a built statement to the outbox (serialised once, here) in the current transaction."""
    payload = xs.serialise(statement)
    verb = json.loads(payload)["verb"]["id"]
    now = clock.now()
    row = OutboxStatement(
        statement_id=statement.id,
        payload=payload,
        verb=verb,
        user_id=user_id,
        library_id=library_id,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    return row


def home_library_id(session: Session, user_id: int) -> int | None:
    """The library a user's learning is grouped under: their first current library membership."""
    return session.scalar(
        select(Membership.library_id)
        .where(
            Membership.user_id == user_id,
            Membership.library_id.is_not(None),
            Membership.left_at.is_(None),
        )
        .order_by(Membership.id)
        .limit(1)
    )


def origin_for(
    session: Session, user_id: int, *, base_url: str, language: str = "fi"
) -> tuple[xs.Origin, int | None]:
    """The statement origin (actor, library grouping, language) for a user, and the library id.

    A user with no library (a regional coordinator, say) is grouped under their region.
    """
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    library_id = home_library_id(session, user_id)
    if library_id is not None:
        library, municipality, region = session.execute(
            select(Library, Municipality, Region)
            .join(Municipality, Library.municipality_id == Municipality.id)
            .join(Region, Municipality.region_id == Region.id)
            .where(Library.id == library_id)
        ).one()
        names = {"fi": library.name_fi}
        if library.name_sv:
            names["sv"] = library.name_sv
        group = xs.Library(
            id=library.code, name=names, municipality=municipality.code, region=region.code
        )
    else:
        region = session.scalar(
            select(Region)
            .join(Membership, Membership.region_id == Region.id)
            .where(Membership.user_id == user_id)
            .limit(1)
        )
        code = region.code if region else "none"
        group = xs.Library(
            id=f"region-{code}",
            name={"fi": region.name_fi if region else code},
            municipality=code,
            region=code,
        )
    return xs.Origin(
        base_url=base_url, user_id=user.public_id, library=group, language=language
    ), library_id
