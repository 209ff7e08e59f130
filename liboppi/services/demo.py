"""Demo data: invented people in real Lapland libraries, one for each role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi.models import Region, Role, User

from . import accounts, orgs
from .accounts import MembershipSpec
from .authz import SYSTEM

#: Demo accounts only; ``flask demo seed`` refuses to run in production.
DEMO_PASSWORD = "liboppi-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    """A printed demo login."""

    email: str
    role: str
    library: str


# Invented people. None of them is a real member of Lapland's library staff.
PEOPLE = [
    ("uusi@kirjasto.example", "Sanni Aaltola", Role.LEARNER, "rovaniemi-main", "asiakaspalvelu"),
    ("oppija@kirjasto.example", "Ville Honkanen", Role.LEARNER, "inari-main", "kirjastovirkailija"),
    (
        "oppija2@kirjasto.example",
        "Elsa Mäkikangas",
        Role.LEARNER,
        "sodankyla-main",
        "kirjastonhoitaja",
    ),
    (
        "koordinaattori@kirjasto.example",
        "Marja Kivelä",
        Role.LIBRARY_COORDINATOR,
        "rovaniemi-main",
        "esihenkilö",
    ),
    (
        "koordinaattori2@kirjasto.example",
        "Pekka Rautio",
        Role.LIBRARY_COORDINATOR,
        "sodankyla-main",
        "esihenkilö",
    ),
    (
        "alue@kirjasto.example",
        "Helmi Saarela",
        Role.REGIONAL_COORDINATOR,
        None,
        "kehittämiskoordinaattori",
    ),
    (
        "toimittaja@kirjasto.example",
        "Oskari Niemelä",
        Role.EDITOR,
        "rovaniemi-main",
        "kirjastonhoitaja",
    ),
    ("admin@kirjasto.example", "Anna Lindqvist", Role.ADMIN, None, "pääkäyttäjä"),
]
# The new employee and the editor also study: everyone who works in a library is a learner.
EXTRA_LEARNER_ROLES = {"toimittaja@kirjasto.example", "koordinaattori@kirjasto.example"}


def seed(session: Session) -> list[DemoLogin]:
    """Create the demo users (once; existing ones are kept) and return their logins."""
    region = session.scalar(select(Region).where(Region.code == "lappi"))
    if region is None:
        raise RuntimeError("load the Lapland organisations before seeding demo users")
    logins = []
    for email, name, role, library_code, job_role in PEOPLE:
        library = orgs.get_library_by_code(session, library_code) if library_code else None
        if session.scalar(select(User).where(User.email == email)) is None:
            specs = [
                MembershipSpec(
                    role=role,
                    library_id=library.id if library else None,
                    region_id=None if library else region.id,
                    job_role=job_role,
                )
            ]
            if email in EXTRA_LEARNER_ROLES and library:
                specs.append(MembershipSpec(Role.LEARNER, library_id=library.id, job_role=job_role))
            user = accounts.create_user(
                session, SYSTEM, email=email, display_name=name, memberships=specs
            )
            user.password_hash = accounts.hash_password(DEMO_PASSWORD)
        logins.append(DemoLogin(email, role.value, library.name_fi if library else region.name_fi))
    session.flush()
    return logins
