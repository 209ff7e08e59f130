"""Loading course folders (``courses/<folder>/course.yaml`` and its modules) into memory.

Reading never stops at the first mistake: every file is read and every problem collected,
then the caller gets either the whole tree or a ContentError listing all of them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from liboppi.content.body_checks import BodyFacts, Reference, body_facts
from liboppi.content.frontmatter import (
    ModuleMeta,
    SplitModule,
    parse_module_meta,
    split_front_matter,
)
from liboppi.content.problems import ContentError, Problem
from liboppi.content.yaml_source import (
    LANGUAGES,
    FieldChecker,
    Position,
    YamlMapping,
    parse_yaml_mapping,
)

COURSES_DIR = "courses"
COURSE_FILE = "course.yaml"
AUDIENCE_ROLES = ("learner", "editor", "library_coordinator", "regional_coordinator", "admin")
COMPLETION_RULES = ("all_modules", "all_modules_and_quizzes")
COURSE_KEYS = (
    "id",
    "language",
    "title",
    "description",
    "audience",
    "job_roles",
    "tags",
    "prerequisites",
    "completion",
    "translation_of",
    "modules",
)


@dataclass(frozen=True)
class ModuleSource:
    """One module file as read: metadata, Markdown body and what identifies this version."""

    meta: ModuleMeta
    body: str
    body_line: int
    raw_text: str
    content_hash: str
    path: str
    position: int
    language: str
    images: tuple[str, ...] = ()
    #: What the file's text says, for storing with its version (see ModuleFacts).
    facts: ModuleFacts | None = field(default=None, compare=False, repr=False)
    #: Whatever the body processor made of the body besides checking it (e.g. the import's
    #: rendering); None when the body was not processed in this scan (unchanged, cached).
    prepared: Any = field(default=None, compare=False, repr=False)


#: Bump whenever a check on a module's text changes, so that stored facts are not reused.
FACTS_VERSION = 1


@dataclass(frozen=True)
class ModuleFacts:
    """What reading a module file at ``path`` with ``content_hash`` found from its text alone.

    Front matter, its warnings, and the body's own problems and references depend only on
    the text and the path, so the import stores them with the version and a later scan of
    the same file reuses them instead of parsing again. Cross-file checks (duplicate ids,
    quiz ids, unlisted files, whether linked files exist) are still made every time.
    """

    path: str
    content_hash: str
    meta: ModuleMeta
    #: Where the body starts in the file's text (after a BOM is removed) and its file line.
    body_start: int
    body_line: int
    body: BodyFacts

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form of these facts (``from_json`` reads it back)."""
        meta = self.meta
        return {
            "v": FACTS_VERSION,
            "path": self.path,
            "hash": self.content_hash,
            "body_start": self.body_start,
            "body_line": self.body_line,
            "meta": {
                "id": meta.id,
                "title": meta.title,
                "estimated_minutes": meta.estimated_minutes,
                "objectives": list(meta.objectives),
                "tags": list(meta.tags),
                "quiz": meta.quiz,
                "lang": meta.lang,
                "positions": {k: [p.line, p.col] for k, p in meta.positions.items()},
            },
            "problems": [[p.line, p.col, p.message, p.severity] for p in self.body.problems],
            "references": [
                [r.kind, r.line, r.col, r.shown, r.target] for r in self.body.references
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> ModuleFacts | None:
        """Facts stored by ``to_json``; None when they are of another version or malformed."""
        try:
            if data.get("v") != FACTS_VERSION:
                return None
            path = data["path"]
            meta = data["meta"]
            return cls(
                path=path,
                content_hash=data["hash"],
                meta=ModuleMeta(
                    id=meta["id"],
                    title=meta["title"],
                    estimated_minutes=meta["estimated_minutes"],
                    objectives=tuple(meta["objectives"]),
                    tags=tuple(meta["tags"]),
                    quiz=meta["quiz"],
                    lang=meta["lang"],
                    positions={k: Position(*v) for k, v in meta["positions"].items()},
                ),
                body_start=data["body_start"],
                body_line=data["body_line"],
                body=BodyFacts(
                    tuple(Problem(path, *p) for p in data["problems"]),
                    tuple(Reference(*r) for r in data["references"]),
                ),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class BodyJob:
    """A module body for the body processor: check it, and maybe render it."""

    path: str
    split: SplitModule
    #: The stable id of the course listing the module; None for a module that is not
    #: (or not yet validly) listed, which is only checked.
    course_id: str | None
    language: str
    #: The module's title (for its search text); None when the front matter has errors.
    title: str | None = None


class BodyProcessor(Protocol):
    """Checks (and may render) module bodies: each is submitted as soon as its file is read.

    ``results`` is called once every file has been read, with the tree's module paths →
    (course id, module id), and returns each body's facts and whatever else the processor
    made of it, in submission order.
    """

    def submit(self, job: BodyJob) -> None:
        """Take a body to check (the processor may start on it at once)."""

    def results(self, targets: Mapping[str, tuple[str, str]]) -> Sequence[tuple[BodyFacts, Any]]:
        """Every submitted body's facts and extra result, in submission order."""
        ...


class CheckBodies:
    """The default body processor: check each body, in this process, rendering nothing."""

    def __init__(self) -> None:
        self._jobs: list[BodyJob] = []

    def submit(self, job: BodyJob) -> None:
        """Queue a body."""
        self._jobs.append(job)

    def results(self, targets: Mapping[str, tuple[str, str]]) -> list[tuple[BodyFacts, Any]]:
        """Check the queued bodies."""
        return [(body_facts(job.path, job.split), None) for job in self._jobs]


@dataclass(frozen=True)
class CourseSource:
    """One course folder as read: ``course.yaml`` metadata and its modules in order."""

    id: str
    language: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    audience: tuple[str, ...]
    job_roles: tuple[str, ...]
    tags: tuple[str, ...]
    prerequisites: tuple[str, ...]
    completion: str
    translation_of: str | None
    modules: tuple[ModuleSource, ...]
    folder: Path
    path: str
    raw_text: str
    content_hash: str
    positions: dict[str, Position] = field(default_factory=dict, compare=False, repr=False)

    def position_of(self, key: str) -> Position:
        """Return where ``key`` is written in ``course.yaml`` (line 1 if it is not)."""
        return self.positions.get(key, Position(1, 1))


@dataclass(frozen=True)
class ContentTree:
    """Every course under ``courses/``, with the warnings found while reading them."""

    root: Path
    courses: tuple[CourseSource, ...]
    warnings: tuple[Problem, ...] = ()

    def iter_modules(self) -> Iterator[tuple[CourseSource, ModuleSource]]:
        """Yield every module with its course, courses in folder order, modules in course order."""
        for course in self.courses:
            for module in course.modules:
                yield course, module

    def get_course(self, course_id: str) -> CourseSource:
        """Return the course with ``course_id``; raise KeyError if there is none."""
        for course in self.courses:
            if course.id == course_id:
                return course
        raise KeyError(course_id)


@dataclass
class TreeScan:
    """What reading the tree produced, even when it has errors: used by the checker."""

    courses: list[CourseSource] = field(default_factory=list)
    modules: list[ModuleSource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Module files read whose bodies are checked together once every file is read.
    reads: list[_ModuleRead] = field(default_factory=list, repr=False)
    processor: BodyProcessor = field(default_factory=lambda: CheckBodies(), repr=False)

    @property
    def has_errors(self) -> bool:
        """Tell whether any problem is an error (not only a warning)."""
        return any(problem.severity == "error" for problem in self.problems)


class _RepositoryFiles:
    """Answers whether a repository-relative file exists, with the exact letter case.

    Editors on case-insensitive disks would otherwise see ``Kuva.png`` work locally and
    break on the Linux server.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._listing = cache(self._list_dir)

    def _list_dir(self, folder: str) -> frozenset[str]:
        try:
            return frozenset(os.listdir(self._root / folder))
        except OSError:
            return frozenset()

    def __call__(self, relative: str) -> bool:
        folder = ""
        for part in relative.split("/"):
            if part not in self._listing(folder):
                return False
            folder = f"{folder}/{part}" if folder else part
        return (self._root / relative).is_file()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _read_text(path: Path, relative: str) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContentError(
            [Problem(relative, 1, 1, f"cannot read the file: {exc.strerror or exc}")]
        ) from None
    try:
        # Decoding the bytes (not read_text) keeps CRLF line endings: raw_text is byte-exact.
        return data, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise ContentError(
            [Problem(relative, line, col, "the file is not UTF-8 text; save it as UTF-8")]
        ) from None


@dataclass
class _ModuleRead:
    """A module file read up to its body, which is checked later with all the others."""

    path: str
    module: ModuleSource | None
    #: The file's front matter and body when its body still has to be checked.
    split: SplitModule | None
    body: BodyFacts | None
    course_id: str | None
    language: str
    #: Front matter warnings of a file read now (stored with its facts, reported already).
    warnings: tuple[Problem, ...] = ()
    prepared: Any = None


def _read_module(
    path: Path,
    root: Path,
    *,
    position: int,
    course_id: str | None,
    course_language: str | None,
    known: Mapping[str, ModuleFacts],
    scan: TreeScan,
) -> ModuleSource | None:
    """Read one module file, add its problems to ``scan`` and queue its body to be checked.

    The module is returned (its images still unknown) even when its body has errors, so
    that the checker can still compare its id and quiz; it is None only when the front
    matter cannot be read. A file whose path and hash have stored ``known`` facts is not
    parsed again.
    """
    relative = _relative(path, root)
    try:
        data, text = _read_text(path, relative)
    except ContentError as exc:
        scan.problems.extend(exc.problems)
        return None
    digest = hashlib.sha256(data).hexdigest()
    facts = known.get(relative)
    if facts is not None and facts.content_hash == digest:
        meta: ModuleMeta | None = facts.meta
        split: SplitModule | None = None
        body: BodyFacts | None = facts.body
        body_text = text.removeprefix("\ufeff")[facts.body_start :]
        body_line = facts.body_line
        warnings: tuple[Problem, ...] = ()
    else:
        try:
            split = split_front_matter(text, relative)
        except ContentError as exc:
            scan.problems.extend(exc.problems)
            return None
        meta = None
        body = None
        body_text, body_line = split.body, split.body_line
        warnings = ()
        try:
            meta, found = parse_module_meta(split, relative)
            scan.problems.extend(found)
            warnings = tuple(found)
        except ContentError as exc:
            scan.problems.extend(exc.problems)
    language = (meta.lang if meta is not None else None) or course_language or LANGUAGES[0]
    module = None
    if meta is not None:
        module = ModuleSource(
            meta=meta,
            body=body_text,
            body_line=body_line,
            raw_text=text,
            content_hash=digest,
            path=relative,
            position=position,
            language=language,
        )
    scan.reads.append(
        _ModuleRead(relative, module, split, body, course_id, language, warnings=warnings)
    )
    if split is not None:
        scan.processor.submit(
            BodyJob(relative, split, course_id, language, meta.title if meta else None)
        )
    return module


def _finish_bodies(scan: TreeScan, files: Callable[[str], bool]) -> None:
    """Check the bodies of every module read, and complete the modules with what was found."""
    reads, scan.reads = scan.reads, []
    pending = [read for read in reads if read.body is None]
    targets = {
        module.path: (course.id, module.meta.id)
        for course in scan.courses
        for module in course.modules
    }
    for read, (facts, prepared) in zip(pending, scan.processor.results(targets), strict=True):
        read.body, read.prepared = facts, prepared
    finished: dict[str, ModuleSource] = {}
    for read in reads:
        assert read.body is not None
        report = read.body.report(read.path, files)
        scan.problems.extend(report.problems)
        module = read.module
        if module is None:
            continue
        body = read.body
        if read.warnings:
            body = BodyFacts((*read.warnings, *body.problems), body.references)
        facts = ModuleFacts(
            path=read.path,
            content_hash=module.content_hash,
            meta=module.meta,
            body_start=len(module.raw_text.removeprefix("\ufeff")) - len(module.body),
            body_line=module.body_line,
            body=body,
        )
        finished[read.path] = replace(
            module, images=report.images, facts=facts, prepared=read.prepared
        )
    scan.modules = [finished.get(m.path, m) for m in scan.modules]
    scan.courses = [
        replace(course, modules=tuple(finished.get(m.path, m) for m in course.modules))
        for course in scan.courses
    ]


@dataclass(frozen=True)
class _CourseFields:
    id: str | None
    language: str | None
    title: dict[str, str]
    description: dict[str, str]
    audience: tuple[str, ...]
    job_roles: tuple[str, ...]
    tags: tuple[str, ...]
    prerequisites: tuple[str, ...]
    completion: str
    translation_of: str | None
    modules: tuple[str, ...]


def _is_module_name(name: str) -> bool:
    return "/" not in name and "\\" not in name and name.endswith(".md")


def _course_fields(mapping: YamlMapping) -> tuple[_CourseFields, list[Problem]]:
    fields = FieldChecker(mapping, COURSE_KEYS)
    language = fields.choice("language", LANGUAGES, required=True)
    values = _CourseFields(
        id=fields.identifier("id", required=True),
        language=language,
        title=fields.language_map("title", required_language=language),
        description=fields.language_map("description", required_language=None),
        audience=fields.text_list("audience", choices=AUDIENCE_ROLES) or ("learner",),
        job_roles=fields.text_list("job_roles"),
        tags=fields.text_list("tags", ids=True),
        prerequisites=fields.text_list("prerequisites", ids=True),
        completion=fields.choice(
            "completion", COMPLETION_RULES, required=False, default=COMPLETION_RULES[0]
        )
        or COMPLETION_RULES[0],
        translation_of=fields.identifier("translation_of", required=False),
        modules=fields.text_list("modules"),
    )
    if not fields.has("modules"):
        fields.error(None, "missing required key `modules` (the module files in order)")
    for index, name in enumerate(values.modules):
        if not _is_module_name(name):
            fields.error(
                "modules",
                f"`modules` item {index + 1} `{name}` must be a `.md` file name in this folder",
                item=index,
            )
    fields.warn_unknown_keys()
    return values, fields.problems


def _scan_listed_modules(
    folder: Path,
    root: Path,
    values: _CourseFields,
    mapping: YamlMapping,
    files: _RepositoryFiles,
    scan: TreeScan,
    known: Mapping[str, ModuleFacts],
) -> list[ModuleSource]:
    """Read the modules ``course.yaml`` lists, in order, reporting missing and repeated ones."""
    modules: list[ModuleSource] = []
    seen: set[str] = set()
    for index, name in enumerate(values.modules):
        if not _is_module_name(name):
            continue
        if name in seen:
            scan.problems.append(
                mapping.problem("modules", f"module file `{name}` is listed twice", item=index)
            )
            continue
        seen.add(name)
        module_path = folder / name
        if not files(_relative(module_path, root)):
            scan.problems.append(
                mapping.problem(
                    "modules",
                    f"module file `{name}` is listed but does not exist "
                    f"in `{_relative(folder, root)}`",
                    item=index,
                )
            )
            continue
        module = _read_module(
            module_path,
            root,
            position=len(modules) + 1,
            course_id=values.id,
            course_language=values.language,
            known=known,
            scan=scan,
        )
        if module is not None:
            modules.append(module)
    return modules


def _scan_course(
    folder: Path,
    root: Path,
    files: _RepositoryFiles,
    scan: TreeScan,
    known: Mapping[str, ModuleFacts],
) -> None:
    """Read one course folder into ``scan``, adding every problem found."""
    course_path = folder / COURSE_FILE
    relative = _relative(course_path, root)
    values: _CourseFields | None = None
    mapping: YamlMapping | None = None
    course_problems: list[Problem] = []
    data, text = b"", ""
    try:
        data, text = _read_text(course_path, relative)
        mapping = parse_yaml_mapping(text, relative)
        values, course_problems = _course_fields(mapping)
    except ContentError as exc:
        course_problems = exc.problems
    scan.problems.extend(course_problems)

    modules: list[ModuleSource] = []
    if values is not None and mapping is not None:
        modules = _scan_listed_modules(folder, root, values, mapping, files, scan, known)
    listed = set(values.modules) if values is not None else set()
    for module_path in sorted(folder.glob("*.md")):
        if module_path.name in listed:
            continue
        if values is not None:
            scan.problems.append(
                Problem(
                    _relative(module_path, root),
                    1,
                    1,
                    f"module file is not listed in `{relative}` `modules`",
                )
            )
        # Unlisted (or unreadable-course) modules are still checked, so their own mistakes
        # are not a surprise once they are listed.
        _read_module(
            module_path,
            root,
            position=0,
            course_id=None,
            course_language=None,
            known=known,
            scan=scan,
        )

    scan.modules.extend(modules)
    if (
        values is None
        or mapping is None
        or values.id is None
        or values.language is None
        or any(problem.severity == "error" for problem in course_problems)
    ):
        return
    scan.courses.append(
        CourseSource(
            id=values.id,
            language=values.language,
            title=values.title,
            description=values.description,
            audience=values.audience,
            job_roles=values.job_roles,
            tags=values.tags,
            prerequisites=values.prerequisites,
            completion=values.completion,
            translation_of=values.translation_of,
            modules=tuple(modules),
            folder=folder,
            path=_relative(folder, root),
            raw_text=text,
            content_hash=hashlib.sha256(data).hexdigest(),
            positions=dict(mapping.key_positions),
        )
    )


def _check_unique_ids(scan: TreeScan) -> None:
    """Report course ids and module ids that are used twice anywhere in the tree."""
    first_course: dict[str, CourseSource] = {}
    for course in scan.courses:
        if course.id in first_course:
            other = first_course[course.id]
            at = course.position_of("id")
            scan.problems.append(
                Problem(
                    f"{course.path}/{COURSE_FILE}",
                    at.line,
                    at.col,
                    f"duplicate course id `{course.id}`: also used in `{other.path}/{COURSE_FILE}`",
                )
            )
        else:
            first_course[course.id] = course
    first_module: dict[str, ModuleSource] = {}
    for module in scan.modules:
        if module.meta.id in first_module:
            at = module.meta.position_of("id")
            other_path = first_module[module.meta.id].path
            scan.problems.append(
                Problem(
                    module.path,
                    at.line,
                    at.col,
                    f"duplicate module id `{module.meta.id}`: also used in `{other_path}`",
                )
            )
        else:
            first_module[module.meta.id] = module


def _check_course_references(scan: TreeScan) -> None:
    """Report prerequisites and ``translation_of`` that name no course in the tree."""
    course_ids = {course.id for course in scan.courses}
    for course in scan.courses:
        path = f"{course.path}/{COURSE_FILE}"
        for prerequisite in course.prerequisites:
            if prerequisite == course.id:
                at = course.position_of("prerequisites")
                scan.problems.append(
                    Problem(path, at.line, at.col, "a course cannot be its own prerequisite")
                )
            elif prerequisite not in course_ids:
                at = course.position_of("prerequisites")
                scan.problems.append(
                    Problem(path, at.line, at.col, f"unknown prerequisite course `{prerequisite}`")
                )
        if course.translation_of is not None and course.translation_of not in course_ids:
            at = course.position_of("translation_of")
            scan.problems.append(
                Problem(
                    path,
                    at.line,
                    at.col,
                    f"`translation_of` names unknown course `{course.translation_of}`",
                )
            )


def scan_tree(
    root: Path,
    *,
    known: Mapping[str, ModuleFacts] | None = None,
    process_bodies: BodyProcessor | None = None,
) -> TreeScan:
    """Read every course under ``root/courses`` and collect all problems, without raising.

    ``known`` maps a module path to facts stored for it (``ModuleFacts``): a file still
    at that path and hash is not parsed again. ``process_bodies`` checks the bodies of
    the other files (by default in this process), and may do more with them, e.g. render
    them for an import, into ``ModuleSource.prepared``.
    """
    scan = TreeScan()
    if process_bodies is not None:
        scan.processor = process_bodies
    courses_dir = root / COURSES_DIR
    files = _RepositoryFiles(root)
    if not courses_dir.is_dir():
        scan.problems.append(Problem(COURSES_DIR, 1, 1, "the `courses` folder does not exist"))
        return scan
    for folder in sorted(courses_dir.iterdir()):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        if not (folder / COURSE_FILE).is_file():
            scan.problems.append(
                Problem(_relative(folder, root), 1, 1, f"course folder has no `{COURSE_FILE}`")
            )
            continue
        _scan_course(folder, root, files, scan, known or {})
    _finish_bodies(scan, files)
    _check_unique_ids(scan)
    _check_course_references(scan)
    return scan


def load_course(folder: Path, root: Path) -> CourseSource:
    """Read one course folder and its listed modules; raise ContentError listing every error.

    Cross-course checks (duplicate ids in other courses, prerequisites) need the whole tree
    and are made by ``load_tree``.
    """
    scan = TreeScan()
    files = _RepositoryFiles(root)
    _scan_course(folder, root, files, scan, {})
    _finish_bodies(scan, files)
    _check_unique_ids(scan)
    if scan.has_errors or not scan.courses:
        raise ContentError(scan.problems)
    return scan.courses[0]


def load_tree(root: Path) -> ContentTree:
    """Read every course under ``root/courses``; raise ContentError if any file has an error.

    Warnings (a missing ``estimated_minutes``, a `#` heading in a body…) do not stop
    loading; they are returned on ``ContentTree.warnings``.
    """
    return tree_from_scan(root, scan_tree(root))


def tree_from_scan(root: Path, scan: TreeScan) -> ContentTree:
    """The tree ``scan_tree(root)`` read; raise ContentError if it found any error."""
    if scan.has_errors:
        raise ContentError(scan.problems)
    return ContentTree(
        root=root,
        courses=tuple(scan.courses),
        warnings=tuple(sorted(scan.problems)),
    )
