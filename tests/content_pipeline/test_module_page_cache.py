"""The module page is rendered once per everything it shows, then served again: whatever a
learner or an editor changes must still show on the next request."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from liboppi import clock
from liboppi.models import Membership, ModuleProgress, Role, User
from liboppi.services import accounts, progress
from liboppi.web import page_cache
from tests.web_client import CSRF_RE

from .conftest import MODULE_2, write_files

PAGE = "/courses/testikurssi/testikurssi-lainaus"


def _status(html: str) -> str:
    match = re.search(r'data-module-id="testikurssi-lainaus"[^>]*data-status="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def test_a_cached_page_gets_a_working_csrf_token_and_shows_completion_with_its_message(
    client, logged_in, imported
):
    logged_in("learner")
    first = client.get(PAGE).get_data(as_text=True)
    second = client.get(PAGE).get_data(as_text=True)  # served from the cache
    assert page_cache.CSRF_MARKER not in first + second
    token = CSRF_RE.search(second).group(1)
    assert _status(second) == "in_progress"

    response = client.post(f"{PAGE}/complete", data={"csrf_token": token})
    assert response.status_code == 302
    after = client.get(PAGE).get_data(as_text=True)
    assert _status(after) == "completed"
    assert "flash-success" in after  # the message is not lost to a cached page
    again = client.get(PAGE).get_data(as_text=True)
    assert _status(again) == "completed" and "flash-success" not in again


def test_a_new_version_of_the_module_shows_at_once(client, logged_in, imported, import_repo):
    logged_in("learner")
    assert "palautusautomaatilla" in client.get(PAGE).get_data(as_text=True)

    changed = MODULE_2.replace("palautusautomaatilla", "palautusluukulla")
    write_files(imported, {"courses/testikurssi/02-lainaus.md": changed})
    import_repo(imported)

    html = client.get(PAGE).get_data(as_text=True)
    assert "palautusluukulla" in html and "palautusautomaatilla" not in html


def test_a_changed_title_of_the_next_module_shows_in_the_pager(
    client, logged_in, imported, import_repo
):
    logged_in("learner")
    assert "Kuvat ja kartat" in client.get(PAGE).get_data(as_text=True)
    module_3 = (imported / "courses/testikurssi/03-kuvat.md").read_text()
    write_files(
        imported,
        {"courses/testikurssi/03-kuvat.md": module_3.replace("Kuvat ja kartat", "Kartat")},
    )
    import_repo(imported)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Kuvat ja kartat" not in html and 'rel="next">' in html


def test_roles_name_and_deactivation_take_effect_on_the_next_request(
    client, logged_in, imported, db_session
):
    user = logged_in("learner")
    html = client.get(PAGE).get_data(as_text=True)
    assert "/editor/modules/testikurssi-lainaus" not in html
    old_name = user.display_name
    assert old_name in html

    membership = db_session.scalar(select(Membership).where(Membership.user_id == user.id))
    db_session.add(
        Membership(
            user_id=user.id,
            library_id=membership.library_id,
            role=Role.EDITOR,
            joined_at=clock.now(),
        )
    )
    db_session.get(User, user.id).display_name = "Uusi Nimi"
    db_session.commit()
    html = client.get(PAGE).get_data(as_text=True)
    assert "/editor/modules/testikurssi-lainaus" in html
    assert "Uusi Nimi" in html and old_name not in html

    db_session.get(User, user.id).is_active = False
    db_session.commit()
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_ended_membership_takes_its_rights_away(client, logged_in, imported, db_session):
    user = logged_in("editor")
    assert "/editor/modules/testikurssi-lainaus" in client.get(PAGE).get_data(as_text=True)
    for membership in db_session.scalars(select(Membership).where(Membership.user_id == user.id)):
        membership.left_at = clock.now()
    db_session.commit()
    html = client.get(PAGE).get_data(as_text=True)
    assert "/editor/modules/testikurssi-lainaus" not in html


def test_a_repeat_view_opens_no_session_and_a_later_one_refreshes_the_view(
    app, client, logged_in, imported, db_session, monkeypatch
):
    user = logged_in("learner")
    assert client.get(PAGE).status_code == 200  # the first view: a row and a statement
    sessions = app.extensions["liboppi.sessions"]
    opened = []

    def counting_sessions():
        opened.append(True)
        return sessions()

    monkeypatch.setitem(app.extensions, "liboppi.sessions", counting_sessions)
    assert client.get(PAGE).status_code == 200
    assert opened == []  # user and page read outside any transaction; nothing to write

    later = clock.now() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.get(PAGE).status_code == 200
    assert opened == [True]
    row = db_session.scalar(
        select(ModuleProgress).where(ModuleProgress.user_id == user.id).limit(1)
    )
    db_session.refresh(row)
    assert row.last_viewed_at == later


def test_the_user_and_the_page_are_read_in_one_statement(
    app, client, logged_in, imported, db_session, monkeypatch
):
    user = logged_in("editor")
    assert client.get(PAGE).status_code == 200
    connection = db_session.connection()
    signed_in, read = progress.signed_in_module_page(
        connection, user.id, "testikurssi", "testikurssi-lainaus"
    )
    # The same user and rows as the two statements it stands for.
    assert signed_in == accounts.load_session_user(connection, user.id)
    values = {"user_id": user.id, "course_id": "testikurssi", "module_id": "testikurssi-lainaus"}
    alone = progress._MODULE_PAGE.rows(connection, values)
    fields = alone[0]._fields
    assert [tuple(getattr(r, f) for f in fields) for r in read.rows] == [tuple(r) for r in alone]
    db_session.rollback()

    statements = []
    for name in ("_MODULE_PAGE", "_SIGNED_IN_PAGE"):
        statement = getattr(progress, name)
        counted = _Counted(statement, name, statements)
        monkeypatch.setattr(progress, name, counted)
    assert client.get(PAGE).status_code == 200
    assert statements == ["_SIGNED_IN_PAGE"]

    db_session.get(User, user.id).is_active = False
    db_session.commit()
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


class _Counted:
    def __init__(self, statement, name, calls):
        self.statement, self.name, self.calls = statement, name, calls

    def rows(self, connection, values):
        self.calls.append(self.name)
        return self.statement.rows(connection, values)


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([a-z]+)"', html)
    assert match, html[:200]
    return match.group(1)


def test_the_page_is_in_the_language_babel_picks_from_the_session_then_the_user(
    client, logged_in, imported, db_session
):
    user = logged_in("learner")
    assert _lang(client.get(PAGE).get_data(as_text=True)) == "fi"

    db_session.get(User, user.id).locale = "en"  # chosen earlier, on another device
    db_session.commit()
    for _ in range(2):  # rendered, then served from the cache
        assert _lang(client.get(PAGE).get_data(as_text=True)) == "en"

    with client.session_transaction() as session:
        session["locale"] = "sv"  # this session's own choice comes first
    for _ in range(2):
        assert _lang(client.get(PAGE).get_data(as_text=True)) == "sv"


def test_a_module_marked_completed_says_its_quiz_is_still_to_pass(
    client, logged_in, imported, db_session
):
    page = "/courses/toinen/toinen-finna"
    user = logged_in("learner")
    html = client.get(page).get_data(as_text=True)
    token = CSRF_RE.search(html).group(1)
    assert client.post(f"{page}/complete", data={"csrf_token": token}).status_code == 302

    html = client.get(page).get_data(as_text=True)
    assert "Suoritit tämän moduulin" in html
    assert 'data-status="in_progress"' in html  # the course's rule: modules and quizzes
    assert "kun olet läpäissyt myös sen testin" in html

    row = db_session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == user.id))
    row.quiz_passed_at = clock.now()
    db_session.commit()
    html = client.get(page).get_data(as_text=True)
    assert 'data-status="completed"' in html
    assert "kun olet läpäissyt myös sen testin" not in html
