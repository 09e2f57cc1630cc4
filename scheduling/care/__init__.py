"""Courses of care: what a session showed (``outcomes``), the payers' coverage rules at
booking (``coverage``) and the pathway rules that suggest the next step (``pathways``).
Pure reading and judging; the writes are in ``scheduling.services.orders`` and
``scheduling.services.courses``."""
