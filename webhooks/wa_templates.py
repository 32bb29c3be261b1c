"""WhatsApp templates: the shop's approved templates, fetched from its provider or entered by hand,
and sent by staff when the 24-hour window is closed (Meta `type: template`, Twilio `ContentSid`).

A template goes out through the provider that would carry the shop's WhatsApp (Meta when the shop has
a Meta number, else Twilio: outbound.default_provider), so only that provider's templates are offered.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from customers.models import ChannelAddress, Customer, Interaction, Shop
from webhooks.autoreply import record_outbound
from webhooks.models import WhatsAppAccount, WhatsAppTemplate
from webhooks.outbound import SendRefused, check_can_send, default_provider
from webhooks.providers import meta_templates, twilio_content
from webhooks.saved_replies import fill, placeholder_values

_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
MAX_PARAMETER = 1024  # Meta's limit for one body parameter's text


class TemplatesUnavailable(Exception):
    """Templates cannot be fetched: the reason says what the owner must set up."""


def whatsapp_provider(shop_id: int) -> str | None:
    """The provider a WhatsApp template would go out with, or None when the shop has no number."""
    try:
        return default_provider(shop_id, "whatsapp")
    except SendRefused:
        return None


def render(body: str, values: list[str]) -> str:
    """The template's text as the customer reads it: {{n}} replaced by the n-th value."""

    def value(match):
        n = int(match[1])
        return values[n - 1] if 0 < n <= len(values) else match[0]

    return _POSITIONAL.sub(value, body)


def parameter_count(template: WhatsAppTemplate) -> int:
    return max(len(template.parameters or []), meta_templates.positional_count(template.body))


def default_values(template: WhatsAppTemplate, customer: Customer) -> list[str]:
    """Each parameter prefilled from its placeholder for this customer ("" for one typed when sending)."""
    sources = list(template.parameters or [])
    sources += [""] * (parameter_count(template) - len(sources))
    values = placeholder_values(customer)
    return [one_line(fill("{" + source + "}", values)) if source else "" for source in sources]


def one_line(value: str) -> str:
    """A parameter as Meta accepts it: no new line or tab, no run of spaces (error 132018); the shop's
    hours or address written on several lines become one, their lines joined by " · "."""
    lines = [" ".join(line.split()) for line in value.splitlines()]
    return " · ".join(line for line in lines if line)


def templates_for(customer: Customer) -> list[dict]:
    """The templates the send box offers this customer: body, and each parameter's prefilled value."""
    provider = whatsapp_provider(customer.shop_id)
    if provider is None:
        return []
    # Approved as the provider last said, or entered by hand (the owner vouches for it).
    found = WhatsAppTemplate.objects.filter(
        shop_id=customer.shop_id, provider=provider, status__in=["", "APPROVED"]
    )
    return [
        {"template": template, "values": default_values(template, customer), "sources": template.parameters}
        for template in found.order_by("name", "language", "pk")
    ]


def staff_template_send(
    *, customer: Customer, template: WhatsAppTemplate, values: list[str], author
) -> Interaction:
    """Record a template message with its rendered text and send it after commit, like a person's text.

    Raises SendRefused when it cannot go out: opted out, no WhatsApp address, a template of another
    provider than the one the shop sends WhatsApp with, or a parameter left empty (Meta refuses those).
    """
    from webhooks.tasks import send_interaction  # tasks imports this package's modules

    if template.shop_id != customer.shop_id:
        raise ValueError("a template is sent within its own shop")
    check_can_send(customer, "whatsapp", template=True)
    provider = default_provider(customer.shop_id, "whatsapp")
    if template.provider != provider:
        raise SendRefused("This template belongs to another provider than the shop's WhatsApp number.")
    values = [one_line(value)[:MAX_PARAMETER] for value in values]
    if len(values) != parameter_count(template) or not all(values):
        raise SendRefused("Fill in every parameter of the template.")
    with transaction.atomic():
        interaction = record_outbound(
            customer=customer, channel="whatsapp", body=render(template.body, values), provider=provider,
            author=author, automatic=False,
        )  # fmt: skip
        interaction.raw_payload["template"] = {
            "id": template.pk,
            "name": template.name,
            "language": template.language,
            "content_sid": template.content_sid,
            "variables": values,
        }
        interaction.save(update_fields=["raw_payload"])
        customer.auto_replies_paused_until = timezone.now() + timedelta(
            minutes=customer.shop.auto_reply_pause_minutes
        )
        customer.save(update_fields=["auto_replies_paused_until", "updated_at"])
        transaction.on_commit(lambda: send_interaction.delay(interaction.pk), robust=True)
    return interaction


# Owners' side: the WABA id, fetching, entering by hand


def meta_addresses(shop: Shop):
    return ChannelAddress.objects.filter(shop=shop, provider=ChannelAddress.Provider.META).order_by("pk")


def waba_id_for(shop: Shop) -> str:
    account = WhatsAppAccount.objects.filter(channel_address__in=meta_addresses(shop)).order_by("pk").first()
    return account.waba_id if account else ""


def waba_id_set(*, shop: Shop, waba_id: str) -> None:
    """Store the WhatsApp Business Account id on the shop's (first) Meta number; "" removes it.

    Only an account that holds the shop's number: the access token is the install's and may read other
    shops' accounts, whose templates must not be copied into this one. Raises ExternalServiceError
    with Meta's answer when Meta refuses the id."""
    address = meta_addresses(shop).first()
    if address is None:
        raise TemplatesUnavailable("The shop has no Meta WhatsApp number: add one in the admin first.")
    if not waba_id:
        WhatsAppAccount.objects.filter(channel_address=address).delete()
        return
    if not settings.WHATSAPP_ACCESS_TOKEN:
        raise TemplatesUnavailable("The WhatsApp Cloud API is not configured (WHATSAPP_ACCESS_TOKEN).")
    held = meta_templates.phone_number_ids(
        waba_id=waba_id,
        access_token=settings.WHATSAPP_ACCESS_TOKEN,
        graph_base=settings.WHATSAPP_GRAPH_BASE,
        graph_version=settings.WHATSAPP_GRAPH_VERSION,
    )
    if address.address not in held:
        raise TemplatesUnavailable(
            "This WhatsApp Business Account does not hold the shop's number: check the id in Meta's "
            "WhatsApp Manager."
        )
    WhatsAppAccount.objects.update_or_create(channel_address=address, defaults={"waba_id": waba_id})


def templates_fetch(*, shop: Shop) -> int:
    """Fetch the shop's templates from its WhatsApp provider and store them (by name and language);
    return how many were read. Parameters an owner already mapped to placeholders are kept."""
    provider = whatsapp_provider(shop.pk)
    if provider == ChannelAddress.Provider.META:
        listed = _meta_listed(shop)
    elif provider == ChannelAddress.Provider.TWILIO:
        _twilio_account_of_this_shop_only(shop)
        listed = _twilio_listed()
    else:
        raise TemplatesUnavailable(
            "The shop has no number to send from: add one on the shop (Channel addresses)."
        )
    with transaction.atomic():
        for item in listed:
            _store(shop, provider, item)
    return len(listed)


def _meta_listed(shop: Shop):
    waba_id = waba_id_for(shop)
    if not waba_id:
        raise TemplatesUnavailable("Enter the WhatsApp Business Account id first.")
    if not settings.WHATSAPP_ACCESS_TOKEN:
        raise TemplatesUnavailable("The WhatsApp Cloud API is not configured (WHATSAPP_ACCESS_TOKEN).")
    return meta_templates.list_templates(
        waba_id=waba_id,
        access_token=settings.WHATSAPP_ACCESS_TOKEN,
        graph_base=settings.WHATSAPP_GRAPH_BASE,
        graph_version=settings.WHATSAPP_GRAPH_VERSION,
    )


def _twilio_account_of_this_shop_only(shop: Shop) -> None:
    """Twilio's Content API lists the whole account's templates: fetching them into one shop of an
    install whose Twilio account serves several would hand it the others' templates."""
    others = ChannelAddress.objects.filter(provider=ChannelAddress.Provider.TWILIO).exclude(shop=shop)
    if others.exists():
        raise TemplatesUnavailable(
            "This install's Twilio account serves several shops and its templates are shared by all of "
            "them: add this shop's templates by hand (name, language and Content SID)."
        )


def _twilio_listed():
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        raise TemplatesUnavailable("Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN).")
    return twilio_content.list_templates(
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        content_base=settings.TWILIO_CONTENT_BASE,
    )


def _store(shop: Shop, provider: str, item) -> None:
    template, created = WhatsAppTemplate.objects.get_or_create(
        shop=shop, provider=provider, name=item.name[:512], language=item.language[:16],
        defaults={"body": item.body, "content_sid": item.content_sid, "status": item.status},
    )  # fmt: skip
    if not created:
        template.body, template.content_sid, template.status = item.body, item.content_sid, item.status
    sources = list(template.parameters or [])[: item.parameter_count]
    template.parameters = sources + [""] * (item.parameter_count - len(sources))
    template.save()


def template_delete(*, shop: Shop, template_id: int) -> bool:
    deleted, _ = WhatsAppTemplate.objects.filter(shop=shop, pk=template_id).delete()
    return bool(deleted)
