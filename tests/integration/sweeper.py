"""The outbox sweep in a process of its own, as beat's task runs it in production.

    python -m tests.integration.sweeper --queue Q [--batch-size N] [--ready F --go F] [--every S]

Sets up Django from the environment (database, broker, OUTBOX_* settings) and runs the same
dispatch as ``clinic.tasks.sweep_outgoing_messages``, handing batches to queue Q:

- once (the default): connects, creates the ``--ready`` file, waits for the ``--go`` file
  (so two sweepers start together), sweeps once and prints ``{"dispatched": [ids]}``;
- ``--every S``: sweeps every S seconds until terminated (a stand-in for beat).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queue", required=True)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--ready")
    parser.add_argument("--go")
    parser.add_argument("--every", type=float)
    args = parser.parse_args()
    django.setup()
    from django.db import connection

    from clinic import outbox
    from clinic.tasks import send_messages

    def sweep() -> list[int]:
        return outbox.messages_dispatch(
            hand_off=lambda ids: send_messages.apply_async(args=[ids], queue=args.queue), batch_size=args.batch_size
        )

    if args.every:
        while True:
            sweep()
            time.sleep(args.every)
    connection.ensure_connection()
    with send_messages.app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=3)
    if args.ready:
        Path(args.ready).touch()
    deadline = time.monotonic() + 60
    while args.go and not Path(args.go).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    print(json.dumps({"dispatched": sweep()}), flush=True)


if __name__ == "__main__":
    main()
