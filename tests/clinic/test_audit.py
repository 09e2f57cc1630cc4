"""The PHI audit log: refused attempts, failed logins, one row per page, writes recorded by
their service, the clinic admins' audit page with its CSV, and "who saw this patient"."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.urls import reverse

from clinic import forms as clinic_forms
from clinic.audit import AuditOriginMiddleware, audit_record_many
from clinic.models import AuditEvent
from clinic.views import AUDIT_EXPORT_TRUNCATED
from referrals import selectors as referral_selectors
from referrals.models import Attachment
from tests.factories import PatientFactory, ReferralFactory, ReferringPhysicianFactory, ReferringPracticeFactory

pytestmark = pytest.mark.django_db

MISSING_PK = 999_999
CLIENT_IP = "127.0.0.1"


@pytest.fixture
def riverbend(referrer):
    """A referral of the referrer's practice, with a file."""
    physician = ReferringPhysicianFactory(practice=ReferringPracticeFactory(name="Riverbend"), user=referrer)
    referral = ReferralFactory(referring_physician=physician, status="submitted")
    attachment = Attachment(referral=referral, original_name="note.pdf", content_type="application/pdf", size=15)
    attachment.file.save("note.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
    return referral, attachment


@pytest.fixture
def hillside_client(client, other_referrer):
    ReferringPhysicianFactory(practice=ReferringPracticeFactory(name="Hillside"), user=other_referrer)
    client.force_login(other_referrer)
    return client


# --- Refused attempts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "object_type"),
    [("referrals:detail", "referrals.Referral"), ("referrals:patient", "referrals.Patient"),
     ("referrals:attachment", "referrals.Attachment")],
)  # fmt: skip
def test_another_practices_record_is_refused_and_recorded(riverbend, hillside_client, other_referrer, name,
                                                          object_type, settings, tmp_path):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    referral, attachment = riverbend
    kwargs = {
        "referrals:detail": {"pk": referral.pk},
        "referrals:patient": {"pk": referral.patient_id},
        "referrals:attachment": {"pk": referral.pk, "file_pk": attachment.pk},
    }[name]
    url = reverse(name, kwargs=kwargs)
    assert hillside_client.get(url).status_code == 404
    event = AuditEvent.objects.get()
    asked_for = str(attachment.pk if name == "referrals:attachment" else next(iter(kwargs.values())))
    assert (event.action, event.actor, event.ip_address, event.path) == ("refused", other_referrer, CLIENT_IP, url)
    assert (event.object_type, event.object_id) == (object_type, asked_for)


def test_a_missing_appointment_is_refused_and_recorded(client, scheduler):
    client.force_login(scheduler)
    url = reverse("scheduling:appointment", args=[MISSING_PK])
    assert client.get(url).status_code == 404
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.object_type, event.object_id, event.path) == (
        "refused", scheduler, "scheduling.Appointment", str(MISSING_PK), url,
    )  # fmt: skip


def test_a_tampered_patient_link_is_recorded_without_its_token(client):
    token = "eyJhIjoxLCJwIjoiY29uZmlybSJ9:tampered:signature"
    response = client.get(reverse("patient:confirm", args=[token]))
    assert response.status_code == 400
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.object_type, event.object_id) == (
        "refused",
        None,
        "patient link",
        "confirm",
    )
    assert event.ip_address == CLIENT_IP
    assert token not in event.path
    assert event.path == "/p/confirm/…/"


# --- Failed logins -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_each_failed_login_leaves_a_durable_row(client, scheduler, path):
    client.post(path, {"username": "  Scheduler@Clinic.example ", "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    event = AuditEvent.objects.get()
    # The identity as the lockout counts it (clinic.login_identity): every spelling is one account.
    assert (event.action, event.actor, event.actor_label) == ("login_failed", None, "scheduler@clinic.example")
    assert (event.ip_address, event.path) == ("203.0.113.9", path)


# --- One row per page, writes by their service -------------------------------------------


def test_a_page_loading_the_same_record_twice_writes_one_row(riverbend, referrer):
    referral, _ = riverbend
    request = RequestFactory().get(f"/referrals/{referral.pk}/")
    request.user = referrer

    def page(request):
        referral_selectors.get_referral_for_user(request.user, referral.pk)
        referral_selectors.get_referral_for_user(request.user, referral.pk)
        return None

    AuditOriginMiddleware(page)(request)
    assert AuditEvent.objects.filter(object_id=str(referral.pk)).count() == 1


def test_a_list_writes_one_row_per_patient_in_one_insert(referrer, django_assert_num_queries):
    patients = PatientFactory.create_batch(3)
    request = RequestFactory().get("/scheduling/day/")
    request.user = referrer
    # 1 the insert of every row
    with django_assert_num_queries(1):
        audit_record_many(request=request, action="view", objs=[*patients, patients[0]], summary="calendar")
    assert sorted(AuditEvent.objects.values_list("patient_pk", flat=True)) == sorted(p.pk for p in patients)


def test_a_staff_action_is_one_row_written_by_the_service(client, intake, riverbend):
    referral, _ = riverbend
    client.force_login(intake)
    client.post(reverse("referrals:act", args=[referral.pk, "start_review"]))
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.object_id, event.patient_pk) == (
        "update", intake, str(referral.pk), referral.patient_id,
    )  # fmt: skip
    assert event.summary == "submitted -> under_review"


# --- The audit page ------------------------------------------------------------------------


def _event(*, at: dt.datetime | None = None, **fields) -> AuditEvent:
    defaults = {"actor_label": "scheduler@clinic.example", "action": "view", "object_type": "referrals.Patient",
                "object_id": "1", "ip_address": CLIENT_IP, "path": "/x/"}  # fmt: skip
    event = AuditEvent.objects.create(**{**defaults, **fields})
    if at is not None:  # ``at`` is set on insert (auto_now_add): moved afterwards
        AuditEvent.objects.filter(pk=event.pk).update(at=at)
    return event


def test_the_audit_page_filters_by_patient_person_action_and_local_days(client, clinic_admin, settings):
    settings.TIME_ZONE = "America/Chicago"
    # 23:30 on 1 December in Chicago is already 2 December in UTC.
    late = _event(patient_pk=42, summary="late evening", at=dt.datetime(2026, 12, 2, 5, 30, tzinfo=dt.UTC))
    next_day = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)
    _event(patient_pk=42, summary="next day", at=next_day)
    _event(patient_pk=7, summary="other patient", at=next_day)
    _event(patient_pk=42, action="update", actor_label="intake@clinic.example", summary="intake's change", at=next_day)

    def shown(**query) -> list[str]:
        return [event.summary for event in client.get(reverse("clinic:audit_log"), query).context["page"]]

    with time_machine.travel(dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)):
        client.force_login(clinic_admin)
        assert shown(patient="P0000042", action="view") == ["next day", "late evening"]
        assert shown(patient="42", since="2026-12-01", until="2026-12-01") == [late.summary]
        assert shown(actor="intake@") == ["intake's change"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [({"patient": "Robert DROP"}, "patient", clinic_forms.AUDIT_PATIENT_UNREADABLE),
     ({"since": "9999-12-31"}, "since", "Choose a date between"),
     ({"since": "2026-11-02", "until": "2026-11-01"}, "until", clinic_forms.AUDIT_DATES_REVERSED)],
)  # fmt: skip
def test_bad_filters_get_a_message_beside_the_field_not_a_500(client, clinic_admin, query, field, message):
    client.force_login(clinic_admin)
    for name in ("clinic:audit_log", "clinic:audit_export"):
        response = client.get(reverse(name), query)
        assert response.status_code == 400
        assert any(message in error for error in response.context["form"].errors[field])
        assert list(query.values())[0] in response.content.decode()  # what was typed is kept


def test_the_audit_page_query_count_does_not_grow(client, clinic_admin, django_assert_num_queries):
    client.force_login(clinic_admin)
    for number in range(3):
        _event(object_id=str(number))
    # 1 session, 2 user, 3 the session's second-factor device (django-otp), 4-5 permissions
    # (user's, groups'), 6 count, 7 the page of rows, 8-10 savepoint, session save, release
    with django_assert_num_queries(10):
        client.get(reverse("clinic:audit_log"))
    for number in range(60):
        _event(object_id=str(number))
    with django_assert_num_queries(10):
        response = client.get(reverse("clinic:audit_log"))
    assert len(response.context["page"]) == 50


def test_the_csv_export_streams_the_filtered_rows_and_defuses_formulas(client, clinic_admin):
    _event(patient_pk=42, summary="seen")
    _event(patient_pk=7, summary="other patient")
    _event(action="login_failed", actor_label="=HYPERLINK(evil)", object_type="clinic.User", object_id="")
    client.force_login(clinic_admin)
    response = client.get(reverse("clinic:audit_export"), {"patient": "42"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[-1] for row in rows[1:]] == ["seen"]
    assert rows[1][6] == "42"
    failed = client.get(reverse("clinic:audit_export"), {"action": "login_failed"})
    rows = list(csv.reader(io.StringIO(b"".join(failed.streaming_content).decode())))
    assert rows[1][2] == "'=HYPERLINK(evil)"


def test_the_csv_export_is_bounded(client, clinic_admin, monkeypatch):
    monkeypatch.setattr("clinic.views.AUDIT_EXPORT_MAX_ROWS", 2)
    for number in range(3):
        _event(object_id=str(number))
    client.force_login(clinic_admin)
    response = client.get(reverse("clinic:audit_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 4
    assert rows[-1] == [AUDIT_EXPORT_TRUNCATED % {"count": 2}]


def test_only_clinic_admins_reach_the_audit_page_and_export(client, scheduler):
    client.force_login(scheduler)
    assert client.get(reverse("clinic:audit_log")).status_code == 404
    assert client.get(reverse("clinic:audit_export")).status_code == 404


# --- Who saw this patient -----------------------------------------------------------------


def test_the_chart_shows_clinic_admins_who_saw_the_patient(client, scheduler, clinic_admin):
    patient = PatientFactory()
    url = reverse("scheduling:patient", args=[patient.pk])
    client.force_login(scheduler)
    assert "Who saw this patient" not in client.get(url).content.decode()
    client.force_login(clinic_admin)
    content = client.get(url).content.decode()
    assert "Who saw this patient" in content
    assert "scheduler@clinic.example" in content
    assert f"{reverse('clinic:audit_log')}?patient={patient.pk}" in content
