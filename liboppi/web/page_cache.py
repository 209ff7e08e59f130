"""Rendered pages kept per process, for pages whose every input is named by a key.

A module page is read far more often than anything on it changes, and rendering its templates
costs several times more than reading its data. A view that knows everything its page is built
from (the signed-in user as loaded for this request, the language, the path, the content's
fingerprint and the learner's status) renders once per key and serves the same text again.

The one input a key cannot name is the CSRF token, which is fresh per request: the page is
rendered with a per-process marker in its place and the marker is replaced on every serve.
Pages with flashed messages are never cached (the messages are read once, then gone).

Signing the token is itself a good part of serving a cached page. A signed token is the
session's raw token and the second it was signed at, so within one second the same raw token
always signs to the same text: ``csrf_token`` keeps the last signature per raw token and
reuses it while its second lasts, exactly what signing again would have produced.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Hashable
from typing import Any

from flask import current_app, g, render_template, session
from flask_wtf.csrf import generate_csrf
from itsdangerous.encoding import base64_decode, bytes_to_int

#: Stands for the CSRF token in a cached page; random per process, so no content can hold it.
CSRF_MARKER = f"csrf-{secrets.token_hex(16)}"
_MARKER_BYTES = CSRF_MARKER.encode()
MAX_PAGES = 512
MAX_TOKENS = 4096
_EXTENSION = "liboppi.pages"
_TOKENS = "liboppi.csrf_tokens"


def _pages() -> dict[Hashable, bytes]:
    # One cache per app: pages depend on the app's configuration, not only on the key.
    return current_app.extensions.setdefault(_EXTENSION, {})


def _marker() -> str:
    return CSRF_MARKER


def render(key: Hashable, template: str, **context: Any) -> str | bytes:
    """``render_template(template, **context)``, rendered once per ``key``.

    ``key`` must name every input of the page other than the CSRF token and flashed messages.
    A cached page is kept and served as UTF-8 bytes, so it is not encoded again per request.
    """
    if session.get("_flashes"):
        return render_template(template, **context)
    pages = _pages()
    page = pages.get(key)
    if page is None:
        page = render_template(template, csrf_token=_marker, **context).encode()
        if len(pages) >= MAX_PAGES:
            pages.clear()
        pages[key] = page
    return page.replace(_MARKER_BYTES, csrf_token().encode())


def csrf_token() -> str:
    """``generate_csrf()``, reusing this second's signature of the session's raw token."""
    if "csrf_token" in g:  # Flask-WTF's own per-request copy, as generate_csrf keeps it
        return g.csrf_token
    raw = session.get("csrf_token")
    signed: dict[str, tuple[int, str]] = current_app.extensions.setdefault(_TOKENS, {})
    if isinstance(raw, str):
        found = signed.get(raw)
        if found is not None and found[0] == int(time.time()):
            g.csrf_token = found[1]
            return found[1]
    token = generate_csrf()
    raw = session.get("csrf_token")
    if isinstance(raw, str):
        if len(signed) >= MAX_TOKENS:
            signed.clear()
        # The token is "value.timestamp.signature"; keep it for the second it was signed at.
        signed[raw] = (bytes_to_int(base64_decode(token.rsplit(".", 2)[1])), token)
    return token
