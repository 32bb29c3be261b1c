"""The products CSV import: columns `sku,name,size,color,price,stock` in any order (`category`
optional, others ignored). A product is the group of lines with the same name; a line updates the
variant of its SKU, so running the same file again changes nothing."""

import csv
import itertools
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from catalog.models import Product, Variant
from catalog.services import product_upsert, variant_upsert_by_sku
from customers.csv_io import ImportReport, RejectedLine  # the same report as the customers import
from customers.models import Shop

REQUIRED_COLUMNS = ["sku", "name", "size", "color", "price", "stock"]
OPTIONAL_COLUMNS = ["category"]
_LIMITS = {
    "sku": Variant._meta.get_field("sku").max_length,
    "name": Product._meta.get_field("name").max_length,
    "size": Variant._meta.get_field("size").max_length,
    "color": Variant._meta.get_field("color").max_length,
    "category": Product._meta.get_field("category").max_length,
}
MAX_PRICE = Decimal("99999999.99")  # the column's 10 digits, 2 after the point
MAX_STOCK = 2**31 - 1  # a PositiveIntegerField is a 32-bit integer on PostgreSQL


def import_products_csv(*, shop: Shop, stream) -> ImportReport:
    """Read variants from a CSV; each bad line is reported with its number and reason, the others go in.
    Counts are of variants (the lines): created, updated, unchanged."""
    report = ImportReport()
    # The same sniffing as the customer import: `,`, or `;` as French Excel saves it.
    header = stream.readline()
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(itertools.chain([header], stream), delimiter=delimiter)
    headers = [h.strip().lstrip("\ufeff").lower() for h in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        expected = ",".join(REQUIRED_COLUMNS)
        reason = f"missing column(s) in the header: {', '.join(missing)}; expected {expected}"
        report.rejected.append((1, reason))
        return report
    reader.fieldnames = headers
    for row in reader:
        line = reader.line_num
        try:
            with transaction.atomic():
                outcome = _import_row(shop, row)
        except RejectedLine as exc:
            report.rejected.append((line, str(exc)))
            continue
        except IntegrityError:
            report.rejected.append((line, "the database refused the line (a value already taken)"))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _clean_row(row: dict) -> dict:
    if None in row:
        raise RejectedLine("more cells than columns in the header")
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    data = {key: (row.get(key) or "").strip() for key in known}
    for column in ("sku", "name"):
        if not data[column]:
            raise RejectedLine(f"{column}: empty")
    for column, limit in _LIMITS.items():
        if len(data[column]) > limit:
            raise RejectedLine(f"{column}: at most {limit} characters ({len(data[column])} given)")
    data["price"] = _price(data["price"])
    data["stock"] = _stock(data["stock"])
    return data


def _price(text: str) -> Decimal:
    try:
        # `89,90` as a French spreadsheet writes it, and a currency sign left in the cell.
        price = Decimal(text.replace(",", ".").replace("€", "").replace(" ", "").replace("\u00a0", ""))
    except InvalidOperation:
        raise RejectedLine(f"price: “{text}” is not an amount such as 89.90") from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise RejectedLine(f"price: “{text}” is not an amount between 0 and {MAX_PRICE}")
    if price != price.quantize(Decimal("0.01")):
        raise RejectedLine(f"price: “{text}” has more than two decimals")
    return price.quantize(Decimal("0.01"))


def _stock(text: str) -> int:
    if not text.isdigit():
        raise RejectedLine(f"stock: “{text}” is not a whole number of units (0 or more)")
    stock = int(text)
    if stock > MAX_STOCK:
        raise RejectedLine(f"stock: “{text}” is too large")
    return stock


def _import_row(shop: Shop, row: dict) -> str:
    data = _clean_row(row)
    product_fields = {"category": data["category"]} if data["category"] else {}
    product, _ = product_upsert(shop=shop, name=data["name"], fields=product_fields)
    fields = {key: data[key] for key in ("size", "color", "price", "stock")}
    before = Variant.objects.filter(shop=shop, sku=data["sku"]).values(*fields, "product_id").first()
    fields["product"] = product
    variant, created = variant_upsert_by_sku(shop=shop, sku=data["sku"], fields=fields)
    if created:
        return "created"
    after = {key: getattr(variant, key) for key in ("size", "color", "price", "stock", "product_id")}
    return "unchanged" if before == after else "updated"
