"""Reads on the clinic's shared data."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from clinic.models import Closure, Location, ProcedureType, Provider, WeekdayHours


def location_list_with_hours() -> QuerySet[Location]:
    """Locations with their weekday hours and opening ranges preloaded."""
    return Location.objects.prefetch_related(
        Prefetch("weekday_hours", queryset=WeekdayHours.objects.prefetch_related("ranges").order_by("weekday")),
        "rooms__capabilities",
    )


def closure_list_upcoming(*, today: dt.date | None = None, limit: int = 20) -> list[Closure]:
    today = today or timezone.localdate()
    return list(
        Closure.objects.in_force().filter(end_date__gte=today).select_related("location").order_by("start_date")[:limit]
    )


def provider_list_active() -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True).prefetch_related("locations")


def procedure_type_list() -> QuerySet[ProcedureType]:
    return ProcedureType.objects.prefetch_related("required_capabilities", "locations", "follow_up_checks")
