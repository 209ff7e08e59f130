"""Seeding a benchmark database the way an operator would: the CLI, then a few users.

``flask orgs load`` always; ``flask content import`` and ``flask quiz import`` when those
commands exist (they arrive with the content and quiz issues). Users are created through the
accounts service with one shared argon2 hash, so seeding many learners stays quick.
"""

from __future__ import annotations

import time
from typing import Any

import click

from .context import LEARNER_EMAIL, PASSWORD


def cli_commands(app) -> set[str]:
    """``{"orgs", "orgs load", "content", "content import", …}`` for an app."""
    names: set[str] = set()
    for name, command in app.cli.commands.items():
        names.add(name)
        if isinstance(command, click.Group):
            names.update(f"{name} {sub}" for sub in command.commands)
    return names


def invoke(app, *args: str) -> str:
    """Run ``flask <args>`` in-process; raise with its output when it fails."""
    result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=True)
    if result.exit_code != 0:
        detail = result.output[-3000:]
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            detail += f"\n{type(result.exception).__name__}: {result.exception}"
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.exit_code}):\n{detail}")
    return result.output


def create_learners(app, emails: list[str], library_code: str = "rovaniemi-main") -> list[int]:
    """Create learners with the bench password in one library; return their user ids."""
    from liboppi.models import Role
    from liboppi.services import accounts, orgs
    from liboppi.services.accounts import MembershipSpec
    from liboppi.services.authz import SYSTEM

    password_hash = accounts.hash_password(PASSWORD)
    session = app.extensions["liboppi.sessions"]()
    try:
        library = orgs.get_library_by_code(session, library_code)
        if library is None:
            raise RuntimeError(f"library {library_code!r} missing: run 'flask orgs load' first")
        ids = []
        for email in emails:
            user = accounts.create_user(
                session,
                SYSTEM,
                email=email,
                display_name=email.split("@")[0],
                memberships=[MembershipSpec(Role.LEARNER, library_id=library.id)],
            )
            user.password_hash = password_hash
            ids.append(user.id)
        session.commit()
        return ids
    finally:
        session.close()


def make_app(env: dict[str, str]):
    from liboppi import create_app

    return create_app(env)


def seed_site(env: dict[str, str]) -> dict[str, Any]:
    """Load organisations, import shipped content and quizzes if possible, add a learner."""
    app = make_app(env)
    commands = cli_commands(app)
    steps: dict[str, Any] = {}
    try:
        started = time.monotonic()
        invoke(app, "orgs", "load")
        steps["orgs load"] = round(time.monotonic() - started, 2)
        if "content import" in commands:
            started = time.monotonic()
            invoke(app, "content", "import")
            steps["content import"] = round(time.monotonic() - started, 2)
        if "quiz import" in commands:
            started = time.monotonic()
            invoke(app, "quiz", "import")
            steps["quiz import"] = round(time.monotonic() - started, 2)
        create_learners(app, [LEARNER_EMAIL])
    finally:
        app.extensions["liboppi.engine"].dispose()
    return {"commands": commands, "steps": steps}
