"""The PHI access log: one call records who saw or changed what, from where."""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest

from clinic.client_ip import client_ip  # the lockout's function too: both agree on the client
from clinic.models import AuditEvent

__all__ = ["audit_record", "audit_record_many", "client_ip"]


def _event(*, request: HttpRequest, action: str, obj: models.Model, summary: str) -> AuditEvent:
    """One unsaved access row: who (the user behind ``request``), what, from where."""
    user = request.user if request.user.is_authenticated else None
    return AuditEvent(
        actor=user,
        actor_label=user.email if user else "anonymous",
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        summary=summary[:300],
        ip_address=client_ip(request),
        path=request.get_full_path()[:300],
    )


def audit_record(*, request: HttpRequest, action: str, obj: models.Model, summary: str = "") -> AuditEvent:
    """Record one access to a PHI record by the user behind ``request``."""
    event = _event(request=request, action=action, obj=obj, summary=summary)
    event.save()
    return event


def audit_record_many(
    *, request: HttpRequest, action: str, objs: list[models.Model], summary: str = ""
) -> list[AuditEvent]:
    """``audit_record`` for each of ``objs`` (a printed list of patients), in one insert."""
    return AuditEvent.objects.bulk_create(
        [_event(request=request, action=action, obj=obj, summary=summary) for obj in objs]
    )
