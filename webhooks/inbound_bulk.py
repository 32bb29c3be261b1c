"""A batch's plain messages recorded together: the set-based path of the inbound pipeline.

Most of what arrives is a customer writing words (no photo to download, no reaction, no change of
number) from a number the shop knows or has never seen. For those, the worker's batch does in a few
statements what `webhooks.pipeline.inbound_receive` does one message at a time: the senders looked up
at once, the new customers created and tagged at once, the messages inserted at once, the profiles
updated at once, the turns scheduled: half a statement a message in a batch of 50, against ~25 for a
message alone (bench/webhook.py prints both).

Everything else goes through the pipeline one event at a time, as before: media (downloaded by a
task), reactions, edits and revokes, system messages, a WhatsApp user id to join to a phone, replays,
and every event of a person who has any such event in the batch (so that a person's messages are still
recorded in the order they came). Both paths build the same rows with the same functions
(`interaction_for`, `profile_changes`, `new_customer_defaults`, `tag_new_customers`).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from coccinelle import db
from customers import cached, events
from customers.models import Customer, Interaction, Shop
from webhooks import amendments, autoreply
from webhooks.inbound import InboundMessage
from webhooks.models import InboundEvent
from webhooks.pipeline import (
    interaction_for,
    new_customer_defaults,
    new_customer_tags,
    profile_changes,
    tag_new_customers,
)
from webhooks.providers import meta, twilio

logger = logging.getLogger(__name__)

# Message types that change something else than the timeline (webhooks.amendments, a change of number):
# always one at a time, through the pipeline.
NOT_PLAIN = frozenset({*amendments.AMENDING_TYPES, "system"})


@dataclass
class Plain:
    event: InboundEvent
    message: InboundMessage
    shop: Shop
    customer: Customer | None = None  # found by split(), or made by record()


def split(batch: list[InboundEvent]) -> tuple[list[Plain], list[InboundEvent]]:
    """The batch's plain messages (recorded together by `record`) and the rest (one at a time),
    each in arrival order. Two reads: the messages already recorded (replays), the known senders."""
    candidates, held = _candidates(batch)
    replays = _replays(candidates)
    held |= {_person(item) for item in replays}
    # A person with an event in the rest has all theirs there, so that theirs keep their order.
    plain = [item for item in candidates if _person(item) not in held and _sender(item.event) not in held]
    _identify(plain)
    kept = {id(item.event) for item in plain}
    return plain, [event for event in batch if id(event) not in kept]


def record(plain: list[Plain]) -> None:
    """Record the plain messages (from `split`), in the caller's transaction: what
    `inbound_receive` does for each, in a fixed number of statements for all."""
    new: dict[int, Customer] = {}  # id() of an unsaved customer -> it
    tags = []
    for item in plain:
        if item.customer.pk is None and id(item.customer) not in new:
            new[id(item.customer)] = item.customer
            tags.append((item.customer, new_customer_tags(item.message)))
    changed = _profiles_changed(plain, new)
    Customer.objects.bulk_create(list(new.values()))
    tag_new_customers(tags)
    messages = [interaction_for(item.customer, item.message) for item in plain]
    Interaction.objects.bulk_create(messages)
    _adopt_amendments(messages)
    _update_known(changed)
    for item, message in zip(plain, messages, strict=True):
        item.event.shop_id, item.event.customer_id = item.shop.pk, item.customer.pk
        autoreply.turn_schedule(message, message_type=item.message.message_type)
    _tell(plain, messages, new)
    for item in plain:
        logger.info(
            "inbound %s %s recorded for shop %s customer %s%s",
            item.message.provider,
            item.message.channel,
            item.shop.slug,
            item.customer.pk,
            " (new customer)" if id(item.customer) in new else "",
        )


# --- split ----------------------------------------------------------------------------------------


def _candidates(batch: list[InboundEvent]) -> tuple[list[Plain], set]:
    """The plain messages of the batch; the people and senders of every other event (held)."""
    shops: dict[tuple[str, str], Shop | None] = {}
    candidates, held = [], set()
    for event in batch:
        message = _parsed(event) if event.kind == InboundEvent.Kind.MESSAGE else None
        shop = None
        if message is not None:
            key = (message.provider, message.shop_address)
            if key not in shops:
                shops[key] = cached.shop_for_address(provider=message.provider, address=message.shop_address)
            shop = shops[key]
        if shop is not None and _is_plain(message):
            candidates.append(Plain(event, message, shop))
        elif event.kind == InboundEvent.Kind.MESSAGE:
            # Whatever it is, it goes through the pipeline, and so does everything its sender sent.
            held.add(_sender(event))
            if shop is not None and message.sender_phone:
                held.add((shop.pk, message.sender_phone))
    return candidates, held


def _parsed(event: InboundEvent) -> InboundMessage | None:
    """The event's message, or None when it is not one plain message (the pipeline's path says why)."""
    try:
        if event.provider == twilio.PROVIDER:
            return twilio.parse_inbound(event.payload)
        items = [item for item in meta.parse_notification(event.payload) if isinstance(item, InboundMessage)]
    except Exception:  # noqa: BLE001 - unreadable: the one-at-a-time path records why, on the event
        return None
    return items[0] if len(items) == 1 else None


def _is_plain(message: InboundMessage) -> bool:
    # A phone and nothing else to join to it: customer_identify's attach and merge are the pipeline's.
    return (
        message.message_type not in NOT_PLAIN
        and not message.media
        and bool(message.sender_phone)
        and not message.sender_whatsapp_id
        and bool(message.provider_message_id)
    )


def _replays(candidates: list[Plain]) -> list[Plain]:
    """Messages already recorded (a Reprocess, an earlier attempt that committed): the pipeline's path
    records nothing twice, and says so."""
    if not candidates:
        return []
    ids: dict[str, set[str]] = defaultdict(set)
    for item in candidates:
        ids[item.message.provider].add(item.message.provider_message_id)
    query = Q(pk__in=[])
    for provider, keys in ids.items():
        query |= Q(provider=provider, provider_message_id__in=keys)
    seen = set(Interaction.objects.filter(query).values_list("provider", "provider_message_id"))
    return [item for item in candidates if (item.message.provider, item.message.provider_message_id) in seen]


def _identify(plain: list[Plain]) -> None:
    """The senders' customers by phone across channels, in one read; a sender not known yet gets one
    unsaved customer (shared by their messages of the batch, whatever the channel)."""
    if not plain:
        return
    phones: dict[int, set[str]] = defaultdict(set)
    for item in plain:
        phones[item.shop.pk].add(item.message.sender_phone)
    query = Q()
    for shop_id, numbers in phones.items():
        query |= Q(shop_id=shop_id, phone__in=numbers)
    known = {(customer.shop_id, customer.phone): customer for customer in Customer.objects.filter(query)}
    for item in plain:
        key = _person(item)
        if key not in known:
            known[key] = Customer(
                shop=item.shop, phone=item.message.sender_phone, **new_customer_defaults(item.message)
            )
        item.customer = known[key]
        item.customer.shop = item.shop  # loaded once: the reply reads it


def _person(item: Plain) -> tuple:
    return (item.shop.pk, item.message.sender_phone)


def _sender(event: InboundEvent) -> tuple:
    return ("sender", event.provider, event.shop_address, event.sender)


# --- record ---------------------------------------------------------------------------------------


def _profiles_changed(plain: list[Plain], new: dict[int, Customer]) -> dict[frozenset, list[Customer]]:
    """Apply each message to its sender's profile in memory, in arrival order (a name given in the
    second message of the batch beats the first's); the known customers to update, by the fields
    that changed (one UPDATE each). New customers are inserted as they end up."""
    fields_of: dict[int, set[str]] = {}
    known: dict[int, Customer] = {}
    for item in plain:
        fields = profile_changes(item.customer, item.message)
        if id(item.customer) in new:
            continue
        known[item.customer.pk] = item.customer
        fields_of.setdefault(item.customer.pk, set()).update(fields)
    groups: dict[frozenset, list[Customer]] = defaultdict(list)
    now = timezone.now()
    for pk, fields in fields_of.items():
        known[pk].updated_at = now
        groups[frozenset({*fields, "updated_at"})].append(known[pk])
    return groups


def _update_known(groups: dict[frozenset, list[Customer]]) -> None:
    for fields, customers in groups.items():
        db.rows_update(customers, sorted(fields))  # in id order (rows_update): two batches lock alike


def _adopt_amendments(messages: list[Interaction]) -> None:
    """Reactions, edits and revokes that arrived before their message (rare): one read for the batch,
    and the pipeline's adopt() for the messages that have some."""
    ids: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        ids[message.provider].append(message.provider_message_id)
    query = Q(pk__in=[])
    for provider, keys in ids.items():
        query |= Q(provider=provider, content__target_id__in=keys)
    shops = {message.customer.shop_id for message in messages}
    waiting = Interaction.objects.filter(
        query, customer__shop_id__in=shops, message_type__in=amendments.AMENDING_TYPES
    )
    targets = set(waiting.values_list("provider", "content__target_id"))
    for message in messages:
        if (message.provider, message.provider_message_id) in targets:
            amendments.adopt(message)


def _tell(plain: list[Plain], messages: list[Interaction], new: dict[int, Customer]) -> None:
    """Bulk inserts and updates send no signal: the changes are told to listeners (the customers'
    figures, the CRM outbox, outgoing webhooks) here, once per shop under the worker's
    events.collected()."""
    customers, recorded, created = defaultdict(set), defaultdict(set), defaultdict(set)
    for item, message in zip(plain, messages, strict=True):
        customers[item.shop.pk].add(item.customer.pk)
        recorded[item.shop.pk].add(message.pk)
        if id(item.customer) in new:
            created[item.shop.pk].add(item.customer.pk)
    for shop_id in customers:
        events.customers_created(shop_id=shop_id, customer_ids=created[shop_id])
        events.customers_changed(shop_id=shop_id, customer_ids=customers[shop_id])
        events.interactions_recorded(shop_id=shop_id, interaction_ids=recorded[shop_id])
