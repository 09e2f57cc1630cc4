"""Exactly once under faults, on the real stack: Celery worker processes on Redis, a real SMTP
server (aiosmtpd), the ledger in the test database. Each expected message must arrive once
(counted at the SMTP server by its X-Clinic-Message header), and a cancelled one never."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter

import pytest

from clinic.models import OutgoingMessage
from clinic.outbox import message_resend, messages_cancel_topic
from clinic.tasks import send_messages, sweep_outgoing_messages
from tests.integration.conftest import (
    ROOT,
    owe_messages,
    settle,
    sweep_until,
    wait_for,
    worker_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.redis]

Status = OutgoingMessage.Status


def owe_with_a_cancelled_one(count: int, prefix: str) -> tuple[list[str], str]:
    """``count`` owed messages plus one owed then withdrawn (its topic cancelled)."""
    keys = [message.key for message in owe_messages(count, prefix=prefix)]
    (withdrawn,) = owe_messages(1, prefix=f"{prefix}-withdrawn", topic="appointment:cancelled")
    assert messages_cancel_topic(topic="appointment:cancelled") == 1
    return keys, withdrawn.key


def assert_each_arrived_once(smtp_server, keys: list[str], withdrawn: str) -> None:
    received = smtp_server.received()
    assert {key: count for key, count in received.items() if count != 1} == {}, "duplicates at the SMTP server"
    assert set(received) == set(keys), f"lost: {sorted(set(keys) - set(received))[:5]}"
    assert withdrawn not in received
    statuses = Counter(OutgoingMessage.objects.filter(key__in=keys).values_list("status", flat=True))
    assert statuses == {Status.SENT: len(keys)}
    assert OutgoingMessage.objects.get(key=withdrawn).status == Status.CANCELLED


@pytest.mark.postgres
def test_two_sweeps_at_once_hand_each_message_over_once(smtp_server, celery_workers, tmp_path):
    keys, withdrawn = owe_with_a_cancelled_one(300, "two-sweeps")
    queue = celery_workers.queue
    # Two processes, connected and then released together, race over the same 300 rows in
    # batches of 5 (60 short transactions each).
    sweepers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.sweeper",
                "--queue",
                queue,
                "--batch-size",
                "5",
                "--ready",
                str(tmp_path / f"ready-{n}"),
                "--go",
                str(tmp_path / "go"),
            ],
            cwd=ROOT,
            env=worker_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for n in (1, 2)
    ]
    assert wait_for(lambda: all((tmp_path / f"ready-{n}").exists() for n in (1, 2)), timeout=30)
    (tmp_path / "go").touch()
    outputs = [sweeper.communicate(timeout=40) for sweeper in sweepers]
    first, second = (set(json.loads(out.splitlines()[-1])["dispatched"]) for out, _err in outputs)

    assert first, "both sweeps should have taken part"
    assert second, "both sweeps should have taken part"
    assert first & second == set(), "a message was handed over by both sweeps"
    assert first | second == set(OutgoingMessage.objects.filter(key__in=keys).values_list("pk", flat=True))

    celery_workers.start(env=smtp_server.env)
    celery_workers.start(env=smtp_server.env)
    assert wait_for(lambda: len(smtp_server.messages) >= len(keys), timeout=40), celery_workers.started[0].log()
    settle(queue)
    assert_each_arrived_once(smtp_server, keys, withdrawn)


@pytest.mark.postgres
def test_a_batch_delivered_three_times_to_two_workers_sends_each_message_once(smtp_server, celery_workers):
    keys, withdrawn = owe_with_a_cancelled_one(40, "thrice")
    ids = list(OutgoingMessage.objects.filter(key__in=[*keys, withdrawn]).values_list("pk", flat=True))
    celery_workers.start(env=smtp_server.env)
    celery_workers.start(env=smtp_server.env)
    # The broker delivering one hand-off three times (a redelivery after a lost ack, a
    # re-dispatch, a retry), to two workers claiming concurrently.
    for _ in range(3):
        send_messages.apply_async(args=[ids], queue=celery_workers.queue)

    assert wait_for(lambda: len(smtp_server.messages) >= len(keys), timeout=40), celery_workers.started[0].log()
    settle(celery_workers.queue)
    assert_each_arrived_once(smtp_server, keys, withdrawn)
    assert set(OutgoingMessage.objects.filter(key__in=keys).values_list("attempts", flat=True)) == {1}


def test_a_worker_killed_mid_batch_is_replaced_and_the_in_flight_message_goes_once(
    smtp_server, celery_workers, settings
):
    # Short intervals, the same in this process (the sweep) and in the workers: a claim is
    # stale after 5 s (so EMAIL_TIMEOUT must be at most 0.5 s), a lost hand-off after 2 s.
    intervals = {"OUTBOX_STALE_CLAIM_SECONDS": "5", "EMAIL_TIMEOUT": "0.5", "OUTBOX_REDISPATCH_SECONDS": "2"}
    settings.OUTBOX_STALE_CLAIM_SECONDS, settings.OUTBOX_REDISPATCH_SECONDS = 5, 2
    env = {**smtp_server.env, **intervals}
    keys, withdrawn = owe_with_a_cancelled_one(12, "killed")
    worker = celery_workers.start(env=env)
    killed = threading.Event()

    def kill_during_the_fifth(attempt: int, envelope) -> str | None:
        # The fifth message is at the end of DATA, not yet accepted: SIGKILL the worker now,
        # so the message is claimed ("sending") and provably never reached a mailbox.
        if attempt == 5:
            worker.kill()
            killed.set()
            return "421 4.3.0 Closing (the client is gone)"
        return None

    smtp_server.before_accept = kill_during_the_fifth
    assert sweep_outgoing_messages(queue=celery_workers.queue) == len(keys)  # one batch of 12
    assert killed.wait(timeout=40), worker.log()
    in_flight = smtp_server.attempts[4][0]
    assert len(smtp_server.messages) == 4
    assert OutgoingMessage.objects.get(key=in_flight).status == Status.SENDING

    # The unavoidable window: had the server accepted the fifth message and the worker died
    # before recording "sent", the stale claim would be released and the message sent again.
    # No ledger can close that gap (the SMTP server and the database share no transaction);
    # the resend carries the same Message-ID (derived from the row), so the recipient's
    # server and mail client can recognise the repeat. This test covers the case that can be
    # guaranteed: a message not accepted is sent exactly once, after the stale-claim interval.
    smtp_server.before_accept = None
    celery_workers.start(env=env)
    assert sweep_until(lambda: len(smtp_server.messages) >= len(keys), queue=celery_workers.queue, timeout=45), (
        celery_workers.started[-1].log()
    )
    settle(celery_workers.queue)
    assert_each_arrived_once(smtp_server, keys, withdrawn)
    assert OutgoingMessage.objects.get(key=in_flight).attempts == 2
    # Both attempts of the in-flight message carried the same Message-ID.
    first_try, second_try = smtp_server.message_ids_of(in_flight)
    assert first_try == second_try


def test_messages_owed_while_redis_is_down_go_out_when_it_is_back(smtp_server, celery_workers, private_redis):
    # A restarted Redis (no persistence) has lost every hand-off: re-dispatch after 3 s here.
    env = {**smtp_server.env, "CELERY_BROKER_URL": private_redis.url, "OUTBOX_REDISPATCH_SECONDS": "3"}
    worker = celery_workers.start(env=env)
    sweeper = celery_workers.start_sweeper(every=0.3, env=env)
    (before,) = owe_messages(1, prefix="before-outage")
    assert wait_for(lambda: len(smtp_server.messages) == 1, timeout=40), worker.log() + sweeper.log()

    private_redis.stop()
    # Owing a message never touches the broker (a booking must not fail with Redis), so this
    # succeeds with Redis down; the rows wait in the ledger.
    keys, withdrawn = owe_with_a_cancelled_one(10, "during-outage")
    # The sweeper meets the outage, leaves the rows queued and not marked as handed over.
    assert wait_for(lambda: "Could not hand" in sweeper.log(), timeout=20), sweeper.log()
    assert OutgoingMessage.objects.filter(key__in=keys, status=Status.QUEUED).count() == 10
    assert smtp_server.received() == Counter({before.key: 1})

    private_redis.start()  # same port, empty: every broker message from before is gone
    assert wait_for(lambda: len(smtp_server.messages) >= 11, timeout=45), worker.log()
    settle(celery_workers.queue, broker_url=private_redis.url)
    assert_each_arrived_once(smtp_server, [before.key, *keys], withdrawn)


def test_smtp_answering_451_is_retried_with_growing_delays_until_it_recovers(smtp_server, celery_workers, settings):
    delays = [0.5, 2.0, 4.0]  # then failed after the fourth attempt
    env = {**smtp_server.env, "OUTBOX_RETRY_DELAYS_SECONDS": ",".join(map(str, delays))}
    keys, withdrawn = owe_with_a_cancelled_one(4, "greylisted")
    (stubborn,) = owe_messages(1, prefix="stubborn")
    refusing = threading.Event()
    refusing.set()

    def answer(attempt: int, envelope) -> str | None:
        if refusing.is_set() or "stubborn" in envelope.content.decode(errors="replace"):
            return "451 4.7.1 Greylisted, try again later"
        return None

    smtp_server.before_accept = answer
    celery_workers.start(env=env)
    queue = celery_workers.queue
    # Two refusals of every message, then the server recovers.
    assert sweep_until(lambda: all(len(smtp_server.attempts_of(key)) >= 2 for key in keys), queue=queue)
    refusing.clear()
    assert sweep_until(lambda: len(smtp_server.messages) >= len(keys), queue=queue)
    assert sweep_until(
        lambda: OutgoingMessage.objects.get(key=stubborn.key).status == Status.FAILED, queue=queue, timeout=20
    )
    settle(queue)
    assert_each_arrived_once(smtp_server, keys, withdrawn)
    for key in keys:
        first, second, third = smtp_server.attempts_of(key)
        # Each wait at least its configured delay (less the claim-to-DATA moment), and growing.
        assert second - first >= delays[0] - 0.1
        assert third - second >= delays[1] - 0.1
        assert third - second > second - first
    failed = OutgoingMessage.objects.get(key=stubborn.key)
    assert failed.attempts == len(delays) + 1
    assert "451" in failed.last_error
    assert len(smtp_server.attempts_of(stubborn.key)) == len(delays) + 1

    # Staff resend it once the server takes it: it arrives once.
    smtp_server.before_accept = None
    assert message_resend(message_id=failed.pk)
    assert sweep_until(lambda: stubborn.key in smtp_server.received(), queue=queue, timeout=20)
    settle(queue)
    assert smtp_server.received()[stubborn.key] == 1
