"""What several scheduling pages share: who may use them, and reading query parameters."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest

from clinic import localtime, query_params
from clinic.roles import Role

# Clinic admins too: a closure or time off they add lists the appointments it hits, and they
# move or cancel each through the finder and the appointment page.
SCHEDULING_ROLES = (Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN)


def date_param(request: HttpRequest, zone) -> dt.date:
    """The ?date= asked for, or today in that zone (a malformed or far-off date also means
    today: ``clinic.query_params`` bounds it)."""
    today = localtime.today(zone)
    return query_params.date_param(request, "date", today=today) or today


int_param = query_params.int_param
