"""Flask's signed cookie session, with verified cookies remembered per process.

Every request of a signed-in user carries the same session cookie until the session changes,
and checking it (HMAC, base64, zlib, tagged JSON) cost about a tenth of a module page. A
cookie that verified once is remembered by its exact text, with the time it was signed: the
same text always decodes to the same data, and its age is checked against the session's
lifetime on every use, as a fresh check would. Only sessions whose values are all scalars are
remembered, so no request can change a remembered session through a list or dict it holds
(``flash`` appends to a list in place); the cache is bounded and per app.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature

MAX_COOKIES = 4096
_SCALARS = (str, int, float, bool, type(None))


class RememberingSessionInterface(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` that verifies each distinct cookie text once."""

    def __init__(self) -> None:
        self._verified: dict[str, tuple[dict[str, Any], int]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        found = self._verified.get(value)
        if found is not None:
            data, signed_at = found
            if time.time() - signed_at <= max_age:
                return self.session_class(data)
            del self._verified[value]
            return self.session_class()
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(isinstance(item, _SCALARS) for item in data.values()):
            if len(self._verified) >= MAX_COOKIES:
                self._verified.clear()
            self._verified[value] = (dict(data), int(signed_at.timestamp()))
        return self.session_class(data)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's ``save_session``, without its cookie settings when nothing is written.

        An unmodified session that is not refreshed on every request sets no cookie: only
        ``Vary: Cookie`` is added when it was read, as Flask does (directly when the response
        has no ``Vary`` yet, else merged by Werkzeug).
        """
        if session.modified or (session and self.should_set_cookie(app, session)):
            super().save_session(app, session, response)
            return
        if session.accessed:
            if "Vary" in response.headers:
                response.vary.add("Cookie")
            else:
                response.headers["Vary"] = "Cookie"
