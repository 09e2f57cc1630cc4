"""The clinic admin's calendar pages: weekday hours, closures and holidays, provider
templates and time off. A closure or time off that hits booked appointments lists them,
each with a way to reschedule or cancel it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic import localtime
from clinic.models import Closure, Location, Provider
from clinic.roles import Role, role_required
from clinic.services import closure_set_active, weekday_hours_set
from scheduling import selectors
from scheduling.forms.admin import ClosureForm, ExtraAvailabilityForm, TemplateForm, TimeOffForm, WeekdayHoursFormSet
from scheduling.models import AvailabilityTemplate, ExtraAvailability, TimeOff
from scheduling.services import openings
from scheduling.views.shared import int_param

HOURS_SAVED = "Hours saved for %(location)s."
CLOSURE_ADDED = "Closure added."
TIME_OFF_ADDED = "Time off added."
TEMPLATE_ADDED = "Weekly hours added."
EXTRA_ADDED = "Extra hours added for that date."


@role_required(Role.CLINIC_ADMIN)
def hours(request: HttpRequest, location_pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=location_pk)
    days = {day.weekday: day for day in location.weekday_hours.prefetch_related("ranges")}
    initial = [
        {"weekday": w, "mode": days[w].mode if w in days else "closed",
         "ranges": ", ".join(str(r) for r in days[w].ranges.all()) if w in days else ""}
        for w in range(7)
    ]  # fmt: skip
    formset = WeekdayHoursFormSet(request.POST or None, initial=initial)
    if request.method == "POST" and formset.is_valid():
        for form in formset:
            data = form.cleaned_data
            weekday_hours_set(location=location, weekday=data["weekday"], mode=data["mode"], ranges=data["parsed"])
        messages.success(request, HOURS_SAVED % {"location": location.name})
        return redirect("scheduling:admin_hours", location_pk=location.pk)
    return render(request, "scheduling/admin/hours.html", {"location": location, "formset": formset})


@role_required(Role.CLINIC_ADMIN)
def closures(request: HttpRequest) -> HttpResponse:
    form = ClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        closure = form.save()
        messages.success(request, CLOSURE_ADDED)
        return redirect(f"{reverse('scheduling:admin_closures')}?closure={closure.pk}")
    # ?closure= lists what a closure hits until each is moved or cancelled: the page can be
    # reloaded, and the admin comes back to it after each reschedule.
    closure_pk = int_param(request, "closure")
    checked = Closure.objects.in_force().filter(pk=closure_pk).first() if closure_pk else None
    today = localtime.clinic_today()  # closures may cover every location
    context = {
        "form": form,
        "checked": checked,
        "hit": selectors.appointments_hit_by_closure(checked) if checked else [],
        "upcoming": Closure.objects.filter(end_date__gte=today).select_related("location").order_by("start_date"),
    }
    return render(request, "scheduling/admin/closures.html", context)


@require_POST
@role_required(Role.CLINIC_ADMIN)
def closure_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    closure = closure_set_active(closure=get_object_or_404(Closure, pk=pk), active=request.POST.get("active") == "1")
    messages.success(request, f"{closure.reason} {'restored' if closure.is_active else 'removed: open on those days'}.")
    if closure.is_active:
        # Appointments may have been booked while it was off: list any it now hits.
        return redirect(f"{reverse('scheduling:admin_closures')}?closure={closure.pk}")
    return redirect("scheduling:admin_closures")


@role_required(Role.CLINIC_ADMIN)
def provider_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    template_form = TemplateForm(request.POST if "template" in request.POST else None, provider=provider)
    time_off_form = TimeOffForm(request.POST if "time_off" in request.POST else None, provider=provider)
    extra_form = ExtraAvailabilityForm(request.POST if "extra" in request.POST else None, provider=provider)
    if "template" in request.POST and template_form.is_valid():
        template_form.save()
        messages.success(request, TEMPLATE_ADDED)
        return redirect("scheduling:admin_provider", pk=provider.pk)
    if "extra" in request.POST and extra_form.is_valid() and _extra_add(request, provider, extra_form):
        messages.success(request, EXTRA_ADDED)
        return redirect("scheduling:admin_provider", pk=provider.pk)
    if "time_off" in request.POST and time_off_form.is_valid():
        time_off = time_off_form.save()
        messages.success(request, TIME_OFF_ADDED)
        return redirect(f"{reverse('scheduling:admin_provider', args=[provider.pk])}?time_off={time_off.pk}")
    time_off_pk = int_param(request, "time_off")
    checked = TimeOff.objects.filter(provider=provider, pk=time_off_pk).first() if time_off_pk else None
    context = {
        "provider": provider, "template_form": template_form, "time_off_form": time_off_form,
        "extra_form": extra_form, "checked": checked,
        "hit": selectors.appointments_hit_by_time_off(checked) if checked else [],
        "templates": AvailabilityTemplate.objects.filter(provider=provider).select_related("location"),
        "time_off": TimeOff.objects.filter(provider=provider, ends_at__gte=timezone.now()),
        "extra": ExtraAvailability.objects.filter(provider=provider, date__gte=localtime.clinic_today())
        .select_related("location"),
    }  # fmt: skip
    return render(request, "scheduling/admin/provider.html", context)


def _extra_add(request: HttpRequest, provider: Provider, form) -> bool:
    """Open the date through the one writer (who did it is recorded); its refusals go on the form."""
    try:
        openings.extra_availability_add(actor=request.user, provider=provider, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    return True


@require_POST
@role_required(Role.CLINIC_ADMIN)
def extra_delete(request: HttpRequest, pk: int) -> HttpResponse:
    extra = get_object_or_404(ExtraAvailability, pk=pk)
    extra.delete()
    return redirect("scheduling:admin_provider", pk=extra.provider_id)


@require_POST
@role_required(Role.CLINIC_ADMIN)
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(AvailabilityTemplate, pk=pk)
    template.delete()
    return redirect("scheduling:admin_provider", pk=template.provider_id)
