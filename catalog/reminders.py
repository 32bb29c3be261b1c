"""The message a customer gets before their hold expires.

It lives in catalog and sends through webhooks' own rules (check_can_send, record_outbound, queue_send):
catalog may import webhooks, webhooks never imports catalog, so no cycle. It is an automatic message
(is_automatic, no author): unlike a staff send, it does not pause the automatic replies.

Which channel: WhatsApp when the customer has a WhatsApp id and the 24-hour window is open; otherwise
SMS when they have a phone (SMS has no window); otherwise nothing goes out. Either way the hold is
marked reminded, so that the reminder is tried once, never repeated every few minutes.
"""

import logging

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
    """Remind every hold due for its reminder; the number of messages recorded for sending."""
    sent = 0
    for hold in holds_due_reminder(now=now):
        with transaction.atomic():
            if hold_reminder_mark(hold=hold, now=now) and _remind(hold):
                sent += 1
    return sent


def reminder_channel(hold: Hold) -> str | None:
    """The channel the reminder may go out by under the sending rules, or None."""
    customer = hold.customer
    for channel in ("whatsapp", "sms"):
        if channel == "whatsapp" and not customer.whatsapp_user_id:
            continue
        try:
            check_can_send(customer, channel)
        except SendRefused as refused:
            if refused.code == "opted_out":
                return None
            continue
        return channel
    return None


def _remind(hold: Hold) -> bool:
    channel = reminder_channel(hold)
    if channel is None:
        logger.info("hold %s: no channel open for its reminder", hold.pk)
        return False
    try:
        provider = default_provider(hold.shop_id, channel)
    except SendRefused:
        logger.info("hold %s: the shop has no number to remind from", hold.pk)
        return False
    reply = record_outbound(
        customer=hold.customer, channel=channel, body=reminder_text(hold), provider=provider, automatic=True
    )
    queue_send(reply)
    return True


def reminder_text(hold: Hold) -> str:
    variant = hold.variant
    details = " ".join(part for part in (variant.color, variant.size) if part)
    item = f"{variant.product.name} {details}".strip()
    with translation.override(customer_language(hold.customer)):
        until = formats.time_format(timezone.localtime(hold.expires_at), "TIME_FORMAT")
        return _(
            "A reminder: we are keeping %(item)s for you until %(time)s. Reply if you would like more time."
        ) % {
            "item": item,
            "time": until,
        }
