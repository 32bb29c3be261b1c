"""`{% webhooks_disabled_banner shop %}`: the shop settings page's warning about disabled webhook
endpoints, provided by crm_backends so that the page (in customers) needs no import of it."""

from django import template

from crm_backends.outgoing.models import WebhookDelivery
from crm_backends.outgoing.selectors import shop_disabled_endpoints

register = template.Library()


@register.inclusion_tag("crm_backends/_webhooks_banner.html")
def webhooks_disabled_banner(shop):
    return {"endpoints": shop_disabled_endpoints(shop) if shop is not None else []}


@register.simple_tag
def delivery_state_label(state: str) -> str:
    return WebhookDelivery.State(state).label if state in WebhookDelivery.State.values else state
