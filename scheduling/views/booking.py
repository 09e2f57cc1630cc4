"""Scheduling pages: the queue, the slot finder and booking, and an appointment's page."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic import localtime, query_params
from clinic.audit import audit_record, audit_record_many, phi_list, phi_page, phi_write
from clinic.models import AuditEvent, Location
from clinic.roles import Role, has_role, role_required
from referrals.models import Patient, Referral
from referrals.selectors import patients_search
from scheduling import selectors
from scheduling.forms.booking import BookForm, CancelForm, PatientPickForm, SlotSearchForm, StatusForm
from scheduling.models import Appointment, ProcedureOrder
from scheduling.services import booking as services
from scheduling.services.status import appointment_set_status
from scheduling.views.shared import SCHEDULING_ROLES

BOOKED = "Booked: %(summary)s"
MOVED = "Moved: %(summary)s"
CANCELLED = "Appointment cancelled; the time is free again."
STATUS_CHANGED = "Appointment is now %(status)s."
FINDER = "Slot finder"


@phi_list
@role_required(Role.SCHEDULER)
def queue(request: HttpRequest) -> HttpResponse:
    """Accepted referrals (first visits) and open procedure orders, each paginated."""
    referrals = list(selectors.referrals_to_schedule())
    orders = Paginator(selectors.orders_to_schedule(), ORDERS_PER_PAGE).get_page(request.GET.get("orders_page"))
    audit_record_many(
        request=request, action=AuditEvent.Action.VIEW, objs=[*referrals, *orders], summary="scheduling queue"
    )
    return render(request, "scheduling/queue.html", {"referrals": referrals, "orders": orders})


ORDERS_PER_PAGE = 25


# When one provider is chosen the finder shows their whole week; for any provider the
# soonest times, grouped by provider per day.
WEEK = dt.timedelta(days=7)
ANY_PROVIDER_LIMIT = 60
PICKER_MATCHES = 20  # the picker lists the first 20 matches; typing more narrows them


@phi_page
@role_required(*SCHEDULING_ROLES)
def find(request: HttpRequest) -> HttpResponse:
    """Search free slots for one patient; a referral or an appointment being moved fills
    in the rest. What booking would refuse whatever the time is said up front instead."""
    # Opened from the queue (?referral=) the search runs at once with the referral's
    # first visit and provider filled in; opened to move an appointment, with its provider.
    data = request.GET.copy()
    for name, value in _finder_initial(request).items():
        if value is not None:
            data.setdefault(name, value)
    # Opened with only a patient (?patient=), nothing is searched until a procedure is chosen.
    form = SlotSearchForm(data) if data.get("procedure_type") else SlotSearchForm(initial=data.dict())
    picker = PatientPickForm(request.GET if "q" in request.GET else None)
    context = {"form": form, "picker": picker, "offered_at": timezone.now()}
    patient, referral, appointment, order = _subject(form.cleaned_data if form.is_valid() else _ids(form))
    context.update(patient=patient, referral=referral, appointment=appointment, context_referral=referral, order=order)
    if patient is None and picker.is_valid():
        context["matches"] = list(patients_search(picker.cleaned_data["q"])[:PICKER_MATCHES])
        audit_record_many(request=request, action=AuditEvent.Action.VIEW, objs=context["matches"], summary=FINDER)
    if patient is not None:
        audit_record(request=request, action=AuditEvent.Action.VIEW, obj=patient, summary=FINDER)
        context["context_referral"] = referral or _latest_referral(patient)
    procedure_type = form.cleaned_data.get("procedure_type") if form.is_valid() else None
    if order is None and patient is not None and procedure_type is not None and appointment is None:
        # The patient picked and the procedure chosen: their open order for it, if there is one.
        order = selectors.orders_to_schedule().filter(patient=patient, procedure_type=procedure_type).first()
        context["order"] = order
    problem = _up_front_problem(patient, referral, appointment, order=order, procedure_type=procedure_type)
    if problem:
        context.update(problem=problem, accepted_referrals=_accepted_referrals(patient))
    elif form.is_bound and form.is_valid():
        context.update(_search(form.cleaned_data, patient, appointment, order))
        context["next_week_query"] = _query(data, from_date=context["next_week"].isoformat())
    # Picking a patient (or another one) starts over from the procedure, place and provider.
    context["pick_query"] = _query(data, drop=("patient", "referral", "appointment", "order", "q", "from_date"))
    return render(request, "scheduling/find.html", context)


def _query(data, *, drop: tuple[str, ...] = (), **values: str) -> str:
    """The search's query string with some parameters dropped or replaced."""
    query = data.copy()
    for name in (*drop, *values):
        query.pop(name, None)
    query.update(values)
    return query.urlencode()


def _accepted_referrals(patient):
    if patient is None:
        return []
    return list(patient.referrals.filter(status=Referral.Status.ACCEPTED).order_by("received_at", "pk"))


def _search(data: dict, patient, appointment, order) -> dict:
    """Free slots: a week of the chosen provider, or the soonest times of any provider,
    judged at the site being booked (the moved appointment's, or the order's), as booking
    judges it: the coverage rules count per region."""
    zone = (data["location"] or data["procedure_type"].locations.first() or Location()).zone
    now = timezone.now()
    first_day = data["from_date"] or localtime.today(zone, now=now)
    start = max(now, localtime.day_start(first_day, zone))
    week = data["provider"] is not None
    search = selectors.find_slots(
        procedure_type=data["procedure_type"], location=data["location"], provider=data["provider"],
        patient=patient, start=start, exclude_appointment_id=appointment.pk if appointment else None,
        site=_site_of(appointment, order), end=localtime.day_start(first_day + WEEK, zone) if week else None,
        limit=None if week else ANY_PROVIDER_LIMIT,
    )  # fmt: skip
    return {"search": search, "week_of": first_day if week else None, "next_week": first_day + WEEK}


def _site_of(appointment, order) -> dict | None:
    booked_from = appointment or order
    return booked_from.site_values() if booked_from is not None else None


def _ids(form: SlotSearchForm) -> dict:
    """The subject's ids from a search that cannot run yet (no procedure chosen)."""
    return {name: _pk(form[name].value()) for name in ("patient", "referral", "appointment", "order")}


def _up_front_problem(patient, referral, appointment, *, order=None, procedure_type=None) -> str:
    """Why booking would refuse any time for this search ("" when nothing does)."""
    try:
        if appointment is not None:
            services.check_movable(appointment)
        else:
            booked_under = services.booking_referral(patient=patient, referral=referral)
            if procedure_type is not None:
                services.booking_order(
                    patient=patient, procedure_type=procedure_type, referral=booked_under, order=order
                )
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def _latest_referral(patient):
    return (
        Referral.objects.filter(patient=patient)
        .select_related("requested_procedure")
        .order_by("-received_at", "-pk")
        .first()
    )


def _finder_initial(request: HttpRequest) -> dict:
    """What the referral (its first visit and preferred provider) or the appointment being
    moved (its provider: a move keeps the provider unless the scheduler changes it) fills in."""
    initial = {}
    appointment_id, referral_id = _pk(request.GET.get("appointment")), _pk(request.GET.get("referral"))
    order_id = _pk(request.GET.get("order"))
    order = ProcedureOrder.objects.filter(pk=order_id).first() if order_id else None
    if order:
        # Booked from an order: its patient and procedure (the site comes with it at booking).
        initial.update(procedure_type=order.procedure_type_id, patient=order.patient_id)
    appointment = Appointment.objects.filter(pk=appointment_id).first() if appointment_id else None
    if appointment:
        initial["provider"] = appointment.provider_id
    referral = Referral.objects.filter(pk=referral_id).first() if referral_id else None
    if referral and not request.GET.get("procedure_type"):
        initial.update(procedure_type=referral.first_visit_id, referral=referral.pk)
        initial.setdefault("provider", referral.preferred_provider_id)
    return initial


def _pk(value) -> int:
    """A primary key from a query parameter; 0 (matches nothing) when it is not one."""
    return query_params.parse_id(str(value or "")) or 0


def _subject(data: dict):
    """The patient a search or booking is for: the appointment being moved's, the patient
    picked, or the referral's."""
    referral = appointment = picked = order = None
    if data.get("order"):
        order = ProcedureOrder.objects.select_related("patient", "procedure_type").filter(pk=data["order"]).first()
    if data.get("referral"):
        referral = Referral.objects.select_related("patient", "requested_procedure").filter(pk=data["referral"]).first()
    if data.get("appointment"):
        appointment = Appointment.objects.select_related("patient").filter(pk=data["appointment"]).first()
    if data.get("patient"):
        picked = Patient.objects.filter(pk=data["patient"]).first()
    patient = appointment.patient if appointment else picked or (referral.patient if referral else None)
    if patient is None and order is not None:
        patient = order.patient
    return patient, referral, appointment, order


@phi_page
@role_required(*SCHEDULING_ROLES)
def book(request: HttpRequest) -> HttpResponse:
    """Confirm (GET) then book or move (POST) the slot the finder offered."""
    form = BookForm(request.POST or request.GET or None)
    if not form.is_valid() and (not form.is_bound or form.slot_unreadable()):
        messages.error(request, "That slot could not be read; please search again.")
        return redirect("scheduling:find")
    data = form.cleaned_data
    patient, referral, appointment, order = _subject(data)
    if patient is not None:
        # The confirm page names the patient; a booking's own row is written by the service.
        audit_record(request=request, action=AuditEvent.Action.VIEW, obj=patient, summary="booking")
    context = {"form": form, "data": data, "patient": patient, "referral": referral, "appointment": appointment,
               "order": order}  # fmt: skip
    if request.method != "POST" or form.errors:
        # A typed override reason that is refused is shown next to its field, text kept.
        context["error"] = _up_front_problem(
            patient, referral, appointment, order=order, procedure_type=data.get("procedure_type")
        )
        return render(request, "scheduling/book.html", context, status=400 if form.errors else 200)
    try:
        result = _book_or_move(request, data, patient, referral, appointment, order)
    except services.SlotTaken as exc:
        context.update(alternatives=exc.alternatives, error=str(exc))
        return render(request, "scheduling/book.html", context, status=409)
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, "scheduling/book.html", context, status=400)
    messages.success(request, (MOVED if appointment else BOOKED) % {"summary": services.describe(result)})
    return redirect(result)


def _book_or_move(request, data, patient, referral, appointment, order) -> Appointment:
    common = {"actor": request.user, "starts_at": data["starts_at"], "offered_at": data["offered_at"],
              "repeat_override_reason": data["repeat_override_reason"]}  # fmt: skip
    if appointment is not None:
        return services.appointment_reschedule(
            appointment=appointment, provider=data["provider"], location=data["location"], **common
        )
    return services.appointment_book(
        patient=patient, procedure_type=data["procedure_type"], location=data["location"],
        provider=data["provider"], referral=referral, order=order, **common,
    )  # fmt: skip


@phi_page
@role_required(*SCHEDULING_ROLES)
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _appointment_page(request, selectors.get_appointment(pk, user=request.user))


def _appointment_page(request: HttpRequest, appointment: Appointment, *, cancel_form=None, status_form=None,
                      status=200):  # fmt: skip
    context = {
        "appointment": appointment,
        "events": appointment.events.select_related("actor"),
        "cancel_form": cancel_form or CancelForm(),
        "status_form": status_form or StatusForm(appointment=appointment),
        "can_order": has_role(request.user, Role.PROVIDER),
    }
    return render(request, "scheduling/appointment.html", context, status=status)


@phi_write
@role_required(*SCHEDULING_ROLES)
@require_POST
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.get_appointment(pk, user=request.user)
    form = CancelForm(request.POST)
    if not form.is_valid():
        # The page again with the reason as typed and what is wrong with it beside it.
        return _appointment_page(request, appointment, cancel_form=form, status=400)
    try:
        services.appointment_cancel(appointment=appointment, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, CANCELLED)
    return redirect(appointment)


@phi_write
@role_required(*SCHEDULING_ROLES)
@require_POST
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.get_appointment(pk, user=request.user)
    form = StatusForm(request.POST, appointment=appointment)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("status", ["Choose a status."]))
        changed = appointment_set_status(
            appointment=appointment, status=form.cleaned_data["status"], actor=request.user,
            outcome_summary=form.cleaned_data["outcome_summary"], outcome=form.outcome(),
        )  # fmt: skip
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and set(exc.error_dict) <= set(form.fields):
            # An outcome out of range: the page again, each message next to its field, typed text kept.
            for field, errors in exc.error_dict.items():
                form.add_error(field, errors)
            return _appointment_page(request, appointment, status_form=form, status=400)
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, STATUS_CHANGED % {"status": changed.get_status_display().lower()})
    return redirect(appointment)
