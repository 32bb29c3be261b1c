"""Customer CSV: one format for every export (command, admin, pages) and the import that reads it back."""

import csv
import io
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.models import AuditEntry, Channel, Customer, Shop, Tag
from customers.phones import InvalidPhoneNumber, normalize_phone
from customers.selectors import customers_with_figures
from customers.services import customer_find, max_length_of, tags_get_or_create
from customers.text import clean_name

EXPORT_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "phone",
    "email",
    "whatsapp_user_id",
    "segment",
    "tags",
    "preferred_channel",
    "language",
    "needs_attention",
    "opted_out",
    "created_at",
    "first_contact_at",
    "last_contact_at",
    "orders_count",
    "total_spent",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "source",
]
TAG_SEPARATOR = ";"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value) -> str:
    """Make a cell safe to open in a spreadsheet: a formula-looking value is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _tags_cell(customer: Customer) -> str:
    # Each tag is neutralised, not only the cell's start: a spreadsheet told to split on ";" turns every
    # tag into a cell of its own, and a tag `=cmd|…` after the first would run there.
    return TAG_SEPARATOR.join(neutralize(name) for name in sorted(tag.name for tag in customer.tags.all()))


def _tag_names(cell: str) -> list[str]:
    """The tags of an imported cell, each with its neutralising quote removed."""
    return [_unneutralize(name.strip()) for name in cell.split(TAG_SEPARATOR) if name.strip()]


# --- export -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvDialect:
    """How the file is written: the standard (`,`, `.` decimals, no BOM), or for a spreadsheet in French
    (Excel opens a UTF-8 file as its legacy code page without a BOM, and splits on `;` where `,` is the
    decimal separator)."""

    delimiter: str = ","
    decimal: str = "."
    bom: bool = False


STANDARD = CsvDialect()
EXCEL_FR = CsvDialect(delimiter=";", decimal=",", bom=True)
DIALECTS = {"standard": STANDARD, "excel": EXCEL_FR}


def _row(customer: Customer, dialect: CsvDialect = STANDARD) -> list[str]:
    values = {
        "tags": _tags_cell(customer),
        "needs_attention": "yes" if customer.needs_attention else "no",
        "opted_out": "yes" if customer.opted_out_at else "no",
        "orders_count": customer.orders_count,
        # Quantized because SQLite sums decimals as floats (902.200000000000).
        "total_spent": str(Decimal(customer.total_spent).quantize(Decimal("0.01"))).replace(
            ".", dialect.decimal
        ),
    }
    row = []
    for column in EXPORT_COLUMNS:
        value = values[column] if column in values else getattr(customer, column)
        if isinstance(value, datetime):
            value = value.isoformat()
        row.append(neutralize(value))
    return row


def write_customers_csv(queryset, stream, dialect: CsvDialect = STANDARD) -> int:
    """Write the customers of `queryset` to a text stream; return how many rows were written."""
    if dialect.bom:
        stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=dialect.delimiter)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    customers = customers_with_figures(queryset).prefetch_related("tags").order_by("pk")
    for customer in customers.iterator(chunk_size=1000):
        writer.writerow(_row(customer, dialect))
        count += 1
    return count


def customers_csv_text(queryset) -> str:
    stream = io.StringIO()
    write_customers_csv(queryset, stream)
    return stream.getvalue()


# --- import -----------------------------------------------------------------------------------------

# Columns the import writes back; the figures (orders_count, total_spent) and timestamps it ignores.
_TEXT_COLUMNS = [
    "first_name",
    "last_name",
    "language",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
]
_SEGMENTS = set(Customer.Segment.values)
_CHANNELS = set(Channel.values)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.rejected)} rejected"
        )


class RejectedLine(Exception):
    pass


def import_customers_csv(*, shop: Shop, stream, actor=None) -> ImportReport:
    """Read customers from a CSV with export_customers' column names (any subset, any order).

    A line whose phone, e-mail or WhatsApp id matches an existing customer updates it (empty cells
    never erase data); otherwise a customer is created. Each bad line is reported with its line number
    and reason, and the others still go in: running the same file twice changes nothing the second time.
    """
    report = ImportReport()
    # The export's own files come back either way: `,` or, saved for French Excel, `;` (and a BOM).
    header = stream.readline()
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(itertools.chain([header], stream), delimiter=delimiter)
    headers = [h.strip().lstrip("\ufeff") for h in (reader.fieldnames or [])]
    known = set(EXPORT_COLUMNS)
    if not headers or not (set(headers) & known):
        report.rejected.append(
            (1, f"no known column in the header; expected some of: {', '.join(EXPORT_COLUMNS)}")
        )
        return report
    reader.fieldnames = headers
    for row in reader:
        line = reader.line_num
        try:
            with transaction.atomic():
                outcome = _import_row(shop, row, actor)
        except RejectedLine as exc:
            report.rejected.append((line, str(exc)))
            continue
        except IntegrityError:
            report.rejected.append((line, "phone, e-mail or WhatsApp id already belongs to another customer"))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _clean_row(shop: Shop, row: dict) -> dict:
    if None in row:
        raise RejectedLine("more cells than columns in the header")
    data = {key: (value or "").strip() for key, value in row.items() if key in EXPORT_COLUMNS}
    tags = _tag_names(data.pop("tags", ""))  # quoted tag by tag, so unquoted tag by tag
    data = {key: _unneutralize(value) for key, value in data.items()}
    data.update({key: clean_name(data[key]) for key in ("first_name", "last_name") if key in data})
    cleaned = {key: data[key] for key in _TEXT_COLUMNS if data.get(key)}
    if data.get("phone"):
        try:
            cleaned["phone"] = normalize_phone(data["phone"], shop.country)
        except InvalidPhoneNumber as exc:
            raise RejectedLine(f"phone: {exc}") from exc
    if data.get("email"):
        try:
            validate_email(data["email"])
        except ValidationError as exc:
            raise RejectedLine(f"email: “{data['email']}” is not a valid e-mail address") from exc
        cleaned["email"] = data["email"].lower()
    if data.get("whatsapp_user_id"):
        cleaned["whatsapp_user_id"] = data["whatsapp_user_id"]
    if data.get("segment"):
        if data["segment"] not in _SEGMENTS:
            raise RejectedLine(f"segment: “{data['segment']}” is not one of {', '.join(sorted(_SEGMENTS))}")
        cleaned["segment"] = data["segment"]
    if data.get("preferred_channel"):
        if data["preferred_channel"] not in _CHANNELS:
            raise RejectedLine(f"preferred_channel: “{data['preferred_channel']}” is not a known channel")
        cleaned["preferred_channel"] = data["preferred_channel"]
    if data.get("opted_out", "").lower() in ("yes", "true", "1"):
        cleaned["opted_out_at"] = _parse_time(data.get("last_contact_at")) or timezone.now()
    cleaned["tags"] = tags
    if not any(cleaned.get(k) for k in ("phone", "email", "whatsapp_user_id", "first_name", "last_name")):
        raise RejectedLine("the line has no name, phone, e-mail or WhatsApp id")
    if len(cleaned.get("country", "")) > 2:
        raise RejectedLine("country: use a two-letter code such as FR")
    _check_lengths(cleaned)
    return cleaned


def _check_lengths(cleaned: dict) -> None:
    """Reject the line when a value is longer than its field allows (the database would not take it)."""
    values = [(column, Customer, column, value) for column, value in cleaned.items() if column != "tags"]
    values += [("tags", Tag, "name", name) for name in cleaned["tags"]]
    for column, model, model_field, value in values:
        limit = max_length_of(model, model_field)
        if isinstance(value, str) and limit and len(value) > limit:
            raise RejectedLine(f"{column}: at most {limit} characters ({len(value)} given)")


def _import_row(shop: Shop, row: dict, actor) -> str:
    cleaned = _clean_row(shop, row)
    tags = cleaned.pop("tags")
    customer = customer_find(
        shop=shop,
        phone=cleaned.get("phone"),
        whatsapp_user_id=cleaned.get("whatsapp_user_id"),
        email=cleaned.get("email"),
    )
    if customer is None:
        if not any(cleaned.get(k) for k in ("phone", "email", "whatsapp_user_id")):
            raise RejectedLine("a new customer needs a phone, an e-mail or a WhatsApp id to be matched later")
        customer = Customer.objects.create(
            shop=shop,
            source="import",
            name_source=_name_source(cleaned),
            # A segment brought from another system is a person's choice: keep it from recomputation.
            segment_manual="segment" in cleaned,
            **cleaned,
        )
        customer.tags.add(*tags_get_or_create(shop=shop, names=tags))
        AuditEntry.objects.create(shop=shop, customer=customer, action=AuditEntry.Action.IMPORT, actor=actor)
        return "created"
    changed = _merge_into(customer, cleaned)
    new_tags = [t for t in tags_get_or_create(shop=shop, names=tags) if t not in set(customer.tags.all())]
    if new_tags:
        customer.tags.add(*new_tags)
    if changed:
        customer.save()
    return "updated" if changed or new_tags else "unchanged"


def _merge_into(customer: Customer, cleaned: dict) -> list[str]:
    """Apply imported values; a cell only fills or corrects, an empty cell never erases."""
    changed = []
    for key, value in cleaned.items():
        if key == "opted_out_at":
            if customer.opted_out_at is None:
                customer.opted_out_at = value
                changed.append(key)
        elif getattr(customer, key) != value:
            setattr(customer, key, value)
            changed.append(key)
    if {"first_name", "last_name"} & set(changed):
        customer.name_source = Customer.NameSource.HUMAN
    if "segment" in changed:
        customer.segment_manual = True
    return changed


def _name_source(cleaned: dict) -> str:
    return Customer.NameSource.HUMAN if cleaned.get("first_name") or cleaned.get("last_name") else ""


def _unneutralize(text: str) -> str:
    """Undo neutralize() so an export imported back gives the same values (`'+3361…` -> `+3361…`)."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def _parse_time(text: str | None):
    return parse_datetime(text) if text else None
