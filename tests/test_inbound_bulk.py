"""Plain messages recorded together (webhooks.inbound_bulk), turns decided together
(webhooks.autoreply_batch), replies sent side by side (webhooks.outbound.send_recorded_many).

What the set-based paths must keep: the same rows as the one-message pipeline, a person's messages in
the order they came when some of theirs need the pipeline, the number of statements fixed whatever
the batch's size, every turn answered once, a customer held elsewhere left to the one-turn path, and
each reply's own outcome when some sends fail.
"""

import itertools
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coccinelle.db import rows_update
from crm_backends.models import CrmConnection, SyncItem
from customers.models import ChannelAddress, Customer, Interaction
from tests.webhook_posting import providers_with_fake_twilio
from webhooks import autoreply, autoreply_batch, inbound_bulk, inbound_events, tasks
from webhooks.inbound_events import events_process_due, events_store
from webhooks.models import InboundEvent
from webhooks.providers import twilio

SHOP_NUMBER, OTHER_NUMBER = "+33757000000", "+33757000009"
_sids = itertools.count(1)


@pytest.fixture(autouse=True)
def fake_twilio(settings):
    yield from providers_with_fake_twilio(settings)


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    return shop


@pytest.fixture
def turns(monkeypatch):
    """The turns the batches schedule, collected instead of queued (the test decides them)."""
    scheduled = []
    monkeypatch.setattr(tasks.reply_for_turns, "apply_async", lambda args, **kw: scheduled.extend(args[0]))
    return scheduled


def _form(sender: str, text: str = "Bonjour, vous êtes ouverts samedi ?", *, to=SHOP_NUMBER, **extra) -> dict:
    sid = f"SM{next(_sids):032x}"
    whatsapp = sender.startswith("whatsapp:")
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": f"whatsapp:{to}" if whatsapp else to,
        "Body": text,
        "NumMedia": "0",
        **extra,
    }


def _photo(sender: str, text: str = "") -> dict:
    form = _form(sender, text)
    form.update(NumMedia="1", MediaUrl0=f"https://api.twilio.com/media/{form['MessageSid']}")
    form["MediaContentType0"] = "image/jpeg"
    return form


def _process(forms: list[dict]):
    """Store the forms as the webhook does, then process what is due as the worker's task does."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        for form in forms:
            events_store([twilio.inbound_event(form)])
    with TestCase.captureOnCommitCallbacks(execute=True):
        return events_process_due()


def _bulk_spy(monkeypatch) -> list:
    """The events each bulk `record` got, by sender."""
    calls, real = [], inbound_bulk.record

    def spy(plain):
        calls.append([item.event.sender for item in plain])
        return real(plain)

    monkeypatch.setattr(inbound_bulk, "record", spy)
    return calls


# --- the same rows as the pipeline ----------------------------------------------------------------------


def _conversation(to: str) -> list[dict]:
    return [
        _form("+33611000001", "Bonjour", to=to),
        _form("+33622000002", "Bonjour, je suis Paul Durand. Avez-vous la robe bleue en 38 ?", to=to),
        _form("+33611000001", "Je m'appelle Julie Martin", to=to),
        _form("whatsapp:+33611000001", "Merci !", to=to, ProfileName="Julie M", WaId="33611000001"),
        _form("+33633000003", "Je m'appelle Zoé Faure", to=to),
        _form("+33644000004", "Bonjour", to=to),
    ]


def _known_customers(shop):
    # A name a person entered is never overwritten; a customer who never wrote gets a channel.
    Customer.objects.create(shop=shop, phone="+33633000003", first_name="Zoé-Anne", name_source="human")
    Customer.objects.create(
        shop=shop, phone="+33644000004", last_contact_at=timezone.now() - timedelta(days=9)
    )


def _snapshot(shop) -> dict:
    customers = {
        c.phone: (
            c.first_name,
            c.last_name,
            c.name_source,
            c.profile_name,
            c.preferred_channel,
            c.source,
            c.segment,
            c.whatsapp_user_id,
            c.first_contact_at is not None,
            c.last_contact_at > timezone.now() - timedelta(minutes=5),
            c.last_message_preview,
            sorted(c.tags.values_list("name", flat=True)),
        )
        for c in Customer.objects.filter(shop=shop)
    }
    messages = list(
        Interaction.objects.filter(customer__shop=shop)
        .order_by("pk")
        .values_list("customer__phone", "body", "channel", "direction", "message_type", "status", "provider")
    )
    outbox = Counter(SyncItem.objects.filter(connection__shop=shop).values_list("kind", flat=True))
    return {"customers": customers, "messages": messages, "outbox": outbox}


@pytest.mark.django_db
def test_a_batch_records_plain_messages_as_the_pipeline_does_one_by_one(shop, other_shop, turns, monkeypatch):
    ChannelAddress.objects.create(shop=other_shop, provider="twilio", address=OTHER_NUMBER)
    for each in (shop, other_shop):
        _known_customers(each)
        CrmConnection.objects.create(shop=each, backend="hubspot")
    # The first shop's messages one at a time through the pipeline (no bulk path)...
    monkeypatch.setattr(inbound_bulk, "split", lambda batch: ([], batch))
    assert _process(_conversation(SHOP_NUMBER)).processed == 6
    one_by_one_turns = len(turns)
    monkeypatch.undo()
    monkeypatch.setattr(tasks.reply_for_turns, "apply_async", lambda args, **kw: turns.extend(args[0]))
    # ... the other's together.
    calls = _bulk_spy(monkeypatch)
    assert _process(_conversation(OTHER_NUMBER)).processed == 6

    assert [len(senders) for senders in calls] == [6]
    alone, together = _snapshot(shop), _snapshot(other_shop)
    assert together == alone
    # What the comparison covers: names read, a person's name kept, one profile across channels.
    assert together["customers"]["+33611000001"][:3] == ("Julie", "Martin", "text")
    assert together["customers"]["+33633000003"][:3] == ("Zoé-Anne", "", "human")
    assert together["customers"]["+33611000001"][3] == "Julie M"
    assert len(together["customers"]) == 4 and together["outbox"]["interaction"] == 6
    assert len(turns) - one_by_one_turns == one_by_one_turns == 6


@pytest.mark.django_db
def test_a_person_with_a_photo_in_the_batch_has_all_theirs_recorded_in_order(shop, turns, monkeypatch):
    calls = _bulk_spy(monkeypatch)
    forms = [
        _form("+33611000001", "first"),
        _form("+33622000002", "someone else"),
        _photo("+33611000001", "second, a photo"),
        _form("+33611000001", "third"),
        _form("+33633000003", "a third person"),
    ]
    report = _process(forms)

    assert report.processed == 5
    assert calls == [["+33622000002", "+33633000003"]]  # the photo's sender went through the pipeline
    theirs = Interaction.objects.filter(customer__phone="+33611000001").order_by("pk")
    assert list(theirs.values_list("body", flat=True)) == ["first", "second, a photo", "third"]


@pytest.mark.django_db
def test_a_replayed_message_records_nothing_twice(shop, turns):
    form = _form("+33611000001", "Bonjour")
    _process([form])
    InboundEvent.objects.update(state="pending", attempts=0)  # a Reprocess

    assert _process([]).processed == 1
    assert Interaction.objects.filter(direction="inbound").count() == 1
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_a_batch_takes_few_events_one_by_one_and_leaves_the_others_for_the_next(shop, turns):
    # Photos go one by one, a savepoint each: a batch takes ONE_BY_ONE of them, the next the rest.
    count = inbound_events.ONE_BY_ONE + 5
    report = _process([_photo(f"+336110000{n:02d}") for n in range(count)])

    assert (report.processed, report.left) == (count, 5)
    assert InboundEvent.objects.filter(state="processed", attempts=1).count() == count


@pytest.mark.django_db
def test_the_statements_of_a_batch_do_not_grow_with_its_messages(shop, turns):
    CrmConnection.objects.create(shop=shop, backend="hubspot")
    _process([_form("+33611000000")])  # warm: the shop's tags exist, its lookups are cached
    first = itertools.count(1)

    def statements(count: int) -> int:
        forms = [_form(f"+336110{next(first):05d}") for _ in range(count)]
        with TestCase.captureOnCommitCallbacks(execute=False):
            for form in forms:
                events_store([twilio.inbound_event(form)])
        with CaptureQueriesContext(connection) as captured:
            assert events_process_due().processed == count
        return len(captured.captured_queries)

    assert statements(5) == statements(25)


# --- turns decided together ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_turns_decided_together_answer_each_once_in_a_fixed_number_of_statements(shop, turns, settings):
    settings.AUTO_REPLY_MAX_PER_HOUR = 1

    def decide(count: int, first: int) -> tuple[int, Counter]:
        turns.clear()
        senders = [f"+336120{first + n:05d}" for n in range(count)]
        # The last sender writes twice: two turns scheduled, one answered.
        _process([_form(sender) for sender in senders] + [_form(senders[-1], "Et dimanche ?")])
        # The decisions only: the sends (after the commit) are test_replies_sent_side_by_side's.
        with CaptureQueriesContext(connection) as captured, TestCase.captureOnCommitCallbacks(execute=False):
            outcomes = autoreply.turns_respond(list(turns))
        return len(captured.captured_queries), outcomes

    decide(1, 200)  # the shared cache warm (the shop's lookups): both measures below start alike
    small, outcomes = decide(3, 0)
    assert outcomes == Counter(replied=3, superseded=1)
    large, outcomes = decide(12, 100)
    assert outcomes == Counter(replied=12, superseded=1)
    assert small == large
    for customer in Customer.objects.all():
        replies = customer.interactions.filter(direction="outbound", is_automatic=True)
        last = customer.interactions.filter(direction="inbound").latest("pk")
        assert list(replies.values_list("in_reply_to", flat=True)) == [last.pk]
        assert last.raw_payload[autoreply.DECIDED_MARK] is True
        assert customer.language == "fr"
    # Run again (a task delivered twice): nothing more.
    with TestCase.captureOnCommitCallbacks(execute=False):
        again = autoreply.turns_respond(list(turns))
    assert "replied" not in again
    # The hourly cap counts the batch's own replies too: a new turn of an answered customer is silent.
    turns.clear()
    _process([_form("+33612000000", "Encore une question ?")])
    with TestCase.captureOnCommitCallbacks(execute=False):
        assert autoreply.turns_respond([*turns, *turns]) == Counter(silent=1, decided=1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_customer_held_by_another_transaction_is_left_to_the_one_turn_path(shop, turns):
    _process([_form("+33613000001"), _form("+33613000002")])
    held = Customer.objects.get(phone="+33613000001")
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Customer.objects.select_for_update().filter(pk=held.pk).first()
                locked.set()
                release.wait(10)
        finally:
            close_old_connections()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        outcomes, left = autoreply_batch.turns_respond_together(list(turns))
    finally:
        release.set()
        thread.join()

    assert outcomes == Counter(replied=1)
    assert [customer for customer, _ in left] == [held.pk]
    assert autoreply.turns_respond(left) == Counter(replied=1)
    assert Interaction.objects.filter(direction="outbound", is_automatic=True).count() == 2


# --- replies sent side by side -------------------------------------------------------------------------


@pytest.mark.django_db
def test_replies_sent_side_by_side_each_get_their_own_outcome(shop, turns, fake_twilio, monkeypatch):
    retried = []
    monkeypatch.setattr(tasks.send_interaction, "apply_async", lambda args, **kw: retried.append(args[0]))
    senders = [f"+3361400000{n}" for n in range(6)]
    _process([_form(sender) for sender in senders])
    fake_twilio.fail_next_with(400, 21211, "The 'To' number is not a valid phone number.")
    fake_twilio.fail_next_with(429, 20429, "Too Many Requests")

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert autoreply.turns_respond(list(turns)) == Counter(replied=6)

    replies = Interaction.objects.filter(direction="outbound")
    statuses = Counter(replies.values_list("status", flat=True))
    assert statuses == Counter(queued=5, failed=1)  # Twilio answers "queued" with the message's SID
    failed = replies.get(status="failed")
    assert "not a valid phone number" in failed.raw_payload["error"]
    # The rate-limited one waits for its retry task, without an id; the four others have Twilio's.
    waiting = replies.filter(status="queued", provider_message_id__isnull=True)
    assert list(waiting.values_list("pk", flat=True)) == retried
    assert replies.filter(provider_message_id__startswith="SM").count() == 4
    sent_to = sorted(request.form()["To"] for request in fake_twilio.requests if request.method == "POST")
    assert sent_to == sorted(senders)


# --- rows_update -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_update_writes_each_rows_own_values_in_one_statement(shop):
    customer = Customer.objects.create(shop=shop, phone="+33615000001")
    events = []
    for n in range(3):
        with TestCase.captureOnCommitCallbacks(execute=False):
            events_store([twilio.inbound_event(_form(f"+3361500000{n}"))])
    events = list(InboundEvent.objects.order_by("pk"))
    at = timezone.now()
    events[0].state, events[0].error, events[0].processed_at, events[0].customer = (
        "processed",
        "",
        at,
        customer,
    )
    events[1].state, events[1].error, events[1].next_attempt_at = "pending", "Boom: “quoted” ’", at
    events[1].payload = {"nested": {"list": [1, None, "é"]}}

    with CaptureQueriesContext(connection) as captured:
        assert (
            rows_update(
                events[:2], ["state", "error", "processed_at", "next_attempt_at", "customer", "payload"]
            )
            == 2
        )

    assert len(captured.captured_queries) == 1
    first, second, third = InboundEvent.objects.order_by("pk")
    assert (first.state, first.processed_at, first.customer_id, first.next_attempt_at) == (
        "processed",
        at,
        customer.pk,
        None,
    )
    assert (second.error, second.next_attempt_at, second.customer_id) == ("Boom: “quoted” ’", at, None)
    assert second.payload == {"nested": {"list": [1, None, "é"]}}
    assert third.state == "pending" and third.payload == events[2].payload  # not in the list: untouched


@pytest.mark.django_db
def test_plain_messages_that_cannot_be_recorded_together_go_one_by_one_under_the_cap(
    shop, turns, monkeypatch
):
    # Two workers creating the same new customer at once, a bug: the batch's plain messages are then
    # taken one by one, ONE_BY_ONE a batch like any other, and none is lost.
    def fails(plain):
        raise RuntimeError("unique violation")

    monkeypatch.setattr(inbound_bulk, "record", fails)
    count = inbound_events.ONE_BY_ONE + 5
    report = _process([_form(f"+336160000{n:02d}") for n in range(count)])

    assert (report.processed, report.left) == (count, 5)
    assert Interaction.objects.filter(direction="inbound").count() == count


@pytest.mark.django_db
@pytest.mark.postgres
def test_rows_update_refuses_a_value_too_long_as_an_update_would(shop):
    from django.db import DataError

    with TestCase.captureOnCommitCallbacks(execute=False):
        events_store([twilio.inbound_event(_form("+33617000001"))])
    event = InboundEvent.objects.get()
    event.state = "x" * 40  # the column holds 16

    with pytest.raises(DataError), transaction.atomic():
        rows_update([event], ["state"])
    assert InboundEvent.objects.get().state == "pending"


@pytest.mark.django_db
def test_replies_whose_wave_cannot_be_saved_together_are_saved_one_by_one(
    shop, turns, fake_twilio, monkeypatch
):
    # One bad row (or a lost connection) fails the wave's single UPDATE: the replies the provider
    # accepted are then saved each alone, never left queued for the resend sweep to send again.
    from types import SimpleNamespace

    from webhooks import outbound

    waves = []

    def fails(objs, fields):
        waves.append(len(objs))
        raise RuntimeError("value too long")

    _process([_form(f"+3361800000{n}") for n in range(4)])
    monkeypatch.setattr(outbound, "db", SimpleNamespace(rows_update=fails))  # the sends' writes only
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert autoreply.turns_respond(list(turns)) == Counter(replied=4)

    assert sum(waves) == 4  # every accepted reply went through a wave that failed

    replies = Interaction.objects.filter(direction="outbound")
    assert replies.count() == 4 and replies.filter(provider_message_id__startswith="SM").count() == 4
