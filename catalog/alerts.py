"""Back in stock: the one message a customer gets when a variant they waited for is available again.

A customer asks for a variant that is out; the answer offers to tell them when it is back; their "oui"
makes a StockAlert (catalog.conversation). Celery beat (catalog.tasks.send_stock_alerts, every few
minutes) then looks for waiting alerts whose variant has units available again, whatever brought them
back (a delivery counted in the admin, the e-shop sync, the API, a hold released or expired), and
sends each one message, within the sending rules (catalog.reminders.reminder_channel: WhatsApp while
its 24-hour window is open, else SMS; nothing to an opted-out customer). The message offers to hold
the variant, and the customer's "oui" to it makes the hold. An alert no channel could carry within
ALERT_DAYS lapses: a message months later about something asked once would be out of the blue.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import conversation_texts as texts
from catalog.models import StockAlert, Variant
from catalog.reminders import reminder_channel
from catalog.selectors import variants_with_available
from customers.models import Customer
from webhooks.autoreply import queue_send, record_outbound, shop_info
from webhooks.outbound import SendRefused, default_provider
from webhooks.replies.engine import clean_first_name, wrap

logger = logging.getLogger(__name__)

ALERT_DAYS = 60
# A back-in-stock message says how many are left when few are (like the stock answer).
LOW_STOCK = 3
BATCH = 200


def alert_subscribe(*, customer: Customer, variant: Variant) -> StockAlert:
    """The customer's waiting alert for `variant` (made, or the one already waiting)."""
    if customer.shop_id != variant.shop_id:
        raise ValueError("alert_subscribe: the customer and the variant belong to different shops")
    waiting = {"customer": customer, "variant": variant, "state": StockAlert.State.WAITING}
    try:
        with transaction.atomic():
            alert, _created = StockAlert.objects.get_or_create(
                **waiting, defaults={"shop_id": variant.shop_id}
            )
    except IntegrityError:  # made by a second copy of the same turn meanwhile
        alert = StockAlert.objects.get(**waiting)
    return alert


def alert_cancel(*, alert: StockAlert) -> bool:
    """Staff: stop waiting (the customer bought it elsewhere, asked us to stop). False when not waiting."""
    return bool(
        StockAlert.objects.filter(pk=alert.pk, state=StockAlert.State.WAITING).update(
            state=StockAlert.State.CANCELLED
        )
    )


def alerts_send_due(*, now=None) -> int:
    """Send every waiting alert whose variant is available again; lapse the old ones. The number of
    messages recorded for sending."""
    now = now or timezone.now()
    StockAlert.objects.filter(
        state=StockAlert.State.WAITING, created_at__lt=now - timedelta(days=ALERT_DAYS)
    ).update(state=StockAlert.State.LAPSED)
    back = variants_with_available(Variant.objects.filter(active=True, product__active=True)).filter(
        available__gt=0
    )
    due = StockAlert.objects.filter(state=StockAlert.State.WAITING, variant__in=back.values("pk"))
    sent = 0
    for alert_id in due.order_by("pk").values_list("pk", flat=True)[:BATCH]:
        with transaction.atomic():
            sent += _send(alert_id, now)
    return sent


def _send(alert_id: int, now) -> int:
    # Locked and read again: another run may have sent it; skip_locked lets two runs share the work.
    alert = (
        StockAlert.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("customer__shop", "variant__product")
        .filter(pk=alert_id, state=StockAlert.State.WAITING)
        .first()
    )
    if alert is None:
        return 0
    customer = alert.customer
    if customer.opted_out_at:
        alert.state = StockAlert.State.CANCELLED
        alert.save(update_fields=["state"])
        return 0
    channel = reminder_channel(customer)
    provider = _provider(customer, channel)
    if channel is None or provider is None:
        logger.info(
            "stock alert %s: no channel open to customer %s yet, it keeps waiting", alert.pk, customer.pk
        )
        return 0
    available = variants_with_available(Variant.objects.filter(pk=alert.variant_id)).get().available
    language = customer.language or customer.shop.language
    reply = record_outbound(
        customer=customer,
        channel=channel,
        body=back_in_stock_text(alert, available, language),
        provider=provider,
        automatic=True,
        # Its "oui" holds the variant, like the answer to a question (catalog.conversation).
        context={"offer": "hold", "variant_id": alert.variant_id, "buttons": texts.offer_buttons(language)},
    )
    queue_send(reply)
    alert.state, alert.sent_at, alert.message = StockAlert.State.SENT, now, reply
    alert.save(update_fields=["state", "sent_at", "message"])
    return 1


def _provider(customer: Customer, channel: str | None) -> str | None:
    if channel is None:
        return None
    try:
        return default_provider(customer.shop_id, channel)
    except SendRefused:
        return None


def back_in_stock_text(alert: StockAlert, available: int, language: str) -> str:
    customer = alert.customer
    left = texts.text(language, "left", count=available) if available <= LOW_STOCK else ""
    body = texts.text(language, "back_in_stock", item=item_label(alert.variant), left=left)
    return wrap(language, body, shop_info(customer.shop), clean_first_name(customer.first_name))


def item_label(variant: Variant) -> str:
    """ "Robe portefeuille bleue 38": the product's name, then what tells the variant apart (the colour
    unless the name says it already, the size)."""
    name = variant.product.name
    parts = [name]
    if variant.color and variant.color.lower() not in name.lower():
        parts.append(variant.color)
    if variant.size:
        parts.append(variant.size)
    return " ".join(parts)


def alerts_follow_merge(*, shop_id: int, kept_id: int, merged_id: int) -> None:
    """customers.events.CUSTOMER_MERGING: the merged record's waiting alerts go to the kept one (where
    the kept one already waits for the same variant, the merged one goes with its row)."""
    kept_waits = StockAlert.objects.filter(customer_id=kept_id, state=StockAlert.State.WAITING).values(
        "variant_id"
    )
    StockAlert.objects.filter(shop_id=shop_id, customer_id=merged_id, state=StockAlert.State.WAITING).exclude(
        variant_id__in=kept_waits
    ).update(customer_id=kept_id)
