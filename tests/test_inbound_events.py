"""Persist first, process in the worker: the stored event, its outcome, retries, the sweep, the admin's
Reprocess and `reprocess_inbound`. Posted through the real URLs with real-shaped, signed payloads."""

import hashlib
import hmac
import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from customers.models import ChannelAddress, Customer, Interaction
from customers.privacy import customer_erase
from tests.concurrency import run_concurrently
from webhooks import autoreply, inbound_events, tasks
from webhooks.models import InboundEvent

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN, APP_SECRET = "twilio-test-token", "meta-app-secret"
SMS_URL, META_URL = "/webhooks/twilio/sms/", "/webhooks/whatsapp/"
State = InboundEvent.State


@pytest.fixture(autouse=True)
def _secrets(settings):
    # No account SID: replies go to the sandbox (these tests are about the events, not sending).
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TOKEN, ""
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_ACCESS_TOKEN = APP_SECRET, ""
    settings.PUBLIC_BASE_URL = ""
    settings.MESSAGING_SANDBOX = True


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    ChannelAddress.objects.create(shop=shop, provider="meta", address="100000000000001")
    return shop


def fixture(provider, name):
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def sms(sid="SM" + "a" * 32, sender="+33611111111", body="Bonjour, je m'appelle Julie Martin"):
    return {**fixture("twilio", "sms_text"), "MessageSid": sid, "SmsSid": sid, "From": sender, "Body": body}


def post_twilio(client, params, path=SMS_URL):
    signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{path}", params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def post_meta(client, payload):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(META_URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


def process_due():
    """Time passes (every retry is due, every event is old enough to count as lost on its way to a
    worker), then beat's sweep hands over what is due: the worker (eager here) processes it."""
    an_hour_ago = timezone.now() - timedelta(hours=1)
    pending = InboundEvent.objects.filter(state=State.PENDING)
    pending.exclude(next_attempt_at=None).update(next_attempt_at=an_hour_ago)
    pending.update(received_at=an_hour_ago)
    return inbound_events.events_sweep()


# --- the edge: store, answer, nothing else ---------------------------------------------------------


def test_the_webhook_stores_the_event_and_answers_before_anything_is_processed(client, shop):
    with CaptureQueriesContext(connection) as queries:
        response = post_twilio(client, sms())  # commit hooks are not run: no worker has it yet
    assert response.status_code == 200
    assert response.content.decode().endswith("<Response/>")  # Twilio sends nothing inline
    event = InboundEvent.objects.get()
    assert (event.provider, event.kind, event.event_key, event.state) == (
        "twilio", "message", "SM" + "a" * 32, State.PENDING,
    )  # fmt: skip
    assert (event.shop_address, event.sender) == ("+33757000000", "+33611111111")
    assert event.payload["Body"] == "Bonjour, je m'appelle Julie Martin"
    assert not Interaction.objects.exists() and not Customer.objects.exists()
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) == 1 and writes[0].startswith("INSERT")  # one INSERT, not a lookup in sight


def test_after_the_commit_the_worker_records_the_message_and_replies_through_the_api(
    client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(client, sms())
    event = InboundEvent.objects.get()
    assert event.state == State.PROCESSED and event.attempts == 1 and event.processed_at
    inbound = Interaction.objects.get(direction="inbound")
    assert (event.shop_id, event.customer_id) == (shop.pk, inbound.customer_id)
    assert inbound.customer.first_name == "Julie" and inbound.provider_message_id == event.event_key
    reply = Interaction.objects.get(direction="outbound")
    assert reply.in_reply_to == inbound and reply.is_automatic
    assert reply.status == "delivered" and reply.raw_payload.get("sandbox")  # sent by the send task


def test_a_meta_post_with_several_messages_and_statuses_is_one_insert_of_one_row_each(client, shop):
    payload = fixture("meta", "batch_three_messages")
    status = fixture("meta", "status_read")["entry"][0]["changes"][0]["value"]["statuses"][0]
    payload["entry"][0]["changes"][0]["value"]["statuses"] = [status]
    with CaptureQueriesContext(connection) as queries:
        assert post_meta(client, payload).status_code == 200
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    kinds = sorted(InboundEvent.objects.values_list("kind", flat=True))
    assert kinds == ["message", "message", "message", "status"]
    status_event = InboundEvent.objects.get(kind="status")
    assert status_event.event_key == f"{status['id']}:read"
    # Each stored event is a notification carrying that event alone, readable on its own later.
    for event in InboundEvent.objects.filter(kind="message"):
        value = event.payload["entry"][0]["changes"][0]["value"]
        assert [m["id"] for m in value["messages"]] == [event.event_key] and "metadata" in value


def test_a_replayed_post_stores_nothing_new_and_records_one_message(
    client, shop, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_twilio(client, sms()).status_code == 200
    assert InboundEvent.objects.count() == 1
    assert Interaction.objects.filter(direction="inbound").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_copies_store_one_event_and_record_one_message(shop, settings):
    params = sms(sid="SM" + "c" * 32)
    results, errors = run_concurrently(20, lambda: post_twilio(Client(), params).status_code)
    assert errors == [] and results == [200] * 20
    assert InboundEvent.objects.count() == 1
    assert Interaction.objects.filter(direction="inbound").count() == 1
    assert InboundEvent.objects.get().state == State.PROCESSED


# --- the worker: outcomes, failures, retries, the sweep ----------------------------------------------


def test_an_unknown_receiving_address_is_stored_and_ignored_with_the_reason(
    client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_twilio(client, {**sms(), "To": "+33799999999"})
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.state == State.IGNORED and "+33799999999" in event.error and event.shop is None
    assert not Interaction.objects.exists()


def test_a_sender_that_is_not_a_phone_is_processed_as_a_customer_not_dropped(
    client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(client, fixture("twilio", "sms_alphanumeric_sender"))
    event = InboundEvent.objects.get()
    assert event.state == State.PROCESSED and event.shop == shop
    assert event.customer.external_address == "SUPPORT"


def test_a_whatsapp_message_naming_no_sender_at_all_is_failed_and_kept_visible(
    client, shop, django_capture_on_commit_callbacks
):
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "33757000000", "phone_number_id": "100000000000001"},
            "messages": [{"id": "wamid.NOSENDER", "timestamp": "1767960000", "type": "text",
                          "text": {"body": "Bonjour"}}],
        }}]}],
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(client, body)
    event = InboundEvent.objects.get()
    assert event.state == State.FAILED and "no sender" in event.error
    assert not Interaction.objects.exists()


class WorkerKilled(BaseException):
    """Stands for the worker process dying mid-event: nothing of the transaction commits."""


def test_a_worker_dying_mid_event_leaves_it_pending_for_the_sweep(
    client, shop, monkeypatch, django_capture_on_commit_callbacks
):
    post_twilio(client, sms())
    real = autoreply.turn_schedule

    def dies(inbound, **kwargs):
        raise WorkerKilled  # the interaction is written, then the process dies before the commit

    monkeypatch.setattr(autoreply, "turn_schedule", dies)
    with pytest.raises(WorkerKilled):
        inbound_events.events_process(provider="twilio", keys=["SM" + "a" * 32])
    event = InboundEvent.objects.get()
    assert event.state == State.PENDING and event.attempts == 0 and not Interaction.objects.exists()
    monkeypatch.setattr(autoreply, "turn_schedule", real)
    assert inbound_events.events_sweep() == 0  # not yet: it might still be on its way to a worker
    with django_capture_on_commit_callbacks(execute=True):
        assert process_due() == 1
    assert InboundEvent.objects.get().state == State.PROCESSED
    assert Interaction.objects.filter(direction="inbound").count() == 1


def test_an_error_is_retried_with_backoff_then_succeeds(client, shop, monkeypatch, settings):
    post_twilio(client, sms())
    real, calls = autoreply.turn_schedule, []

    def flaky(inbound, **kwargs):
        calls.append(1)
        if len(calls) <= 2:  # the batch's plain path, then the event alone: one attempt
            raise ConnectionError("database went away")
        return real(inbound, **kwargs)

    monkeypatch.setattr(autoreply, "turn_schedule", flaky)
    report = inbound_events.events_process(provider="twilio", keys=["SM" + "a" * 32])
    assert (report.retrying, report.processed) == (1, 0)
    event = InboundEvent.objects.get()
    assert event.state == State.PENDING and event.attempts == 1
    assert "ConnectionError: database went away" in event.error
    assert event.next_attempt_at > timezone.now() + timedelta(seconds=settings.INBOUND_RETRY_BASE_SECONDS / 2)
    assert not Interaction.objects.exists()  # the failed attempt left nothing half-written
    process_due()
    event.refresh_from_db()
    assert (event.state, event.attempts) == (State.PROCESSED, 2)
    assert Interaction.objects.filter(direction="inbound").count() == 1


def test_after_the_last_attempt_the_event_is_failed_and_reprocess_brings_it_in(
    client, shop, owner, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.INBOUND_MAX_ATTEMPTS = 2
    post_twilio(client, sms())
    real = autoreply.turn_schedule
    monkeypatch.setattr(autoreply, "turn_schedule", lambda inbound, **kw: 1 / 0)
    process_due()
    process_due()
    event = InboundEvent.objects.get()
    assert (event.state, event.attempts, event.next_attempt_at) == (State.FAILED, 2, None)
    assert process_due() == 0  # failed for good: the sweep leaves it to a person
    # The owner sees it in the admin, filtered on failed, with its error and payload.
    client.force_login(owner)
    listing = client.get(reverse("admin:webhooks_inboundevent_changelist"), {"state__exact": "failed"})
    assert "ZeroDivisionError" in listing.content.decode()
    page = client.get(reverse("admin:webhooks_inboundevent_change", args=[event.pk]))
    assert "Julie Martin" in page.content.decode()
    # The cause is fixed; Reprocess.
    monkeypatch.setattr(autoreply, "turn_schedule", real)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:webhooks_inboundevent_changelist"),
            {"action": "reprocess", "_selected_action": [event.pk]},
        )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == State.PROCESSED and event.error == ""
    assert Interaction.objects.filter(direction="inbound").count() == 1


def test_a_broker_outage_loses_nothing_the_sweep_hands_the_event_over(
    client, shop, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(tasks.process_inbound, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_twilio(client, sms()).status_code == 200
    assert InboundEvent.objects.get().state == State.PENDING and not Interaction.objects.exists()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert process_due() == 1
    assert InboundEvent.objects.get().state == State.PROCESSED


def test_one_senders_events_are_processed_in_arrival_order(client, shop, django_capture_on_commit_callbacks):
    post_twilio(client, sms(sid="SM" + "1" * 32, body="Bonjour"))
    post_twilio(client, sms(sid="SM" + "2" * 32, body="Je m'appelle Julie Martin"))
    post_twilio(client, sms(sid="SM" + "3" * 32, sender="+33622222222", body="Bonjour"))
    # The worker is handed the second message first: it processes the first one before it.
    with django_capture_on_commit_callbacks(execute=True):
        inbound_events.events_process(provider="twilio", keys=["SM" + "2" * 32])
    recorded = list(
        Interaction.objects.filter(direction="inbound")
        .order_by("pk")
        .values_list("provider_message_id", flat=True)
    )
    assert recorded == ["SM" + "1" * 32, "SM" + "2" * 32]  # the other sender waits for its own task
    assert InboundEvent.objects.get(event_key="SM" + "3" * 32).state == State.PENDING


def test_statuses_are_stored_per_status_and_applied_by_the_worker(
    client, shop, make_outbound, django_capture_on_commit_callbacks
):
    outbound = make_outbound(shop, provider="twilio", provider_message_id="SM" + "f" * 32, status="sent")
    for status in ("delivered", "read", "delivered"):  # a late "delivered" after "read"
        params = {**fixture("twilio", "status_delivered"), "MessageSid": outbound.provider_message_id}
        params.update(MessageStatus=status, SmsStatus=status)
        with django_capture_on_commit_callbacks(execute=True):
            assert post_twilio(client, params, path="/webhooks/twilio/status/").status_code == 204
    keys = sorted(InboundEvent.objects.values_list("event_key", flat=True))
    assert keys == [f"{outbound.provider_message_id}:delivered", f"{outbound.provider_message_id}:read"]
    outbound.refresh_from_db()
    assert outbound.status == "read"


# --- replays, erasure, the admin's scope ------------------------------------------------------------------


def test_reprocess_inbound_replays_every_event_idempotently(client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(client, sms())
        post_meta(client, fixture("meta", "batch_three_messages"))
    before = list(Interaction.objects.order_by("pk").values_list("pk", "body", "status"))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reprocess_inbound", stdout=out)
    assert "4 event(s): 4 processed" in out.getvalue()
    assert list(Interaction.objects.order_by("pk").values_list("pk", "body", "status")) == before
    out = StringIO()
    call_command("reprocess_inbound", "--failed", "--since", "1d", stdout=out)
    assert "0 event(s)" in out.getvalue()


def test_erasing_a_customer_deletes_their_raw_events(client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(client, sms())
        post_twilio(client, sms(sid="SM" + "9" * 32, sender="+33622222222"))
    julie = Customer.objects.get(phone="+33611111111")
    customer_erase(customer=julie)
    assert list(InboundEvent.objects.values_list("sender", flat=True)) == ["+33622222222"]


def test_another_shops_owner_and_staff_cannot_reprocess_and_only_see_their_shops_events(
    client, shop, other_shop, other_owner, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(client, sms())
    event = InboundEvent.objects.get()
    client.force_login(other_owner)
    assert (
        "SM" + "a" * 32 not in client.get(reverse("admin:webhooks_inboundevent_changelist")).content.decode()
    )
    assert client.get(reverse("admin:webhooks_inboundevent_change", args=[event.pk])).status_code in (
        302,
        404,
    )
    client.force_login(staff)
    listing = client.get(reverse("admin:webhooks_inboundevent_changelist"))
    assert listing.status_code == 200 and "SM" + "a" * 32 in listing.content.decode()
    assert 'value="reprocess"' not in listing.content.decode()  # reprocessing is the owners'
