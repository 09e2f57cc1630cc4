"""The course pages: a provider enrols a patient from the chart and decides on the course
page; other staff read; a refused choice keeps its message beside the field; the course page
and the worklist cost a fixed number of queries however many courses and outcomes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from scheduling.models import Appointment, Course, CourseDecision, ProcedureOrder
from scheduling.services import courses
from tests.factories import PatientFactory, ReferralFactory
from tests.scheduling.test_courses import L4_L5, NOW, T6_T8, Clinic, answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(provider_user) -> Clinic:
    return Clinic(provider_user)


def test_a_provider_enrols_from_the_chart_with_the_suggested_pathway_first(client, clinic, provider_user):
    from conditions.models import Condition

    clinic.referral.suspected_condition = Condition.objects.get(slug="facet-joint-pain")
    clinic.referral.save()
    client.force_login(provider_user)
    chart = client.get(reverse("scheduling:patient", args=[clinic.patient.pk])).content.decode()
    assert "Courses of care" in chart
    url = reverse("scheduling:course_enrol", args=[clinic.patient.pk])
    assert url in chart
    page = client.get(url).content.decode()
    assert page.index("Facet-mediated neck or back pain (suggested)") < page.index("Myofascial pain")
    refused = client.post(url, {"pathway": clinic.facet.pk, "site_region": "thoracic", "site_side": "bilateral",
                                "site_levels": "L4-L5"})  # fmt: skip
    assert refused.status_code == 400
    assert "L4-L5 is not in the thoracic spine" in refused.content.decode()
    assert 'value="L4-L5"' in refused.content.decode()
    done = client.post(url, {"pathway": clinic.facet.pk, **T6_T8}, follow=True)
    course = Course.objects.get()
    assert done.redirect_chain[-1][0] == reverse("scheduling:course", args=[course.pk])
    assert "Start: Imaging of the spine." in done.content.decode()


def test_accepting_and_choosing_otherwise_on_the_course_page(client, clinic, provider_user):
    course = courses.course_enrol(
        actor=clinic.actor, patient=clinic.patient, pathway=clinic.radicular, site=L4_L5, now=NOW
    )
    client.force_login(provider_user)
    decide = reverse("scheduling:course_decide", args=[course.pk])
    page = client.post(decide, {"decision": "accept", "urgency": "soon"}, follow=True).content.decode()
    assert "Decision recorded: Epidural steroid injection." in page
    order = ProcedureOrder.objects.get()
    assert (order.urgency, order.site_levels, order.course) == ("soon", "L4-L5", course)
    assert "Waiting for the procedure: Epidural steroid injection ordered" in page

    appointment = clinic.appointment(order.procedure_type, NOW + dt.timedelta(days=7), order=order)
    answer(appointment, relief=30, lasted="days")
    refused = client.post(decide, {"decision": "other", "chosen_step": "", "reason": "", "urgency": "routine"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert courses.OTHER_NEEDS_REASON in text
    assert courses.OTHER_NEEDS_STEP in text
    assert CourseDecision.objects.count() == 1
    stopped = client.post(
        decide, {"decision": "other", "chosen_step": "stop", "reason": "Symptoms resolved.", "urgency": "routine"}
    )
    assert stopped.status_code == 302
    course.refresh_from_db()
    assert (course.status, course.closed_reason) == ("closed", "Stopped: Symptoms resolved.")


def test_schedulers_read_the_course_but_cannot_decide_or_enrol(client, clinic, scheduler, intake):
    course = courses.course_enrol(
        actor=clinic.actor, patient=clinic.patient, pathway=clinic.radicular, site=L4_L5, now=NOW
    )
    for user in (scheduler, intake):
        client.force_login(user)
        page = client.get(reverse("scheduling:course", args=[course.pk])).content.decode()
        assert "Start: Epidural steroid injection." in page
        assert reverse("scheduling:course_decide", args=[course.pk]) not in page
        assert (
            client.post(reverse("scheduling:course_decide", args=[course.pk]), {"decision": "accept"}).status_code
            == 404
        )
        assert client.get(reverse("scheduling:course_enrol", args=[clinic.patient.pk])).status_code == 404
        assert client.get(reverse("scheduling:courses_to_decide")).status_code == 404
    assert not ProcedureOrder.objects.exists()


def _decidable_courses(clinic: Clinic, count: int, *, first: int = 0) -> list[Course]:
    """Radicular courses each with one epidural whose follow-up answered (30%): to decide."""
    made = []
    for n in range(first, first + count):
        patient = PatientFactory(first_name=f"Pat{n}", last_name="Lane")
        ReferralFactory(patient=patient, status="completed")
        clinic.patient = patient
        course = courses.course_enrol(
            actor=clinic.actor, patient=patient, pathway=clinic.radicular, site=L4_L5, now=NOW
        )
        order = clinic.decide(course, days=0, accept=True).order
        appointment = clinic.appointment(order.procedure_type, NOW + dt.timedelta(days=7, hours=n), order=order)
        answer(appointment, relief=30, lasted="days")
        answer(appointment, relief=20, lasted="none", days=30)
        made.append(course)
    return made


def test_the_worklist_lists_courses_to_decide_in_constant_queries(client, clinic, provider_user,
                                                                   django_assert_num_queries):  # fmt: skip
    _decidable_courses(clinic, 2)
    waiting = courses.course_enrol(
        actor=clinic.actor, patient=PatientFactory(), pathway=clinic.facet, site=T6_T8, now=NOW
    )  # enrolled, nothing done: not on the worklist
    url = reverse("scheduling:courses_to_decide")
    client.force_login(provider_user)
    with time_machine.travel(NOW + dt.timedelta(days=60), tick=False):
        # 1 session, 2 user, 3 second-factor device, 4-5 permissions (user, groups),
        # 6 active courses with patient, pathway, condition, referral, 7 their orders with
        # procedure and step, 8 the orders' appointments, 9 their follow-ups, 10 decisions,
        # 11 pathway steps, 12 pathway rules, 13-15 savepoint, session save, release,
        # 16 the audit rows of the courses shown (one insert)
        with django_assert_num_queries(16):
            page = client.get(url).content.decode()
        assert page.count("next is Epidural steroid injection") == 2
        assert reverse("scheduling:course", args=[waiting.pk]) not in page
        _decidable_courses(clinic, 5, first=2)
        with django_assert_num_queries(16):
            page = client.get(url).content.decode()
        assert page.count("next is Epidural steroid injection") == 7


def test_the_course_page_costs_the_same_however_many_sessions(client, clinic, provider_user,
                                                               django_assert_num_queries):  # fmt: skip
    [course] = _decidable_courses(clinic, 1)
    url = reverse("scheduling:course", args=[course.pk])
    client.force_login(provider_user)
    with time_machine.travel(NOW + dt.timedelta(days=60), tick=False):
        # 1 session, 2 user, 3 second-factor device, 4-5 permissions, 6 the course with
        # patient, pathway, condition, referral, 7 orders, 8 appointments, 9 follow-ups,
        # 10 decisions, 11 steps, 12 rules, 13 the audit row, 14 the groups for has_role,
        # 15-17 savepoint, session save, release
        with django_assert_num_queries(17):
            page = client.get(url).content.decode()
        assert "2 Epidural steroid injection" not in page
        order = clinic.decide(course, days=40, accept=True).order
        second = clinic.appointment(order.procedure_type, NOW + dt.timedelta(days=47), order=order)
        answer(second, relief=30, lasted="days")
        answer(second, relief=25, lasted="none", days=30)
        Appointment.objects.filter(pk=second.pk).update(baseline_pain=7)
        with django_assert_num_queries(17):
            page = client.get(url).content.decode()
        assert "2 Epidural steroid injection sessions done without sustained relief" in page


def test_the_chart_shows_courses_in_constant_queries(client, clinic, scheduler, django_assert_num_queries):
    patient = clinic.patient
    first = courses.course_enrol(actor=clinic.actor, patient=patient, pathway=clinic.radicular, site=L4_L5, now=NOW)
    order = clinic.decide(first, days=0, accept=True).order
    answer(clinic.appointment(order.procedure_type, NOW + dt.timedelta(days=7), order=order), relief=30, lasted="days")
    url = reverse("scheduling:patient", args=[patient.pk])
    client.force_login(scheduler)
    # 1 session, 2 user, 3 second-factor device, 4-5 permissions, 6 patient, 7 audit row,
    # 8 appointments, 9 follow-ups, 10 messages, 11 referrals, 12 requests, 13 changes,
    # 14 courses with patient, pathway, condition, referral, 15 their orders, 16 the orders'
    # appointments, 17 follow-ups, 18 decisions, 19 steps, 20 rules, 21-23 savepoint, session
    # save, release
    with django_assert_num_queries(24):
        page = client.get(url).content.decode()
    assert page.count(reverse("scheduling:course", args=[first.pk])) == 1
    assert "next is Epidural steroid injection" in page
    second = courses.course_enrol(actor=clinic.actor, patient=patient, pathway=clinic.facet, site=T6_T8, now=NOW)
    clinic.decide(second, days=1, accept=True, note="facet arthropathy")
    clinic.decide(second, days=2, accept=True)
    with django_assert_num_queries(24):
        page = client.get(url).content.decode()
    assert "Waiting for the procedure: Medial branch block" in page
