"""Imports every benchmark module so their ``@register`` calls fill the registry, in order."""

from __future__ import annotations

from . import web  # noqa: F401  isort: skip
from . import content_import  # noqa: F401  isort: skip
from . import quiz  # noqa: F401  isort: skip
from . import xapi  # noqa: F401  isort: skip
from . import dashboards  # noqa: F401  isort: skip
