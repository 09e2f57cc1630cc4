"""Benchmark the outgoing-message ledger end to end, in a throwaway database.

    python manage.py bench_messages [--sizes 10000,40000] [--workers 2] [--threads 2] [--json]

For each size: that many due messages are written to the ledger, one sweep hands them to
real Celery worker processes (on the configured broker; 2 threads each) in batches, and the
workers deliver them over SMTP to a local aiosmtpd server in this process, which counts
every arrival by its X-Clinic-Message header. Prints messages per second, duplicates and
lost messages (both must be 0), and the time split between the sweep (claim and hand-off
of every row) and the sending.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from clinic import outbox
from clinic.database import current_database_url
from clinic.models import OutgoingMessage
from clinic.tasks import send_messages

DEFAULT_SIZES = "10000,40000"
KEY_HEADER = re.compile(rb"^X-Clinic-Message: (.+?)\r?$", re.M)


class CountingSMTP:
    """Counts accepted messages by ledger key; cheap enough not to be the bottleneck."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.keys: Counter = Counter()
            self.total = 0
            self.first_at: float | None = None
            self.last_at: float | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        match = KEY_HEADER.search(envelope.original_content or envelope.content)
        now = time.perf_counter()
        with self.lock:
            self.keys[match.group(1).decode() if match else "?"] += 1
            self.total += 1
            self.first_at = self.first_at or now
            self.last_at = now
        return "250 2.0.0 OK"


class Command(BaseCommand):
    help = "Benchmark the message ledger: N due messages swept and sent by worker processes to a local SMTP server."

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"Comma-separated sizes (default {DEFAULT_SIZES}).")
        parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (default 2).")
        parser.add_argument(
            "--threads", type=int, default=2, help="Threads per worker process (default 2; 1 runs the solo pool)."
        )
        parser.add_argument("--batch-size", type=int, default=outbox.BATCH_SIZE, help="Ids per worker task.")
        parser.add_argument("--timeout", type=float, default=900, help="Seconds to wait for one size to arrive.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")

    def handle(
        self, *args, sizes: str, workers: int, threads: int, batch_size: int, timeout: float, json: bool, **options
    ):
        try:
            counts = [int(size) for size in sizes.split(",") if size.strip()]
        except ValueError as exc:
            raise CommandError("--sizes takes whole numbers, e.g. 10000,40000") from exc
        old_name = connection.settings_dict["NAME"]
        # A throwaway database (Django's test database machinery) under its own name, so it
        # can neither touch the real database nor a test run's test database.
        connection.settings_dict.setdefault("TEST", {})
        connection.settings_dict["TEST"]["NAME"] = (
            str(Path(settings.VAR_DIR) / "bench-messages.sqlite3")
            if connection.vendor == "sqlite"
            else f"bench_messages_{old_name}"
        )
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        # aiosmtpd logs every SMTP command at INFO: at hundreds of messages a second that
        # logging, in this process, would be what is measured.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        smtp = CountingSMTP()
        controller = Controller(smtp, hostname="127.0.0.1", port=_free_port(), ready_timeout=10)
        controller.start()
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        processes: list[subprocess.Popen] = []
        try:
            self.start_workers(processes, workers, threads, queue, controller.port)
            results = {str(count): self.measure(count, smtp, queue, batch_size, timeout) for count in counts}
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            controller.stop()
            connection.creation.destroy_test_db(old_name, verbosity=0)
        report = {
            "database": connection.vendor,
            "broker": settings.CELERY_BROKER_URL.split(":", 1)[0],
            "workers": workers,
            "threads_per_worker": threads,
            "batch_size": batch_size,
            "sizes": results,
        }
        if json:
            self.stdout.write(_json(report))
        else:
            self.print_table(report)

    # ----------------------------------------------------------------------- processes

    def start_workers(
        self, processes: list[subprocess.Popen], count: int, threads: int, queue: str, smtp_port: int
    ) -> None:
        """Start ``count`` workers on ``queue`` (appended to ``processes``) and wait until ready."""
        env = {
            **os.environ,
            "DATABASE_URL": current_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "VAR_DIR": str(settings.VAR_DIR),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "LOG_LEVEL": "WARNING",
            # Production-shaped workers: with DEBUG on, Django would also format and keep
            # every SQL statement, which is what would be measured.
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
        }
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)  # not made on PostgreSQL + Redis
        logs = [Path(settings.VAR_DIR) / f"bench-worker-{n}.log" for n in range(count)]
        # Threads let a worker build the next e-mail while another waits on SMTP or the
        # database; each thread has its own database connection and claims rows like a process.
        pool = ["--pool=solo"] if threads == 1 else ["--pool=threads", f"--concurrency={threads}"]
        for n, log in enumerate(logs):
            argv = [sys.executable, "-m", "celery", "-A", "clinic", "worker", *pool, "-Q", queue,
                    "-n", f"{queue}-{n}@%h", "-l", "info", "--without-heartbeat", "--without-gossip",
                    "--without-mingle"]  # fmt: skip
            with open(log, "w") as out:
                # A fixed argument list, no shell.
                processes.append(
                    subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
                )
        deadline = time.monotonic() + 60
        while not all(" ready." in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise CommandError(f"The workers did not start; see {logs[0]}")
            time.sleep(0.1)

    # ----------------------------------------------------------------------- one size

    def measure(self, count: int, smtp: CountingSMTP, queue: str, batch_size: int, timeout: float) -> dict:
        owe_bulk(count)
        smtp.reset()
        started = time.perf_counter()
        dispatched = outbox.messages_dispatch(
            hand_off=lambda ids: send_messages.apply_async(args=[ids], queue=queue),
            batch_size=batch_size,
            limit=count,
        )
        swept = time.perf_counter()
        deadline = started + timeout
        while smtp.total < count and time.perf_counter() < deadline:
            time.sleep(0.02)
        finished = smtp.last_at or time.perf_counter()
        # Let hand-offs still in flight finish before counting: a duplicate would show now.
        _wait_drained(queue)
        sent = OutgoingMessage.objects.filter(status=OutgoingMessage.Status.SENT).count()
        total = finished - started
        return {
            "messages": count,
            "dispatched": len(dispatched),
            "received": smtp.total,
            "duplicates": sum(n - 1 for n in smtp.keys.values() if n > 1),
            "lost": count - len(smtp.keys),
            "marked_sent": sent,
            "sweep_s": round(swept - started, 3),
            "send_s": round(finished - (smtp.first_at or started), 3),
            "total_s": round(total, 3),
            "messages_per_s": round(count / total, 1) if total else None,
        }

    def print_table(self, report: dict) -> None:
        self.stdout.write(
            f"Message ledger on {report['database']} + {report['broker']}, {report['workers']} worker processes "
            f"x {report['threads_per_worker']} threads, batches of {report['batch_size']}\n"
        )
        header = f"{'messages':>9} {'msg/s':>8} {'dupes':>6} {'lost':>5} {'sweep s':>8} {'send s':>8} {'total s':>8}"
        self.stdout.write(header)
        for row in report["sizes"].values():
            self.stdout.write(
                f"{row['messages']:>9} {row['messages_per_s']:>8} {row['duplicates']:>6} {row['lost']:>5} "
                f"{row['sweep_s']:>8} {row['send_s']:>8} {row['total_s']:>8}"
            )
        rows = list(report["sizes"].values())
        if len(rows) > 1 and rows[0]["total_s"]:
            grew = rows[-1]["total_s"] / rows[0]["total_s"]
            self.stdout.write(
                f"time grew {grew:.2f}x while the messages grew {rows[-1]['messages'] / rows[0]['messages']:.0f}x"
            )


def owe_bulk(count: int) -> None:
    """``count`` realistic messages, due now, in a fresh ledger (rendered once, stored n times)."""
    OutgoingMessage.objects.all().delete()
    subject, text, html = outbox.render_email(
        "portal_invitation", {"physician": "Dr. Bench", "link": f"{settings.SITE_URL}/accounts/reset/x/"}
    )
    now = timezone.now()
    OutgoingMessage.objects.bulk_create(
        (
            OutgoingMessage(
                key=f"bench:{i}", kind="bench", topic=f"bench:{i // 10}", to_email=f"patient{i}@example.org",
                subject=subject, body_text=text, body_html=html, due_at=now,
            )
            for i in range(count)
        ),
        batch_size=2000,
    )  # fmt: skip


def _wait_drained(queue: str) -> None:
    """Until the broker queue is empty, then a moment for the batches workers still hold."""
    if settings.CELERY_BROKER_URL.startswith("redis"):
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        try:
            deadline = time.monotonic() + 60
            while client.llen(queue) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            client.close()
    time.sleep(1.0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _json(report: dict) -> str:
    return json.dumps(report, sort_keys=True)
