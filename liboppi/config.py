"""Settings read from ``LIBOPPI_*`` environment variables, once, in ``create_app``."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """Raised when the app cannot start with the given settings; the message is one line."""


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from the environment, with the defaults for ``make run``."""

    env: str
    secret_key: str
    database_url: str
    base_url: str
    ratelimit_storage_url: str
    login_rate_limit: str
    accessibility_contact: str
    lrs_endpoint: str | None
    lrs_username: str | None
    lrs_password: str | None
    xapi_sender: str
    xapi_batch_size: int
    xapi_connect_timeout: float
    xapi_read_timeout: float
    set_password_max_age: int
    content_root: Path
    quiz_root: Path
    #: Reuse a signed-in user's and a module page's reads while the data version stands
    #: (``web.login.KeptReads``); off: read on every request.
    keep_reads: bool = True
    #: How an answer saved into an attempt in progress is committed on PostgreSQL
    #: (``LIBOPPI_ANSWER_COMMIT``): asynchronous (the default) acknowledges it before its WAL
    #: is flushed, as SQLite's ``synchronous=NORMAL`` does for every commit; synchronous waits
    #: for the flush. See README, "Answer saves and durability".
    answer_commit_synchronous: bool = False

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _instance_secret(instance: Path) -> str:
    """Generate and keep a secret key in ``instance/`` so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: Mapping[str, str], instance: Path, project_root: Path) -> Settings:
    """Read settings from an environment mapping; raise ConfigError with a one-line reason."""
    env = environ.get("LIBOPPI_ENV", "development")
    if env not in {"development", "production", "test"}:
        raise ConfigError(f"LIBOPPI_ENV must be development, production or test, not {env!r}")
    secret = environ.get("LIBOPPI_SECRET_KEY")
    database_url = environ.get("LIBOPPI_DATABASE_URL")
    if env == "production":
        if not secret:
            raise ConfigError("LIBOPPI_ENV=production needs LIBOPPI_SECRET_KEY to be set")
        if not database_url:
            raise ConfigError("LIBOPPI_ENV=production needs LIBOPPI_DATABASE_URL to be set")
    if not secret:
        secret = _instance_secret(instance)
    if not database_url:
        database_url = f"sqlite:///{instance / 'liboppi.sqlite3'}"

    keep_reads = environ.get("LIBOPPI_KEEP_READS", "on")
    if keep_reads not in {"on", "off"}:
        raise ConfigError(f"LIBOPPI_KEEP_READS must be on or off, not {keep_reads!r}")

    answer_commit = environ.get("LIBOPPI_ANSWER_COMMIT", "asynchronous")
    if answer_commit not in {"asynchronous", "synchronous"}:
        raise ConfigError(
            f"LIBOPPI_ANSWER_COMMIT must be asynchronous or synchronous, not {answer_commit!r}"
        )

    def number(name: str, default: str, kind: type) -> int | float:
        raw = environ.get(name, default)
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None

    return Settings(
        env=env,
        secret_key=secret,
        database_url=database_url,
        base_url=environ.get("LIBOPPI_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        ratelimit_storage_url=environ.get("LIBOPPI_RATELIMIT_STORAGE_URL", "memory://"),
        login_rate_limit=environ.get("LIBOPPI_LOGIN_RATE_LIMIT", "10 per 5 minutes"),
        accessibility_contact=environ.get(
            "LIBOPPI_ACCESSIBILITY_CONTACT", "saavutettavuus@liboppi.invalid"
        ),
        lrs_endpoint=environ.get("LIBOPPI_LRS_ENDPOINT") or None,
        lrs_username=environ.get("LIBOPPI_LRS_USERNAME") or None,
        lrs_password=environ.get("LIBOPPI_LRS_PASSWORD") or None,
        xapi_sender=environ.get("LIBOPPI_XAPI_SENDER", "thread"),
        xapi_batch_size=int(number("LIBOPPI_XAPI_BATCH_SIZE", "100", int)),
        xapi_connect_timeout=float(number("LIBOPPI_XAPI_CONNECT_TIMEOUT", "3", float)),
        xapi_read_timeout=float(number("LIBOPPI_XAPI_READ_TIMEOUT", "10", float)),
        set_password_max_age=int(number("LIBOPPI_SET_PASSWORD_MAX_AGE", str(72 * 3600), int)),
        content_root=Path(environ.get("LIBOPPI_CONTENT_ROOT", project_root / "courses")),
        quiz_root=Path(environ.get("LIBOPPI_QUIZ_ROOT", project_root / "quizzes")),
        keep_reads=keep_reads == "on",
        answer_commit_synchronous=answer_commit == "synchronous",
    )
