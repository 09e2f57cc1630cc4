"""The clinic admin's calendar pages: weekday hours, closures and holidays, provider
templates and time off. A closure or time off that hits booked appointments lists them,
each with a way to reschedule or cancel it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.models import Closure, Location, Provider
from clinic.roles import Role, role_required
from clinic.services import closure_set_active, weekday_hours_set
from scheduling import selectors
from scheduling.admin_forms import ClosureForm, TemplateForm, TimeOffForm, WeekdayHoursFormSet
from scheduling.models import AvailabilityTemplate, TimeOff

HOURS_SAVED = "Hours saved for %(location)s."
CLOSURE_ADDED = "Closure added."
TIME_OFF_ADDED = "Time off added."
TEMPLATE_ADDED = "Weekly hours added."


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
    hit = []
    if request.method == "POST" and form.is_valid():
        closure = form.save()
        messages.success(request, CLOSURE_ADDED)
        hit = selectors.appointments_hit_by_closure(closure)
        if not hit:
            return redirect("scheduling:admin_closures")
        form = ClosureForm()
    today = timezone.localdate()
    context = {
        "form": form,
        "hit": hit,
        "upcoming": Closure.objects.filter(end_date__gte=today).select_related("location").order_by("start_date"),
    }
    return render(request, "scheduling/admin/closures.html", context)


@require_POST
@role_required(Role.CLINIC_ADMIN)
def closure_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    closure = closure_set_active(closure=get_object_or_404(Closure, pk=pk), active=request.POST.get("active") == "1")
    messages.success(request, f"{closure.reason} {'restored' if closure.is_active else 'removed: open on those days'}.")
    return redirect("scheduling:admin_closures")


@role_required(Role.CLINIC_ADMIN)
def provider_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    template_form = TemplateForm(request.POST if "template" in request.POST else None, provider=provider)
    time_off_form = TimeOffForm(request.POST if "time_off" in request.POST else None, provider=provider)
    hit = []
    if "template" in request.POST and template_form.is_valid():
        template_form.save()
        messages.success(request, TEMPLATE_ADDED)
        return redirect("scheduling:admin_provider", pk=provider.pk)
    if "time_off" in request.POST and time_off_form.is_valid():
        hit = selectors.appointments_hit_by_time_off(time_off_form.save())
        messages.success(request, TIME_OFF_ADDED)
        if not hit:
            return redirect("scheduling:admin_provider", pk=provider.pk)
        time_off_form = TimeOffForm(provider=provider)
    context = {
        "provider": provider, "template_form": template_form, "time_off_form": time_off_form, "hit": hit,
        "templates": AvailabilityTemplate.objects.filter(provider=provider).select_related("location"),
        "time_off": TimeOff.objects.filter(provider=provider, ends_at__gte=timezone.now()),
    }  # fmt: skip
    return render(request, "scheduling/admin/provider.html", context)


@require_POST
@role_required(Role.CLINIC_ADMIN)
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(AvailabilityTemplate, pk=pk)
    template.delete()
    return redirect("scheduling:admin_provider", pk=template.provider_id)
