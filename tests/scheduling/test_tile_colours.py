"""Appointment tiles on the day and week calendars take their text colour from the procedure
type's colour by WCAG contrast: black on light colours, white on dark ones."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from scheduling.services.booking import appointment_book
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville
TILE_STYLE = re.compile(r'style="background-color: (#[0-9a-f]{6}); color: (#[0-9a-f]{6})"')


@pytest.fixture
def booked(world, scheduler):
    """A warning-yellow consultation (1.6:1 with white) and a violet epidural (7.2:1)."""
    world.consult.color, world.epidural.color = "#ffc107", "#6610f2"
    world.consult.save(update_fields=["color"])
    world.epidural.save(update_fields=["color"])
    with time_machine.travel(NOW, tick=False):
        for procedure_type, hour, referral in ((world.consult, 9, world.referral), (world.epidural, 11, None)):
            appointment_book(
                actor=scheduler, patient=world.patient, procedure_type=procedure_type, location=world.location,
                provider=world.provider, starts_at=local(world.location, 2026, 11, 25, hour, 0), referral=referral,
            )  # fmt: skip
    return world


@pytest.mark.parametrize("page", ["scheduling:day", "scheduling:week"])
def test_tiles_use_black_text_on_yellow_and_white_on_violet(client, scheduler, booked, page):
    client.force_login(scheduler)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse(page), {"location": booked.location.pk, "date": "2026-11-25"}).content.decode()
    assert sorted(TILE_STYLE.findall(html)) == [("#6610f2", "#ffffff"), ("#ffc107", "#000000")]
    assert "text-white" not in html
