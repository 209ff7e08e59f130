"""Finnish full-text search over the current text of every module, on both databases.

PostgreSQL: ``module_versions.search_vector`` holds ``to_tsvector('finnish', …)`` of the
title (weight A) and text (weight B), filled when the version is written (an import of many
modules has them computed while it renders, by ``SearchVectors``); each query word
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

import itertools
import queue
import re
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Engine,
    bindparam,
    column,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql
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


def index_needs_stems(session: Session) -> bool:
    """Tell whether the index is SQLite's, written with ``stem_finnish`` of each text."""
    return _is_sqlite(session)


def set_search_vector(session: Session, version: ModuleVersion) -> None:
    """Give a new version its PostgreSQL ``tsvector`` (computed by the database on insert)."""
    if not _is_sqlite(session):
        version.search_vector = vector_expression(version.title, version.plain_text)


#: PostgreSQL's ``tsvector`` type (a built-in type: its OID is fixed).
TSVECTOR_OID = 3614


class BinaryVector(bytes):
    """A ``tsvector`` in PostgreSQL's binary form, as the server sent it.

    Sent back as it came, it is read with ``tsvector_recv``, which takes a fifth of the
    CPU that parsing the text form takes (0.08 s against 0.39 s for 1,000 modules).
    """


@cache
def _binary_vector_dumper() -> type:
    """psycopg's dumper that sends a ``BinaryVector`` as a binary ``tsvector``."""
    # Imported here: a process on SQLite has no use for the PostgreSQL driver.
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class BinaryVectorDumper(Dumper):
        format = Format.BINARY
        oid = TSVECTOR_OID

        def dump(self, obj: Any) -> bytes:
            return bytes(obj)

    return BinaryVectorDumper


@dataclass(frozen=True)
class ComputedVector:
    """A PostgreSQL ``tsvector`` computed for exactly this title and text."""

    title: str
    plain_text: str
    vector: BinaryVector


@cache
def _vectors_sql() -> str:
    """``vector_expression`` of each (title, text) of two arrays, in their order.

    The arrays are sent in binary form (``%b``): as text, psycopg quoted and escaped every
    character of the modules' texts (a quarter of a second of this process for 1,000).
    """
    expression = vector_expression(literal_column("u.title"), literal_column("u.body"))
    return (
        f"SELECT {expression.compile(dialect=postgresql.dialect())} "
        "FROM unnest(%b::text[], %b::text[]) WITH ORDINALITY AS u(title, body, n) ORDER BY u.n"
    )


#: What ``SearchVectors`` is given: a batch's (title, text) pairs, None for a body that has
#: none, when called (it may wait for them), and a future for each pair.
_VectorBatch = tuple[Callable[[], Sequence[tuple[str, str] | None]], list["Future[Any]"]]


class SearchVectors:
    """PostgreSQL search vectors computed in a thread, on a connection of its own.

    An import renders its modules in worker processes and used to leave every
    ``to_tsvector`` (about 2.5 ms of server CPU for a 20 KB module) to its INSERT, which ran
    after the last body was rendered while the other core idled. Here each batch is sent
    as soon as its texts are back, so the server works while the next bodies are rendered.
    The vector comes back in binary form and the import's own INSERT writes it as it came
    (``insert_versions``), in the import's transaction: this connection only computes, with
    the same ``vector_expression``, and writes nothing, so a failed import still changes
    nothing. A batch that cannot be computed (the connection failed) leaves its futures
    with the error, and the INSERT computes those vectors itself.

    The binary form is psycopg's to read and send: with another driver there are none.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._batches: queue.SimpleQueue[_VectorBatch | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False

    @classmethod
    def for_session(cls, session: Session) -> SearchVectors | None:
        """Vectors on ``session``'s database; None on SQLite, whose index has no vectors."""
        engine = session.get_bind().engine
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
            return None
        return cls(engine)

    def submit(
        self, count: int, texts: Callable[[], Sequence[tuple[str, str] | None]]
    ) -> list[Future[ComputedVector | None]]:
        """Queue ``count`` vectors of the pairs ``texts`` gives (called in the thread).

        Each future gives the vector of its pair, or None where ``texts`` gave no pair.
        """
        if self._closed:
            raise RuntimeError("these search vectors are closed")
        futures: list[Future[ComputedVector | None]] = [Future() for _ in range(count)]
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="liboppi-search-vectors", daemon=True
            )
            self._thread.start()
        self._batches.put((texts, futures))
        return futures

    def close(self) -> None:
        """Take no more batches; the thread ends once the queued ones are computed."""
        if self._thread is not None and not self._closed:
            self._batches.put(None)
        self._closed = True

    def _run(self) -> None:
        batch: _VectorBatch | None = None
        closed = False
        try:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                driver = conn.connection.driver_connection
                while (batch := self._batches.get()) is not None:
                    self._compute(driver, *batch)
                closed = True
        except Exception as error:  # the connection failed: the import's INSERT computes them
            while not closed:
                for future in batch[1] if batch is not None else ():
                    if not future.done():
                        future.set_exception(error)
                batch = self._batches.get()
                closed = batch is None

    @staticmethod
    def _compute(
        driver: Any,
        texts: Callable[[], Sequence[tuple[str, str] | None]],
        futures: list[Future[Any]],
    ) -> None:
        try:
            pairs = list(texts())
        except Exception as error:  # the batch itself failed (a broken pool): no texts
            for future in futures:
                future.set_exception(error)
            return
        given = [pair for pair in pairs if pair is not None]
        vectors: list[BinaryVector] = []
        if given:
            # Binary results: psycopg has no loader for tsvector, so it gives the bytes.
            with driver.cursor(binary=True) as cursor:
                cursor.execute(
                    _vectors_sql(), ([title for title, _ in given], [body for _, body in given])
                )
                for (vector,) in cursor.fetchall():
                    if not isinstance(vector, bytes):
                        raise TypeError(f"a tsvector was read as {type(vector).__name__}")
                    vectors.append(BinaryVector(vector))
        found = iter(vectors)
        for future, pair in zip(futures, pairs, strict=True):
            future.set_result(None if pair is None else ComputedVector(*pair, next(found)))


def computed_vector(
    computed: Future[ComputedVector | None] | None, title: str, plain_text: str
) -> BinaryVector | None:
    """The vector ``SearchVectors`` computed for this title and text; None if it has none.

    Waits for it. None too when it failed or was computed for other texts, and the INSERT
    computes the vector itself.
    """
    if computed is None or computed.exception() is not None:
        return None
    found = computed.result()
    if found is None or (found.title, found.plain_text) != (title, plain_text):
        return None
    return found.vector


def insert_versions(
    session: Session,
    rows: Sequence[dict[str, Any]],
    vectors: Sequence[BinaryVector | None] | None = None,
) -> None:
    """Insert many module versions (column values) at once, on PostgreSQL with their vector.

    ``vectors`` gives a row's ``tsvector`` where ``SearchVectors`` computed it (those rows
    are written by COPY, ``_copy_versions``); every other vector is computed by the INSERT
    itself, as ``set_search_vector`` does for one version, so that no row is written twice.
    Rows are inserted in the order given.
    """
    table = ModuleVersion.__table__
    if _is_sqlite(session):
        # The table, not the entity: a Core executemany, without the ORM's bulk-insert
        # bookkeeping per row (the rows are plain values and no object is made of them).
        session.execute(insert(table), list(rows))
        return
    computed = insert(table).values(
        search_vector=vector_expression(bindparam("vector_title"), bindparam("vector_text"))
    )
    pairs = zip(rows, vectors if vectors is not None else [None] * len(rows), strict=True)
    for has_vector, run in itertools.groupby(pairs, key=lambda pair: pair[1] is not None):
        if has_vector:
            _copy_versions(session, list(run))
        else:
            session.execute(
                computed,
                [
                    {**row, "vector_title": row["title"], "vector_text": row["plain_text"]}
                    for row, _ in run
                ],
            )


def _copy_versions(session: Session, run: Sequence[tuple[dict[str, Any], Any]]) -> None:
    """Write module versions (column values) with their binary vector by COPY (PostgreSQL).

    An INSERT of many rows was built whole (some 20,000 parameters for 1,000 modules)
    before the server started on it, and the server's work (compressing and storing about
    60 MB of text, the search index) then ran alone, after the last module was rendered.
    COPY streams the rows, so the server stores them while this process sends the next,
    and each value is sent in binary form without SQL to build.

    It runs on the session's own psycopg connection (an internal of SQLAlchemy:
    ``connection.driver_connection``), so in the session's transaction: a failed import
    still writes nothing. SQLAlchemy's bind processing is bypassed, so the rows must hold
    what psycopg sends as the INSERT stored them: text and numbers, lists and dicts for the
    JSON columns (both serialise them with ``json.dumps``), aware datetimes (psycopg refuses
    a naive one, as ``UTCDateTime`` does). The column types are named for psycopg from the
    table. Being the driver's, the statement is not seen by the engine's event hooks.
    """
    table = ModuleVersion.__table__
    names = [*run[0][0], "search_vector"]
    dialect = postgresql.dialect()
    # "VARCHAR(64)" → "varchar": psycopg finds its binary dumper by the type's name.
    types = [table.c[name].type.compile(dialect=dialect).split("(")[0].lower() for name in names]
    columns = ", ".join(names)
    driver = session.connection().connection.driver_connection
    driver.adapters.register_dumper(BinaryVector, _binary_vector_dumper())
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for row, vector in run:
            copy.write_row([*(row[name] for name in names[:-1]), vector])


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
