"""Security headers on every response, and the safe-redirect check for ``next``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


#: Sent with every response. A response that already names one of them keeps its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_NAMES = frozenset(name.lower() for name, _ in SECURITY_HEADERS)


class SecurityHeaders:
    """WSGI middleware: the security headers on every response the app sends.

    Added where the response starts, as plain header tuples: every response gets them,
    whichever part of the app built it, and fixed texts need none of the per-header
    checks that setting them one by one on a response object costs (a few percent of a
    cached page's time).
    """

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            present = {name.lower() for name, _ in headers} & _NAMES
            if present:
                headers.extend(h for h in SECURITY_HEADERS if h[0].lower() not in present)
            else:
                headers.extend(SECURITY_HEADERS)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def is_safe_next(target: str | None) -> bool:
    """Whether ``target`` is a local path we may redirect to after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
