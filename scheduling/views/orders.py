"""Procedure orders: a provider orders the next procedure from an appointment or the chart;
the order's page (status, site, its appointment, book, cancel with a reason)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic import query_params
from clinic.audit import phi_page, phi_write
from clinic.roles import Role, has_role, role_required
from referrals.selectors import STAFF_ROLES, get_patient_for_user
from scheduling import selectors
from scheduling.forms.orders import OrderCancelForm, OrderForm
from scheduling.services import orders as services
from scheduling.views.shared import SCHEDULING_ROLES

ORDERED = "Ordered: %(order)s. It waits in the schedulers' to-schedule queue."
ORDER_CANCELLED = "Order cancelled."


@phi_page
@role_required(Role.PROVIDER)
def order_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Order a procedure for patient ``pk`` (from an appointment with ``?from=``)."""
    patient = get_patient_for_user(request.user, pk)
    from_id = query_params.parse_id(request.GET.get("from", ""))
    source = patient.appointments.filter(pk=from_id).first() if from_id else None
    form = OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_create(
                actor=request.user, patient=patient, procedure_type=form.cleaned_data["procedure_type"],
                site=form.site(), urgency=form.cleaned_data["urgency"], note=form.cleaned_data["note"],
                from_appointment=source,
            )  # fmt: skip
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, ORDERED % {"order": order})
            return redirect(order)
    status = 400 if form.is_bound else 200
    return render(request, "scheduling/orders/new.html", {"form": form, "patient": patient, "source": source},
                  status=status)  # fmt: skip


def _errors_to_form(form: OrderForm, exc: ValidationError) -> None:
    """The service's messages by field, each shown next to its field (others above the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@phi_page
@role_required(*STAFF_ROLES)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _order_page(request, selectors.get_order(pk, user=request.user))


def _order_page(request, order, *, cancel_form=None, status=200) -> HttpResponse:
    context = {
        "order": order,
        "appointments": list(order.appointments.select_related("provider", "location").order_by("-starts_at")),
        "can_book": has_role(request.user, *SCHEDULING_ROLES),
        "can_cancel": has_role(request.user, Role.PROVIDER, Role.SCHEDULER),
        "cancel_form": cancel_form or OrderCancelForm(),
    }
    return render(request, "scheduling/orders/detail.html", context, status=status)


@phi_write
@role_required(Role.PROVIDER, Role.SCHEDULER)
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.get_order(pk, user=request.user)
    form = OrderCancelForm(request.POST)
    if not form.is_valid():
        return _order_page(request, order, cancel_form=form, status=400)
    try:
        services.order_cancel(actor=request.user, order=order, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, ORDER_CANCELLED)
    return redirect(order)
