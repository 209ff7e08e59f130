"""Front page, language choice and the accessibility statement."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from liboppi.services import accounts

from .database import get_session
from .forms import LanguageForm
from .security import is_safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("main/index.html", roles=current_user.principal.roles)


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    target = form.next.data if is_safe_next(form.next.data) else url_for("main.index")
    if not form.validate_on_submit():
        return render_template("main/language.html", form=form), 400
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        db = get_session()
        accounts.set_locale(db, current_user.user_id, form.locale.data)
        db.commit()
    return redirect(target)


@bp.route("/language", methods=["GET"])
def language():
    return render_template(
        "main/language.html", form=LanguageForm(next=request.args.get("next", ""))
    )


@bp.route("/saavutettavuus")
def accessibility():
    contact = current_app.config["LIBOPPI"].accessibility_contact
    return render_template("main/accessibility.html", contact=contact)
