"""Where the worker spends its time on one inbound message: events_process and the reply's send, in-process.

    .venv/bin/python bench/processing_profile.py [--events 1000] [--top 30]

Runs on its own PostgreSQL database (recreated: bench_processing_profile) and Redis db (9, emptied before
and after), with the production-like settings of bench/webhook.py (DEBUG off, Redis cache), a shop with a
HubSpot connection (outbox rows written, nothing pushed) and a fake Twilio API on 127.0.0.1. Stores
--events / 2 messages from new senders and processes them as the worker does (events_process_due, in
batches), then decides and sends their turns as the reply task does (turns_respond, TURNS_PER_TASK at a
time); then a second message from each sender, the same way. Prints the time and SQL statements per
message of each step, and cProfile's busiest functions.
"""

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.twilio_requests import SHOP_NUMBER, WEBHOOK_PATH, Signer  # noqa: E402
from bench.webhook import AUTH_TOKEN, RecordingTwilio  # noqa: E402
from bench.webhook_profile import print_by_package  # noqa: E402


def setup_django(args, fake_url: str) -> None:
    harness.database_recreate(args.database_url)
    harness.redis_flush(args.redis_url)
    env = harness.project_env(
        database_url=args.database_url, redis_url=args.redis_url, auth_token=AUTH_TOKEN, conn_max_age=None
    )
    os.environ.clear()
    os.environ.update(env, TWILIO_API_BASE=fake_url, LOG_LEVEL="WARNING", PUBLIC_BASE_URL="http://127.0.0.1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("create_shop", name="Bench", country="FR", twilio_number=[SHOP_NUMBER], stdout=io.StringIO())
    from bench.processing import connect

    connect()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="messages (half new, half returning)")
    parser.add_argument("--top", type=int, default=30, help="functions listed")
    parser.add_argument("--dump", help="also write each profile to DUMP-<step>.prof (pstats files)")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/bench_processing_profile"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    with FakeInAChild() as fake:
        setup_django(args, fake.url)
        try:
            run(args, fake)
        finally:
            harness.redis_flush(args.redis_url)


def _serve_fake(conn) -> None:
    with RecordingTwilio() as fake:
        conn.send(fake.url)
        while conn.recv() == "count":
            conn.send(len(fake.times))


class FakeInAChild:
    """The fake Twilio API in a process of its own, as in bench/webhook.py (in this one, its threads
    would take turns with the profiled code for the interpreter, and the sends would look slower)."""

    def __enter__(self):
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("fork").Process(target=_serve_fake, args=(child,))
        self._process.start()
        self.url = self._conn.recv()
        return self

    def received(self) -> int:
        self._conn.send("count")
        return self._conn.recv()

    def __exit__(self, *exc):
        self._conn.send("stop")
        self._process.join(10)


def run(args, fake) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from webhooks import autoreply
    from webhooks.inbound_events import events_process_due, events_store
    from webhooks.providers import twilio
    from webhooks.tasks import TURNS_PER_TASK

    signer = Signer(auth_token=AUTH_TOKEN, url=f"http://127.0.0.1{WEBHOOK_PATH}")
    senders = signer.new_senders(args.events // 2)
    # The turns the batches schedule, decided here (the reply_for_turns task's body) instead of queued.
    scheduled: list = []
    autoreply._publish_turns = lambda turns, **kw: scheduled.append(list(turns))

    process_profile, turn_profile = cProfile.Profile(), cProfile.Profile()
    process_ms, turn_ms, statements = [], [], []
    for label in ("new senders", "returning"):
        forms = [signer.form(s) for s in senders]
        with transaction.atomic():
            for form in forms:
                events_store([twilio.inbound_event(form)])
        harness.redis_flush(args.redis_url)  # the tasks it queued: this process runs the events itself
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            process_profile.enable()
            events_process_due(seconds=3600)
            process_profile.disable()
            process_ms.append((time.perf_counter() - started) * 1000 / len(forms))
        statements.append(len(captured.captured_queries) / len(forms))
        turns = [turn for batch in scheduled for turn in batch]
        scheduled.clear()
        started = time.perf_counter()
        turn_profile.enable()
        for start in range(0, len(turns), TURNS_PER_TASK):
            autoreply.turns_respond(turns[start : start + TURNS_PER_TASK])
        turn_profile.disable()
        turn_ms.append((time.perf_counter() - started) * 1000 / max(len(turns), 1))
        print(
            f"{label}: {len(forms)} events, processing {process_ms[-1]:.2f} ms and {statements[-1]:.1f} "
            f"statements a message; {len(turns)} turns, {turn_ms[-1]:.2f} ms a turn (decision and send)"
        )
    print(f"the fake Twilio got {fake.received()} messages")
    for title, profile in (
        ("events_process", process_profile),
        ("turns_respond", turn_profile),
    ):
        print(f"\n== {title}")
        if args.dump:
            profile.dump_stats(f"{args.dump}-{title}.prof")
        stats = pstats.Stats(profile)
        print_by_package(stats)
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats("cumulative").print_stats(rf"^{re.escape(str(ROOT))}/(?!\.venv/)", args.top)
        print("busiest project functions (cumulative):")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats("tottime").print_stats(args.top)
        print("busiest functions of all (own time):")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


if __name__ == "__main__":
    main()
