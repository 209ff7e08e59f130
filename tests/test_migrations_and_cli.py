"""Migrations both ways, configuration refusals, and the command line."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import inspect

from liboppi import create_app, migrate
from liboppi.config import ConfigError
from liboppi.database import make_engine
from liboppi.models import Base, Library, Municipality, Region, Role, User


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.fixture
def scratch_url(tmp_path):
    """A database of its own for migration tests (a separate schema on PostgreSQL)."""
    url = os.environ.get("LIBOPPI_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    from sqlalchemy import text

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_test CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_test"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options=-csearch_path%3Dmigration_test"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA migration_test CASCADE"))
    engine.dispose()


def test_upgrade_from_empty_creates_every_model_table(scratch_url):
    assert migrate.current(scratch_url) is None
    migrate.upgrade(scratch_url)
    assert _tables(scratch_url) == set(Base.metadata.tables)


def test_downgrade_to_base_and_upgrade_again_round_trips(scratch_url):
    migrate.upgrade(scratch_url)
    migrate.downgrade(scratch_url, "base")
    assert _tables(scratch_url) == set()
    migrate.upgrade(scratch_url)
    assert _tables(scratch_url) == set(Base.metadata.tables)


def test_migrations_match_the_models(scratch_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migrate.upgrade(scratch_url)
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="LIBOPPI_SECRET_KEY"):
        create_app(
            {
                "LIBOPPI_ENV": "production",
                "LIBOPPI_SECRET_KEY": "",
                "LIBOPPI_DATABASE_URL": "sqlite://",
            }
        )


def test_production_refuses_to_start_without_database_url(monkeypatch):
    monkeypatch.delenv("LIBOPPI_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="LIBOPPI_DATABASE_URL"):
        create_app({"LIBOPPI_ENV": "production", "LIBOPPI_SECRET_KEY": "x"})


def test_orgs_load_is_idempotent_and_has_21_municipalities(runner, db_session):
    first = runner.invoke(args=["orgs", "load"])
    assert first.exit_code == 0, first.output
    assert "43 added" in first.output
    second = runner.invoke(args=["orgs", "load"])
    assert "0 added, 0 updated" in second.output
    region = db_session.query(Region).filter_by(code="lappi").one()
    names = {m.name_fi for m in db_session.query(Municipality).filter_by(region_id=region.id)}
    assert len(names) == 21 and {"Utsjoki", "Enontekiö", "Ylitornio"} <= names
    inari = db_session.query(Municipality).filter_by(code="inari").one()
    assert (inari.name_sv, inari.name_se) == ("Enare", "Anár")
    assert db_session.query(Library).count() == 21


def test_users_create_prints_a_set_password_link(runner, db_session):
    runner.invoke(args=["orgs", "load"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Uusi@Kirjasto.example",
            "--library",
            "kemi-main",
            "--role",
            "library_coordinator",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "/set-password/" in result.output
    user = db_session.query(User).filter_by(email="uusi@kirjasto.example").one()
    assert user.memberships[0].role == Role.LIBRARY_COORDINATOR
    assert user.memberships[0].library.code == "kemi-main"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--email", "a@kirjasto.example", "--library", "nowhere"], "unknown library 'nowhere'"),
        (["--email", "a@kirjasto.example"], "--library is required"),
        (["--email", "not-an-email", "--library", "kemi-main"], "invalid_email"),
    ],
)
def test_users_create_bad_input_is_one_line_with_exit_code_2(runner, args, message):
    runner.invoke(args=["orgs", "load"])
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_demo_seed_creates_every_role_and_prints_logins(runner, db_session):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    roles = {m.role for u in db_session.query(User) for m in u.memberships}
    assert roles == set(Role)
    assert "admin@kirjasto.example" in result.output
    assert "liboppi-demo-2026" in result.output
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0
    assert db_session.query(User).count() == 8
