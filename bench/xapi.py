"""xAPI benchmarks: outbox overhead per recorded event, and delivery to the local LRS.

Delivery: 20,000 statements in the outbox, sent by the app's own sender (``flush``, as
``flask xapi flush`` runs it) to a fresh local LRS; the floor is the same stored bytes POSTed
in batches of the same size over one kept-alive connection by a bare ``http.client`` loop, to
another fresh LRS (the memory-backed LRS slows as it fills, so each side gets a new one).
"""

from __future__ import annotations

import http.client
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

from .context import Context
from .runner import Goal, Row, Skip, at_least, register

STATEMENTS = 20_000
TIMED_EVENTS = 2_000
BATCH = 100


def _require_delivery() -> None:
    try:
        from liboppi.services import delivery  # noqa: F401
        from liboppi.services.outbox import enqueue, origin_for  # noqa: F401
    except ImportError as error:
        raise Skip(f"xAPI delivery is not there yet ({error})") from None
    try:
        from tests.lrs.server import running_lrs  # noqa: F401
    except ImportError as error:
        raise Skip(f"the local test LRS (tests/lrs) is not there ({error})") from None


def _learner_database(ctx: Context) -> tuple[dict[str, str], int]:
    from sqlalchemy import select

    from liboppi.models import User

    from .context import LEARNER_EMAIL
    from .seed import create_learners, invoke, make_app

    url = ctx.new_database("xapi")
    env = ctx.app_env(url)
    app = make_app(env)
    try:
        invoke(app, "orgs", "load")
        create_learners(app, [LEARNER_EMAIL])
        session = app.extensions["liboppi.sessions"]()
        user_id = session.scalar(select(User.id).where(User.email == LEARNER_EMAIL))
        session.close()
    finally:
        app.extensions["liboppi.engine"].dispose()
    return env, user_id


def _build(n: int, session: Any, user_id: int, base_url: str, spent: list[float] | None = None):
    """One "experienced a module" statement, built as a service builds it."""
    from liboppi.services import outbox
    from liboppi.xapi import statements as xs

    started = time.perf_counter()
    origin, library_id = outbox.origin_for(session, user_id, base_url=base_url, language="fi")
    if spent is not None:
        spent.append(time.perf_counter() - started)
    course = xs.Content(id=f"bench-course-{n % 10}", name={"fi": f"Kurssi {n % 10}"})
    module = xs.Content(id=f"bench-module-{n % 1000}", name={"fi": f"Moduuli {n % 1000}"})
    return xs.module_experienced(origin, course, module), library_id


def fill_outbox(env: dict[str, str], user_id: int) -> dict[str, Any]:
    """Record 20,000 statements; time the first 2,000 one by one, and a raw INSERT of each.

    The timed part is what a service adds to its transaction for one event: the statement's
    origin (actor, library), building and serialising it, and the outbox row (flushed). The
    floor is a raw SQL INSERT of the same bytes into the same table, flushed the same way.
    Both are timed inside a transaction already begun, as a service's is when it records
    the event's own row first: taking a pooled connection (with its pre-ping) and BEGIN are
    the transaction's cost, paid with or without an outbox, so neither side counts them.
    """
    from sqlalchemy import text

    from liboppi import clock
    from liboppi.services import outbox
    from liboppi.xapi import statements as xs

    from .quiz import app_session

    base_url = env["LIBOPPI_BASE_URL"]
    ours: list[float] = []
    origins: list[float] = []
    floor: list[float] = []
    insert = text(
        "INSERT INTO outbox_statements (statement_id, payload, verb, user_id, library_id, "
        "status, attempts, created_at, next_attempt_at) "
        "VALUES (:sid, :payload, :verb, :uid, :lib, 'pending', 0, :now, :now)"
    )
    begun = text("SELECT 1")
    with app_session(env) as session:
        for n in range(STATEMENTS):
            if n < TIMED_EVENTS:
                session.execute(begun)  # the transaction has begun, as the event's own write does
                started = time.perf_counter()
                statement, library_id = _build(n, session, user_id, base_url, origins)
                outbox.enqueue(session, statement, user_id=user_id, library_id=library_id)
                session.flush()
                ours.append(time.perf_counter() - started)
                session.commit()
                # The floor: the same bytes again (another id), straight into the table.
                payload = xs.serialise(statement).replace(
                    statement.id.encode(), f"00000000-0000-4000-8000-{n:012d}".encode()
                )
                session.execute(begun)
                started = time.perf_counter()
                session.execute(
                    insert,
                    {
                        "sid": f"00000000-0000-4000-8000-{n:012d}",
                        "payload": payload,
                        "verb": "http://adlnet.gov/expapi/verbs/experienced",
                        "uid": user_id,
                        "lib": library_id,
                        "now": clock.now(),
                    },
                )
                session.flush()
                floor.append(time.perf_counter() - started)
                session.commit()  # removed below, before anything is delivered
            else:
                # The rest only fill the outbox for delivery: one origin serves them all.
                if n == TIMED_EVENTS:
                    origin, library_id = outbox.origin_for(
                        session, user_id, base_url=base_url, language="fi"
                    )
                statement = xs.module_experienced(
                    origin,
                    xs.Content(id=f"bench-course-{n % 10}", name={"fi": f"Kurssi {n % 10}"}),
                    xs.Content(id=f"bench-module-{n % 1000}", name={"fi": f"Moduuli {n % 1000}"}),
                )
                outbox.enqueue(session, statement, user_id=user_id, library_id=library_id)
                if n % 1000 == 999:
                    session.commit()
        session.commit()
        # The floor's rows are not for delivery. They were committed rather than rolled back
        # because a ROLLBACK makes psycopg drop every prepared statement of the connection,
        # ours included; an event's transaction commits, so both sides are timed as it runs.
        session.execute(
            text("DELETE FROM outbox_statements WHERE statement_id LIKE :floor"),
            {"floor": "00000000-0000-4000-8000-%"},
        )
        session.commit()
    return {"ours_s": ours, "origin_s": origins, "floor_s": floor}


@register("outbox-overhead")
def outbox_overhead(ctx: Context) -> Row:
    """Time one event's statement (origin, build, serialise, outbox row): median ≤ 0.5 ms."""
    _require_delivery()
    env, user_id = _learner_database(ctx)
    timings = fill_outbox(env, user_id)
    ctx.shared["xapi_outbox"] = (env, user_id)  # the delivery benchmark sends these
    ours = statistics.median(timings["ours_s"]) * 1000
    floor = statistics.median(timings["floor_s"]) * 1000
    return Row(
        "outbox overhead per event (median)",
        ours,
        "ms",
        floor,
        Goal("figure_max", 0.5, "ms"),
        note=(
            "floor: raw INSERT of the same bytes; origin_for (actor, library) "
            f"{statistics.median(timings['origin_s']) * 1000:.2f} ms of it"
        ),
        details={
            "events_timed": len(timings["ours_s"]),
            "ours_p95_ms": round(statistics.quantiles(timings["ours_s"], n=20)[-1] * 1000, 3),
            "origin_for_median_ms": round(statistics.median(timings["origin_s"]) * 1000, 3),
        },
    )


def raw_post_rate(endpoint: str, payloads: list[bytes]) -> float:
    """Statements per second the LRS takes as plain batch POSTs on one kept-alive connection."""
    from liboppi.xapi.sender import join_payloads

    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/") + "/statements"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {
        "Content-Type": "application/json",
        "X-Experience-API-Version": "1.0.3",
        "Authorization": "Basic YmVuY2g6YmVuY2g=",
    }
    started = time.perf_counter()
    for start in range(0, len(payloads), BATCH):
        connection.request(
            "POST", path, body=join_payloads(payloads[start : start + BATCH]), headers=headers
        )
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"LRS answered {response.status}: {body[:300]!r}")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(payloads) / elapsed


@register("xapi-delivery")
def xapi_delivery(ctx: Context) -> Row:
    """Deliver 20,000 outbox statements to a fresh local LRS against its raw batch-POST rate."""
    _require_delivery()
    from sqlalchemy import func, select

    from liboppi.models import OutboxStatement, OutboxStatus
    from liboppi.services import delivery
    from tests.lrs.server import running_lrs

    from .quiz import app_session
    from .seed import make_app

    if "xapi_outbox" not in ctx.shared:
        env, user_id = _learner_database(ctx)
        fill_outbox(env, user_id)
        ctx.shared["xapi_outbox"] = (env, user_id)
    env, _user_id = ctx.shared["xapi_outbox"]
    with app_session(env) as session:
        payloads = [
            bytes(p)
            for p in session.scalars(select(OutboxStatement.payload).order_by(OutboxStatement.id))
        ]
    if len(payloads) != STATEMENTS:
        raise RuntimeError(f"{len(payloads)} statements in the outbox, not {STATEMENTS}")
    with running_lrs() as endpoint:
        floor = raw_post_rate(endpoint, payloads)
    app = make_app(env)
    try:
        store = delivery.SqlOutboxStore(app.extensions["liboppi.sessions"])
        with running_lrs() as endpoint:
            lrs = delivery.LrsSettings(endpoint=endpoint, username="bench", password="bench")
            started = time.perf_counter()
            report = delivery.flush(store, lrs)
            elapsed = time.perf_counter() - started
    finally:
        app.extensions["liboppi.engine"].dispose()
    with app_session(env) as session:
        delivered = session.scalar(
            select(func.count())
            .select_from(OutboxStatement)
            .where(OutboxStatement.status == OutboxStatus.DELIVERED)
        )
    row = Row(
        "xAPI delivery, 20k statements",
        report.delivered / elapsed,
        "stmt/s",
        floor,
        at_least(0.8),
        details={
            "delivered": report.delivered,
            "delivered_in_db": delivered,
            "parked": report.parked,
            "retried": report.retried,
            "seconds": round(elapsed, 2),
            "batch": BATCH,
        },
    )
    if report.delivered != STATEMENTS or delivered != STATEMENTS:
        row.status = "error"
        row.note = f"delivered {report.delivered} ({delivered} in the database) of {STATEMENTS}"
    return row
