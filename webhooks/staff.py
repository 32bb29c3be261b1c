"""Messages a person from the shop writes to a customer from the dashboard."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Interaction
from webhooks.autoreply import record_outbound
from webhooks.outbound import check_can_send, default_provider


def staff_message_send(*, customer: Customer, channel: str, body: str, author) -> Interaction:
    """Record a person's message and send it through the provider's API after commit.

    Raises SendRefused (with a reason a person can act on) when it must not go out: opted out, WhatsApp
    24-hour window closed, no number to send from. Automatic replies then pause for this customer, so
    the bot does not talk over the person. A provider error later shows on the interaction itself.
    """
    from webhooks.tasks import send_interaction  # tasks imports this package's modules

    check_can_send(customer, channel)
    provider = default_provider(customer.shop_id, channel)
    with transaction.atomic():
        interaction = record_outbound(
            customer=customer, channel=channel, body=body, provider=provider, author=author, automatic=False
        )
        customer.auto_replies_paused_until = timezone.now() + timedelta(
            minutes=customer.shop.auto_reply_pause_minutes
        )
        customer.save(update_fields=["auto_replies_paused_until", "updated_at"])
        # robust: a broker outage must not turn a recorded message into an error page (like autoreply).
        transaction.on_commit(lambda: send_interaction.delay(interaction.pk), robust=True)
    return interaction
