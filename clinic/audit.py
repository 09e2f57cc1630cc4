"""The PHI access log: who saw, changed or was refused which record, from where.

Recording is structural rather than remembered by each view:

- the access helpers that load a PHI object (``get_referral_for_user``, ``get_appointment``,
  ...) call ``audit_view`` before returning it and ``audit_refused`` before raising 404;
- list, calendar and queue pages call ``audit_record_many`` with the patients they show;
- each service that writes PHI calls ``audit_write`` inside its transaction;
- ``user_login_failed`` writes a row per failed login.

Helpers and services are given a user, not a request: ``AuditOriginMiddleware`` keeps the
current request in a context variable so every row gets its IP and path, and so a page that
loads the same object twice, or loads it and then writes it, gets one row (the write
upgrades the view's row) rather than one per call.

Each project view states whether it renders PHI (``phi_page``, ``phi_list``, ``not_phi``);
``tests/test_audit_coverage.py`` walks the resolver and fails on a view that says
neither, and checks each PHI view writes its row.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable

from django.contrib.auth.signals import user_login_failed
from django.db import models
from django.dispatch import receiver
from django.http import HttpRequest

from clinic.client_ip import client_ip  # the lockout's function too: both agree on the client
from clinic.models import AuditEvent

# The label of the patient model (in referrals, which clinic may not import).
PATIENT_LABEL = "referrals.Patient"
LOGIN_FAILED_OBJECT = "clinic.User"
MAX_PATH = 300
MAX_SUMMARY = 300

_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("audit_request", default=None)


class AuditOriginMiddleware:
    """Make the current request (its IP, path and the rows already written for it) known to
    the access helpers and services, which are given a user rather than a request."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def current_request() -> HttpRequest | None:
    return _current_request.get()


# --- Which views render PHI --------------------------------------------------------------

PHI_PAGE = "page"  # one record: exactly one row per view
PHI_LIST = "list"  # a list of patients: one row per patient shown, in one insert
PHI_WRITE = "write"  # POST only: its access helper and service write the row
NOT_PHI = "none"


def phi_page(view: Callable) -> Callable:
    """Mark a view that shows one PHI record (its access helper writes the row)."""
    view.audit_kind = PHI_PAGE
    return view


def phi_list(view: Callable) -> Callable:
    """Mark a view that lists patients (it calls ``audit_record_many``)."""
    view.audit_kind = PHI_LIST
    return view


def phi_write(view: Callable) -> Callable:
    """Mark a POST-only view that changes a PHI record (its service writes the row)."""
    view.audit_kind = PHI_WRITE
    return view


def not_phi(reason: str) -> Callable[[Callable], Callable]:
    """Mark a view that shows no PHI, saying why (read by the coverage test)."""

    def mark(view: Callable) -> Callable:
        view.audit_kind = NOT_PHI
        view.audit_reason = reason
        return view

    return mark


# --- Writing rows --------------------------------------------------------------------------


def patient_pk_of(obj: models.Model) -> int | None:
    """The patient a record concerns: itself, its ``patient``, or its appointment's or
    referral's patient (relations the access helpers preload)."""
    if obj._meta.label == PATIENT_LABEL:
        return obj.pk
    if getattr(obj, "patient_id", None) is not None:
        return obj.patient_id
    for parent in ("appointment", "referral"):
        if getattr(obj, f"{parent}_id", None) is not None:
            return getattr(obj, parent).patient_id
    return None


def _event(
    *, user, request: HttpRequest | None, action: str, object_type: str, object_id: str, summary: str,
    patient_pk: int | None,
) -> AuditEvent:  # fmt: skip
    """One unsaved row: who, what, from where."""
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEvent(
        actor=user,
        actor_label=user.email if user else "anonymous",
        action=action,
        object_type=object_type,
        object_id=object_id[:40],
        patient_pk=patient_pk,
        summary=summary[:MAX_SUMMARY],
        ip_address=client_ip(request) if request is not None else None,
        path=_path_of(request),
    )


def _path_of(request: HttpRequest | None) -> str:
    """The path asked for, with a patient link's token cut out (it is a credential)."""
    if request is None:
        return ""
    path = request.get_full_path()
    token = (request.resolver_match.kwargs.get("token") if request.resolver_match else None) or ""
    if token:
        path = path.replace(token, "…")
    return path[:MAX_PATH]


def _written(request: HttpRequest | None) -> dict[tuple[str, str], AuditEvent]:
    """The rows already written for this request, by record: one row per record per page."""
    if request is None:
        return {}
    if not hasattr(request, "_audit_written"):
        request._audit_written = {}
    return request._audit_written


def _record(*, user, request: HttpRequest | None, action: str, obj: models.Model, summary: str) -> AuditEvent:
    key = (obj._meta.label, str(obj.pk))
    written = _written(request)
    earlier = written.get(key)
    if earlier is not None:
        # Loaded twice, or loaded then written: the page's one row says the most that happened.
        if action != AuditEvent.Action.VIEW and earlier.action == AuditEvent.Action.VIEW:
            earlier.action, earlier.summary = action, summary[:MAX_SUMMARY]
            earlier.save(update_fields=["action", "summary"])
        return earlier
    event = _event(
        user=user, request=request, action=action, object_type=key[0], object_id=key[1], summary=summary,
        patient_pk=patient_pk_of(obj),
    )  # fmt: skip
    event.save()
    if request is not None:
        written[key] = event
    return event


def audit_record(*, request: HttpRequest, action: str, obj: models.Model, summary: str = "") -> AuditEvent:
    """Record one access to a PHI record by the user behind ``request``."""
    return _record(user=request.user, request=request, action=action, obj=obj, summary=summary)


def audit_view(*, user, obj: models.Model, action: str = AuditEvent.Action.VIEW, summary: str = "") -> AuditEvent:
    """An access helper's row: ``user`` was shown ``obj`` (once per page, however often loaded)."""
    return _record(user=user, request=current_request(), action=action, obj=obj, summary=summary)


def audit_write(*, actor, action: str, obj: models.Model, summary: str = "") -> AuditEvent:
    """A service's row for a write it just made (``actor`` None: the patient, through a link)."""
    return _record(user=actor, request=current_request(), action=action, obj=obj, summary=summary)


def audit_refused(*, user, object_type: str, object_id: object, summary: str = "") -> AuditEvent | None:
    """A refused attempt: ``user`` asked for a record they may not see (or one that does not
    exist: the answer is the same 404, and so is the row)."""
    request = current_request()
    key = (f"refused:{object_type}", str(object_id))
    written = _written(request)
    if key in written:
        return written[key]
    event = _event(
        user=user, request=request, action=AuditEvent.Action.REFUSED, object_type=object_type,
        object_id=str(object_id), summary=summary, patient_pk=None,
    )  # fmt: skip
    event.save()
    if request is not None:
        written[key] = event
    return event


def audit_record_many(
    *, request: HttpRequest, action: str, objs: Iterable[models.Model], summary: str = ""
) -> list[AuditEvent]:
    """``audit_record`` for each of ``objs`` (the patients a list shows), in one insert; a
    patient listed twice (two appointments on a calendar) is one row."""
    written = _written(request)
    events = []
    for obj in objs:
        key = (obj._meta.label, str(obj.pk))
        if key in written:
            continue
        event = _event(
            user=request.user, request=request, action=action, object_type=key[0], object_id=key[1],
            summary=summary, patient_pk=patient_pk_of(obj),
        )  # fmt: skip
        written[key] = event
        events.append(event)
    return AuditEvent.objects.bulk_create(events) if events else []


@receiver(user_login_failed, dispatch_uid="clinic.audit.login_failed")
def audit_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> AuditEvent:
    """A durable row per failed login: the identity typed, the IP and the path (axes keeps
    counters, not a history, and masks both in its log lines)."""
    typed = str(credentials.get("username") or credentials.get("email") or "").strip()
    event = _event(
        user=None, request=request or current_request(), action=AuditEvent.Action.LOGIN_FAILED,
        object_type=LOGIN_FAILED_OBJECT, object_id="", summary="", patient_pk=None,
    )  # fmt: skip
    event.actor_label = typed[:254] or "(blank)"
    event.save()
    return event
