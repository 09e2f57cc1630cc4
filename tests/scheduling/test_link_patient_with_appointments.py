"""Linking a referral to an existing patient record (a duplicate found in triage) when the
record it leaves already has appointments: found by the bad-input sweep, a 500 before."""

import datetime as dt

import pytest
from django.urls import reverse

from referrals.models import Patient
from scheduling.models import Appointment
from tests.factories import PatientFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db


def test_the_record_left_behind_stays_while_appointments_name_it(client, intake, world):
    starts = local(world.location, 2026, 12, 1, 9, 0)
    Appointment.objects.create(
        patient=world.patient, procedure_type=world.consult, provider=world.provider, room=world.exam,
        location=world.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=45),
        blocks_until=starts + dt.timedelta(minutes=45),
    )  # fmt: skip
    same_person = PatientFactory(
        first_name=world.patient.first_name, last_name=world.patient.last_name,
        date_of_birth=world.patient.date_of_birth,
    )  # fmt: skip
    client.force_login(intake)
    url = reverse("referrals:act", args=[world.referral.pk, "link_patient"])
    response = client.post(url, {"patient": same_person.pk})
    assert response.status_code == 302
    world.referral.refresh_from_db()
    assert world.referral.patient == same_person
    assert Patient.objects.filter(pk=world.patient.pk).exists()
