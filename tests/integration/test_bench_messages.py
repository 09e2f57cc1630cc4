"""`manage.py bench_messages` runs end to end with tiny sizes and reports sound figures (the
timing itself lives in `make bench`, never in tests)."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.integration.conftest import ROOT

BROKER = "redis" if settings.CELERY_BROKER_URL.startswith("redis") else "filesystem"

pytestmark = [pytest.mark.integration, *([pytest.mark.redis] if BROKER == "redis" else [])]


def test_the_benchmark_delivers_every_message_once_and_reports_the_figures():
    env = {**os.environ, "VAR_DIR": str(settings.VAR_DIR), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_messages", "--sizes", "30,60", "--batch-size", "10", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["workers"] == 2
    assert report["broker"] == BROKER
    assert set(report["sizes"]) == {"30", "60"}
    for size, row in report["sizes"].items():
        assert row["messages"] == int(size)
        assert row["dispatched"] == int(size)
        assert row["received"] == int(size)
        assert row["marked_sent"] == int(size)
        assert row["duplicates"] == 0
        assert row["lost"] == 0
        assert row["messages_per_s"] > 0
        assert 0 < row["sweep_s"] <= row["total_s"]
