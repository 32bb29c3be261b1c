"""/api/v1/webhooks/: owners' keys manage the shop's outgoing webhook endpoints through the API, with the
pages' rules (URL checks, event names), see every delivery with its attempts, and replay one; nothing
of another shop is in reach, and keys below the owner scope are refused."""

import pytest

from crm_backends.outgoing.delivery import deliver_due
from crm_backends.outgoing.models import WebhookDelivery, WebhookEndpoint
from crm_backends.outgoing.services import endpoint_create
from customers.models import Order
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def test_an_owner_key_subscribes_and_the_secret_it_gets_once_verifies_deliveries(shop, api_client, receiver):
    client = api_client(shop, "owner")
    response = client.post(URL, {"url": receiver.url, "events": ["order.created"]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["events"] == ["order.created"] and body["enabled"] is True
    assert body["secret"].startswith("whsec_") and "no-store" in response["Cache-Control"]
    assert "secret" not in client.get(f"{URL}{body['id']}/").json()
    receiver.secret = body["secret"]

    Order.objects.create(shop=shop, reference="A-1", amount="10.00")
    deliver_due(body["id"])
    [request] = receiver.requests
    assert request.verified and request.json()["type"] == "order.created"

    deliveries = client.get(f"{URL}{body['id']}/deliveries/").json()["results"]
    assert [d["state"] for d in deliveries] == ["delivered"]
    assert deliveries[0]["attempt_log"][0]["status_code"] == 200
    assert deliveries[0]["event"]["data"]["reference"] == "A-1"


def test_replay_queues_a_delivery_again_and_rotate_gives_a_new_secret(shop, api_client, receiver):
    client = api_client(shop, "owner")
    endpoint = endpoint_create(shop=shop, url=receiver.url, events=["order.created"])
    receiver.secret = endpoint.secret
    Order.objects.create(shop=shop, reference="A-2", amount="10.00")
    deliver_due(endpoint.pk)
    # The replay URL is built from what the deliveries list says.
    (listed,) = client.get(f"{URL}{endpoint.pk}/deliveries/").json()["results"]
    assert listed["uid"] == WebhookDelivery.objects.get().uid
    replayed = client.post(f"{URL}{endpoint.pk}/deliveries/{listed['id']}/replay/")
    assert replayed.status_code == 202 and replayed.json()["state"] == "pending"

    answer = client.post(f"{URL}{endpoint.pk}/rotate-secret/")
    rotated = answer.json()["secret"]
    assert "no-store" in answer["Cache-Control"]
    assert rotated != endpoint.secret
    receiver.secret = rotated
    deliver_due(endpoint.pk)
    assert [r.verified for r in receiver.requests] == [True, True]
    assert WebhookDelivery.objects.get().attempt_log.count() == 2


def test_urls_and_events_follow_the_pages_rules(shop, api_client, settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    client = api_client(shop, "owner")
    loopback = client.post(URL, {"url": "https://127.0.0.1/hook", "events": ["order.created"]}, format="json")
    assert loopback.status_code == 400 and set(loopback.json()["fields"]) == {"url"}
    unknown = client.post(URL, {"url": "https://93.184.215.14/h", "events": ["order.paid"]}, format="json")
    assert unknown.status_code == 400 and "events.0" in unknown.json()["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_edit_disable_enable_and_delete(shop, api_client):
    client = api_client(shop, "owner")
    endpoint = endpoint_create(shop=shop, url="http://127.0.0.1:9/a/", events=["order.created"])
    edited = client.patch(f"{URL}{endpoint.pk}/", {"events": ["customer.created"]}, format="json")
    assert edited.status_code == 200 and edited.json()["events"] == ["customer.created"]
    assert client.post(f"{URL}{endpoint.pk}/disable/").json()["enabled"] is False
    assert client.post(f"{URL}{endpoint.pk}/enable/").json()["enabled"] is True
    assert client.delete(f"{URL}{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("scope", ["read", "write"])
def test_keys_below_owner_are_refused_even_to_read(shop, api_client, scope):
    endpoint_create(shop=shop, url="http://127.0.0.1:9/a/", events=["order.created"])
    client = api_client(shop, scope)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"url": "http://127.0.0.1:9/b/", "events": ["order.created"]}).status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_another_shops_endpoints_and_deliveries_are_404(shop, other_shop, api_client):
    theirs = endpoint_create(shop=other_shop, url="http://127.0.0.1:9/b/", events=["order.created"])
    Order.objects.create(shop=other_shop, reference="B-1", amount="5.00")
    delivery = WebhookDelivery.objects.get(endpoint=theirs)
    client = api_client(shop, "owner")
    assert client.get(URL).json()["results"] == []
    for method, path in [
        ("get", f"{URL}{theirs.pk}/"),
        ("patch", f"{URL}{theirs.pk}/"),
        ("delete", f"{URL}{theirs.pk}/"),
        ("post", f"{URL}{theirs.pk}/disable/"),
        ("post", f"{URL}{theirs.pk}/rotate-secret/"),
        ("post", f"{URL}{theirs.pk}/ping/"),
        ("get", f"{URL}{theirs.pk}/deliveries/"),
        ("post", f"{URL}{theirs.pk}/deliveries/{delivery.pk}/replay/"),
    ]:
        assert getattr(client, method)(path, {}, format="json").status_code == 404, (method, path)
    theirs.refresh_from_db()
    assert theirs.enabled and WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
    # Its own endpoint cannot reach their delivery either.
    mine = endpoint_create(shop=shop, url="http://127.0.0.1:9/a/", events=["order.created"])
    assert client.post(f"{URL}{mine.pk}/deliveries/{delivery.pk}/replay/").status_code == 404
