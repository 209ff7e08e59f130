"""Errors that services raise for the web and CLI layers to turn into responses."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors a caller is expected to show to a person."""


class NotFound(ServiceError):
    """The thing does not exist, or the actor may not know that it exists."""


class Forbidden(ServiceError):
    """The actor may not do this."""


class Invalid(ServiceError):
    """Input broke a rule; ``field`` names the form field it belongs to, where there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(ServiceError):
    """The thing changed underneath the actor (e.g. two editors saving one module)."""
