"""A refused cancel reason or override reason is shown next to its field with the text
kept (the page again, 400), instead of a redirect with a message that lost the text and
named the wrong problem ("give a reason" for a reason that was too long)."""

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse

from scheduling.forms.booking import REASON_TOO_LONG
from scheduling.services import booking
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
LONG = ("The patient phoned to say the snow is too deep. " * 7).strip()  # 335 characters


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_too_long_cancel_reason_is_refused_beside_the_field_and_kept(client, scheduler, world):
    appointment = booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 12, 1, 9), referral=world.referral, now=NOW,
    )  # fmt: skip
    client.force_login(scheduler)
    response = client.post(reverse("scheduling:cancel", args=[appointment.pk]), {"reason": LONG})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert REASON_TOO_LONG % {"limit_value": 300, "show_value": len(LONG)} in page
    assert f'value="{LONG}"' in page
    assert booking.CANCEL_NEEDS_REASON not in page
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    # An empty reason still names what is missing, beside the field.
    empty = client.post(reverse("scheduling:cancel", args=[appointment.pk]), {"reason": " "})
    assert empty.status_code == 400
    assert booking.CANCEL_NEEDS_REASON in empty.content.decode()


def test_a_too_long_override_reason_stays_on_the_confirm_page(client, provider_user, world):
    client.force_login(provider_user)
    when = local(world.location, 2026, 12, 1, 9)
    data = {"procedure_type": world.epidural.pk, "location": world.location.pk, "provider": world.provider.pk,
            "starts_at": when.isoformat(), "referral": world.referral.pk, "repeat_override_reason": LONG}  # fmt: skip
    response = client.post(reverse("scheduling:book"), data)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert REASON_TOO_LONG % {"limit_value": 300, "show_value": len(LONG)} in page
    assert LONG in page
    assert "Tuesday 1 December 2026, 9:00 AM CST" in page  # still the slot the finder offered
    assert "That slot could not be read" not in page
    assert not world.patient.appointments.exists()
