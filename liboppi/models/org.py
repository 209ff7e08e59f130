"""Organisations: region (AKE area) → municipality (kunta) → library (kirjasto)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class LibraryKind(enum.StrEnum):
    """Main library, branch (sivukirjasto) or mobile library (kirjastoauto)."""

    MAIN = "main"
    BRANCH = "branch"
    MOBILE = "mobile"


class Region(Base):
    """A region served by one regional development task (alueellinen kehittämistehtävä)."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_fi: Mapped[str] = mapped_column(String(120))
    name_sv: Mapped[str | None] = mapped_column(String(120))
    name_se: Mapped[str | None] = mapped_column(String(120))

    municipalities: Mapped[list[Municipality]] = relationship(
        back_populates="region", order_by="Municipality.name_fi"
    )


class Municipality(Base):
    """A municipality (kunta) that arranges library services."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    name_fi: Mapped[str] = mapped_column(String(120))
    name_sv: Mapped[str | None] = mapped_column(String(120))
    name_se: Mapped[str | None] = mapped_column(String(120))

    region: Mapped[Region] = relationship(back_populates="municipalities")
    libraries: Mapped[list[Library]] = relationship(
        back_populates="municipality", order_by="Library.name_fi"
    )


class Library(Base):
    """A library: a municipality's main library, a branch or a mobile library."""

    __tablename__ = "libraries"
    __table_args__ = (UniqueConstraint("municipality_id", "name_fi"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    kind: Mapped[LibraryKind] = mapped_column(
        Enum(
            LibraryKind,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    name_fi: Mapped[str] = mapped_column(String(160))
    name_sv: Mapped[str | None] = mapped_column(String(160))
    name_se: Mapped[str | None] = mapped_column(String(160))

    municipality: Mapped[Municipality] = relationship(back_populates="libraries")

    def name(self, locale: str) -> str:
        """The library's name in ``locale`` where it has one, else the Finnish name."""
        return {"sv": self.name_sv, "se": self.name_se}.get(locale) or self.name_fi
