"""Every lifecycle transition, allowed and refused, through the one service that moves them."""

import itertools

import pytest
from django.core import mail

from clinic.outbox import messages_deliver_due
from referrals import lifecycle
from referrals.models import Referral, ReferralEvent
from referrals.services import referral_transition
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db
S = Referral.Status

ALLOWED = sorted((a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets)
REFUSED = sorted((a, b) for a, b in itertools.product(S.values, S.values) if b not in lifecycle.TRANSITIONS[a])


def test_the_table_names_every_status():
    assert set(lifecycle.TRANSITIONS) == set(S.values)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transition_moves_records_and_tells_the_referrer(current, target, intake):
    referral = ReferralFactory(status=current, decline_reason="other" if current == S.DECLINED else "")
    changes = {"decline_reason": "duplicate"} if target == S.DECLINED else {}
    referral_transition(referral=referral, to_status=target, actor=intake, text="because", changes=changes)
    referral.refresh_from_db()
    assert referral.status == target
    event = referral.events.get()
    assert (event.from_status, event.to_status, event.actor, event.text) == (current, target, intake, "because")
    messages_deliver_due()
    assert [m.to for m in mail.outbox] == [[referral.referring_physician.email]]


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_refused_transition_changes_nothing_and_says_why(current, target, intake):
    referral = ReferralFactory(status=current, decline_reason="other" if current == S.DECLINED else "")
    with pytest.raises(lifecycle.IllegalTransition) as excinfo:
        referral_transition(referral=referral, to_status=target, actor=intake)
    assert str(excinfo.value) == (
        f"A referral that is {S(current).label.lower()} cannot become {S(target).label.lower()}."
    )
    referral.refresh_from_db()
    assert referral.status == current
    assert not ReferralEvent.objects.filter(referral=referral).exists()
    messages_deliver_due()
    assert mail.outbox == []
