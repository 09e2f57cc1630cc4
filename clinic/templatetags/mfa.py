"""What a page about a user shows of their second factor (the clinic admins' user page)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from clinic import mfa

register = template.Library()


@dataclass(frozen=True)
class SecondFactorStatus:
    enrolled: bool
    required: bool
    codes_left: int


@register.simple_tag
def mfa_status(account) -> SecondFactorStatus:
    enrolled = mfa.mfa_enrolled(account)
    return SecondFactorStatus(
        enrolled=enrolled,
        required=mfa.mfa_required_by_policy(account),
        codes_left=mfa.mfa_recovery_codes_left(account) if enrolled else 0,
    )
