"""The pain chart: one series per site, days across and pain 0-10 up, in the location's
calendar days; only completed procedures' baselines and answered follow-ups count."""

import datetime as dt

import pytest

from scheduling.care.pain_chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, pain_charts
from scheduling.models import Appointment, FollowUp
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db


def session(world, day, *, pain, region="lumbar", levels="L4-L5", status="completed"):
    return Appointment(
        patient=world.patient, procedure_type=world.epidural, location=world.location, status=status,
        starts_at=local(world.location, 2026, 11, day, 9, 0), baseline_pain=pain, site_region=region,
        site_side="left", site_levels=levels,
    )  # fmt: skip


def answer(appointment, day, *, pain, hour=12):
    return FollowUp(
        appointment=appointment, due_at=local(appointment.location, 2026, 11, day, hour),
        answered_at=local(appointment.location, 2026, 11, day, hour), pain_now=pain,
    )  # fmt: skip


def test_points_are_placed_by_day_and_score(world):
    first = session(world, 2, pain=8)
    [chart] = pain_charts([first], [answer(first, 12, pain=3)])
    assert chart.site == "Lumbar L4-L5, left"
    before, after = chart.points
    assert (before.kind, before.pain, before.x) == ("baseline", 8, LEFT)
    assert before.y == pytest.approx(HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * 0.8)
    assert (after.kind, after.pain, after.x) == ("follow-up", 3, WIDTH - RIGHT)
    assert after.y == pytest.approx(HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * 0.3)
    assert chart.polyline == f"{before.x:.1f},{before.y:.1f} {after.x:.1f},{after.y:.1f}"
    assert [label for _x, label in chart.x_labels] == ["2 Nov 2026", "12 Nov 2026"]


def test_each_site_has_its_own_chart_and_unscored_sessions_are_left_out(world):
    lumbar = session(world, 2, pain=8)
    cervical = session(world, 5, pain=6, region="cervical", levels="C5-C6")
    cancelled = session(world, 6, pain=9, status="cancelled")
    unscored = session(world, 7, pain=None)
    unanswered = FollowUp(appointment=lumbar, due_at=local(world.location, 2026, 11, 20, 9))
    charts = pain_charts([lumbar, cervical, cancelled, unscored], [unanswered, answer(cervical, 19, pain=2)])
    assert [(c.site, [p.pain for p in c.points]) for c in charts] == [
        ("Lumbar L4-L5, left", [8]),
        ("Cervical C5-C6, left", [6, 2]),
    ]
    # A single point sits in the middle rather than off the edge.
    assert charts[0].points[0].x == (LEFT + WIDTH - RIGHT) / 2


def test_an_answer_late_in_the_evening_is_on_its_local_day(world):
    first = session(world, 2, pain=8)
    late = answer(first, 9, pain=4, hour=23)  # 23:00 in Chicago is the next day in UTC
    [chart] = pain_charts([first], [late])
    assert chart.points[-1].day == dt.date(2026, 11, 9)
