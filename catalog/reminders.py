"""The message a customer gets before their hold expires.

It lives in catalog and sends through webhooks' own rules (check_can_send, record_outbound, queue_send):
catalog may import webhooks, webhooks never imports catalog, so no cycle. It is an automatic message
(is_automatic, no author): unlike a staff send, it does not pause the automatic replies.

Which channel: WhatsApp when the customer's 24-hour WhatsApp window is open; otherwise
SMS when they have a phone (SMS has no window); otherwise nothing goes out. Either way the hold is
marked reminded, so that the reminder is tried once, never repeated every few minutes. A customer
with several holds due gets one message naming them all.
"""

import logging
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from catalog.holds import hold_reminder_mark, holds_due_reminder
from catalog.models import Hold
from webhooks.autoreply import queue_send, record_outbound
from webhooks.outbound import SendRefused, check_can_send, default_provider
from webhooks.saved_replies import customer_language

logger = logging.getLogger(__name__)


def holds_remind_due(*, now=None) -> int:
    """Remind every customer with holds due for their reminder, one message per customer (naming each
    item); the number of messages recorded for sending."""
    by_customer = defaultdict(list)
    for hold in holds_due_reminder(now=now):
        by_customer[hold.customer_id].append(hold)
    sent = 0
    for holds in by_customer.values():
        with transaction.atomic():
            marked = [hold for hold in holds if hold_reminder_mark(hold=hold, now=now)]
            if marked and _remind(marked):
                sent += 1
    return sent


def reminder_channel(customer) -> str | None:
    """The channel a reminder may go out by under the sending rules, or None."""
    # WhatsApp whenever its window is open (check_can_send): a customer who wrote from WhatsApp may be
    # known by their phone number alone, which is their WhatsApp address too.
    for channel in ("whatsapp", "sms"):
        try:
            check_can_send(customer, channel)
        except SendRefused as refused:
            if refused.code == "opted_out":
                return None
            continue
        return channel
    return None


def _remind(holds: list[Hold]) -> bool:
    customer = holds[0].customer
    channel = reminder_channel(customer)
    if channel is None:
        logger.info("customer %s: no channel open for the reminder of their holds", customer.pk)
        return False
    try:
        provider = default_provider(customer.shop_id, channel)
    except SendRefused:
        logger.info("shop %s has no number to remind customer %s from", customer.shop_id, customer.pk)
        return False
    reply = record_outbound(
        customer=customer, channel=channel, body=reminder_text(holds), provider=provider, automatic=True
    )
    queue_send(reply)
    return True


def reminder_text(holds: list[Hold]) -> str:
    """In the customer's language, the time in the shop's time zone (the earliest expiry of `holds`)."""
    customer = holds[0].customer
    items = ", ".join(_item(hold.variant) for hold in holds)
    expires = min(hold.expires_at for hold in holds)
    with translation.override(customer_language(customer)):
        until = formats.time_format(
            timezone.localtime(expires, ZoneInfo(customer.shop.time_zone)), "TIME_FORMAT"
        )
        return _(
            "A reminder: we are keeping %(item)s for you until %(time)s. Reply if you would like more time."
        ) % {"item": items, "time": until}


def _item(variant) -> str:
    details = " ".join(part for part in (variant.color, variant.size) if part)
    return f"{variant.product.name} {details}".strip()
