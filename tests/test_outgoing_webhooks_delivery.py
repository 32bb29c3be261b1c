"""Outgoing webhooks delivered to a real loopback receiver: signed (checked with the README's recipe),
retried with backoff on errors and non-2xx answers with every attempt recorded, endpoints disabled after
50 failures in a row or 3 days of failures (owners e-mailed, a banner on the shop settings page), URLs
refused outside public https hosts, and the secret never written anywhere but its encrypted column."""

import json
import logging
import socket
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm_backends.outgoing import delivery as outgoing_delivery
from crm_backends.outgoing.delivery import BACKOFF_SECONDS, MAX_ATTEMPTS, deliver_due
from crm_backends.outgoing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from crm_backends.outgoing.services import (
    delivery_replay,
    endpoint_create,
    endpoint_enable,
    endpoint_ping,
    endpoint_rotate_secret,
)
from crm_backends.outgoing.tasks import sweep_webhooks
from crm_backends.outgoing.urlguard import is_public, url_problem
from customers.models import Order
from tests.webhook_receiver import Receiver, verify


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(shop, receiver):
    created = endpoint_create(shop=shop, url=receiver.url, events=["order.created", "customer.created"])
    receiver.secret = created.secret
    return created


def order(shop, reference="CMD-1"):
    return Order.objects.create(shop=shop, reference=reference, amount="49.00")


def make_due(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_delivery_is_signed_and_verifies_with_the_readme_recipe(shop, endpoint, receiver):
    placed = order(shop)
    report = deliver_due(endpoint.pk)
    assert report.delivered == 1
    [request] = receiver.requests
    assert request.verified
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Coccinelle-Event"] == "order.created"
    sent = WebhookDelivery.objects.get()
    assert request.headers["X-Coccinelle-Delivery"] == sent.uid
    body = request.json()
    assert body["type"] == "order.created" and body["data"]["id"] == placed.pk and body["shop"] == shop.slug
    assert body == sent.event.payload
    # A tampered body, another secret or an old timestamp fail the same recipe.
    header = request.headers["X-Coccinelle-Signature"]
    assert not verify(endpoint.secret, header, request.body + b" ")
    assert not verify("whsec_other", header, request.body)
    t = int(header.split(",")[0][2:])
    old = outgoing_delivery.signing.signature(endpoint.secret, request.body, t - 301)
    assert not verify(endpoint.secret, old, request.body)
    # The attempt is recorded: code, body, duration, headers (without the secret).
    assert sent.state == "delivered" and sent.delivered_at and sent.attempts == 1
    [attempt] = sent.attempt_log.all()
    assert attempt.status_code == 200 and attempt.response_body == '{"received": true}'
    assert attempt.request_headers["X-Coccinelle-Signature"] == header
    assert endpoint.secret not in json.dumps(attempt.request_headers)


def test_non_2xx_answers_are_retried_with_backoff_and_every_attempt_is_kept(shop, endpoint, receiver):
    receiver.statuses = [500, 404]
    order(shop)
    before = timezone.now()
    assert deliver_due(endpoint.pk).retrying == 1
    row = WebhookDelivery.objects.get()
    assert row.state == "pending" and row.attempts == 1 and row.last_status_code == 500
    wait = row.next_attempt_at - before
    assert timedelta(seconds=BACKOFF_SECONDS[0] * 0.9) <= wait <= timedelta(seconds=BACKOFF_SECONDS[0] * 1.2)
    assert deliver_due(endpoint.pk).handled == 0  # not due yet

    make_due(row)
    deliver_due(endpoint.pk)
    row.refresh_from_db()
    assert row.attempts == 2 and row.last_status_code == 404
    assert row.next_attempt_at - timezone.now() > timedelta(seconds=BACKOFF_SECONDS[1] * 0.85)

    make_due(row)
    deliver_due(endpoint.pk)
    row.refresh_from_db()
    assert row.state == "delivered"
    codes = list(row.attempt_log.order_by("pk").values_list("status_code", flat=True))
    assert codes == [500, 404, 200]
    assert row.attempt_log.order_by("pk").first().response_body == "receiver says no"
    assert len(receiver.requests) == 3 and all(r.verified for r in receiver.requests)
    # All three carried the same delivery id, so a receiver can tell a retry.
    assert {r.headers["X-Coccinelle-Delivery"] for r in receiver.requests} == {row.uid}
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.failing_since is None  # a success resets


def test_a_connection_error_is_an_attempt_with_the_error_and_is_retried(shop):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    endpoint = endpoint_create(shop=shop, url=f"http://127.0.0.1:{port}/gone", events=["order.created"])
    order(shop)
    deliver_due(endpoint.pk)
    row = WebhookDelivery.objects.get()
    [attempt] = row.attempt_log.all()
    assert attempt.status_code is None and "127.0.0.1" in attempt.error
    assert row.state == "pending" and row.last_error == attempt.error


def test_a_redirect_is_not_followed(shop, endpoint, receiver):
    receiver.statuses = [302]
    order(shop)
    deliver_due(endpoint.pk)
    assert len(receiver.requests) == 1  # nothing went to /elsewhere
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and "redirect" in attempt.error
    assert WebhookDelivery.objects.get().state == "pending"


def test_after_the_last_attempt_the_delivery_failed(shop, endpoint, receiver):
    receiver.statuses = [503] * MAX_ATTEMPTS
    order(shop)
    for _ in range(MAX_ATTEMPTS):
        make_due(WebhookDelivery.objects.get())
        deliver_due(endpoint.pk)
    row = WebhookDelivery.objects.get()
    assert row.state == "failed" and row.attempts == MAX_ATTEMPTS
    assert row.attempt_log.count() == MAX_ATTEMPTS


def test_fifty_failures_in_a_row_disable_the_endpoint_mail_the_owners_and_show_a_banner(
    client, shop, owner, staff, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500] * 60
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=48)
    for n in range(3):
        order(shop, f"CMD-{n}")
    with django_capture_on_commit_callbacks(execute=True):
        report = deliver_due(endpoint.pk)
    assert report.retrying == 2  # the 49th and 50th failures; the third waits for re-enabling
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_at
    assert "50" in endpoint.disabled_reason and "HTTP 500" in endpoint.disabled_reason
    assert len(receiver.requests) == 2
    # Later events wait for it (its server's outage loses nothing), unclaimed and unsent.
    order(shop, "CMD-late")
    assert WebhookDelivery.objects.count() == 4
    assert WebhookDelivery.objects.filter(claimed_until__isnull=False).count() == 0
    assert sweep_webhooks.apply().get() == 0
    # The owners' e-mail (not staff's), in the shop's language, naming the URL and why.
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert endpoint.url in message.body and endpoint.disabled_reason in message.body
    assert endpoint.secret not in message.body
    # The banner on the shop settings page, until it is enabled again.
    client.force_login(owner)
    page = client.get(reverse("dashboard:shop-settings")).content.decode()
    assert 'id="webhooks-disabled-banner"' in page and endpoint.url in page
    endpoint_enable(endpoint=endpoint, actor=owner)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0 and endpoint.failing_since is None
    page = client.get(reverse("dashboard:shop-settings")).content.decode()
    assert "webhooks-disabled-banner" not in page
    receiver.statuses = []
    assert deliver_due(endpoint.pk).delivered == 4  # what waited goes out, oldest first
    sent = [r.json()["data"]["reference"] for r in receiver.requests[2:]]
    assert sent == ["CMD-0", "CMD-1", "CMD-2", "CMD-late"]


def test_retries_of_one_delivery_count_once_toward_the_fifty(shop, endpoint, receiver):
    receiver.statuses = [500] * 5
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=48)
    order(shop)
    for _ in range(4):  # the same event, tried again and again: one failed delivery
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        deliver_due(endpoint.pk)
    endpoint.refresh_from_db()
    assert len(receiver.requests) == 4
    assert endpoint.enabled and endpoint.consecutive_failures == 49


def test_failing_for_three_days_disables_the_endpoint(
    shop, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=3, failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )
    order(shop)
    with django_capture_on_commit_callbacks(execute=True):
        deliver_due(endpoint.pk)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "3" in endpoint.disabled_reason
    assert len(mail.outbox) == 1


def test_two_days_of_failures_do_not(shop, endpoint, receiver):
    receiver.statuses = [500]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=3, failing_since=timezone.now() - timedelta(days=2)
    )
    order(shop)
    deliver_due(endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 4


def test_beats_sweep_sends_what_is_due_through_the_task(shop, endpoint, receiver):
    order(shop)
    assert not receiver.requests  # tasks run eagerly in tests: nothing is sent from the change itself
    assert sweep_webhooks.apply().get() == 1
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.get().state == "delivered"


def test_replay_sends_a_delivered_event_again_with_a_fresh_signature(shop, endpoint, receiver):
    order(shop)
    deliver_due(endpoint.pk)
    row = WebhookDelivery.objects.get()
    delivery_replay(delivery=row)
    row.refresh_from_db()
    assert row.state == "pending" and row.attempts == 0
    deliver_due(endpoint.pk)
    first, second = receiver.requests
    assert first.body == second.body and second.verified
    assert WebhookAttempt.objects.filter(delivery=row).count() == 2


def test_ping_goes_to_one_endpoint_and_a_rotated_secret_signs_at_once(shop, endpoint, receiver):
    endpoint_ping(endpoint=endpoint)
    new = endpoint_rotate_secret(endpoint=endpoint)
    assert new.startswith("whsec_") and new != receiver.secret
    old = receiver.secret
    receiver.secret = new
    deliver_due(endpoint.pk)
    [ping] = receiver.requests
    assert ping.headers["X-Coccinelle-Event"] == "ping" and ping.verified
    assert not verify(old, ping.headers["X-Coccinelle-Signature"], ping.body)


# --- where webhooks may go -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 as one decimal number
        "https://0x7f.1/hook",  # 127.0.0.1 in hexadecimal, short form
        "https://017700000001/hook",  # 127.0.0.1 in octal
        "https://127.1/hook",
        "https://[::ffff:7f00:1]/hook",  # IPv4-mapped loopback, hexadecimal
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 (well-known prefix) to cloud metadata
        "https://[64:ff9b:1::a00:1]/hook",  # local-use NAT64 prefix
        "https://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
        "https://localhost/hook",  # a name resolving to loopback
        "https://user:pass@93.184.215.14/hook",
        "not a url",
    ],
)
def test_private_loopback_and_plain_http_urls_are_refused(settings, url):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    assert url_problem(url)


def test_public_https_addresses_are_accepted(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    assert url_problem("https://93.184.215.14/hook") is None
    assert url_problem("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook") is None
    assert is_public("8.8.8.8") and not is_public("::ffff:10.0.0.1")


def test_the_setting_lets_loopback_and_http_through_for_tests(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    assert url_problem("http://127.0.0.1:8000/hook") is None
    assert url_problem("ftp://127.0.0.1/hook")  # still http(s) only


def test_the_service_refuses_what_the_guard_refuses(shop, settings):
    from django.core.exceptions import ValidationError

    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as refused:
        endpoint_create(shop=shop, url="https://127.0.0.1/hook", events=["order.created"])
    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_the_url_is_checked_again_at_delivery_time(shop, endpoint, receiver, settings):
    order(shop)
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False  # as if its name now resolved to a private address
    deliver_due(endpoint.pk)
    assert not receiver.requests
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "https" in attempt.error
    assert WebhookDelivery.objects.get().state == "pending"


def test_the_secret_is_stored_encrypted_and_never_logged(shop, receiver, caplog, settings):
    caplog.set_level(logging.DEBUG)
    receiver.statuses = [500]
    endpoint = endpoint_create(shop=shop, url=receiver.url, events=["order.created"])
    secret = endpoint.secret
    assert secret.startswith("whsec_") and secret not in endpoint.secret_encrypted
    order(shop)
    deliver_due(endpoint.pk)
    endpoint_rotate_secret(endpoint=endpoint)
    assert secret not in caplog.text and endpoint.secret not in caplog.text
    for attempt in WebhookAttempt.objects.all():
        assert secret not in json.dumps(attempt.request_headers) + attempt.error + attempt.response_body


def test_a_delivery_whose_lease_ran_out_and_was_taken_is_not_sent_again_by_its_first_worker(
    shop, endpoint, receiver
):
    # Worker A claims a batch, then is slow (a batch can outlast the lease: 50 sends of up to 10 s each);
    # worker B claims the rows once A's lease has run out and sends them. A must not send them again.
    for n in range(3):
        order(shop, reference=f"CMD-{n}")
    slow = outgoing_delivery._claim(endpoint, 50)
    WebhookDelivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert deliver_due(endpoint.pk).delivered == 3
    report = outgoing_delivery.DeliveryReport()
    for delivery in slow:
        outgoing_delivery.attempt_send(endpoint, delivery, report)
    assert len(receiver.requests) == 3
    assert WebhookAttempt.objects.count() == 3
    assert set(WebhookDelivery.objects.values_list("state", "attempts")) == {("delivered", 1)}


def test_a_batch_stops_when_a_person_disables_the_endpoint_meanwhile(shop, endpoint, receiver):
    for n in range(3):
        order(shop, reference=f"CMD-{n}")
    claimed = outgoing_delivery._claim(endpoint, 50)
    report = outgoing_delivery.DeliveryReport()
    outgoing_delivery.attempt_send(endpoint, claimed[0], report)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    for delivery in claimed[1:]:
        outgoing_delivery.attempt_send(endpoint, delivery, report)
    assert len(receiver.requests) == 1


def test_a_host_that_resolves_to_loopback_at_connection_time_is_refused(
    shop, endpoint, receiver, settings, monkeypatch
):
    # DNS rebinding: the name answers a public address to the check, then 127.0.0.1 to the connection.
    # The receiver is on loopback; the check is made to pass as it would with such a DNS server.
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    monkeypatch.setattr(outgoing_delivery, "url_problem", lambda url: None)
    order(shop)
    report = deliver_due(endpoint.pk)
    assert receiver.requests == []
    assert report.retrying == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "private or reserved address" in attempt.error


def test_only_the_start_of_a_huge_answer_is_read(shop, endpoint, receiver, monkeypatch):
    from crm_backends.outgoing import transport

    monkeypatch.setattr(transport, "READ_LIMIT", 10)
    order(shop)
    deliver_due(endpoint.pk)
    assert WebhookAttempt.objects.get().response_body == '{"received'


def test_the_readme_recipe_refuses_a_forged_header_without_raising():
    # A str compare_digest raises TypeError on non-ASCII text: a forger could turn a 401 into a 500.
    now = int(time.time())
    for header in (f"t={now},v1=é", "t=abc,v1=00", "v1=00", "nonsense", "", f"t={now - 301},v1=00"):
        assert verify("whsec_x", header, b"{}") is False


def test_two_workers_disabling_one_endpoint_send_one_e_mail(
    shop, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    # Two tasks of one endpoint (one running, one queued by a later commit) fail at the same moment.
    first, second = WebhookEndpoint.objects.get(pk=endpoint.pk), WebhookEndpoint.objects.get(pk=endpoint.pk)
    order(shop)
    attempt = WebhookAttempt(status_code=500)
    with django_capture_on_commit_callbacks(execute=True):
        outgoing_delivery.endpoint_disable_failing(first, last=attempt, too_many=True)
        outgoing_delivery.endpoint_disable_failing(second, last=attempt, too_many=True)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_delivery_erased_during_its_attempt_does_not_stop_the_batch(shop, endpoint, receiver, monkeypatch):
    # An erasure (or the endpoint's deletion) commits while the POST is on its way: the attempt has no
    # row to belong to any more, and the rest of the batch still goes.
    from crm_backends.outgoing import transport

    order(shop, "CMD-gone")
    order(shop, "CMD-kept")
    real_post = transport.post

    def post_while_erasing(url, **kwargs):
        if b"CMD-gone" in kwargs["body"]:
            WebhookEvent.objects.filter(payload__data__reference="CMD-gone").delete()
        return real_post(url, **kwargs)

    monkeypatch.setattr(transport, "post", post_while_erasing)
    report = deliver_due(endpoint.pk)
    assert report.delivered == 1
    assert [r.json()["data"]["reference"] for r in receiver.requests] == ["CMD-gone", "CMD-kept"]
    assert WebhookDelivery.objects.get().state == "delivered"


def test_an_endpoint_a_person_disabled_gets_no_events_one_stopped_by_failures_keeps_them(shop, endpoint):
    from crm_backends.outgoing.services import endpoint_disable

    endpoint_disable(endpoint=endpoint)
    order(shop, "PAUSED")
    assert not WebhookDelivery.objects.exists()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=50)
    endpoint.refresh_from_db()
    endpoint.save(update_fields=["consecutive_failures"])  # as the delivery task's save: the cache forgets
    order(shop, "STOPPED")
    assert [d.event.payload["data"]["reference"] for d in WebhookDelivery.objects.all()] == ["STOPPED"]


def test_the_disabled_e_mail_subject_is_plain_text(shop, owner, endpoint):
    """A subject is not HTML: a shop called "Lila & Co" is not "Lila &amp; Co" in the owner's inbox."""
    from crm_backends.outgoing.notify import owners_notify_disabled

    shop.name, shop.language = "Lila & Co", "en"
    shop.save()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason="HTTP 500 × 50")

    assert owners_notify_disabled(endpoint.pk) == 1
    assert mail.outbox[0].subject == "Lila & Co: a webhook endpoint was disabled"
