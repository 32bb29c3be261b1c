"""GDPR: give a customer everything held on them, and erase them on request.

Erasure deletes the person (profile, messages, notes, history) but keeps their orders, detached and
anonymous, because the shop's accounts must still add up.
"""

import logging

from django.db import transaction
from django.utils import timezone

from customers import events
from customers.models import AuditEntry, Customer

logger = logging.getLogger(__name__)

PROFILE_FIELDS = [
    "id",
    "first_name",
    "last_name",
    "phone",
    "whatsapp_user_id",
    "email",
    "preferred_channel",
    "language",
    "segment",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "opted_out_at",
    "needs_attention",
    "first_contact_at",
    "last_contact_at",
    "source",
    "created_at",
    "updated_at",
]


# What an export keeps of a file a customer sent: never the provider's URL or media id (a Twilio
# medium's URL opens with the account's credentials; Meta's id fetches the bytes), as the messages list.
EXPORT_MEDIA_HIDDEN = ("url", "media_id")


def _exported_media(media) -> list:
    return [
        {key: value for key, value in item.items() if key not in EXPORT_MEDIA_HIDDEN}
        for item in media or []
        if isinstance(item, dict)
    ]


def customer_export_data(*, customer: Customer) -> dict:
    """Everything Coccinelle holds on one customer, as JSON-ready data (GDPR right of access)."""
    return {
        "exported_at": timezone.now().isoformat(),
        "shop": {"name": customer.shop.name, "slug": customer.shop.slug},
        "profile": {field: _jsonable(getattr(customer, field)) for field in PROFILE_FIELDS},
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "interactions": [
            {
                "occurred_at": _jsonable(i.occurred_at),
                "channel": i.channel,
                "direction": i.direction,
                "body": i.body,
                "media": _exported_media(i.media),
                "location": i.location,
                "button_reply": i.button_reply,
                "status": i.status,
                "provider": i.provider,
                "provider_message_id": i.provider_message_id,
            }
            for i in customer.interactions.order_by("occurred_at", "id")
        ],
        "notes": [
            {"created_at": _jsonable(n.created_at), "body": n.body, "author": _username(n.author)}
            for n in customer.notes.select_related("author").order_by("created_at", "id")
        ],
        "orders": [
            {
                "reference": o.reference,
                "amount": str(o.amount),
                "currency": o.currency,
                "placed_at": _jsonable(o.placed_at),
            }
            for o in customer.orders.order_by("placed_at", "id")
        ],
        "history": [
            {"created_at": _jsonable(a.created_at), "action": a.action, "details": a.details}
            for a in customer.audit_entries.order_by("created_at", "id")
        ],
    }


def customer_erase(*, customer: Customer, actor=None) -> AuditEntry:
    """Erase a customer (GDPR right to erasure); orders stay, anonymous, for the accounts."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        orders_kept = customer.orders.update(customer=None)
        customer_id, shop_id = customer.pk, customer.shop_id
        # What other apps hold on them (the raw webhook events) goes in the same transaction.
        events.customer_erasing(shop_id=shop_id, customer_id=customer_id)
        # Interactions, notes and the customer's audit history (which holds merged snapshots) cascade.
        customer.delete()
        entry = AuditEntry.objects.create(
            shop_id=shop_id,
            customer=None,
            action=AuditEntry.Action.ERASE,
            actor=actor,
            details={"customer_id": customer_id, "orders_kept_anonymously": orders_kept},
        )
    logger.info("customer %s erased on request; %s orders kept anonymously", customer_id, orders_kept)
    return entry


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _username(user):
    return user.get_username() if user else None
