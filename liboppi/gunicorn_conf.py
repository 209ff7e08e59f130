"""Gunicorn's settings for Liboppi: ``gunicorn -c python:liboppi.gunicorn_conf wsgi:app``.

Two single-threaded ``gthread`` workers per core. A request here is CPU work in Python with
short waits on a local database, so threads in one worker mostly queue for the GIL: every
driver call hands it over, and each hand-over costs a wake-up. Measured with ``make bench``
on 2 cores, our app's own requests/s (medians of 3–4 runs each, 2026-11-26; README,
Performance), 4 workers × 1 thread against 2 × 4: answer saves 1,984 against 1,267 on SQLite
and 974 against 853 on PostgreSQL; module pages 3,971 against 4,080 on SQLite (within the
runs' spread) and 2,898 against 2,727 on PostgreSQL. ``gthread`` rather than ``sync`` keeps
idle keep-alive connections in the worker's poller instead of in its one thread; slow
clients are the reverse proxy's to buffer.

``WEB_CONCURRENCY`` sets the number of workers, as gunicorn's own default does;
the xAPI sender, when on, is one more thread per worker, idle between batches.
"""

from __future__ import annotations

import gc
import os


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * cores())
threads = 1
worker_class = "gthread"
keepalive = 5
timeout = 120


def post_worker_init(_worker) -> None:
    """Move everything the worker made while loading the app out of the garbage collector's way.

    Modules, the app, compiled statements and templates live as long as the worker; without
    this, each full collection walks them all again. ``gc.freeze`` (after one collection, so
    no garbage is kept) leaves them out of every later collection. Measured in-process on a
    PostgreSQL answer save: 1.21 against 1.25 ms of CPU per request; under gunicorn the
    difference is within the spread of the benchmark's runs (2026-11-26).
    """
    gc.collect()
    gc.freeze()
