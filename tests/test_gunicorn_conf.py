"""Production's gunicorn settings as gunicorn reads them, and the benchmarks' use of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers import GunicornConfig
from liboppi import gunicorn_conf

ROOT = Path(__file__).resolve().parent.parent


def printed_config(**env: str) -> dict[str, str]:
    """The settings ``gunicorn -c python:liboppi.gunicorn_conf`` would run with."""
    environment = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"}
    completed = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:liboppi.gunicorn_conf"]
        + ["--print-config", "wsgi:app"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    settings = {}
    for line in completed.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.strip()] = value.strip()
    return settings


def test_gunicorn_runs_two_single_threaded_gthread_workers_per_core():
    settings = printed_config()
    assert settings["workers"] == str(2 * gunicorn_conf.cores())
    assert settings["threads"] == "1"
    assert settings["worker_class"] == "gthread"
    assert settings["keepalive"] == "5"


def test_web_concurrency_sets_the_number_of_workers():
    assert printed_config(WEB_CONCURRENCY="3")["workers"] == "3"


@pytest.mark.skipif(
    bool(os.environ.get("BENCH_WORKERS") or os.environ.get("BENCH_THREADS")),
    reason="the benchmarks' settings are overridden in this environment",
)
def test_the_benchmarks_serve_ours_and_the_floor_with_productions_settings():
    from bench.servers import GUNICORN

    production = GunicornConfig()
    assert GUNICORN == production
    assert (production.workers, production.threads, production.worker_class) == (
        gunicorn_conf.workers,
        gunicorn_conf.threads,
        gunicorn_conf.worker_class,
    )
    assert production.keep_alive == gunicorn_conf.keepalive


def test_a_worker_freezes_what_it_loaded_out_of_the_garbage_collectors_way():
    import gc

    # gunicorn shows a hook by its function's name; its own default is a method of its own.
    assert printed_config()["post_worker_init"] == "<post_worker_init()>"
    before = gc.get_freeze_count()
    try:
        gunicorn_conf.post_worker_init(None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_the_benchmarks_serve_with_productions_settings_file():
    import inspect

    from bench import servers

    source = inspect.getsource(servers.Server.start)
    assert '"python:liboppi.gunicorn_conf"' in source


def test_a_setting_that_cannot_be_used_stops_gunicorn_and_the_commands_with_its_message():
    environment = {**os.environ, "LIBOPPI_ANSWER_COMMIT": "off", "LIBOPPI_XAPI_SENDER": "off"}
    message = (
        "Liboppi cannot start: LIBOPPI_ANSWER_COMMIT must be asynchronous or synchronous, not 'off'"
    )
    command = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "quiz", "--help"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (command.returncode, command.stderr.strip()) == (3, message)
    server = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:liboppi.gunicorn_conf"]
        + ["--bind", "127.0.0.1:0", "--workers", "1", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,  # a worker started again and again would never end
    )
    assert server.returncode == 3
    assert message in server.stderr
    assert "Traceback" not in server.stderr
