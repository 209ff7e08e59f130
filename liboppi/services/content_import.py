"""Importing the course tree from files into the database, idempotently, with versions.

``import_tree`` takes a ContentTree that ``load_tree`` read (and the checker passed) and
brings the database in line with it in the caller's transaction: an unchanged module (same
content hash) is skipped, a changed one gets a new ModuleVersion (old versions stay, and
progress keeps pointing at the version it used), a module no longer listed is archived,
never deleted. Anything wrong raises ContentError listing every problem, so that the
caller rolls the whole run back.

Every version is rendered here, once; pages never render Markdown per request.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from liboppi import clock
from liboppi.content.body_checks import resolve_relative
from liboppi.content.frontmatter import ModuleMeta, parse_module_meta, split_front_matter
from liboppi.content.loader import (
    COURSE_FILE,
    COURSES_DIR,
    ContentTree,
    CourseSource,
    ModuleSource,
)
from liboppi.content.problems import ContentError, Problem
from liboppi.content.render import render_markdown
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
    path = module_path(course, module.file_name)
    if parsed is None:
        parsed = parse_module_text(path, raw_text)
    language = parsed.meta.lang or course.language
    rendered = render_body(
        parsed.body,
        course_stable_id=course.stable_id,
        language=language,
        path=path,
        targets=targets,
        site_host=site_host,
    )
    previous = module.current_version.number if module.current_version is not None else 0
    if module.id is not None:
        highest = session.scalar(
            select(ModuleVersion.number)
            .where(ModuleVersion.module_id == module.id)
            .order_by(ModuleVersion.number.desc())
            .limit(1)
        )
        previous = max(previous, highest or 0)
    version = ModuleVersion(
        module=module,
        number=previous + 1,
        content_hash=hashlib.sha256(raw_text.encode("utf-8")).hexdigest(),
        raw_text=raw_text,
        title=parsed.meta.title,
        estimated_minutes=parsed.meta.estimated_minutes,
        objectives=list(parsed.meta.objectives),
        tags=list(parsed.meta.tags),
        quiz_id=parsed.meta.quiz,
        language=language,
        html=rendered.html,
        toc=[{"level": e.level, "id": e.id, "text": e.text} for e in rendered.toc],
        plain_text=rendered.plain_text,
        word_count=rendered.word_count,
        author_id=author_id,
        message=message[:500],
        created_at=clock.now(),
    )
    search.set_search_vector(session, version)
    session.add(version)
    session.flush()
    module.current_version = version
    module.updated_at = version.created_at
    session.flush()
    return version


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
    targets: LinkTargets,
    site_host: str | None,
    summary: ImportSummary,
) -> Module:
    """Create, update or skip one module; count what happened in ``summary``."""
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
        session.flush()
        summary.added += 1
        is_new_text = True
    else:
        module = existing
        moved = False
        relisted = False
        if not course_is_stale:
            moved = module.course_id != course.id
            relisted = module.is_archived
            module.course = course
            module.position = source.position
            module.file_name = file_name
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
    module.imported_hash = source.content_hash
    if is_new_text:
        add_version(
            session,
            module,
            course,
            source.raw_text,
            targets=targets,
            site_host=site_host,
            message="import",
            parsed=ParsedModule(source.meta, source.body),
        )
    return module


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
    modules = {
        m.stable_id: m
        for m in session.scalars(select(Module).options(selectinload(Module.current_version)))
    }
    seen_modules: set[str] = set()
    seen_courses: set[str] = set()
    stale_courses: set[int] = set()
    touched: list[Module] = []
    for position, source in enumerate(tree.courses, start=1):
        course, is_stale = _apply_course(session, source, position)
        seen_courses.add(course.stable_id)
        if is_stale:
            stale_courses.add(course.id)
        _upsert_images(session, course, images_by_course[source.id], summary)
        for module_source in source.modules:
            seen_modules.add(module_source.meta.id)
            before = modules.get(module_source.meta.id)
            version_before = before.current_version_id if before is not None else None
            archived_before = before.is_archived if before is not None else None
            module = _import_module(
                session,
                course,
                module_source,
                before,
                course_is_stale=is_stale,
                targets=targets,
                site_host=site_host,
                summary=summary,
            )
            modules[module.stable_id] = module
            if (module.current_version_id, module.is_archived) != (version_before, archived_before):
                touched.append(module)
            if progress is not None:
                progress()

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
    search.index_modules(session, touched)
    return summary
