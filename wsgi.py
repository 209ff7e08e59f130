"""WSGI entry point: ``gunicorn wsgi:app`` (and ``FLASK_APP=wsgi`` for the ``flask`` commands).

A setting that cannot be used stops the process with its one-line message, not a traceback.
"""

import sys

from liboppi import create_app
from liboppi.config import ConfigError

#: The exit status: gunicorn's for a worker that failed to boot, so that its arbiter stops
#: (a worker that exits otherwise is started again, and fails again, without end).
CANNOT_START = 3

try:
    app = create_app()
except ConfigError as error:
    print(f"Liboppi cannot start: {error}", file=sys.stderr)
    raise SystemExit(CANNOT_START) from None
