"""The in-process xAPI sender of a served app (``LIBOPPI_XAPI_SENDER=thread``, the default).

The thread starts with the first request the app serves, not in ``create_app``: so ``flask
run`` (``make run``) and gunicorn workers get one (after gunicorn forks, where threads survive),
while CLI commands and scripts that only build the app never start one. Tests set
``LIBOPPI_XAPI_SENDER=off``. With no ``LIBOPPI_LRS_ENDPOINT`` there is nothing to start:
statements wait safely in the outbox and ``flask xapi status`` says so.

Several processes may each run one: claims are leases taken with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (see liboppi.services.delivery). In production prefer ``LIBOPPI_XAPI_SENDER=off`` and
one or more ``flask xapi worker`` processes.
"""

from __future__ import annotations

import atexit
import logging

from flask import Flask

from liboppi.config import ConfigError
from liboppi.services.delivery import BackgroundSender, LrsSettings

SENDER_MODES = ("thread", "off")
EXTENSION = "liboppi.xapi_sender"

log = logging.getLogger("liboppi.xapi")


def init_app(app: Flask) -> None:
    """Prepare the sender thread for ``app`` (when configured); it starts on the first request."""
    settings = app.config["LIBOPPI"]
    if settings.xapi_sender not in SENDER_MODES:
        raise ConfigError(
            f"LIBOPPI_XAPI_SENDER must be thread or off, not {settings.xapi_sender!r}"
        )
    try:
        lrs = LrsSettings.from_settings(settings)
    except ValueError as error:
        raise ConfigError(f"LIBOPPI_LRS_ENDPOINT or LIBOPPI_XAPI_*: {error}") from None
    if settings.xapi_sender == "off" or lrs is None:
        return
    sender = BackgroundSender(app.extensions["liboppi.sessions"], lrs)
    app.extensions[EXTENSION] = sender

    @app.before_request
    def start_xapi_sender() -> None:
        if sender.start():
            atexit.register(sender.stop, 5.0)
