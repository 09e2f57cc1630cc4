"""What one session showed, read the same way by the pathway rules and the coverage rules.

Relief is the block's relief during the anaesthetic's window when the provider recorded one
(a diagnostic block), else the best relief a follow-up answer reported. How long it lasted
is the patient's own number of weeks when given; else, while they say it is still going on,
the weeks from the session to their answer; else a cautious reading of their choice ("a few
weeks" counts as 2, "months" as 8). It wore off when the latest answer says it is no longer
going on.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinic import localtime
from scheduling.models import Appointment, FollowUp

L = FollowUp.ReliefLasted

# Weeks a choice stands for, at the least (used only when the patient gave no number).
_WEEKS_AT_LEAST = {L.NONE: 0, L.HOURS: 0, L.DAYS: 0, L.WEEKS: 2, L.MONTHS: 8}


@dataclass(frozen=True)
class SessionOutcome:
    relief: int | None = None
    relief_from: str = ""  # "during the block" or "at follow-up"
    weeks: int | None = None
    wore_off: bool | None = None  # None: not known yet
    pain_before: int | None = None
    pain_after: int | None = None

    @property
    def known(self) -> bool:
        return self.relief is not None

    def describe(self) -> str:
        """ "85% relief during the block"; "60% relief at follow-up, lasted 14 weeks, worn off"."""
        if self.relief is None:
            return "no outcome recorded yet"
        words = [f"{self.relief}% relief {self.relief_from}"]
        if self.weeks is not None and self.relief_from != "during the block":
            words.append(f"lasted {self.weeks} week{'s' if self.weeks != 1 else ''}")
        if self.wore_off is not None and self.relief_from != "during the block":
            words.append("worn off" if self.wore_off else "still going on")
        return ", ".join(words)


def session_outcome(appointment: Appointment, follow_ups: list[FollowUp]) -> SessionOutcome:
    """The outcome of ``appointment`` from its own fields and its ``follow_ups`` (given, so
    that lists can prefetch them)."""
    answered = sorted((f for f in follow_ups if f.answered_at is not None), key=lambda f: f.answered_at)
    latest = answered[-1] if answered else None
    relief, relief_from = appointment.block_relief_percent, "during the block"
    if relief is None and answered:
        relief, relief_from = max(f.percent_relief or 0 for f in answered), "at follow-up"
    return SessionOutcome(
        relief=relief,
        relief_from=relief_from if relief is not None else "",
        weeks=_weeks(appointment, answered),
        wore_off=None if latest is None or not latest.relief_lasted else latest.relief_lasted != L.ONGOING,
        pain_before=appointment.baseline_pain,
        pain_after=latest.pain_now if latest else None,
    )


def _weeks(appointment: Appointment, answered: list[FollowUp]) -> int | None:
    if not answered:
        return None
    zone = appointment.location.zone
    session_day = localtime.local_date(appointment.starts_at, zone)
    best = 0
    for answer in answered:
        if answer.relief_weeks is not None:
            weeks = answer.relief_weeks
        elif answer.relief_lasted == L.ONGOING:
            weeks = (localtime.local_date(answer.answered_at, zone) - session_day).days // 7
        else:
            weeks = _WEEKS_AT_LEAST.get(answer.relief_lasted, 0)
        best = max(best, weeks)
    return best
