"""Appointment tiles on the day and week calendars take their text colour from the procedure
type's colour by WCAG contrast: black on light colours, white on dark ones."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from scheduling.services.booking import appointment_book
from tests.factories import ProcedureOrderFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville
# The page's nonce'd stylesheet of procedure colours, and the class each tile carries.
COLOUR_RULE = re.compile(r"\.procedure-(\d+) \{ background-color: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}")
TILE_CLASS = re.compile(r'class="procedure-tile procedure-(\d+) ')


@pytest.fixture
def booked(world, scheduler):
    """A warning-yellow consultation (1.6:1 with white) and a violet epidural (7.2:1)."""
    world.consult.color, world.epidural.color = "#ffc107", "#6610f2"
    world.consult.save(update_fields=["color"])
    world.epidural.save(update_fields=["color"])
    with time_machine.travel(NOW, tick=False):
        epidural_order = ProcedureOrderFactory(patient=world.patient, procedure_type=world.epidural)
        for procedure_type, hour, referral, order in (
            (world.consult, 9, world.referral, None),
            (world.epidural, 11, None, epidural_order),
        ):
            appointment_book(
                actor=scheduler, patient=world.patient, procedure_type=procedure_type, location=world.location,
                provider=world.provider, starts_at=local(world.location, 2026, 11, 25, hour, 0), referral=referral,
                order=order,
            )  # fmt: skip
    return world


@pytest.mark.parametrize("page", ["scheduling:day", "scheduling:week"])
def test_tiles_use_black_text_on_yellow_and_white_on_violet(client, scheduler, booked, page):
    client.force_login(scheduler)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse(page), {"location": booked.location.pk, "date": "2026-11-25"}).content.decode()
    rules = {int(pk): (background, text) for pk, background, text in COLOUR_RULE.findall(html)}
    assert rules == {booked.epidural.pk: ("#6610f2", "#ffffff"), booked.consult.pk: ("#ffc107", "#000000")}
    assert sorted(int(pk) for pk in TILE_CLASS.findall(html)) == sorted([booked.consult.pk, booked.epidural.pk])
    assert "text-white" not in html
    assert 'style="' not in html  # the CSP refuses style attributes


@pytest.mark.parametrize("page", ["scheduling:day", "scheduling:week"])
def test_a_colour_that_is_not_rrggbb_is_never_written_into_the_stylesheet(client, scheduler, booked, page):
    booked.consult.color = "red;}*"  # an admin's typo, or an attempt at injecting CSS
    booked.consult.save(update_fields=["color"])
    client.force_login(scheduler)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse(page), {"location": booked.location.pk, "date": "2026-11-25"}).content.decode()
    assert "red;}" not in html
    assert [int(pk) for pk, *_ in COLOUR_RULE.findall(html)] == [booked.epidural.pk]
