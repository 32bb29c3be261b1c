"""What the customer page's send box offers (saved replies, WhatsApp templates), read by the messaging
side: the page is `customers`', which imports nothing from `webhooks`, so its template asks this tag."""

from django import template

from webhooks.outbound import whatsapp_window_open
from webhooks.saved_replies import saved_replies_for
from webhooks.wa_templates import templates_for, whatsapp_provider

register = template.Library()


@register.simple_tag
def send_box_options(customer) -> dict:
    """saved_replies: [{id, name, text}]; templates_only: WhatsApp is possible but its 24-hour window
    is closed, so on WhatsApp only the `templates` ([{template, values, sources}]) may go out."""
    whatsapp_possible = bool(customer.phone or customer.whatsapp_user_id) and whatsapp_provider(
        customer.shop_id
    )
    templates_only = bool(whatsapp_possible) and not whatsapp_window_open(customer)
    return {
        "saved_replies": saved_replies_for(customer),
        "templates_only": templates_only,
        "templates": templates_for(customer) if templates_only else [],
    }
