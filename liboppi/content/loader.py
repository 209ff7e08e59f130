"""Loading course folders (``courses/<folder>/course.yaml`` and its modules) into memory.

Reading never stops at the first mistake: every file is read and every problem collected,
then the caller gets either the whole tree or a ContentError listing all of them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from liboppi.content.body_checks import check_body
from liboppi.content.frontmatter import ModuleMeta, parse_module_meta, split_front_matter
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


def _read_module(
    path: Path,
    root: Path,
    *,
    position: int,
    course_language: str | None,
    files: _RepositoryFiles,
) -> tuple[ModuleSource | None, list[Problem]]:
    """Read one module file and return it with every problem found in it.

    The module is returned even when its body has errors, so that the checker can still
    compare its id and quiz; it is None only when the front matter cannot be read.
    """
    relative = _relative(path, root)
    try:
        data, text = _read_text(path, relative)
        split = split_front_matter(text, relative)
    except ContentError as exc:
        return None, exc.problems
    problems: list[Problem] = []
    meta: ModuleMeta | None = None
    try:
        meta, warnings = parse_module_meta(split, relative)
        problems.extend(warnings)
    except ContentError as exc:
        problems.extend(exc.problems)
    report = check_body(relative, split, file_exists=files)
    problems.extend(report.problems)
    if meta is None:
        return None, problems
    module = ModuleSource(
        meta=meta,
        body=split.body,
        body_line=split.body_line,
        raw_text=text,
        content_hash=hashlib.sha256(data).hexdigest(),
        path=relative,
        position=position,
        language=meta.lang or course_language or LANGUAGES[0],
        images=report.images,
    )
    return module, problems


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
        module, problems = _read_module(
            module_path,
            root,
            position=len(modules) + 1,
            course_language=values.language,
            files=files,
        )
        scan.problems.extend(problems)
        if module is not None:
            modules.append(module)
    return modules


def _scan_course(folder: Path, root: Path, files: _RepositoryFiles, scan: TreeScan) -> None:
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
        modules = _scan_listed_modules(folder, root, values, mapping, files, scan)
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
        _, problems = _read_module(module_path, root, position=0, course_language=None, files=files)
        scan.problems.extend(problems)

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


def scan_tree(root: Path) -> TreeScan:
    """Read every course under ``root/courses`` and collect all problems, without raising."""
    scan = TreeScan()
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
        _scan_course(folder, root, files, scan)
    _check_unique_ids(scan)
    _check_course_references(scan)
    return scan


def load_course(folder: Path, root: Path) -> CourseSource:
    """Read one course folder and its listed modules; raise ContentError listing every error.

    Cross-course checks (duplicate ids in other courses, prerequisites) need the whole tree
    and are made by ``load_tree``.
    """
    scan = TreeScan()
    _scan_course(folder, root, _RepositoryFiles(root), scan)
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
