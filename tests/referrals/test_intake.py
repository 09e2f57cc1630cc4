"""Fax and phone referrals entered by intake, with duplicate-patient detection."""

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from referrals.models import Patient, Referral
from tests.factories import PatientFactory, ReferralFactory
from tests.referrals.conftest import TIFF_BYTES, referral_post

pytestmark = pytest.mark.django_db


def intake_post(physician, **overrides) -> dict:
    fields = {"source": "fax", "received_at": "2026-11-20T16:45", "file_kind": "fax", **overrides}
    return referral_post(physician, **fields)


def test_a_fax_referral_keeps_its_source_received_time_and_scan(client, intake, physician):
    client.force_login(intake)
    scan = SimpleUploadedFile("fax 0042.tif", TIFF_BYTES, "image/tiff")
    response = client.post(reverse("referrals:intake_new"), {**intake_post(physician), "files": [scan]})
    referral = Referral.objects.get()
    assert response.url == referral.get_absolute_url()
    assert referral.source == "fax"
    # 16:45 in Russellville (CST, UTC-6) is 22:45 UTC.
    assert referral.received_at == dt.datetime(2026, 11, 20, 22, 45, tzinfo=dt.UTC)
    assert referral.attachments.get().kind == "fax"
    assert referral.attachments.get().original_name == "fax_0042.tif"


@pytest.mark.parametrize(
    "existing",
    [
        {"first_name": "JORDAN", "last_name": "reyes", "date_of_birth": dt.date(1961, 4, 12), "email": "", "phone": ""},
        {"first_name": "Jo", "last_name": "Other", "date_of_birth": dt.date(1970, 1, 1),
         "email": "Jordan.Reyes@mail.example", "phone": ""},
        {"first_name": "Jo", "last_name": "Other", "date_of_birth": dt.date(1970, 1, 1),
         "email": "", "phone": "+14795550100"},
    ],
    ids=["name-and-birth-date", "email", "phone"],
)  # fmt: skip
def test_a_possible_duplicate_is_offered_and_can_be_used(client, intake, physician, existing):
    known = PatientFactory(**existing)
    client.force_login(intake)
    data = intake_post(physician)
    response = client.post(reverse("referrals:intake_new"), data)
    content = response.content.decode()
    assert response.status_code == 200
    assert "This patient may already be on file" in content
    assert known.record_number in content
    assert 'value="Mid-back pain' in content or "Mid-back pain for 6 months" in content
    assert not Referral.objects.exists()
    response = client.post(reverse("referrals:intake_new"), {**data, "patient_choice": str(known.pk)})
    referral = Referral.objects.get()
    assert referral.patient == known
    assert Patient.objects.count() == 1


def test_choosing_a_new_patient_creates_one(client, intake, physician):
    PatientFactory(first_name="Jordan", last_name="Reyes", date_of_birth=dt.date(1961, 4, 12))
    client.force_login(intake)
    client.post(reverse("referrals:intake_new"), {**intake_post(physician), "patient_choice": "new"})
    assert Patient.objects.count() == 2


def test_the_same_procedure_within_30_days_is_warned_about(client, intake, physician, epidural):
    known = PatientFactory(first_name="Jordan", last_name="Reyes", date_of_birth=dt.date(1961, 4, 12))
    earlier = ReferralFactory(patient=known, requested_procedure=epidural, received_at=dt.datetime.now(dt.UTC))
    client.force_login(intake)
    data = {**intake_post(physician, requested_procedure=str(epidural.pk)), "patient_choice": str(known.pk)}
    response = client.post(reverse("referrals:intake_new"), data, follow=True)
    content = response.content.decode()
    assert f"already has referral {earlier.reference} for Epidural steroid injection" in content


def test_a_received_time_in_the_future_is_refused(client, intake, physician):
    client.force_login(intake)
    response = client.post(reverse("referrals:intake_new"), intake_post(physician, received_at="2099-01-01T09:00"))
    assert "The time received cannot be in the future." in response.content.decode()
    assert not Referral.objects.exists()


def test_a_double_submit_creates_one_referral(client, intake, physician):
    client.force_login(intake)
    data = intake_post(physician, submission_token=str(uuid.uuid4()))
    client.post(reverse("referrals:intake_new"), data)
    client.post(reverse("referrals:intake_new"), {**data, "patient_choice": "new"})
    assert Referral.objects.count() == 1
