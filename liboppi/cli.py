"""Command line: ``flask db``, ``flask orgs``, ``flask users``, ``flask demo``.

Errors are one line on standard error with exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from liboppi import migrate
from liboppi.models import Role
from liboppi.services import accounts, demo, orgs
from liboppi.services.accounts import MembershipSpec
from liboppi.services.authz import SYSTEM
from liboppi.services.errors import ServiceError


def fail(message: str) -> None:
    """Print one line to standard error and exit with status 2."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@contextmanager
def transaction() -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    session: Session = current_app.extensions["liboppi.sessions"]()
    try:
        yield session
        session.commit()
    except ServiceError as error:
        session.rollback()
        fail(str(error))
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _url() -> str:
    return current_app.config["LIBOPPI"].database_url


db_cli = AppGroup("db", help="Migrate the database.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the configured database up to REVISION (default: head)."""
    migrate.upgrade(_url(), revision)
    click.echo(f"Database at revision {migrate.current(_url())}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the configured database down to REVISION (``base`` empties it)."""
    migrate.downgrade(_url(), revision)
    click.echo(f"Database at revision {migrate.current(_url())}.")


@db_cli.command("current")
def db_current() -> None:
    """Print the database's current revision."""
    click.echo(migrate.current(_url()) or "empty")


@db_cli.command("is-empty")
def db_is_empty() -> None:
    """Exit 0 when the database has no Liboppi tables yet, 1 otherwise (for ``make run``)."""
    sys.exit(0 if migrate.current(_url()) is None else 1)


orgs_cli = AppGroup("orgs", help="Organisation reference data.")


@orgs_cli.command("load")
def orgs_load() -> None:
    """Load the Lapland region, its 21 municipalities and main libraries (idempotent)."""
    with transaction() as session:
        summary = orgs.load_lapland(session)
    click.echo(f"Organisations: {summary.added} added, {summary.updated} updated.")


users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True, help="The person's email address (their sign-in name).")
@click.option("--name", "display_name", help="Display name; defaults to the part before @.")
@click.option("--library", help="Library code, e.g. rovaniemi-main (for library roles).")
@click.option(
    "--region", default="lappi", show_default=True, help="Region code for regional roles."
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.LEARNER.value,
    show_default=True,
)
@click.option(
    "--job-role", help="e.g. asiakaspalvelu, kirjastonhoitaja, IT-yhteyshenkilö, esihenkilö"
)
def users_create(email, display_name, library, region, role, job_role) -> None:
    """Create a user and print a one-time set-password link."""
    settings = current_app.config["LIBOPPI"]
    with transaction() as session:
        spec = _membership_spec(session, Role(role), library, region, job_role)
        user = accounts.create_user(
            session,
            SYSTEM,
            email=email,
            display_name=display_name or email.split("@")[0],
            memberships=[spec],
        )
        token = accounts.make_set_password_token(settings.secret_key, user)
    click.echo(f"Created {user.email} ({role}).")
    click.echo(f"Set-password link (valid {settings.set_password_max_age // 3600} h, once):")
    click.echo(f"{settings.base_url}/set-password/{token}")


def _membership_spec(session, role: Role, library: str | None, region: str | None, job_role):
    if role in (Role.REGIONAL_COORDINATOR, Role.ADMIN):
        found = next((r for r in orgs.list_regions(session) if r.code == region), None)
        if found is None:
            fail(f"unknown region {region!r}; run 'flask orgs load' first")
        return MembershipSpec(role=role, region_id=found.id, job_role=job_role)
    if not library:
        fail(f"--library is required for the role {role.value}")
    found = orgs.get_library_by_code(session, library)
    if found is None:
        fail(f"unknown library {library!r}; codes look like rovaniemi-main")
    return MembershipSpec(role=role, library_id=found.id, job_role=job_role)


demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Create demo users for every role in Lapland libraries and print their logins.

    Also records their learning (module views and completions, quiz attempts) through the
    services, once, in the courses and quizzes imported so far.
    """
    settings = current_app.config["LIBOPPI"]
    if settings.is_production:
        fail("demo data is not created when LIBOPPI_ENV=production")
    with transaction() as session:
        orgs.load_lapland(session)
        logins = demo.seed(session)
        activity = demo.seed_activity(session, base_url=settings.base_url)
    click.echo("Demo logins (password for all: see below):")
    for login in logins:
        click.echo(f"  {login.role:<22} {login.email:<38} {login.library}")
    click.echo(f"Password: {demo.DEMO_PASSWORD}")
    if activity is None:
        click.echo("Demo activity exists already.")
    else:
        click.echo(activity.line())
        if activity.skipped:
            missing = ", ".join(sorted(set(activity.skipped)))
            click.echo(f"Not imported, so not studied: {missing} ('flask content import').")


def register_cli(app: Flask) -> None:
    """Attach every command group to ``app``."""
    for group in (db_cli, orgs_cli, users_cli, demo_cli):
        app.cli.add_command(group)
    from liboppi.cli_xapi import register_xapi_cli  # imports this module: import it late

    register_xapi_cli(app, users_cli)
    from liboppi.cli_quiz import register_quiz_cli  # imports this module: import it late

    register_quiz_cli(app)
    from liboppi.cli_content import content_cli  # imports this module: import it late

    app.cli.add_command(content_cli)
