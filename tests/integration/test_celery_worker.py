"""A task sent from this process is run by a separately started worker: on Redis in the
PostgreSQL tier, on the filesystem broker in the embedded tier."""

import pytest
from django.conf import settings

from clinic.models import Closure, HolidayRule
from clinic.tasks import roll_holidays_forward
from tests.integration.conftest import wait_for

BROKER = "redis" if settings.CELERY_BROKER_URL.startswith("redis") else "filesystem"

pytestmark = [pytest.mark.integration, *([pytest.mark.redis] if BROKER == "redis" else [])]


def test_a_task_round_trips_through_a_real_worker(celery_worker_process):
    HolidayRule.objects.create(name="Thanksgiving Day")
    roll_holidays_forward.apply_async(queue=celery_worker_process)
    assert wait_for(lambda: Closure.objects.filter(reason="Thanksgiving Day").count() == 3), (
        f"the worker on the {BROKER} broker did not run the task"
    )
