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
from clinic.audit import audit_record_many, not_phi, phi_list
from clinic.models import AuditEvent, Closure, Location, Provider
from clinic.roles import Role, role_required
from clinic.services import closure_set_active, weekday_hours_set
from scheduling import selectors
from scheduling.forms.admin import ClosureForm, ExtraAvailabilityForm, TemplateForm, TimeOffForm, WeekdayHoursFormSet
from scheduling.models import AvailabilityTemplate, ExtraAvailability, TimeOff
from scheduling.services import openings
from scheduling.services import provider_calendar as calendar_services
from scheduling.views.shared import int_param

HIT_SEEN = "appointments hit"
HOURS_SAVED = "Hours saved for %(location)s."
CLOSURE_ADDED = "Closure added."
TIME_OFF_ADDED = "Time off added."
TEMPLATE_ADDED = "Weekly hours added."
EXTRA_ADDED = "Extra hours added for that date."
CLOSURE_RESTORED = "%(reason)s restored."
CLOSURE_REMOVED = "%(reason)s removed: open on those days."
TIME_OFF_REMOVED = "Time off removed: %(provider)s is available then again."
EXTRA_REMOVED = "Extra hours on %(date)s removed."
STILL_BOOKED = " The %(count)s appointment%(plural)s booked in it stay%(verb)s booked."
# What removing each row does to the appointments booked in it, for the confirm page.
CLOSURE_REMOVE_EFFECT = "Removing it reopens those days; these appointments stay booked."
TIME_OFF_REMOVE_EFFECT = "Removing it makes the provider available then; these appointments stay booked."
EXTRA_REMOVE_EFFECT = (
    "Removing it closes that date again: these appointments stay booked but fall outside the provider's hours, "
    "so reschedule or cancel each."
)


@not_phi("a location's opening hours")
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


@phi_list
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
    hit = selectors.appointments_hit_by_closure(checked) if checked else []
    _audit_hit(request, hit)
    context = {
        "form": form,
        "checked": checked,
        "hit": hit,
        "upcoming": Closure.objects.filter(end_date__gte=today).select_related("location").order_by("start_date"),
    }
    return render(request, "scheduling/admin/closures.html", context)


def _still_booked(affected: list) -> str:
    if not affected:
        return ""
    many = len(affected) != 1
    return STILL_BOOKED % {"count": len(affected), "plural": "s" if many else "", "verb": "" if many else "s"}


def _audit_hit(request: HttpRequest, appointments: list) -> None:
    """The patients whose appointments a closure or removal page lists."""
    patients = [appointment.patient for appointment in appointments]
    audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=patients, summary=HIT_SEEN)


def _confirm_removal(request, *, what: str, effect: str, affected: list, back: str, action: str = "", fields=None):
    """The page before a removal: what goes, and the appointments booked in it."""
    _audit_hit(request, affected)
    context = {"what": what, "effect": effect, "affected": affected, "back": back, "action": action,
               "fields": fields or {}}  # fmt: skip
    return render(request, "scheduling/admin/remove.html", context)


@phi_list
@role_required(Role.CLINIC_ADMIN)
def closure_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm removing a closure; the button posts to closure_toggle."""
    closure = get_object_or_404(Closure.objects.select_related("location"), pk=pk, is_active=True)
    return _confirm_removal(
        request, what=f"{closure.reason} ({closure.location or 'all locations'}, {closure.start_date:%-d %b %Y}"
        f"{f' to {closure.end_date:%-d %b %Y}' if closure.end_date != closure.start_date else ''})",
        effect=CLOSURE_REMOVE_EFFECT, affected=selectors.appointments_hit_by_closure(closure),
        back=reverse("scheduling:admin_closures"), action=reverse("scheduling:admin_closure_toggle", args=[pk]),
        fields={"active": "0"},
    )  # fmt: skip


@not_phi("POST only: turns a closure on or off (recorded in Django's admin log)")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def closure_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    closure = get_object_or_404(Closure, pk=pk)
    active = request.POST.get("active") == "1"
    affected = [] if active else selectors.appointments_hit_by_closure(closure)
    closure = closure_set_active(closure=closure, active=active, actor=request.user)
    if closure.is_active:
        messages.success(request, CLOSURE_RESTORED % {"reason": closure.reason})
        # Appointments may have been booked while it was off: list any it now hits.
        return redirect(f"{reverse('scheduling:admin_closures')}?closure={closure.pk}")
    messages.success(request, CLOSURE_REMOVED % {"reason": closure.reason} + _still_booked(affected))
    return redirect("scheduling:admin_closures")


@phi_list
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
    hit = selectors.appointments_hit_by_time_off(checked) if checked else []
    _audit_hit(request, hit)
    context = {
        "provider": provider, "template_form": template_form, "time_off_form": time_off_form,
        "extra_form": extra_form, "checked": checked, "hit": hit,
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


@phi_list
@role_required(Role.CLINIC_ADMIN)
def time_off_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what removing this time off affects; POST: remove it."""
    time_off = get_object_or_404(TimeOff.objects.select_related("provider"), pk=pk)
    affected = selectors.appointments_hit_by_time_off(time_off)
    back = reverse("scheduling:admin_provider", args=[time_off.provider_id])
    if request.method == "POST":
        calendar_services.time_off_remove(time_off=time_off, actor=request.user)
        messages.success(request, TIME_OFF_REMOVED % {"provider": time_off.provider} + _still_booked(affected))
        return redirect(back)
    zone = timezone.get_current_timezone()
    starts, ends = (f"{timezone.localtime(moment, zone):%a %-d %b %Y %-I:%M %p}" for moment in
                    (time_off.starts_at, time_off.ends_at))  # fmt: skip
    return _confirm_removal(
        request, what=f"{time_off.provider}'s time off, {starts} to {ends}",
        effect=TIME_OFF_REMOVE_EFFECT, affected=affected, back=back,
    )  # fmt: skip


@phi_list
@role_required(Role.CLINIC_ADMIN)
def extra_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the appointments booked in these extra hours; POST: remove them."""
    extra = get_object_or_404(ExtraAvailability.objects.select_related("provider", "location"), pk=pk)
    affected = selectors.appointments_in_extra_availability(extra)
    back = reverse("scheduling:admin_provider", args=[extra.provider_id])
    if request.method == "POST":
        calendar_services.extra_availability_remove(extra=extra, actor=request.user)
        messages.success(request, EXTRA_REMOVED % {"date": f"{extra.date:%-d %b %Y}"} + _still_booked(affected))
        return redirect(back)
    return _confirm_removal(
        request, what=f"{extra.provider}'s extra hours on {extra.date:%a %-d %b %Y}, {extra.starts:%H:%M}-"
        f"{extra.ends:%H:%M} at {extra.location.name}",
        effect=EXTRA_REMOVE_EFFECT, affected=affected, back=back,
    )  # fmt: skip


@not_phi("POST only: removes a provider's weekly hours")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(AvailabilityTemplate, pk=pk)
    calendar_services.template_remove(template=template, actor=request.user)
    return redirect("scheduling:admin_provider", pk=template.provider_id)
