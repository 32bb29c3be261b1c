"""Which of a shop's endpoints want which events, cached (coccinelle/cache.py): every change to a
customer and every message asks, and most shops have no endpoint at all, so the answer for them must
cost no query.

The cached value is plain: {} for "no endpoint receiving", else {"slug": shop slug, "events": {type:
[endpoint ids]}}; never a URL or a secret. Saving or deleting an endpoint, or saving its shop, forgets
the key.
"""

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from coccinelle.cache import forget, remember
from crm_backends.outgoing.models import WebhookEndpoint
from customers.models import Shop


def subscriptions(shop_id) -> dict:
    return remember(_key(shop_id), lambda: _subscriptions(shop_id))


def endpoint_ids_for(shop_id, event_type: str) -> list[int]:
    """The shop's endpoints that receive `event_type`: enabled, or stopped by failures (one cached read,
    no query)."""
    return (subscriptions(shop_id) or {}).get("events", {}).get(event_type, [])


def shop_slug(shop_id) -> str:
    return (subscriptions(shop_id) or {}).get("slug", "")


def _subscriptions(shop_id) -> dict:
    # An endpoint stopped by failures still has its events queued (sent when it is enabled again: its
    # server's outage loses nothing); one a person disabled does not.
    receiving = Q(enabled=True) | Q(failing_since__isnull=False) | Q(consecutive_failures__gt=0)
    rows = list(
        WebhookEndpoint.objects.filter(receiving, shop_id=shop_id).values_list("pk", "events", "shop__slug")
    )
    if not rows:
        return {}
    events: dict[str, list[int]] = {}
    for pk, types, _slug in rows:
        for event_type in types or ():
            events.setdefault(event_type, []).append(pk)
    return {"slug": rows[0][2], "events": events}


def _key(shop_id) -> str:
    return f"outgoing-webhooks:{int(shop_id)}"


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="crm_backends.outgoing.cached.endpoint_saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="crm_backends.outgoing.cached.endpoint_deleted")
def _endpoint_changed(sender, instance: WebhookEndpoint, **kwargs):
    forget([_key(instance.shop_id)])


@receiver(post_save, sender=Shop, dispatch_uid="crm_backends.outgoing.cached.shop_saved")
def _shop_saved(sender, instance: Shop, **kwargs):
    forget([_key(instance.pk)])  # its slug is in the value; a new shop may reuse a rolled-back id
