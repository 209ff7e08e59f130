"""Rendered pages kept per process, for pages whose every input is named by a key.

A module page is read far more often than anything on it changes, and rendering its templates
costs several times more than reading its data. A view that knows everything its page is built
from (the signed-in user as loaded for this request, the language, the path, the content's
fingerprint and the learner's status) renders once per key and serves the same text again.

The one input a key cannot name is the CSRF token, which is fresh per request: the page is
rendered with a per-process marker in its place and the marker is replaced on every serve.
Pages with flashed messages are never cached (the messages are read once, then gone).
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable
from typing import Any

from flask import current_app, render_template, session
from flask_wtf.csrf import generate_csrf

#: Stands for the CSRF token in a cached page; random per process, so no content can hold it.
CSRF_MARKER = f"csrf-{secrets.token_hex(16)}"
MAX_PAGES = 512
_EXTENSION = "liboppi.pages"


def _pages() -> dict[Hashable, str]:
    # One cache per app: pages depend on the app's configuration, not only on the key.
    return current_app.extensions.setdefault(_EXTENSION, {})


def _marker() -> str:
    return CSRF_MARKER


def render(key: Hashable, template: str, **context: Any) -> str:
    """``render_template(template, **context)``, rendered once per ``key``.

    ``key`` must name every input of the page other than the CSRF token and flashed messages.
    """
    if session.get("_flashes"):
        return render_template(template, **context)
    pages = _pages()
    page = pages.get(key)
    if page is None:
        page = render_template(template, csrf_token=_marker, **context)
        if len(pages) >= MAX_PAGES:
            pages.clear()
        pages[key] = page
    return page.replace(CSRF_MARKER, generate_csrf())
