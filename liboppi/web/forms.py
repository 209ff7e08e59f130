"""WTForms forms: every field has a translated label and its own error messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from liboppi.services.accounts import MIN_PASSWORD_LENGTH

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


def _new_password_fields():
    too_short = _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=too_short),
        ],
        description=_l(
            "At least %(n)s characters. A short sentence is easy to remember.",
            n=MIN_PASSWORD_LENGTH,
        ),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("new_password", _l("The passwords do not match.")),
        ],
    )
    return new, confirm


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    new_password, confirm_password = _new_password_fields()
    submit = SubmitField(_l("Change password"))


class SetPasswordForm(FlaskForm):
    new_password, confirm_password = _new_password_fields()
    submit = SubmitField(_l("Set password"))


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("fi", "suomi", {"lang": "fi"}),
            SelectChoice("sv", "svenska", {"lang": "sv"}),
            SelectChoice("en", "English", {"lang": "en"}),
        ],
    )
    next = HiddenField()
    submit = SubmitField(_l("Change language"))


ROLE_CHOICES = [
    SelectChoice("learner", _l("Learner")),
    SelectChoice("editor", _l("Content editor")),
    SelectChoice("library_coordinator", _l("Library coordinator")),
    SelectChoice("regional_coordinator", _l("Regional coordinator")),
    SelectChoice("admin", _l("Administrator")),
]


class MembershipForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired(REQUIRED)])
    library = SelectField(
        _l("Library"),
        coerce=int,
        validators=[Optional()],
        description=_l("For learners, editors and library coordinators."),
    )
    region = SelectField(
        _l("Region"),
        coerce=int,
        validators=[Optional()],
        description=_l("For regional coordinators and administrators."),
    )
    job_role = StringField(
        _l("Job role"),
        validators=[Optional(), Length(max=60)],
        description=_l("For example customer service, librarian, IT contact or manager."),
    )
    submit = SubmitField(_l("Add role"))


class UserCreateForm(MembershipForm):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(REQUIRED),
            Email(_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )
    display_name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    submit = SubmitField(_l("Create user"))


class ConfirmForm(FlaskForm):
    """A POST with nothing but its CSRF token: buttons that change state."""

    submit = SubmitField(_l("Confirm"))
