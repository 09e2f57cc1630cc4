"""The staff patient search, the patient chart and the demographics form: who may open
them, what they show, how many queries they take, and what bad input gets."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from clinic.models import AuditEvent, OutgoingMessage
from referrals.models import Patient, PatientChange
from scheduling.models import Appointment, FollowUp, PatientRequest
from scheduling.services import booking
from tests.factories import PatientFactory, ReferralFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
OK, LOGIN, HIDDEN = 200, 302, 404


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def denver_world(world):
    """The world's location in Mountain time, so that chart times in the server's zone
    (Central) would show."""
    world.location.time_zone = "America/Denver"
    world.location.save(update_fields=["time_zone"])
    return world


def _past_appointment(world, patient, day: int, status="completed") -> Appointment:
    start = local(world.location, 2026, 11, day, 10, 0)
    end = start + dt.timedelta(minutes=30)
    return Appointment.objects.create(
        patient=patient, procedure_type=world.epidural, provider=world.provider, room=world.fluoro,
        location=world.location, starts_at=start, ends_at=end, blocks_until=end, status=status,
    )  # fmt: skip


def _upcoming_appointment(world, scheduler, hour=9, referral=None) -> Appointment:
    return booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, hour), referral=referral,
    )  # fmt: skip


# --- Who may open what ------------------------------------------------------------------

# who -> expected for: search, chart, edit
MATRIX = {
    "referrer": (HIDDEN, HIDDEN, HIDDEN),
    "intake": (OK, OK, OK),
    "scheduler": (OK, OK, OK),
    "provider_user": (OK, OK, HIDDEN),
    "clinic_admin": (OK, OK, HIDDEN),
    "anonymous": (LOGIN, LOGIN, LOGIN),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_access_matrix(client, request, world, who):
    ReferralFactory(patient=world.patient)
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    urls = (
        reverse("scheduling:patients") + "?q=Reyes",
        reverse("scheduling:patient", args=[world.patient.pk]),
        reverse("scheduling:patient_edit", args=[world.patient.pk]),
    )
    for url, expected in zip(urls, MATRIX[who], strict=True):
        response = client.get(url)
        assert response.status_code == expected, f"{who} {url}"
        if expected == LOGIN:
            assert response.url.startswith(reverse("login"))


def test_a_referrer_of_the_patients_practice_still_gets_no_chart(client, referrer, world):
    ReferralFactory(patient=world.patient, referring_physician__user=referrer)
    client.force_login(referrer)
    assert client.get(reverse("scheduling:patient", args=[world.patient.pk])).status_code == HIDDEN
    # ... and keeps the referrals app's own patient page.
    assert client.get(reverse("referrals:patient", args=[world.patient.pk])).status_code == OK


@pytest.mark.parametrize("who", ["intake", "scheduler", "provider_user", "clinic_admin"])
def test_staff_opening_the_old_patient_page_get_the_chart(client, request, world, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("referrals:patient", args=[world.patient.pk]))
    assert response.status_code == 302
    assert response.url == reverse("scheduling:patient", args=[world.patient.pk])


@pytest.mark.parametrize("who", ["intake", "scheduler", "provider_user", "clinic_admin"])
def test_every_staff_role_has_patients_in_the_navigation(client, request, who):
    client.force_login(request.getfixturevalue(who))
    content = client.get(reverse("clinic:messages") if who != "provider_user" else reverse("scheduling:my_day"))
    assert f'href="{reverse("scheduling:patients")}">Patients</a>' in content.content.decode()


def test_a_referrer_has_no_patients_link(client, referrer):
    client.force_login(referrer)
    assert reverse("scheduling:patients") not in client.get(reverse("referrals:portal")).content.decode()


# --- Search -----------------------------------------------------------------------------


def test_search_by_phone_lists_the_patient_with_a_link_to_the_chart(client, scheduler, world):
    PatientFactory(last_name="Other", phone="+14795550999")
    client.force_login(scheduler)
    content = client.get(reverse("scheduling:patients"), {"q": "(479) 555-0100"}).content.decode()
    assert "1 patient found" in content
    assert f'href="{reverse("scheduling:patient", args=[world.patient.pk])}">Reyes, Jordan</a>' in content


@pytest.mark.parametrize(
    ("query", "message"),
    [("Rey\x00es", "Null characters are not allowed."), ("x" * 10_000, "Ensure this value has at most 100 characters")],
)
def test_unsearchable_text_gets_a_message_by_the_field_not_a_500(client, scheduler, world, query, message):
    client.force_login(scheduler)
    response = client.get(reverse("scheduling:patients"), {"q": query})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "patient found" not in response.content.decode()


def test_search_paginates(client, scheduler):
    PatientFactory.create_batch(27, last_name="Garcia")
    client.force_login(scheduler)
    first = client.get(reverse("scheduling:patients"), {"q": "garcia"}).content.decode()
    second = client.get(reverse("scheduling:patients"), {"q": "garcia", "page": "2"}).content.decode()
    assert first.count("Garcia, Jordan</a>") == 25
    assert second.count("Garcia, Jordan</a>") == 2
    assert "Page 1 of 2" in first


def test_search_query_count_is_constant(client, scheduler, django_assert_num_queries):
    PatientFactory.create_batch(3, last_name="Garcia")
    client.force_login(scheduler)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions (user's, groups'), 6 count of matches,
    # 7 the page of patients, 8-10 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(11):
        client.get(reverse("scheduling:patients"), {"q": "garcia"})
    PatientFactory.create_batch(20, last_name="Garcia")
    with django_assert_num_queries(11):
        response = client.get(reverse("scheduling:patients"), {"q": "garcia"})
    assert response.content.decode().count("Garcia, Jordan</a>") == 23


# --- The chart --------------------------------------------------------------------------


@pytest.fixture
def full_chart(denver_world, scheduler):
    """The world's patient with a referral, an upcoming and a past appointment, an answered
    follow-up, a handled request, e-mails owed and a recorded change."""
    world = denver_world
    upcoming = _upcoming_appointment(world, scheduler, referral=world.referral)
    past = _past_appointment(world, world.patient, day=2)
    FollowUp.objects.create(appointment=past, due_at=past.starts_at + dt.timedelta(days=7),
                            answered_at=NOW, pain_now=3, percent_relief=70, relief_lasted="weeks",
                            comments="Much better walking.")  # fmt: skip
    PatientRequest.objects.create(appointment=past, kind="reschedule", reason="Work trip", created_at=NOW,
                                  handled_at=NOW, handled_by=scheduler)  # fmt: skip
    OutgoingMessage.objects.create(key="fu-1", kind="follow_up", topic=f"follow-up:{past.follow_ups.get().pk}",
                                   to_email=world.patient.email, subject="How are you feeling?",
                                   body_text="SECRET BODY TEXT", due_at=NOW, status="sent", sent_at=NOW)  # fmt: skip
    someone_else = _past_appointment(world, PatientFactory(), 3)
    OutgoingMessage.objects.create(key="other-1", kind="x", topic=f"appointment:{someone_else.pk}",
                                   to_email="x@mail.example", subject="Someone else's e-mail", body_text="x",
                                   due_at=NOW)  # fmt: skip
    PatientChange.objects.create(patient=world.patient, actor=scheduler, actor_label=scheduler.email, at=NOW,
                                 changes={"phone": {"before": "+14795550100", "after": "+14795550111"}})  # fmt: skip
    return world, upcoming, past


def test_chart_shows_everything_about_the_patient(client, scheduler, full_chart):
    world, upcoming, past = full_chart
    client.force_login(scheduler)
    content = client.get(reverse("scheduling:patient", args=[world.patient.pk])).content.decode()
    assert "04/12/1961" in content
    assert f"{world.referral.reference}</a> · 11/23/2026 · Scheduled" in content  # booked just now
    upcoming_part = content[content.index("Upcoming appointments") : content.index("Past appointments")]
    past_part = content[content.index("Past appointments") : content.index("Follow-up answers")]
    # 9:00 and 10:00 on the location's (Mountain) wall clock, not the server's Central time.
    assert "Tue 12/01/2026, 9:00 AM MST</a> · New-patient consultation" in upcoming_part
    assert "Booked" in upcoming_part
    assert "Mon 11/02/2026, 10:00 AM MST</a> · Epidural steroid injection" in past_part
    assert "Completed" in past_part
    assert "Pain now 3/10 · 70% relief · lasted a few weeks" in content
    assert "Reschedule Epidural steroid injection of 11/02/2026: Work trip · handled" in content
    assert "How are you feeling?" in content
    assert OutgoingMessage.objects.filter(topic=f"appointment:{upcoming.pk}").exists()
    assert OutgoingMessage.objects.get(topic=f"appointment:{upcoming.pk}", kind__contains="confirm").subject in content
    assert "SECRET BODY TEXT" not in content
    assert "Someone else" not in content
    assert "Phone: +14795550100 → +14795550111" in content
    assert f'href="{reverse("scheduling:find")}?patient={world.patient.pk}">Book another appointment</a>' in content
    assert reverse("scheduling:patient_edit", args=[world.patient.pk]) in content


def test_chart_load_is_audited(client, provider_user, world):
    client.force_login(provider_user)
    client.get(reverse("scheduling:patient", args=[world.patient.pk]))
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_type, event.object_id) == (
        provider_user, AuditEvent.Action.VIEW, "referrals.Patient", str(world.patient.pk),
    )  # fmt: skip


def test_providers_see_no_edit_link_and_intake_no_booking_link(client, provider_user, intake, world):
    edit = reverse("scheduling:patient_edit", args=[world.patient.pk])
    client.force_login(provider_user)
    content = client.get(reverse("scheduling:patient", args=[world.patient.pk])).content.decode()
    assert edit not in content
    assert "Book another appointment" in content
    client.force_login(intake)
    content = client.get(reverse("scheduling:patient", args=[world.patient.pk])).content.decode()
    assert edit in content
    assert "Book another appointment" not in content


def test_chart_query_count_does_not_grow_with_appointments(client, scheduler, full_chart, django_assert_num_queries):
    world, _upcoming, _past = full_chart
    client.force_login(scheduler)
    url = reverse("scheduling:patient", args=[world.patient.pk])
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions (user's, groups'), 6 patient, 7 audit row insert,
    # 8 appointments with type, provider, room and location, 9 follow-ups with appointment,
    # 10 messages of those topics, 11 referrals with procedure, 12 requests with appointment,
    # 13 changes, 14 courses of care (none: nothing prefetched), 15 orders with procedure,
    # 16-18 savepoint, session save, release
    with django_assert_num_queries(18):
        client.get(url)
    for day in range(4, 11):  # days 2 and 3 are taken
        past = _past_appointment(world, world.patient, day=day)
        # Each with a baseline score and an answered follow-up: the pain chart's points.
        Appointment.objects.filter(pk=past.pk).update(
            baseline_pain=7, site_region="lumbar", site_side="left", site_levels="L4-L5"
        )
        FollowUp.objects.create(appointment=past, due_at=NOW, answered_at=NOW, pain_now=3, percent_relief=60)
    _upcoming_appointment(world, scheduler, hour=11)
    with django_assert_num_queries(18):
        response = client.get(url)
    html = response.content.decode()
    assert html.count('href="/scheduling/appointments/') == 10
    assert html.count('class="pain-point pain-point-baseline"') == 7
    scored = FollowUp.objects.filter(appointment__patient=world.patient, pain_now__isnull=False)
    assert html.count('class="pain-point pain-point-follow-up"') == scored.count() >= 7
    assert "Lumbar L4-L5, left" in html


# --- Editing demographics ---------------------------------------------------------------


def _form_data(patient: Patient, **changes) -> dict:
    data = {
        "version": patient.version, "first_name": patient.first_name, "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(), "sex": patient.sex, "phone": str(patient.phone),
        "email": patient.email, "preferred_contact": patient.preferred_contact, "email_consent": "on",
        "street": "", "city": "", "state": "", "postal_code": "", "insurance_payer": "", "insurance_member_id": "",
    }  # fmt: skip
    return {**data, **changes}


def test_scheduler_corrects_the_phone_and_the_chart_lists_the_change(client, scheduler, world):
    client.force_login(scheduler)
    url = reverse("scheduling:patient_edit", args=[world.patient.pk])
    response = client.post(url, _form_data(world.patient, phone="479 555 0199"), follow=True)
    assert response.redirect_chain == [(reverse("scheduling:patient", args=[world.patient.pk]), 302)]
    content = response.content.decode()
    assert "Saved: phone." in content
    assert "Phone: +14795550100 → +14795550199" in content
    change = PatientChange.objects.get()
    assert change.changes == {"phone": {"before": "+14795550100", "after": "+14795550199"}}
    assert change.actor == scheduler
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, summary="Changed: phone").count() == 1


def test_edit_form_opens_with_the_current_details_and_is_audited(client, intake, world):
    client.force_login(intake)
    content = client.get(reverse("scheduling:patient_edit", args=[world.patient.pk])).content.decode()
    assert 'value="1961-04-12"' in content
    assert 'value="Reyes"' in content
    assert 'name="version" value="1"' in content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=intake).count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "Jor\x00dan", "Null characters are not allowed."),
        ("city", "x" * 10_000, "Ensure this value has at most 100 characters (it has 10000)."),
        ("insurance_payer", "x" * 10_000, "Ensure this value has at most 120 characters (it has 10000)."),
        ("date_of_birth", "0001-01-01", "before 1 January 1900"),
        ("date_of_birth", "9999-12-31", "The date of birth cannot be in the future."),
        ("date_of_birth", "10000-01-01", "Enter a valid date."),
        ("phone", "479-555", "Enter a valid phone number"),
        ("phone", "x" * 10_000, "Enter a valid phone number"),
        ("email", "x" * 10_000, "Enter a valid email address."),
        ("sex", "robot", "Select a valid choice."),
        ("last_name", "", "This field is required."),
        ("version", "²", "Enter a whole number."),
        ("version", "99999999999999999999", "Ensure this value is less than or equal to"),
    ],
)
def test_bad_input_gets_a_message_by_the_field_keeps_the_text_and_saves_nothing(
    client, scheduler, world, field, value, message
):
    client.force_login(scheduler)
    data = _form_data(world.patient, **{field: value})
    if field != "city":
        data["city"] = "Typed City"  # a good field typed alongside, which must be kept
    response = client.post(reverse("scheduling:patient_edit", args=[world.patient.pk]), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    content = response.content.decode()
    assert "Nothing was saved" in content
    if field != "city":
        assert 'value="Typed City"' in content
    if field in ("insurance_payer", "city", "phone"):
        assert f'value="{value}"' in content  # as typed, not reformatted
    patient = Patient.objects.get(pk=world.patient.pk)
    assert (patient.version, patient.city, str(patient.phone.as_e164)) == (1, "", "+14795550100")
    assert not PatientChange.objects.exists()


def test_a_second_editor_is_told_who_changed_it_meanwhile_and_nothing_is_overwritten(client, scheduler, intake, world):
    url = reverse("scheduling:patient_edit", args=[world.patient.pk])
    opened = _form_data(world.patient)  # both open the form at version 1
    client.force_login(intake)
    client.post(url, {**opened, "phone": "479-555-0111"})
    client.force_login(scheduler)
    response = client.post(url, {**opened, "phone": "479-555-0222", "city": "Dover"})
    assert response.status_code == 409
    content = response.content.decode()
    assert "intake@clinic.example changed this patient&#x27;s details while you were editing" in content
    assert "Phone: +14795550100 → +14795550111" in content  # what they changed
    assert 'value="Dover"' in content  # what this editor typed is kept
    assert 'name="version" value="2"' in content  # saving again is a knowing overwrite
    patient = Patient.objects.get(pk=world.patient.pk)
    assert (str(patient.phone.as_e164), patient.city) == ("+14795550111", "")
    assert PatientChange.objects.count() == 1
    response = client.post(url, {**opened, "version": "2", "phone": "479-555-0222", "city": "Dover"})
    assert response.status_code == 302
    assert Patient.objects.get(pk=world.patient.pk).city == "Dover"


# --- Book another appointment, and rescheduling keeps the provider ----------------------


def test_appointment_page_links_to_the_finder_for_the_patient(client, scheduler, world):
    appointment = _past_appointment(world, world.patient, day=2)
    client.force_login(scheduler)
    content = client.get(appointment.get_absolute_url()).content.decode()
    assert f'href="{reverse("scheduling:find")}?patient={world.patient.pk}">Book another appointment</a>' in content
    assert f'href="{reverse("scheduling:patient", args=[world.patient.pk])}"' in content


def test_referral_page_offers_schedulers_the_requested_procedure(client, scheduler, intake, world):
    referral = ReferralFactory(patient=world.patient, requested_procedure=world.epidural, status="scheduled")
    client.force_login(scheduler)
    content = client.get(referral.get_absolute_url()).content.decode()
    link = f"{reverse('scheduling:find')}?patient={world.patient.pk}&amp;procedure_type={world.epidural.pk}"
    assert f'href="{link}">Book another appointment</a>' in content
    client.force_login(intake)  # intake cannot use the finder, so gets no button
    assert "Book another appointment" not in client.get(referral.get_absolute_url()).content.decode()


def test_referrer_sees_no_booking_button_on_their_referral(client, referrer, world):
    referral = ReferralFactory(patient=world.patient, referring_physician__user=referrer)
    client.force_login(referrer)
    assert "Book another appointment" not in client.get(referral.get_absolute_url()).content.decode()


def test_rescheduling_starts_with_the_appointments_provider(client, scheduler, world):
    appointment = _upcoming_appointment(world, scheduler, referral=world.referral)
    client.force_login(scheduler)
    response = client.get(reverse("scheduling:find"), {"procedure_type": world.consult.pk,
                                                       "appointment": appointment.pk})  # fmt: skip
    assert response.context["form"]["provider"].value() == world.provider.pk
    # The scheduler may still ask for any provider.
    response = client.get(reverse("scheduling:find"), {"procedure_type": world.consult.pk,
                                                       "appointment": appointment.pk, "provider": ""})  # fmt: skip
    assert response.context["form"]["provider"].value() in ("", None)


def test_a_superscript_appointment_id_is_no_500(client, scheduler, world):
    client.force_login(scheduler)
    response = client.get(reverse("scheduling:find"), {"procedure_type": world.consult.pk, "appointment": "²"})
    assert response.status_code < 500


@pytest.mark.parametrize("name", ["scheduling:patient", "scheduling:patient_edit"])
@pytest.mark.parametrize("pk", [0, 999_999, 99_999_999_999_999_999_999])
def test_a_missing_or_huge_patient_number_is_404(client, scheduler, name, pk):
    client.force_login(scheduler)
    assert client.get(reverse(name, args=[pk])).status_code == HIDDEN
    assert client.post(reverse(name, args=[pk]), {}).status_code in (HIDDEN, 405)
