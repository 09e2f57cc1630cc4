"""Referral pages, split by audience: portal (referring physicians), staff (intake and
triage), shared (pages both see, with access decided per referral)."""
