"""Security issue #8, item 5: no web request waits on a CRM.

A HubSpot connection whose rate limit is spent used to hold a signed inbound webhook for the whole
window (tasks ran inline without a broker), then answer 500. Now the webhook stores the event and
answers, the worker records the message and its outbox row, and the push happens in a worker, beat's
sweep or `sync_crm`, never inline, even with tasks running eagerly as they do in these tests.
"""

import pytest
from django.test import Client

from crm_backends import ratelimit, tasks
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.registry import backend_for
from customers.models import ChannelAddress, Customer
from tests.fakes.hubspot import FakeHubSpot
from tests.webhook_posting import SMS_URL, TWILIO_TOKEN, post_twilio

MESSAGE = {
    "MessageSid": "SM" + "5" * 32,
    "AccountSid": "AC" + "1" * 32,
    "From": "+33698765432",
    "To": "+33757000000",
    "Body": "Bonjour, je m'appelle Julie Martin. Vous ouvrez dimanche ?",
    "NumMedia": "0",
}


class WaitedOnTheCrm(Exception):
    pass


@pytest.fixture
def hubspot():
    with FakeHubSpot(token="hs-token") as fake:
        yield fake


@pytest.fixture
def connection(shop, hubspot, settings):
    settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = TWILIO_TOKEN, ""
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]  # the local fake stands in for api.hubapi.com
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=MESSAGE["To"])
    connection = CrmConnection(shop=shop, backend="hubspot", options={"api_base": hubspot.url})
    connection.set_secrets({"token": "hs-token"})
    connection.save()
    return connection


@pytest.fixture
def spent_rate_limit(connection, monkeypatch):
    """The connection's one request per window is used up: the next push would have to wait. The wait
    is recorded and cut short, so that old code fails here at once instead of hanging."""
    connection.options = {**connection.options, "rate_limit": 1, "rate_window_seconds": 30}
    connection.save()
    monkeypatch.setattr(ratelimit, "_limiters", {})  # this test's limiters only
    limiter = backend_for(connection).limiter  # the one every push for this credential shares
    limiter.acquire()
    waits = []

    def wait(seconds):
        waits.append(seconds)
        raise WaitedOnTheCrm(f"a push waited {seconds:.1f}s for the CRM's rate limit")

    monkeypatch.setattr(limiter, "_sleep", wait)
    return waits


def test_a_signed_webhook_never_waits_on_a_spent_crm_rate_limit(
    shop, owner, connection, hubspot, spent_rate_limit, monkeypatch
):
    drains = []
    real_drain = tasks.sync_drain
    monkeypatch.setattr(tasks, "sync_drain", lambda c, **kw: drains.append(c.pk) or real_drain(c, **kw))

    # Commit hooks run, as after a real request: the event is processed (eager "worker") and the
    # message recorded, which queues the CRM push.
    response = post_twilio(Client(), SMS_URL, MESSAGE)

    assert response.status_code == 200
    assert drains == [] and spent_rate_limit == [] and hubspot.requests == []
    # The change is not lost: pending in the outbox, and the owner sees it in the sync queue.
    customer = Customer.objects.get(shop=shop, phone=MESSAGE["From"])
    assert SyncItem.objects.get(kind="customer", customer=customer).state == "pending"
    assert SyncItem.objects.filter(kind="interaction", customer=customer, state="pending").exists()
    assert CustomerSync.objects.get(customer=customer).status == "pending"
    client = Client()
    client.force_login(owner)
    queue = client.get("/admin/crm_backends/syncitem/")
    assert queue.status_code == 200 and "Julie" in queue.content.decode()


def test_beat_sweep_pushes_what_the_webhook_left_pending(shop, connection, hubspot):
    assert post_twilio(Client(), SMS_URL, MESSAGE).status_code == 200
    assert hubspot.requests == []

    # What Celery beat sends every CRM_SYNC_SWEEP_SECONDS; eager here, as with CELERY_TASK_ALWAYS_EAGER=1.
    assert tasks.sweep_outbox.delay().get() == 1

    customer = Customer.objects.get(shop=shop, phone=MESSAGE["From"])
    sync = CustomerSync.objects.get(customer=customer)
    assert sync.status == "synced" and hubspot.contacts[sync.external_id]["firstname"] == "Julie"
    assert hubspot.notes and not SyncItem.objects.filter(customer=customer).exists()
