"""Small display helpers for the dashboard templates (labels in the page's language, initials)."""

from django import template
from django.utils.translation import gettext_lazy as _

from customers.forms import CHANNEL_LABELS, SEGMENT_LABELS

register = template.Library()

STATUS_LABELS = {
    "received": _("received"),
    "queued": _("queued"),
    "accepted": _("queued"),
    "scheduled": _("queued"),
    "sending": _("sending"),
    "sent": _("sent"),
    "delivered": _("delivered"),
    "read": _("read"),
    "failed": _("failed"),
    "undelivered": _("not delivered"),
    "canceled": _("canceled"),
    "partially_delivered": _("partially delivered"),
    "played": _("played"),
}


@register.filter
def segment_label(value):
    return SEGMENT_LABELS.get(value, value)


@register.filter
def channel_label(value):
    return CHANNEL_LABELS.get(value, value or "—")


@register.filter
def status_label(value):
    return STATUS_LABELS.get(value, value)


@register.filter
def initials(customer):
    parts = [p for p in (customer.first_name, customer.last_name) if p]
    return "".join(p[0] for p in parts).upper()[:2] if parts else "#"


@register.filter
def safe_link(url):
    """Only web links become clickable: a `javascript:` URL in a payload must not."""
    return isinstance(url, str) and url.startswith(("https://", "http://"))
