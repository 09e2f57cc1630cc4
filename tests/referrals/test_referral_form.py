"""The referral form (portal and intake): error summary, files kept across a failed submit,
no pre-chosen answers, date bounds."""

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.urls import reverse

from referrals.forms import (
    ANTICOAGULANT_REQUIRED,
    BIRTH_DATE_IN_FUTURE,
    BIRTH_DATE_TOO_OLD,
    IMAGING_BEFORE_BIRTH,
    RECEIVED_IN_FUTURE,
    RECEIVED_TOO_LONG_AGO,
    SEX_REQUIRED,
)
from referrals.models import Attachment, Referral, StagedUpload
from referrals.services import NewFile
from referrals.staging import STAGED_UPLOAD_MAX_AGE, staged_uploads_add
from tests.factories import PatientFactory
from tests.referrals.conftest import PDF_BYTES, pdf, referral_post
from tests.referrals.test_intake import intake_post

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def portal(client, referrer, physician):
    client.force_login(referrer)
    return client


def post_portal(client, data, files=()):
    return client.post(reverse("referrals:portal_new"), {**data, **({"files": list(files)} if files else {})})


# --- No pre-chosen answers ----------------------------------------------------------


def test_the_empty_form_chooses_no_sex_and_no_anticoagulant_answer(portal):
    content = text(portal.get(reverse("referrals:portal_new")))
    for name in ("sex", "anticoagulant"):
        select = re.search(rf'<select name="{name}".*?</select>', content, re.S)[0]
        assert '<option value="" selected>Choose…</option>' in select
        assert select.count("selected") == 1


@pytest.mark.parametrize(("field", "message"), [("sex", SEX_REQUIRED), ("anticoagulant", ANTICOAGULANT_REQUIRED)])
def test_sex_and_anticoagulant_must_be_answered(portal, physician, field, message):
    response = post_portal(portal, referral_post(physician, **{field: ""}))
    assert response.status_code == 200
    assert message in text(response)
    assert not Referral.objects.exists()


# --- Error summary --------------------------------------------------------------------


def test_the_error_summary_lists_each_error_linking_to_its_field(portal, physician):
    response = post_portal(portal, referral_post(physician, first_name="", diagnosis_codes="M54"))
    content = text(response)
    summary = re.search(r'<div class="alert alert-danger" role="alert" id="error-summary".*?</div>', content, re.S)[0]
    assert '<a class="alert-link" href="#id_first_name">First name</a>: This field is required.' in summary
    assert (
        '<a class="alert-link" href="#id_diagnosis_codes">Diagnoses (ICD-10-CM)</a>: '
        "M54 is a category: choose a code such as M54.2 or M54.6." in summary
    )
    assert content.index("error-summary") < content.index('id="id_first_name"')


def test_intake_entry_has_the_error_summary_too(client, intake, physician):
    client.force_login(intake)
    response = client.post(reverse("referrals:intake_new"), intake_post(physician, last_name=""))
    assert 'href="#id_last_name">Last name</a>: This field is required.' in text(response)


# --- Files kept across a failed submit ----------------------------------------------------


def test_a_file_from_a_failed_submit_is_kept_and_attached_on_the_next(portal, physician):
    data = referral_post(physician, reason="")
    failed = post_portal(portal, data, files=[pdf("mri-report.pdf")])
    assert failed.status_code == 200
    assert f"Attached: mri-report.pdf ({len(PDF_BYTES)}\xa0bytes)" in text(failed)
    assert not Attachment.objects.exists()

    sent = post_portal(portal, {**data, "reason": "Mid-back pain."})
    referral = Referral.objects.get()
    assert sent.url == referral.get_absolute_url()
    attachment = referral.attachments.get()
    assert (attachment.original_name, attachment.kind, attachment.size) == (
        "mri-report.pdf",
        "office_note",
        len(PDF_BYTES),
    )
    assert attachment.file.read().startswith(b"%PDF-1.4")
    assert not StagedUpload.objects.exists()


def test_files_from_two_failed_submits_add_up_and_count_towards_the_limit(portal, physician):
    data = referral_post(physician, reason="")
    post_portal(portal, data, files=[pdf(f"note-{i}.pdf") for i in range(6)])
    response = post_portal(portal, data, files=[pdf(f"more-{i}.pdf") for i in range(5)])
    assert "Attach at most 10 files to one referral." in text(response)
    assert StagedUpload.objects.count() == 6


def test_a_staged_file_can_be_removed(portal, physician, django_capture_on_commit_callbacks):
    data = referral_post(physician, reason="")
    post_portal(portal, data, files=[pdf("keep.pdf"), pdf("wrong.pdf")])
    wrong = StagedUpload.objects.get(original_name="wrong.pdf")
    storage_name = wrong.file.name
    storage = wrong.file.storage
    with django_capture_on_commit_callbacks(execute=True):
        response = post_portal(portal, {**data, "reason": "Mid-back pain.", "remove_staged": str(wrong.pk)})
    assert response.status_code == 200  # removing sends nothing
    assert "Attached: keep.pdf" in text(response)
    assert "wrong.pdf" not in text(response)
    assert not storage.exists(storage_name)
    post_portal(portal, {**data, "reason": "Mid-back pain."})
    assert [a.original_name for a in Referral.objects.get().attachments.all()] == ["keep.pdf"]


@pytest.mark.parametrize("pk", ["\u00b2", "\x00", "9" * 30])
def test_a_tampered_remove_button_removes_nothing_and_does_not_fail(portal, physician, pk):
    data = referral_post(physician, reason="")
    post_portal(portal, data, files=[pdf("keep.pdf")])
    response = post_portal(portal, {**data, "remove_staged": pk})
    assert response.status_code == 200
    assert StagedUpload.objects.count() == 1


def test_staged_files_belong_to_their_user(client, referrer, physician, colleague, other_referrer, other_physician):
    data = referral_post(physician, reason="")
    client.force_login(referrer)
    post_portal(client, data, files=[pdf("private.pdf")])
    client.force_login(other_referrer)
    stolen = {**referral_post(other_physician), "submission_token": data["submission_token"]}
    response = post_portal(client, {**stolen, "reason": ""})
    assert "private.pdf" not in text(response)
    post_portal(client, stolen)
    assert not Attachment.objects.exists()
    assert StagedUpload.objects.get().user == referrer


def test_intake_keeps_the_scan_while_choosing_a_possible_duplicate(client, intake, physician):
    PatientFactory(first_name="Jordan", last_name="Reyes", date_of_birth=dt.date(1961, 4, 12))
    client.force_login(intake)
    data = intake_post(physician)
    scan = pdf("fax-0042.pdf")
    asked = client.post(reverse("referrals:intake_new"), {**data, "files": [scan]})
    assert "This patient may already be on file" in text(asked)
    assert "Attached: fax-0042.pdf" in text(asked)
    client.post(reverse("referrals:intake_new"), {**data, "patient_choice": "new"})
    assert Referral.objects.get().attachments.get().original_name == "fax-0042.pdf"


def test_stale_staged_files_are_purged_at_the_next_staging(referrer, intake, django_capture_on_commit_callbacks):
    now = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
    old = _stage(referrer, "old.pdf", now - STAGED_UPLOAD_MAX_AGE - dt.timedelta(minutes=1))
    recent = _stage(referrer, "recent.pdf", now - dt.timedelta(hours=23))
    assert old.file.storage.exists(old.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        _stage(intake, "new.pdf", now)
    assert set(StagedUpload.objects.values_list("original_name", flat=True)) == {"recent.pdf", "new.pdf"}
    assert not old.file.storage.exists(old.file.name)
    assert recent.file.storage.exists(recent.file.name)


def _stage(user, name: str, at: dt.datetime) -> StagedUpload:
    new_file = NewFile(upload=pdf(name), kind="office_note", content_type="application/pdf")
    return staged_uploads_add(token=uuid.uuid4(), user=user, files=[new_file], now=at)[0]


# --- Date bounds --------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize(("value", "message"), [
    ("1899-12-31", BIRTH_DATE_TOO_OLD), ("0001-01-01", BIRTH_DATE_TOO_OLD),
    ("2026-11-24", BIRTH_DATE_IN_FUTURE), ("9999-12-31", BIRTH_DATE_IN_FUTURE),
])  # fmt: skip
def test_birth_dates_run_from_1900_to_today(portal, physician, value, message):
    response = post_portal(portal, referral_post(physician, date_of_birth=value))
    assert message in text(response)
    assert f'value="{value}"' in text(response)
    assert not Referral.objects.exists()


@time_machine.travel(dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize("value", ["1900-01-01", "2026-11-23"])
def test_the_bounds_themselves_are_accepted(portal, physician, value):
    response = post_portal(portal, referral_post(physician, date_of_birth=value, imaging_date=""))
    assert response.status_code == 302


@time_machine.travel(dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize("value", ["1961-04-11", "0001-01-01"])
def test_imaging_before_birth_is_refused(portal, physician, value):
    response = post_portal(portal, referral_post(physician, imaging_date=value))
    assert IMAGING_BEFORE_BIRTH in text(response)
    assert not Referral.objects.exists()


@time_machine.travel(dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize(("value", "message"), [
    ("2025-11-22T08:00", RECEIVED_TOO_LONG_AGO), ("0001-01-01T00:00", RECEIVED_TOO_LONG_AGO),
    ("9999-12-31T23:59", RECEIVED_IN_FUTURE),
])  # fmt: skip
def test_intake_received_time_is_within_the_last_year(client, intake, physician, value, message):
    client.force_login(intake)
    response = client.post(reverse("referrals:intake_new"), intake_post(physician, received_at=value))
    assert response.status_code == 200
    assert message in text(response)
    assert not Referral.objects.exists()
