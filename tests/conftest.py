"""Shared fixtures: app, client, runner, db_session and factories (as flaskr and Indico).

The database is chosen by ``LIBOPPI_DATABASE_URL`` (default: a fresh SQLite file); it is migrated
once per session with Alembic and emptied after every test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from itertools import count

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from liboppi import clock, create_app, migrate
from liboppi.database import make_engine
from liboppi.models import Base, Library, LibraryKind, Membership, Municipality, Region, Role, User
from liboppi.services import accounts
from tests.web_client import PASSWORD, login


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A migrated, empty database for this test session."""
    url = os.environ.get("LIBOPPI_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """The environment a test app is created with; tests may change it before ``app``."""
    return {
        "LIBOPPI_ENV": "test",
        "LIBOPPI_DATABASE_URL": database_url,
        "LIBOPPI_SECRET_KEY": "test-secret-key",
        "LIBOPPI_XAPI_SENDER": "off",
        "LIBOPPI_BASE_URL": "http://liboppi.test",
        "TESTING": True,
    }


@pytest.fixture
def app(app_config) -> Iterator[Flask]:
    application = create_app(app_config)
    yield application
    engine = application.extensions["liboppi.engine"]
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()
    clock.set_now(None)


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db_session(app) -> Iterator[Session]:
    session = app.extensions["liboppi.sessions"]()
    yield session
    session.rollback()
    session.close()


_numbers = count(1)


@pytest.fixture
def create_library(db_session) -> Callable[..., Library]:
    """Factory: a library (with its municipality and region) committed to the database."""

    def make(name: str | None = None, *, region: Region | None = None) -> Library:
        n = next(_numbers)
        if region is None:
            region = db_session.query(Region).filter_by(code="test-region").one_or_none()
            if region is None:
                region = Region(code="test-region", name_fi="Testialue")
                db_session.add(region)
                db_session.flush()
        municipality = Municipality(code=f"kunta-{n}", region_id=region.id, name_fi=f"Kunta {n}")
        db_session.add(municipality)
        db_session.flush()
        library = Library(
            code=f"kirjasto-{n}",
            municipality_id=municipality.id,
            kind=LibraryKind.MAIN,
            name_fi=name or f"Kirjasto {n}",
        )
        db_session.add(library)
        db_session.commit()
        return library

    return make


@pytest.fixture
def create_user(db_session, create_library) -> Callable[..., User]:
    """Factory: an active user with a password and one role (in a library or the region)."""

    def make(
        role: Role | str = Role.LEARNER,
        *,
        library: Library | None = None,
        email: str | None = None,
        password: str = PASSWORD,
        is_active: bool = True,
    ) -> User:
        role = Role(role)
        n = next(_numbers)
        user = User(
            email=accounts.normalise_email(email or f"user{n}@kirjasto.example"),
            display_name=f"Testi Käyttäjä {n}",
            password_hash=accounts.hash_password(password),
            is_active=is_active,
            created_at=clock.now(),
        )
        if role in (Role.REGIONAL_COORDINATOR, Role.ADMIN):
            region = (library.municipality.region if library else None) or db_session.query(
                Region
            ).filter_by(code="test-region").one_or_none()
            if region is None:
                region = create_library().municipality.region
            user.memberships = [Membership(role=role, region_id=region.id, joined_at=clock.now())]
        else:
            library = library or create_library()
            user.memberships = [Membership(role=role, library_id=library.id, joined_at=clock.now())]
        db_session.add(user)
        db_session.commit()
        return user

    return make


@pytest.fixture
def logged_in(client, create_user) -> Callable[..., User]:
    """Factory: create a user with ``role`` and sign the test client in as them."""

    def make(role: Role | str = Role.LEARNER, **kwargs) -> User:
        user = create_user(role, **kwargs)
        response = login(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return make


@pytest.fixture
def other_process(database_url) -> Iterator[Engine]:
    """Another engine on the same database: its changes are what another process would make."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def statements_run(app) -> Iterator[list[str]]:
    """The first word of every SQL statement the app's engine runs, as it runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    engine = app.extensions["liboppi.engine"]
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)
