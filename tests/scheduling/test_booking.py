"""Booking, rescheduling, cancelling and status changes: every rule re-checked, every
refusal specific, nothing saved on a refusal."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clinic.models import Closure
from clinic.roles import Role
from referrals.models import Referral
from scheduling.models import Appointment, AppointmentEvent, ExtraAvailability
from scheduling.services import booking
from scheduling.services.status import appointment_set_status
from tests.factories import (
    ClosureFactory,
    LocationFactory,
    PatientFactory,
    ProcedureOrderFactory,
    ReferralFactory,
    RoomFactory,
    UserFactory,
)
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville


def book(world, actor, when, **overrides):
    args = {
        "actor": actor, "patient": world.patient, "procedure_type": world.consult, "location": world.location,
        "provider": world.provider, "starts_at": when, "referral": world.referral, "now": NOW,
    }  # fmt: skip
    args.update(overrides)
    if args["referral"] is None and args["procedure_type"].kind != "visit" and "order" not in args:
        # Every procedure after the first visit is booked from a provider's order.
        args["order"] = ProcedureOrderFactory(patient=args["patient"], procedure_type=args["procedure_type"])
    return booking.appointment_book(**args)


def refused(world, actor, when, message, **overrides):
    before = Appointment.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        book(world, actor, when, **overrides)
    assert message in " ".join(excinfo.value.messages)
    assert Appointment.objects.count() == before
    return excinfo.value


def test_booking_an_accepted_referral_schedules_it_and_records_who(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    assert appointment.room == world.exam
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=45)
    world.referral.refresh_from_db()
    assert world.referral.status == Referral.Status.SCHEDULED
    event = world.referral.events.get(to_status="scheduled")
    assert "Tuesday 1 December 2026 at 9:00 AM" in event.text
    assert AppointmentEvent.objects.get(appointment=appointment).actor == scheduler


def test_booking_in_the_past_is_refused(world, scheduler):
    refused(world, scheduler, local(world.location, 2026, 11, 20, 9), "That time has already passed.")


def test_booking_inside_the_minimum_notice_is_refused(world, scheduler):
    refused(
        world, scheduler, local(world.location, 2026, 11, 23, 15), "inside Russellville's minimum notice of 24 hours"
    )


def test_booking_outside_hours_is_refused(world, scheduler):
    refused(
        world,
        scheduler,
        local(world.location, 2026, 12, 1, 16),
        "outside Russellville's hours on Tuesday (08:30-16:30)",
    )


def test_booking_off_the_grid_is_refused(world, scheduler):
    refused(world, scheduler, local(world.location, 2026, 12, 1, 9, 7), "start on the 15-minute grid")


def test_booking_on_a_holiday_is_refused(world, scheduler):
    Closure.objects.create(
        start_date=dt.date(2026, 11, 26), end_date=dt.date(2026, 11, 26), reason="Thanksgiving Day", kind="holiday"
    )
    refused(
        world,
        scheduler,
        local(world.location, 2026, 11, 26, 9),
        "closed on Thursday 26 November 2026 (Thanksgiving Day)",
    )


def test_booking_a_by_appointment_day_needs_the_provider_to_open_it(world, scheduler):
    friday = local(world.location, 2026, 12, 4, 9)
    refused(
        world, scheduler, friday, "is a by-appointment day at Russellville and Dr. Priya Patel, MD has not opened it"
    )
    ExtraAvailability.objects.create(
        provider=world.provider, location=world.location, date=dt.date(2026, 12, 4), starts=dt.time(9), ends=dt.time(12)
    )
    assert book(world, scheduler, friday).starts_at == friday


def test_booking_a_procedure_the_location_cannot_host_is_refused(world, scheduler):
    other = LocationFactory(name="Hospital suite", slug="hospital")
    refused(
        world,
        scheduler,
        local(world.location, 2026, 12, 1, 9),
        "Hospital suite does not host New-patient consultation",
        location=other,
    )


def test_booking_a_room_without_the_capability_is_refused(world, scheduler):
    refused(
        world,
        scheduler,
        local(world.location, 2026, 12, 1, 9),
        "Fluoro suite does not have what New-patient consultation needs (Exam room)",
        room=world.fluoro,
    )


def test_booking_a_patient_who_already_has_an_appointment_then_is_refused(world, scheduler):
    book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    other_provider_room = RoomFactory(
        location=world.location, name="Exam 2", capabilities=list(world.exam.capabilities.all())
    )
    from tests.factories import ProviderFactory
    from tests.scheduling.conftest import give_template

    second = ProviderFactory(display_name="Dr. Sam Lee", locations=[world.location])
    give_template(second, world.location)
    refused(world, scheduler, local(world.location, 2026, 12, 1, 9, 30), "The patient already has an appointment then.",
            provider=second, room=other_provider_room, referral=None)  # fmt: skip


def test_booking_against_the_repeat_policy_says_why_and_from_when(world, scheduler, provider_user):
    first = local(world.location, 2026, 12, 1, 9)
    book(world, scheduler, first, procedure_type=world.epidural)
    second = local(world.location, 2026, 12, 8, 9)
    refused(
        world, scheduler, second,
        "Epidural steroid injection spacing: one on 1 Dec 2026 (at least 21 days apart, Clinic policy); "
        "the first date it allows is 22 Dec 2026.",
        procedure_type=world.epidural, referral=None,
    )  # fmt: skip


def test_a_provider_may_override_the_repeat_policy_with_a_reason(world, scheduler, provider_user):
    book(world, scheduler, local(world.location, 2026, 12, 1, 9), procedure_type=world.epidural)
    appointment = book(world, provider_user, local(world.location, 2026, 12, 8, 9), procedure_type=world.epidural,
                       referral=None, repeat_override_reason="Flare after fall; discussed with patient")  # fmt: skip
    assert appointment.repeat_override_reason == "Flare after fall; discussed with patient"
    assert appointment.events.get().note == (
        'Coverage rule "Epidural steroid injection spacing" (Epidural steroid injection spacing: one on 1 Dec 2026 '
        "(at least 21 days apart, Clinic policy); the first date it allows is 22 Dec 2026.) overridden: "
        "Flare after fall; discussed with patient"
    )


def test_a_scheduler_cannot_override_the_repeat_policy(world, scheduler):
    book(world, scheduler, local(world.location, 2026, 12, 1, 9), procedure_type=world.epidural)
    refused(world, scheduler, local(world.location, 2026, 12, 8, 9), booking.OVERRIDE_ONLY_REPEAT,
            procedure_type=world.epidural, referral=None, repeat_override_reason="please")  # fmt: skip


def test_an_override_does_not_excuse_any_other_rule(world, provider_user):
    refused(world, provider_user, local(world.location, 2026, 12, 1, 16), "outside Russellville's hours",
            repeat_override_reason="urgent")  # fmt: skip


def test_an_end_before_the_start_is_refused(world, scheduler):
    start = local(world.location, 2026, 12, 1, 9)
    refused(world, scheduler, start, booking.END_BEFORE_START, ends_at=start - dt.timedelta(minutes=15))


def test_a_new_patient_needs_an_accepted_referral(world, scheduler):
    stranger = PatientFactory()
    refused(
        world, scheduler, local(world.location, 2026, 12, 1, 9), "by referral only", patient=stranger, referral=None
    )
    pending = ReferralFactory(patient=stranger, status="under_review")
    refused(
        world,
        scheduler,
        local(world.location, 2026, 12, 1, 9),
        "is under review; only accepted referrals",
        patient=stranger,
        referral=pending,
    )


def test_reschedule_moves_atomically_and_bumps_the_version(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    moved = booking.appointment_reschedule(
        appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 2, 10), now=NOW
    )
    assert moved.local_starts_at.strftime("%Y-%m-%d %H:%M") == "2026-12-02 10:00"
    assert moved.version == 2
    event = moved.events.get(action="rescheduled")
    assert event.before["starts_at"].startswith("2026-12-01T15:00")
    assert event.after["starts_at"].startswith("2026-12-02T16:00")


def test_a_refused_reschedule_keeps_the_old_time(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    with pytest.raises(ValidationError, match="outside Russellville's hours"):
        booking.appointment_reschedule(
            appointment=appointment, actor=scheduler, starts_at=local(world.location, 2026, 12, 2, 18), now=NOW
        )
    appointment.refresh_from_db()
    assert appointment.local_starts_at.hour == 9
    assert appointment.version == 1


def test_cancel_needs_a_reason_frees_the_time_and_returns_the_referral_to_the_queue(world, scheduler):
    when = local(world.location, 2026, 12, 1, 9)
    appointment = book(world, scheduler, when)
    with pytest.raises(ValidationError, match="Give a reason"):
        booking.appointment_cancel(appointment=appointment, actor=scheduler, reason=" ", now=NOW)
    booking.appointment_cancel(appointment=appointment, actor=scheduler, reason="Patient is travelling", now=NOW)
    world.referral.refresh_from_db()
    assert world.referral.status == Referral.Status.ACCEPTED
    again = book(world, scheduler, when)
    assert again.pk != appointment.pk


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["confirmed", "checked_in", "completed"], True),
        (["no_show"], True),
        (["completed"], False),
        (["checked_in", "confirmed"], False),
        (["no_show", "booked"], False),
    ],
)
def test_status_transitions_follow_the_table(world, scheduler, path, allowed):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    during = local(world.location, 2026, 12, 1, 9, 10)  # every step is in time: only the table decides
    *steps, last = path
    for status in steps:
        appointment = appointment_set_status(appointment=appointment, status=status, actor=scheduler, now=during)
    if allowed:
        appointment = appointment_set_status(appointment=appointment, status=last, actor=scheduler, now=during)
        assert appointment.status == last
    else:
        with pytest.raises(ValidationError, match="cannot become"):
            appointment_set_status(appointment=appointment, status=last, actor=scheduler, now=during)


def test_completing_the_visit_completes_the_referral_with_the_outcome(world, scheduler, provider_user):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    for status in ("checked_in", "completed"):
        appointment = appointment_set_status(
            appointment=appointment, status=status, actor=provider_user,
            outcome_summary="Facet pain likely; MBB planned.", now=local(world.location, 2026, 12, 1, 9, 40),
        )  # fmt: skip
    world.referral.refresh_from_db()
    assert world.referral.status == Referral.Status.COMPLETED
    assert world.referral.outcome_summary == "Facet pain likely; MBB planned."


def test_a_closure_on_the_day_refuses_booking_for_one_location_only(world, scheduler):
    ClosureFactory(location=world.location, start_date=dt.date(2026, 12, 1), reason="Weather")
    refused(world, scheduler, local(world.location, 2026, 12, 1, 9), "closed on Tuesday 1 December 2026 (Weather)")
    assert UserFactory(role=Role.SCHEDULER)  # the cast is unaffected
