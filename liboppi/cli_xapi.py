"""Command line: ``flask xapi …`` (the outbox and its delivery) and ``flask users erase/export``.

Exit status: 0 done; 1 delivery stopped (the LRS is unreachable, failing, or refused our
credentials: statements stay in the outbox); 2 bad input or no LRS configured (one line on
standard error, as everywhere in ``flask``).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from liboppi import clock
from liboppi.cli import fail, transaction
from liboppi.models import OutboxStatus
from liboppi.services import delivery, outbox, privacy
from liboppi.services.authz import SYSTEM
from liboppi.services.delivery import LrsSettings, SqlOutboxStore
from liboppi.xapi.sender import DeliveryReport, StopReason

EXIT_STOPPED = 1

xapi_cli = AppGroup("xapi", help="The xAPI outbox and its delivery to the LRS.")


def _settings():
    return current_app.config["LIBOPPI"]


def _lrs_or_fail() -> LrsSettings:
    try:
        lrs = LrsSettings.from_settings(_settings())
    except ValueError as error:
        fail(f"the LRS settings are not usable: {error}")
    if lrs is None:
        with transaction() as session:
            pending = outbox.summarise(session, clock.now()).pending
        fail(
            "no LRS endpoint is configured (LIBOPPI_LRS_ENDPOINT); "
            f"{pending} statements wait safely in the outbox"
        )
    return lrs


def _store() -> SqlOutboxStore:
    return SqlOutboxStore(current_app.extensions["liboppi.sessions"])


def _age(age: timedelta | None) -> str:
    if age is None:
        return "-"
    seconds = int(age.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def _summary(report: DeliveryReport) -> str:
    return f"Delivered {report.delivered}, parked {report.parked}, to retry later {report.retried}."


def _exit_if_stopped(report: DeliveryReport) -> None:
    if report.stopped_reason is StopReason.AUTH_FAILED:
        click.echo(f"Stopped: {report.message}", err=True)
        sys.exit(EXIT_STOPPED)
    if report.stopped_reason is StopReason.LRS_UNAVAILABLE:
        click.echo(f"Stopped, the LRS is unavailable: {report.message}", err=True)
        sys.exit(EXIT_STOPPED)


@xapi_cli.command("status")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def xapi_status(output_format: str) -> None:
    """Show the outbox: pending, delivered, parked, oldest pending, last error, auth failure."""
    settings = _settings()
    with transaction() as session:
        status = delivery.get_status(session, settings.lrs_endpoint)
    if output_format == "json":
        click.echo(json.dumps(status.as_dict(), indent=2, ensure_ascii=False))
        return
    if status.endpoint:
        endpoint = status.endpoint
    else:
        endpoint = "not configured (LIBOPPI_LRS_ENDPOINT): statements wait in the outbox"
    box = status.outbox
    auth = "none"
    if status.auth_failure:
        auth = f"{status.auth_failed_at:%Y-%m-%d %H:%M:%S} UTC: {status.auth_failure}"
    last_error = status.last_error or "none"
    if status.last_error and status.last_error_at:
        last_error = f"{status.last_error_at:%Y-%m-%d %H:%M:%S} UTC: {status.last_error}"
    lines = [
        ("LRS endpoint", endpoint),
        ("Pending", f"{box.pending} ({box.due} due now)"),
        ("Delivered", str(box.delivered)),
        ("Parked", str(box.parked)),
        ("Oldest pending", _age(status.oldest_pending_age)),
        ("Last error", last_error),
        ("Auth failure", auth),
    ]
    for label, value in lines:
        click.echo(f"{label + ':':<16}{value}")


@xapi_cli.command("flush")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most this many statements.")
def xapi_flush(limit: int | None) -> None:
    """Send the statements that are due now, then exit (1 when delivery had to stop)."""
    lrs = _lrs_or_fail()
    with transaction() as session:
        due = outbox.summarise(session, clock.now()).due
    length = min(due, limit) if limit else due
    if length:
        with click.progressbar(length=length, label="Sending statements", file=sys.stderr) as bar:
            report = delivery.flush(_store(), lrs, limit=limit, progress=bar.update)
    else:
        report = delivery.flush(_store(), lrs, limit=limit)
    click.echo(_summary(report))
    _exit_if_stopped(report)


@xapi_cli.command("worker")
@click.option(
    "--idle",
    type=click.FloatRange(min=0.1),
    default=delivery.DEFAULT_IDLE_SECONDS,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
def xapi_worker(idle: float) -> None:
    """Deliver continuously until SIGTERM or Ctrl-C (several workers may share the outbox)."""
    lrs = _lrs_or_fail()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        click.echo("Stopping after the current batch.", err=True)
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo(f"Sending xAPI statements to {lrs.endpoint}; SIGTERM or Ctrl-C stops.")
    try:
        report = delivery.serve(_store(), lrs, stop, idle_seconds=idle)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(_summary(report))
    if report.stopped_reason is StopReason.AUTH_FAILED:
        _exit_if_stopped(report)


@xapi_cli.command("export")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in OutboxStatus]),
    help="Only statements with this status (repeatable); all when not given.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="One statement per line, exactly the bytes stored (and sent).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
def xapi_export(statuses: tuple[str, ...], output_format: str, output: Path | None) -> None:
    """Export statements exactly as stored, one JSON statement per line."""
    wanted = [OutboxStatus(status) for status in statuses]
    count = 0
    with transaction() as session, click.open_file(str(output or "-"), "wb") as stream:
        for payload in outbox.iter_payloads(session, wanted):
            stream.write(payload + b"\n")
            count += 1
    if output:
        click.echo(f"Exported {count} statements to {output}.")


@xapi_cli.command("retry-parked")
@click.option(
    "--statement-id",
    "statement_ids",
    multiple=True,
    help="Only this statement (repeatable); all parked statements when not given.",
)
def xapi_retry_parked(statement_ids: tuple[str, ...]) -> None:
    """Put parked statements back in line to be sent again, as they are stored."""
    with transaction() as session:
        count = outbox.retry_parked(session, statement_ids)
    click.echo(f"{count} parked statements are pending again.")


# -- flask users erase / export (added to the ``users`` group) ---------------------------------


@click.command("erase")
@with_appcontext
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def users_erase(email: str, yes: bool) -> None:
    """Erase a person (GDPR): void their statements at the LRS, anonymise the account."""
    settings = _settings()
    if not yes:
        click.confirm(
            f"Erase {email}: void their xAPI statements and anonymise the account?", abort=True
        )
    with transaction() as session:
        user_id = privacy.find_user_id(session, email)
        report = privacy.erase_user(session, SYSTEM, user_id, base_url=settings.base_url)
    click.echo(
        f"Erased user {report.user_id}: {report.voided} statements to be voided at the LRS "
        f"({report.withdrawn} not yet sent were withdrawn, {report.deleted_parked} parked "
        "deleted); the account is anonymised."
    )
    if settings.lrs_endpoint is None:
        click.echo("No LRS endpoint is configured: the voiding statements wait in the outbox.")


@click.command("export")
@with_appcontext
@click.argument("email")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
def users_export(email: str, output: Path | None) -> None:
    """Export everything held about one person (GDPR data access) as JSON."""
    with transaction() as session:
        user_id = privacy.find_user_id(session, email)
        document = privacy.export_user(session, SYSTEM, user_id)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Exported the records of user {user_id} to {output}.")
    else:
        click.echo(text, nl=False)


def register_xapi_cli(app: Flask, users_group: click.Group) -> None:
    """Attach ``flask xapi`` to ``app`` and ``erase``/``export`` to the ``users`` group."""
    app.cli.add_command(xapi_cli)
    users_group.add_command(users_erase)
    users_group.add_command(users_export)
