"""The one spelling of a login identity, shared by the login forms, the user manager and
django-axes, so a lockout counts every way of typing one address as the same person."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest


def login_identity(value: str) -> str:
    """An e-mail address as stored and as counted: surrounding space removed, lower-cased."""
    return value.strip().lower()


def axes_username(request: HttpRequest | None, credentials: Mapping | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: failures, lockouts and the reset on success are per identity.

    Without it axes counts per spelling as typed while authentication matches any case, so
    each spelling got its own failures and a login under one spelling cleared them all.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials if credentials else getattr(request, "POST", None) or {}
    typed = source.get(field)
    return login_identity(typed) if isinstance(typed, str) else None
