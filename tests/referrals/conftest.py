"""Referral fixtures: two practices, each with a physician linked to a portal user, a
procedure catalogue, and helpers to build valid form posts and files."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic.models import ProcedureType
from tests.factories import ProcedureTypeFactory, ReferringPhysicianFactory, ReferringPracticeFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TIFF_BYTES = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64


def pdf(name: str = "office-note.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


@pytest.fixture
def practice(db):
    return ReferringPracticeFactory(name="Riverbend Family Medicine")


@pytest.fixture
def other_practice(db):
    return ReferringPracticeFactory(name="Hillside Orthopedics")


@pytest.fixture
def physician(practice, referrer):
    return ReferringPhysicianFactory(
        practice=practice, first_name="Lan", last_name="Nguyen", email=referrer.email, user=referrer
    )


@pytest.fixture
def colleague(practice):
    """Another physician of the same practice, without a login."""
    return ReferringPhysicianFactory(practice=practice, first_name="Ana", last_name="Colleague")


@pytest.fixture
def other_physician(other_practice, other_referrer):
    return ReferringPhysicianFactory(
        practice=other_practice, first_name="Chidi", last_name="Okafor", email=other_referrer.email,
        user=other_referrer,
    )  # fmt: skip


@pytest.fixture
def consult(db) -> ProcedureType:
    return ProcedureTypeFactory(name="New-patient consultation", slug="new-patient-consultation", kind="visit")


@pytest.fixture
def epidural(db) -> ProcedureType:
    return ProcedureTypeFactory(name="Epidural steroid injection", slug="epidural-steroid-injection")


def referral_post(physician, **overrides) -> dict:
    """A complete, valid portal form post."""
    data = {
        "submission_token": str(uuid.uuid4()),
        "first_name": "Jordan", "last_name": "Reyes", "date_of_birth": "1961-04-12", "sex": "female",
        "phone": "479-555-0100", "email": "jordan.reyes@mail.example", "street": "12 Elm St",
        "city": "Russellville", "state": "ar", "postal_code": "72801", "preferred_contact": "email",
        "email_consent": "on", "insurance_payer": "Medicare", "insurance_member_id": "1EG4-TE5-MK72",
        "referring_physician": str(physician.pk), "reason": "Mid-back pain for 6 months, worse when turning.",
        "diagnosis_codes": "M546, M47.814", "urgency": "routine", "imaging_kind": "X-ray thoracic spine",
        "imaging_date": "2026-10-01", "anticoagulant": "none", "anticoagulant_name": "", "notes": "",
        "file_kind": "office_note",
    }  # fmt: skip
    data.update(overrides)
    return data


TODAY = dt.date(2026, 11, 23)
