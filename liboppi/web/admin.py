"""User administration: list, create, deactivate, memberships and set-password links."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from liboppi.models import Membership, Role
from liboppi.services import accounts, orgs
from liboppi.services.accounts import MembershipSpec
from liboppi.services.authz import Action, require
from liboppi.services.errors import Invalid

from .database import get_session
from .forms import ConfirmForm, MembershipForm, UserCreateForm
from .messages import service_message

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _fill_choices(form: MembershipForm) -> None:
    session = get_session()
    blank = SelectChoice(0, _("— choose —"))
    form.library.choices = [blank] + [
        SelectChoice(lib.id, lib.name, optgroup=lib.municipality)
        for lib in orgs.list_libraries(session, str(get_locale()))
    ]
    form.region.choices = [blank] + [
        SelectChoice(r.id, r.name_fi) for r in orgs.list_regions(session)
    ]


def _spec(form: MembershipForm) -> MembershipSpec:
    return MembershipSpec(
        role=Role(form.role.data),
        library_id=form.library.data or None,
        region_id=form.region.data or None,
        job_role=(form.job_role.data or "").strip() or None,
    )


def _set_password_url(user) -> str:
    token = accounts.make_set_password_token(current_app.config["LIBOPPI"].secret_key, user)
    return url_for("auth.set_password", token=token, _external=True)


@bp.route("/users")
@login_required
def users():
    query = request.args.get("q", "")
    rows = accounts.list_users(get_session(), current_user.principal, query)
    return render_template("admin/users.html", rows=rows, query=query)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    session = get_session()
    require(current_user.principal, Action.MANAGE_USERS)
    form = UserCreateForm()
    _fill_choices(form)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = accounts.create_user(
                    session,
                    current_user.principal,
                    email=form.email.data,
                    display_name=form.display_name.data,
                    memberships=[_spec(form)],
                )
            except Invalid as error:
                getattr(form, error.field or "email").errors.append(service_message(str(error)))
            else:
                session.commit()
                link = _set_password_url(user)
                return render_template("admin/user_created.html", user=user, link=link)
        return render_template("admin/user_new.html", form=form), 400
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>")
@login_required
def user(user_id: int):
    person = accounts.get_user(get_session(), current_user.principal, user_id)
    form = MembershipForm()
    _fill_choices(form)
    return render_template(
        "admin/user.html", person=person, form=form, confirm=ConfirmForm(), link=None
    )


@bp.route("/users/<int:user_id>/memberships", methods=["POST"])
@login_required
def add_membership(user_id: int):
    session = get_session()
    person = accounts.get_user(session, current_user.principal, user_id)
    form = MembershipForm()
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            accounts.add_membership(session, current_user.principal, user_id, _spec(form))
        except Invalid as error:
            getattr(form, error.field or "role").errors.append(service_message(str(error)))
        else:
            session.commit()
            flash(_("The role was added."), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return render_template(
        "admin/user.html", person=person, form=form, confirm=ConfirmForm(), link=None
    ), 400


@bp.route("/memberships/<int:membership_id>/end", methods=["POST"])
@login_required
def end_membership(membership_id: int):
    session = get_session()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    membership = session.get(Membership, membership_id)
    accounts.end_membership(session, current_user.principal, membership_id)
    session.commit()
    flash(_("The role was ended."), "success")
    return redirect(url_for("admin.user", user_id=membership.user_id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@login_required
def set_active(user_id: int):
    session = get_session()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    make_active = request.form.get("active") == "1"
    try:
        accounts.set_active(session, current_user.principal, user_id, make_active)
    except Invalid as error:
        flash(service_message(str(error)), "error")
        return redirect(url_for("admin.user", user_id=user_id))
    session.commit()
    flash(
        _("The account is in use.") if make_active else _("The account was deactivated."), "success"
    )
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/link", methods=["POST"])
@login_required
def set_password_link(user_id: int):
    session = get_session()
    require(current_user.principal, Action.MANAGE_USERS)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    person = accounts.get_user(session, current_user.principal, user_id)
    form = MembershipForm()
    _fill_choices(form)
    return render_template(
        "admin/user.html",
        person=person,
        form=form,
        confirm=ConfirmForm(),
        link=_set_password_url(person),
    )
