"""The web editor: save, preview, validation, conflicts, revisions, course structure, images."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
import yaml
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from liboppi.models import Course, CourseFile, Module, ModuleVersion
from tests.web_client import csrf_token, login, post_form

from .conftest import MODULE_2, PNG

EDIT = "/editor/modules/testikurssi-lainaus"


def _form(client, url: str = EDIT) -> dict:
    """The edit form's fields as the page filled them in."""
    page = client.get(url).get_data(as_text=True)
    data = {}
    for name in ("title", "estimated_minutes", "tags", "quiz", "message", "base_version"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', page
        )
        data[name] = match.group(1) if match else ""
    for name in ("objectives", "body"):
        match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n(.*?)</textarea>', page, re.S)
        data[name] = _unescape(match.group(1)) if match else ""
    data["lang"] = ""
    return data


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", '"')
        .replace("&#39;", "'")
        .replace("&amp;", "&")
    )


def _module(session, stable_id: str = "testikurssi-lainaus") -> Module:
    session.expire_all()
    return session.scalar(select(Module).filter_by(stable_id=stable_id))


def _versions(session) -> int:
    return session.scalar(select(func.count()).select_from(ModuleVersion))


@pytest.fixture
def editor_user(logged_in, imported):
    return logged_in("editor")


def test_the_edit_form_holds_the_current_text_and_fields(client, editor_user):
    data = _form(client)
    assert data["title"] == "Lainaus ja palautus"
    assert data["estimated_minutes"] == "5"
    assert data["objectives"] == "Osaat lainata."
    assert data["base_version"] == "1"
    assert MODULE_2.endswith(data["body"]) and "## Palautus" in data["body"]


def test_saving_creates_a_version_with_author_time_and_message_that_learners_see(
    client, editor_user, db_session, app, create_user
):
    data = _form(client)
    data["body"] = data["body"].replace("\n", "\r\n") + "\r\nUusi ohje palautuksesta.\r\n"
    data["message"] = "Lisätty ohje"

    response = post_form(client, EDIT, {**data, "save": "1"}, page=EDIT)

    assert response.status_code == 302
    module = _module(db_session)
    version = module.current_version
    assert (version.number, version.author_id, version.message) == (
        2,
        editor_user.id,
        "Lisätty ohje",
    )
    # The front matter was not touched, so it is kept byte for byte; the body is LF as before.
    assert version.raw_text == MODULE_2 + "\nUusi ohje palautuksesta.\n"
    assert "Uusi ohje palautuksesta." in version.html
    learner = app.test_client()
    login(learner, create_user("learner").email)
    page = learner.get("/courses/testikurssi/testikurssi-lainaus").get_data(as_text=True)
    assert "Uusi ohje palautuksesta." in page and 'data-version="2"' in page


def test_changed_fields_rewrite_the_front_matter(client, editor_user, db_session):
    data = _form(client)
    data.update(title="Lainaus: perusteet", tags="lainaus, koha", estimated_minutes="7")
    post_form(client, EDIT, {**data, "save": "1"}, page=EDIT)
    version = _module(db_session).current_version
    front = yaml.safe_load(version.raw_text.split("---")[1])
    assert front == {
        "id": "testikurssi-lainaus",
        "title": "Lainaus: perusteet",
        "estimated_minutes": 7,
        "objectives": ["Osaat lainata."],
        "tags": ["lainaus", "koha"],
    }
    assert version.title == "Lainaus: perusteet"


def test_saving_unchanged_text_adds_no_version(client, editor_user, db_session):
    versions = _versions(db_session)
    response = post_form(client, EDIT, {**_form(client), "save": "1"}, page=EDIT)
    assert response.status_code == 302
    assert _versions(db_session) == versions


def test_preview_renders_without_saving(client, editor_user, db_session):
    data = _form(client)
    data["body"] += "\n::: warning\nVaroitus esikatselussa.\n:::\n"
    versions = _versions(db_session)

    response = post_form(client, EDIT, {**data, "preview": "1"}, page=EDIT)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    preview = page[page.index('id="preview"') :]
    assert 'class="callout callout-warning"' in preview and "Varoitus esikatselussa." in preview
    assert "Varoitus esikatselussa." in page[page.index("<textarea") :]
    assert _versions(db_session) == versions


def test_the_preview_fragment_for_javascript_is_sanitised(client, editor_user):
    data = _form(client)
    data["body"] = "\nTeksti [linkki](javascript:alert(1)) <script>alert(2)</script>\n"
    response = post_form(client, f"{EDIT}/preview", data, page=EDIT)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_an_invalid_save_is_refused_with_line_numbers_and_keeps_the_typed_text(
    client, editor_user, db_session
):
    data = _form(client)
    typed = "\nEnsin tekstiä.\n\n#### Liian syvä otsikko\n\n![](puuttuva.png)\n"
    data.update(body=typed, title="Uusi otsikko, jota ei tallenneta", estimated_minutes="paljon")
    versions = _versions(db_session)

    response = post_form(client, EDIT, {**data, "save": "1"}, page=EDIT)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _versions(db_session) == versions
    body_lines = {int(n) for n in re.findall(r'<li data-line="(\d+)">', page)}
    assert {4, 6} <= body_lines  # the heading and the image, counted in the textarea
    assert 'data-where="estimated_minutes"' in page
    assert 'id="estimated_minutes-error"' in page
    assert "Liian syvä otsikko" in page[page.index('name="body"') :]
    assert 'value="Uusi otsikko, jota ei tallenneta"' in page
    assert 'value="paljon"' in page


def test_a_save_based_on_an_old_version_is_a_conflict_that_loses_nothing(
    client, editor_user, db_session, create_user
):
    stale = _form(client)
    first = _form(client)
    first["body"] += "\nToisen editorin lisäys.\n"
    assert post_form(client, EDIT, {**first, "save": "1"}, page=EDIT).status_code == 302
    stale["body"] += "\nMinun kappaleeni.\n"

    response = post_form(client, EDIT, {**stale, "save": "1"}, page=EDIT)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'data-conflict="true"' in page
    assert "Toisen editorin lisäys." in page  # the newer saved version is shown
    assert "Minun kappaleeni." in page[page.index('name="body"') :]  # the typed text is kept
    assert re.search(r'name="base_version"[^>]*value="2"', page)
    module = _module(db_session)
    assert module.current_version.number == 2
    assert "Minun kappaleeni." not in module.current_version.raw_text
    # Saving again from the conflict page is a deliberate choice and goes through.
    resolved = _form(client)
    resolved["body"] = stale["body"]
    assert post_form(client, EDIT, {**resolved, "save": "1"}, page=EDIT).status_code == 302
    assert _module(db_session).current_version.number == 3


def test_revisions_diff_and_restore(client, editor_user, db_session):
    data = _form(client)
    data["body"] = data["body"].replace("palautusautomaatilla", "tiskillä")
    post_form(client, EDIT, {**data, "save": "1", "message": "tiski"}, page=EDIT)

    listing = client.get(f"{EDIT}/revisions").get_data(as_text=True)
    assert re.findall(r'<tr data-version="(\d+)">', listing) == ["2", "1"]
    diff = client.get(f"{EDIT}/diff?old=1&new=2").get_data(as_text=True)
    assert '<tr class="diff-delete" data-kind="delete">' in diff
    assert "<del>Palautus tehdään palautusautomaatilla.</del>" in diff
    assert "<ins>Palautus tehdään tiskillä.</ins>" in diff
    assert 'data-added="1" data-removed="1"' in diff

    restore_url = f"{EDIT}/revisions/1/restore"
    response = post_form(client, restore_url, {"base_version": "2"}, page=f"{EDIT}/revisions/1")
    assert response.status_code == 302
    module = _module(db_session)
    assert module.current_version.number == 3
    assert module.current_version.raw_text == MODULE_2
    assert len(module.versions) == 3


def test_restore_based_on_an_old_version_is_refused(client, editor_user, db_session):
    page = f"{EDIT}/revisions/1"
    token = csrf_token(client, page)
    response = client.post(
        f"{EDIT}/revisions/1/restore", data={"csrf_token": token, "base_version": "7"}
    )
    assert response.status_code == 303
    assert _module(db_session).current_version.number == 1


def test_create_reorder_and_archive_update_course_yaml_and_the_learner_view(
    client, editor_user, db_session, app, create_user, runner, repo
):
    new_url = "/editor/courses/testikurssi/modules/new"
    token = csrf_token(client, new_url)
    response = client.post(
        new_url,
        data={
            "csrf_token": token,
            "module_id": "testikurssi-varaukset",
            "title": "Varaukset",
            "estimated_minutes": "4",
            "objectives": "Osaat tehdä varauksen.",
            "tags": "",
            "quiz": "",
            "lang": "",
            "body": "\n## Varaaminen\n\nVaraus tehdään verkkokirjastossa.\n",
            "message": "Uusi moduuli",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    module = _module(db_session, "testikurssi-varaukset")
    assert (module.file_name, module.position) == ("04-varaukset.md", 4)
    course_page = "/editor/courses/testikurssi"
    post_form(
        client, "/editor/modules/testikurssi-varaukset/move", {"direction": "up"}, page=course_page
    )
    post_form(client, "/editor/modules/testikurssi-lainaus/archive", {}, page=course_page)
    # Module 1 links to "lainaus": archiving it would break the link, so it is refused.
    assert not _module(db_session, "testikurssi-lainaus").is_archived
    post_form(client, "/editor/modules/testikurssi-kuvat/archive", {}, page=course_page)

    db_session.expire_all()
    course = db_session.scalar(select(Course).filter_by(stable_id="testikurssi"))
    assert yaml.safe_load(course.raw_text)["modules"] == [
        "01-kirjastojarjestelma.md",
        "02-lainaus.md",
        "04-varaukset.md",
    ]
    assert "# Järjestys on tärkeä." in course.raw_text  # the editor's comment is kept
    learner = app.test_client()
    login(learner, create_user("learner").email)
    order = re.findall(
        r'<li data-module-id="([^"]+)"', learner.get("/courses/testikurssi").get_data(as_text=True)
    )
    assert order == [
        "testikurssi-kirjastojarjestelma",
        "testikurssi-lainaus",
        "testikurssi-varaukset",
    ]

    # Web edits survive an export, the exported tree passes the check, and imports as a no-op.
    assert runner.invoke(args=["content", "export", str(repo)]).exit_code == 0
    assert not (repo / "courses/testikurssi/03-kuvat.md").exists()
    assert "Varaus tehdään" in (repo / "courses/testikurssi/04-varaukset.md").read_text("utf-8")
    checked = runner.invoke(args=["content", "check", str(repo)])
    assert checked.exit_code == 0, checked.output
    again = runner.invoke(args=["content", "import", str(repo)])
    assert "added 0, changed 0, unchanged 4, archived 0" in again.output


def test_an_import_of_stale_files_keeps_the_web_structure(
    client, editor_user, db_session, runner, repo
):
    course_page = "/editor/courses/testikurssi"
    post_form(
        client, "/editor/modules/testikurssi-kuvat/move", {"direction": "up"}, page=course_page
    )
    result = runner.invoke(args=["content", "import", str(repo)])
    assert "archived 0" in result.output
    db_session.expire_all()
    modules = db_session.scalars(
        select(Module)
        .join(Course)
        .where(Course.stable_id == "testikurssi")
        .order_by(Module.position)
    )
    assert [m.stable_id for m in modules] == [
        "testikurssi-kirjastojarjestelma",
        "testikurssi-kuvat",
        "testikurssi-lainaus",
    ]


def test_a_new_module_with_a_taken_or_bad_id_is_refused_keeping_the_input(
    client, editor_user, db_session
):
    new_url = "/editor/courses/testikurssi/modules/new"
    for module_id in ("testikurssi-lainaus", "Ei Kelpaa"):
        token = csrf_token(client, new_url)
        response = client.post(
            new_url,
            data={
                "csrf_token": token,
                "module_id": module_id,
                "title": "Kopio",
                "body": "\nKirjoitettu teksti.\n",
            },
        )
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert 'id="module_id-error"' in page and "Kirjoitettu teksti." in page
    assert db_session.scalar(select(func.count()).select_from(Module)) == 4


def test_image_upload_checks_type_and_size(client, editor_user, db_session):
    page = "/editor/courses/testikurssi"
    url = "/editor/courses/testikurssi/files"

    def upload(data: bytes, name: str):
        token = csrf_token(client, page)
        # Encoded in memory: the test client would spool a large body to a temporary
        # file that nobody closes.
        boundary, body = encode_multipart(
            {"csrf_token": token, "image": FileStorage(BytesIO(data), filename=name)}
        )
        return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")

    assert upload(PNG, "Pohjapiirros Kemi.PNG").status_code == 302
    stored = db_session.scalar(select(CourseFile).filter_by(name="pohjapiirros-kemi.png"))
    assert stored.data == PNG and stored.content_type == "image/png"
    assert upload(b"<svg onload=alert(1)></svg>", "kuva.png").status_code == 400
    assert upload(b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024), "iso.png").status_code == 400
    names = set(db_session.scalars(select(CourseFile.name)))
    assert names == {"kuvat/kartta.png", "pohjapiirros-kemi.png"}
    assert client.get("/courses/testikurssi/files/pohjapiirros-kemi.png").data == PNG


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/editor/"),
        ("get", "/editor/courses/testikurssi"),
        ("get", EDIT),
        ("get", f"{EDIT}/revisions"),
        ("get", f"{EDIT}/diff?old=1&new=1"),
        ("get", f"{EDIT}/revisions/1"),
        ("get", "/editor/courses/testikurssi/modules/new"),
        ("post", EDIT),
        ("post", f"{EDIT}/preview"),
        ("post", f"{EDIT}/revisions/1/restore"),
        ("post", f"{EDIT}/archive"),
        ("post", f"{EDIT}/move"),
        ("post", "/editor/courses/testikurssi/files"),
        ("post", "/editor/courses/testikurssi/modules/new"),
    ],
)
def test_a_learner_cannot_use_the_editor(client, logged_in, imported, db_session, method, url):
    logged_in("learner")
    token = csrf_token(client, "/courses")
    data = {
        "csrf_token": token,
        "base_version": "1",
        "body": "\nHakkerointi.\n",
        "title": "X",
        "direction": "up",
        "module_id": "testikurssi-uusi",
        "save": "1",
    }
    response = client.get(url) if method == "get" else client.post(url, data=data)
    assert response.status_code == 403
    assert _versions(db_session) == 4
    assert not _module(db_session).is_archived


def test_the_editor_pages_render_for_an_editor(client, editor_user):
    for url in (
        "/editor/",
        "/editor/courses/testikurssi",
        EDIT,
        f"{EDIT}/revisions",
        f"{EDIT}/revisions/1",
        "/editor/courses/testikurssi/modules/new",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/editor/modules/ei-ole").status_code == 404
