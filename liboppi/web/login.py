"""Flask-Login glue: the signed-in user as seen by views and templates."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask import Flask, current_app, g, request
from flask_login import UserMixin
from flask_login.utils import _create_identifier

from liboppi.database import ChangeListener, DataVersion, data_version
from liboppi.extensions import login_manager
from liboppi.services import progress
from liboppi.services.accounts import SessionUser, load_session_user
from liboppi.services.authz import Principal

from .database import read_connection

#: The endpoint whose page is read with its user (``learn.module``).
MODULE_PAGE = "learn.module"


@dataclass(frozen=True)
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
        """The active user ``user_id`` as read now (outside the request's transaction), or as
        last read while no commit to what it was read from is known (``KeptReads``);
        None when there is no such active user.

        On a module page, the page's first query is read in the same statement (one round
        trip to the database instead of two) and left in ``g`` for the view.
        """
        if request.endpoint == MODULE_PAGE and request.view_args:
            return cls._load_with_page(
                user_id, request.view_args["course_id"], request.view_args["module_id"]
            )
        reads = kept_reads(current_app)
        version = reads.version.read() if reads is not None else None
        kept = reads.get(user_id, version) if reads is not None else None
        if kept is not None:
            return kept
        user = load_session_user(read_connection(), user_id)
        if user is None:
            return None
        signed_in = cls.from_session_user(user)
        if reads is not None:
            reads.keep(user_id, version, signed_in)
        return signed_in

    @classmethod
    def _load_with_page(cls, user_id: int, course_id: str, module_id: str) -> SignedInUser | None:
        """The user and the module page's rows, read together, or as last read while nothing
        has been committed to the database since (see ``KeptReads``)."""
        reads = kept_reads(current_app)
        key = (user_id, course_id, module_id)
        version = reads.version.read() if reads is not None else None
        kept = reads.get(key, version) if reads is not None else None
        if kept is not None:
            signed_in, g.module_page_read = kept
            return signed_in
        user, g.module_page_read = progress.signed_in_module_page(
            read_connection(), user_id, course_id, module_id
        )
        if user is None:
            return None
        signed_in = cls.from_session_user(user)
        if reads is not None:
            reads.keep(key, version, (signed_in, g.module_page_read))
        return signed_in

    def has_role(self, role: str) -> bool:
        """Whether the user holds ``role`` in any library or region."""
        return role in self.principal.roles


class _Entry(NamedTuple):
    version: int  # the data version read before the rows
    value: Any  # a request's user, or a module page's user and rows


class KeptReads:
    """A module page's user and light rows per user and page, and any other request's user
    per user, with the data version read at.

    The data version (``liboppi.database.data_version``) changes with every commit to the
    database by any connection, in any process: on SQLite it is the file's own
    ``PRAGMA data_version``; on PostgreSQL a number changed by the server's notifications
    of commits to the tables a module page reads, and at once by this process's own
    commits (``ChangeListener``, where what that gives up is written down). It is read
    *before* the rows, so an entry whose version is still the current one holds what
    reading again would return: a deactivated user, a new password, a role, a module
    completed or a new import all act on the next request after the commit is known here.
    A page view that records the learner's progress commits too, so the entry it was
    served from is not used again. While the version cannot be known (None: PostgreSQL's
    listener is not listening), every view reads and nothing is kept. The entries (at most
    ``MAX_ENTRIES`` per database, then started afresh) are never changed after they are
    made: a request gets the same objects another one got.
    """

    MAX_ENTRIES = 4096

    def __init__(self, version: DataVersion | ChangeListener) -> None:
        self.version = version
        #: By user id (a request's user) or (user id, course id, module id) (a module page).
        self.entries: dict[Hashable, _Entry] = {}

    def get(self, key: Hashable, version: int | None) -> Any:
        """What was kept under ``key`` at ``version`` (the current one), else None."""
        if version is None:
            return None
        entry = self.entries.get(key)
        return entry.value if entry is not None and entry.version == version else None

    def keep(self, key: Hashable, version: int | None, value: Any) -> None:
        """Keep ``value``, read after ``version`` was read; nothing while it is unknown."""
        if version is None:
            return
        if len(self.entries) >= self.MAX_ENTRIES:
            self.entries.clear()
        self.entries[key] = _Entry(version, value)


_KEPT_READS = "liboppi.kept_reads"


def init_app(app: Flask) -> None:
    """Keep reads for ``app`` when its database has a data version and the settings allow
    (``LIBOPPI_KEEP_READS``)."""
    keep = app.config["LIBOPPI"].keep_reads
    version = data_version(app.extensions["liboppi.engine"]) if keep else None
    app.extensions[_KEPT_READS] = KeptReads(version) if version is not None else None


def kept_reads(app: Flask) -> KeptReads | None:
    """``app``'s kept reads; None when it keeps none (in-memory SQLite, or turned off)."""
    return app.extensions[_KEPT_READS]


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
