"""The e-mail the shop's owners get when one of their webhook endpoints is disabled (Django's mail, the
EMAIL_URL settings, as for password resets), in the shop's language."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from crm_backends.outgoing.models import WebhookEndpoint
from customers.models import Membership

logger = logging.getLogger(__name__)


def owners_notify_disabled(endpoint_id: int) -> int:
    """Send the e-mail to every owner with an address; how many were sent. A mail server that fails is
    logged: the banner on the shop settings page still says it."""
    endpoint = WebhookEndpoint.objects.select_related("shop").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.enabled:
        return 0
    owners = Membership.objects.filter(shop=endpoint.shop, role=Membership.Role.OWNER).select_related("user")
    addresses = sorted({m.user.email for m in owners if m.user.email and m.user.is_active})
    if not addresses:
        return 0
    context = {
        "shop": endpoint.shop,
        "endpoint": endpoint,
        "page_url": f"{settings.PUBLIC_BASE_URL}{reverse('outgoing-webhooks')}",
    }
    with translation.override(endpoint.shop.language or "en"):
        subject = " ".join(render_to_string("crm_backends/webhook_disabled_subject.txt", context).split())
        body = render_to_string("crm_backends/webhook_disabled_email.txt", context)
    try:
        send_mail(subject, body, None, addresses)
    except Exception as exc:  # noqa: BLE001 - any mail failure; the page's banner remains
        logger.warning("webhook endpoint %s disabled: e-mail to owners not sent (%s)", endpoint_id, exc)
        return 0
    return len(addresses)
