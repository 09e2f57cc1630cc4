"""The slot finder for one patient (?patient=), the checks it makes before offering any
time (the same ones booking makes), the patient picker, the grid and the referral beside it."""

import datetime as dt
import html
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.models import AuditEvent
from scheduling.models import Appointment
from scheduling.selectors import find_slots
from scheduling.services import booking
from tests.factories import PatientFactory, ProcedureOrderFactory, ProviderFactory, ReferralFactory
from tests.scheduling.conftest import give_template, local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
CHIP = re.compile(r'<a class="btn [^"]*slot-chip" aria-label="([^"]+)" href="([^"]+)">([^<]+)</a>')
DAY = re.compile(r'<th scope="rowgroup" rowspan="(\d+)" class="slot-day" id="day-\d+">([^<]+)</th>')


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def first_visit(world, scheduler) -> Appointment:
    """The consultation booked from the referral: the referral is then scheduled, out of the queue."""
    return booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 11, 24, 9), referral=world.referral, now=NOW,
    )  # fmt: skip


def chips(content: str) -> list[tuple[str, str, str]]:
    """(accessible name, link, visible text) of every time offered."""
    return [(html.unescape(name), html.unescape(href), text) for name, href, text in CHIP.findall(content)]


def finder(client, **params) -> str:
    response = client.get(reverse("scheduling:find"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_returning_patient_books_the_next_appointment_through_finder_and_book_without_a_referral(
    client, scheduler, world
):
    first_visit(world, scheduler)
    order = ProcedureOrderFactory(patient=world.patient, procedure_type=world.epidural)
    client.force_login(scheduler)
    content = finder(client, order=order.pk)
    assert "Find a slot for Jordan Reyes" in content
    offered = chips(content)
    assert offered, "a returning patient is offered times"
    name, link, _ = offered[0]
    assert f"patient={world.patient.pk}" in link
    confirm = client.get(link)
    assert confirm.status_code == 200
    confirm_content = confirm.content.decode()
    assert "Confirm the booking" in confirm_content
    assert 'role="alert"' not in confirm_content  # nothing refused up front
    query = dict(pair.split("=", 1) for pair in link.split("?", 1)[1].split("&"))
    from urllib.parse import unquote

    response = client.post(reverse("scheduling:book"), {k: unquote(v) for k, v in query.items()}, follow=True)
    second = Appointment.objects.get(procedure_type=world.epidural)
    assert response.redirect_chain[-1][0] == second.get_absolute_url()
    assert "Booked: Epidural steroid injection with Dr. Priya Patel" in response.content.decode()
    assert second.patient == world.patient
    assert second.referral is None
    assert second.order == order


def test_a_returning_patient_is_told_up_front_that_a_procedure_needs_an_order(client, scheduler, world):
    first_visit(world, scheduler)
    client.force_login(scheduler)
    content = finder(client, patient=world.patient.pk, procedure_type=world.epidural.pk)
    assert "Procedures are booked from a provider&#x27;s order" in content
    assert chips(content) == []


def test_a_referral_already_scheduled_is_refused_up_front_and_at_booking(client, scheduler, world):
    """A stale queue page's referral whose first visit someone else booked meanwhile: the
    finder says so instead of offering times, and the booking refuses it (a second first visit
    would be a second consultation), naming the appointment that holds it."""
    first = first_visit(world, scheduler)
    world.referral.refresh_from_db()
    assert world.referral.status == "scheduled"
    message = booking.REFERRAL_JUST_SCHEDULED.format(
        reference=world.referral.reference, appointment=booking.describe(first)
    )
    client.force_login(scheduler)
    content = finder(client, referral=world.referral.pk, procedure_type=world.consult.pk)
    assert html.escape(message) in content
    assert chips(content) == []
    with pytest.raises(ValidationError) as refused:
        booking.appointment_book(
            actor=scheduler, patient=world.patient, procedure_type=world.epidural, location=world.location,
            provider=world.provider, starts_at=local(world.location, 2026, 12, 2, 9), referral=world.referral, now=NOW,
        )  # fmt: skip
    assert refused.value.messages == [message]


def test_a_new_patient_without_an_accepted_referral_is_told_up_front_and_offered_nothing(client, scheduler, world):
    stranger = PatientFactory(first_name="Sam", last_name="Okafor")
    client.force_login(scheduler)
    content = finder(client, patient=stranger.pk, procedure_type=world.consult.pk)
    assert html.escape(booking.REFERRAL_REQUIRED) in content
    assert "Pick the patient&#x27;s accepted referral: this patient has no appointment yet" in content
    assert chips(content) == []
    # The confirm step says the same, and the booking refuses it.
    params = {"procedure_type": world.consult.pk, "location": world.location.pk, "provider": world.provider.pk,
              "starts_at": local(world.location, 2026, 12, 1, 9).isoformat(), "patient": stranger.pk}  # fmt: skip
    assert html.escape(booking.REFERRAL_REQUIRED) in client.get(reverse("scheduling:book"), params).content.decode()
    response = client.post(reverse("scheduling:book"), params)
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_the_up_front_message_links_the_patients_accepted_referral(client, scheduler, world):
    client.force_login(scheduler)
    content = finder(client, patient=world.patient.pk, procedure_type=world.consult.pk)
    assert chips(content) == []
    assert f'href="/scheduling/find/?referral={world.referral.pk}">Book referral {world.referral.reference}' in content


def test_a_referral_for_another_patient_or_not_accepted_is_refused_up_front(client, scheduler, world):
    stranger = PatientFactory()
    pending = ReferralFactory(patient=stranger, status="under_review")
    client.force_login(scheduler)
    content = finder(client, patient=stranger.pk, referral=world.referral.pk, procedure_type=world.consult.pk)
    assert booking.REFERRAL_OTHER_PATIENT in content
    assert chips(content) == []
    content = finder(client, referral=pending.pk, procedure_type=world.consult.pk)
    assert f"Referral {pending.reference} is under review; only accepted referrals can be booked." in content
    assert chips(content) == []


def test_without_a_patient_the_finder_asks_for_one_and_offers_nothing(client, scheduler, world):
    client.force_login(scheduler)
    content = finder(client, procedure_type=world.consult.pk)
    assert booking.PATIENT_REQUIRED in content
    assert chips(content) == []
    assert 'aria-label="Find a patient"' in content


def test_the_patient_picker_finds_by_name_or_record_number_and_keeps_the_search(client, scheduler, world):
    PatientFactory(first_name="Jordan", last_name="Smith")
    client.force_login(scheduler)
    for typed in ("jordan reyes", world.patient.record_number):
        content = finder(client, q=typed, procedure_type=world.epidural.pk)
        picks = re.findall(r'<a href="\?([^"]+)">([^<]+)</a> <small', content)
        assert [(html.unescape(q), name) for q, name in picks] == [
            (f"procedure_type={world.epidural.pk}&patient={world.patient.pk}", "Jordan Reyes")
        ]
    content = finder(client, q="nobody-like-this")
    assert "No patient matches." in content


@pytest.mark.parametrize("hostile", ["\x00", "x" * 10_000, "²", "\u202eReyes", "¹²³", "9" * 30, "-1"])
def test_hostile_picker_and_ids_never_answer_500(client, scheduler, world, hostile):
    client.force_login(scheduler)
    for name in ("q", "patient", "referral", "appointment"):
        response = client.get(reverse("scheduling:find"), {name: hostile, "procedure_type": world.consult.pk})
        assert response.status_code == 200, name


def test_moving_an_appointment_keeps_its_provider_unless_changed(client, scheduler, world):
    other = ProviderFactory(display_name="Dr. Alex Kim", locations=[world.location])
    give_template(other, world.location)
    appointment = first_visit(world, scheduler)
    client.force_login(scheduler)
    content = finder(client, appointment=appointment.pk, procedure_type=world.consult.pk)
    assert f'<option value="{world.provider.pk}" selected>' in content
    assert {name.split(", ")[2] for name, _, _ in chips(content)} == {"Dr. Priya Patel"}
    content = finder(client, appointment=appointment.pk, procedure_type=world.consult.pk, provider="")
    assert "Dr. Alex Kim" in {name.split(", ")[2] for name, _, _ in chips(content)}


def test_a_cancelled_appointment_is_not_offered_a_move(client, scheduler, world):
    appointment = first_visit(world, scheduler)
    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Patient unwell", now=NOW)
    client.force_login(scheduler)
    content = finder(client, appointment=appointment.pk, procedure_type=world.consult.pk)
    assert booking.NOT_ACTIVE in content
    assert chips(content) == []


def test_a_chosen_provider_shows_a_week_one_row_per_day(client, scheduler, world):
    client.force_login(scheduler)
    content = finder(client, referral=world.referral.pk, procedure_type=world.consult.pk,
                     provider=world.provider.pk, from_date="2026-11-24")  # fmt: skip
    start = dt.datetime(2026, 11, 24, tzinfo=world.location.zone)
    expected = find_slots(procedure_type=world.consult, provider=world.provider, patient=world.patient,
                          start=start, end=start + dt.timedelta(days=7), now=NOW).slots  # fmt: skip
    days = DAY.findall(content)
    # Monday-Thursday hours: Tue, Wed, Thu, then Monday; one provider, so one row a day.
    assert [day for _, day in days] == [
        "Tuesday 24 November 2026", "Wednesday 25 November 2026", "Thursday 26 November 2026", "Monday 30 November 2026"
    ]  # fmt: skip
    assert {rows for rows, _ in days} == {"1"}
    offered = chips(content)
    assert [name for name, _, _ in offered] == [
        f"{s.local:%-I:%M %p %Z}, {s.local:%A %-d %B %Y}, Dr. Priya Patel, Exam 1, Russellville" for s in expected
    ]
    assert [text for _, _, text in offered] == [f"{s.local:%-I:%M %p}" for s in expected]
    # The provider and room are shown once per row, not on every time.
    grid = content[content.index('<table class="table table-sm slot-grid">') :]
    assert grid.count("Dr. Priya Patel<br>") == 4
    assert "Next 7 days" in content
    assert "from_date=2026-12-01" in content


def test_any_provider_groups_the_times_by_provider_per_day(client, scheduler, world):
    other = ProviderFactory(display_name="Dr. Alex Kim", locations=[world.location])
    give_template(other, world.location)
    client.force_login(scheduler)
    content = finder(client, referral=world.referral.pk, procedure_type=world.consult.pk, provider="")
    days = DAY.findall(content)
    assert days[0] == ("2", "Tuesday 24 November 2026")
    first_day = content[content.index("Tuesday 24 November 2026</th>") : content.index("</tbody>")]
    rows = re.findall(r'<td class="slot-with">([^<]+)<br>', first_day)
    assert rows == ["Dr. Alex Kim", "Dr. Priya Patel"]
    kim, patel = first_day.split('<td class="slot-with">')[1:]
    assert {name.split(", ")[2] for name, _, _ in chips(kim)} == {"Dr. Alex Kim"}
    assert {name.split(", ")[2] for name, _, _ in chips(patel)} == {"Dr. Priya Patel"}


def test_the_referral_and_patient_are_shown_beside_the_grid(client, scheduler, world):
    referral = world.referral
    referral.notes = "Mornings preferred; needs a ride."
    referral.urgency = "urgent"
    referral.anticoagulant = "yes"
    referral.anticoagulant_name = "apixaban"
    referral.requested_procedure = world.epidural
    referral.save()
    client.force_login(scheduler)
    content = finder(client, referral=referral.pk)
    aside = content[content.index('<aside class="col-lg-3') :]
    assert "Jordan Reyes" in aside
    assert "<dt>Date of birth</dt><dd>12 Apr 1961</dd>" in aside
    assert f"<dt>Record number</dt><dd>{world.patient.record_number}</dd>" in aside
    assert "<dt>Urgency</dt><dd>Urgent</dd>" in aside
    assert "<dt>Requested</dt><dd>Epidural steroid injection</dd>" in aside
    assert f"<dt>Anticoagulant</dt><dd>{referral.get_anticoagulant_display()} (apixaban)</dd>" in aside
    assert "<dt>Notes</dt><dd>Mornings preferred; needs a ride.</dd>" in aside
    assert AuditEvent.objects.filter(object_type="referrals.Patient", object_id=str(world.patient.pk)).exists()


def test_a_returning_patients_latest_referral_is_shown_for_context(client, scheduler, world):
    world.referral.notes = "Mornings preferred."
    world.referral.save()
    first_visit(world, scheduler)
    client.force_login(scheduler)
    content = finder(client, patient=world.patient.pk, procedure_type=world.epidural.pk)
    assert f"Referral {world.referral.reference}</h2>" in content
    assert "<dt>Notes</dt><dd>Mornings preferred.</dd>" in content


def test_the_week_of_one_provider_costs_a_constant_number_of_queries(
    client, scheduler, world, django_assert_num_queries
):
    first_visit(world, scheduler)
    order = ProcedureOrderFactory(patient=world.patient, procedure_type=world.epidural)
    params = {"order": order.pk, "provider": world.provider.pk}
    client.force_login(scheduler)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 the order (what it fills in), 7-8 the form's procedure and provider,
    # 9 the order (patient, procedure), 10 the patient, 11 the audit record, 12 the patient's
    # latest referral (context), 13 any active appointment (the referral rule), 14 the order's
    # active appointment (the order rule), 15 the procedure's first location (zone),
    # 16-23 the slot rules: locations, hours with ranges, closures, capable rooms, templates,
    # extra availability, time off, busy appointments,
    # 24-27 coverage: the rules, their checked and counted types, the patient's counted
    # sessions (their follow-ups would be one more query, once there are sessions),
    # 28-30 the form's procedure, location and provider choices,
    # 31-33 savepoint, session save, release
    with django_assert_num_queries(33):
        response = client.get(reverse("scheduling:find"), params)
    assert chips(response.content.decode())
    for n in range(6):
        other = PatientFactory()
        booking.appointment_book(
            actor=scheduler, patient=other, procedure_type=world.consult, location=world.location,
            provider=world.provider, starts_at=local(world.location, 2026, 11, 25 + n % 2, 9 + n),
            referral=ReferralFactory(patient=other, status="accepted", first_visit=world.consult), now=NOW,
        )  # fmt: skip
        give_template(ProviderFactory(locations=[world.location]), world.location)
    with django_assert_num_queries(33):
        response = client.get(reverse("scheduling:find"), params)
    assert len(chips(response.content.decode())) > 0
