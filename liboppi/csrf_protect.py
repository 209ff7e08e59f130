"""Flask-WTF's CSRF protection, with verified tokens remembered per process.

Checking a posted token means verifying its signature (itsdangerous: base64, HMAC) and
comparing what it signs with the session's raw token. The signature check of a given text
always gives the same answer, so a token that verified once is remembered by its exact text
with the raw token it signs; a later post of the same text only compares that raw token with
its session's, and makes the same-origin check of HTTPS requests, as Flask-WTF does. This is
used only while tokens never expire (``WTF_CSRF_TIME_LIMIT = None``, our setting): with a
time limit every token is checked in full. Anything that does not pass the fast check goes
through Flask-WTF's own, so failures get its error and messages.

It lives beside ``extensions.py``, not in ``liboppi.web``, because ``extensions.py`` creates
the protector and ``liboppi.web`` imports ``extensions.py``.
"""

from __future__ import annotations

import hmac

from flask import current_app, g, request, session
from flask_wtf import CSRFProtect
from flask_wtf.csrf import same_origin

MAX_TOKENS = 4096
_EXTENSION = "liboppi.csrf_verified"


def _verified() -> dict[str, str]:
    # Per app: a token is verified with its app's secret key.
    return current_app.extensions.setdefault(_EXTENSION, {})


class RememberingCSRFProtect(CSRFProtect):
    """``CSRFProtect`` that verifies each distinct token text once."""

    def protect(self, apply_exemptions: bool = False) -> None:
        config = current_app.config
        if request.method not in config["WTF_CSRF_METHODS"]:
            return  # as Flask-WTF's own check does, before the exemptions' lookups
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        remembers = (
            config["WTF_CSRF_TIME_LIMIT"] is None and config.get("WTF_CSRF_SECRET_KEY") is None
        )
        token = self._get_csrf_token() if remembers else None
        if token and self._known(token, config):
            g.csrf_valid = True
            return
        super().protect()  # exemptions were applied above
        raw = session.get(config["WTF_CSRF_FIELD_NAME"])
        if token and isinstance(raw, str):  # super() passed: the token signs the session's raw
            verified = _verified()
            if len(verified) >= MAX_TOKENS:
                verified.clear()
            verified[token] = raw

    def _known(self, token: str, config) -> bool:
        signed = _verified().get(token)
        raw = session.get(config["WTF_CSRF_FIELD_NAME"])
        if signed is None or not isinstance(raw, str) or not hmac.compare_digest(raw, signed):
            return False
        if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
            referrer = request.referrer
            return bool(referrer) and same_origin(referrer, f"https://{request.host}/")
        return True
