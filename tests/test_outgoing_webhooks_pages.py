"""The owners' outgoing-webhook pages, the admin and the redrive command: owners manage their own shop's
endpoints (staff may not), another shop's are a 404, its rows are out of reach in the admin, the
command touches only the shop it is given, and the secret shows only on the owner's endpoint page."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm_backends.outgoing.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint, WebhookEvent
from crm_backends.outgoing.outbox import events_write
from crm_backends.outgoing.services import endpoint_create

ENDPOINTS_ADMIN = "/admin/crm_backends/webhookendpoint/"
DELIVERIES_ADMIN = "/admin/crm_backends/webhookdelivery/"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def endpoint(shop):
    return endpoint_create(shop=shop, url="http://127.0.0.1:9/shop-a/", events=list(EVENT_TYPES))


@pytest.fixture
def other_endpoint(other_shop):
    return endpoint_create(shop=other_shop, url="http://127.0.0.1:9/shop-b/", events=["order.created"])


def delivery_for(endpoint, state="failed", *, days_ago=0):
    data = {1: {"id": 1, "customer_id": None, "reference": "R", "amount": "1.00", "currency": "EUR"}}
    (event,) = events_write(
        shop_id=endpoint.shop_id, type="order.created", data=data, endpoint_ids=[endpoint.pk]
    )
    created = timezone.now() - timedelta(days=days_ago)
    WebhookEvent.objects.filter(pk=event.pk).update(created_at=created)
    row = event.deliveries.get()
    WebhookDelivery.objects.filter(pk=row.pk).update(state=state, attempts=9 if state == "failed" else 1)
    return row


# --- pages -------------------------------------------------------------------------------------------------


def test_owner_adds_an_endpoint_and_reads_its_secret_on_its_page(client, owner, shop):
    client.force_login(owner)
    response = client.post(
        reverse("outgoing-webhooks"),
        {"url": "http://127.0.0.1:9/new/", "events": ["customer.created", "message.received"]},
    )
    endpoint = WebhookEndpoint.objects.get(shop=shop)
    assert response.status_code == 302 and response["Location"] == reverse(
        "outgoing-webhook", args=[endpoint.pk]
    )
    assert endpoint.events == ["customer.created", "message.received"]
    answer = client.get(response["Location"])
    page = answer.content.decode()
    assert endpoint.secret in page and 'id="webhook-secret"' in page
    assert "no-store" in answer["Cache-Control"]  # the secret is kept by no browser or proxy cache
    listing = client.get(reverse("outgoing-webhooks")).content.decode()
    assert "http://127.0.0.1:9/new/" in listing and endpoint.secret not in listing


def test_a_refused_url_is_a_form_error(client, owner, shop, settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(owner)
    for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://[::1]/hook"):
        response = client.post(reverse("outgoing-webhooks"), {"url": url, "events": ["order.created"]})
        assert response.status_code == 400
        assert 'id="id_endpoint_url_error"' in response.content.decode()
    response = client.post(reverse("outgoing-webhooks"), {"url": "https://93.184.215.14/h", "events": []})
    assert response.status_code == 400 and 'id="id_endpoint_events_error"' in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_owner_edits_disables_enables_rotates_pings_replays_and_deletes(client, owner, endpoint):
    client.force_login(owner)
    page = reverse("outgoing-webhook", args=[endpoint.pk])
    response = client.post(page, {"url": "http://127.0.0.1:9/edited/", "events": ["order.created"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/edited/" and endpoint.events == ["order.created"]

    client.post(reverse("outgoing-webhook-disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=7)
    client.post(reverse("outgoing-webhook-enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0

    secret = endpoint.secret
    client.post(reverse("outgoing-webhook-rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != secret and endpoint.secret in client.get(page).content.decode()

    client.post(reverse("outgoing-webhook-ping", args=[endpoint.pk]))
    ping = WebhookDelivery.objects.get(endpoint=endpoint, event__type="ping")
    WebhookDelivery.objects.filter(pk=ping.pk).update(state="failed", attempts=9)
    shown = client.get(page).content.decode()
    assert ping.event.uid in shown and reverse("outgoing-webhook-replay", args=[ping.pk]) in shown
    client.post(reverse("outgoing-webhook-replay", args=[ping.pk]))
    ping.refresh_from_db()
    assert ping.state == "pending" and ping.attempts == 0

    # Deleting asks first (a GET shows what goes), then the POST deletes.
    asked = client.get(reverse("outgoing-webhook-delete", args=[endpoint.pk]))
    assert asked.status_code == 200 and endpoint.url in asked.content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    client.post(reverse("outgoing-webhook-delete", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.exists() and not WebhookEvent.objects.exists()


def test_the_shop_settings_page_links_to_the_webhooks(client, owner):
    client.force_login(owner)
    assert reverse("outgoing-webhooks") in client.get(reverse("dashboard:shop-settings")).content.decode()


def test_staff_cannot_manage_webhooks(client, staff, endpoint):
    failed = delivery_for(endpoint)
    client.force_login(staff)
    assert client.get(reverse("outgoing-webhooks")).status_code == 403
    assert client.get(reverse("outgoing-webhook", args=[endpoint.pk])).status_code == 403
    for name in ("enable", "disable", "delete", "rotate", "ping"):
        assert client.post(reverse(f"outgoing-webhook-{name}", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("outgoing-webhook-replay", args=[failed.pk])).status_code == 403
    assert client.get(reverse("outgoing-webhook-delete", args=[endpoint.pk])).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.enabled and WebhookEndpoint.objects.count() == 1


def test_another_shops_owner_can_neither_see_nor_touch_them(client, other_owner, endpoint, other_endpoint):
    failed = delivery_for(endpoint)
    client.force_login(other_owner)
    listing = client.get(reverse("outgoing-webhooks")).content.decode()
    assert other_endpoint.url in listing and endpoint.url not in listing
    assert client.get(reverse("outgoing-webhook", args=[endpoint.pk])).status_code == 404
    assert (
        client.post(
            reverse("outgoing-webhook", args=[endpoint.pk]), {"url": "http://x/", "events": ["order.created"]}
        ).status_code
        == 404
    )
    for name in ("enable", "disable", "delete", "rotate", "ping"):
        assert client.post(reverse(f"outgoing-webhook-{name}", args=[endpoint.pk])).status_code == 404
    assert client.get(reverse("outgoing-webhook-delete", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("outgoing-webhook-replay", args=[failed.pk])).status_code == 404
    failed.refresh_from_db()
    endpoint.refresh_from_db()
    assert failed.state == "failed" and endpoint.enabled and endpoint.url.endswith("/shop-a/")
    assert not WebhookDelivery.objects.filter(event__type="ping").exists()


# --- admin -------------------------------------------------------------------------------------------------


def test_the_admin_lists_each_owner_their_shops_rows_without_the_secret(
    client, owner, other_owner, endpoint, other_endpoint
):
    mine, theirs = delivery_for(endpoint), delivery_for(other_endpoint)
    client.force_login(other_owner)
    page = client.get(ENDPOINTS_ADMIN).content.decode()
    assert other_endpoint.url in page and endpoint.url not in page
    assert other_endpoint.secret not in page and "whsec_" not in page
    deliveries = client.get(DELIVERIES_ADMIN).content.decode()
    assert theirs.uid in deliveries and mine.uid not in deliveries
    assert client.get(f"{ENDPOINTS_ADMIN}{endpoint.pk}/change/").status_code == 404
    assert client.get(f"{DELIVERIES_ADMIN}{mine.pk}/change/").status_code == 404
    detail = client.get(f"{ENDPOINTS_ADMIN}{other_endpoint.pk}/change/").content.decode()
    assert other_endpoint.url in detail and "whsec_" not in detail
    # Replaying a row of another shop through the action does nothing to it.
    client.post(DELIVERIES_ADMIN, {"action": "replay", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.state == "failed" and theirs.state == "pending"


def test_staff_do_not_reach_the_webhooks_admin(client, staff, endpoint):
    client.force_login(staff)
    assert client.get(ENDPOINTS_ADMIN).status_code in (302, 403, 404)
    assert client.get(DELIVERIES_ADMIN).status_code in (302, 403, 404)


def test_the_admin_enable_action_resets_the_counters(client, owner, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, consecutive_failures=50, disabled_reason="x"
    )
    client.force_login(owner)
    client.post(ENDPOINTS_ADMIN, {"action": "enable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0 and endpoint.disabled_reason == ""


# --- the command -------------------------------------------------------------------------------------------


def redrive(*args):
    out = StringIO()
    call_command("redrive_webhooks", *args, stdout=out)
    return out.getvalue()


def test_redrive_queues_the_shops_deliveries_again_and_no_other_shops(
    shop, other_shop, endpoint, other_endpoint
):
    failed, delivered = delivery_for(endpoint), delivery_for(endpoint, "delivered")
    old = delivery_for(endpoint, days_ago=10)
    theirs = delivery_for(other_endpoint)
    output = redrive(
        "--shop", shop.slug, "--failed", "--since", (timezone.now() - timedelta(days=1)).date().isoformat()
    )
    assert output.startswith("1 delivery(ies)")
    states = {d.pk: d.state for d in WebhookDelivery.objects.all()}
    assert states == {failed.pk: "pending", delivered.pk: "delivered", old.pk: "failed", theirs.pk: "failed"}
    assert redrive("--shop", shop.slug).startswith("3 delivery(ies)")
    assert WebhookDelivery.objects.get(pk=theirs.pk).state == "failed"


def test_redrive_refuses_a_bad_date_and_an_unknown_shop(shop):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        redrive("--shop", shop.slug, "--since", "yesterday")
    with pytest.raises(CommandError):
        redrive("--shop", "nope")


def test_the_pages_read_in_the_shops_language(client, owner, endpoint):
    client.force_login(owner)
    listing = client.get(reverse("outgoing-webhooks")).content.decode()
    assert "Ajouter une adresse" in listing and "un client est créé" in listing
    page = client.get(reverse("outgoing-webhook", args=[endpoint.pk])).content.decode()
    assert "Secret de signature" in page and "Envois récents" in page


def test_an_endpoint_an_owner_disabled_on_purpose_raises_no_banner(client, owner, endpoint):
    client.force_login(owner)
    client.post(reverse("outgoing-webhook-disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "webhooks-disabled-banner" not in client.get(reverse("dashboard:shop-settings")).content.decode()
    # The same endpoint stopped after failures does.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=50)
    assert "webhooks-disabled-banner" in client.get(reverse("dashboard:shop-settings")).content.decode()
