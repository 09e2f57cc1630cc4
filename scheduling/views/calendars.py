"""Calendars: one location's day or week, and a provider's own day."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from clinic import localtime
from clinic.models import Location
from clinic.roles import Role, role_required
from scheduling import selectors
from scheduling.views.shared import SCHEDULING_ROLES, date_param

NOT_A_PROVIDER = "Your account is not linked to a provider."


@never_cache
@role_required(*SCHEDULING_ROLES)
def day(request: HttpRequest) -> HttpResponse:
    """One location's day: a column per provider (or per room), appointments in time order."""
    context = _calendar_context(request, days=1)
    if "calendar" in context:
        context["calendar_day"] = context["calendar"].days[0]
    return render(request, "scheduling/day.html", context)


@never_cache
@role_required(*SCHEDULING_ROLES)
def week(request: HttpRequest) -> HttpResponse:
    """One location's week, Monday to Sunday: a row per day, a column per provider (or room)."""
    return render(request, "scheduling/week.html", _calendar_context(request, days=7))


def _calendar_context(request: HttpRequest, *, days: int) -> dict:
    """The location, date and calendar a day (days=1) or week (days=7) page asks for."""
    locations = selectors.calendar_locations()
    location = _pick(locations, request.GET.get("location"))
    if location is None:
        return {"locations": locations}
    today = localtime.today(location.zone)
    anchor = date_param(request, location.zone)
    # A week runs Monday to Sunday on the location's calendar; a day is just itself.
    first = anchor - dt.timedelta(days=anchor.weekday()) if days == 7 else anchor
    by_room = request.GET.get("view") == "rooms"
    calendar = selectors.location_calendar(location=location, first=first, days=days, by_room=by_room)
    return {
        "locations": locations, "location": location, "calendar": calendar, "by_room": by_room, "today": today,
        "day": anchor, "first": first, "last": first + dt.timedelta(days=days - 1),
        "previous": first - dt.timedelta(days=days), "next": first + dt.timedelta(days=days),
    }  # fmt: skip


def _pick(locations: list[Location], wanted: str | None) -> Location | None:
    for location in locations:
        if str(location.pk) == wanted:
            return location
    return locations[0] if locations else None


@never_cache
@role_required(Role.PROVIDER)
def my_day(request: HttpRequest) -> HttpResponse:
    provider = selectors.provider_for_user(request.user)
    if provider is None:
        return render(request, "scheduling/my_day.html", {"error": NOT_A_PROVIDER})
    # The day is counted on the wall clock of the provider's (first) location.
    home = next(iter(provider.locations.all()), None)
    zone = home.zone if home else timezone.get_current_timezone()
    the_day = date_param(request, zone)
    start, end = localtime.day_bounds(the_day, zone)
    appointments = selectors.appointments_between(start=start, end=end, provider=provider)
    context = {"provider": provider, "home": home, "day": the_day, "appointments": appointments,
               "previous": the_day - dt.timedelta(days=1), "next": the_day + dt.timedelta(days=1)}  # fmt: skip
    return render(request, "scheduling/my_day.html", context)
