"""Sign in and out, change a password, and set one through a one-time link."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from liboppi.extensions import limiter
from liboppi.services import accounts
from liboppi.services.errors import Invalid

from .database import get_session
from .forms import LoginForm, PasswordChangeForm, SetPasswordForm
from .login import SignedInUser
from .messages import service_message
from .security import is_safe_next

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LIBOPPI"].login_rate_limit


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    methods=["POST"],
    # Only failed attempts count, so colleagues behind one library NAT are not locked out.
    deduct_when=lambda response: response.status_code != 302,
    error_message="login_rate_limited",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "POST":
        if form.validate_on_submit():
            session = get_session()
            user = accounts.authenticate(session, form.email.data, form.password.data)
            if user is not None:
                session.commit()
                login_user(SignedInUser.load(user.id))
                target = form.next.data
                return redirect(target if is_safe_next(target) else url_for("main.index"))
            form.form_errors.append(_("Email or password is wrong, or the account is not in use."))
        return render_template("auth/login.html", form=form), 400
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if request.method == "POST":
        if form.validate_on_submit():
            session = get_session()
            try:
                accounts.change_password(
                    session,
                    current_user.user_id,
                    form.current_password.data,
                    form.new_password.data,
                )
            except Invalid as error:
                getattr(form, error.field or "current_password").errors.append(
                    service_message(str(error))
                )
            else:
                session.commit()
                login_user(SignedInUser.load(current_user.user_id))
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("main.index"))
        return render_template("auth/password.html", form=form), 400
    return render_template("auth/password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    settings = current_app.config["LIBOPPI"]
    session = get_session()
    try:
        email = accounts.check_set_password_token(
            session, settings.secret_key, token, settings.set_password_max_age
        )
    except Invalid as error:
        return render_template("auth/link_invalid.html", message=service_message(str(error))), 400
    form = SetPasswordForm()
    if request.method == "POST":
        if form.validate_on_submit():
            accounts.set_password_with_token(
                session,
                settings.secret_key,
                token,
                form.new_password.data,
                settings.set_password_max_age,
            )
            session.commit()
            logout_user()
            flash(_("Your password has been set. You can now sign in."), "success")
            return redirect(url_for("auth.login"))
        return render_template("auth/set_password.html", form=form, email=email), 400
    return render_template("auth/set_password.html", form=form, email=email)
