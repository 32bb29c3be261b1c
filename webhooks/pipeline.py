"""The one inbound pipeline: every provider's message goes through `inbound_receive`.

identify the shop -> find or create the customer -> apply a reaction, edit or deletion to its message,
or record the interaction (once) -> its media to download -> fill in the profile -> schedule the turn's
reply (webhooks.autoreply decides it a few seconds later, once per turn). Provider modules only parse;
this module knows no HTTP.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from customers import cached, events
from customers.models import Customer, Interaction, Shop, Tag
from customers.phones import normalize_whatsapp_id
from customers.services import (
    customer_create_or_find,
    customer_identify,
    customer_move_identity,
    tags_get_or_create,
)
from customers.text import clean_name
from webhooks import amendments, autoreply
from webhooks.inbound import InboundMessage
from webhooks.media import media_attach
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
    # The answer is decided by a task after the commit, once for the turn this message belongs to
    # (webhooks.autoreply.turn_schedule): True when one was scheduled.
    reply_scheduled: bool = False
    # "reaction" | "edit" | "revoke" when the message changed an earlier one (interaction_id, see
    # webhooks.amendments) instead of being recorded: nothing new on the timeline, nothing to answer.
    amended: str = ""


def shop_for_address(*, provider: str, address: str) -> Shop | None:
    """The shop receiving on `address`; cached, since every event asks (customers.cached)."""
    return cached.shop_for_address(provider=provider, address=address)


def inbound_receive(message: InboundMessage, *, shop: Shop | None = None) -> InboundOutcome:
    """Record one inbound message and prepare the answer; safe to call twice with the same message.

    Runs in the worker (webhooks.inbound_events), never in the webhook's request. The automatic reply
    is decided by a task after the commit, once per conversation turn, and sent through the API.
    """
    # `shop`: the caller's own lookup of the receiving address, when it made one (the worker does).
    shop = shop or shop_for_address(provider=message.provider, address=message.shop_address)
    if shop is None:
        raise UnknownShopAddress(f"{message.provider} address {message.shop_address!r} belongs to no shop")
    if not (message.sender_phone or message.sender_whatsapp_id or _external_address(message)):
        # Alphanumeric senders and addresses no parser reads are customers (_identify); only a message
        # naming no sender at all has no one to go to (kept failed by the worker, for a person to see).
        logger.info("inbound %s %s ignored: no sender", message.provider, message.provider_message_id)
        return InboundOutcome(None, None, shop.pk, ignored="the message names no sender")
    # No savepoint of its own when the caller has a transaction (the worker gives each event one):
    # whatever fails here fails the caller's block too. The changes (a new customer, their tags, the
    # message, the reply) are told to listeners once, at the end, in this transaction.
    with transaction.atomic(savepoint=False), events.collected():
        customer, created = _identify(shop, message)
        target = amendments.amend(customer, message)
        if target is not None:
            return InboundOutcome(target.pk, customer.pk, shop.pk, amended=message.message_type)
        try:
            with transaction.atomic():
                inbound = _record(customer, message)
        except IntegrityError:
            return _replayed(message, shop)
        media_attach(inbound, message.media)  # the files are downloaded by a task after the commit
        _update_profile(customer, message, created=created)
        reply_scheduled = autoreply.turn_schedule(inbound, message_type=message.message_type)
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
    return InboundOutcome(inbound.pk, customer.pk, shop.pk, reply_scheduled=reply_scheduled)


def _identify(shop: Shop, message: InboundMessage) -> tuple[Customer, bool]:
    """The customer by phone across channels, by WhatsApp user id, else by the sender's address as the
    provider sent it (an alphanumeric sender: Customer.external_address); created on first contact.

    One person, one profile: a message carrying both a phone and a user id joins them on one customer
    (customers.services.customer_identify); a system message moving the person to a new number or user
    id moves this customer.
    """
    readable = message.sender_phone or message.sender_whatsapp_id
    ids = {
        "phone": message.sender_phone,
        "whatsapp_user_id": message.sender_whatsapp_id,
        "external_address": None if readable else _external_address(message),
    }
    customer, created = customer_identify(shop=shop, **ids), False
    if customer is None:
        # A replay of a message whose sender has since moved to another number finds them by the
        # message (one query, only for unknown senders), so that a replay never creates anyone.
        customer = _customer_of_recorded(message, shop)
        if customer is not None:
            customer.shop = shop  # the same shop (filtered): saves a query later
            return customer, False
        customer, created = customer_create_or_find(shop=shop, defaults=new_customer_defaults(message), **ids)
    if message.message_type == "system":
        customer = _move_identity(customer, message)
    # The shop is the one just read (a customer found by lookup would load it again for the reply).
    customer.shop = shop
    if created:
        tag_new_customers([(customer, new_customer_tags(message))])
    return customer, created


def new_customer_defaults(message: InboundMessage) -> dict:
    """A customer created by their first message."""
    at = message.timestamp or timezone.now()
    return {
        "source": message.channel,
        "preferred_channel": message.channel,
        "segment": Customer.Segment.PROSPECT,
        "first_contact_at": at,
        "last_contact_at": at,
    }


def _external_address(message: InboundMessage) -> str:
    """The sender as the provider sent it (`whatsapp:SUPPORT`, `InfoSMS`), for a sender that is no phone
    and no WhatsApp user id."""
    return (message.sender_raw or "").strip()[:255]


def _customer_of_recorded(message: InboundMessage, shop: Shop) -> Customer | None:
    return (
        Customer.objects.filter(
            shop=shop,
            interactions__provider=message.provider,
            interactions__provider_message_id=message.provider_message_id,
        )
        .distinct()
        .first()
    )


def _move_identity(customer: Customer, message: InboundMessage) -> Customer:
    """WhatsApp's `user_changed_number` / `user_changed_user_id`: the same customer takes the new number
    or id (the system message itself is recorded on the timeline by _record). Replies then go to the
    new wa_id (webhooks.outbound reads it from this message)."""
    content = message.content or {}
    system_type = content.get("system_type", "")
    # `customer_changed_number` is the older API versions' name of the same event.
    if system_type in ("user_changed_number", "customer_changed_number") and content.get("new_wa_id"):
        phone = normalize_whatsapp_id(str(content["new_wa_id"]))
        return customer_move_identity(customer, phone=phone) if phone else customer
    if system_type == "user_changed_user_id" and content.get("new_user_id"):
        return customer_move_identity(customer, whatsapp_user_id=str(content["new_user_id"])[:140])
    return customer


def new_customer_tags(message: InboundMessage) -> list[str]:
    return ["auto-created", message.channel]


def tag_new_customers(tagged: list[tuple[Customer, list[str]]]) -> None:
    """Tag customers created in this transaction (with their shop loaded): the shops' tags in one read
    (created the first time), the links in one insert. No link can exist yet, so none is looked for;
    the pipeline tells the customers' change to listeners itself (events.customers_changed), as
    customers_add_tag does."""
    wanted: dict[int, set[str]] = {}
    shops = {}
    for customer, names in tagged:
        wanted.setdefault(customer.shop_id, set()).update(names)
        shops[customer.shop_id] = customer.shop
    if not wanted:
        return
    query = Q()
    for shop_id, names in wanted.items():
        query |= Q(shop_id=shop_id, name__in=names)
    found = {(tag.shop_id, tag.name): tag for tag in Tag.objects.filter(query)}
    for shop_id, names in wanted.items():
        missing = sorted(name for name in names if (shop_id, name) not in found)
        if missing:
            created = tags_get_or_create(shop=shops[shop_id], names=missing)
            found.update(((shop_id, tag.name), tag) for tag in created)
    through = Customer.tags.through
    links = [
        through(customer_id=customer.pk, tag_id=found[(customer.shop_id, name)].pk)
        for customer, names in tagged
        for name in dict.fromkeys(names)
    ]
    through.objects.bulk_create(links, ignore_conflicts=True)


def _record(customer: Customer, message: InboundMessage) -> Interaction:
    """The message as the timeline shows it; reactions, edits and revokes that arrived before it are
    applied to it now (webhooks.amendments)."""
    interaction = interaction_for(customer, message)
    interaction.save(force_insert=True)
    amendments.adopt(interaction)
    return interaction


def interaction_for(customer: Customer, message: InboundMessage) -> Interaction:
    """The message as the timeline shows it, not yet saved (webhooks.inbound_bulk saves many at once)."""
    location = message.location
    return Interaction(
        customer=customer,
        channel=message.channel,
        direction=Interaction.Direction.INBOUND,
        body=message.text,
        media=[
            {
                "url": m.url,
                "content_type": m.content_type,
                "filename": m.filename,
                "sha256": m.sha256,
                "media_id": m.media_id,
            }
            for m in message.media
        ],
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
        message_type=message.message_type[:32],
        content=message.content,
        context_message_id=message.context_id[:128],
        forwarded=message.forwarded,
        provider=message.provider,
        provider_message_id=message.provider_message_id,
        status="received",
        occurred_at=message.timestamp or timezone.now(),
        raw_payload={**message.raw, "_shop_address": message.shop_address},
    )


def _update_profile(customer: Customer, message: InboundMessage, *, created: bool) -> None:
    fields = profile_changes(customer, message)
    Customer.objects.filter(pk=customer.pk).update(**fields, updated_at=timezone.now())


def profile_changes(customer: Customer, message: InboundMessage) -> dict:
    """What `message` changes on its sender's profile (last contact, channel, name), set on `customer`
    too; the caller writes it."""
    at = message.timestamp or timezone.now()
    fields = {"last_contact_at": max(filter(None, [customer.last_contact_at, at]))}
    if customer.first_contact_at is None:
        fields["first_contact_at"] = at
    # Identifiers (phone, WhatsApp user id) are joined in _identify: one person, one profile.
    if not customer.preferred_channel:
        fields["preferred_channel"] = message.channel
    fields.update(_name_fields(customer, message))
    for name, value in fields.items():
        setattr(customer, name, value)
    return fields


def _name_fields(customer: Customer, message: InboundMessage) -> dict:
    """A name the customer gives in the text beats their WhatsApp display name; neither ever
    overwrites a name a person entered or confirmed.

    The profile name itself is kept as sent, in any script and order (the latest one: it is what the
    customer's WhatsApp shows now), as the display name until first/last name are known. It becomes
    first/last name only when name_from_profile can read it (a listed first name, in Latin script);
    otherwise a person confirms it on the customer page."""
    profile_name = clean_name(message.profile_name)[:255]
    fields = {"profile_name": profile_name} if profile_name and profile_name != customer.profile_name else {}
    if customer.name_source == Customer.NameSource.HUMAN:
        return fields
    from_text = name_from_text(message.text) if message.text else None
    if from_text and (from_text.first_name or from_text.last_name):
        replace = customer.name_source != Customer.NameSource.TEXT
        return fields | _fill(customer, from_text, Customer.NameSource.TEXT, replace=replace)
    if customer.name_source == Customer.NameSource.UNKNOWN and profile_name:
        from_profile = name_from_profile(profile_name)
        if from_profile and (from_profile.first_name or from_profile.last_name):
            return fields | _fill(customer, from_profile, Customer.NameSource.PROFILE, replace=False)
    return fields


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
