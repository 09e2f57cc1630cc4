"""What several scheduling pages share: who may use them, and reading query parameters."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest

from clinic import localtime
from clinic.roles import Role

# Clinic admins too: a closure or time off they add lists the appointments it hits, and they
# move or cancel each through the finder and the appointment page.
SCHEDULING_ROLES = (Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN)


def date_param(request: HttpRequest, zone) -> dt.date:
    """The ?date= asked for, or today in that zone (a malformed date also means today)."""
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return localtime.today(zone)


def int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None
