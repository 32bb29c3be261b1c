"""Keyset (seek) pagination for the customer list's deep pages.

An OFFSET makes the database walk past every earlier row, so page 2000 costs 2000 pages. A keyset
page starts right after the last row shown (its sort values, in the `after` cursor) and reads its rows
from the sort's index (Customer.Meta.indexes), so every page costs the same. Only Next and Previous
exist there; the first pages keep their numbers (customers/views.py).

Each sort is a list of keys in the exact order of customers.selectors.LIST_SORTS. The first key of the
default sort, last_contact_at, may be NULL (sorted last): rows with and without it are read as two
segments, so that each segment is a plain index range the database can seek to.
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import F, Q, QuerySet


@dataclass(frozen=True)
class Key:
    name: str  # the annotation (or field) compared
    descending: bool
    nullable: bool = False
    kind: str = "str"  # how the cursor's text becomes a value again: str, datetime, decimal, int


SORT_KEYS = {
    "last_contact": [
        Key("last_contact_at", True, nullable=True, kind="datetime"),
        Key("id", True, kind="int"),
    ],
    "name": [Key("sort_last_name", False), Key("sort_first_name", False), Key("id", False, kind="int")],
    "revenue": [Key("total_spent", True, kind="decimal"), Key("id", True, kind="int")],
}


@dataclass(frozen=True)
class KeysetPage:
    object_list: list
    has_next: bool
    has_previous: bool
    next_cursor: str
    previous_cursor: str


def encode_cursor(customer, sort: str) -> str:
    values = [_text(getattr(customer, key.name)) for key in SORT_KEYS[sort]]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list | None:
    """The sort values a cursor holds, or None for a cursor that is not one of ours (then page 1)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        texts = json.loads(raw)
        keys = SORT_KEYS[sort]
        if not isinstance(texts, list) or len(texts) != len(keys):
            return None
        return [_value(text, key) for text, key in zip(texts, keys, strict=True)]
    except (ValueError, TypeError, InvalidOperation, KeyError):
        return None


def keyset_page(queryset: QuerySet, sort: str, *, after=None, before=None, per_page: int) -> KeysetPage:
    """The `per_page` rows after the `after` position (or before `before`), in the sort's order.
    `queryset` is customers.selectors.customer_list's: it selects the name sort's keys."""
    keys = SORT_KEYS[sort]
    forward = before is None
    position = after if forward else before
    rows = []
    for condition, order in _segments(keys, position, forward):
        wanted = per_page + 1 - len(rows)
        if wanted <= 0:
            break
        rows += list(queryset.filter(condition).order_by(*order)[:wanted])
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not forward:
        rows.reverse()
    return KeysetPage(
        object_list=rows,
        has_next=bool(rows) and (more if forward else True),
        has_previous=bool(rows) and (True if forward else more),
        next_cursor=encode_cursor(rows[-1], sort) if rows else "",
        previous_cursor=encode_cursor(rows[0], sort) if rows else "",
    )


def _segments(keys: list[Key], values: list, forward: bool) -> list[tuple[Q, list]]:
    """(condition, order) of each index range to read, in reading order."""
    first, rest = keys[0], keys[1:]
    order = [_order(key, forward) for key in keys]
    if not first.nullable:
        return [(_beyond(keys, values, forward), order)]
    non_null, null = Q(**{f"{first.name}__isnull": False}), Q(**{f"{first.name}__isnull": True})
    rest_order = [_order(key, forward) for key in rest]
    if values[0] is not None:
        segments = [(non_null & _beyond(keys, values, forward), order)]
        return [*segments, (null, rest_order)] if forward else segments
    # Positioned among the rows without a value, which come last in the forward order.
    within = null & _beyond(rest, values[1:], forward)
    return [(within, rest_order)] if forward else [(within, rest_order), (non_null, order)]


def _beyond(keys: list[Key], values: list, forward: bool) -> Q:
    """Rows strictly past `values` in the reading direction, as nested ranges: key1 at or past v1, and
    (past v1, or equal on it and past on the next keys). The outer `at or past` is the index range."""
    key, value = keys[0], values[0]
    descending = key.descending == forward  # reading towards smaller values
    strictly = Q(**{f"{key.name}__{'lt' if descending else 'gt'}": value})
    if len(keys) == 1:
        return strictly
    at_or_past = Q(**{f"{key.name}__{'lte' if descending else 'gte'}": value})
    return at_or_past & (strictly | _beyond(keys[1:], values[1:], forward))


def _order(key: Key, forward: bool):
    # Exactly the index's order (or its reverse): PostgreSQL reads an index for an ORDER BY only when
    # the NULLS placement matches too, even on a column without NULLs.
    descending = key.descending == forward
    if key.nullable:
        return F(key.name).desc(nulls_last=True) if descending else F(key.name).asc(nulls_first=True)
    return F(key.name).desc() if descending else F(key.name).asc()


def _text(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _value(text, key: Key):
    if text is None:
        if not key.nullable:
            raise ValueError("a value is missing")
        return None
    if not isinstance(text, str):
        raise TypeError("cursor values are text")
    if key.kind == "datetime":
        return datetime.fromisoformat(text)
    if key.kind == "decimal":
        return Decimal(text)
    if key.kind == "int":
        return int(text)
    return text
