"""Learner pages: catalogue, course, module (progress and statements), images, search."""

from __future__ import annotations

import re

from sqlalchemy import select

from liboppi.models import CourseProgress, ModuleProgress
from liboppi.services import progress
from liboppi.xapi import vocabulary as v
from tests.web_client import post_form

from .conftest import MODULE_2, statements, write_files

BASE = "http://liboppi.test"


def _attr(html: str, element_id: str, name: str) -> str | None:
    match = re.search(rf'data-(?:course|module)-id="{element_id}"[^>]*?data-{name}="([^"]*)"', html)
    return match.group(1) if match else None


def test_catalogue_lists_courses_and_filters_by_tag_and_audience(client, logged_in, imported):
    logged_in("learner")
    page = client.get("/courses").get_data(as_text=True)
    assert 'data-course-id="testikurssi"' in page and 'data-course-id="toinen"' in page
    assert "Testikurssi kirjastotyöhön" in page

    by_tag = client.get("/courses?tag=finna").get_data(as_text=True)
    assert 'data-course-id="toinen"' in by_tag and 'data-course-id="testikurssi"' not in by_tag
    by_audience = client.get("/courses?audience=learner").get_data(as_text=True)
    assert 'data-course-id="testikurssi"' in by_audience
    assert 'data-course-id="toinen"' not in by_audience


def test_catalogue_and_course_page_show_the_learners_progress(
    client, logged_in, imported, db_session
):
    user = logged_in("learner")
    progress.complete_module(
        db_session, user.id, "testikurssi", "testikurssi-lainaus", base_url=BASE, language="fi"
    )
    db_session.commit()
    client.get("/courses/testikurssi/testikurssi-kuvat")

    catalogue = client.get("/courses").get_data(as_text=True)
    assert _attr(catalogue, "testikurssi", "status") == "in_progress"
    assert _attr(catalogue, "testikurssi", "completed-modules") == "1"
    assert _attr(catalogue, "toinen", "status") == "not_started"

    course = client.get("/courses/testikurssi").get_data(as_text=True)
    order = re.findall(r'<li data-module-id="([^"]+)" data-status="([^"]+)"', course)
    assert order == [
        ("testikurssi-kirjastojarjestelma", "not_started"),
        ("testikurssi-lainaus", "completed"),
        ("testikurssi-kuvat", "in_progress"),
    ]
    assert 'data-minutes="18"' in course  # 10 + 5 + 3 estimated minutes
    prerequisites = client.get("/courses/toinen").get_data(as_text=True)
    assert 'data-prerequisite="testikurssi"' in prerequisites


def test_module_page_shows_rendered_content_toc_neighbours_and_breadcrumbs(
    client, logged_in, imported
):
    logged_in("learner")
    response = client.get("/courses/testikurssi/testikurssi-lainaus")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<h2 id="palautus">Palautus</h2>' in page
    assert 'href="/courses/testikurssi/testikurssi-kirjastojarjestelma" rel="prev"' in page
    assert 'href="/courses/testikurssi/testikurssi-kuvat" rel="next"' in page
    assert 'aria-current="page" lang="fi">Lainaus ja palautus</a>' in page
    assert 'class="toc"' not in page  # one heading is not a long module

    long_module = client.get("/courses/testikurssi/testikurssi-kirjastojarjestelma")
    html = long_module.get_data(as_text=True)
    assert '<a href="#kirjautuminen">Kirjautuminen</a>' in html
    assert 'rel="prev"' not in html
    quiz_page = client.get("/courses/toinen/toinen-finna").get_data(as_text=True)
    assert 'href="/quizzes/toinen-quiz"' in quiz_page


def test_viewing_records_progress_and_one_experienced_statement(
    client, logged_in, imported, db_session
):
    user = logged_in("learner")
    client.get("/courses/testikurssi/testikurssi-lainaus")
    client.get("/courses/testikurssi/testikurssi-lainaus")

    row = db_session.scalar(select(ModuleProgress).filter_by(user_id=user.id))
    assert row.viewed_at is not None and row.completed_at is None and row.fraction == 0
    sent = statements(db_session)
    assert [s["verb"]["id"] for s in sent] == [v.EXPERIENCED.iri]
    assert sent[0]["object"]["id"] == f"{BASE}/xapi/activities/module/testikurssi-lainaus"


def test_completing_every_module_completes_the_course_once(client, logged_in, imported, db_session):
    user = logged_in("learner")
    modules = ["testikurssi-kirjastojarjestelma", "testikurssi-lainaus", "testikurssi-kuvat"]
    for module_id in modules:
        url = f"/courses/testikurssi/{module_id}"
        response = post_form(client, f"{url}/complete", {}, page=url)
        assert response.status_code == 302
    # Completing again records nothing more.
    url = "/courses/testikurssi/testikurssi-kuvat"
    post_form(client, f"{url}/complete", {}, page=url)

    rows = db_session.scalars(select(ModuleProgress).filter_by(user_id=user.id)).all()
    assert len(rows) == 3 and all(r.completed_at and r.fraction == 1.0 for r in rows)
    assert all(r.module_version_id is not None for r in rows)
    completions = db_session.scalars(select(CourseProgress).filter_by(user_id=user.id)).all()
    assert len(completions) == 1
    verbs = [(s["verb"]["id"], s["object"]["id"]) for s in statements(db_session)]
    completed = [obj for verb, obj in verbs if verb == v.COMPLETED.iri]
    assert completed == [
        *(f"{BASE}/xapi/activities/module/{m}" for m in modules),
        f"{BASE}/xapi/activities/course/testikurssi",
    ]
    page = client.get("/courses/testikurssi").get_data(as_text=True)
    assert 'data-course-status="completed"' in page


def test_a_course_with_quizzes_completes_only_when_the_quiz_is_passed(
    client, logged_in, imported, db_session
):
    user = logged_in("learner")
    url = "/courses/toinen/toinen-finna"
    post_form(client, f"{url}/complete", {}, page=url)
    assert db_session.scalar(select(CourseProgress).filter_by(user_id=user.id)) is None
    assert 'data-status="in_progress"' in client.get("/courses/toinen").get_data(as_text=True)

    progress.on_quiz_passed(db_session, user.id, "toinen-quiz", base_url=BASE, language="fi")
    db_session.commit()
    progress.on_quiz_passed(db_session, user.id, "toinen-quiz", base_url=BASE, language="fi")
    db_session.commit()

    row = db_session.scalar(select(ModuleProgress).filter_by(user_id=user.id))
    assert row.quiz_passed_at is not None and row.fraction == 1.0
    assert db_session.scalar(select(CourseProgress).filter_by(user_id=user.id)) is not None
    course_statements = [
        s for s in statements(db_session) if s["object"]["id"].endswith("/course/toinen")
    ]
    assert len(course_statements) == 1


def test_completing_needs_a_csrf_token(client, logged_in, imported, db_session):
    user = logged_in("learner")
    response = client.post("/courses/testikurssi/testikurssi-lainaus/complete")
    assert response.status_code == 400
    assert db_session.scalar(select(ModuleProgress).filter_by(user_id=user.id)) is None


def test_pages_need_sign_in_and_unknown_or_archived_modules_are_404(
    client, logged_in, repo, imported, import_repo
):
    assert client.get("/courses").status_code == 302
    logged_in("learner")
    assert client.get("/courses/ei-ole").status_code == 404
    assert client.get("/courses/testikurssi/ei-ole").status_code == 404
    assert client.get("/courses/toinen/testikurssi-lainaus").status_code == 404
    yaml_path = repo / "courses/testikurssi/course.yaml"
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8").replace("  - 03-kuvat.md\n", ""), encoding="utf-8"
    )
    (repo / "courses/testikurssi/03-kuvat.md").unlink()
    import_repo(repo)
    assert client.get("/courses/testikurssi/testikurssi-kuvat").status_code == 404


def test_images_are_served_with_cache_headers_and_etag(client, logged_in, imported):
    logged_in("learner")
    response = client.get("/courses/testikurssi/files/kuvat/kartta.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    assert "max-age=86400" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get(
        "/courses/testikurssi/files/kuvat/kartta.png", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert client.get("/courses/testikurssi/files/ei.png").status_code == 404


def test_search_finds_an_inflected_finnish_word_with_a_highlighted_snippet(
    client, logged_in, imported
):
    logged_in("learner")
    page = client.get("/search?q=kirjastojärjestelmän").get_data(as_text=True)
    assert 'data-hit-count="1"' in page
    assert 'data-module-id="testikurssi-kirjastojarjestelma"' in page
    assert "<mark>kirjastojärjestelmä</mark>" in page


def test_search_matches_compound_prefixes_needs_every_word_and_skips_archived(
    client, logged_in, repo, imported, import_repo
):
    logged_in("learner")
    prefix = client.get("/search?q=verkko").get_data(as_text=True)
    assert 'data-module-id="testikurssi-lainaus"' in prefix  # "Verkkokirjasto"
    both = client.get("/search?q=lainaus+palautusautomaatilla").get_data(as_text=True)
    assert 'data-hit-count="1"' in both
    none = client.get("/search?q=lainaus+saamenkieliset").get_data(as_text=True)
    assert 'data-hit-count="0"' in none
    assert 'data-hit-count="0"' in client.get('/search?q="%29(*').get_data(as_text=True)

    write_files(repo, {"courses/testikurssi/02-lainaus.md": MODULE_2.replace("Verkko", "Nettti")})
    import_repo(repo)
    after = client.get("/search?q=verkko").get_data(as_text=True)
    assert 'data-module-id="testikurssi-lainaus"' not in after


def test_search_snippets_are_escaped_except_the_highlight(client, logged_in, repo, import_repo):
    write_files(
        repo,
        {
            "courses/testikurssi/02-lainaus.md": MODULE_2.replace(
                "Verkkokirjasto näyttää lainat.",
                "Lainaa <script>alert(1)</script> ja <img src=x onerror=alert(2)> kirjastosta.",
            )
        },
    )
    import_repo(repo)
    logged_in("learner")
    page = client.get("/search?q=lainaa").get_data(as_text=True)
    assert 'data-module-id="testikurssi-lainaus"' in page
    snippet = page[page.index('class="snippet"') :]
    snippet = snippet[: snippet.index("</p>")]
    assert "<script" not in snippet and "<img" not in snippet
    assert "<mark>" in snippet and "alert(1)" in snippet
    assert set(re.findall(r"</?([a-z]+)", snippet)) == {"mark"}
