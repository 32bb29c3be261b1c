"""Mask card numbers and IBANs in what was stored before the edge masked them (`mask_card_numbers`).

New events are masked before their INSERT (webhooks.inbound_events); this goes over the rows written
before that: the raw events and the customers' messages (text, raw payload, content, earlier versions
of edited texts). Batched by primary key, each batch in its own transaction, and idempotent: a masked
row has nothing left to mask. The database picks the candidate rows (a run of 12 digits, spaces or
dashes allowed), so that millions of messages without one are not read into Python.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from customers.models import Interaction, Shop
from webhooks.models import InboundEvent
from webhooks.providers import meta, twilio
from webhooks.sensitive import mask_payload, mask_stored, mask_text

BATCH = 500
# Twelve digits with at most three spaces or dashes between any two ("4111 - 1111"): what every card and
# IBAN holds.
CANDIDATE_RE = r"[0-9]([ -]{0,3}[0-9]){11}"
_PROVIDER_MASKS = {"twilio": twilio.mask, "meta": meta.mask}
_EDIT_IDS = frozenset({"provider_message_id", "replaced_at"})


class _ProviderIds:
    """A message's content keeps the ids either provider's payload keeps (an order's catalog_id)."""

    def __contains__(self, name: object) -> bool:
        return name in meta.IDENTIFIERS or name in twilio.IDENTIFIERS


_CONTENT_IDS = _ProviderIds()


@dataclass
class MaskReport:
    events: int = 0
    messages: int = 0


def stored_cards_mask(*, shop: Shop | None = None, dry_run: bool = False) -> MaskReport:
    """Mask the stored events and inbound messages (of `shop`, or all); count the rows changed (or that
    would change with `dry_run`)."""
    report = MaskReport()
    events = InboundEvent.objects.annotate(text=Cast("payload", TextField())).filter(text__regex=CANDIDATE_RE)
    messages = Interaction.objects.filter(direction=Interaction.Direction.INBOUND).annotate(
        text=Cast("raw_payload", TextField())
    )
    messages = messages.filter(text__regex=CANDIDATE_RE) | messages.filter(body__regex=CANDIDATE_RE)
    if shop is not None:
        events = events.filter(shop=shop)
        messages = messages.filter(customer__shop=shop)
    report.events = _in_batches(events, _event_changes, dry_run)
    report.messages = _in_batches(messages, _message_changes, dry_run)
    return report


def _in_batches(queryset, changes, dry_run: bool) -> int:
    changed, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(queryset.filter(pk__gt=last).order_by("pk").select_for_update(of=("self",))[:BATCH])
            if not rows:
                return changed
            last = rows[-1].pk
            for row in rows:
                fields = changes(row)
                if fields:
                    changed += 1
                    if not dry_run:
                        row.save(update_fields=fields)


def _event_changes(event: InboundEvent) -> list[str]:
    masked = _PROVIDER_MASKS.get(event.provider, mask_stored)(event.payload)
    if masked is event.payload:
        return []
    event.payload = masked
    return ["payload"]


def _message_changes(message: Interaction) -> list[str]:
    fields = []
    body, kinds = mask_text(message.body)
    if kinds:
        message.body, fields = body, [*fields, "body"]
    if isinstance(message.raw_payload, dict):
        raw = _PROVIDER_MASKS.get(message.provider, mask_stored)(message.raw_payload)
        if raw is not message.raw_payload:
            message.raw_payload, fields = raw, [*fields, "raw_payload"]
    for name, keep in (("content", _CONTENT_IDS), ("edits", _EDIT_IDS)):
        value, kinds = mask_payload(getattr(message, name), keep=keep)
        if kinds:
            setattr(message, name, value)
            fields.append(name)
    return fields
