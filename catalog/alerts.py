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
from django.db.models import F
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
    """Send the waiting alerts whose variant is available again, one message per customer naming each
    item; lapse the old ones. The number of messages recorded for sending.

    Alerts that could not go out yet (tried_at set) come after the others, so that a pile of them in
    one shop never holds up another shop's: each run reaches BATCH customers, the untried first."""
    now = now or timezone.now()
    waiting = StockAlert.objects.filter(state=StockAlert.State.WAITING)
    waiting.filter(created_at__lt=now - timedelta(days=ALERT_DAYS)).update(state=StockAlert.State.LAPSED)
    # Available is computed for the variants someone waits for, not for every shop's catalogue.
    back = variants_with_available(
        Variant.objects.filter(pk__in=waiting.values("variant_id"), active=True, product__active=True)
    ).filter(available__gt=0)
    due = waiting.filter(variant__in=back.values("pk")).order_by(F("tried_at").asc(nulls_first=True), "pk")
    customers: list[int] = []
    for customer_id in due.values_list("customer_id", flat=True).iterator():
        if customer_id not in customers:
            customers.append(customer_id)
        if len(customers) >= BATCH:
            break
    sent = 0
    for customer_id in customers:
        with transaction.atomic():
            sent += _send(customer_id, due, now)
    return sent


def _send(customer_id: int, due, now) -> int:
    # Locked and read again: another run may have sent them; skip_locked lets two runs share the work.
    alerts = list(
        due.filter(customer_id=customer_id)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("customer__shop", "variant__product")
    )
    if not alerts:
        return 0
    customer = alerts[0].customer
    ids = [alert.pk for alert in alerts]
    if customer.opted_out_at:
        StockAlert.objects.filter(pk__in=ids).update(state=StockAlert.State.CANCELLED)
        return 0
    channel = reminder_channel(customer) if _may_offer(customer, now) else None
    provider = _provider(customer, channel)
    if channel is None or provider is None:
        # No open channel, or nobody would act on the "oui" now: it keeps waiting, behind the others.
        logger.info("stock alerts of customer %s: not sent yet, they keep waiting", customer.pk)
        StockAlert.objects.filter(pk__in=ids).update(tried_at=now)
        return 0
    language = customer.language or customer.shop.language
    reply = record_outbound(
        customer=customer,
        channel=channel,
        body=back_in_stock_text(customer, [alert.variant for alert in alerts], language),
        provider=provider,
        automatic=True,
        # Its "oui" holds every variant named, like the answer to a question (catalog.conversation).
        context={
            "offer": "hold",
            "variant_ids": [alert.variant_id for alert in alerts],
            "buttons": texts.offer_buttons(language),
        },
    )
    queue_send(reply)
    StockAlert.objects.filter(pk__in=ids).update(state=StockAlert.State.SENT, sent_at=now, message=reply)
    return 1


def _may_offer(customer: Customer, now) -> bool:
    """The message offers a hold that the customer's "oui" makes only when automatic replies may
    answer them: not while the shop has them off, nor while a person handles the conversation."""
    paused = customer.auto_replies_paused_until and customer.auto_replies_paused_until > now
    return customer.shop.auto_replies_enabled and not paused


def _provider(customer: Customer, channel: str | None) -> str | None:
    if channel is None:
        return None
    try:
        return default_provider(customer.shop_id, channel)
    except SendRefused:
        return None


def back_in_stock_text(customer: Customer, variants: list[Variant], language: str) -> str:
    """One message for everything the customer waited for that is back; "(il en reste 2)" when a single
    item is back and few of it are left."""
    left = ""
    if len(variants) == 1:
        available = variants_with_available(Variant.objects.filter(pk=variants[0].pk)).get().available
        left = texts.text(language, "left", count=available) if available <= LOW_STOCK else ""
    items = ", ".join(item_label(variant, language) for variant in variants)
    key = "back_in_stock" if len(variants) == 1 else "back_in_stock_many"
    body = texts.text(language, key, item=items, left=left)
    return wrap(language, body, shop_info(customer.shop), clean_first_name(customer.first_name))


def item_label(variant: Variant, language: str) -> str:
    """« Robe portefeuille bleue » en 38: see conversation_texts.item."""
    return texts.item(language, name=variant.product.name, size=variant.size, color=variant.color)


def alerts_follow_merge(*, shop_id: int, kept_id: int, merged_id: int) -> None:
    """customers.events.CUSTOMER_MERGING: the merged record's alerts go to the kept one, their history
    included (where the kept one already waits for the same variant, the merged one's wait goes with its
    row: one wait, one message)."""
    kept_waits = StockAlert.objects.filter(customer_id=kept_id, state=StockAlert.State.WAITING).values(
        "variant_id"
    )
    merged = StockAlert.objects.filter(shop_id=shop_id, customer_id=merged_id)
    merged.filter(state=StockAlert.State.WAITING, variant_id__in=kept_waits).delete()
    merged.update(customer_id=kept_id)
