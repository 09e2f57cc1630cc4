"""Pain over time, per site: the baseline score a provider recorded at each procedure and
the scores the patient gave at follow-up, drawn as a small server-rendered SVG (no script,
no style attribute: the page's Content-Security-Policy allows neither) with the same points
as a table for screen readers.

Pure: it is given the chart's appointments and follow-ups (already loaded by
``selectors.patient_chart``) and queries nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from clinic import localtime
from scheduling.models import Appointment, FollowUp

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 28, 10, 10, 24  # room for the axis labels
BASELINE, FOLLOW_UP = "baseline", "follow-up"
NO_SITE = "No site recorded"


@dataclass(frozen=True)
class PainPoint:
    day: dt.date
    pain: int
    kind: str  # BASELINE or FOLLOW_UP
    procedure: str
    x: float = 0.0
    y: float = 0.0

    @property
    def label(self) -> str:
        what = "before" if self.kind == BASELINE else "at follow-up"
        return f"{self.day:{localtime.SHORT_DATE_FORMAT}}: {self.pain}/10 {what} ({self.procedure})"


@dataclass
class SitePainChart:
    site: str
    points: list[PainPoint]
    width: int = WIDTH
    height: int = HEIGHT
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        """The SVG ``points`` attribute joining the scores in time order."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def plot_bottom(self) -> int:
        return HEIGHT - BOTTOM

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return WIDTH - RIGHT


def pain_charts(appointments: list[Appointment], follow_ups: list[FollowUp]) -> list[SitePainChart]:
    """One chart per site with at least one score, sites in the order first treated."""
    by_site: dict[str, list[PainPoint]] = {}
    for appointment in appointments:
        if appointment.baseline_pain is None or appointment.status != Appointment.Status.COMPLETED:
            continue
        by_site.setdefault(_site(appointment), []).append(
            PainPoint(_day(appointment.starts_at, appointment), appointment.baseline_pain, BASELINE,
                      appointment.procedure_type.name)
        )  # fmt: skip
    for follow_up in follow_ups:
        if follow_up.answered_at is None or follow_up.pain_now is None:
            continue
        appointment = follow_up.appointment
        by_site.setdefault(_site(appointment), []).append(
            PainPoint(_day(follow_up.answered_at, appointment), follow_up.pain_now, FOLLOW_UP,
                      appointment.procedure_type.name)
        )  # fmt: skip
    charts = []
    for site, points in by_site.items():
        points.sort(key=lambda p: (p.day, p.kind != BASELINE))
        charts.append(_placed(site, points))
    charts.sort(key=lambda c: c.points[0].day)
    return charts


def _site(appointment: Appointment) -> str:
    return appointment.site_label or NO_SITE


def _day(moment: dt.datetime, appointment: Appointment) -> dt.date:
    return localtime.local_date(moment, appointment.location.zone)


def _placed(site: str, points: list[PainPoint]) -> SitePainChart:
    """Points given their coordinates: days across (first to last), pain 0-10 up."""
    first, last = points[0].day, points[-1].day
    span = max((last - first).days, 1)
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM

    def x_of(day: dt.date) -> float:
        if first == last:
            return (left + right) / 2
        return left + (right - left) * (day - first).days / span

    def y_of(pain: int) -> float:
        return bottom - (bottom - top) * pain / 10

    placed = [PainPoint(p.day, p.pain, p.kind, p.procedure, x_of(p.day), y_of(p.pain)) for p in points]
    labels = [(x_of(first), f"{first:%-d %b %Y}")]
    if last != first:
        labels.append((x_of(last), f"{last:%-d %b %Y}"))
    return SitePainChart(site, placed, x_labels=labels, y_ticks=[(y_of(v), v) for v in (0, 5, 10)])
