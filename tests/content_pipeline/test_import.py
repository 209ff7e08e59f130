"""Importing content: idempotent by hash, versions, archiving, all-or-nothing, web edits kept."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from liboppi import clock
from liboppi.content.loader import load_tree
from liboppi.content.problems import ContentError
from liboppi.models import Course, CourseFile, Module, ModuleProgress, ModuleVersion
from liboppi.services import content_import, progress

from .conftest import MODULE_2, PNG, write_files


def _module(session, stable_id: str) -> Module:
    session.expire_all()
    return session.scalar(select(Module).filter_by(stable_id=stable_id))


def _version_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ModuleVersion))


def test_first_import_adds_every_module_rendered_once_with_its_exact_text(
    repo, import_repo, db_session
):
    summary = import_repo(repo)

    assert (summary.added, summary.changed, summary.unchanged, summary.archived) == (4, 0, 0, 0)
    module = _module(db_session, "testikurssi-kirjastojarjestelma")
    version = module.current_version
    assert version.number == 1
    raw = (repo / "courses/testikurssi/01-kirjastojarjestelma.md").read_text(encoding="utf-8")
    assert version.raw_text == raw
    assert version.content_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert '<h2 id="kirjautuminen">Kirjautuminen</h2>' in version.html
    assert 'class="callout callout-tip"' in version.html
    assert 'href="/courses/testikurssi/testikurssi-lainaus"' in version.html
    assert 'rel="noopener noreferrer external"' in version.html
    assert [entry["id"] for entry in version.toc] == [
        "kirjautuminen",
        "perusnakymat",
        "lisatietoa",
    ]
    assert version.word_count > 20 and "kirjastojärjestelmä" in version.plain_text
    assert (version.title, version.estimated_minutes, version.tags) == (
        "Kirjastojärjestelmä tutuksi",
        10,
        ["koha"],
    )
    image_module = _module(db_session, "testikurssi-kuvat").current_version
    assert 'src="/courses/testikurssi/files/kuvat/kartta.png"' in image_module.html
    stored = db_session.scalar(select(CourseFile).filter_by(name="kuvat/kartta.png"))
    assert stored.data == PNG and stored.content_type == "image/png"
    course = db_session.scalar(select(Course).filter_by(stable_id="toinen"))
    assert (course.completion, course.prerequisites, course.audience) == (
        "all_modules_and_quizzes",
        ["testikurssi"],
        ["editor"],
    )


def test_reimporting_unchanged_content_changes_nothing(repo, import_repo, db_session):
    import_repo(repo)
    before = {
        m.stable_id: (m.current_version_id, m.updated_at)
        for m in db_session.scalars(select(Module))
    }
    versions = _version_count(db_session)

    summary = import_repo(repo)

    assert (summary.added, summary.changed, summary.unchanged, summary.archived) == (0, 0, 4, 0)
    db_session.expire_all()
    after = {
        m.stable_id: (m.current_version_id, m.updated_at)
        for m in db_session.scalars(select(Module))
    }
    assert after == before
    assert _version_count(db_session) == versions


def test_a_changed_module_becomes_a_new_version_and_progress_keeps_the_old_one(
    repo, import_repo, db_session, create_user
):
    import_repo(repo)
    learner = create_user("learner")
    progress.complete_module(
        db_session,
        learner.id,
        "testikurssi",
        "testikurssi-lainaus",
        base_url="http://liboppi.test",
        language="fi",
    )
    db_session.commit()
    first = _module(db_session, "testikurssi-lainaus").current_version
    write_files(repo, {"courses/testikurssi/02-lainaus.md": MODULE_2 + "\nUusi kappale.\n"})

    summary = import_repo(repo)

    assert (summary.changed, summary.unchanged) == (1, 3)
    module = _module(db_session, "testikurssi-lainaus")
    assert [v.number for v in module.versions] == [1, 2]
    assert module.current_version.number == 2
    assert "Uusi kappale." in module.current_version.html
    assert module.versions[0].raw_text == MODULE_2
    row = db_session.scalar(select(ModuleProgress).filter_by(user_id=learner.id))
    assert row.module_version_id == first.id and row.completed_at is not None


def test_a_module_removed_from_course_yaml_is_archived_not_deleted(repo, import_repo, db_session):
    import_repo(repo)
    yaml_path = repo / "courses/testikurssi/course.yaml"
    listed = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(listed.replace("  - 01-kirjastojarjestelma.md\n", ""), encoding="utf-8")
    original = (repo / "courses/testikurssi/01-kirjastojarjestelma.md").read_text(encoding="utf-8")
    (repo / "courses/testikurssi/01-kirjastojarjestelma.md").unlink()

    summary = import_repo(repo)

    assert (summary.archived, summary.unchanged) == (1, 3)
    module = _module(db_session, "testikurssi-kirjastojarjestelma")
    assert module.is_archived and module.current_version.raw_text == original
    positions = {
        m.stable_id: m.position
        for m in db_session.scalars(select(Module).where(Module.is_archived.is_(False)))
    }
    assert (positions["testikurssi-lainaus"], positions["testikurssi-kuvat"]) == (1, 2)
    # Listed again, it comes back with its history.
    write_files(repo, {"courses/testikurssi/01-kirjastojarjestelma.md": original})
    yaml_path.write_text(listed, encoding="utf-8")
    again = import_repo(repo)
    module = _module(db_session, "testikurssi-kirjastojarjestelma")
    assert (again.added, module.is_archived, module.position) == (1, False, 1)
    assert len(module.versions) == 1


def test_one_broken_file_imports_nothing_and_every_error_is_listed(repo, import_repo, db_session):
    import_repo(repo)
    versions = _version_count(db_session)
    write_files(
        repo,
        {
            "courses/testikurssi/02-lainaus.md": MODULE_2 + "\nMuutettu.\n",
            "courses/testikurssi/03-kuvat.md": "---\nid: testikurssi-kuvat\n---\n\n#### Hyppy\n",
            "courses/toinen/01-finna.md": "ei front matteria\n",
        },
    )
    with pytest.raises(ContentError) as caught:
        load_tree(repo)
    paths = {p.path for p in caught.value.errors}
    assert paths == {"courses/testikurssi/03-kuvat.md", "courses/toinen/01-finna.md"}
    assert _version_count(db_session) == versions


def test_an_image_that_is_not_an_image_stops_the_import_and_rolls_back(
    repo, import_repo, db_session
):
    write_files(repo, {"courses/testikurssi/kuvat/vaara.png": b"<svg onload=alert(1)>"})
    with pytest.raises(ContentError) as caught:
        content_import.import_tree(db_session, load_tree(repo), site_host=None)
    db_session.rollback()
    assert [str(p) for p in caught.value.problems] == [
        "courses/testikurssi/kuvat/vaara.png:1:1: not a PNG, JPEG, GIF or WebP image "
        "(by its contents)"
    ]
    assert db_session.scalar(select(func.count()).select_from(Module)) == 0


def test_an_unchanged_file_does_not_overwrite_a_newer_web_edit(repo, import_repo, db_session):
    import_repo(repo)
    module = _module(db_session, "testikurssi-lainaus")
    content_import.add_version(
        db_session,
        module,
        module.course,
        MODULE_2 + "\nVerkossa lisätty.\n",
        targets={},
        site_host=None,
        message="web",
    )
    db_session.commit()

    summary = import_repo(repo)

    assert (summary.changed, summary.kept) == (0, 1)
    assert (
        "Verkossa lisätty." in _module(db_session, "testikurssi-lainaus").current_version.raw_text
    )
    # A file changed after the web edit is newer, and wins (the web edit stays in history).
    write_files(repo, {"courses/testikurssi/02-lainaus.md": MODULE_2 + "\nTiedostossa.\n"})
    summary = import_repo(repo)
    module = _module(db_session, "testikurssi-lainaus")
    assert summary.changed == 1 and module.current_version.number == 3
    assert "Tiedostossa." in module.current_version.raw_text


def test_a_removed_course_folder_archives_the_course_and_its_modules(repo, import_repo, db_session):
    import_repo(repo)
    for path in sorted((repo / "courses/toinen").iterdir()):
        path.unlink()
    (repo / "courses/toinen").rmdir()

    summary = import_repo(repo)

    assert summary.archived == 1
    db_session.expire_all()
    assert db_session.scalar(select(Course).filter_by(stable_id="toinen")).is_archived
    assert _module(db_session, "toinen-finna").is_archived


def test_import_times_come_from_the_clock(repo, import_repo, db_session):
    import datetime as dt

    moment = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    clock.set_now(moment)
    import_repo(repo)
    assert _module(db_session, "testikurssi-lainaus").current_version.created_at == moment
