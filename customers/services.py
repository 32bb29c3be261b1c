"""Writes on the native CRM. Every edge (admin, pages, commands, webhooks) calls these.

Functions take keyword arguments and do one change atomically; validation of user input happens at the
edge, before they are called. The rules no caller may skip (text lengths, names cleaned of invisible
characters) are applied here as well, so a command or an API cannot bypass the forms: a too-long value
raises ValidationError.
"""

import logging
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from customers import events
from customers.figures import figures_refresh
from customers.models import FIGURE_FIELDS, AuditEntry, Customer, Membership, Note, Shop, Tag
from customers.text import clean_name

logger = logging.getLogger(__name__)

# What the dashboard's customer form may change; the rest (figures, contact times, consent) is recorded
# by the pipeline or by dedicated services.
CUSTOMER_EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "whatsapp_user_id",
    "preferred_channel",
    "language",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
)


# Fields copied from a merged customer into the kept one when the kept one has nothing there.
MERGE_FILLABLE_FIELDS = [*CUSTOMER_EDITABLE_FIELDS, "source"]
# Unique per shop: the merged customer must give these up before the kept one can take them.
UNIQUE_IDENTITY_FIELDS = ("phone", "whatsapp_user_id", "email")

# The longest text a person may type where the model sets no max_length (TextFields): a 1 MB note made
# a 2.9 MB customer page. A note is a few paragraphs; a shop's address and opening hours are quoted in
# automatic replies, which must stay an SMS or two. CharFields keep their model's max_length.
NOTE_MAX_CHARS = 5000
SHOP_TEXT_MAX_CHARS = 1000
SHOP_TEXT_LIMITS = {"address": SHOP_TEXT_MAX_CHARS, "opening_hours": SHOP_TEXT_MAX_CHARS}


def max_length_of(model, field: str, limits=None) -> int | None:
    return (limits or {}).get(field) or getattr(model._meta.get_field(field), "max_length", None)


def validate_lengths(model, values: dict, limits=None) -> None:
    """Refuse text longer than the field allows, whoever calls (form, command, API): SQLite would store
    it whole, PostgreSQL refuse it with an error the caller does not expect."""
    errors = {}
    for field, value in values.items():
        limit = max_length_of(model, field, limits)
        if isinstance(value, str) and limit and len(value) > limit:
            errors[field] = f"At most {limit:,} characters, please ({len(value):,} given)."
    if errors:
        raise ValidationError(errors)


def _clean_names(fields: dict, names=("first_name", "last_name")) -> dict:
    """`fields` with the names among them cleaned (see customers.text.clean_name)."""
    return {key: clean_name(value) if key in names else value for key, value in fields.items()}


# --- shops and people -------------------------------------------------------------------------------


def shop_create(*, name: str, country: str, language: str = "fr", slug: str = "", **fields) -> Shop:
    name = clean_name(name)
    validate_lengths(Shop, {"name": name, **fields}, SHOP_TEXT_LIMITS)
    base = slugify(slug or name)[:70] or "shop"
    candidate, n = base, 1
    while Shop.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return Shop.objects.create(
        name=name, slug=candidate, country=country.upper(), language=language, **fields
    )


def membership_add(*, shop: Shop, user, role: str = Membership.Role.STAFF) -> Membership:
    """Give `user` a role in `shop`, and the right to sign in to the back office."""
    membership, _ = Membership.objects.update_or_create(user=user, shop=shop, defaults={"role": role})
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return membership


# --- identity ---------------------------------------------------------------------------------------


def customer_find(
    *,
    shop: Shop,
    phone: str | None = None,
    whatsapp_user_id: str | None = None,
    email=None,
    external_address: str | None = None,
):
    """The shop's customer with this phone, WhatsApp user id, e-mail or sender address (in that order
    of trust), or None."""
    lookups = []
    if phone:
        lookups.append(Q(phone=phone))
    if whatsapp_user_id:
        lookups.append(Q(whatsapp_user_id=whatsapp_user_id))
    if email:
        lookups.append(Q(email__iexact=email))
    if external_address:
        lookups.append(Q(external_address=external_address))
    for lookup in lookups:
        customer = Customer.objects.filter(lookup, shop=shop).first()
        if customer is not None:
            return customer
    return None


def customer_get_or_create(
    *,
    shop: Shop,
    phone: str | None = None,
    whatsapp_user_id: str | None = None,
    email=None,
    external_address: str | None = None,
    defaults=None,
) -> tuple[Customer, bool]:
    """Find the customer by an identifier, or create them, safely under concurrency.

    Two first messages from one number at the same instant both miss the lookup; the per-shop unique
    constraints let exactly one insert through and the other finds the winner's row. `external_address`
    (a sender that is no phone and no WhatsApp user id, as the provider sent it) identifies a customer
    too, so that no sender is dropped.
    """
    if not (phone or whatsapp_user_id or email or external_address):
        raise ValueError("customer_get_or_create needs a phone, a WhatsApp user id, an e-mail or an address.")
    email = email.lower() if email else None
    defaults = _clean_names(defaults or {})
    ids = {
        "phone": phone,
        "whatsapp_user_id": whatsapp_user_id,
        "email": email,
        "external_address": external_address,
    }
    existing = customer_find(shop=shop, **ids)
    if existing is not None:
        return existing, False
    return customer_create_or_find(shop=shop, defaults=defaults, **ids)


def customer_create_or_find(*, shop: Shop, defaults=None, **ids) -> tuple[Customer, bool]:
    """Create the customer with these identifiers, already looked for and not found; when a concurrent
    first message created them meanwhile (a unique constraint refuses the insert), that one."""
    ids = {name: value for name, value in ids.items() if value}
    defaults = _clean_names(defaults or {})
    try:
        with transaction.atomic():
            return Customer.objects.create(shop=shop, **ids, **defaults), True
    except IntegrityError:
        existing = customer_find(shop=shop, **ids)
        if existing is None:
            raise
        return existing, False


def customer_identify(
    *, shop: Shop, phone: str | None = None, whatsapp_user_id: str | None = None, external_address=None
) -> Customer | None:
    """One person, one profile: the known customer of a message's sender, or None (create them with
    customer_create_or_find).

    A WhatsApp user first seen by user id only (a username, no phone) and later with both is one
    customer: the identifier the found record lacks is attached to it, and when each identifier
    already has its own record the two are merged (customer_merge, with its audit entry) into the
    older one. An identifier held by another record is never taken from it without that merge.
    `external_address` (a sender that is no phone and no user id) is looked up only without either.
    """
    if not (phone or whatsapp_user_id):
        if not external_address:
            return None
        return Customer.objects.filter(shop=shop, external_address=external_address).first()
    by_phone = Customer.objects.filter(shop=shop, phone=phone).first() if phone else None
    by_id = (
        Customer.objects.filter(shop=shop, whatsapp_user_id=whatsapp_user_id).first()
        if whatsapp_user_id
        else None
    )
    if by_phone and by_id and by_phone.pk != by_id.pk:
        keep, other = sorted((by_phone, by_id), key=lambda c: c.pk)
        logger.info(
            "customer %s and %s are one WhatsApp user (%s): merged", keep.pk, other.pk, whatsapp_user_id
        )
        return customer_merge(keep=keep, others=[other]).kept
    existing = by_phone or by_id
    if existing is not None:
        customer_attach_identity(existing, phone=phone, whatsapp_user_id=whatsapp_user_id)
    return existing


def customer_attach_identity(customer: Customer, *, phone=None, whatsapp_user_id=None) -> dict:
    """Give `customer` the identifiers it lacks (its own are kept); return what was set.

    A concurrent message may have given one to another record meanwhile: then nothing is set here, and
    the next message from that person merges the two (customer_identify).
    """
    fields = {}
    if phone and not customer.phone:
        fields["phone"] = phone
    if whatsapp_user_id and not customer.whatsapp_user_id:
        fields["whatsapp_user_id"] = whatsapp_user_id
    if not fields:
        return {}
    try:
        with transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(**fields, updated_at=timezone.now())
    except IntegrityError:
        return {}
    for name, value in fields.items():
        setattr(customer, name, value)
    return fields


def customer_move_identity(customer: Customer, *, phone=None, whatsapp_user_id=None) -> Customer:
    """WhatsApp says this person now has another number or user id (a `system` message): the same
    customer takes it. A record already holding the new one is merged into this customer, who keeps
    their history; the old identifier is replaced (it may go to someone else next)."""
    fields = {
        name: value for name, value in (("phone", phone), ("whatsapp_user_id", whatsapp_user_id)) if value
    }
    fields = {name: value for name, value in fields.items() if getattr(customer, name) != value}
    if not fields:
        return customer
    held_by = Q()
    for name, value in fields.items():
        held_by |= Q(**{name: value})
    others = list(Customer.objects.filter(held_by, shop_id=customer.shop_id).exclude(pk=customer.pk))
    with transaction.atomic():
        if others:
            customer = customer_merge(keep=customer, others=others).kept
        Customer.objects.filter(pk=customer.pk).update(**fields, updated_at=timezone.now())
    for name, value in fields.items():
        setattr(customer, name, value)
    return customer


# --- tags and segments ------------------------------------------------------------------------------


def tags_get_or_create(*, shop: Shop, names) -> list[Tag]:
    tags = []
    for name in names:
        name = name.strip()
        validate_lengths(Tag, {"name": name})
        if name:
            tag, _ = Tag.objects.get_or_create(shop=shop, name=name)
            tags.append(tag)
    return tags


def customers_add_tag(*, shop: Shop, customers, name: str) -> int:
    (tag,) = tags_get_or_create(shop=shop, names=[name])
    through = Customer.tags.through
    ids = [c.pk for c in customers]
    existing = set(through.objects.filter(tag=tag, customer_id__in=ids).values_list("customer_id", flat=True))
    rows = [through(customer_id=c.pk, tag_id=tag.pk) for c in customers if c.pk not in existing]
    through.objects.bulk_create(rows)
    events.customers_changed(shop_id=shop.pk, customer_ids=[row.customer_id for row in rows])
    return len(rows)


def tag_delete(*, tag: Tag) -> None:
    """Delete a tag, and tell listeners about the customers who carried it (the rows go with the tag,
    without the m2m signal that adding or removing one tag sends)."""
    with transaction.atomic():
        customer_ids = list(tag.customers.values_list("pk", flat=True))
        shop_id = tag.shop_id
        tag.delete()
        if customer_ids:
            events.customers_changed(shop_id=shop_id, customer_ids=customer_ids)


def customers_set_segment(*, customers, segment: str, actor=None) -> int:
    """Pin a segment chosen by a person; automatic recomputation then leaves these customers alone."""
    segment = Customer.Segment(segment)
    ids = [c.pk for c in customers]
    with transaction.atomic():
        count = Customer.objects.filter(pk__in=ids).update(
            segment=segment, segment_manual=True, updated_at=timezone.now()
        )
        for shop_id in {c.shop_id for c in customers}:
            events.customers_changed(
                shop_id=shop_id, customer_ids=[c.pk for c in customers if c.shop_id == shop_id]
            )
        AuditEntry.objects.bulk_create(
            AuditEntry(
                shop_id=c.shop_id,
                customer_id=c.pk,
                action=AuditEntry.Action.SEGMENT,
                actor=actor,
                details={"segment": segment.value},
            )
            for c in customers
        )
    return count


# --- merge ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeResult:
    kept: Customer
    merged_ids: list[int]
    moved: dict


def customer_merge(*, keep: Customer, others, actor=None) -> MergeResult:
    """Fold `others` into `keep`: nothing is lost.

    Interactions, notes, orders, tags and audit history move; empty fields of `keep` are filled from the
    others; opt-out and needs-attention are kept if any record had them; an audit entry on `keep`
    records what each merged record held.
    """
    others = [o for o in others if o.pk != keep.pk]
    if any(o.shop_id != keep.shop_id for o in others):
        raise ValueError("Customers of different shops cannot be merged.")
    moved = {"interactions": 0, "notes": 0, "orders": 0, "tags": 0}
    with transaction.atomic():
        keep = Customer.objects.select_for_update().get(pk=keep.pk)
        for other in (
            Customer.objects.select_for_update().filter(pk__in=[o.pk for o in others]).order_by("pk")
        ):
            snapshot = _customer_snapshot(other)
            counts = _move_related(source=other, target=keep)
            for key, value in counts.items():
                moved[key] += value
            # Listeners move what they hold on `other` to `keep` (the CRM: its contact and queue).
            events.customer_merging(shop_id=keep.shop_id, kept_id=keep.pk, merged_id=other.pk)
            other.delete()  # frees its phone/e-mail/WhatsApp id for the kept record
            _fill_from(keep, snapshot, other)
            not_kept = merge_identifiers_not_kept(keep, other)
            if not_kept:
                _note_not_kept(keep, snapshot, other.display_name, not_kept, actor)
            AuditEntry.objects.create(
                shop_id=keep.shop_id,
                customer=keep,
                action=AuditEntry.Action.MERGE,
                actor=actor,
                details={"merged_customer": snapshot, "moved": counts, "not_kept": not_kept},
            )
        keep.save()
        # The others' orders and messages are now the kept one's: its figures follow, in this transaction.
        figures_refresh([keep.pk])
        keep.refresh_from_db(fields=sorted(FIGURE_FIELDS))
    logger.info("customer %s: merged %s", keep.pk, [o.pk for o in others])
    return MergeResult(kept=keep, merged_ids=[o.pk for o in others], moved=moved)


def merge_identifiers_not_kept(keep: Customer, other: Customer) -> dict:
    """The phone, e-mail and WhatsApp id of `other` that `keep` does not take (it has its own): a merge
    must not lose a way to reach the person, so they go into a note and the audit entry."""
    return {
        field: getattr(other, field)
        for field in UNIQUE_IDENTITY_FIELDS
        if getattr(other, field) and getattr(other, field) != getattr(keep, field)
    }


def merge_conflicts(customers) -> dict:
    """Field -> the different values the records hold, for phone and e-mail: what a merge will not
    keep on the record (the admin asks for confirmation when there is any)."""
    conflicts = {}
    for field in ("phone", "email"):
        values = list(dict.fromkeys(getattr(c, field) for c in customers if getattr(c, field)))
        if len(values) > 1:
            conflicts[field] = values
    return conflicts


NOT_KEPT_LABELS = {"phone": _("phone"), "email": _("e-mail"), "whatsapp_user_id": _("WhatsApp id")}


def _note_not_kept(keep: Customer, snapshot: dict, name: str, not_kept: dict, actor) -> Note:
    # Written in the shop's language: the note is read on the customer's page by the shop's people.
    with translation.override(keep.shop.language or None):
        lines = [
            _("%(label)s: %(value)s") % {"label": NOT_KEPT_LABELS[field], "value": value}
            for field, value in not_kept.items()
        ]
        body = _("Merged with the record of %(name)s (#%(id)s); not kept on this record:") % {
            "name": name,
            "id": snapshot["id"],
        }
        return Note.objects.create(customer=keep, body="\n".join([body, *lines]), author=actor)


def _move_related(*, source: Customer, target: Customer) -> dict:
    counts = {
        "interactions": source.interactions.update(customer=target),
        "notes": source.notes.update(customer=target),
        "orders": source.orders.update(customer=target),
    }
    source.audit_entries.update(customer=target)
    new_tags = source.tags.exclude(pk__in=target.tags.values("pk"))
    counts["tags"] = new_tags.count()
    target.tags.add(*new_tags)
    return counts


def _fill_from(keep: Customer, snapshot: dict, other: Customer) -> None:
    for field in MERGE_FILLABLE_FIELDS:
        if not getattr(keep, field) and getattr(other, field):
            setattr(keep, field, getattr(other, field))
    if not keep.name_source and other.name_source:
        keep.name_source = other.name_source
    # Consent: if the person opted out under either record, they opted out.
    if other.opted_out_at and (not keep.opted_out_at or other.opted_out_at < keep.opted_out_at):
        keep.opted_out_at = other.opted_out_at
    keep.needs_attention = keep.needs_attention or other.needs_attention
    # Waiting since the earlier of the two hand-overs; whoever looked after either keeps looking after it.
    waits = [c.attention_since for c in (keep, other) if c.needs_attention and c.attention_since]
    keep.attention_since = min(waits, default=keep.attention_since)
    keep.assigned_to_id = keep.assigned_to_id or other.assigned_to_id
    keep.first_contact_at = _earliest(keep.first_contact_at, other.first_contact_at)
    keep.last_contact_at = _latest(keep.last_contact_at, other.last_contact_at)
    keep.created_at = min(keep.created_at, other.created_at)


def _earliest(a, b):
    return min((d for d in (a, b) if d is not None), default=None)


def _latest(a, b):
    return max((d for d in (a, b) if d is not None), default=None)


def _customer_snapshot(customer: Customer) -> dict:
    fields = ["id", *MERGE_FILLABLE_FIELDS, "segment", "needs_attention"]
    data = {field: getattr(customer, field) for field in fields}
    for field in ("opted_out_at", "first_contact_at", "last_contact_at", "created_at"):
        value = getattr(customer, field)
        data[field] = value.isoformat() if value else None
    data["tags"] = sorted(customer.tags.values_list("name", flat=True))
    return data


# --- notes ------------------------------------------------------------------------------------------


def note_add(*, customer: Customer, body: str, author=None) -> Note:
    body = body.strip()
    validate_lengths(Note, {"body": body}, {"body": NOTE_MAX_CHARS})
    return Note.objects.create(customer=customer, body=body, author=author)


# --- dashboard pages --------------------------------------------------------------------------------


def customer_update(
    *, customer: Customer, fields: dict, tag_names=None, segment=None, actor=None
) -> Customer:
    """Save a person's edit of a customer (already validated by the form).

    A name typed by a person is never overwritten by names read from messages; a segment chosen by hand
    is pinned (with its audit entry) like the admin's *Set segment*.
    """
    unknown = set(fields) - set(CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    fields = _clean_names(fields)
    validate_lengths(Customer, fields)
    with transaction.atomic():
        name_changed = any(
            fields.get(f, getattr(customer, f)) != getattr(customer, f) for f in ("first_name", "last_name")
        )
        for name, value in fields.items():
            setattr(customer, name, value)
        if name_changed:
            customer.name_source = Customer.NameSource.HUMAN
        customer.save()
        if tag_names is not None:
            customer.tags.set(tags_get_or_create(shop=customer.shop, names=tag_names))
        if segment and segment != customer.segment:
            customers_set_segment(customers=[customer], segment=segment, actor=actor)
            customer.refresh_from_db(fields=["segment", "segment_manual"])
    return customer


def customer_resolve_attention(*, customer: Customer) -> Customer:
    """A person from the shop has dealt with what the customer needed (it leaves the inbox)."""
    if customer.needs_attention or customer.attention_since:
        customer.needs_attention, customer.attention_since = False, None
        customer.save(update_fields=["needs_attention", "attention_since", "updated_at"])
    return customer


# Scripts whose names are written family name first, usually without a space ("山田太郎"): no split
# is safe, so the whole name becomes the first name (shown as written) until a person edits it.
_FAMILY_FIRST_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


def profile_name_split(profile_name: str) -> tuple[str, str]:
    """First and last name proposed for a confirmed WhatsApp profile name: the first word and the
    rest in the order written, or the whole name as first name for a family-name-first script."""
    name = clean_name(profile_name)
    letters = [ch for ch in name if ch.isalpha()]
    family_first = any(unicodedata.name(ch, "").startswith(_FAMILY_FIRST_SCRIPTS) for ch in letters)
    first, _, last = name.partition(" ")
    if family_first or not last:
        first, last = name, ""
    limit = max_length_of(Customer, "first_name")
    return first[:limit], last[:limit]


def customer_confirm_profile_name(*, customer: Customer) -> Customer:
    """A person confirms the WhatsApp profile name as the customer's name: first and last name from
    it, marked as a person's (never overwritten by names read from messages; editable afterwards)."""
    if not clean_name(customer.profile_name):
        raise ValidationError("This customer has no WhatsApp name to use.")
    customer.first_name, customer.last_name = profile_name_split(customer.profile_name)
    customer.name_source = Customer.NameSource.HUMAN
    customer.save()  # save(), not update(): the CRM outbox and the sync signals see the change
    return customer


SHOP_SETTINGS_FIELDS = (
    "name",
    "language",
    "time_zone",
    "address",
    "opening_hours",
    "website",
    "contact_phone",
    "auto_replies_enabled",
    "auto_reply_pause_minutes",
    "vip_min_spent",
    "vip_min_orders",
    "inactive_after_days",
)


def shop_update(*, shop: Shop, fields: dict) -> Shop:
    """Save an owner's edit of the shop's settings (already validated by the form)."""
    unknown = set(fields) - set(SHOP_SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    fields = _clean_names(fields, names=("name",))
    validate_lengths(Shop, fields, SHOP_TEXT_LIMITS)
    for name, value in fields.items():
        setattr(shop, name, value)
    shop.save(update_fields=[*fields])
    return shop
