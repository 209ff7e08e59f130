"""Learning pages: the course catalogue, course and module pages, images, and search."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from liboppi.services import catalog, progress, search
from liboppi.services.authz import Action, can

from . import page_cache, request_language
from .database import database_name, get_session, read_connection
from .forms import Form

bp = Blueprint("learn", __name__)

#: Images change only by a new import or upload (with a new ETag); a day is safe to keep.
FILE_CACHE_SECONDS = 24 * 3600


class CompleteForm(Form):
    """The "mark as completed" button (its CSRF token)."""


def _language() -> str:
    return str(get_locale())


def _base_url() -> str:
    return current_app.config["LIBOPPI"].base_url


@bp.route("/courses")
@login_required
def catalogue():
    session = get_session()
    tag = request.args.get("tag", "").strip() or None
    audience = request.args.get("audience", "").strip() or None
    courses = catalog.list_courses(session, tag=tag, audience=audience)
    statuses = progress.course_statuses(session, current_user.user_id)
    return render_template(
        "learn/catalogue.html",
        courses=courses,
        statuses=statuses,
        facets=catalog.list_facets(session),
        tag=tag or "",
        audience=audience or "",
        language=_language(),
    )


@bp.route("/courses/<course_id>")
@login_required
def course(course_id: str):
    session = get_session()
    detail = catalog.get_course(session, course_id)
    statuses = progress.module_statuses(session, current_user.user_id, course_id)
    course_statuses = progress.course_statuses(session, current_user.user_id)
    next_module = next(
        (m for m in detail.modules if statuses[m.id].status != progress.COMPLETED), None
    )
    return render_template(
        "learn/course.html",
        detail=detail,
        statuses=statuses,
        course_status=course_statuses.get(course_id),
        course_statuses=course_statuses,
        next_module=next_module,
        language=_language(),
    )


@bp.route("/courses/<course_id>/<module_id>")
@login_required
def module(course_id: str, module_id: str):
    language = request_language()  # a cached page renders no template
    user = current_user._get_current_object()
    view = progress.view_module(
        progress.Reads(database_name(), read_connection),
        get_session,
        user.user_id,
        course_id,
        module_id,
        base_url=_base_url(),
        language=language,
        read=g.pop("module_page_read", None),  # read with the user (``login.SignedInUser``)
    )
    if view.wrote:
        get_session().commit()
    page, status = view.page, view.status
    can_edit = can(user.principal, Action.EDIT_CONTENT)
    # Everything the page shows: who (as loaded for this request), in which language, at
    # which address, which content (the fingerprint) and where the learner is in it.
    key = (
        "learn.module",
        request.full_path,
        language,
        user.user_id,
        user.display_name,
        user.principal.grants,
        page.fingerprint,
        status,
        can_edit,
    )
    context = {
        "page": page,
        "content": Markup(page.html),  # sanitised with nh3 when the version was rendered
        "status": status,
        "can_edit": can_edit,
        "language": language,
    }
    return page_cache.render(key, "learn/module.html", **context)


@bp.route("/courses/<course_id>/<module_id>/complete", methods=["POST"])
@login_required
def complete(course_id: str, module_id: str):
    session = get_session()
    if not CompleteForm().validate_on_submit():
        abort(400)
    result = progress.complete_module(
        session,
        current_user.user_id,
        course_id,
        module_id,
        base_url=_base_url(),
        language=_language(),
    )
    session.commit()
    if result.course_completed:
        flash(_("You completed the whole course. Well done!"), "success")
    elif result.module_completed:
        flash(_("The module is marked as completed."), "success")
    return redirect(url_for("learn.module", course_id=course_id, module_id=module_id))


@bp.route("/courses/<course_id>/files/<path:name>")
@login_required
def course_file(course_id: str, name: str):
    found = catalog.get_course_file(get_session(), course_id, name)
    response = current_app.response_class(found.data, mimetype=found.content_type)
    response.set_etag(found.etag)
    response.last_modified = found.updated_at
    response.cache_control.private = True
    response.cache_control.max_age = FILE_CACHE_SECONDS
    response.headers["Content-Disposition"] = "inline"
    return response.make_conditional(request)


@bp.route("/search")
@login_required
def search_page():
    session = get_session()
    query = request.args.get("q", "").strip()[:200]
    hits = search.search_modules(session, query) if query else []
    # Searching may have built the SQLite index on first use.
    session.commit()
    return render_template("learn/search.html", query=query, hits=hits, language=_language())
