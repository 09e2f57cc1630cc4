"""Procedure orders: ordered by a provider (site checked, messages by field, text kept),
booked from the queue (patient, procedure and site from the order), refused without an
order, fulfilled at completion with the outcome recorded, back in the queue when cancelled."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse

from scheduling import selectors
from scheduling.models import Appointment, AppointmentEvent, ProcedureOrder
from scheduling.services import booking
from scheduling.services.status import RELIEF_RANGE, appointment_set_status
from tests.factories import PatientFactory, ProcedureOrderFactory, ProcedureTypeFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville


@pytest.fixture
def mbb(world):
    fluoroscopy = world.fluoro.capabilities.get()
    return ProcedureTypeFactory(
        name="Medial branch block", slug="mbb", kind="diagnostic", site_required=True, max_levels=2,
        locations=[world.location], required_capabilities=[fluoroscopy],
    )  # fmt: skip


def first_visit(world, scheduler) -> Appointment:
    return booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 11, 24, 9), referral=world.referral, now=NOW,
    )  # fmt: skip


def order_form(mbb, **overrides) -> dict:
    data = {"procedure_type": mbb.pk, "site_region": "thoracic", "site_side": "bilateral", "site_levels": "T6-T8",
            "site_target": "", "urgency": "routine", "note": "Facet pain, mid-back"}  # fmt: skip
    data.update(overrides)
    return data


BAD_ORDERS = [
    ({"site_levels": "L4"}, "site_levels", "L4 is not in the thoracic spine"),
    ({"site_region": ""}, "site_region", "Medial branch block needs a site: choose the region."),
    ({"site_levels": "T4-T8"}, "site_levels", "Medial branch block covers at most 2 levels in one session"),
    ({"site_levels": "T6 to T8"}, "site_levels", '"TO" is not a spinal level'),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_ORDERS)
def test_a_bad_order_says_what_is_wrong_next_to_its_field_keeps_the_text_and_saves_nothing(
    client, provider_user, world, mbb, change, field, message
):
    client.force_login(provider_user)
    data = order_form(mbb, **change)
    response = client.post(reverse("scheduling:order_new", args=[world.patient.pk]), data)
    assert response.status_code == 400
    content = response.content.decode()
    assert html.escape(message) in content
    # Crispy renders the message under its own field.
    assert f'id="error_1_id_{field}"' in content
    assert 'value="Facet pain' not in content  # the note is a textarea: its text is its body
    assert "Facet pain, mid-back</textarea>" in content
    if data["site_levels"]:
        assert f'value="{html.escape(data["site_levels"])}"' in content
    assert ProcedureOrder.objects.count() == 0


def test_a_provider_orders_from_an_appointment_and_the_order_page_shows_it(
    client, provider_user, scheduler, world, mbb
):
    consult = first_visit(world, scheduler)
    client.force_login(provider_user)
    url = reverse("scheduling:order_new", args=[world.patient.pk]) + f"?from={consult.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, order_form(mbb), follow=True)
    order = ProcedureOrder.objects.get()
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert (order.site_region, order.site_side, order.site_levels) == ("thoracic", "bilateral", "T6-T7, T7-T8")
    assert order.from_appointment == consult
    assert order.ordered_by == provider_user
    content = response.content.decode()
    assert "Thoracic T6-T7, T7-T8, bilateral" in content
    assert "Not booked yet." in content


def test_only_providers_may_order(client, scheduler, world, mbb):
    client.force_login(scheduler)
    assert client.post(reverse("scheduling:order_new", args=[world.patient.pk]), order_form(mbb)).status_code == 404
    assert ProcedureOrder.objects.count() == 0


def test_cancelling_an_order_needs_a_reason(client, provider_user, world, mbb):
    order = ProcedureOrderFactory(patient=world.patient, procedure_type=mbb)
    client.force_login(provider_user)
    response = client.post(reverse("scheduling:order_cancel", args=[order.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "Give a reason for cancelling the order." in response.content.decode()
    order.refresh_from_db()
    assert order.status == "open"
    client.post(reverse("scheduling:order_cancel", args=[order.pk]), {"reason": "Patient prefers to wait"})
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "Patient prefers to wait")


def book_mbb(world, scheduler, mbb, *, order, patient=None, procedure_type=None):
    return booking.appointment_book(
        actor=scheduler, patient=patient or world.patient, procedure_type=procedure_type or mbb,
        location=world.location, provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 9),
        order=order, now=NOW,
    )  # fmt: skip


def test_a_procedure_without_an_order_is_refused(world, scheduler, mbb):
    first_visit(world, scheduler)
    with pytest.raises(booking.ValidationError) as exc:
        book_mbb(world, scheduler, mbb, order=None)
    assert exc.value.messages[0].startswith("Procedures are booked from a provider's order: ")


def test_an_order_of_another_patient_another_type_or_not_open_is_refused(world, scheduler, mbb):
    first_visit(world, scheduler)
    other = ProcedureOrderFactory(patient=PatientFactory(), procedure_type=mbb)
    with pytest.raises(booking.ValidationError, match="That order is for another patient."):
        book_mbb(world, scheduler, mbb, order=other)
    epidural_order = ProcedureOrderFactory(patient=world.patient, procedure_type=world.epidural)
    with pytest.raises(booking.ValidationError, match="That order is for Epidural steroid injection, not Medial"):
        book_mbb(world, scheduler, mbb, order=epidural_order)
    cancelled = ProcedureOrderFactory(patient=world.patient, procedure_type=mbb, status="cancelled", cancel_reason="x")
    with pytest.raises(booking.ValidationError, match="That order is cancelled"):
        book_mbb(world, scheduler, mbb, order=cancelled)
    assert Appointment.objects.filter(procedure_type=mbb).count() == 0


def test_booking_from_an_order_links_it_copies_the_site_and_completion_fulfils_it_with_the_outcome(
    world, scheduler, provider_user, mbb
):
    first_visit(world, scheduler)
    order = ProcedureOrderFactory(
        patient=world.patient, procedure_type=mbb, site_region="thoracic", site_side="bilateral",
        site_levels="T6-T7, T7-T8",
    )  # fmt: skip
    appointment = book_mbb(world, scheduler, mbb, order=order)
    assert appointment.order == order
    assert appointment.site_label == "Thoracic T6-T7, T7-T8, bilateral"
    assert list(selectors.orders_to_schedule()) == []
    with pytest.raises(booking.ValidationError, match="That order is already booked"):
        booking.appointment_book(
            actor=scheduler, patient=world.patient, procedure_type=mbb, location=world.location,
            provider=world.provider, starts_at=local(world.location, 2026, 12, 2, 9), order=order, now=NOW,
        )  # fmt: skip

    with time_machine.travel(local(world.location, 2026, 12, 1, 9), tick=False):
        appointment_set_status(appointment=appointment, status="checked_in", actor=scheduler)
    with time_machine.travel(local(world.location, 2026, 12, 1, 10), tick=False):
        with pytest.raises(booking.ValidationError) as exc:
            appointment_set_status(
                appointment=appointment, status="completed", actor=provider_user,
                outcome={"block_relief_percent": 185, "baseline_pain": 7},
            )  # fmt: skip
        assert exc.value.message_dict == {"block_relief_percent": [RELIEF_RANGE]}
        appointment.refresh_from_db()
        assert (appointment.status, appointment.block_relief_percent) == ("checked_in", None)
        appointment_set_status(
            appointment=appointment, status="completed", actor=provider_user,
            outcome={"block_relief_percent": "85", "baseline_pain": 7, "outcome_note": "Good block"},
        )  # fmt: skip
    appointment.refresh_from_db()
    order.refresh_from_db()
    assert (appointment.block_relief_percent, appointment.baseline_pain, appointment.outcome_note) == (
        85, 7, "Good block",
    )  # fmt: skip
    assert order.status == "fulfilled"
    event = AppointmentEvent.objects.get(appointment=appointment, action="completed")
    assert (event.after["block_relief_percent"], event.after["baseline_pain"]) == (85, 7)


def test_rescheduling_keeps_the_order_and_cancelling_puts_it_back_in_the_queue(world, scheduler, mbb):
    first_visit(world, scheduler)
    order = ProcedureOrderFactory(patient=world.patient, procedure_type=mbb, site_region="thoracic",
                                  site_side="left", site_levels="T6-T7")  # fmt: skip
    appointment = book_mbb(world, scheduler, mbb, order=order)
    moved = booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 2, 10), now=NOW
    )
    assert moved.order == order
    booking.appointment_cancel(appointment=moved, actor=scheduler, reason="Patient ill", now=NOW)
    order.refresh_from_db()
    assert order.status == "open"
    assert list(selectors.orders_to_schedule()) == [order]


def test_the_outcome_form_shows_a_range_message_next_to_the_field_keeping_the_text(
    client, world, scheduler, provider_user, mbb
):
    first_visit(world, scheduler)
    order = ProcedureOrderFactory(patient=world.patient, procedure_type=mbb, site_region="sacral", site_side="left")
    appointment = book_mbb(world, scheduler, mbb, order=order)
    client.force_login(provider_user)
    with time_machine.travel(local(world.location, 2026, 12, 1, 10), tick=False):
        appointment_set_status(appointment=appointment, status="checked_in", actor=scheduler)
        response = client.post(
            reverse("scheduling:status", args=[appointment.pk]),
            {"status": "completed", "block_relief_percent": "150", "baseline_pain": "6", "outcome_note": "Hmm"},
        )
    assert response.status_code == 400
    content = response.content.decode()
    assert RELIEF_RANGE in content
    assert 'value="150"' in content
    assert 'value="6"' in content
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


def test_the_queue_lists_open_orders_with_a_book_link_in_constant_queries(
    client, world, scheduler, mbb, django_assert_num_queries
):
    client.force_login(scheduler)
    ProcedureOrderFactory(patient=world.patient, procedure_type=mbb, site_region="thoracic", site_side="left",
                          site_levels="T6-T7")  # fmt: skip
    # session, user, otp device, user and group permissions (role check), referrals, orders
    # count, orders page, audit insert, savepoint, session update, release
    with django_assert_num_queries(12):
        content = client.get(reverse("scheduling:queue")).content.decode()
    order = ProcedureOrder.objects.get()
    assert f"{reverse('scheduling:find')}?order={order.pk}" in content
    assert "Thoracic T6-T7, left" in content
    for _ in range(5):
        ProcedureOrderFactory(patient=PatientFactory(), procedure_type=mbb)
    with django_assert_num_queries(12):
        assert client.get(reverse("scheduling:queue")).content.decode().count("?order=") == 6


def test_the_order_page_costs_a_constant_number_of_queries(client, world, scheduler, mbb, django_assert_num_queries):
    first_visit(world, scheduler)
    order = ProcedureOrderFactory(patient=world.patient, procedure_type=mbb, site_region="sacral", site_side="left")
    client.force_login(scheduler)
    # session, user, otp device, user and group permissions, the order (patient, type, who
    # ordered, from appointment joined), audit insert, its appointments, savepoint, session update, release
    with django_assert_num_queries(11):
        client.get(reverse("scheduling:order", args=[order.pk]))
    book_mbb(world, scheduler, mbb, order=order)
    with django_assert_num_queries(11):
        content = client.get(reverse("scheduling:order", args=[order.pk])).content.decode()
    assert "Dr. Priya Patel" in content


def test_the_finder_opened_from_an_order_fills_patient_procedure_and_site(client, world, scheduler, mbb):
    first_visit(world, scheduler)
    order = ProcedureOrderFactory(patient=world.patient, procedure_type=mbb, site_region="thoracic",
                                  site_side="bilateral", site_levels="T6-T7, T7-T8")  # fmt: skip
    client.force_login(scheduler)
    content = client.get(reverse("scheduling:find"), {"order": order.pk}).content.decode()
    assert "Find a slot for Jordan Reyes" in content
    assert "Thoracic T6-T7, T7-T8, bilateral" in content
    assert f"order={order.pk}" in content
