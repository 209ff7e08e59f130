"""Course content: courses, modules, their immutable versions, and the images they show.

A module's text is never overwritten: an import of a changed file, a save in the web editor
and a restore each add a ModuleVersion, and ``Module.current_version_id`` points at the
newest. Progress and xAPI statements refer to the stable ids (``stable_id``), never to
titles or file paths.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

#: On PostgreSQL a real ``tsvector`` (``to_tsvector('finnish', …)``); SQLite searches a
#: separate FTS5 table instead (see liboppi.services.search) and leaves this column empty.
SearchVector = Text().with_variant(postgresql.TSVECTOR(), "postgresql")


class Course(Base):
    """A course folder (``courses/<folder>/course.yaml``) as last imported or edited."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    stable_id: Mapped[str] = mapped_column(String(100), unique=True)
    folder: Mapped[str] = mapped_column(String(200))
    #: Catalogue order: the folder order under ``courses/``.
    position: Mapped[int] = mapped_column(default=0)
    language: Mapped[str] = mapped_column(String(5))
    #: Language code → text, e.g. ``{"fi": "Perehdytys…", "en": "Onboarding…"}``.
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    audience: Mapped[list[str]] = mapped_column(JSON)
    job_roles: Mapped[list[str]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON)
    #: Stable ids of the courses to take first.
    prerequisites: Mapped[list[str]] = mapped_column(JSON)
    completion: Mapped[str] = mapped_column(String(40))
    translation_of: Mapped[str | None] = mapped_column(String(100))
    #: The exact text of ``course.yaml``; export writes it back byte for byte. The web
    #: editor rewrites its ``modules:`` list when it adds, moves or archives a module.
    raw_text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: Hash of the ``course.yaml`` last read by an import. A file still at this hash has not
    #: changed since, so an import keeps what the web editor did to the module list.
    imported_hash: Mapped[str | None] = mapped_column(String(64))
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position"
    )

    def title_in(self, language: str) -> str:
        """The title in ``language``, else in the course's own language."""
        return self.title.get(language) or self.title.get(self.language) or self.stable_id

    def description_in(self, language: str) -> str:
        """The description in ``language``, else in the course's own language (or empty)."""
        return self.description.get(language) or self.description.get(self.language) or ""


class Module(Base):
    """A module of a course: a stable id, its place in the course and its current version."""

    __tablename__ = "modules"
    __table_args__ = (Index("ix_modules_course_position", "course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stable_id: Mapped[str] = mapped_column(String(100), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    #: 1-based order within the course; archived modules keep their last position.
    position: Mapped[int]
    #: The file name in the course folder, e.g. ``01-kirjaston-tehtavat.md``.
    file_name: Mapped[str] = mapped_column(String(200))
    #: Removed from ``course.yaml`` (or archived in the editor): kept for progress, not shown.
    is_archived: Mapped[bool] = mapped_column(default=False)
    # use_alter breaks the modules ↔ module_versions cycle; SET NULL lets either go first.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("module_versions.id", use_alter=True, ondelete="SET NULL")
    )
    #: Hash of the file last read by an import: a file still at this hash is older than any
    #: web edit made since, and an import leaves those edits in place.
    imported_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    course: Mapped[Course] = relationship(back_populates="modules")
    current_version: Mapped[ModuleVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    versions: Mapped[list[ModuleVersion]] = relationship(
        back_populates="module",
        foreign_keys="ModuleVersion.module_id",
        order_by="ModuleVersion.number",
    )


class ModuleVersion(Base):
    """One immutable text of a module, rendered once when it was imported or saved."""

    __tablename__ = "module_versions"
    __table_args__ = (
        UniqueConstraint("module_id", "number"),
        Index("ix_module_versions_search_vector", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    number: Mapped[int]
    #: sha256 of the file's UTF-8 bytes: an import with the same hash changes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The exact file text (front matter and body); export writes it back as it is.
    raw_text: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(300))
    estimated_minutes: Mapped[int | None]
    objectives: Mapped[list[str]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON)
    quiz_id: Mapped[str | None] = mapped_column(String(100), index=True)
    language: Mapped[str] = mapped_column(String(5))
    html: Mapped[str] = mapped_column(Text)
    #: ``[{"level": 2, "id": "anchor", "text": "Heading"}, …]``
    toc: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    plain_text: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer)
    search_vector: Mapped[str | None] = mapped_column(SearchVector)
    #: What an import read from the file's text alone (``liboppi.content.loader.ModuleFacts``
    #: as JSON), so that re-importing the unchanged file skips parsing it; None for a
    #: version saved on the web.
    source_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]

    module: Mapped[Module] = relationship(back_populates="versions", foreign_keys=[module_id])


class CourseFile(Base):
    """An image of a course (beside its modules), served with cache headers."""

    __tablename__ = "course_files"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: Path relative to the course folder, e.g. ``kuvat/lapin-kirjastot.png``.
    name: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
