"""Small display helpers for the dashboard templates (labels in the page's language, initials)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from customers import display
from customers.forms import CHANNEL_LABELS, SEGMENT_LABELS, SYSTEM_TAGS

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


@register.filter
def phone(value, country="FR"):
    """`{{ customer.phone|phone:request.shop.country }}`: the shop's country's format."""
    return display.phone_display(value, country or "FR")


@register.filter
def tag_label(name):
    return SYSTEM_TAGS.get(name, name)


@register.filter
def shown_name(customer, country="FR"):
    """The customer's name as the pages show it: a customer known only by phone is their number in the
    shop's format (06 11 27 49 59), not in E.164."""
    name = customer.display_name
    if customer.phone and name == customer.phone:
        return display.phone_display(customer.phone, country or "FR")
    return name


@register.filter
def money(amount, currency="EUR"):
    """`{{ order.amount|money:order.currency }}`: `1 916,10 €` in French."""
    return display.money_display(amount, currency or "EUR")


@register.filter
def language_name(code):
    return display.language_name(code)


@register.filter
def source_label(value):
    return display.source_label(value)


@register.filter
def address_lines(customer):
    return display.address_lines(customer)


@register.filter
def shop_money(amount, shop):
    """A shop's figure (revenue, basket) in its country's currency: `{{ value|shop_money:request.shop }}`."""
    return display.money_display(amount, display.shop_currency(shop))


@register.filter
def email_breaks(value):
    """An e-mail that may wrap only at its seams (before the @ and the domain's dots), never mid-word:
    `julie.martin<wbr>@example<wbr>.com`. Escaped first, then only <wbr> added."""
    if not value:
        return ""
    local, at, domain = escape(value).partition("@")
    if not at:
        return escape(value)
    return mark_safe(f"{local}<wbr>@{domain.replace('.', '<wbr>.')}")  # noqa: S308 (escaped above)
