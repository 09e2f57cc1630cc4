"""The real stack for integration tests: Celery worker processes, an SMTP server, a sweeper.

Fixtures (see each docstring):

- ``smtp_server``: a real aiosmtpd server on 127.0.0.1 that records every message it accepts
  (parsed ``email.message.EmailMessage`` objects), with a hook to refuse, delay or act on any
  delivery attempt; this process's Django settings are pointed at it, and ``smtp_server.env``
  holds the same settings for worker processes.
- ``celery_workers``: a factory that starts real ``celery worker`` processes (solo pool) on the
  test database and the configured broker, each on a private queue, and stops them after.
- ``celery_worker_process``: one worker, started at once; yields its queue name.

A typical test::

    def test_confirmation_arrives(smtp_server, celery_workers):
        worker = celery_workers.start(env=smtp_server.env)
        ...owe a message (message_queue, or a service that owes one)...
        assert sweep_until(lambda: len(smtp_server.messages) == 1, queue=worker.queue)
        email = smtp_server.messages[0]   # headers, get_body(), iter_attachments()
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from clinic.database import current_database_url

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate: Callable[[], bool], *, timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it holds or the deadline passes; True if it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def sweep_until(predicate: Callable[[], bool], *, queue: str, timeout: float = 45.0, interval: float = 0.2) -> bool:
    """Play Celery beat: run the sweep (handing batches to ``queue``) until ``predicate`` holds."""
    from clinic.tasks import sweep_outgoing_messages

    def swept() -> bool:
        sweep_outgoing_messages(queue=queue)
        return predicate()

    return wait_for(swept, timeout=timeout, interval=interval)


# --- SMTP ------------------------------------------------------------------------------------


class RecordingSMTP:
    """An aiosmtpd handler that records accepted messages and every delivery attempt.

    ``before_accept(n, envelope)`` (optional) runs at the end of DATA of attempt ``n``
    (1-based, counting refused ones); returning a reply such as ``"451 4.3.0 Try later"``
    refuses the message, returning None accepts it. It runs on the server's event-loop
    thread, so it may block that thread on purpose (e.g. while the test kills a worker).
    """

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.messages: list[EmailMessage] = []
        self.attempts: list[tuple[str, float, str]] = []  # (X-Clinic-Message, monotonic time, Message-ID)
        self.before_accept: Callable[[int, object], str | None] | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self._lock:
            self.attempts.append(
                (str(message.get("X-Clinic-Message", "")), time.monotonic(), str(message["Message-ID"]))
            )
            attempt = len(self.attempts)
        reply = self.before_accept(attempt, envelope) if self.before_accept else None
        if reply:
            return reply
        with self._lock:
            self.messages.append(message)
        return "250 2.0.0 Message accepted for delivery"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a worker process to send here."""
        return {"EMAIL_HOST": self.host, "EMAIL_PORT": str(self.port), "EMAIL_USE_TLS": "0",
                "EMAIL_HOST_USER": "", "EMAIL_HOST_PASSWORD": ""}  # fmt: skip

    def received(self) -> Counter:
        """How many times each ledger key (X-Clinic-Message) arrived."""
        with self._lock:
            return Counter(str(message["X-Clinic-Message"]) for message in self.messages)

    def attempts_of(self, key: str) -> list[float]:
        """When each delivery attempt of one ledger key reached the end of DATA."""
        with self._lock:
            return [at for attempt_key, at, _message_id in self.attempts if attempt_key == key]

    def message_ids_of(self, key: str) -> list[str]:
        """The Message-ID of each delivery attempt of one ledger key, accepted or not."""
        with self._lock:
            return [message_id for attempt_key, _at, message_id in self.attempts if attempt_key == key]


@pytest.fixture
def smtp_server(settings) -> RecordingSMTP:
    """A real SMTP server (aiosmtpd) on a free port; Django in this process sends to it."""
    handler = RecordingSMTP()
    handler.port = free_port()
    controller = Controller(handler, hostname=handler.host, port=handler.port, ready_timeout=10)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = handler.host, handler.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    try:
        yield handler
    finally:
        controller.stop()


# --- Celery workers ------------------------------------------------------------------------------


class WorkerProcess:
    """One `celery worker --pool=solo` process on one queue."""

    def __init__(self, *, queue: str, env: dict[str, str], name: str) -> None:
        self.queue = queue
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)  # not made on PostgreSQL + Redis
        self.log_path = Path(settings.VAR_DIR) / f"worker-{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "--pool=solo", "-Q", queue, "-l", "info",
             "-n", f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, no clean-up."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def worker_env(**extra: str) -> dict[str, str]:
    """This process's environment, pointed at the test database and the broker in use."""
    return {**os.environ, "DATABASE_URL": current_database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "VAR_DIR": str(settings.VAR_DIR), "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "1"), **extra}  # fmt: skip


class SweeperProcess(WorkerProcess):
    """``python -m tests.integration.sweeper --every S``: beat's sweep in a process of its own."""

    def __init__(self, *, queue: str, env: dict[str, str], name: str, every: float) -> None:
        self.queue = queue
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)  # not made on PostgreSQL + Redis
        self.log_path = Path(settings.VAR_DIR) / f"sweeper-{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.sweeper", "--queue", queue, "--every", str(every)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip


class Workers:
    """Starts worker processes on a private queue (``.queue``) and stops them all at the end."""

    def __init__(self) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.started: list[WorkerProcess] = []

    def start_sweeper(self, *, every: float = 0.3, env: dict[str, str] | None = None) -> SweeperProcess:
        """A process sweeping every ``every`` seconds into this queue (when beat must be elsewhere)."""
        name = f"{self.queue}-{len(self.started) + 1}"
        sweeper = SweeperProcess(queue=self.queue, env=worker_env(**(env or {})), name=name, every=every)
        self.started.append(sweeper)
        return sweeper

    def start(self, *, env: dict[str, str] | None = None, queue: str | None = None) -> WorkerProcess:
        """A new worker; ``env`` adds variables (SMTP server, OUTBOX_* intervals, a broker URL)."""
        name = f"{queue or self.queue}-{len(self.started) + 1}"
        worker = WorkerProcess(queue=queue or self.queue, env=worker_env(**(env or {})), name=name)
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()


@pytest.fixture
def celery_workers(transactional_db):
    """Factory of real worker processes: ``celery_workers.start(env=smtp_server.env)``.

    Workers see the test database, so the test needs committed data (transactional_db).
    """
    workers = Workers()
    try:
        yield workers
    finally:
        workers.stop_all()


@pytest.fixture
def celery_worker_process(celery_workers):
    """Start `celery worker` on a private queue; yields the queue name; always stops it."""
    celery_workers.start()
    return celery_workers.queue


def broker_queue_length(queue: str, *, broker_url: str | None = None) -> int:
    """Messages waiting in a Redis broker queue (not those a worker has taken)."""
    import redis

    client = redis.Redis.from_url(broker_url or settings.CELERY_BROKER_URL)
    try:
        return client.llen(queue)
    finally:
        client.close()


def settle(queue: str, *, broker_url: str | None = None) -> None:
    """Wait until nothing waits in ``queue``, then for the batch a worker may still hold.

    Called once every expected message arrived, before counting: a duplicate could only come
    from a hand-off still in flight, so counting before these finish would prove nothing. A
    solo worker holds one batch at a time (prefetch 1), and a batch whose rows are all sent
    ends in milliseconds; one second covers it with a wide margin.
    """
    assert wait_for(lambda: broker_queue_length(queue, broker_url=broker_url) == 0, timeout=30)
    time.sleep(1.0)


def owe_messages(count: int, *, prefix: str, topic: str = "", kind: str = "fault_test") -> list:
    """``count`` messages owed through the real ``message_queue``, due now."""
    from clinic.outbox import message_queue

    return [
        message_queue(
            key=f"{prefix}:{i}", kind=kind, topic=topic, to_email=f"patient{i}@example.org",
            template="portal_invitation", context={"physician": f"Patient {i}", "link": "https://clinic.example/x"},
        )
        for i in range(count)
    ]  # fmt: skip


# --- a private Redis -----------------------------------------------------------------------------


class RedisServer:
    """A throwaway `redis-server` without persistence, restartable on the same port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(self.answers, timeout=10, interval=0.05), "redis-server did not start"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def private_redis(tmp_path) -> RedisServer:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
