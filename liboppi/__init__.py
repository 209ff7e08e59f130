"""Liboppi: e-learning content and quiz engine for the public libraries of Lapland."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from .config import load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class LiboppiFlask(Flask):
    """Flask, remembering which views and hooks are plain functions.

    Flask asks ``ensure_sync`` about every hook and the view on every request, and each
    answer inspects the function's code flags; a function found plain stays plain (the set
    is bounded, for callables made anew per call). Async functions still go through Flask.
    """

    #: Not a Flask setting: how many plain callables are remembered.
    MAX_PLAIN = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: set[Any] = set()

    def ensure_sync(self, func: Any) -> Any:
        if func in self._plain:
            return func
        wrapped = super().ensure_sync(func)
        if wrapped is func:
            if len(self._plain) >= self.MAX_PLAIN:
                self._plain.clear()
            self._plain.add(func)
        return wrapped


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings from ``LIBOPPI_*`` variables, then ``config`` overrides.

    ``config`` takes the same names as the environment (``LIBOPPI_DATABASE_URL`` …), so tests
    set exactly what an operator would.
    """
    app = LiboppiFlask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    environ = {**os.environ, **(config or {})}
    settings = load_settings(environ, Path(app.instance_path), PROJECT_ROOT)
    app.config.update(
        LIBOPPI=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.is_production,
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_url,
        RATELIMIT_ENABLED=environ.get("LIBOPPI_RATELIMIT_ENABLED", "1") != "0",
        BABEL_DEFAULT_LOCALE="fi",
        BABEL_DEFAULT_TIMEZONE="Europe/Helsinki",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
    )
    if "TESTING" in (config or {}):
        app.config["TESTING"] = bool(config["TESTING"])

    from .web import init_web

    init_web(app)

    from .cli import register_cli

    register_cli(app)
    return app
