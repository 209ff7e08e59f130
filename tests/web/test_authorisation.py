"""Authorisation matrix: every endpoint so far × every role, decided on the server."""

from __future__ import annotations

import pytest

from liboppi.models import Membership, Role, User
from tests.web_client import csrf_token

ROLES = [None, *Role]


@pytest.fixture
def world(create_library, create_user):
    """Two libraries, a colleague in the first and a stranger in the second."""
    home = create_library("Kotikirjasto")
    away = create_library("Vieras kirjasto")
    colleague = create_user(Role.LEARNER, library=home)
    stranger = create_user(Role.LEARNER, library=away)
    return {"home": home, "away": away, "colleague": colleague, "stranger": stranger}


def _sign_in(logged_in, role, world):
    if role is None:
        return None
    return logged_in(role, library=world["home"])


GET_EXPECTED = {
    # path template: {role: status}; anonymous users are sent to sign in (302)
    "/": {r: 200 for r in Role},
    "/password": {r: 200 for r in Role},
    "/saavutettavuus": {None: 200, **{r: 200 for r in Role}},
    "/admin/users": {
        Role.LEARNER: 403,
        Role.EDITOR: 403,
        Role.LIBRARY_COORDINATOR: 200,
        Role.REGIONAL_COORDINATOR: 403,
        Role.ADMIN: 200,
    },
    "/admin/users/new": {
        Role.LEARNER: 403,
        Role.EDITOR: 403,
        Role.LIBRARY_COORDINATOR: 403,
        Role.REGIONAL_COORDINATOR: 403,
        Role.ADMIN: 200,
    },
    "/admin/users/{colleague}": {
        Role.LEARNER: 404,
        Role.EDITOR: 404,
        Role.LIBRARY_COORDINATOR: 200,
        Role.REGIONAL_COORDINATOR: 404,
        Role.ADMIN: 200,
    },
    "/admin/users/{stranger}": {
        Role.LEARNER: 404,
        Role.EDITOR: 404,
        Role.LIBRARY_COORDINATOR: 404,
        Role.REGIONAL_COORDINATOR: 404,
        Role.ADMIN: 200,
    },
}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize("path", list(GET_EXPECTED))
def test_get_endpoints_answer_by_role(client, logged_in, world, role, path):
    _sign_in(logged_in, role, world)
    url = path.format(colleague=world["colleague"].id, stranger=world["stranger"].id)
    expected = GET_EXPECTED[path].get(role, 302)
    response = client.get(url)
    assert response.status_code == expected
    if expected in (403, 404):
        page = response.get_data(as_text=True)
        assert world["stranger"].email not in page
        assert world["colleague"].email not in page


POSTS = [
    ("/admin/users/new", {"email": "x@kirjasto.example", "display_name": "X", "role": "learner"}),
    ("/admin/users/{stranger}/active", {"active": "0"}),
    ("/admin/users/{stranger}/link", {}),
    ("/admin/users/{stranger}/memberships", {"role": "editor", "library": "{away_id}"}),
]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN], ids=lambda r: r.value)
@pytest.mark.parametrize("path,data", POSTS, ids=[p for p, _ in POSTS])
def test_state_changing_posts_are_admin_only(
    client, logged_in, world, db_session, role, path, data
):
    _sign_in(logged_in, role, world)
    url = path.format(stranger=world["stranger"].id)
    form = {k: v.format(away_id=world["away"].id) for k, v in data.items()}
    token = csrf_token(client, "/")
    response = client.post(url, data={"csrf_token": token, **form})
    assert response.status_code in (403, 404)
    db_session.expire_all()
    stranger = db_session.get(User, world["stranger"].id)
    assert stranger.is_active
    assert len(stranger.memberships) == 1
    assert db_session.query(User).filter_by(email="x@kirjasto.example").count() == 0


def test_library_coordinator_sees_only_own_library_in_user_list(client, logged_in, world):
    _sign_in(logged_in, Role.LIBRARY_COORDINATOR, world)
    page = client.get("/admin/users").get_data(as_text=True)
    assert world["colleague"].email in page
    assert world["stranger"].email not in page


def test_library_coordinator_cannot_end_another_librarys_membership(
    client, logged_in, world, db_session
):
    _sign_in(logged_in, Role.LIBRARY_COORDINATOR, world)
    membership = db_session.query(Membership).filter_by(user_id=world["stranger"].id).one()
    token = csrf_token(client, "/")
    response = client.post(f"/admin/memberships/{membership.id}/end", data={"csrf_token": token})
    assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(Membership, membership.id).left_at is None


def test_ended_membership_takes_away_coordinator_rights(client, logged_in, world, db_session):
    coordinator = _sign_in(logged_in, Role.LIBRARY_COORDINATOR, world)
    assert client.get("/admin/users").status_code == 200
    membership = db_session.query(Membership).filter_by(user_id=coordinator.id).one()
    from liboppi import clock

    membership.left_at = clock.now()
    db_session.commit()
    assert client.get("/admin/users").status_code == 403
