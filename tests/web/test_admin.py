"""The administrator creates users, gives roles and deactivates accounts in the browser."""

from __future__ import annotations

import re

from liboppi.models import Role, User
from tests.web_client import login, post_form


def test_admin_creates_user_and_link_lets_them_set_password(
    app, client, logged_in, create_library, db_session
):
    library = create_library("Ranuan kirjasto")
    logged_in(Role.ADMIN)
    response = post_form(
        client,
        "/admin/users/new",
        {
            "display_name": "Uusi Työntekijä",
            "email": "uusi.tyontekija@kirjasto.example",
            "role": "learner",
            "library": str(library.id),
            "region": "0",
            "job_role": "asiakaspalvelu",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    link = re.search(r'value="(http://[^"]+/set-password/[^"]+)"', page).group(1)
    newcomer = app.test_client()
    path = (
        link.split("liboppi.test", 1)[1]
        if "liboppi.test" in link
        else link.split("localhost", 1)[1]
    )
    done = post_form(
        newcomer, path, {"new_password": "oma salasana 123", "confirm_password": "oma salasana 123"}
    )
    assert done.status_code == 302
    assert (
        login(newcomer, "uusi.tyontekija@kirjasto.example", "oma salasana 123").status_code == 302
    )


def test_create_user_with_taken_email_keeps_input_and_explains(client, logged_in, create_library):
    library = create_library()
    admin = logged_in(Role.ADMIN)
    response = post_form(
        client,
        "/admin/users/new",
        {
            "display_name": "Kaksoisolento",
            "email": admin.email,
            "role": "learner",
            "library": str(library.id),
            "region": "0",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "on jo olemassa" in page
    assert 'value="Kaksoisolento"' in page


def test_create_user_without_library_for_library_role_is_a_field_error(client, logged_in):
    logged_in(Role.ADMIN)
    response = post_form(
        client,
        "/admin/users/new",
        {
            "display_name": "Ei kirjastoa",
            "email": "ei@kirjasto.example",
            "role": "learner",
            "library": "0",
            "region": "0",
        },
    )
    assert response.status_code == 400
    assert "Valitse tälle roolille kirjasto." in response.get_data(as_text=True)


def test_admin_deactivates_user_who_then_cannot_sign_in(app, client, logged_in, create_user):
    logged_in(Role.ADMIN)
    person = create_user()
    response = post_form(
        client, f"/admin/users/{person.id}/active", {"active": "0"}, page="/admin/users"
    )
    assert response.status_code == 302
    assert login(app.test_client(), person.email).status_code == 400


def test_admin_cannot_deactivate_self(client, logged_in, db_session):
    admin = logged_in(Role.ADMIN)
    post_form(client, f"/admin/users/{admin.id}/active", {"active": "0"}, page="/admin/users")
    db_session.expire_all()
    assert db_session.get(User, admin.id).is_active


def test_admin_adds_and_ends_a_role(client, logged_in, create_user, create_library, db_session):
    logged_in(Role.ADMIN)
    person = create_user()
    other = create_library("Toinen")
    response = post_form(
        client,
        f"/admin/users/{person.id}/memberships",
        {"role": "editor", "library": str(other.id), "region": "0", "job_role": ""},
        page=f"/admin/users/{person.id}",
    )
    assert response.status_code == 302
    db_session.expire_all()
    roles = {m.role for m in db_session.get(User, person.id).memberships}
    assert roles == {Role.LEARNER, Role.EDITOR}
    editor = next(m for m in db_session.get(User, person.id).memberships if m.role == Role.EDITOR)
    post_form(client, f"/admin/memberships/{editor.id}/end", {}, page=f"/admin/users/{person.id}")
    db_session.expire_all()
    assert db_session.get(User, person.id).memberships[1].left_at is not None


def test_user_search_filters_by_name(client, logged_in, create_user):
    logged_in(Role.ADMIN)
    wanted = create_user(email="etsitty@kirjasto.example")
    create_user(email="muu@kirjasto.example")
    page = client.get("/admin/users?q=etsitty").get_data(as_text=True)
    assert wanted.email in page
    assert "muu@kirjasto.example" not in page
