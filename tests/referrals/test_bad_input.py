"""Bad input on the portal form: a specific message by the field, everything else kept,
nothing saved, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clinic.validators import NPI_CHECK_DIGIT
from referrals.forms import BIRTH_DATE_IN_FUTURE, BIRTH_DATE_TOO_OLD, NOT_YOUR_PRACTICE
from referrals.models import Attachment, Patient, PortalAccessRequest, Referral
from tests.referrals.conftest import PDF_BYTES, pdf, referral_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(client, referrer, physician):
    client.force_login(referrer)

    def _post(files=(), **overrides):
        data = referral_post(physician, **overrides)
        if files:
            data["files"] = list(files)
        return client.post(reverse("referrals:portal_new"), data), data

    return _post


def assert_refused(response, data, message, *, field=None):
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    if field:
        assert f'id="id_{field}"' in content
        assert "is-invalid" in content
    # What else was typed is still there.
    assert 'value="Reyes"' in content
    assert "Mid-back pain for 6 months" in content
    assert f'value="{data["submission_token"]}"' in content
    assert (Patient.objects.count(), Referral.objects.count(), Attachment.objects.count()) == (0, 0, 0)


def test_unknown_icd10_code(post):
    response, data = post(diagnosis_codes="M54.6, Z99.999")
    assert_refused(response, data, "Z99.999 is not an ICD-10-CM diagnosis code", field="diagnosis_codes")


def test_birth_date_in_the_future(post):
    response, data = post(date_of_birth="2030-01-01")
    assert_refused(response, data, BIRTH_DATE_IN_FUTURE, field="date_of_birth")


def test_birth_date_more_than_120_years_ago(post):
    response, data = post(date_of_birth="1890-05-01")
    assert_refused(response, data, BIRTH_DATE_TOO_OLD.replace("\u2019", "'"), field="date_of_birth")


def test_invalid_email(post):
    response, data = post(email="jordan@@mail")
    assert_refused(response, data, "Enter a valid email address.", field="email")


def test_invalid_phone(post):
    response, data = post(phone="555-12")
    assert_refused(response, data, "Enter a valid phone number", field="phone")


def test_executable_renamed_pdf(post):
    exe = SimpleUploadedFile("results.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "application/pdf")
    response, data = post(files=[exe])
    assert_refused(response, data, "results.pdf is not a PDF, PNG, JPEG or TIFF file", field="files")


def test_empty_file(post):
    response, data = post(files=[SimpleUploadedFile("empty.pdf", b"", "application/pdf")])
    assert_refused(response, data, "The submitted file is empty.", field="files")


def test_file_over_20_mb(post):
    big = pdf("huge.pdf", PDF_BYTES + b"0" * (20 * 1024 * 1024))
    response, data = post(files=[big])
    assert_refused(response, data, "huge.pdf is larger than 20 MB.", field="files")


def test_eleventh_file(post):
    response, data = post(files=[pdf(f"note-{i}.pdf") for i in range(11)])
    assert_refused(response, data, "Attach at most 10 files to one referral.", field="files")


def test_referral_for_another_practices_physician(post, other_physician):
    response, data = post(referring_physician=str(other_physician.pk))
    assert_refused(response, data, NOT_YOUR_PRACTICE, field="referring_physician")


def test_markup_in_notes_is_kept_as_typed_and_shown_escaped(post, client):
    script = '<script>alert("x")</script><b>bold</b>'
    response, _ = post(notes=script)
    assert response.status_code == 302
    assert Referral.objects.get().notes == script
    page = client.get(response.url).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page


def test_a_second_submit_of_the_same_form_creates_nothing_more(post):
    first, data = post()
    second, _ = post(submission_token=data["submission_token"])
    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    assert Referral.objects.count() == 1
    assert Patient.objects.count() == 1


def test_access_request_with_a_wrong_npi_check_digit(client):
    data = {"first_name": "Lee", "last_name": "Park", "email": "lee@park.example", "npi": "1234567890",
            "practice_name": "Park Clinic", "practice_phone": "479-555-0199"}  # fmt: skip
    response = client.post(reverse("referrals:request_access"), data)
    assert response.status_code == 200
    assert NPI_CHECK_DIGIT.replace("'", "&#x27;") in response.content.decode()
    assert 'value="Park Clinic"' in response.content.decode()
    assert not PortalAccessRequest.objects.exists()
