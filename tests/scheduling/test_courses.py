"""Courses of care at service level: enrolling a patient on a seeded pathway for a site, the
rule engine's suggestions from recorded outcomes (with the rule's numbers in words), the
provider's decisions (orders, recorded actions, referrals out with the referrer's letter,
stopping) and the daily sweep that queues only the repeats a course's rules suggest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic.models import Location, OutgoingMessage, ProcedureType
from clinic.seeding import seed_clinic_reference_data
from conditions.models import Pathway, PathwayStep
from conditions.seeding import seed_conditions, seed_pathways
from scheduling.care import pathways
from scheduling.models import Appointment, Course, CourseDecision, FollowUp, ProcedureOrder, ReferralOut, RepeatDue
from scheduling.services import courses, orders, repeats
from tests.factories import (
    PatientFactory,
    ProviderFactory,
    ReferralFactory,
    ReferringPhysicianFactory,
    RoomFactory,
)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
T6_T8 = {"site_region": "thoracic", "site_side": "bilateral", "site_levels": "T6-T8", "site_target": ""}
L4_L5 = {"site_region": "lumbar", "site_side": "left", "site_levels": "L4-L5", "site_target": ""}


class Clinic:
    """The seeded clinic with one provider, one room and one referred patient."""

    def __init__(self, provider_user):
        seed_clinic_reference_data()
        seed_conditions()
        seed_pathways()
        self.location = Location.objects.get(slug="russellville")
        self.provider = ProviderFactory(user=provider_user, locations=[self.location])
        self.room = RoomFactory(location=self.location)
        self.physician = ReferringPhysicianFactory(email="dr.ames@example.com")
        self.patient = PatientFactory(first_name="Dana", last_name="Cole")
        self.referral = ReferralFactory(patient=self.patient, referring_physician=self.physician, status="completed")
        self.facet = Pathway.objects.get(slug="facet-mediated-pain")
        self.radicular = Pathway.objects.get(slug="radicular-pain")
        self.actor = provider_user

    def appointment(self, procedure_type: ProcedureType, starts: dt.datetime, *, order=None, **fields) -> Appointment:
        """A completed appointment (booked directly), fulfilling ``order``."""
        site = order.site_values() if order else {}
        appointment = Appointment.objects.create(
            patient=self.patient, procedure_type=procedure_type, provider=self.provider, room=self.room,
            location=self.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
            blocks_until=starts + dt.timedelta(minutes=45), status=Appointment.Status.COMPLETED, order=order,
            **site, **fields,
        )  # fmt: skip
        orders.order_fulfil(appointment=appointment, now=starts)
        return appointment

    def state(self, course: Course) -> pathways.CourseState:
        return pathways.course_state(pathways.course_prefetch(Course.objects.filter(pk=course.pk)).get())

    def decide(self, course: Course, *, days: int, **kwargs) -> CourseDecision:
        return courses.course_decide(actor=self.actor, course=course, now=NOW + dt.timedelta(days=days), **kwargs)


@pytest.fixture
def clinic(provider_user) -> Clinic:
    return Clinic(provider_user)


def answer(appointment: Appointment, *, relief: int, lasted: str, weeks: int | None = None, days: int = 14) -> None:
    FollowUp.objects.create(
        appointment=appointment, due_at=appointment.starts_at + dt.timedelta(days=days),
        answered_at=appointment.starts_at + dt.timedelta(days=days, hours=2), pain_now=6,
        percent_relief=relief, relief_lasted=lasted, relief_weeks=weeks,
    )  # fmt: skip


def enrol_facet(clinic: Clinic) -> Course:
    consult = ProcedureType.objects.get(slug="new-patient-consultation")
    clinic.appointment(consult, NOW - dt.timedelta(days=1))
    return courses.course_enrol(
        actor=clinic.actor, patient=clinic.patient, pathway=clinic.facet, site=T6_T8, referral=clinic.referral, now=NOW
    )


def test_the_facet_path_end_to_end(clinic):
    course = enrol_facet(clinic)
    assert course.site_label == "Thoracic T6-T7, T7-T8, bilateral"
    start = clinic.state(course).suggestion
    assert (start.state, start.text, start.step.code) == ("start", "Start: Imaging of the spine.", "imaging")

    clinic.decide(course, days=0, accept=True, note="acute fracture ruled out; facet arthropathy T6-T8")
    after_imaging = clinic.state(course).suggestion
    assert after_imaging.state == "suggest"
    assert (
        after_imaging.text
        == "Imaging of the spine done (acute fracture ruled out; facet arthropathy T6-T8): next is MBB #1"
    )

    decision = clinic.decide(course, days=1, accept=True)
    mbb1_order = decision.order
    assert (mbb1_order.procedure_type.slug, mbb1_order.step.code, mbb1_order.site_levels, mbb1_order.course) == (
        "medial-branch-block", "mbb-1", "T6-T7, T7-T8", course,
    )  # fmt: skip
    assert clinic.state(course).suggestion.state == "waiting_procedure"

    mbb1 = clinic.appointment(mbb1_order.procedure_type, NOW + dt.timedelta(days=10), order=mbb1_order)
    assert clinic.state(course).suggestion.state == "waiting_outcome"
    Appointment.objects.filter(pk=mbb1.pk).update(block_relief_percent=85)
    suggestion = clinic.state(course).suggestion
    assert (suggestion.state, suggestion.step.code) == ("suggest", "mbb-2")
    assert suggestion.text == "MBB #1 gave 85% relief during the block, at or above 80%: next is MBB #2"

    mbb2_order = clinic.decide(course, days=11, accept=True).order
    assert mbb2_order.step.code == "mbb-2"
    clinic.appointment(
        mbb2_order.procedure_type, NOW + dt.timedelta(days=24), order=mbb2_order, block_relief_percent=90
    )
    suggestion = clinic.state(course).suggestion
    assert suggestion.step.code == "rfa"
    assert (
        suggestion.text == "MBB #2 gave 90% relief during the block, at or above 80%: next is Radiofrequency ablation"
    )

    rfa_order = clinic.decide(course, days=25, accept=True).order
    assert rfa_order.procedure_type.slug == "radiofrequency-ablation"
    assert rfa_order.site_values() == mbb1_order.site_values() == course.site_values()
    assert rfa_order.status == ProcedureOrder.Status.OPEN
    assert [s.label for s in clinic.state(course).sessions] == ["Imaging of the spine", "MBB #1", "MBB #2"]


def test_a_negative_first_block_stops_the_facet_path_and_the_sweep_queues_no_repeat(clinic):
    course = enrol_facet(clinic)
    clinic.decide(course, days=0, accept=True, note="facet arthropathy")
    mbb1_order = clinic.decide(course, days=1, accept=True).order
    mbb1 = clinic.appointment(mbb1_order.procedure_type, NOW + dt.timedelta(days=10), order=mbb1_order,
                              block_relief_percent=40)  # fmt: skip
    answer(mbb1, relief=40, lasted="hours")
    suggestion = clinic.state(course).suggestion
    assert (suggestion.state, suggestion.then, suggestion.step) == ("suggest", "stop", None)
    assert suggestion.text == "MBB #1 gave 40% relief during the block, below 80%: stop the facet path and re-evaluate"
    assert repeats.repeats_find_due(now=NOW + dt.timedelta(days=30)) == []

    clinic.decide(course, days=12, accept=True)
    course.refresh_from_db()
    assert course.status == Course.Status.CLOSED
    assert course.closed_reason == suggestion.text
    assert not ProcedureOrder.objects.filter(step__code="mbb-2").exists()
    assert repeats.repeats_find_due(now=NOW + dt.timedelta(days=31)) == []


def esi_course(clinic: Clinic, reliefs: list[int], *, course: Course | None = None) -> tuple[Course, list[Appointment]]:
    """The radicular path for L4-L5 left with an epidural per relief (the follow-up's), 30 days apart."""
    if course is None:
        course = courses.course_enrol(
            actor=clinic.actor, patient=clinic.patient, pathway=clinic.radicular, site=L4_L5, now=NOW
        )
    done = []
    for n, relief in enumerate(reliefs):
        if n < len(clinic.state(course).sessions):
            continue
        order = clinic.decide(course, days=30 * n, accept=True).order
        assert order.procedure_type.slug == "epidural-steroid-injection"
        appointment = clinic.appointment(order.procedure_type, NOW + dt.timedelta(days=30 * n + 7), order=order)
        answer(appointment, relief=relief, lasted="days")
        done.append(appointment)
    return course, done


def test_two_epidurals_without_sustained_relief_suggest_neurosurgery_and_accepting_writes_the_referrer(clinic):
    course, _done = esi_course(clinic, [30])
    first = clinic.state(course).suggestion
    assert (first.step.code, first.text) == (
        "esi", "Epidural steroid injection gave 30% relief at follow-up, lasted 0 weeks, worn off: next is Epidural "
        "steroid injection",
    )  # fmt: skip
    course, _done = esi_course(clinic, [30, 30], course=course)
    suggestion = clinic.state(course).suggestion
    assert suggestion.step.code == "neurosurgery"
    assert suggestion.text == (
        "2 Epidural steroid injection sessions done without sustained relief: next is Referral to a neurosurgeon "
        "(Neurosurgery)"
    )
    clinic.decide(course, days=70, accept=True, note="Persistent L5 radiculopathy after two epidurals.")
    [referral_out] = ReferralOut.objects.all()
    assert (referral_out.specialty, referral_out.referral, referral_out.course) == (
        "Neurosurgery", clinic.referral, course,
    )  # fmt: skip
    [letter] = OutgoingMessage.objects.filter(kind=courses.REFERRAL_OUT_KIND)
    assert letter.to_email == "dr.ames@example.com"
    for part in (letter.body_text, letter.body_html):
        assert "Dana Cole" in part
        assert "Neurosurgery" in part
        assert "Persistent L5 radiculopathy after two epidurals." in part
    assert clinic.referral.reference in letter.subject
    assert "radicul" not in letter.subject.lower()
    assert "M54" not in letter.subject
    assert clinic.state(course).suggestion.state == "referred"
    with pytest.raises(ValidationError):
        clinic.decide(course, days=71, accept=True)
    assert OutgoingMessage.objects.filter(kind=courses.REFERRAL_OUT_KIND).count() == 1


def test_choosing_otherwise_needs_a_reason_and_a_step(clinic):
    course, _done = esi_course(clinic, [30])
    with pytest.raises(ValidationError) as caught:
        clinic.decide(course, days=40, accept=False, chosen_step=None, reason="")
    assert caught.value.message_dict == {
        "reason": [courses.OTHER_NEEDS_REASON], "chosen_step": [courses.OTHER_NEEDS_STEP],
    }  # fmt: skip
    assert not CourseDecision.objects.filter(after_appointment__isnull=False).exists()
    neurosurgery = PathwayStep.objects.get(pathway=clinic.radicular, code="neurosurgery")
    decision = clinic.decide(course, days=40, accept=False, chosen_step=neurosurgery, reason="Progressive weakness.")
    assert (decision.choice, decision.chosen_step, decision.reason) == ("other", neurosurgery, "Progressive weakness.")
    assert ReferralOut.objects.count() == 1


def test_a_session_is_decided_once_unless_its_order_is_cancelled(clinic):
    course, _done = esi_course(clinic, [30])
    decision = clinic.decide(course, days=40, accept=True)
    with pytest.raises(ValidationError) as caught:
        clinic.decide(course, days=40, accept=True)
    assert caught.value.messages[0].startswith("There is nothing to decide now: Waiting for the procedure:")
    # Two standing decisions on one session are impossible in the database too.
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseDecision.objects.create(
            course=course, after_appointment=decision.after_appointment, suggestion="again", choice="accepted",
            decided_at=NOW,
        )  # fmt: skip
    # The order is cancelled: the decision is withdrawn and the suggestion is offered again.
    orders.order_cancel(actor=clinic.actor, order=decision.order, reason="Patient moved away", now=NOW)
    decision.refresh_from_db()
    assert decision.withdrawn_at == NOW
    again = clinic.state(course).suggestion
    assert (again.state, again.step.code) == ("suggest", "esi")
    second = clinic.decide(course, days=41, accept=True)
    assert second.order.status == "open"
    assert second.order.pk != decision.order.pk
    assert clinic.state(course).suggestion.state == "waiting_procedure"


def test_enrolment_checks_the_site_against_the_first_procedure_and_one_active_course_per_site(clinic):
    with pytest.raises(ValidationError) as caught:
        courses.course_enrol(
            actor=clinic.actor, patient=clinic.patient, pathway=clinic.facet, now=NOW,
            site={"site_region": "cervical", "site_side": "left", "site_levels": "L4-L5", "site_target": ""},
        )  # fmt: skip
    assert caught.value.message_dict["site_levels"] == [
        "L4-L5 is not in the cervical spine: cervical levels run C1 to C7."
    ]
    enrol_facet(clinic)
    with pytest.raises(ValidationError) as caught:
        courses.course_enrol(actor=clinic.actor, patient=clinic.patient, pathway=clinic.facet, site=T6_T8, now=NOW)
    assert caught.value.message_dict["pathway"] == [
        "Dana Cole is already on Facet-mediated neck or back pain for this site: open that course instead."
    ]
    other_site = {**T6_T8, "site_levels": "T8-T9"}
    assert courses.course_enrol(
        actor=clinic.actor, patient=clinic.patient, pathway=clinic.facet, site=other_site, now=NOW
    )


def test_only_providers_enrol_and_decide(clinic, scheduler):
    with pytest.raises(ValidationError) as caught:
        courses.course_enrol(actor=scheduler, patient=clinic.patient, pathway=clinic.facet, site=T6_T8, now=NOW)
    assert caught.value.messages == [courses.ONLY_PROVIDERS]


def test_pathways_are_suggested_from_the_referrals_condition_and_codes(clinic):
    from conditions.models import Condition
    from referrals.models import ReferralDiagnosis

    clinic.referral.suspected_condition = Condition.objects.get(slug="radicular-pain")
    clinic.referral.save()
    ReferralDiagnosis.objects.create(referral=clinic.referral, code="M47.816")
    suggested = pathways.suggest_pathways(clinic.patient)
    assert [p.slug for p in suggested] == ["radicular-pain", "facet-mediated-pain"]


def test_a_repeat_rfa_after_worn_off_relief_is_queued_by_the_sweep_no_sooner_than_the_rule_allows(clinic):
    course = enrol_facet(clinic)
    clinic.decide(course, days=0, accept=True, note="facet arthropathy")
    for days, relief in ((1, 85), (11, 90)):
        order = clinic.decide(course, days=days, accept=True).order
        clinic.appointment(order.procedure_type, NOW + dt.timedelta(days=days + 9), order=order,
                           block_relief_percent=relief)  # fmt: skip
    rfa_order = clinic.decide(course, days=25, accept=True).order
    rfa = clinic.appointment(rfa_order.procedure_type, NOW + dt.timedelta(days=40), order=rfa_order)
    answer(rfa, relief=70, lasted="ongoing", days=60)
    assert clinic.state(course).suggestion.state == "wait"
    assert repeats.repeats_find_due(now=NOW + dt.timedelta(days=101)) == []
    answer(rfa, relief=70, lasted="months", weeks=16, days=120)
    suggestion = clinic.state(course).suggestion
    assert (suggestion.state, suggestion.step.code) == ("suggest", "rfa")
    rfa_day = (NOW + dt.timedelta(days=40)).date()
    assert suggestion.not_before == rfa_day + dt.timedelta(days=183)
    [item] = repeats.repeats_find_due(now=NOW + dt.timedelta(days=161))
    assert (item.course, item.step.code, item.last_appointment, item.procedure_type) == (
        course, "rfa", rfa, rfa_order.procedure_type,
    )  # fmt: skip
    assert item.earliest_date >= suggestion.not_before
    assert repeats.repeats_find_due(now=NOW + dt.timedelta(days=162)) == []
    assert RepeatDue.objects.count() == 1
