"""The worker processes stored events in batches: one transaction a batch, one savepoint an event.

What a batch must keep: every event processed once even with several workers (SKIP LOCKED), a sender's
messages in arrival order, a failing event rolled back alone (and nothing told to the CRM about it),
the CRM told and the turns' reply task published once per batch. And the webhook side: while a
`process_inbound` task is waiting, new webhooks publish no other one (with the shared Redis cache).
"""

import itertools
import os

import pytest
import redis
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from crm_backends.models import CrmConnection, SyncItem
from customers.models import ChannelAddress, Customer, Interaction
from tests.concurrency import run_concurrently
from tests.webhook_posting import SMS_URL, post_twilio, providers_with_fake_twilio
from webhooks import autoreply, inbound_events, tasks
from webhooks.inbound_events import events_process_due, events_store
from webhooks.models import InboundEvent
from webhooks.providers import twilio

SHOP_NUMBER = "+33757000000"
_sids = itertools.count(1)


@pytest.fixture(autouse=True)
def _providers(settings):
    yield from providers_with_fake_twilio(settings)


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    return shop


def _form(sender: str, text: str = "Bonjour, vous êtes ouverts samedi ?") -> dict:
    sid = f"SM{next(_sids):032x}"
    return {"MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": sender, "To": SHOP_NUMBER, "Body": text}


def _store(forms: list[dict]) -> None:
    """Stored as the webhook stores them; no worker woken (the test is the worker)."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        for form in forms:
            events_store([twilio.inbound_event(form)])


@pytest.mark.django_db
def test_a_batch_tells_the_crm_once_and_schedules_its_turns_in_one_reply_task(shop, monkeypatch):
    CrmConnection.objects.create(shop=shop, backend="hubspot")
    published = []
    monkeypatch.setattr(tasks.reply_for_turns, "apply_async", lambda args, **kw: published.append(args[0]))
    senders = [f"+336120000{n:02d}" for n in range(12)]
    _store([_form(sender) for sender in senders])

    with TestCase.captureOnCommitCallbacks(execute=True):
        report = events_process_due()

    assert (report.processed, report.claimed) == (12, 12)
    assert InboundEvent.objects.filter(state="processed", attempts=1).count() == 12
    # One reply task for the twelve turns, each the customer's message.
    [turns] = published
    inbound = Interaction.objects.filter(direction="inbound")
    assert sorted(turns) == sorted(inbound.values_list("customer_id", "pk"))
    # Every new customer and message waits in the CRM outbox, written once for the batch.
    assert SyncItem.objects.filter(kind="customer").count() == 12
    assert SyncItem.objects.filter(kind="interaction").count() == 12


@pytest.mark.django_db
def test_a_batch_costs_fewer_statements_per_message_than_one_message_alone(shop):
    CrmConnection.objects.create(shop=shop, backend="hubspot")
    _store([_form("+33611000000")])
    events_process_due()  # warm: the shop's tags exist, its lookups are cached

    def statements(count: int, first: int) -> int:
        _store([_form(f"+3361100{first + n:04d}") for n in range(count)])
        with CaptureQueriesContext(connection) as captured:
            assert events_process_due().processed == count
        return len(captured.captured_queries)

    alone = statements(1, 1)
    in_batch = statements(20, 2)
    # The batch's claim, order check, outcome UPDATE and CRM outbox writes are shared by its twenty
    # messages: a message in a batch costs less than one processed alone.
    assert in_batch < 20 * alone
    assert in_batch / 20 <= alone - 4, (alone, in_batch)


@pytest.mark.django_db
def test_a_failing_event_is_rolled_back_alone_and_tells_the_crm_nothing(shop, monkeypatch):
    CrmConnection.objects.create(shop=shop, backend="hubspot")
    real = autoreply.turn_schedule

    def fails_for_one(inbound, **kwargs):
        # The customer and the message are written (by the batch's plain path, then by the pipeline
        # when the batch's events are tried one by one), then it fails.
        if inbound.customer.phone == "+33622222222":
            raise ConnectionError("lost the database mid-event")
        return real(inbound, **kwargs)

    monkeypatch.setattr(autoreply, "turn_schedule", fails_for_one)
    _store([_form("+33611111111"), _form("+33622222222"), _form("+33633333333")])

    with TestCase.captureOnCommitCallbacks(execute=False):
        report = events_process_due()

    assert (report.processed, report.retrying) == (2, 1)
    failed = InboundEvent.objects.get(sender="+33622222222")
    assert failed.state == "pending" and failed.attempts == 1 and "lost the database" in failed.error
    assert not Customer.objects.filter(phone="+33622222222").exists()
    # The outbox names only what was kept: two customers and their two messages.
    kept = set(Customer.objects.values_list("pk", flat=True))
    assert set(SyncItem.objects.filter(kind="customer").values_list("customer_id", flat=True)) == kept
    assert SyncItem.objects.filter(kind="interaction").count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_workers_process_each_event_once_and_each_sender_in_order(shop, monkeypatch):
    # No task: the three workers below are the only ones (a batch hands what it set aside back to
    # the queue, for whichever worker claims it next).
    monkeypatch.setattr(inbound_events, "wake_worker", lambda: True)
    monkeypatch.setattr(inbound_events, "enqueue", lambda *args, **kwargs: True)
    monkeypatch.setattr(inbound_events, "_carry_on", lambda **kwargs: None)
    shop.auto_replies_enabled = False  # about claiming and order, not replies
    shop.save()
    senders = [f"+33640000{n:03d}" for n in range(6)]
    forms = [_form(sender, f"message {turn}") for turn in range(8) for sender in senders]
    with transaction.atomic():
        for form in forms:
            events_store([twilio.inbound_event(form)])
    InboundEvent.objects.update(received_at=InboundEvent.objects.earliest("pk").received_at)

    def worker():
        processed = 0
        while (report := events_process_due(batch=5)).claimed:
            processed += report.processed
        return processed

    results, errors = run_concurrently(3, worker)

    assert errors == []
    assert sum(results) == len(forms)  # shared out, none twice
    assert InboundEvent.objects.filter(state="processed", attempts=1).count() == len(forms)
    for sender in senders:
        bodies = (
            Interaction.objects.filter(customer__phone=sender).order_by("pk").values_list("body", flat=True)
        )
        assert list(bodies) == [f"message {turn}" for turn in range(8)]


# --- the webhook side: one waiting task is enough ------------------------------------------------------


@pytest.fixture
def shared_cache(settings):
    """Django's cache on Redis, shared by every process, as in production (a db of its own)."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip("needs Redis")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-batches-{os.getpid()}",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_webhooks_arriving_while_a_task_waits_publish_no_other(client, shop, shared_cache, monkeypatch):
    published = []
    monkeypatch.setattr(tasks.process_inbound, "delay", lambda: published.append(1))

    for n in range(5):
        assert post_twilio(client, SMS_URL, _form(f"+3365000000{n}")).status_code == 200
    assert len(published) == 1 and InboundEvent.objects.filter(state="pending").count() == 5

    # The task starts: the flag is lowered before it reads, so it finds all five, and the next
    # webhook, arriving while it runs, wakes another one.
    monkeypatch.undo()
    assert events_process_due().processed == 5
    monkeypatch.setattr(tasks.process_inbound, "delay", lambda: published.append(1))
    post_twilio(client, SMS_URL, _form("+33650000009"))
    assert len(published) == 2


@pytest.mark.django_db
def test_a_web_process_that_just_saw_the_flag_asks_no_one_and_the_task_looks_again_after(
    client, shop, shared_cache, monkeypatch, settings
):
    settings.INBOUND_WAKEUP_LOCAL_SECONDS = 60  # the running app's shortcut, long enough for a test
    monkeypatch.setattr(inbound_events, "_flag_seen_at", None)
    published, asked, carried_on = [], [], []
    monkeypatch.setattr(tasks.process_inbound, "delay", lambda: published.append(1))
    real_raise = inbound_events.cache.flag_raise
    monkeypatch.setattr(inbound_events.cache, "flag_raise", lambda *a: asked.append(1) or real_raise(*a))
    monkeypatch.setattr(inbound_events, "_carry_on", lambda **kwargs: carried_on.append(kwargs))

    def task():  # as the worker runs it, its after-commit calls included
        with TestCase.captureOnCommitCallbacks(execute=True):
            return events_process_due()

    post_twilio(client, SMS_URL, _form("+33652000001"))
    task()  # it ran and lowered the flag: with no shortcut, the next webhook would publish again
    post_twilio(client, SMS_URL, _form("+33652000002"))

    # One question to Redis, one task: the second webhook took the flag it had just seen as still up.
    assert (len(asked), len(published)) == (1, 1)
    # The task that processed the first event looks again a moment later, and finds the second.
    assert carried_on == [{"countdown": inbound_events.FOLLOW_UP_SECONDS}]
    assert task().processed == 1
    assert InboundEvent.objects.filter(state="processed").count() == 2
    assert len(carried_on) == 2  # it found one: once more, which will find none and ask for nothing
    assert task().claimed == 0 and len(carried_on) == 2


@pytest.mark.django_db
def test_without_a_shared_cache_every_webhook_wakes_a_worker(client, shop, monkeypatch, settings):
    # The embedded default: each process has its own cache, so no flag can be shared.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    published = []
    monkeypatch.setattr(tasks.process_inbound, "delay", lambda: published.append(1))
    for n in range(3):
        post_twilio(client, SMS_URL, _form(f"+3365100000{n}"))
    assert len(published) == 3


# --- what a batch does when something is in its way ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_a_sender_held_by_another_worker_is_set_aside_once_not_claimed_in_a_loop(shop, monkeypatch):
    import psycopg

    monkeypatch.setattr(inbound_events, "wake_worker", lambda: True)
    carried_on = []
    monkeypatch.setattr(inbound_events, "_carry_on", lambda **kwargs: carried_on.append(kwargs))
    forms = [_form("+33655555555", f"message {n}") for n in range(25)]
    with transaction.atomic():
        for form in forms:
            events_store([twilio.inbound_event(form)])
    first = InboundEvent.objects.earliest("pk")
    other_worker = psycopg.connect(dbname=connection.settings_dict["NAME"], **_credentials())
    try:
        # Another worker's batch holds the sender's first message.
        other_worker.execute("SELECT 1 FROM webhooks_inboundevent WHERE id = %s FOR UPDATE", [first.pk])
        report = events_process_due(batch=20)
    finally:
        other_worker.close()

    # One pass: the sender's later messages are left pending, and one task carries on a second later.
    assert (report.claimed, report.set_aside, report.processed) == (20, 20, 0)
    assert carried_on == [{"countdown": 1}]
    assert InboundEvent.objects.filter(state="pending", attempts=0).count() == 25


def _credentials() -> dict:
    settings_dict = connection.settings_dict
    return {
        key: value
        for key, value in {
            "host": settings_dict["HOST"],
            "port": settings_dict["PORT"],
            "user": settings_dict["USER"],
            "password": settings_dict["PASSWORD"],
        }.items()
        if value
    }


@pytest.mark.django_db
def test_a_batch_that_fails_outside_its_events_is_done_again_one_event_at_a_time(shop, monkeypatch):
    real = type(InboundEvent.objects).bulk_update

    def fails_for_batches(manager, objs, fields, **kwargs):
        if len(objs) > 1:  # e.g. a check at commit that one of the events breaks
            raise RuntimeError("the batch could not be written")
        return real(manager, objs, fields, **kwargs)

    monkeypatch.setattr(type(InboundEvent.objects), "bulk_update", fails_for_batches)
    _store([_form(f"+3366600000{n}") for n in range(4)])

    with TestCase.captureOnCommitCallbacks(execute=False):
        report = events_process_due()

    assert report.processed == 4
    assert InboundEvent.objects.filter(state="processed", attempts=1).count() == 4
    assert Interaction.objects.filter(direction="inbound").count() == 4


@pytest.mark.django_db
def test_an_event_that_gave_way_in_a_deadlock_is_tried_again_a_second_later(shop, monkeypatch):
    from datetime import timedelta

    from django.db import OperationalError
    from django.utils import timezone

    def deadlocked(inbound, **kwargs):
        raise OperationalError("deadlock detected\nDETAIL: Process 1 waits for ShareLock")

    monkeypatch.setattr(autoreply, "turn_schedule", deadlocked)
    _store([_form("+33677777777")])

    with TestCase.captureOnCommitCallbacks(execute=False):
        report = events_process_due()

    event = InboundEvent.objects.get()
    assert report.retrying == 1 and event.state == "pending" and event.attempts == 1
    assert event.next_attempt_at <= timezone.now() + timedelta(seconds=2)
