"""Organisation reference data: loading the Lapland region and listing libraries."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi.models import Library, LibraryKind, Municipality, Region


@dataclass(frozen=True)
class LoadSummary:
    """How many rows a load added and updated."""

    added: int
    updated: int


def _upsert(session: Session, model, code: str, values: dict) -> tuple[object, bool, bool]:
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        session.add(row)
        return row, True, False
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return row, False, changed


def load_lapland(session: Session) -> LoadSummary:
    """Load (or update) the Lapland region, its municipalities and main libraries, idempotently."""
    data = yaml.safe_load(
        resources.files("liboppi.data").joinpath("lapland.yaml").read_text("utf-8")
    )
    added = updated = 0
    region_data = data["region"]
    region, was_added, was_changed = _upsert(
        session,
        Region,
        region_data["code"],
        {k: region_data.get(k) for k in ("name_fi", "name_sv", "name_se")},
    )
    added += was_added
    updated += was_changed
    session.flush()
    for item in data["municipalities"]:
        municipality, was_added, was_changed = _upsert(
            session,
            Municipality,
            item["code"],
            {
                "region_id": region.id,
                "name_fi": item["fi"],
                "name_sv": item.get("sv"),
                "name_se": item.get("se"),
            },
        )
        added += was_added
        updated += was_changed
        session.flush()
        library, was_added, was_changed = _upsert(
            session,
            Library,
            f"{item['code']}-main",
            {
                "municipality_id": municipality.id,
                "kind": LibraryKind.MAIN,
                "name_fi": item["library_fi"],
                "name_sv": item.get("library_sv"),
                "name_se": item.get("library_se"),
            },
        )
        added += was_added
        updated += was_changed
    session.flush()
    return LoadSummary(added=added, updated=updated)


@dataclass(frozen=True)
class LibraryChoice:
    """A library as offered in a form: id and display name."""

    id: int
    name: str
    municipality: str


def list_libraries(session: Session, locale: str = "fi") -> list[LibraryChoice]:
    """All libraries, ordered by municipality and name, for choosing in forms."""
    rows = session.execute(
        select(Library, Municipality)
        .join(Municipality, Library.municipality_id == Municipality.id)
        .order_by(Municipality.name_fi, Library.name_fi)
    ).all()
    return [LibraryChoice(lib.id, lib.name(locale), mun.name_fi) for lib, mun in rows]


def list_regions(session: Session) -> list[Region]:
    """All regions."""
    return list(session.scalars(select(Region).order_by(Region.name_fi)))


def get_library_by_code(session: Session, code: str) -> Library | None:
    """The library with ``code`` (e.g. ``rovaniemi-main``), or None."""
    return session.scalar(select(Library).where(Library.code == code))
