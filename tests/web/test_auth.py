"""Sign-in, sign-out, set-password links and password change, as a person would use them."""

from __future__ import annotations

from datetime import timedelta

from liboppi import clock
from liboppi.models import User
from liboppi.services import accounts
from tests.web_client import PASSWORD, login, post_form


def test_login_with_right_password_shows_front_page(client, create_user):
    user = create_user()
    response = login(client, user.email)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert user.display_name in page


def test_login_email_is_case_insensitive(client, create_user):
    user = create_user(email="Kaisa@Kirjasto.example")
    assert login(client, "  KAISA@kirjasto.example ").status_code == 302
    assert user.email == "kaisa@kirjasto.example"


def test_wrong_password_gets_generic_message_and_keeps_email(client, create_user):
    user = create_user()
    response = login(client, user.email, "wrong password")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Sähköpostiosoite tai salasana on väärin" in page
    assert f'value="{user.email}"' in page


def test_unknown_email_gets_the_same_message_as_wrong_password(client, create_user):
    create_user(email="real@kirjasto.example")
    wrong_password = login(client, "real@kirjasto.example", "nope nope nope").get_data(as_text=True)
    unknown = login(client, "nobody@kirjasto.example", "nope nope nope").get_data(as_text=True)
    marker = "Sähköpostiosoite tai salasana on väärin"
    assert marker in wrong_password and marker in unknown


def test_deactivated_user_cannot_sign_in(client, create_user):
    user = create_user(is_active=False)
    response = login(client, user.email)
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_deactivating_ends_an_existing_session(client, create_user, db_session):
    user = create_user()
    login(client, user.email)
    db_session.get(User, user.id).is_active = False
    db_session.commit()
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client, create_user):
    user = create_user()
    login(client, user.email)
    response = post_form(client, "/logout", {}, page="/")
    assert response.status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_empty_login_form_gets_field_errors(client):
    response = post_form(client, "/login", {"email": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page
    assert "Tämä kenttä on pakollinen." in page


def _link_token(app, db_session, user_id):
    user = db_session.get(User, user_id)
    return accounts.make_set_password_token(app.config["LIBOPPI"].secret_key, user)


def test_set_password_link_sets_password_once(app, client, create_user, db_session):
    user = create_user(password="old password 123")
    token = _link_token(app, db_session, user.id)
    url = f"/set-password/{token}"
    response = post_form(
        client,
        url,
        {"new_password": "uusi salasana 2026", "confirm_password": "uusi salasana 2026"},
    )
    assert response.status_code == 302
    assert login(client, user.email, "uusi salasana 2026").status_code == 302
    reused = client.get(url)
    assert reused.status_code == 400
    assert "jo käytetty" in reused.get_data(as_text=True)


def test_expired_set_password_link_is_refused(app, client, create_user, db_session):
    user = create_user()
    token = _link_token(app, db_session, user.id)
    clock.set_now(clock.now() + timedelta(seconds=app.config["LIBOPPI"].set_password_max_age + 1))
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 400
    assert "vanhentunut" in response.get_data(as_text=True)


def test_forged_set_password_link_is_refused(client):
    response = client.get("/set-password/not-a-real-token")
    assert response.status_code == 400


def test_set_password_rejects_short_password_and_mismatch(app, client, create_user, db_session):
    user = create_user()
    url = f"/set-password/{_link_token(app, db_session, user.id)}"
    short = post_form(client, url, {"new_password": "short", "confirm_password": "short"})
    assert short.status_code == 400
    assert "Käytä vähintään 10 merkkiä." in short.get_data(as_text=True)
    mismatch = post_form(
        client, url, {"new_password": "long enough one", "confirm_password": "long enough two"}
    )
    assert "Salasanat eivät täsmää." in mismatch.get_data(as_text=True)


def test_password_change_requires_current_password(client, create_user):
    user = create_user()
    login(client, user.email)
    response = post_form(
        client,
        "/password",
        {
            "current_password": "not it at all",
            "new_password": "uusi pitkä salasana",
            "confirm_password": "uusi pitkä salasana",
        },
    )
    assert response.status_code == 400
    assert "Nykyinen salasana ei ole oikein." in response.get_data(as_text=True)


def test_password_change_works_and_old_password_stops_working(app, create_user):
    user = create_user()
    client = app.test_client()
    login(client, user.email)
    response = post_form(
        client,
        "/password",
        {
            "current_password": PASSWORD,
            "new_password": "uusi pitkä salasana",
            "confirm_password": "uusi pitkä salasana",
        },
    )
    assert response.status_code == 302
    other = app.test_client()
    assert login(other, user.email, PASSWORD).status_code == 400
    assert login(other, user.email, "uusi pitkä salasana").status_code == 302


def test_password_change_signs_out_other_sessions(app, create_user):
    user = create_user()
    first, second = app.test_client(), app.test_client()
    login(first, user.email)
    login(second, user.email)
    post_form(
        first,
        "/password",
        {
            "current_password": PASSWORD,
            "new_password": "vaihdettu salasana",
            "confirm_password": "vaihdettu salasana",
        },
    )
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302


def test_passwords_are_stored_as_argon2_hashes(create_user, db_session):
    user = create_user()
    stored = db_session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
