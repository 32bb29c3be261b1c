"""The Django side of bench/webhook.py's processing section, run in a subprocess with the project's
settings (the bench process itself never imports Django):

    python bench/processing.py connect                 # a CRM connection on the bench shop
    python bench/processing.py store FORMS.json        # store Twilio forms as the webhook does
    python bench/processing.py queries FORMS.json      # process forms in-process, count the SQL

Each prints one JSON line.
"""

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.twilio_requests import SHOP_NUMBER  # noqa: E402


def connect() -> dict:
    """A HubSpot connection on the bench shop, so that every message writes its CRM outbox rows."""
    from crm_backends.models import CrmConnection
    from customers.models import Shop

    shop = Shop.objects.get(channel_addresses__address=SHOP_NUMBER)
    connection, _ = CrmConnection.objects.get_or_create(shop=shop, defaults={"backend": "hubspot"})
    connection.set_secrets({"access_token": "bench-never-used"})
    connection.save()
    return {"connection": connection.pk, "pushes": connection.pushes}


def store(forms: list[dict]) -> dict:
    """Store one event per form as the webhook does (events_store, one task per event after the
    commit), all in one transaction; return when it committed, so that the bench times from there."""
    from django.db import transaction

    from webhooks.inbound_events import events_store
    from webhooks.providers import twilio

    events = [twilio.inbound_event(form) for form in forms]
    committed = {}
    with transaction.atomic():
        # Registered first, so it runs first after the commit, before the tasks are sent.
        transaction.on_commit(lambda: committed.setdefault("at", time.time()))
        for event in events:
            events_store([event])
    return {"stored": len(events), "committed_at": committed["at"], "enqueued_at": time.time()}


def queries(forms: list[dict]) -> dict:
    """Count SQL statements (Django's count: BEGIN, SAVEPOINT and COMMIT included) as the worker runs:
    the first five forms' events processed each alone (one task for one event: the least a message can
    cost in a batch of its own), then the others' events stored together and processed in batches
    (events_process_due), then those turns decided and their replies sent as the reply task does
    (turns_respond, sends to the fake Twilio included). Per message."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from webhooks import autoreply
    from webhooks.inbound_events import events_process, events_process_due, events_store
    from webhooks.providers import twilio

    scheduled: list = []
    autoreply._publish_turns = lambda turns, **kw: scheduled.extend(turns)  # decided below, not queued
    alone, together = forms[:5], forms[5:]
    counts = []
    for form in alone:
        with transaction.atomic():
            events_store([twilio.inbound_event(form)])
        with CaptureQueriesContext(connection) as captured:
            events_process(provider="twilio", keys=[form["MessageSid"]])
        counts.append(len(captured.captured_queries))
    scheduled.clear()
    with transaction.atomic():
        for form in together:
            events_store([twilio.inbound_event(form)])
    with CaptureQueriesContext(connection) as captured:
        events_process_due()
    batch = len(captured.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        autoreply.turns_respond(list(scheduled))
    turns = len(captured.captured_queries)
    return {
        "alone": statistics.median(counts),
        "batch": batch / len(together),
        "batch_size": len(together),
        "turns": turns / max(len(scheduled), 1),
        "turns_count": len(scheduled),
    }


def main() -> None:
    import django

    django.setup()
    command = sys.argv[1]
    if command == "connect":
        result = connect()
    else:
        forms = json.loads(Path(sys.argv[2]).read_text())
        result = {"store": store, "queries": queries}[command](forms)
    print("BENCH_JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
