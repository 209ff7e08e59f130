"""Flask-Login glue: the signed-in user as seen by views and templates."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request
from flask_login import UserMixin
from flask_login.utils import _create_identifier

from liboppi.extensions import login_manager
from liboppi.services import progress
from liboppi.services.accounts import SessionUser, load_session_user
from liboppi.services.authz import Principal

from .database import read_connection

#: The endpoint whose page is read with its user (``learn.module``).
MODULE_PAGE = "learn.module"


@dataclass
class SignedInUser(UserMixin):
    """The signed-in user with the roles they hold now."""

    user_id: int
    public_id: str
    display_name: str
    email: str
    locale: str | None
    session_nonce: str
    principal: Principal

    def get_id(self) -> str:
        # The nonce changes with the password, so other sessions end when it changes.
        return f"{self.user_id}.{self.session_nonce}"

    @classmethod
    def from_session_user(cls, user: SessionUser) -> SignedInUser:
        return cls(
            user_id=user.user_id,
            public_id=user.public_id,
            display_name=user.display_name,
            email=user.email,
            locale=user.locale,
            session_nonce=user.token_nonce[:12],
            principal=user.principal,
        )

    @classmethod
    def load(cls, user_id: int) -> SignedInUser | None:
        """The active user ``user_id`` as read now (outside the request's transaction), or None.

        On a module page, the page's first query is read in the same statement (one round
        trip to the database instead of two) and left in ``g`` for the view.
        """
        if request.endpoint == MODULE_PAGE and request.view_args:
            user, g.module_page_read = progress.signed_in_module_page(
                read_connection(),
                user_id,
                request.view_args["course_id"],
                request.view_args["module_id"],
            )
        else:
            user = load_session_user(read_connection(), user_id)
        return cls.from_session_user(user) if user is not None else None

    def has_role(self, role: str) -> bool:
        """Whether the user holds ``role`` in any library or region."""
        return role in self.principal.roles


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    raw_id, _, nonce = user_id.partition(".")
    if not raw_id.isdigit():
        return None
    user = SignedInUser.load(int(raw_id))
    if user is None or user.session_nonce != nonce:
        return None
    return user


#: Session identifiers by what they are made of (see below). Bounded.
_identifiers: dict[tuple[str | None, str | None, str | None], str] = {}
MAX_IDENTIFIERS = 4096


def session_identifier() -> str:
    """Flask-Login's session identifier, made once per client address and browser.

    Session protection compares it with the session's on every request; Flask-Login makes it
    anew each time (a SHA-512 of the address, ``X-Forwarded-For`` first, and the
    ``User-Agent``), though it depends only on those three values.
    """
    environ = request.environ
    key = (
        environ.get("HTTP_X_FORWARDED_FOR"),
        environ.get("REMOTE_ADDR"),
        environ.get("HTTP_USER_AGENT"),
    )
    found = _identifiers.get(key)
    if found is None:
        found = _create_identifier()
        if len(_identifiers) >= MAX_IDENTIFIERS:
            _identifiers.clear()
        _identifiers[key] = found
    return found


login_manager._session_identifier_generator = session_identifier
login_manager.login_view = "auth.login"
login_manager.login_message = None
