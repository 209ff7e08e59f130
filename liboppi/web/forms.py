"""WTForms forms: every field has a translated label and its own error messages."""

from __future__ import annotations

from babel.support import Translations
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from liboppi.services.accounts import MIN_PASSWORD_LENGTH

REQUIRED = _l("This field is required.")

#: WTForms' own message catalogues by locale, read from disk once per process (Flask-WTF
#: reads the file again on every request that builds a form).
_wtforms_catalogues: dict[str, Translations] = {}


def _wtforms_catalogue(locale: str) -> Translations:
    catalogue = _wtforms_catalogues.get(locale)
    if catalogue is None:
        catalogue = Translations.load(messages_path(), [locale], domain="wtforms")
        _wtforms_catalogues[locale] = catalogue
    return catalogue


class Form(FlaskForm):
    """The base of our forms: Flask-WTF's, with WTForms' messages in the request's language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _wtforms_catalogue(str(get_locale()))


class LoginForm(Form):
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


class PasswordChangeForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    new_password, confirm_password = _new_password_fields()
    submit = SubmitField(_l("Change password"))


class SetPasswordForm(Form):
    new_password, confirm_password = _new_password_fields()
    submit = SubmitField(_l("Set password"))


class LanguageForm(Form):
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


class MembershipForm(Form):
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


class ConfirmForm(Form):
    """A POST with nothing but its CSRF token: buttons that change state."""

    submit = SubmitField(_l("Confirm"))
