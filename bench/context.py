"""What the benchmarks share: temporary databases, the seeded site under gunicorn, floors.

Every database is temporary: a SQLite file in a temporary folder by default, or, when
``LIBOPPI_DATABASE_URL`` names a PostgreSQL server, a new database created on that server
(``liboppi_bench_<pid>_<label>``) and dropped at the end. The configured database itself is
never touched.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import statistics
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .client import Browser
from .load import LoadResult, LoadSettings, Request, run_load
from .runner import Goal, Row, Skip
from .servers import GUNICORN, REPO_ROOT, Server

PASSWORD = "bench-password-2026"
LEARNER_EMAIL = "bench.learner@kirjasto.example"
MODULE_LINK = re.compile(r'href="(/courses/[^/"?#]+/[^/"?#]+)"')
COURSE_LINK = re.compile(r'href="(/courses/[^/"?#]+)/?"')


@dataclass(frozen=True)
class Timing:
    """How long each load run lasts and how often ours and the floor alternate."""

    seconds: float = float(os.environ.get("BENCH_SECONDS", "5"))
    rounds: int = int(os.environ.get("BENCH_ROUNDS", "2"))
    warmup_seconds: float = 1.0
    max_requests: int = int(os.environ.get("BENCH_MAX_REQUESTS", "100000"))


def database_kind(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@dataclass
class Site:
    """Our app under gunicorn on a seeded database, and a learner who can sign in."""

    database_url: str
    server: Server
    env: dict[str, str]
    learner_email: str = LEARNER_EMAIL
    password: str = PASSWORD
    module_paths: list[str] = field(default_factory=list)
    commands: set[str] = field(default_factory=set)
    seeding: dict[str, Any] = field(default_factory=dict)

    def browser(self) -> Browser:
        return Browser(self.server.port)

    def learner(self) -> Browser:
        browser = self.browser()
        browser.login(self.learner_email, self.password)
        return browser


class Context:
    """Resources shared by the benchmarks of one run; everything started here is stopped."""

    def __init__(self, timing: Timing | None = None, load: LoadSettings | None = None) -> None:
        self.timing = timing or Timing()
        self.load = load or LoadSettings()
        self.stack = ExitStack()
        self.tmp = Path(tempfile.mkdtemp(prefix="liboppi-bench-"))
        if os.environ.get("BENCH_KEEP_TMP"):
            print(f"Keeping the temporary folder {self.tmp} (BENCH_KEEP_TMP)")
        else:
            self.stack.callback(shutil.rmtree, self.tmp, ignore_errors=True)
        self.configured_url = os.environ.get("LIBOPPI_DATABASE_URL") or ""
        self.database_kind = database_kind(self.configured_url)
        self.secret_key = secrets.token_urlsafe(32)
        self._site: Site | None = None
        #: Anything one benchmark leaves for a later one (e.g. a filled outbox).
        self.shared: dict[str, Any] = {}
        self._counter = 0

    # -- databases --------------------------------------------------------------------------

    def new_database(self, label: str, *, migrate: bool = True) -> str:
        """A new, empty (migrated) database for this run, removed at the end."""
        self._counter += 1
        name = f"liboppi_bench_{os.getpid()}_{self._counter}_{label}".replace("-", "_")
        if self.database_kind == "postgresql":
            server = make_url(self.configured_url)
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()

            def drop() -> None:
                engine = create_engine(server, isolation_level="AUTOCOMMIT")
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                engine.dispose()

            self.stack.callback(drop)
            url = server.set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        if migrate:
            from liboppi import migrate as migrations

            migrations.upgrade(url)
        return url

    def app_env(self, database_url: str, **extra: str) -> dict[str, str]:
        """The environment our app runs with, under gunicorn and in-process alike."""
        return {
            "LIBOPPI_ENV": "production",
            "LIBOPPI_SECRET_KEY": self.secret_key,
            "LIBOPPI_DATABASE_URL": database_url,
            "LIBOPPI_XAPI_SENDER": "off",
            "LIBOPPI_LRS_ENDPOINT": "",
            "LIBOPPI_BASE_URL": "http://127.0.0.1:5000",
            **extra,
        }

    # -- our site ---------------------------------------------------------------------------

    def site(self) -> Site:
        """The seeded site under gunicorn (started once, shared by the page benchmarks)."""
        if self._site is None:
            from .seed import seed_site

            url = self.new_database("site")
            env = self.app_env(url)
            seeding = seed_site(env)
            server = self.start_server("ours", "wsgi:app", env, ready_path="/saavutettavuus")
            site = Site(url, server, env, commands=seeding.pop("commands"), seeding=seeding)
            site.module_paths = discover_module_paths(site)
            self._site = site
        return self._site

    def start_server(
        self, name: str, app_spec: str, env: dict[str, str], *, ready_path: str = "/"
    ) -> Server:
        server = Server(name, app_spec, env, self.tmp, config=GUNICORN, ready_path=ready_path)
        server.start()
        self.stack.callback(server.stop)
        return server

    # -- floors -----------------------------------------------------------------------------

    def start_floor(self, routes: list[dict[str, Any]], name: str = "floor") -> Server:
        """Start the bare-Flask floor serving ``routes`` (``body`` given as bytes)."""
        self._counter += 1
        folder = self.tmp / f"floor-{self._counter}"
        folder.mkdir()
        spec_routes = []
        for index, route in enumerate(routes):
            body_file = folder / f"body-{index}.html"
            body_file.write_bytes(route["body"])
            spec_routes.append(
                {
                    "method": route.get("method", "GET"),
                    "path": route["path"],
                    "status": route.get("status", 200),
                    "location": route.get("location"),
                    "form": route.get("form", route.get("method") == "POST"),
                    "argon2_hash": route.get("argon2_hash"),
                    "body_file": str(body_file),
                }
            )
        spec = folder / "spec.json"
        spec.write_text(json.dumps({"routes": spec_routes}))
        server = Server(
            name,
            "bench.floor_app:app",
            {"BENCH_FLOOR_SPEC": str(spec)},
            self.tmp,
            config=GUNICORN,
            ready_path=routes[0]["path"],
        )
        server.start()
        self.stack.callback(server.stop)
        return server

    # -- measuring --------------------------------------------------------------------------

    def compare_rates(
        self,
        name: str,
        ours: tuple[Server, list[Request]],
        floor: tuple[Server, list[Request]],
        *,
        goal: Goal | None,
        max_requests: int | None = None,
        check: Callable[[LoadResult], str | None] | None = None,
    ) -> Row:
        """Requests per second, ours against the floor, alternating rounds; best of each."""
        limit = max_requests or self.timing.max_requests
        results: dict[str, list[LoadResult]] = {"ours": [], "floor": []}
        for server, requests in (ours, floor):
            run_load(
                server.port,
                requests,
                seconds=self.timing.warmup_seconds,
                max_requests=200,
                settings=self.load,
            )
        for _round in range(self.timing.rounds):
            for label, (server, requests) in (("ours", ours), ("floor", floor)):
                results[label].append(
                    run_load(
                        server.port,
                        requests,
                        seconds=self.timing.seconds,
                        max_requests=limit,
                        settings=self.load,
                    )
                )
        best = {label: max(runs, key=lambda r: r.rate) for label, runs in results.items()}
        row = Row(
            name=name,
            figure=best["ours"].rate,
            floor=best["floor"].rate,
            unit="req/s",
            goal=goal,
            details={
                "ours": [r.as_json() for r in results["ours"]],
                "floor": [r.as_json() for r in results["floor"]],
                "ours_latency_p50_ms": statistics.median(r.latency_p50_ms for r in results["ours"]),
                "load_generator": best["ours"].generator,
                "connections": self.load.connections,
            },
        )
        problems = [
            f"{label}: {r.failures} failed of {r.requests}"
            for label, runs in results.items()
            for r in runs
            if r.failures
        ]
        if check is not None:
            problem = check(best["ours"])
            if problem:
                problems.append(problem)
        if problems:
            row.status = "error"
            row.note = "; ".join(problems)
        return row

    def close(self) -> None:
        self.stack.close()


def discover_module_paths(site: Site) -> list[str]:
    """Module page paths, found by following links from the catalogue as a learner would."""
    if "content" not in site.commands:
        return []
    browser = site.learner()
    try:
        catalogue = browser.get("/courses")
        if catalogue.status != 200:
            return []
        courses = sorted(set(COURSE_LINK.findall(catalogue.text)))
        modules: list[str] = []
        for course in courses:
            page = browser.get(course)
            if page.status == 200:
                for path in MODULE_LINK.findall(page.text):
                    if path not in modules:
                        modules.append(path)
        return modules
    finally:
        browser.close()


def require_command(site: Site, group: str, command: str | None = None) -> None:
    """Skip unless ``flask <group> [command]`` exists."""
    if group not in site.commands:
        raise Skip(f"'flask {group}' does not exist yet")
    if command and f"{group} {command}" not in site.commands:
        raise Skip(f"'flask {group} {command}' does not exist yet")


def repo_path(*parts: str) -> Path:
    return REPO_ROOT.joinpath(*parts)
