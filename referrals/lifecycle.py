"""The referral lifecycle: which status may follow which. The one place this is decided."""

from __future__ import annotations

from referrals.models import Referral

S = Referral.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.NEEDS_INFORMATION, S.ACCEPTED, S.DECLINED, S.CLOSED}),
    S.UNDER_REVIEW: frozenset({S.NEEDS_INFORMATION, S.ACCEPTED, S.DECLINED, S.CLOSED}),
    # The referrer's answer brings it back under review; staff may also decide at once.
    S.NEEDS_INFORMATION: frozenset({S.UNDER_REVIEW, S.ACCEPTED, S.DECLINED, S.CLOSED}),
    # Accepted referrals wait in the scheduler's queue; a late finding may still decline one.
    S.ACCEPTED: frozenset({S.SCHEDULED, S.DECLINED, S.CLOSED}),
    # A cancelled first appointment sends the referral back to the queue.
    S.SCHEDULED: frozenset({S.ACCEPTED, S.COMPLETED, S.CLOSED}),
    S.COMPLETED: frozenset({S.CLOSED}),
    S.DECLINED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

ILLEGAL_TRANSITION = "A referral that is %(current)s cannot become %(target)s."


class IllegalTransition(Exception):
    """Raised when a status change is not allowed from the referral's current status."""

    def __init__(self, current: str, target: str) -> None:
        self.current, self.target = current, target
        super().__init__(ILLEGAL_TRANSITION % {"current": S(current).label.lower(), "target": S(target).label.lower()})


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def allowed_targets(current: str) -> frozenset[str]:
    return TRANSITIONS[current]
