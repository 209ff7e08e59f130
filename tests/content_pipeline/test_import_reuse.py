"""Re-importing without parsing again: stored facts, a body parsed once, a process pool.

Whatever shortcut the import takes, it must report exactly what a fresh check reports
and store exactly what a plain import stores.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Text, cast, select, text
from sqlalchemy.exc import OperationalError

from liboppi import clock
from liboppi.content import loader
from liboppi.content.lint import check_scan
from liboppi.content.loader import (
    FACTS_VERSION,
    ModuleFacts,
    load_tree,
    scan_tree,
    tree_from_scan,
)
from liboppi.content.render import stem_finnish
from liboppi.models import Module, ModuleVersion
from liboppi.services import content_import, search

from .conftest import MODULE_2, write_files

SITE = "liboppi.test"


def _import_as_the_command_does(session, root: Path) -> content_import.ImportSummary:
    scan = content_import.scan_for_import(session, root, site_host=SITE)
    summary = content_import.import_tree(session, tree_from_scan(root, scan), site_host=SITE)
    session.commit()
    return summary


def _problems_both_ways(session, root: Path) -> tuple[list[str], list[str]]:
    """Problems of the import's scan (stored facts reused) and of a fresh scan."""
    reused = check_scan(
        content_import.scan_for_import(session, root, site_host=SITE), known_quiz_ids=None
    )
    fresh = check_scan(scan_tree(root), known_quiz_ids=None)
    return [str(p) for p in reused], [str(p) for p in fresh]


def _versions(session) -> dict[str, ModuleVersion]:
    session.expire_all()
    return {m.stable_id: m.current_version for m in session.scalars(select(Module))}


def test_an_import_stores_facts_and_an_unchanged_file_is_not_parsed_again(
    repo, db_session, monkeypatch
):
    _import_as_the_command_does(db_session, repo)
    versions = _versions(db_session)
    assert all(v.source_facts["v"] == FACTS_VERSION for v in versions.values())

    parsed: list[str] = []
    real = loader.split_front_matter
    monkeypatch.setattr(
        loader, "split_front_matter", lambda text, path: parsed.append(path) or real(text, path)
    )
    summary = _import_as_the_command_does(db_session, repo)

    assert parsed == []
    assert (summary.added, summary.changed, summary.unchanged) == (0, 0, 4)


def test_reused_facts_report_what_a_fresh_check_reports(repo, db_session):
    write_files(repo, {"courses/testikurssi/02-lainaus.md": MODULE_2 + "\n# Otsikko\n"})
    _import_as_the_command_does(db_session, repo)

    reused, fresh = _problems_both_ways(db_session, repo)

    assert reused == fresh
    assert any("a `#` heading in the body" in line for line in reused)


def test_an_unchanged_module_reports_an_image_deleted_since(repo, db_session):
    _import_as_the_command_does(db_session, repo)
    (repo / "courses/testikurssi/kuvat/kartta.png").unlink()

    reused, fresh = _problems_both_ways(db_session, repo)

    assert reused == fresh
    assert any(
        line.startswith("courses/testikurssi/03-kuvat.md:")
        and "broken image `kuvat/kartta.png`" in line
        for line in reused
    ), reused


def test_an_unchanged_module_reports_a_link_to_a_module_file_deleted_since(repo, db_session):
    _import_as_the_command_does(db_session, repo)
    (repo / "courses/testikurssi/02-lainaus.md").unlink()

    reused, fresh = _problems_both_ways(db_session, repo)

    assert reused == fresh
    assert any("broken link `02-lainaus.md`" in line for line in reused)


def test_an_unchanged_module_reports_a_new_file_using_its_id(repo, db_session):
    _import_as_the_command_does(db_session, repo)
    course_yaml = repo / "courses/toinen/course.yaml"
    course_yaml.write_text(
        course_yaml.read_text(encoding="utf-8") + "  - 02-kopio.md\n", encoding="utf-8"
    )
    write_files(repo, {"courses/toinen/02-kopio.md": MODULE_2})

    reused, fresh = _problems_both_ways(db_session, repo)

    assert reused == fresh
    assert any("duplicate module id `testikurssi-lainaus`" in line for line in reused)


def test_an_unchanged_module_reports_that_it_is_no_longer_listed(repo, db_session):
    _import_as_the_command_does(db_session, repo)
    course_yaml = repo / "courses/testikurssi/course.yaml"
    course_yaml.write_text(
        course_yaml.read_text(encoding="utf-8").replace("  - 02-lainaus.md\n", ""),
        encoding="utf-8",
    )

    reused, fresh = _problems_both_ways(db_session, repo)

    assert reused == fresh
    assert any("02-lainaus.md:1:1: module file is not listed" in line for line in reused)


def test_facts_are_not_reused_for_another_path_or_version(repo, db_session):
    _import_as_the_command_does(db_session, repo)
    stored = _versions(db_session)["testikurssi-lainaus"].source_facts
    facts = ModuleFacts.from_json(stored)
    assert facts is not None and facts.path == "courses/testikurssi/02-lainaus.md"
    assert ModuleFacts.from_json({**stored, "v": FACTS_VERSION + 1}) is None
    assert ModuleFacts.from_json({"v": FACTS_VERSION}) is None

    # The same text under another name is read afresh (links resolve from its own folder).
    (repo / "courses/testikurssi/02-lainaus.md").rename(repo / "courses/testikurssi/02-uusi.md")
    course_yaml = repo / "courses/testikurssi/course.yaml"
    course_yaml.write_text(
        course_yaml.read_text(encoding="utf-8").replace("02-lainaus.md", "02-uusi.md"),
        encoding="utf-8",
    )
    reused, fresh = _problems_both_ways(db_session, repo)
    assert reused == fresh


@pytest.fixture
def pool_for_every_import(monkeypatch):
    """Send even this small repository's bodies through a two-process pool (one per scan)."""
    monkeypatch.setattr(content_import, "POOL_MIN_BODIES", 1)
    monkeypatch.setattr(content_import, "POOL_BATCH", 2)
    real = content_import.ImportBodyProcessor.__init__

    def two_workers(self, *args, **kwargs):
        real(self, *args, **{**kwargs, "workers": 2})

    monkeypatch.setattr(content_import.ImportBodyProcessor, "__init__", two_workers)
    pools: list[object] = []
    real_context = content_import._pool_context
    monkeypatch.setattr(content_import, "_pool_context", lambda: pools.append(1) or real_context())
    return pools


def test_the_pool_stores_what_rendering_in_this_process_gives(
    repo, db_session, pool_for_every_import
):
    _import_as_the_command_does(db_session, repo)
    versions = _versions(db_session)
    targets = content_import.link_targets_in_database(db_session)
    fresh = {module.meta.id: (course, module) for course, module in load_tree(repo).iter_modules()}

    for module_id, version in versions.items():
        course, module = fresh[module_id]
        rendered = content_import.render_body(
            module.body,
            course_stable_id=course.id,
            language=module.language,
            path=module.path,
            targets=targets,
            site_host=SITE,
        )
        assert (version.html, version.plain_text, version.word_count) == (
            rendered.html,
            rendered.plain_text,
            rendered.word_count,
        )
        assert version.toc == [{"level": e.level, "id": e.id, "text": e.text} for e in rendered.toc]
        assert version.source_facts == module.facts.to_json()
    assert pool_for_every_import == [1]
    # Rendered in a worker before the tree's links were known, so rendered again with them.
    assert 'href="/courses/testikurssi/testikurssi-lainaus"' in (
        versions["testikurssi-kirjastojarjestelma"].html
    )


def test_the_pool_reports_errors_sorted_like_a_fresh_check(repo, db_session, pool_for_every_import):
    write_files(
        repo,
        {
            "courses/testikurssi/02-lainaus.md": MODULE_2 + "\n[rikki](puuttuu.md)\n",
            "courses/toinen/01-finna.md": (
                "---\nid: toinen-finna\ntitle: F\n---\n\n#### Liian syvä\n"
            ),
        },
    )

    reused, fresh = _problems_both_ways(db_session, repo)

    assert reused == fresh
    assert pool_for_every_import == [1]
    assert any("broken link `puuttuu.md`" in line for line in reused)
    assert any("heading level skips" in line for line in reused)


def _is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _index_mismatches(session) -> list[str]:
    """Modules whose stored search index differs from their text indexed afresh."""
    session.expire_all()
    if _is_postgres(session):
        rows = session.execute(
            select(Module.stable_id)
            .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
            # Not "=": two vectors equal by value must also print the same.
            .where(
                cast(ModuleVersion.search_vector, Text)
                != cast(
                    search.vector_expression(ModuleVersion.title, ModuleVersion.plain_text), Text
                )
            )
        )
        return list(rows.scalars())
    rows = session.execute(text(f"SELECT rowid, title, body, stems FROM {search.FTS_TABLE}"))
    versions = {m.id: m for m in session.scalars(select(Module))}
    return [
        versions[pk].stable_id
        for pk, title, body, stems in rows
        if (title, body, stems)
        != (
            versions[pk].current_version.title,
            versions[pk].current_version.plain_text,
            stem_finnish(f"{title}\n{body}"),
        )
    ]


#: Text whose search vector prints with quotes, backslashes and colons to escape.
AWKWARD_TEXT = (
    '\n\nO\'Reillyn kirja, polku C:\\\\kirjasto\\\\lainat ja "lainaus": kirja:* | !ei & 1:2.\n'
)


def test_the_pool_stores_the_search_index_a_plain_import_stores(
    repo, db_session, monkeypatch, pool_for_every_import
):
    write_files(repo, {"courses/testikurssi/02-lainaus.md": MODULE_2 + AWKWARD_TEXT})
    given: list[list[str | None] | None] = []
    real = search.insert_versions
    monkeypatch.setattr(
        search,
        "insert_versions",
        lambda session, rows, vectors=None: given.append(vectors) or real(session, rows, vectors),
    )

    _import_as_the_command_does(db_session, repo)

    assert pool_for_every_import == [1]
    [vectors] = given
    # PostgreSQL's vectors were computed while the bodies were rendered; SQLite has none.
    assert vectors is not None and len(vectors) == 4
    assert all(v is not None for v in vectors) == _is_postgres(db_session)
    assert _index_mismatches(db_session) == []
    hits = search.search_modules(db_session, "kirjastojärjestelmän")
    assert [hit.module_id for hit in hits] == ["testikurssi-kirjastojarjestelma"]
    assert [hit.module_id for hit in search.search_modules(db_session, "o'reillyn")] == [
        "testikurssi-lainaus"
    ]


def _stored_versions(session) -> dict[str, tuple[object, ...]]:
    """Every column of every version as PostgreSQL prints it, by module stable id."""
    session.expire_all()
    rows = session.execute(
        text(
            "SELECT m.stable_id, v.number, v.content_hash, v.raw_text, v.title,"
            " v.estimated_minutes, v.objectives::text, v.tags::text, v.quiz_id, v.language,"
            " v.html, v.toc::text, v.plain_text, v.word_count, v.search_vector::text,"
            " v.source_facts::text, v.author_id, v.message, v.created_at,"
            " m.current_version_id = v.id"
            " FROM module_versions v JOIN modules m ON m.id = v.module_id"
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def test_versions_copied_with_their_vectors_are_stored_as_inserted_ones(
    repo, db_session, monkeypatch, pool_for_every_import
):
    if not _is_postgres(db_session):
        pytest.skip("only PostgreSQL's import copies its versions")
    clock.set_now(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    copied: list[int] = []
    real = search._copy_versions
    monkeypatch.setattr(
        search, "_copy_versions", lambda session, run: copied.append(len(run)) or real(session, run)
    )
    _import_as_the_command_does(db_session, repo)
    by_copy = _stored_versions(db_session)
    # The same files into emptied tables, with no vector computed ahead: all by INSERT.
    db_session.execute(text("UPDATE modules SET current_version_id = NULL"))
    for table in ("module_versions", "modules", "course_files", "courses"):
        db_session.execute(text(f"DELETE FROM {table}"))
    db_session.commit()
    monkeypatch.setattr(search.SearchVectors, "for_session", classmethod(lambda cls, s: None))
    _import_as_the_command_does(db_session, repo)

    assert copied == [4]
    assert len(by_copy) == 4
    assert by_copy == _stored_versions(db_session)


def test_search_vectors_that_cannot_be_computed_ahead_are_computed_by_the_insert(
    repo, db_session, monkeypatch, pool_for_every_import
):
    if not _is_postgres(db_session):
        pytest.skip("SQLite's index has no vectors")

    def fail(*args, **kwargs):
        raise OperationalError("SELECT", {}, RuntimeError("connection lost"))

    monkeypatch.setattr(search.SearchVectors, "_compute", staticmethod(fail))

    summary = _import_as_the_command_does(db_session, repo)

    assert summary.added == 4
    assert _index_mismatches(db_session) == []
    assert [hit.module_id for hit in search.search_modules(db_session, "palautus")] == [
        "testikurssi-lainaus"
    ]


def test_a_vector_computed_for_other_texts_is_not_used() -> None:
    computed: Future[search.ComputedVector | None] = Future()
    computed.set_result(search.ComputedVector("Otsikko", "teksti", "'teksti':2B"))
    failed: Future[search.ComputedVector | None] = Future()
    failed.set_exception(RuntimeError("connection lost"))

    assert search.computed_vector(computed, "Otsikko", "teksti") == "'teksti':2B"
    assert search.computed_vector(computed, "Otsikko", "toinen teksti") is None
    assert search.computed_vector(computed, "Toinen", "teksti") is None
    assert search.computed_vector(failed, "Otsikko", "teksti") is None
    assert search.computed_vector(None, "Otsikko", "teksti") is None


def test_search_vectors_without_a_connection_leave_every_batch_to_the_insert() -> None:
    class NoServer:
        def connect(self):
            raise OperationalError("connect", {}, RuntimeError("connection refused"))

    vectors = search.SearchVectors(NoServer())  # type: ignore[arg-type]
    first = vectors.submit(2, lambda: [("Otsikko", "teksti"), None])
    second = vectors.submit(1, lambda: [("Toinen", "teksti")])
    vectors.close()

    for computed in [*first, *second]:
        assert isinstance(computed.exception(timeout=10), OperationalError)
        assert search.computed_vector(computed, "Otsikko", "teksti") is None
