"""Calendars: one location's day or week, and a provider's own day."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from clinic import localtime
from clinic.audit import audit_record_many, not_phi, phi_list
from clinic.models import AuditEvent, Location, Provider
from clinic.roles import Role, role_required
from scheduling import selectors
from scheduling.forms.calendars import OpenDayForm
from scheduling.services import openings
from scheduling.services.patient_mail import preparation_of
from scheduling.views.shared import SCHEDULING_ROLES, date_param, int_param

NOT_A_PROVIDER = "Your account is not linked to a provider."
DAY_SHEET_SEEN = "day sheet"
CALENDAR_SEEN = "calendar"
MY_DAY_SEEN = "my day"
DAY_OPENED = "{day} opened for {provider}."


@phi_list
@role_required(*SCHEDULING_ROLES)
def day(request: HttpRequest) -> HttpResponse:
    """One location's day: a column per provider (or per room), appointments in time order."""
    context = _calendar_context(request, days=1)
    if "calendar" in context:
        context["calendar_day"] = context["calendar"].days[0]
    return render(request, "scheduling/day.html", context)


@phi_list
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
    _audit_patients(request, [a for calendar_day in calendar.days for a in calendar_day.appointments], CALENDAR_SEEN)
    # Whose day this user may open from the calendar ("Open this day for ..."): heads are providers.
    openable = [] if by_room else [h for h in calendar.heads if openings.may_open_day(user=request.user, provider=h)]
    return {
        "locations": locations, "location": location, "calendar": calendar, "by_room": by_room, "today": today,
        "openable": openable,
        "day": anchor, "first": first, "last": first + dt.timedelta(days=days - 1),
        "previous": first - dt.timedelta(days=days), "next": first + dt.timedelta(days=days),
    }  # fmt: skip


@not_phi("a form to open a provider's day: names the provider and date, no patient")
@role_required(*SCHEDULING_ROLES)
def open_day(request: HttpRequest) -> HttpResponse:
    """Open a by-appointment or closed weekday for one provider (extra availability)."""
    location, provider, the_day = _opening_target(request)
    if not openings.may_open_day(user=request.user, provider=provider):
        raise PermissionDenied(openings.NOT_YOUR_DAY)
    form = OpenDayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            openings.extra_availability_add(
                actor=request.user, provider=provider, location=location, date=the_day, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, DAY_OPENED.format(provider=provider, day=f"{the_day:{localtime.DAY_FORMAT}}"))
            return redirect(f"{reverse('scheduling:day')}?location={location.pk}&date={the_day:%Y-%m-%d}")
    context = {"form": form, "location": location, "provider": provider, "day": the_day}
    return render(request, "scheduling/open_day.html", context)


def _opening_target(request: HttpRequest) -> tuple[Location, Provider, dt.date]:
    """The location, one of its active providers and the date asked for; 404 for anything else."""
    location_pk, provider_pk = int_param(request, "location"), int_param(request, "provider")
    location = get_object_or_404(Location, pk=location_pk or 0, is_active=True)
    provider = get_object_or_404(Provider, pk=provider_pk or 0, is_active=True, locations=location)
    try:
        the_day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        raise Http404 from None
    return location, provider, the_day


def _errors_to_form(form: OpenDayForm, exc: ValidationError) -> None:
    """The service's refusals next to the field they concern (the date is not a field here)."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _pick(locations: list[Location], wanted: str | None) -> Location | None:
    for location in locations:
        if str(location.pk) == wanted:
            return location
    return locations[0] if locations else None


@phi_list
@role_required(Role.PROVIDER)
def my_day(request: HttpRequest) -> HttpResponse:
    provider = selectors.provider_for_user(request.user)
    if provider is None:
        return render(request, "scheduling/my_day.html", {"error": NOT_A_PROVIDER})
    context = _provider_day(request, provider)
    context["appointments"] = selectors.appointments_between(
        start=context["start"], end=context["end"], provider=provider
    )
    _audit_patients(request, context["appointments"], MY_DAY_SEEN)
    return render(request, "scheduling/my_day.html", context)


def _audit_patients(request: HttpRequest, appointments, page: str) -> None:
    """The patients a calendar shows, one row each (once however many appointments), one insert."""
    patients = [appointment.patient for appointment in appointments]
    audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=patients, summary=page)


@phi_list
@role_required(Role.PROVIDER)
def day_sheet(request: HttpRequest) -> HttpResponse:
    """The provider's day on paper: who, when, what, where and how to prepare, in time order."""
    provider = selectors.provider_for_user(request.user)
    if provider is None:
        return render(request, "scheduling/my_day.html", {"error": NOT_A_PROVIDER})
    context = _provider_day(request, provider)
    appointments = selectors.day_sheet_appointments(start=context["start"], end=context["end"], provider=provider)
    rows = [(appointment, preparation_of(appointment)) for appointment in appointments]
    # The sheet shows each patient's name, date of birth and record number: one view each.
    _audit_patients(request, appointments, DAY_SHEET_SEEN)
    context["rows"] = rows
    return render(request, "scheduling/day_sheet.html", context)


def _provider_day(request: HttpRequest, provider: Provider) -> dict:
    """The day asked for, counted on the wall clock of the provider's (first) location."""
    home = next(iter(provider.locations.all()), None)
    zone = home.zone if home else timezone.get_current_timezone()
    the_day = date_param(request, zone)
    start, end = localtime.day_bounds(the_day, zone)
    return {"provider": provider, "home": home, "day": the_day, "start": start, "end": end,
            "previous": the_day - dt.timedelta(days=1), "next": the_day + dt.timedelta(days=1)}  # fmt: skip
