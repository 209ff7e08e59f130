"""The web layer: blueprints, forms, login, security headers and error pages."""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import Flask, render_template, session
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2.runtime import Context
from jinja2.utils import pass_context

from liboppi.extensions import babel, csrf, limiter, login_manager
from liboppi.models import Library
from liboppi.services.errors import Forbidden, NotFound

from . import database, limits, xapi_sender
from .database import get_session
from .security import SecurityHeaders
from .sessions import RememberingSessionInterface

LOCALES = ("fi", "sv", "en")
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}


#: Parsed once: Flask-Babel would parse the selected code into a ``Locale`` on every request.
_PARSED = {code: Locale.parse(code) for code in LOCALES}


def locale_code(chosen: object, user: Any) -> str:
    """The interface language's code: ``chosen`` (the session's choice), then the signed-in
    ``user``'s, then Finnish."""
    if chosen in LOCALES:
        return str(chosen)
    if user.is_authenticated and user.locale in LOCALES:
        return str(user.locale)
    return "fi"


def request_language() -> str:
    """``locale_code`` for this request: the language Flask-Babel's selector picks.

    For views that render no template (a cached module page, an answer save), which would
    otherwise ask Flask-Babel only for this, through its lookups of the request's globals.
    """
    # Each use of the ``current_user`` proxy finds the user anew: it is taken once.
    return locale_code(session.get("locale"), current_user._get_current_object())


def select_locale() -> Locale:
    """Flask-Babel's locale selector: ``request_language``, parsed once per process."""
    return _PARSED[request_language()]


def init_web(app: Flask) -> None:
    """Attach extensions, blueprints, headers and error pages to ``app``."""
    database.init_app(app)
    app.session_interface = RememberingSessionInterface()
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    # Templates translate through the request's catalogue put in their context once per
    # render, instead of Flask-Babel's per-string lookup of request, locale and domain.
    app.jinja_env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)
    limits.init_app(app, limiter)  # its hooks only for requests that met a limit
    xapi_sender.init_app(app)  # the in-process xAPI sender, started by the first request

    from . import admin, auth, login, main  # login registers the user loader

    login.init_app(app)

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    from . import quiz

    app.register_blueprint(quiz.bp)
    from . import editor, learn

    app.register_blueprint(learn.bp)
    app.register_blueprint(editor.bp)

    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]

    @app.context_processor
    def page_globals() -> dict:
        return {
            "_translations": get_translations(),
            "current_locale": str(get_locale()),
            "language_names": LANGUAGE_NAMES,
            "locales": LOCALES,
            "role_label": role_label,
            "library_name": library_name,
        }

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("errors/400_csrf.html"), 400

    for code in (403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page(code))
    # Services decide authorisation; their refusals become the same pages everywhere.
    app.register_error_handler(Forbidden, _error_page(403))
    app.register_error_handler(NotFound, _error_page(404))


@pass_context
def _template_gettext(context: Context, string: str) -> str:
    # Macros imported without context have no catalogue in theirs: Flask-Babel finds it.
    translations = context.get("_translations") or get_translations()
    return translations.ugettext(string)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, num: int) -> str:
    translations = context.get("_translations") or get_translations()
    return translations.ungettext(singular, plural, num)


def role_label(role: str) -> str:
    """The translated name of a role."""
    labels = {
        "learner": _("Learner"),
        "editor": _("Content editor"),
        "library_coordinator": _("Library coordinator"),
        "regional_coordinator": _("Regional coordinator"),
        "admin": _("Administrator"),
    }
    return labels.get(str(role), str(role))


def library_name(library_id: int) -> str:
    """A library's name in the current language."""
    library = get_session().get(Library, library_id)
    return library.name(str(get_locale())) if library else ""


def _error_page(code: int):
    def handler(error):
        return render_template("errors/error.html", code=code), code

    return handler
