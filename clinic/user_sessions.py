"""Who is logged in where, and ending it: every login is recorded as a ``UserSession``, a
login lasts at most ``SESSION_ABSOLUTE_HOURS`` however active, and a password change or a
deactivation ends every session of the person.

The session store (the database engine, Django's default) remains the truth of whether a
session is alive: ending one deletes it from the store, and "last seen" is read from the
store's expiry, which ``SESSION_SAVE_EVERY_REQUEST`` moves on every request, so recording
activity costs no extra write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinic.audit import audit_write, client_ip
from clinic.models import AuditEvent, User, UserSession

# In the session: when the person logged in (epoch seconds) and the key it was recorded under.
LOGIN_AT = "_clinic_login_at"
RECORDED_KEY = "_clinic_recorded_key"
USER_AGENT_MAX = UserSession._meta.get_field("user_agent").max_length


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


# --- Recording -------------------------------------------------------------------------------


def session_record(*, request: HttpRequest, user: User, started_at: dt.datetime | None = None) -> UserSession:
    """Record the session behind ``request`` as one of ``user``'s (at login, or after a
    password change gave the session a new key)."""
    if request.session.session_key is None:
        request.session.save()  # a flushed session has no key until saved
    key = request.session.session_key
    started_at = started_at or timezone.now()
    row, _ = UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
            "started_at": started_at,
        },
    )
    request.session[LOGIN_AT] = started_at.timestamp()
    request.session[RECORDED_KEY] = key
    return row


def _on_login(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    _forget_dead(user=user)
    session_record(request=request, user=user)


def _on_logout(sender, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


def _on_user_saved(sender, instance: User, created: bool, **kwargs) -> None:
    """A new password saved ends every session of the person; Django's password-change view
    then gives the current session a new key, which the middleware records again, so the
    person who changed it stays logged in there."""
    if instance.password_changed_unsaved and not created:
        instance.__dict__.pop("_password_unusable", None)
        sessions_end(user=instance)


def _forget_dead(*, user: User) -> None:
    """Drop the rows of this user's sessions that expired in the store (idle timeout)."""
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    alive = set(Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
        "session_key", flat=True))  # fmt: skip
    dead = set(keys) - alive
    if dead:
        UserSession.objects.filter(session_key__in=dead).delete()


def connect_signals() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="clinic.user_sessions.login")
    user_logged_out.connect(_on_logout, dispatch_uid="clinic.user_sessions.logout")
    post_save.connect(_on_user_saved, sender=User, dispatch_uid="clinic.user_sessions.password")


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveSession:
    row: UserSession
    last_seen_at: dt.datetime


def sessions_active(*, user: User) -> list[ActiveSession]:
    """The user's sessions still alive in the store, latest login first (two queries)."""
    rows = list(UserSession.objects.filter(user=user))
    expiries = dict(
        Session.objects.filter(session_key__in=[row.session_key for row in rows], expire_date__gt=timezone.now())
        .values_list("session_key", "expire_date")
    )  # fmt: skip
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return [ActiveSession(row, expiries[row.session_key] - idle) for row in rows if row.session_key in expiries]


# --- Ending ----------------------------------------------------------------------------------


def _end_keys(keys: Iterable[str]) -> int:
    keys = list(keys)
    store = _store()
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def sessions_end(*, user: User) -> int:
    """End every session of ``user`` (deactivation, password change); returns how many."""
    keys = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    return _end_keys(keys)


def user_session_end(*, actor: User, session: UserSession) -> None:
    """A clinic admin ends one of a person's sessions; audited."""
    _end_keys([session.session_key])
    audit_write(actor=actor, action=AuditEvent.Action.UPDATE, obj=session.user,
                summary=f"Ended a session of {session.user.email} (logged in {session.started_at:%Y-%m-%d %H:%M} UTC"
                        f" from {session.ip_address or 'unknown address'})")  # fmt: skip


# --- The absolute lifetime -------------------------------------------------------------------


class SessionLifetimeMiddleware:
    """Ends a login ``SESSION_ABSOLUTE_HOURS`` after it began, however active (the idle
    timeout is the session cookie's age), and records a session whose key a password change
    cycled. Reads only the session, which the session middleware loads anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        login_at = request.session.get(LOGIN_AT)
        if login_at is not None and _past_lifetime(login_at):
            logout(request)
            return redirect_to_login(request.get_full_path())
        response = self.get_response(request)
        self._record_cycled_key(request)
        return response

    @staticmethod
    def _record_cycled_key(request: HttpRequest) -> None:
        recorded = request.session.get(RECORDED_KEY)
        if recorded is None or recorded == request.session.session_key or not request.user.is_authenticated:
            return
        started = dt.datetime.fromtimestamp(request.session[LOGIN_AT], tz=dt.UTC)
        session_record(request=request, user=request.user, started_at=started)


def _past_lifetime(login_at: float) -> bool:
    return timezone.now().timestamp() - login_at > settings.SESSION_ABSOLUTE_HOURS * 3600
