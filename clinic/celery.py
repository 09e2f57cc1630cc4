"""The Celery app, and the one place periodic tasks are defined.

Beat runs django-celery-beat's DatabaseScheduler, which copies ``beat_schedule`` into its
tables at start-up, so admins see (and can pause) every periodic task in the Django admin.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "sweep-outgoing-messages": {
        # The ledger is the truth; this only hands due rows to workers in batches (see
        # clinic.outbox). A sweep not started within the minute is dropped: the next one
        # does the same work, so a stopped worker does not come back to a pile of sweeps.
        # (expire_seconds: the name django-celery-beat's DatabaseScheduler keeps.)
        "task": "clinic.tasks.sweep_outgoing_messages",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "process-password-resets": {
        # The reset form only records the address (so its answer and timing are the same
        # whether an account exists); this owes the e-mails in the ledger. Often, because
        # someone is waiting for the link; a run not started in time is covered by the next.
        "task": "clinic.tasks.process_password_resets",
        "schedule": 20.0,
        "options": {"expire_seconds": 18},
    },
    "roll-holidays-forward": {
        # Yearly, on 2 January, so the holiday calendar always reaches two years ahead;
        # the task is idempotent, so an extra run (or a missed one) does no harm.
        "task": "clinic.tasks.roll_holidays_forward",
        "schedule": crontab(minute=15, hour=3, day_of_month=2, month_of_year=1),
    },
    "find-repeats-due": {
        # Daily before the schedulers start (CELERY_TIMEZONE, the clinic's zone): fills the
        # "repeat due" queue; idempotent, so an extra or a missed run does no harm.
        "task": "scheduling.tasks.find_repeats_due",
        "schedule": crontab(minute=0, hour=6),
    },
}
