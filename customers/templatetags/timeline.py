"""What the timeline needs to show every kind of message a customer sends, readable by a person.

The per-type details are Interaction.content (keys in webhooks/inbound.py, read here as plain data:
customers imports nothing from webhooks). Everything returned is text for the template to escape.
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import template
from django.utils.translation import gettext_lazy as _

from customers.models import Interaction

register = template.Library()

MEDIA_LABELS = {
    "image": _("Photo"),
    "video": _("Video"),
    "audio": _("Audio"),
    "sticker": _("Sticker"),
    "document": _("Document"),
}


# Whole sentences per kind (not "{kind} …"): French agrees them in gender ("téléchargée"/"téléchargé").
MEDIA_STATES = {
    ("image", "pending"): _("Photo not downloaded yet"),
    ("image", "failed"): _("Photo could not be downloaded"),
    ("video", "pending"): _("Video not downloaded yet"),
    ("video", "failed"): _("Video could not be downloaded"),
    ("audio", "pending"): _("Audio not downloaded yet"),
    ("audio", "failed"): _("Audio could not be downloaded"),
    ("voice", "pending"): _("Voice message not downloaded yet"),
    ("voice", "failed"): _("Voice message could not be downloaded"),
    ("sticker", "pending"): _("Sticker not downloaded yet"),
    ("sticker", "failed"): _("Sticker could not be downloaded"),
    ("document", "pending"): _("Document not downloaded yet"),
    ("document", "failed"): _("Document could not be downloaded"),
    ("", "pending"): _("Attachment not downloaded yet"),
    ("", "failed"): _("Attachment could not be downloaded"),
}


def _media_kind(item, media) -> str:
    """ "voice", "image", "document"…: from the message type, else the file's MIME type ("" if unknown)."""
    if item.message_type == "audio" and (item.content or {}).get("voice"):
        return "voice"
    kind = item.message_type if item.message_type in MEDIA_LABELS else ""
    if not kind:
        kind = str((media or {}).get("content_type") or "").split("/")[0]
        kind = "document" if kind in ("application", "text") else kind  # Twilio says only the MIME type
    return kind if kind in MEDIA_LABELS else ""


@register.simple_tag
def media_label(item, media):
    """ "Voice message", "Photo", "Document"…: from the message type, else the file's MIME type."""
    kind = _media_kind(item, media)
    if kind == "voice":
        return _("Voice message")
    return MEDIA_LABELS.get(kind, _("Attachment"))


@register.simple_tag
def media_state(item, media):
    """A short sentence for a file not shown yet: "Photo not downloaded yet", "Photo could not be
    downloaded" (the technical reason, in English from webhooks.media, is the template's to tuck away)."""
    state = "failed" if (media or {}).get("state") == "failed" else "pending"
    return MEDIA_STATES[(_media_kind(item, media), state)]


@register.filter
def map_url(location):
    """An OpenStreetMap link centred on a shared location (no script, no tile from elsewhere)."""
    try:
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        return ""
    query = urlencode({"mlat": f"{latitude:.6f}", "mlon": f"{longitude:.6f}"})
    return f"https://www.openstreetmap.org/?{query}#map=17/{latitude:.6f}/{longitude:.6f}"


@register.filter
def order_lines(order):
    """Each product line of an order: quantity, product id, unit price and line total as text."""
    lines = []
    for item in (order or {}).get("items") or []:
        quantity, price = _decimal(item.get("quantity")), _decimal(item.get("item_price"))
        currency = str(item.get("currency") or "")
        total = quantity * price if quantity is not None and price is not None else None
        lines.append(
            {
                "product": str(item.get("product_retailer_id") or "?"),
                "quantity": _plain(quantity) if quantity is not None else "?",
                "price": _money(price, currency),
                "total": _money(total, currency),
            }
        )
    return lines


@register.filter
def order_total(order):
    """The order's total per currency ("85.00 USD"), or "" when a price or quantity is missing."""
    totals: dict[str, Decimal] = {}
    for item in (order or {}).get("items") or []:
        quantity, price = _decimal(item.get("quantity")), _decimal(item.get("item_price"))
        if quantity is None or price is None:
            return ""
        currency = str(item.get("currency") or "")
        totals[currency] = totals.get(currency, Decimal(0)) + quantity * price
    return " + ".join(_money(total, currency) for currency, total in totals.items())


@register.simple_tag
def quoted_message(item):
    """The customer's or the shop's message this one answers, found by provider id among this
    customer's interactions; None when we do not have it (one query, only for answers)."""
    if not item.context_message_id:
        return None
    return (
        Interaction.objects.filter(customer_id=item.customer_id, provider_message_id=item.context_message_id)
        .only("body", "message_type", "button_reply", "direction", "deleted_at")
        .first()
    )


@register.filter
def shown_reactions(item):
    """The reactions still there (a removed one is kept as an empty emoji so a replay cannot revive it)."""
    return [r for r in (item.reactions or []) if r.get("emoji")]


@register.filter
def iso_datetime(value):
    """A datetime kept as ISO text in a JSON field (edits' replaced_at), for the `date` filter."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _decimal(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    return str(int(number)) if number == number.to_integral() else str(number)


def _money(amount, currency: str) -> str:
    if amount is None:
        return "?"
    try:
        shown = amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # beyond what two decimals can hold: shown as sent, never a 500
        shown = amount
    return f"{shown} {currency}".strip()
