"""Importing the course tree from files into the database, idempotently, with versions.

``import_tree`` takes a ContentTree that ``load_tree`` read (and the checker passed) and
brings the database in line with it in the caller's transaction: an unchanged module (same
content hash) is skipped, a changed one gets a new ModuleVersion (old versions stay, and
progress keeps pointing at the version it used), a module no longer listed is archived,
never deleted. Anything wrong raises ContentError listing every problem, so that the
caller rolls the whole run back.

Every version is rendered here, once; pages never render Markdown per request.

``flask content import`` reads the tree with ``scan_for_import``: a file unchanged since
the last import (same path and hash as a stored version) is not parsed again (its stored
``ModuleFacts`` are reused and only its cross-file checks are made), and every other body
is parsed once, for the checks and the page together, in a process pool when there are
many; on PostgreSQL their search vectors are computed meanwhile (``search.SearchVectors``).
``import_tree`` then writes the new versions in bulk.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import posixpath
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, joinedload

from liboppi import clock
from liboppi.content.body_checks import BodyFacts, body_facts, resolve_relative
from liboppi.content.frontmatter import ModuleMeta, parse_module_meta, split_front_matter
from liboppi.content.loader import (
    COURSE_FILE,
    COURSES_DIR,
    BodyJob,
    ContentTree,
    CourseSource,
    ModuleFacts,
    ModuleSource,
    TreeScan,
    scan_tree,
)
from liboppi.content.problems import ContentError, Problem
from liboppi.content.render import (
    RenderedModule,
    parse_body,
    render_markdown,
    render_parsed,
    stem_finnish,
)
from liboppi.models import Course, CourseFile, Module, ModuleVersion

from . import search

MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".webp": "webp"}
CALLOUT_LABELS: Mapping[str, Mapping[str, str]] = {
    "fi": {"tip": "Vinkki", "warning": "Huomio", "note": "Muista"},
    "sv": {"tip": "Tips", "warning": "Varning", "note": "Obs"},
    "en": {"tip": "Tip", "warning": "Warning", "note": "Note"},
}

#: Repository-relative module path → (course stable id, module stable id).
LinkTargets = Mapping[str, tuple[str, str]]
#: Below this many bodies to parse, a scan works in this process (a pool costs more).
POOL_MIN_BODIES = 50
#: Bodies sent to a worker at a time: fewer, larger messages cost the reading process less.
POOL_BATCH = 8


@dataclass
class ImportSummary:
    """What an import did, module by module."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    archived: int = 0
    #: Modules whose file is older than an edit made on the web (kept, not overwritten).
    kept: int = 0
    images: int = 0

    def line(self) -> str:
        """The summary line the command prints."""
        return (
            f"added {self.added}, changed {self.changed}, "
            f"unchanged {self.unchanged}, archived {self.archived}"
        )


def detect_image_type(data: bytes) -> str | None:
    """Name the image format by its magic bytes: png, jpeg, gif, webp; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def site_host_of(base_url: str) -> str | None:
    """The host whose links are not marked external."""
    return urlsplit(base_url).hostname


def module_path(course: Course, file_name: str) -> str:
    """The repository-relative path of a module file of ``course``."""
    return f"{COURSES_DIR}/{course.folder}/{file_name}"


def files_url(course_stable_id: str) -> str:
    """The URL folder a course's images are served from (relative image paths resolve here)."""
    return f"/courses/{course_stable_id}/files/"


def link_targets_in_database(session: Session) -> dict[str, tuple[str, str]]:
    """Every module file the database knows, for turning relative links into page links."""
    rows = session.execute(
        select(Course.folder, Course.stable_id, Module.file_name, Module.stable_id)
        .join(Module, Module.course_id == Course.id)
        .where(Module.is_archived.is_(False))
    ).all()
    return {
        f"{COURSES_DIR}/{folder}/{file_name}": (course_id, module_id)
        for folder, course_id, file_name, module_id in rows
    }


def _link_targets_in_tree(tree: ContentTree) -> dict[str, tuple[str, str]]:
    return {module.path: (course.id, module.meta.id) for course, module in tree.iter_modules()}


def _resolver(
    path: str, course_stable_id: str, targets: LinkTargets
) -> Callable[[str], str | None]:
    course_folder = posixpath.dirname(path)

    def resolve(href: str) -> str | None:
        target = resolve_relative(path, href)
        if target is None:
            return None
        fragment = urlsplit(href).fragment
        found = targets.get(target)
        if found is not None:
            url = f"/courses/{found[0]}/{found[1]}"
            return f"{url}#{fragment}" if fragment else url
        if target.startswith(course_folder + "/") and not target.endswith(".md"):
            # A file beside the module (an image linked to) is served from the course.
            return files_url(course_stable_id) + target[len(course_folder) + 1 :]
        return None

    return resolve


@dataclass(frozen=True)
class ParsedModule:
    """A module text split and read: its metadata and its body."""

    meta: ModuleMeta
    body: str


def parse_module_text(path: str, raw_text: str) -> ParsedModule:
    """Read a module's front matter and body; raise ContentError if the front matter is wrong."""
    split = split_front_matter(raw_text, path)
    meta, _warnings = parse_module_meta(split, path)
    return ParsedModule(meta, split.body)


def render_body(
    body: str,
    *,
    course_stable_id: str,
    language: str,
    path: str,
    targets: LinkTargets,
    site_host: str | None,
):
    """Render a module body the way its page shows it (also used for the editor preview)."""
    return render_markdown(
        body,
        base_url_for_images=files_url(course_stable_id),
        labels=CALLOUT_LABELS.get(language, CALLOUT_LABELS["fi"]),
        site_host=site_host,
        resolve_link=_resolver(path, course_stable_id, targets),
    )


#: The module links a rendering looked up: (target path, what it found or None).
Lookups = tuple[tuple[str, tuple[str, str] | None], ...]


@dataclass(frozen=True)
class PreparedBody:
    """A body rendered during the scan, and what it was rendered for (to be used only then)."""

    path: str
    course_stable_id: str
    language: str
    site_host: str | None
    lookups: Lookups
    rendered: RenderedModule
    #: ``stem_finnish(title + "\n" + plain_text)`` for the SQLite search index (None when
    #: the index does not need it).
    stems: str | None
    #: The PostgreSQL search vector of the title and ``rendered.plain_text``, when computed.
    vector: Future[search.ComputedVector | None] | None = None

    def fits(
        self,
        path: str,
        course_stable_id: str,
        language: str,
        site_host: str | None,
        targets: LinkTargets,
    ) -> bool:
        """Tell whether rendering again with these arguments would give the same result.

        Links are resolved only through ``targets.get``, so the same answers to the same
        lookups give the same page.
        """
        return (path, course_stable_id, language, site_host) == (
            self.path,
            self.course_stable_id,
            self.language,
            self.site_host,
        ) and all(targets.get(target) == found for target, found in self.lookups)


class _RecordedTargets(Mapping[str, tuple[str, str]]):
    """Link targets that remember what was looked up (see ``PreparedBody.fits``)."""

    def __init__(self, targets: LinkTargets) -> None:
        self._targets = targets
        self.lookups: list[tuple[str, tuple[str, str] | None]] = []

    def __getitem__(self, target: str) -> tuple[str, str]:
        found = self._targets.get(target)
        self.lookups.append((target, found))
        if found is None:
            raise KeyError(target)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)


_Made = tuple[RenderedModule, str | None, Lookups]


def _prepare_body(
    job: BodyJob, targets: LinkTargets, site_host: str | None, *, stems: bool = True
) -> tuple[BodyFacts, _Made | None]:
    """Parse a body once: check it, and render it (and stem its text) if it is listed.

    ``stems``: whether the search index needs the text stemmed (SQLite's does).
    """
    if not job.split.body.strip():
        return body_facts(job.path, job.split), None
    parsed = parse_body(job.split.body)
    # The checks read the links and images as written; rendering rewrites them afterwards.
    facts = body_facts(job.path, job.split, parsed.tokens)
    if job.course_id is None or job.title is None:
        return facts, None
    recorded = _RecordedTargets(targets)
    rendered = render_parsed(
        parsed,
        base_url_for_images=files_url(job.course_id),
        labels=CALLOUT_LABELS.get(job.language, CALLOUT_LABELS["fi"]),
        site_host=site_host,
        resolve_link=_resolver(job.path, job.course_id, recorded),
    )
    stemmed = stem_finnish(f"{job.title}\n{rendered.plain_text}") if stems else None
    return facts, (rendered, stemmed, tuple(recorded.lookups))


# The worker processes' arguments shared by every job, set once when each worker starts.
_worker_state: dict[str, Any] = {}


def _init_worker(targets: LinkTargets, site_host: str | None, stems: bool) -> None:
    _worker_state.update(targets=targets, site_host=site_host, stems=stems)


def _prepare_in_worker(jobs: list[BodyJob]) -> list[tuple[BodyFacts, _Made | None]]:
    targets, site_host = _worker_state["targets"], _worker_state["site_host"]
    return [_prepare_body(job, targets, site_host, stems=_worker_state["stems"]) for job in jobs]


def _pool_context() -> Any:
    # fork starts workers that already have the parser and sanitiser imported; they never
    # touch the parent's database connections and leave with os._exit.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class ImportBodyProcessor:
    """The import's body processor: each body is parsed once, checked, rendered and stemmed.

    Once ``pool_min`` bodies are waiting, they and the rest go to a process pool as they
    are read (parsing, sanitising and stemming are CPU-bound and pure), while this process
    reads on. Workers resolve module links with the database's targets only, since the
    tree's are known only after the last file; a body whose links would resolve otherwise
    with the whole tree's targets is rendered again by the import (``PreparedBody.fits``).
    Results are collected in submission order, so the outcome does not depend on the pool.
    With ``vectors``, each batch's search vectors are computed as soon as it is rendered.
    """

    def __init__(
        self,
        database_targets: LinkTargets,
        site_host: str | None,
        *,
        workers: int | None = None,
        pool_min: int | None = None,
        stems: bool = True,
        vectors: search.SearchVectors | None = None,
    ) -> None:
        self.database_targets = dict(database_targets)
        self.site_host = site_host
        self.stems = stems
        self.vectors = vectors
        #: Search vectors being computed, by the body's index in ``_jobs``.
        self._vector_of: dict[int, Future[search.ComputedVector | None]] = {}
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        self.pool_min = POOL_MIN_BODIES if pool_min is None else pool_min
        self._waiting: list[BodyJob] = []
        self._jobs: list[BodyJob] = []
        self._futures: list[Future[list[tuple[BodyFacts, _Made | None]]]] = []
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, job: BodyJob) -> None:
        """Take a body; start the pool once enough are waiting."""
        self._jobs.append(job)
        self._waiting.append(job)
        if self._pool is None and (self.workers < 2 or len(self._waiting) < self.pool_min):
            return
        if len(self._waiting) < POOL_BATCH:
            return
        if self._pool is None:
            # Forked workers would otherwise have their collector walk (and copy) every
            # object they inherited; frozen objects are left alone until the pool is done.
            gc.freeze()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_pool_context(),
                initializer=_init_worker,
                initargs=(self.database_targets, self.site_host, self.stems),
            )
        first = len(self._jobs) - len(self._waiting)
        for start in range(0, len(self._waiting), POOL_BATCH):
            self._to_pool(first + start, self._waiting[start : start + POOL_BATCH])
        self._waiting = []

    def _to_pool(self, first: int, batch: list[BodyJob]) -> None:
        """Send a batch (``_jobs[first:]``) to the pool, and its texts then to ``vectors``."""
        assert self._pool is not None
        future = self._pool.submit(_prepare_in_worker, batch)
        self._futures.append(future)
        if self.vectors is None:
            return

        def texts() -> list[tuple[str, str] | None]:
            return [
                (job.title, made[0].plain_text)
                if made is not None and job.title is not None
                else None
                for job, (_, made) in zip(batch, future.result(), strict=True)
            ]

        for index, vector in enumerate(self.vectors.submit(len(batch), texts), start=first):
            self._vector_of[index] = vector

    def results(
        self, tree_targets: Mapping[str, tuple[str, str]]
    ) -> list[tuple[BodyFacts, PreparedBody | None]]:
        """Every body's facts and rendering, in submission order."""
        targets = {**self.database_targets, **tree_targets}
        try:
            if self._pool is not None and self._waiting:
                self._to_pool(len(self._jobs) - len(self._waiting), self._waiting)
                self._waiting = []
            done = [result for future in self._futures for result in future.result()]
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the same work, in this process.
            done, self._waiting = [], list(self._jobs)
        finally:
            self.close()
        done += [
            _prepare_body(job, targets, self.site_host, stems=self.stems) for job in self._waiting
        ]
        self._waiting = []
        prepared: list[tuple[BodyFacts, PreparedBody | None]] = []
        for index, (job, (facts, made)) in enumerate(zip(self._jobs, done, strict=True)):
            body = None
            if made is not None and job.course_id is not None:
                rendered, stems, lookups = made
                body = PreparedBody(
                    job.path,
                    job.course_id,
                    job.language,
                    self.site_host,
                    lookups,
                    rendered,
                    stems,
                    self._vector_of.get(index),
                )
            prepared.append((facts, body))
        return prepared

    def close(self) -> None:
        """Stop the pool, if one is running (``results`` does; this is for errors).

        Vectors still being computed are finished by their thread, which then ends.
        """
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            self._futures = []
            gc.unfreeze()
        if self.vectors is not None:
            self.vectors.close()


def known_facts(session: Session) -> dict[str, ModuleFacts]:
    """Stored facts of every module's current version, by the path they were read at."""
    known: dict[str, ModuleFacts] = {}
    rows = session.scalars(
        select(ModuleVersion.source_facts)
        .join(Module, Module.current_version_id == ModuleVersion.id)
        .where(ModuleVersion.source_facts.is_not(None))
    )
    for data in rows:
        facts = ModuleFacts.from_json(data)
        if facts is not None:
            known[facts.path] = facts
    return known


def scan_for_import(session: Session, root: Path, *, site_host: str | None) -> TreeScan:
    """Read the tree for an import: unchanged files from stored facts, new ones rendered once.

    The scan is the checker's (same problems); bodies are rendered with the links the
    import will use, so ``import_tree`` does not parse them again.
    """
    known = known_facts(session)
    processor = ImportBodyProcessor(
        link_targets_in_database(session),
        site_host,
        stems=search.index_needs_stems(session),
        vectors=search.SearchVectors.for_session(session),
    )
    try:
        return scan_tree(root, known=known, process_bodies=processor)
    finally:
        processor.close()


def _version_values(
    module: Module,
    course: Course,
    raw_text: str,
    *,
    number: int,
    targets: LinkTargets,
    site_host: str | None,
    author_id: int | None,
    message: str,
    parsed: ParsedModule | None,
    prepared: PreparedBody | None = None,
    facts: ModuleFacts | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The columns of a new version of ``module`` from its full file text, rendered; its stems.

    ``prepared`` is the body already rendered by the scan, used when it was rendered for
    exactly this path, course, language, site and links; otherwise the body is rendered here.
    Plain values, not a ModuleVersion: the import inserts them in bulk, and building an
    ORM object only to read its attributes back took it a tenth of a second per 1,000.
    """
    path = module_path(course, module.file_name)
    if parsed is None:
        parsed = parse_module_text(path, raw_text)
    language = parsed.meta.lang or course.language
    stems = None
    if prepared is not None and prepared.fits(path, course.stable_id, language, site_host, targets):
        rendered = prepared.rendered
        stems = prepared.stems
    else:
        rendered = render_body(
            parsed.body,
            course_stable_id=course.stable_id,
            language=language,
            path=path,
            targets=targets,
            site_host=site_host,
        )
    if facts is not None and facts.path == path:
        # The facts were read from exactly this text; its hash is already known.
        content_hash = facts.content_hash
    else:
        content_hash = hashlib.sha256(raw_text.encode("utf-8")).hexdigest()
    stored_facts = None
    if facts is not None and facts.path == path and facts.content_hash == content_hash:
        stored_facts = facts.to_json()
    values = {
        "number": number,
        "content_hash": content_hash,
        "raw_text": raw_text,
        "title": parsed.meta.title,
        "estimated_minutes": parsed.meta.estimated_minutes,
        "objectives": list(parsed.meta.objectives),
        "tags": list(parsed.meta.tags),
        "quiz_id": parsed.meta.quiz,
        "language": language,
        "html": rendered.html,
        "toc": [{"level": e.level, "id": e.id, "text": e.text} for e in rendered.toc],
        "plain_text": rendered.plain_text,
        "word_count": rendered.word_count,
        "source_facts": stored_facts,
        "author_id": author_id,
        "message": message[:500],
        "created_at": clock.now(),
    }
    return values, stems


def add_version(
    session: Session,
    module: Module,
    course: Course,
    raw_text: str,
    *,
    targets: LinkTargets,
    site_host: str | None,
    author_id: int | None = None,
    message: str = "",
    parsed: ParsedModule | None = None,
) -> ModuleVersion:
    """Add the next version of ``module`` from its full file text, rendered, and make it current.

    The caller has checked the text; a front matter that cannot be read raises ContentError.
    ``parsed`` is ``raw_text`` already read (the import has it from the loader).
    """
    previous = module.current_version.number if module.current_version is not None else 0
    if module.id is not None:
        highest = session.scalar(
            select(ModuleVersion.number)
            .where(ModuleVersion.module_id == module.id)
            .order_by(ModuleVersion.number.desc())
            .limit(1)
        )
        previous = max(previous, highest or 0)
    values, _ = _version_values(
        module,
        course,
        raw_text,
        number=previous + 1,
        targets=targets,
        site_host=site_host,
        author_id=author_id,
        message=message,
        parsed=parsed,
    )
    version = ModuleVersion(**values)
    version.module = module
    search.set_search_vector(session, version)
    session.add(version)
    session.flush()
    module.current_version = version
    module.updated_at = version.created_at
    session.flush()
    return version


def _add_import_versions(
    session: Session,
    pending: list[tuple[Module, Course, ModuleSource]],
    *,
    targets: LinkTargets,
    site_host: str | None,
) -> list[search.IndexRow]:
    """Add the next version of each pending module and make it current; return index rows.

    Written as one bulk INSERT (search vectors included) and one bulk UPDATE, not a
    unit-of-work flush per module: an import of many files is mostly these rows. The
    modules' ``current_version`` is expired, so it is read again when used.
    """
    if not pending:
        return []
    session.flush()  # new modules get their ids
    existing_ids = [module.id for module, _, _ in pending]
    highest: dict[int, int] = {}
    for start in range(0, len(existing_ids), 500):
        rows = session.execute(
            select(ModuleVersion.module_id, func.max(ModuleVersion.number))
            .where(ModuleVersion.module_id.in_(existing_ids[start : start + 500]))
            .group_by(ModuleVersion.module_id)
        )
        highest.update({module_id: number for module_id, number in rows})
    values: list[dict[str, Any]] = []
    vectors: list[search.BinaryVector | None] = []
    index_rows: list[search.IndexRow] = []
    for module, course, source in pending:
        row, stems = _version_values(
            module,
            course,
            source.raw_text,
            number=highest.get(module.id, 0) + 1,
            targets=targets,
            site_host=site_host,
            author_id=None,
            message="import",
            parsed=ParsedModule(source.meta, source.body),
            prepared=source.prepared,
            facts=source.facts,
        )
        row["module_id"] = module.id
        values.append(row)
        title, plain_text = row["title"], row["plain_text"]
        computed = source.prepared.vector if source.prepared is not None else None
        vectors.append(search.computed_vector(computed, title, plain_text))
        index_rows.append(search.IndexRow(module.id, title, plain_text, stems))
    # A plain executemany: RETURNING in parameter order would send one row per statement
    # on SQLite. (module, number) is unique, so the new ids are read back by it.
    search.insert_versions(session, values, vectors)
    numbers = {row["module_id"]: row["number"] for row in values}
    new_ids: dict[int, int] = {}
    module_ids = list(numbers)
    for start in range(0, len(module_ids), 500):
        rows = session.execute(
            select(ModuleVersion.module_id, ModuleVersion.number, ModuleVersion.id).where(
                ModuleVersion.module_id.in_(module_ids[start : start + 500])
            )
        )
        new_ids.update(
            {module_id: pk for module_id, number, pk in rows if numbers[module_id] == number}
        )
    version_ids = [new_ids[row["module_id"]] for row in values]
    session.execute(
        update(Module),
        [
            {"id": module.id, "current_version_id": version_id, "updated_at": row["created_at"]}
            for (module, _, _), version_id, row in zip(pending, version_ids, values, strict=True)
        ],
    )
    for module, _, _ in pending:
        session.expire(module, ["current_version", "current_version_id", "updated_at"])
    return index_rows


def previous_ids(session: Session) -> dict[str, str]:
    """Repository-relative path → stable id, for the checker's "id changed" rule."""
    ids: dict[str, str] = {}
    for course in session.scalars(select(Course).where(Course.is_archived.is_(False))):
        ids[f"{COURSES_DIR}/{course.folder}/{COURSE_FILE}"] = course.stable_id
    rows = session.execute(
        select(Course.folder, Module.file_name, Module.stable_id)
        .join(Module, Module.course_id == Course.id)
        .where(Module.is_archived.is_(False))
    )
    for folder, file_name, stable_id in rows:
        ids[f"{COURSES_DIR}/{folder}/{file_name}"] = stable_id
    return ids


@dataclass(frozen=True)
class _Image:
    name: str
    path: str
    data: bytes
    kind: str


def _course_images(course: CourseSource) -> tuple[list[_Image], list[Problem]]:
    """Read the images in a course folder (and check those the modules show)."""
    images: list[_Image] = []
    problems: list[Problem] = []
    folder_path = f"{COURSES_DIR}/{course.folder.name}"
    for path in sorted(course.folder.rglob("*")):
        relative = path.relative_to(course.folder)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        expected = IMAGE_SUFFIXES.get(path.suffix.lower())
        if expected is None:
            continue
        shown = f"{folder_path}/{relative.as_posix()}"
        data = path.read_bytes()
        kind = detect_image_type(data)
        if kind is None:
            problems.append(
                Problem(shown, 1, 1, "not a PNG, JPEG, GIF or WebP image (by its contents)")
            )
        elif len(data) > MAX_IMAGE_BYTES:
            problems.append(
                Problem(shown, 1, 1, f"the image is larger than {MAX_IMAGE_BYTES // 1024} KB")
            )
        else:
            images.append(_Image(relative.as_posix(), shown, data, kind))
    for module in course.modules:
        for image in module.images:
            if not image.startswith(folder_path + "/"):
                problems.append(
                    Problem(
                        module.path,
                        module.body_line,
                        1,
                        f"image `{image}` is outside the course folder `{folder_path}`: "
                        "put it beside the modules",
                    )
                )
    return images, problems


def _upsert_images(
    session: Session, course: Course, images: list[_Image], summary: ImportSummary
) -> None:
    existing = {
        f.name: f for f in session.scalars(select(CourseFile).filter_by(course_id=course.id))
    }
    now = clock.now()
    for image in images:
        digest = hashlib.sha256(image.data).hexdigest()
        row = existing.get(image.name)
        if row is not None and row.content_hash == digest:
            continue
        if row is None:
            row = CourseFile(course_id=course.id, name=image.name, created_at=now)
            session.add(row)
        row.data = image.data
        row.content_type = IMAGE_TYPES[image.kind]
        row.content_hash = digest
        row.size = len(image.data)
        row.updated_at = now
        summary.images += 1


def _is_stale(stored_hash: str | None, imported_hash: str | None, file_hash: str) -> bool:
    """Tell whether a file is older than the database's copy (edited on the web since)."""
    return file_hash == imported_hash and file_hash != stored_hash


def _apply_course(session: Session, source: CourseSource, position: int) -> tuple[Course, bool]:
    """Create or update a course from its ``course.yaml``; return it and whether it is stale."""
    course = session.scalar(select(Course).filter_by(stable_id=source.id))
    now = clock.now()
    if course is None:
        course = Course(stable_id=source.id, created_at=now, updated_at=now)
        session.add(course)
    course.position = position
    course.is_archived = False
    if _is_stale(course.content_hash, course.imported_hash, source.content_hash):
        session.flush()
        return course, True
    course.folder = source.folder.name
    course.language = source.language
    course.title = dict(source.title)
    course.description = dict(source.description)
    course.audience = list(source.audience)
    course.job_roles = list(source.job_roles)
    course.tags = list(source.tags)
    course.prerequisites = list(source.prerequisites)
    course.completion = source.completion
    course.translation_of = source.translation_of
    course.imported_hash = source.content_hash
    if course.content_hash != source.content_hash:
        course.raw_text = source.raw_text
        course.content_hash = source.content_hash
        course.updated_at = now
    session.flush()
    return course, False


def _import_module(
    session: Session,
    course: Course,
    source: ModuleSource,
    existing: Module | None,
    *,
    course_is_stale: bool,
    summary: ImportSummary,
) -> tuple[Module, bool]:
    """Create, update or skip one module; count it in ``summary``; tell if it needs a version.

    The new versions are added afterwards, all together (``_add_import_versions``).
    """
    now = clock.now()
    file_name = Path(source.path).name
    if existing is None:
        position = source.position
        if course_is_stale:
            position = 1 + max((m.position for m in course.modules), default=0)
        module = Module(
            stable_id=source.meta.id,
            course=course,
            position=position,
            file_name=file_name,
            is_archived=False,
            created_at=now,
            updated_at=now,
        )
        session.add(module)
        summary.added += 1
        is_new_text = True
    else:
        module = existing
        moved = False
        relisted = False
        if not course_is_stale:
            moved = module.course_id != course.id
            relisted = module.is_archived
            # Assigned only when different: an unchanged module stays clean, and the flush
            # has nothing to compare (1,000 modules re-imported must cost next to nothing).
            if moved:
                module.course = course
            if module.position != source.position:
                module.position = source.position
            if module.file_name != file_name:
                module.file_name = file_name
            if relisted:
                module.is_archived = False
        current = module.current_version
        current_hash = current.content_hash if current is not None else None
        if moved or current_hash is None:
            is_new_text = True
        elif current_hash == source.content_hash:
            is_new_text = False
        elif _is_stale(current_hash, module.imported_hash, source.content_hash):
            is_new_text = False
            summary.kept += 1
        else:
            is_new_text = True
        if relisted:
            summary.added += 1
        elif is_new_text:
            summary.changed += 1
        else:
            summary.unchanged += 1
    if module.imported_hash != source.content_hash:
        module.imported_hash = source.content_hash
    return module, is_new_text


def _new_module_row(course: Course, source: ModuleSource) -> dict[str, Any]:
    """The columns of a module new to the database, listed by a course that is not stale."""
    now = clock.now()
    return {
        "stable_id": source.meta.id,
        "course_id": course.id,
        "position": source.position,
        "file_name": Path(source.path).name,
        "is_archived": False,
        "imported_hash": source.content_hash,
        "created_at": now,
        "updated_at": now,
    }


def _insert_new_modules(session: Session, rows: list[dict[str, Any]]) -> dict[str, Module]:
    """Insert new modules in one statement; return them (loaded back) by stable id.

    One executemany instead of an object per module flushed by the unit of work, which on
    SQLite sent a statement per module (to read each new id back) and was most of the
    Python in an import's serial tail. The modules are then loaded by their unique stable
    ids, as the rest of the import works on them.
    """
    if not rows:
        return {}
    session.flush()  # the courses the rows refer to
    session.execute(insert(Module.__table__), rows)
    stable_ids = [row["stable_id"] for row in rows]
    created: dict[str, Module] = {}
    for start in range(0, len(stable_ids), 500):
        created.update(
            (module.stable_id, module)
            for module in session.scalars(
                select(Module).where(Module.stable_id.in_(stable_ids[start : start + 500]))
            )
        )
    return created


def import_tree(
    session: Session,
    tree: ContentTree,
    *,
    site_host: str | None,
    progress: Callable[[], None] | None = None,
) -> ImportSummary:
    """Make the database match ``tree``; raise ContentError (and change nothing) on problems.

    A file that has not changed since the last import while the web editor changed the
    database's copy (a module's text, a course's module list) is older than that copy and
    does not overwrite it; ``flask content export`` writes the edits out. The caller owns
    the transaction and must roll it back on ContentError.
    """
    summary = ImportSummary()
    problems: list[Problem] = []
    images_by_course: dict[str, list[_Image]] = {}
    for source in tree.courses:
        images, image_problems = _course_images(source)
        images_by_course[source.id] = images
        problems.extend(image_problems)
    if problems:
        raise ContentError(problems)

    targets = {**link_targets_in_database(session), **_link_targets_in_tree(tree)}
    # Only what the import compares: the versions' texts are not loaded for nothing. A join,
    # not a select-in load: that one sends every module's version id as a parameter, and
    # with 1,000 modules psycopg spends longer splitting that query than the server running it.
    modules = {
        m.stable_id: m
        for m in session.scalars(
            select(Module).options(
                joinedload(Module.current_version).load_only(
                    ModuleVersion.id, ModuleVersion.number, ModuleVersion.content_hash
                )
            )
        ).unique()
    }
    seen_modules: set[str] = set()
    seen_courses: set[str] = set()
    stale_courses: set[int] = set()
    # Each listed module in tree order: its course and file, and the module (None for a new
    # one, inserted below), whether it needs a version and whether its index row changes.
    listed: list[tuple[Course, ModuleSource, Module | None, bool, bool]] = []
    new_rows: list[dict[str, Any]] = []
    for position, source in enumerate(tree.courses, start=1):
        course, is_stale = _apply_course(session, source, position)
        seen_courses.add(course.stable_id)
        if is_stale:
            stale_courses.add(course.id)
        _upsert_images(session, course, images_by_course[source.id], summary)
        for module_source in source.modules:
            seen_modules.add(module_source.meta.id)
            before = modules.get(module_source.meta.id)
            if before is None and not is_stale:
                new_rows.append(_new_module_row(course, module_source))
                summary.added += 1
                listed.append((course, module_source, None, True, True))
            else:
                archived_before = before.is_archived if before is not None else None
                module, needs_version = _import_module(
                    session,
                    course,
                    module_source,
                    before,
                    course_is_stale=is_stale,
                    summary=summary,
                )
                modules[module.stable_id] = module
                touches = needs_version or module.is_archived != archived_before
                listed.append((course, module_source, module, needs_version, touches))
            if progress is not None:
                progress()
    created = _insert_new_modules(session, new_rows)
    touched: list[Module] = []
    pending: list[tuple[Module, Course, ModuleSource]] = []
    for course, module_source, found, needs_version, touches in listed:
        module = found if found is not None else created[module_source.meta.id]
        if needs_version:
            pending.append((module, course, module_source))
        if touches:
            touched.append(module)

    for module in modules.values():
        if (
            module.stable_id not in seen_modules
            and not module.is_archived
            and module.course_id not in stale_courses
        ):
            module.is_archived = True
            module.updated_at = clock.now()
            summary.archived += 1
            touched.append(module)
    for course in session.scalars(select(Course).where(Course.is_archived.is_(False))):
        if course.stable_id not in seen_courses:
            course.is_archived = True
            course.updated_at = clock.now()
    session.flush()
    added = _add_import_versions(session, pending, targets=targets, site_host=site_host)
    search.index_modules(session, touched, rows=added)
    return summary
