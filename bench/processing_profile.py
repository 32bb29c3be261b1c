"""Where the worker spends its time on one inbound message: events_process and the reply's send, in-process.

    .venv/bin/python bench/processing_profile.py [--events 200] [--top 30]

Runs on its own PostgreSQL database (recreated: bench_processing_profile) and Redis db (9, emptied before
and after), with the production-like settings of bench/webhook.py (DEBUG off, Redis cache), a shop with a
HubSpot connection (outbox rows written, nothing pushed) and a fake Twilio API on 127.0.0.1. Stores
--events messages (half from new senders, half a second message from the same senders), then for each:
events_process (profiled), then the reply's send (profiled apart). Prints the mean time of each step,
the SQL statements per message, and cProfile's busiest functions.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
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
    parser.add_argument("--events", type=int, default=200, help="messages (half new senders, half returning)")
    parser.add_argument("--top", type=int, default=30, help="functions listed")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/bench_processing_profile"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    with RecordingTwilio() as fake:
        setup_django(args, fake.url)
        try:
            run(args, fake)
        finally:
            harness.redis_flush(args.redis_url)


def run(args, fake) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from customers.models import Interaction
    from webhooks.autoreply import turn_respond
    from webhooks.inbound_events import events_process, events_store
    from webhooks.outbound import interaction_send
    from webhooks.providers import twilio

    signer = Signer(auth_token=AUTH_TOKEN, url=f"http://127.0.0.1{WEBHOOK_PATH}")
    senders = signer.new_senders(args.events // 2)
    forms = [signer.form(s) for s in senders] + [signer.form(s) for s in senders]
    with transaction.atomic():
        for form in forms:
            events_store([twilio.inbound_event(form)])
    harness.redis_flush(args.redis_url)  # the tasks it queued: this process runs the events itself

    process_profile, turn_profile, send_profile = cProfile.Profile(), cProfile.Profile(), cProfile.Profile()
    process_ms, turn_ms, send_ms, statements = [], [], [], []
    for form in forms:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            process_profile.enable()
            events_process(provider="twilio", keys=[form["MessageSid"]])
            process_profile.disable()
            process_ms.append((time.perf_counter() - started) * 1000)
        statements.append(len(captured.captured_queries))
        inbound = Interaction.objects.filter(provider_message_id=form["MessageSid"]).first()
        # The turn's decision (a task a few seconds later in production), then the reply's send.
        started = time.perf_counter()
        turn_profile.enable()
        turn_respond(customer_id=inbound.customer_id, inbound_id=inbound.pk)
        turn_profile.disable()
        turn_ms.append((time.perf_counter() - started) * 1000)
        reply = Interaction.objects.select_related("customer__shop").filter(in_reply_to=inbound).first()
        if reply is not None:
            started = time.perf_counter()
            send_profile.enable()
            interaction_send(reply)
            send_profile.disable()
            send_ms.append((time.perf_counter() - started) * 1000)
    half = len(forms) // 2
    print(
        f"events_process: mean {statistics.mean(process_ms):.1f} ms (new senders "
        f"{statistics.mean(process_ms[:half]):.1f}, returning {statistics.mean(process_ms[half:]):.1f}); "
        f"SQL statements median new {statistics.median(statements[:half]):g}, "
        f"returning {statistics.median(statements[half:]):g}"
    )
    print(f"turn decisions: {len(turn_ms)}, mean {statistics.mean(turn_ms):.1f} ms")
    print(
        f"reply sends: {len(send_ms)}, mean {statistics.mean(send_ms or [0]):.1f} ms; "
        f"the fake Twilio got {len(fake.times)}"
    )
    for title, profile in (
        ("events_process", process_profile),
        ("turn_respond", turn_profile),
        ("interaction_send", send_profile),
    ):
        print(f"\n== {title}")
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
