"""The authorisation rules as a table: who may do what, where."""

from __future__ import annotations

import pytest

from liboppi.models import Role
from liboppi.services.authz import (
    SYSTEM,
    Action,
    Grant,
    LibraryTarget,
    Principal,
    UserTarget,
    can,
)

HOME, AWAY, REGION, OTHER_REGION = 1, 2, 10, 20


def principal(*grants: Grant, user_id: int = 100) -> Principal:
    return Principal(user_id=user_id, grants=frozenset(grants))


LEARNER = principal(Grant(Role.LEARNER, library_id=HOME))
EDITOR = principal(Grant(Role.EDITOR, library_id=HOME))
COORDINATOR = principal(Grant(Role.LIBRARY_COORDINATOR, library_id=HOME))
REGIONAL = principal(Grant(Role.REGIONAL_COORDINATOR, region_id=REGION))
ADMIN = principal(Grant(Role.ADMIN, region_id=REGION))
NOBODY = principal()

COLLEAGUE = UserTarget(user_id=1, library_ids=frozenset({HOME}))
STRANGER = UserTarget(user_id=2, library_ids=frozenset({AWAY}))
SELF = UserTarget(user_id=100, library_ids=frozenset({AWAY}))
HOME_LIBRARY = LibraryTarget(library_id=HOME, region_id=REGION)
FAR_LIBRARY = LibraryTarget(library_id=AWAY, region_id=OTHER_REGION)

TABLE = [
    # (who, action, target, allowed)
    (LEARNER, Action.VIEW_USER, SELF, True),
    (LEARNER, Action.VIEW_USER, COLLEAGUE, False),
    (LEARNER, Action.LIST_USERS, None, False),
    (LEARNER, Action.EDIT_CONTENT, None, False),
    (LEARNER, Action.VIEW_LIBRARY, HOME_LIBRARY, False),
    (EDITOR, Action.EDIT_CONTENT, None, True),
    (EDITOR, Action.MANAGE_USERS, None, False),
    (EDITOR, Action.VIEW_ITEM_ANALYSIS, None, True),
    (COORDINATOR, Action.LIST_USERS, None, True),
    (COORDINATOR, Action.VIEW_USER, COLLEAGUE, True),
    (COORDINATOR, Action.VIEW_USER, STRANGER, False),
    (COORDINATOR, Action.VIEW_LIBRARY, HOME_LIBRARY, True),
    (COORDINATOR, Action.VIEW_LIBRARY, FAR_LIBRARY, False),
    (COORDINATOR, Action.MANAGE_USERS, None, False),
    (COORDINATOR, Action.EDIT_CONTENT, None, False),
    (REGIONAL, Action.VIEW_REGION, REGION, True),
    (REGIONAL, Action.VIEW_REGION, OTHER_REGION, False),
    (REGIONAL, Action.VIEW_LIBRARY, HOME_LIBRARY, True),
    (REGIONAL, Action.VIEW_LIBRARY, FAR_LIBRARY, False),
    (REGIONAL, Action.VIEW_USER, COLLEAGUE, False),
    (REGIONAL, Action.LIST_USERS, None, False),
    (ADMIN, Action.MANAGE_USERS, None, True),
    (ADMIN, Action.VIEW_USER, STRANGER, True),
    (NOBODY, Action.VIEW_USER, SELF, True),
    (NOBODY, Action.EDIT_CONTENT, None, False),
    (SYSTEM, Action.MANAGE_USERS, None, True),
]


@pytest.mark.parametrize("who,action,target,allowed", TABLE)
def test_can_follows_the_rules(who, action, target, allowed):
    assert can(who, action, target) is allowed


def test_ended_memberships_give_no_rights(db_session, create_user):
    from liboppi import clock
    from liboppi.services.authz import load_principal

    user = create_user(Role.LIBRARY_COORDINATOR)
    assert can(load_principal(db_session, user.id), Action.LIST_USERS)
    user.memberships[0].left_at = clock.now()
    db_session.commit()
    assert not can(load_principal(db_session, user.id), Action.LIST_USERS)


def test_deactivated_user_has_no_grants(db_session, create_user):
    from liboppi.services.authz import load_principal

    user = create_user(Role.ADMIN, is_active=False)
    assert load_principal(db_session, user.id).grants == frozenset()
