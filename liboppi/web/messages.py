"""Translated messages for the error codes that services raise."""

from __future__ import annotations

from flask_babel import gettext as _


def service_message(code: str) -> str:
    """A person-readable, translated message for a service error code."""
    name, _sep, arg = code.partition(":")
    messages = {
        "too_short": lambda: _("Use at least %(n)s characters.", n=arg),
        "wrong_current_password": lambda: _("The current password is not correct."),
        "link_expired": lambda: _("This link has expired. Ask your administrator for a new one."),
        "link_invalid": lambda: _(
            "This link is not valid or has already been used. Ask your administrator for a new one."
        ),
        "unknown_locale": lambda: _("Unknown language."),
        "region_required": lambda: _("Choose a region for this role."),
        "library_required": lambda: _("Choose a library for this role."),
        "invalid_email": lambda: _("Enter a valid email address."),
        "required": lambda: _("This field is required."),
        "email_taken": lambda: _("A user with this email address already exists."),
        "cannot_deactivate_self": lambda: _("You cannot deactivate your own account."),
    }
    make = messages.get(name)
    return make() if make else _("The input was not accepted.")
