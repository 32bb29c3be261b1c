"""Reads of outgoing webhooks for the pages, the admin, and later the REST API: always through a shop."""

from django.db.models import OuterRef, Prefetch, Q, Subquery

from crm_backends.outgoing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoints_for_shop(shop):
    """The shop's endpoints, each with `last_state` and `last_status_code` of its latest delivery."""
    latest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-pk")
    return WebhookEndpoint.objects.filter(shop=shop).annotate(
        last_state=Subquery(latest.values("state")[:1]),
        last_status_code=Subquery(latest.values("last_status_code")[:1]),
    )


def endpoint_for_shop(shop, endpoint_id):
    """One of the shop's endpoints, or None (another shop's id is None too)."""
    return WebhookEndpoint.objects.filter(shop=shop, pk=endpoint_id).first()


def deliveries_for_endpoint(endpoint, *, limit: int | None = 50):
    """Its deliveries, newest first, with their events and attempts (newest attempt first)."""
    attempts = Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-pk"))
    rows = endpoint.deliveries.select_related("event").prefetch_related(attempts).order_by("-pk")
    return rows[:limit] if limit else rows


def delivery_for_shop(shop, delivery_id):
    return (
        WebhookDelivery.objects.filter(endpoint__shop=shop, pk=delivery_id).select_related("endpoint").first()
    )


def shop_disabled_endpoints(shop) -> list[WebhookEndpoint]:
    """What the shop settings page's banner names: endpoints stopped because they kept failing (one a
    person disabled on purpose is no alarm; its own page says it is disabled)."""
    failing = Q(failing_since__isnull=False) | Q(consecutive_failures__gt=0)
    rows = WebhookEndpoint.objects.filter(failing, shop=shop, enabled=False)
    return list(rows.only("pk", "url", "disabled_reason"))
