"""Saved replies: a shop's ready-made answers, and the placeholders filled in for one customer.

The same placeholders serve WhatsApp templates' parameters (webhooks.wa_templates), so that an owner
learns one list: {first_name}, {last_name}, {shop_name}, {shop_hours}, {shop_address}, {shop_phone},
{shop_website}.
"""

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, Shop
from shopinfo.selectors import shop_hours, shop_zone
from webhooks.models import SavedReply
from webhooks.replies.hours_text import format_week

PLACEHOLDERS = (
    "first_name",
    "last_name",
    "shop_name",
    "shop_hours",
    "shop_address",
    "shop_phone",
    "shop_website",
)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class SavedReplyNameTaken(Exception):
    """Another saved reply of the shop has this name."""


def placeholder_values(customer: Customer) -> dict[str, str]:
    shop = customer.shop
    return {
        "first_name": customer.first_name or "",
        "last_name": customer.last_name or "",
        "shop_name": shop.name,
        "shop_hours": _hours_text(shop, customer.language or shop.language),
        "shop_address": shop.address.strip(),
        "shop_phone": shop.contact_phone,
        "shop_website": shop.website,
    }


def _hours_text(shop: Shop, language: str) -> str:
    """The week in the customer's language when the shop set it; else the owner's free text."""
    now = timezone.localtime(timezone=shop_zone(shop))
    hours = shop_hours(shop, today=now.date())
    if hours is None or not hours.is_set():
        return shop.opening_hours.strip()
    return format_week(language, hours, now)


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders; anything else in braces stays as typed (a price "{10 €}" is text)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def text_for(reply: SavedReply, *, language: str, fallback: str) -> str:
    """The reply's text in `language`, else in `fallback` (the shop's), else the first one written."""
    texts = {code: text for code, text in (reply.texts or {}).items() if text}
    return texts.get(language) or texts.get(fallback) or next(iter(texts.values()), "")


def saved_replies_for(customer: Customer) -> list[dict]:
    """The shop's saved replies as the send box offers them: name and text ready for this customer."""
    values = placeholder_values(customer)
    language = customer_language(customer)
    replies = SavedReply.objects.filter(shop_id=customer.shop_id).order_by("name", "pk")
    return [
        {
            "id": reply.pk,
            "name": reply.name,
            "text": fill(text_for(reply, language=language, fallback=customer.shop.language), values),
        }
        for reply in replies
    ]


def customer_language(customer: Customer) -> str:
    language = (getattr(customer, "language", "") or "").split("-")[0].lower()
    supported = {code for code, _ in settings.LANGUAGES}
    return language if language in supported else customer.shop.language


def saved_reply_save(
    *, shop: Shop, name: str, texts: dict[str, str], reply: SavedReply | None = None
) -> SavedReply:
    """Create or update a saved reply of `shop`; raise SavedReplyNameTaken for a duplicate name."""
    reply = reply or SavedReply(shop=shop)
    if reply.shop_id != shop.pk:
        raise ValueError("a saved reply is edited within its own shop")
    reply.name = name
    reply.texts = {code: text for code, text in texts.items() if text}
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError as exc:
        raise SavedReplyNameTaken(name) from exc
    return reply


def saved_reply_delete(*, shop: Shop, reply_id: int) -> bool:
    deleted, _ = SavedReply.objects.filter(shop=shop, pk=reply_id).delete()
    return bool(deleted)
