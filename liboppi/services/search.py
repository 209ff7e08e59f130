"""Finnish full-text search over the current text of every module, on both databases.

PostgreSQL: ``module_versions.search_vector`` holds ``to_tsvector('finnish', …)`` of the
title (weight A) and text (weight B), filled when the version is written; each query word
is ``to_tsquery('finnish', 'word:*') || to_tsquery('simple', 'word:*')`` (stemmed, or as
typed as the start of a compound), and ``ts_headline`` makes the snippet.

SQLite has no Finnish stemmer, so the FTS5 table ``module_search`` keeps, per module (its
rowid is ``modules.id``), the title and text as written plus ``stems``: the same text
through Snowball's Finnish stemmer (``stem_finnish``). A query is stemmed the same way and
every word (stemmed, and as typed) is a prefix query, so "kirjastojärjestelmän" finds
"kirjastojärjestelmä" and "verkko" finds "verkkokirjasto". The table is a derived index:
it is created and filled on first use, and every change of a module's current version
rewrites its row in the same transaction.

Snippets are escaped text in which only ``<mark>`` elements are added.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    bindparam,
    column,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from liboppi.content.render import stem_finnish
from liboppi.models import Course, Module, ModuleVersion

FTS_TABLE = "module_search"
MAX_QUERY_WORDS = 12
_WORD = re.compile(r"[^\W_]+")
# Private-use characters mark the highlighted words until the text has been escaped.
_START, _STOP = "\ue000", "\ue001"
_SNIPPET_WORDS = 24


@dataclass(frozen=True)
class SearchHit:
    """One module found: where it is, its title and a highlighted snippet (safe HTML)."""

    course_id: str
    course_title: dict[str, str]
    course_language: str
    module_id: str
    module_title: str
    language: str
    snippet: Markup


def query_words(query: str) -> list[str]:
    """The words of a search query, lower-cased (punctuation and operators dropped)."""
    return _WORD.findall(query.lower())[:MAX_QUERY_WORDS]


def vector_expression(title: Any, plain_text: Any) -> ColumnElement[str]:
    """The PostgreSQL ``tsvector`` of a module version (title weighs more than the text)."""
    config = literal_column("'finnish'::regconfig")
    return func.setweight(func.to_tsvector(config, title), literal_column("'A'")).op("||")(
        func.setweight(func.to_tsvector(config, plain_text), literal_column("'B'"))
    )


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def set_search_vector(session: Session, version: ModuleVersion) -> None:
    """Give a new version its PostgreSQL ``tsvector`` (computed by the database on insert)."""
    if not _is_sqlite(session):
        version.search_vector = vector_expression(version.title, version.plain_text)


def insert_versions(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many module versions (column values) at once, on PostgreSQL with their vector.

    The ``tsvector`` is computed by the INSERT itself, as ``set_search_vector`` does for one
    version, so that no row is written twice.
    """
    if _is_sqlite(session):
        session.execute(insert(ModuleVersion), list(rows))
        return
    statement = insert(ModuleVersion.__table__).values(
        search_vector=vector_expression(bindparam("vector_title"), bindparam("vector_text"))
    )
    session.execute(
        statement,
        [{**row, "vector_title": row["title"], "vector_text": row["plain_text"]} for row in rows],
    )


def _ensure_fts_table(session: Session, *, except_ids: Collection[int] = ()) -> None:
    """Create the index table if needed and fill the rows it lacks.

    ``except_ids`` are modules the caller is about to write anyway (not stemmed twice).
    """
    exists = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": FTS_TABLE},
    ).first()
    if exists is None:
        session.execute(
            text(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "title, body, stems, tokenize = 'unicode61 remove_diacritics 0')"
            )
        )
    # Fill rows missing for any reason (a new table, or one created in a transaction that
    # was later rolled back while the DDL itself was kept).
    missing = session.execute(
        select(Module.id, ModuleVersion.title, ModuleVersion.plain_text)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .where(
            Module.is_archived.is_(False),
            Module.id.not_in(select(column("rowid")).select_from(table(FTS_TABLE))),
        )
    ).all()
    skip = set(except_ids)
    for module_pk, title, plain_text in missing:
        if module_pk not in skip:
            _write_fts_row(session, module_pk, title, plain_text)


@dataclass(frozen=True)
class IndexRow:
    """A module's current title and text for the index; ``stems`` if already computed."""

    module_pk: int
    title: str
    plain_text: str
    #: ``stem_finnish(title + "\n" + plain_text)``, or None to compute it here.
    stems: str | None = None


def _write_fts_row(session: Session, module_pk: int, title: str, plain_text: str) -> None:
    _write_fts_rows(session, [IndexRow(module_pk, title, plain_text)])


def _write_fts_rows(session: Session, rows: Sequence[IndexRow]) -> None:
    """Replace the index rows of these modules (one DELETE and one INSERT for all)."""
    if not rows:
        return
    session.execute(
        text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), [{"id": r.module_pk} for r in rows]
    )
    values = []
    for row in rows:
        stemmed = row.stems
        if stemmed is None:
            stemmed = stem_finnish(f"{row.title}\n{row.plain_text}")
        values.append({"id": row.module_pk, "t": row.title, "b": row.plain_text, "s": stemmed})
    session.execute(
        text(f"INSERT INTO {FTS_TABLE} (rowid, title, body, stems) VALUES (:id, :t, :b, :s)"),
        values,
    )


def index_module(session: Session, module: Module) -> None:
    """Bring the SQLite index row of ``module`` up to date (PostgreSQL needs nothing)."""
    index_modules(session, [module])


def index_modules(
    session: Session, modules: Iterable[Module], *, rows: Sequence[IndexRow] = ()
) -> None:
    """Bring the SQLite index rows of ``modules`` up to date, each stemmed once.

    ``rows`` are the current title and text of some of them, known to the caller (the
    import has them, stemmed by its workers), so that their versions are not read back.
    """
    if not _is_sqlite(session):
        return
    modules = list(dict.fromkeys(modules))
    if not modules:
        return
    _ensure_fts_table(session, except_ids={module.id for module in modules})
    given = {row.module_pk: row for row in rows}
    removed: list[dict[str, int]] = []
    written: list[IndexRow] = []
    for module in modules:
        if module.is_archived:
            removed.append({"id": module.id})
            continue
        row = given.get(module.id)
        if row is None:
            version = module.current_version
            if version is None:
                removed.append({"id": module.id})
                continue
            row = IndexRow(module.id, version.title, version.plain_text)
        written.append(row)
    if removed:
        session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), removed)
    _write_fts_rows(session, written)


def _highlight(raw: str) -> Markup:
    """Escape a snippet marked with the private-use markers and turn them into <mark>."""
    cleaned = str(escape(raw))
    cleaned = cleaned.replace(_START, "<mark>").replace(_STOP, "</mark>")
    # A marker left unpaired (text cut mid-word) must not leave an open element.
    if cleaned.count("<mark>") != cleaned.count("</mark>"):
        cleaned = cleaned.replace("<mark>", "").replace("</mark>", "")
    return Markup(cleaned)


def _strip_markers(value: str) -> str:
    return value.replace(_START, "").replace(_STOP, "")


def search_modules(session: Session, query: str, *, limit: int = 30) -> list[SearchHit]:
    """Find modules whose current text matches every word of ``query``, best first."""
    words = query_words(query)
    if not words:
        return []
    if _is_sqlite(session):
        return _search_sqlite(session, words, limit)
    return _search_postgres(session, words, limit)


def _search_sqlite(session: Session, words: list[str], limit: int) -> list[SearchHit]:
    _ensure_fts_table(session)
    terms = []
    for word in words:
        stem = stem_finnish(word) or word
        # The stem matches the stemmed column, and as a prefix of the text as written it
        # finds the words snippet() highlights. The word as typed is a prefix too, because
        # stemming may change its end ("verkko" → "verko") and compounds start with it
        # ("verkkokirjasto").
        terms.append(f'({{title body stems}} : ("{stem}"* OR "{word}"*))')
    match = " AND ".join(terms)
    rows = session.execute(
        text(
            f"SELECT rowid, snippet({FTS_TABLE}, 1, :start, :stop, '…', {_SNIPPET_WORDS}) "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match "
            f"ORDER BY bm25({FTS_TABLE}, 5.0, 1.0, 1.0) LIMIT :limit"
        ),
        {"start": _START, "stop": _STOP, "match": match, "limit": limit * 2},
    ).all()
    snippets = {module_pk: snippet for module_pk, snippet in rows}
    return _hits(session, [module_pk for module_pk, _ in rows], snippets, limit)


def _search_postgres(session: Session, words: list[str], limit: int) -> list[SearchHit]:
    config = literal_column("'finnish'::regconfig")
    simple = literal_column("'simple'::regconfig")
    tsquery = None
    for index, word in enumerate(words):
        # The stemmed word, or the word as typed as a prefix of a compound ("verkko" finds
        # "verkkokirjasto", whose stem does not start with verkko's stem "verko").
        typed = bindparam(f"w{index}", f"{word}:*")
        term = func.to_tsquery(config, typed).op("||")(func.to_tsquery(simple, typed))
        tsquery = term if tsquery is None else tsquery.op("&&")(term)
    options = (
        f"StartSel={_START}, StopSel={_STOP}, MaxWords={_SNIPPET_WORDS}, MinWords=12, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )
    rows = session.execute(
        select(
            Module.id,
            func.ts_headline(config, ModuleVersion.plain_text, tsquery, options),
        )
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .join(Course, Course.id == Module.course_id)
        .where(
            ModuleVersion.search_vector.op("@@")(tsquery),
            Module.is_archived.is_(False),
            Course.is_archived.is_(False),
        )
        .order_by(func.ts_rank(ModuleVersion.search_vector, tsquery).desc(), Module.id)
        .limit(limit)
    ).all()
    snippets = {module_pk: snippet for module_pk, snippet in rows}
    return _hits(session, [module_pk for module_pk, _ in rows], snippets, limit)


def _hits(
    session: Session, order: list[int], snippets: dict[int, str], limit: int
) -> list[SearchHit]:
    if not order:
        return []
    rows = session.execute(
        select(Module, ModuleVersion, Course)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .join(Course, Course.id == Module.course_id)
        .where(
            Module.id.in_(order),
            Module.is_archived.is_(False),
            Course.is_archived.is_(False),
        )
    ).all()
    by_pk = {module.id: (module, version, course) for module, version, course in rows}
    hits: list[SearchHit] = []
    for module_pk in order:
        if module_pk not in by_pk:
            continue  # an index row left from a module that is gone or archived
        module, version, course = by_pk[module_pk]
        raw = snippets.get(module_pk) or ""
        hits.append(
            SearchHit(
                course_id=course.stable_id,
                course_title=dict(course.title),
                course_language=course.language,
                module_id=module.stable_id,
                module_title=version.title,
                language=version.language,
                snippet=_highlight(raw) if raw else Markup(escape(_strip_markers(raw))),
            )
        )
        if len(hits) == limit:
            break
    return hits
