"""The one inbound pipeline: every provider's message goes through `inbound_receive`.

identify the shop -> find or create the customer -> record the interaction (once) -> fill in the
profile -> decide and prepare the reply. Provider modules only parse; this module knows no HTTP.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import cached, events
from customers.models import Customer, Interaction, Shop, Tag
from customers.services import customer_get_or_create, tags_get_or_create
from webhooks import autoreply
from webhooks.inbound import InboundMessage
from webhooks.names import name_from_profile, name_from_text

logger = logging.getLogger(__name__)


class UnknownShopAddress(LookupError):
    """No shop receives messages on this address (a number or phone_number_id not set up here)."""


@dataclass(frozen=True)
class InboundOutcome:
    interaction_id: int | None
    customer_id: int | None
    shop_id: int | None = None
    duplicate: bool = False
    ignored: str = ""  # why nothing was recorded, when nothing was
    reply_id: int | None = None  # the automatic reply recorded (sent by a task), if any


def shop_for_address(*, provider: str, address: str) -> Shop | None:
    """The shop receiving on `address`; cached, since every event asks (customers.cached)."""
    return cached.shop_for_address(provider=provider, address=address)


def inbound_receive(message: InboundMessage, *, shop: Shop | None = None) -> InboundOutcome:
    """Record one inbound message and prepare the answer; safe to call twice with the same message.

    Runs in the worker (webhooks.inbound_events), never in the webhook's request: replies are recorded
    here and go out through the provider's send API from a task after the commit.
    """
    # `shop`: the caller's own lookup of the receiving address, when it made one (the worker does).
    shop = shop or shop_for_address(provider=message.provider, address=message.shop_address)
    if shop is None:
        raise UnknownShopAddress(f"{message.provider} address {message.shop_address!r} belongs to no shop")
    if not (message.sender_phone or message.sender_whatsapp_id):
        # Alphanumeric senders (carrier notices, other businesses' bots) are not customers.
        logger.info(
            "inbound %s from %r ignored: not a phone or WhatsApp user", message.provider, message.sender_raw
        )
        return InboundOutcome(None, None, shop.pk, ignored="sender is not a phone number or WhatsApp user")
    # No savepoint of its own when the caller has a transaction (the worker gives each event one):
    # whatever fails here fails the caller's block too. The changes (a new customer, their tags, the
    # message, the reply) are told to listeners once, at the end, in this transaction.
    with transaction.atomic(savepoint=False), events.collected():
        customer, created = _identify(shop, message)
        try:
            with transaction.atomic():
                inbound = _record(customer, message)
        except IntegrityError:
            return _replayed(message, shop)
        _update_profile(customer, message, created=created)
        reply = autoreply.respond(customer=customer, inbound=inbound)
        # Profile fields changed above through queryset updates, which send no signal.
        events.customers_changed(shop_id=shop.pk, customer_ids=[customer.pk])
    logger.info(
        "inbound %s %s recorded for shop %s customer %s%s",
        message.provider,
        message.channel,
        shop.slug,
        customer.pk,
        " (new customer)" if created else "",
    )
    return InboundOutcome(inbound.pk, customer.pk, shop.pk, reply_id=reply.pk if reply else None)


def _identify(shop: Shop, message: InboundMessage) -> tuple[Customer, bool]:
    """The customer by phone across channels, else by WhatsApp user id; created on first contact."""
    at = message.timestamp or timezone.now()
    customer, created = customer_get_or_create(
        shop=shop,
        phone=message.sender_phone,
        whatsapp_user_id=None if message.sender_phone else message.sender_whatsapp_id,
        defaults={
            "source": message.channel,
            "preferred_channel": message.channel,
            "segment": Customer.Segment.PROSPECT,
            "first_contact_at": at,
            "last_contact_at": at,
        },
    )
    # The shop is the one just read (a customer found by lookup would load it again for the reply).
    customer.shop = shop
    if created:
        _tag_new_customer(customer, ["auto-created", message.channel])
    return customer, created


def _tag_new_customer(customer: Customer, names: list[str]) -> None:
    """Tag a customer created in this transaction: the shop's tags in one read (created the first time),
    the links in one insert. No link can exist yet, so none is looked for; the pipeline tells the
    customer's change to listeners itself (events.customers_changed), as customers_add_tag does."""
    shop = customer.shop
    found = {tag.name: tag for tag in Tag.objects.filter(shop=shop, name__in=names)}
    missing = [name for name in names if name not in found]
    if missing:
        found.update((tag.name, tag) for tag in tags_get_or_create(shop=shop, names=missing))
    through = Customer.tags.through
    through.objects.bulk_create(
        [through(customer_id=customer.pk, tag_id=found[name].pk) for name in dict.fromkeys(names)],
        ignore_conflicts=True,
    )


def _record(customer: Customer, message: InboundMessage) -> Interaction:
    location = message.location
    return Interaction.objects.create(
        customer=customer,
        channel=message.channel,
        direction=Interaction.Direction.INBOUND,
        body=message.text,
        media=[{"url": m.url, "content_type": m.content_type} for m in message.media],
        location=(
            {
                "latitude": location.latitude,
                "longitude": location.longitude,
                "name": location.name,
                "address": location.address,
            }
            if location
            else None
        ),
        button_reply=message.button_reply[:256],
        provider=message.provider,
        provider_message_id=message.provider_message_id,
        status="received",
        occurred_at=message.timestamp or timezone.now(),
        raw_payload={**message.raw, "_shop_address": message.shop_address},
    )


def _update_profile(customer: Customer, message: InboundMessage, *, created: bool) -> None:
    at = message.timestamp or timezone.now()
    fields = {"last_contact_at": max(filter(None, [customer.last_contact_at, at]))}
    if customer.first_contact_at is None:
        fields["first_contact_at"] = at
    if message.sender_whatsapp_id and not customer.whatsapp_user_id and not _wa_id_taken(customer, message):
        fields["whatsapp_user_id"] = message.sender_whatsapp_id
    if not customer.preferred_channel:
        fields["preferred_channel"] = message.channel
    fields.update(_name_fields(customer, message))
    for name, value in fields.items():
        setattr(customer, name, value)
    Customer.objects.filter(pk=customer.pk).update(**fields, updated_at=timezone.now())


def _wa_id_taken(customer: Customer, message: InboundMessage) -> bool:
    return (
        Customer.objects.filter(shop_id=customer.shop_id, whatsapp_user_id=message.sender_whatsapp_id)
        .exclude(pk=customer.pk)
        .exists()
    )


def _name_fields(customer: Customer, message: InboundMessage) -> dict:
    """A name the customer gives in the text beats their WhatsApp display name; neither ever
    overwrites a name a person entered or confirmed."""
    if customer.name_source == Customer.NameSource.HUMAN:
        return {}
    from_text = name_from_text(message.text) if message.text else None
    if from_text and (from_text.first_name or from_text.last_name):
        return _fill(customer, from_text, Customer.NameSource.TEXT, replace=customer.name_source != "text")
    if customer.name_source == "" and message.profile_name:
        from_profile = name_from_profile(message.profile_name)
        if from_profile and (from_profile.first_name or from_profile.last_name):
            return _fill(customer, from_profile, Customer.NameSource.PROFILE, replace=False)
    return {}


def _fill(customer, name, source, *, replace: bool) -> dict:
    """Fields to change: every part given when `replace`, otherwise only the empty ones."""
    fields = {}
    for part in ("first_name", "last_name"):
        value = getattr(name, part)
        if value and (replace or not getattr(customer, part)):
            fields[part] = value[:100]
    if fields:
        fields["name_source"] = source
    return fields


def _replayed(message: InboundMessage, shop: Shop) -> InboundOutcome:
    """A message already recorded (a provider retry, a replay, a concurrent copy): record nothing."""
    original = (
        Interaction.objects.filter(provider=message.provider, provider_message_id=message.provider_message_id)
        .values_list("pk", "customer_id")
        .first()
    )
    logger.info("inbound %s %s already recorded: ignored", message.provider, message.provider_message_id)
    interaction_id, customer_id = original or (None, None)
    return InboundOutcome(interaction_id, customer_id, shop.pk, duplicate=True)
