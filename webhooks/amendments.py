"""Reactions, edits and revokes: they change a message already on the timeline instead of adding one.

WhatsApp sends each as a message of its own that names its target by provider id. When the target is
found among the shop's interactions of that provider, it gets the change (the reaction in `reactions`,
the earlier text in `edits`, `deleted_at`) and nothing new is recorded, so nothing is answered either.

A target that is not here (the change arrived before its message, or it names a message of ours sent
before ids were kept) is not an error to retry: the pipeline records the change as its own small
timeline line ("reacted 👍 to a message we do not have"), and when the target is recorded later it
adopts those lines (`adopt`): the change is applied and the line removed. Applying is idempotent: every
change carries the provider id of the event that made it, and applying the same event again (a replay,
`reprocess_inbound`) changes nothing.
"""

from datetime import UTC, datetime

from django.utils import timezone

from customers.models import Customer, Interaction
from webhooks.inbound import InboundMessage
from webhooks.sensitive import mask_text

AMENDING_TYPES = ("reaction", "edit", "revoke")


def amend(customer: Customer, message: InboundMessage) -> Interaction | None:
    """Apply a reaction, edit or revoke to its target and return the target; None when the message is
    none of these or its target is not here (the caller then records it as a message of its own)."""
    if message.message_type not in AMENDING_TYPES:
        return None
    target_id = str(message.content.get("target_id") or "")
    if not target_id:
        return None
    # Locks in the order every writer takes them (the turn's decision too): the customer, then the
    # message; taken the other way round, two workers could wait on each other.
    Customer.objects.select_for_update(of=("self",)).filter(pk=customer.pk).values_list("pk").first()
    target = (
        Interaction.objects.select_for_update(of=("self",))
        .filter(customer__shop_id=customer.shop_id, provider=message.provider, provider_message_id=target_id)
        .first()
    )
    if target is None or not _may_amend(target, message.message_type, customer.pk):
        return None
    at = message.timestamp or timezone.now()
    _apply(target, message.message_type, message.content, at, message.provider_message_id, customer.pk)
    # The same change recorded as a line of its own before its target was here (a replay after
    # the target came through another path): the target has it now.
    Interaction.objects.filter(
        customer__shop_id=customer.shop_id,
        message_type__in=AMENDING_TYPES,
        provider=message.provider,
        provider_message_id=message.provider_message_id,
    ).exclude(pk=target.pk).delete()
    return target


def adopt(interaction: Interaction) -> None:
    """Apply to a message just recorded the reactions, edits and revokes that arrived before it."""
    if not interaction.provider_message_id:
        return
    orphans = Interaction.objects.filter(
        customer__shop_id=interaction.customer.shop_id,
        provider=interaction.provider,
        message_type__in=AMENDING_TYPES,
        content__target_id=interaction.provider_message_id,
    ).order_by("occurred_at", "pk")
    for orphan in orphans:
        if _may_amend(interaction, orphan.message_type, orphan.customer_id):
            _apply(
                interaction,
                orphan.message_type,
                orphan.content,
                orphan.occurred_at,
                orphan.provider_message_id,
                orphan.customer_id,
            )
            orphan.delete()


def _may_amend(target: Interaction, kind: str, customer_id: int) -> bool:
    """A WhatsApp conversation is one customer and the shop: the customer reacts to any message of
    their own conversation (theirs or the shop's), and edits or deletes only their own."""
    if target.customer_id != customer_id:
        return False
    return kind == "reaction" or target.direction == Interaction.Direction.INBOUND


def _apply(target: Interaction, kind: str, content: dict, at: datetime, event_id: str, customer_id: int):
    changed = {"reaction": _react, "edit": _edit, "revoke": _revoke}[kind](
        target, content, at, event_id, customer_id
    )
    if changed:
        target.save(update_fields=changed)


def _react(target, content, at, event_id, customer_id) -> list[str]:
    """One reaction per person per message: a newer one replaces theirs; an empty emoji removes it and
    is kept as an empty entry, so that a replay of their older reaction cannot bring it back."""
    mine = [r for r in target.reactions if r.get("customer_id") == customer_id]
    if any(r.get("provider_message_id") == event_id or r.get("at", "") > _iso(at) for r in mine):
        return []  # already applied, or a newer reaction of theirs is there
    others = [r for r in target.reactions if r.get("customer_id") != customer_id]
    entry = {
        "emoji": str(content.get("emoji") or "")[:32],
        "at": _iso(at),
        "provider_message_id": event_id,
        "customer_id": customer_id,
    }
    target.reactions = [*others, entry]
    return ["reactions"]


def _edit(target, content, at, event_id, customer_id) -> list[str]:
    """The new text replaces the body; the one it replaces goes to `edits`. An older edit arriving
    after a newer one only joins the history (the newest text stays)."""
    if any(e.get("provider_message_id") == event_id for e in target.edits):
        return []
    # The providers mask what they read; masked again here, since an edit's new text is the one text
    # that lands on another message's body and history, whoever built the InboundMessage.
    text, _ = mask_text(str(content.get("text") or ""))
    if target.edited_at and at < target.edited_at:
        entry = {"body": text, "replaced_at": _iso(at), "provider_message_id": event_id}
        target.edits = sorted([*target.edits, entry], key=lambda e: e.get("replaced_at", ""))
        return ["edits"]
    entry = {"body": target.body, "replaced_at": _iso(at), "provider_message_id": event_id}
    target.edits = [*target.edits, entry]
    target.body, target.edited_at = text, at
    return ["edits", "body", "edited_at"]


def _revoke(target, content, at, event_id, customer_id) -> list[str]:
    if target.deleted_at is not None:
        return []
    target.deleted_at = at
    return ["deleted_at"]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
