"""The web editor: edit, preview, save, compare and restore module versions; manage a course.

Every change is checked with the same checker as ``flask content check`` (``check_text``)
before anything is written, and every save adds a ModuleVersion with its author, time and
message. A save names the version it was based on: if someone saved in between, the save
is refused with a Conflict carrying both texts, so nothing is overwritten silently.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.content.frontmatter import parse_module_meta, split_front_matter, split_lines
from liboppi.content.lint import check_text
from liboppi.content.loader import COURSES_DIR
from liboppi.content.problems import ContentError, Problem
from liboppi.content.render import slugify
from liboppi.content.yaml_source import ID_PATTERN, LANGUAGES
from liboppi.models import Course, CourseFile, Module, ModuleVersion, User

from . import search
from .authz import Action, Principal, require
from .content_import import (
    IMAGE_TYPES,
    MAX_IMAGE_BYTES,
    add_version,
    detect_image_type,
    link_targets_in_database,
    module_path,
    render_body,
)
from .errors import Conflict, Invalid, NotFound

MAX_MESSAGE_LENGTH = 500
DIFF_CONTEXT = 3
_EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp"}


class InvalidContent(Invalid):
    """The module text breaks the content rules; ``problems`` says where (file lines)."""

    def __init__(self, problems: Sequence[Problem], *, body_line: int | None, text: str) -> None:
        super().__init__("invalid_content", "body")
        self.problems = list(problems)
        #: The file text that was checked (problem lines refer to it).
        self.text = text
        #: The file line on which the body textarea's first line is (for line numbers).
        self.body_line = body_line


class LinkedModule(Invalid):
    """Archiving would break links to the module from other modules (``titles``)."""

    def __init__(self, titles: Sequence[str]) -> None:
        super().__init__("linked_module", None)
        self.titles = list(titles)


class EditConflict(Conflict):
    """Someone saved the module after the version the editor started from."""

    def __init__(self, current: RevisionInfo, current_text: str, typed_text: str) -> None:
        super().__init__("edit_conflict")
        self.current = current
        self.current_text = current_text
        self.typed_text = typed_text


@dataclass(frozen=True)
class ModuleFields:
    """The front matter as typed in the editor's fields (text, not yet checked)."""

    title: str = ""
    estimated_minutes: str = ""
    objectives: str = ""
    tags: str = ""
    quiz: str = ""
    lang: str = ""

    def objective_list(self) -> list[str]:
        """One objective per non-empty line."""
        return [line.strip() for line in self.objectives.splitlines() if line.strip()]

    def tag_list(self) -> list[str]:
        """Tags separated by commas or spaces."""
        return [tag for tag in re.split(r"[,\s]+", self.tags.strip()) if tag]


@dataclass(frozen=True)
class RevisionInfo:
    """One saved version in the revision list."""

    number: int
    author: str | None
    message: str
    created_at: datetime
    word_count: int
    content_hash: str


@dataclass(frozen=True)
class EditorModule:
    """A module as the editor form starts from: its current version split into fields."""

    id: str
    course_id: str
    course_title: str
    file_name: str
    path: str
    is_archived: bool
    version: int
    raw_text: str
    fields: ModuleFields
    body: str
    body_line: int
    title: str


@dataclass(frozen=True)
class EditorModuleEntry:
    """A module in the editor's course page."""

    id: str
    title: str
    file_name: str
    position: int
    version: int
    is_archived: bool


@dataclass(frozen=True)
class EditorCourse:
    """A course in the editor: its modules (archived ones last) and its images."""

    id: str
    title: dict[str, str]
    language: str
    folder: str
    modules: tuple[EditorModuleEntry, ...]
    archived: tuple[EditorModuleEntry, ...]
    files: tuple[str, ...]

    def title_in(self, language: str) -> str:
        """The title in ``language``, else in the course's own language."""
        return self.title.get(language) or self.title.get(self.language) or self.id


@dataclass(frozen=True)
class Preview:
    """A rendered preview and the checker's findings for the typed text."""

    html: str
    problems: tuple[Problem, ...]
    body_line: int | None
    #: The file text that was checked (problem lines refer to it).
    text: str

    @property
    def has_errors(self) -> bool:
        """Tell whether any problem is an error (saving would be refused)."""
        return any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class DiffLine:
    """One line of a comparison: ``kind`` is equal, insert or delete."""

    kind: str
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class Diff:
    """Two versions compared: hunks of changed lines with a little context."""

    old: RevisionInfo
    new: RevisionInfo
    hunks: tuple[tuple[DiffLine, ...], ...]
    added: int
    removed: int


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the version now current, and whether the text changed at all."""

    version: int
    changed: bool


# -- Reading --------------------------------------------------------------------------------


def known_quiz_ids(quiz_root: Path) -> set[str]:
    """The quiz ids a module may name: quiz file names are their ids (``<quiz-id>.md``)."""
    if not quiz_root.is_dir():
        return set()
    return {path.stem for path in quiz_root.rglob("*.md") if not path.name.startswith(".")}


def _get_course(session: Session, course_id: str) -> Course:
    course = session.scalar(select(Course).filter_by(stable_id=course_id))
    if course is None or course.is_archived:
        raise NotFound(course_id)
    return course


def _get_module(session: Session, module_id: str, *, lock: bool = False) -> Module:
    query = select(Module).filter_by(stable_id=module_id)
    if lock:
        query = query.with_for_update()
    module = session.scalar(query)
    if module is None or module.current_version is None or module.course.is_archived:
        raise NotFound(module_id)
    return module


def _get_version(session: Session, module: Module, number: int) -> ModuleVersion:
    version = session.scalar(select(ModuleVersion).filter_by(module_id=module.id, number=number))
    if version is None:
        raise NotFound(f"{module.stable_id}@{number}")
    return version


def _fields_from_text(raw_text: str, path: str) -> tuple[ModuleFields, str, int]:
    split = split_front_matter(raw_text, path)
    meta, _ = parse_module_meta(split, path)
    fields = ModuleFields(
        title=meta.title,
        estimated_minutes=str(meta.estimated_minutes) if meta.estimated_minutes else "",
        objectives="\n".join(meta.objectives),
        tags=", ".join(meta.tags),
        quiz=meta.quiz or "",
        lang=meta.lang or "",
    )
    return fields, split.body, split.body_line


def list_courses(session: Session, principal: Principal) -> list[EditorCourse]:
    """Every current course with its modules, for the editor's front page."""
    require(principal, Action.EDIT_CONTENT)
    courses = session.scalars(
        select(Course).where(Course.is_archived.is_(False)).order_by(Course.position)
    )
    return [_editor_course(session, course) for course in courses]


def get_course(session: Session, principal: Principal, course_id: str) -> EditorCourse:
    """A course with its modules and images, for the editor."""
    require(principal, Action.EDIT_CONTENT)
    return _editor_course(session, _get_course(session, course_id))


def _editor_course(session: Session, course: Course) -> EditorCourse:
    rows = session.execute(
        select(Module, ModuleVersion)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .where(Module.course_id == course.id)
        .order_by(Module.position, Module.id)
    ).all()
    entries = [
        EditorModuleEntry(
            id=m.stable_id,
            title=v.title,
            file_name=m.file_name,
            position=m.position,
            version=v.number,
            is_archived=m.is_archived,
        )
        for m, v in rows
    ]
    files = session.scalars(
        select(CourseFile.name).filter_by(course_id=course.id).order_by(CourseFile.name)
    )
    return EditorCourse(
        id=course.stable_id,
        title=dict(course.title),
        language=course.language,
        folder=course.folder,
        modules=tuple(e for e in entries if not e.is_archived),
        archived=tuple(e for e in entries if e.is_archived),
        files=tuple(files),
    )


def get_module(
    session: Session, principal: Principal, module_id: str, *, version: int | None = None
) -> EditorModule:
    """A module's current (or given) version split into the editor's fields and body."""
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id)
    row = module.current_version if version is None else _get_version(session, module, version)
    assert row is not None
    path = module_path(module.course, module.file_name)
    fields, body, body_line = _fields_from_text(row.raw_text, path)
    return EditorModule(
        id=module.stable_id,
        course_id=module.course.stable_id,
        course_title=module.course.title_in(module.course.language),
        file_name=module.file_name,
        path=path,
        is_archived=module.is_archived,
        version=row.number,
        raw_text=row.raw_text,
        fields=fields,
        body=body,
        body_line=body_line,
        title=row.title,
    )


def _revision(version: ModuleVersion, authors: dict[int, str]) -> RevisionInfo:
    return RevisionInfo(
        number=version.number,
        author=authors.get(version.author_id) if version.author_id else None,
        message=version.message,
        created_at=version.created_at,
        word_count=version.word_count,
        content_hash=version.content_hash,
    )


def _authors(session: Session, versions: Collection[ModuleVersion]) -> dict[int, str]:
    ids = {v.author_id for v in versions if v.author_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def list_revisions(session: Session, principal: Principal, module_id: str) -> list[RevisionInfo]:
    """Every version of a module, newest first."""
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id)
    versions = list(
        session.scalars(
            select(ModuleVersion)
            .filter_by(module_id=module.id)
            .order_by(ModuleVersion.number.desc())
        )
    )
    authors = _authors(session, versions)
    return [_revision(v, authors) for v in versions]


def diff_lines(old_text: str, new_text: str) -> tuple[tuple[tuple[DiffLine, ...], ...], int, int]:
    """Compare two texts line by line: hunks with context, and the lines added and removed."""
    old_lines = [line.rstrip("\r\n") for line in split_lines(old_text)]
    new_lines = [line.rstrip("\r\n") for line in split_lines(new_text)]
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    hunks: list[tuple[DiffLine, ...]] = []
    added = removed = 0
    for group in matcher.get_grouped_opcodes(DIFF_CONTEXT):
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for offset, text in enumerate(old_lines[i1:i2]):
                    lines.append(DiffLine("equal", i1 + offset + 1, j1 + offset + 1, text))
                continue
            if tag in ("replace", "delete"):
                for offset, text in enumerate(old_lines[i1:i2]):
                    lines.append(DiffLine("delete", i1 + offset + 1, None, text))
                    removed += 1
            if tag in ("replace", "insert"):
                for offset, text in enumerate(new_lines[j1:j2]):
                    lines.append(DiffLine("insert", None, j1 + offset + 1, text))
                    added += 1
        hunks.append(tuple(lines))
    return tuple(hunks), added, removed


def diff_versions(
    session: Session, principal: Principal, module_id: str, old: int, new: int
) -> Diff:
    """Compare two versions of a module (any two, in either order)."""
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id)
    old_version = _get_version(session, module, old)
    new_version = _get_version(session, module, new)
    authors = _authors(session, [old_version, new_version])
    hunks, added, removed = diff_lines(old_version.raw_text, new_version.raw_text)
    return Diff(
        _revision(old_version, authors), _revision(new_version, authors), hunks, added, removed
    )


# -- Composing and checking -----------------------------------------------------------------


def _scalar(value: str | int) -> str:
    """A YAML scalar written so that it reads back as the same value."""
    dumped = yaml.safe_dump([value], allow_unicode=True, default_flow_style=True, width=10**6)
    return dumped.strip()[1:-1]


def _front_matter(module_id: str, fields: ModuleFields, newline: str) -> str:
    lines = ["---", f"id: {module_id}", f"title: {_scalar(fields.title.strip())}"]
    minutes = fields.estimated_minutes.strip()
    if minutes:
        lines.append(f"estimated_minutes: {minutes if minutes.isdigit() else _scalar(minutes)}")
    objectives = fields.objective_list()
    if objectives:
        lines.append("objectives:")
        lines.extend(f"  - {_scalar(objective)}" for objective in objectives)
    tags = fields.tag_list()
    if tags:
        lines.append(f"tags: [{', '.join(_scalar(tag) for tag in tags)}]")
    if fields.quiz.strip():
        lines.append(f"quiz: {_scalar(fields.quiz.strip())}")
    if fields.lang.strip():
        lines.append(f"lang: {_scalar(fields.lang.strip())}")
    lines.append("---")
    return newline.join(lines) + newline


def normalise_newlines(text: str) -> str:
    """Turn the CRLF line breaks a browser sends into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def compose_text(
    module_id: str, fields: ModuleFields, body: str, *, base_text: str | None, path: str
) -> str:
    """The file text for the typed fields and body.

    When the fields say the same as ``base_text``'s front matter, its front matter is kept
    as written (comments, order and quoting stay byte for byte); line breaks follow the
    base text's style.
    """
    newline = "\r\n" if base_text is not None and "\r\n" in base_text else "\n"
    body = normalise_newlines(body)
    if newline != "\n":
        body = body.replace("\n", newline)
    if base_text is not None:
        try:
            base_fields, base_body, _ = _fields_from_text(base_text, path)
        except ContentError:
            base_fields, base_body = None, ""
        if base_fields is not None and _same_fields(base_fields, fields):
            header = base_text[: len(base_text) - len(base_body)]
            return header + body
    return _front_matter(module_id, fields, newline) + body


def _same_fields(a: ModuleFields, b: ModuleFields) -> bool:
    return (
        a.title.strip() == b.title.strip()
        and a.estimated_minutes.strip() == b.estimated_minutes.strip()
        and a.objective_list() == b.objective_list()
        and a.tag_list() == b.tag_list()
        and a.quiz.strip() == b.quiz.strip()
        and a.lang.strip() == b.lang.strip()
    )


def _known_files(session: Session) -> set[str]:
    files = set(link_targets_in_database(session))
    rows = session.execute(
        select(Course.folder, CourseFile.name).join(CourseFile, CourseFile.course_id == Course.id)
    )
    files.update(f"{COURSES_DIR}/{folder}/{name}" for folder, name in rows)
    return files


def _body_line(text: str, path: str) -> int | None:
    try:
        return split_front_matter(text, path).body_line
    except ContentError:
        return None


def check_module_text(
    session: Session,
    path: str,
    text: str,
    *,
    quiz_ids: Collection[str] | None,
    previous_id: str | None,
) -> list[Problem]:
    """Check a module text as ``flask content check`` would, against the database's files."""
    return check_text(
        path,
        text,
        known_quiz_ids=quiz_ids,
        known_module_files=_known_files(session),
        previous_id=previous_id,
    )


def preview_module(
    session: Session,
    principal: Principal,
    module_id: str,
    fields: ModuleFields,
    body: str,
    *,
    base_version: int | None,
    quiz_ids: Collection[str] | None,
    site_host: str | None,
) -> Preview:
    """Render the typed text as the module page would show it, with the checker's findings."""
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id)
    base = _base_text(session, module, base_version)
    path = module_path(module.course, module.file_name)
    text = compose_text(module.stable_id, fields, body, base_text=base, path=path)
    problems = check_module_text(
        session, path, text, quiz_ids=quiz_ids, previous_id=module.stable_id
    )
    language = fields.lang.strip() if fields.lang.strip() in LANGUAGES else module.course.language
    rendered = render_body(
        normalise_newlines(body),
        course_stable_id=module.course.stable_id,
        language=language,
        path=path,
        targets=link_targets_in_database(session),
        site_host=site_host,
    )
    return Preview(rendered.html, tuple(problems), _body_line(text, path), text)


def _base_text(session: Session, module: Module, base_version: int | None) -> str:
    if base_version is not None:
        found = session.scalar(
            select(ModuleVersion).filter_by(module_id=module.id, number=base_version)
        )
        if found is not None:
            return found.raw_text
    assert module.current_version is not None
    return module.current_version.raw_text


# -- Writing --------------------------------------------------------------------------------


def save_module(
    session: Session,
    principal: Principal,
    module_id: str,
    fields: ModuleFields,
    body: str,
    *,
    base_version: int,
    message: str,
    quiz_ids: Collection[str] | None,
    site_host: str | None,
) -> SaveResult:
    """Save the typed text as the module's next version.

    Raises EditConflict if the current version is not ``base_version`` (someone saved in
    between) and InvalidContent if the checker finds errors; nothing is written then.
    """
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id, lock=True)
    current = module.current_version
    assert current is not None
    path = module_path(module.course, module.file_name)
    base = _base_text(session, module, base_version)
    text = compose_text(module.stable_id, fields, body, base_text=base, path=path)
    if current.number != base_version:
        authors = _authors(session, [current])
        raise EditConflict(_revision(current, authors), current.raw_text, text)
    if text == current.raw_text:
        return SaveResult(current.number, changed=False)
    problems = check_module_text(
        session, path, text, quiz_ids=quiz_ids, previous_id=module.stable_id
    )
    if any(p.severity == "error" for p in problems):
        raise InvalidContent(problems, body_line=_body_line(text, path), text=text)
    version = add_version(
        session,
        module,
        module.course,
        text,
        targets=link_targets_in_database(session),
        site_host=site_host,
        author_id=principal.user_id or None,
        message=message.strip()[:MAX_MESSAGE_LENGTH],
    )
    search.index_module(session, module)
    return SaveResult(version.number, changed=True)


def restore_version(
    session: Session,
    principal: Principal,
    module_id: str,
    number: int,
    *,
    base_version: int,
    message: str,
    site_host: str | None,
) -> SaveResult:
    """Make an old version's text current again, as a new version (history is kept)."""
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id, lock=True)
    current = module.current_version
    assert current is not None
    old = _get_version(session, module, number)
    if current.number != base_version:
        authors = _authors(session, [current])
        raise EditConflict(_revision(current, authors), current.raw_text, old.raw_text)
    if old.raw_text == current.raw_text:
        return SaveResult(current.number, changed=False)
    version = add_version(
        session,
        module,
        module.course,
        old.raw_text,
        targets=link_targets_in_database(session),
        site_host=site_host,
        author_id=principal.user_id or None,
        message=(message.strip() or f"restore {number}")[:MAX_MESSAGE_LENGTH],
    )
    search.index_module(session, module)
    return SaveResult(version.number, changed=True)


def _file_name(course: Course, position: int, module_id: str) -> str:
    taken = {m.file_name for m in course.modules}
    slug = module_id.removeprefix(f"{course.stable_id}-") or module_id
    slug = slugify(slug)
    name = f"{position:02d}-{slug}.md"
    counter = 2
    while name in taken:
        name = f"{position:02d}-{slug}-{counter}.md"
        counter += 1
    return name


def create_module(
    session: Session,
    principal: Principal,
    course_id: str,
    module_id: str,
    fields: ModuleFields,
    body: str,
    *,
    message: str,
    quiz_ids: Collection[str] | None,
    site_host: str | None,
) -> str:
    """Add a new module at the end of a course; return its id.

    Raises Invalid (field ``module_id``) for a bad or taken id and InvalidContent when the
    checker finds errors in the text.
    """
    require(principal, Action.EDIT_CONTENT)
    course = _get_course(session, course_id)
    module_id = module_id.strip()
    if not ID_PATTERN.match(module_id) or len(module_id) > 100:
        raise Invalid("invalid_id", "module_id")
    if session.scalar(select(Module.id).filter_by(stable_id=module_id)) is not None:
        raise Invalid("id_taken", "module_id")
    active = [m for m in course.modules if not m.is_archived]
    position = 1 + max((m.position for m in active), default=0)
    file_name = _file_name(course, len(active) + 1, module_id)
    path = module_path(course, file_name)
    text = compose_text(module_id, fields, body, base_text=None, path=path)
    problems = check_module_text(session, path, text, quiz_ids=quiz_ids, previous_id=None)
    if any(p.severity == "error" for p in problems):
        raise InvalidContent(problems, body_line=_body_line(text, path), text=text)
    now = clock.now()
    module = Module(
        stable_id=module_id,
        course=course,
        position=position,
        file_name=file_name,
        is_archived=False,
        created_at=now,
        updated_at=now,
    )
    session.add(module)
    session.flush()
    add_version(
        session,
        module,
        course,
        text,
        targets=link_targets_in_database(session),
        site_host=site_host,
        author_id=principal.user_id or None,
        message=message.strip()[:MAX_MESSAGE_LENGTH],
    )
    _renumber(course)
    rewrite_module_list(course)
    search.index_module(session, module)
    return module_id


def _renumber(course: Course) -> None:
    active = sorted((m for m in course.modules if not m.is_archived), key=lambda m: m.position)
    for index, module in enumerate(active, start=1):
        module.position = index


def move_module(session: Session, principal: Principal, module_id: str, offset: int) -> None:
    """Move a module up (-1) or down (+1) in its course's order."""
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id)
    if module.is_archived:
        raise Invalid("archived", None)
    course = module.course
    _renumber(course)
    active = sorted((m for m in course.modules if not m.is_archived), key=lambda m: m.position)
    index = active.index(module)
    target = index + (1 if offset > 0 else -1)
    if not 0 <= target < len(active):
        return
    active[index], active[target] = active[target], active[index]
    for position, item in enumerate(active, start=1):
        item.position = position
        item.updated_at = clock.now()
    rewrite_module_list(course)


def set_archived(session: Session, principal: Principal, module_id: str, archived: bool) -> None:
    """Archive a module (hidden from learners, kept with its progress) or bring it back.

    Archiving is refused (LinkedModule) while other current modules link to it, because
    the exported files would then fail the check.
    """
    require(principal, Action.EDIT_CONTENT)
    module = _get_module(session, module_id)
    if module.is_archived == archived:
        return
    course = module.course
    if not archived:
        taken = {m.file_name for m in course.modules if not m.is_archived}
        if module.file_name in taken:
            raise Invalid("file_name_taken", None)
        module.position = 1 + max(
            (m.position for m in course.modules if not m.is_archived), default=0
        )
    else:
        linking = _modules_linking_to(session, module)
        if linking:
            raise LinkedModule(linking)
    module.is_archived = archived
    module.updated_at = clock.now()
    _renumber(course)
    rewrite_module_list(course)
    search.index_module(session, module)


def _modules_linking_to(session: Session, module: Module) -> list[str]:
    """Titles of current modules whose links would break if ``module`` were archived."""
    target = module_path(module.course, module.file_name)
    known = _known_files(session) - {target}
    rows = session.execute(
        select(Module, ModuleVersion, Course)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .join(Course, Course.id == Module.course_id)
        .where(Module.is_archived.is_(False), Module.id != module.id)
        .order_by(Course.position, Module.position)
    ).all()
    titles = []
    for other, version, course in rows:
        if module.file_name not in version.raw_text:
            continue  # cheap filter: a link names the file
        problems = check_text(
            module_path(course, other.file_name),
            version.raw_text,
            known_quiz_ids=None,
            known_module_files=known,
        )
        if any(p.severity == "error" and f"`{target}`" in p.message for p in problems):
            titles.append(version.title)
    return titles


_MODULES_KEY = re.compile(r"^modules[ \t]*:(?P<rest>.*)$")


def replace_module_list(yaml_text: str, file_names: Sequence[str]) -> str:
    """Rewrite the ``modules:`` list of a ``course.yaml`` text, keeping every other line."""
    newline = "\r\n" if "\r\n" in yaml_text else "\n"
    lines = split_lines(yaml_text)
    start = next(
        (i for i, line in enumerate(lines) if _MODULES_KEY.match(line.rstrip("\r\n"))), None
    )
    block = ["modules:" + newline] + [f"  - {_scalar(name)}{newline}" for name in file_names]
    if not file_names:
        block = ["modules: []" + newline]
    if start is None:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        return "".join(lines + block)
    rest = _MODULES_KEY.match(lines[start].rstrip("\r\n")).group("rest").strip()
    if rest.startswith("#"):
        block[0] = f"modules:  {rest}{newline}" if file_names else block[0]
    end = start + 1
    last = start
    while end < len(lines):
        line = lines[end]
        if not line.strip() or (line[0] in " \t" and line.lstrip().startswith("#")):
            end += 1
            continue
        if line[0] in " \t-]":
            last = end
            end += 1
            continue
        break
    if not lines[last].endswith(("\n", "\r")):
        block[-1] = block[-1].rstrip("\r\n")
    return "".join(lines[:start] + block + lines[last + 1 :])


def rewrite_module_list(course: Course) -> None:
    """Make ``course.yaml``'s text list the course's current modules in their order."""
    names = [
        m.file_name for m in sorted(course.modules, key=lambda m: m.position) if not m.is_archived
    ]
    text = replace_module_list(course.raw_text, names)
    try:
        parsed = yaml.safe_load(text)
        listed = parsed.get("modules") if isinstance(parsed, dict) else None
    except yaml.YAMLError:
        listed = None
    if listed != names and not (listed is None and not names):
        # An unusual layout the line edit could not follow: write the mapping anew.
        data = yaml.safe_load(course.raw_text) or {}
        data["modules"] = names
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)
    course.raw_text = text
    course.content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    course.updated_at = clock.now()


def _clean_file_name(name: str, kind: str) -> str:
    stem = PurePosixPath(name.replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    slug = slugify(stem) if stem else "kuva"
    return f"{slug}{_EXTENSIONS[kind]}"


def upload_image(
    session: Session, principal: Principal, course_id: str, file_name: str, data: bytes
) -> str:
    """Store an uploaded image beside a course's modules; return its name in the folder.

    Only PNG, JPEG, GIF and WebP (recognised by their contents) up to 2 MB are taken; an
    image with the same name is replaced (its old bytes were exported or are in git).
    """
    require(principal, Action.EDIT_CONTENT)
    course = _get_course(session, course_id)
    if not data:
        raise Invalid("empty_file", "image")
    if len(data) > MAX_IMAGE_BYTES:
        raise Invalid("image_too_large", "image")
    kind = detect_image_type(data)
    if kind is None:
        raise Invalid("not_an_image", "image")
    name = _clean_file_name(file_name or "kuva", kind)
    now = clock.now()
    row = session.scalar(select(CourseFile).filter_by(course_id=course.id, name=name))
    if row is None:
        row = CourseFile(course_id=course.id, name=name, created_at=now)
        session.add(row)
    row.data = data
    row.content_type = IMAGE_TYPES[kind]
    row.content_hash = hashlib.sha256(data).hexdigest()
    row.size = len(data)
    row.uploaded_by_id = principal.user_id or None
    row.updated_at = now
    session.flush()
    return name
