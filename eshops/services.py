"""The e-shop sync's writes: an e-shop's products, stock and orders applied to the catalogue and the
customers through their own services (catalog.services, customers.orders), never their models directly,
so that whatever those services do on a change (a back-in-stock notice, figures, segments, outgoing
webhooks) happens for the e-shop's changes too.

Decisions, in one place:
- Products are matched by the e-shop's id (ProductLink), then by name. A catalogue product of the same
  name that no e-shop product claims yet (made here, imported) is adopted: it is the same product. A
  second e-shop product with a title already taken by another e-shop product keeps its own product,
  named "Title (handle)": merging them would mix two products' variants and flip names back and forth.
- Variants are matched by the e-shop's id, then by SKU. A SKU changed in the e-shop retires the old
  variant (inactive, its external id cleared: holds and orders still point at it) and makes the new one.
  Two e-shop variants with one SKU (Shopify allows it): the second gets the generated SKU.
- What disappeared from the e-shop becomes inactive, never deleted; only after a complete full sync.
- Orders: `order_upsert` by reference; a cancelled (or fully void) order is removed so that it counts
  nowhere; a refund lowers the amount (the e-shop's net total), so nothing is counted twice.
"""

import json
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product, Variant
from catalog.services import product_update, product_upsert, stock_set, variant_update, variant_upsert_by_sku
from crm_backends.crypto import SecretsUnreadable
from customers.models import Order
from customers.orders import CustomerRef, order_delete, order_upsert
from customers.phones import try_normalize_phone
from eshops.models import EshopConnection, EshopEvent, ProductLink, VariantLink
from eshops.providers import PROVIDERS
from eshops.transport import EshopError
from eshops.values import ExternalOrder, ExternalProduct, ExternalVariant

logger = logging.getLogger(__name__)
_CENTS = Decimal("0.01")
EVENT_MAX_ATTEMPTS = 5


@dataclass
class SyncReport:
    products: int = 0
    variants: int = 0
    created: int = 0
    deactivated: int = 0
    rejected: int = 0
    orders: int = 0
    orders_skipped: int = 0
    error: str = ""

    def __str__(self):
        text = (
            f"{self.products} products, {self.variants} variants ({self.created} new), "
            f"{self.deactivated} deactivated, {self.rejected} rejected; "
            f"{self.orders} orders ({self.orders_skipped} not recorded: no phone or e-mail, or unreadable)"
        )
        return f"{text}; stopped: {self.error}" if self.error else text


# --- connections ----------------------------------------------------------------------------------------


def connection_save(*, shop, provider: str, fields: dict, secrets: dict) -> EshopConnection:
    """Create or update the shop's connection to `provider`; `secrets` typed now replace the stored
    ones of the same name (empty ones keep them). Addresses are validated (ValidationError)."""
    connection = EshopConnection.objects.filter(shop=shop, provider=provider).first()
    connection = connection or EshopConnection(shop=shop, provider=provider)
    for name, value in fields.items():
        setattr(connection, name, value)
    connection.full_clean(exclude=["shop"])
    connection.set_secrets({**connection.secrets, **{k: v for k, v in secrets.items() if v}})
    connection.save()
    return connection


# --- full sync ------------------------------------------------------------------------------------------


def connection_sync(connection: EshopConnection) -> SyncReport:
    """Read the whole catalogue from the e-shop and apply it; deactivate what is no longer there (only
    when the whole catalogue was read: a sync stopped half-way must not switch off the other half)."""
    module = PROVIDERS[connection.provider]
    report = SyncReport()
    seen_products, seen_variants, complete = set(), set(), True
    try:
        for external in module.fetch_products(connection):
            seen_products.add(external.external_id)
            try:
                seen_variants |= product_apply(connection, external, report=report)
            except (IntegrityError, DataError, ValueError) as exc:  # one product this shop cannot take
                complete = False
                report.rejected += 1
                logger.warning(
                    "E-shop product %s of %s not applied: %s", external.external_id, connection, exc
                )
    except (EshopError, SecretsUnreadable) as exc:
        report.error = str(exc)
        logger.warning("E-shop sync of %s stopped: %s", connection, exc)
    else:
        if complete:  # a product that could not be applied must not have its variants switched off
            report.deactivated += _deactivate_missing(connection, seen_products, seen_variants)
        _orders_sync(connection, report)
    connection.last_sync_at = timezone.now()
    connection.last_sync_report = json.dumps(asdict(report))
    connection.save(update_fields=["last_sync_at", "last_sync_report", "orders_synced_at"])
    return report


def _orders_sync(connection, report: SyncReport) -> None:
    """The orders changed since the last orders sync (an hour's overlap: clocks differ), else over the
    last ESHOPS_ORDERS_DAYS; applied one by one, idempotent by reference."""
    started = timezone.now()
    since = connection.orders_synced_at or started - timedelta(days=settings.ESHOPS_ORDERS_DAYS)
    try:
        for external in PROVIDERS[connection.provider].fetch_orders(connection, since - timedelta(hours=1)):
            try:
                order_apply(connection, external)
                report.orders += 1
            except (ValueError, IntegrityError, DataError) as exc:
                report.orders_skipped += 1
                logger.info("E-shop order %s not recorded: %s", external.reference, exc)
    except (EshopError, SecretsUnreadable) as exc:
        report.error = f"orders: {exc}"
        logger.warning("E-shop orders sync of %s stopped: %s", connection, exc)
        return
    connection.orders_synced_at = started


def product_apply(connection, external: ExternalProduct, *, report: SyncReport | None = None) -> set[str]:
    """One e-shop product and its variants into the catalogue (one transaction); the variant ids seen.
    Variants of the product the e-shop no longer lists are deactivated."""
    report = report if report is not None else SyncReport()
    with transaction.atomic():
        product = _product_for(connection, external)
        report.products += 1
        seen = set()
        for item in external.variants:
            variant = _variant_apply(connection, product, item, product_active=external.active, report=report)
            if variant is not None:
                seen.add(item.external_id)
        stale = Variant.objects.filter(
            shop=connection.shop, product=product, external_source=connection.provider, active=True
        ).exclude(external_id__in=seen)
        for variant in stale:
            variant_update(variant=variant, fields={"active": False})
            report.deactivated += 1
    return seen


def product_retire(connection, external_id: str) -> bool:
    """A product deleted in the e-shop: it and its variants become inactive here (a variation: its
    variant)."""
    link = ProductLink.objects.filter(connection=connection, external_id=external_id).first()
    if link is None:  # WooCommerce deletes a variation with the same topic: that variant alone
        variant_link = VariantLink.objects.filter(connection=connection, external_id=external_id).first()
        if variant_link is not None:
            variant_update(variant=variant_link.variant, fields={"active": False})
        return variant_link is not None
    with transaction.atomic():
        product_update(product=link.product, fields={"active": False})
        for variant in link.product.variants.filter(external_source=connection.provider, active=True):
            variant_update(variant=variant, fields={"active": False})
    return True


def stock_refresh(connection, inventory_item_id: str) -> bool:
    """Shopify's `inventory_levels/update`: the variant's total over all locations, asked for again
    (the webhook gives one location's level)."""
    link = (
        VariantLink.objects.filter(connection=connection, inventory_item_id=inventory_item_id)
        .select_related("variant")
        .first()
    )
    if link is None:
        return False
    stock = PROVIDERS[connection.provider].fetch_stock(connection, inventory_item_id)
    if stock is None:
        return False
    stock_set(variant=link.variant, stock=stock)
    return True


def _product_for(connection, external: ExternalProduct) -> Product:
    shop = connection.shop
    fields = {"category": external.category, "active": external.active}
    link = ProductLink.objects.filter(connection=connection, external_id=external.external_id).first()
    if link is not None:
        product = link.product
        name = _free_name(connection, external, keep=product)
        product_update(product=product, fields={**fields, "name": name})
        return product
    name = _free_name(connection, external, keep=None)
    product, _created = product_upsert(shop=shop, name=name, fields=fields)
    ProductLink.objects.update_or_create(
        connection=connection, external_id=external.external_id, defaults={"product": product}
    )
    return product


def _free_name(connection, external: ExternalProduct, *, keep: Product | None) -> str:
    """The title, or "Title (handle)" when another e-shop product already has it (see the module)."""
    title = (external.title or external.handle)[:200]
    candidates = [
        title,
        f"{title[:150]} ({external.handle[:45]})",
        f"{title[:150]} ({connection.provider} {external.external_id})",
    ]
    for name in candidates:
        other = (
            Product.objects.filter(shop=connection.shop, name=name)
            .exclude(pk=getattr(keep, "pk", None))
            .first()
        )
        if other is None:
            return name
        if keep is None and not ProductLink.objects.filter(product=other).exists():
            return name  # a product made here: adopted
    return candidates[-1]


def _variant_apply(connection, product, item: ExternalVariant, *, product_active, report) -> Variant | None:
    shop, source = connection.shop, connection.provider
    if item.price is None or item.price < 0:
        logger.info("E-shop variant %s %s skipped: no price", source, item.external_id)
        report.rejected += 1
        return None
    sku, current = _sku_and_current(shop, source, item)
    if current is not None and current.sku != sku:
        # The SKU changed in the e-shop; the catalogue's services do not rename SKUs: retire the old one.
        variant_update(variant=current, fields={"external_source": "", "external_id": "", "active": False})
    fields = {
        "product": product,
        "size": item.size,
        "color": item.color,
        "price": item.price.quantize(_CENTS),
        "active": item.active and product_active,
        "external_source": source,
        "external_id": item.external_id,
    }
    variant, created = variant_upsert_by_sku(shop=shop, sku=sku, fields=fields)
    if item.stock is not None:
        stock_set(variant=variant, stock=item.stock)
    link = {"variant": variant, "inventory_item_id": item.inventory_item_id}
    # Read first: update_or_create would lock and save the link at every sync, changed or not.
    if not VariantLink.objects.filter(connection=connection, external_id=item.external_id, **link).exists():
        VariantLink.objects.update_or_create(
            connection=connection, external_id=item.external_id, defaults=link
        )
    report.variants += 1
    report.created += int(created)
    return variant


def _sku_and_current(shop, source: str, item: ExternalVariant) -> tuple[str, Variant | None]:
    """The SKU to use (the e-shop's, unless another variant of this e-shop already has it: then the
    generated one) and the variant that has this e-shop id now, in one query."""
    rows = Variant.objects.filter(shop=shop).filter(
        Q(sku=item.sku) | Q(external_source=source, external_id=item.external_id)
    )
    current, taken = None, False
    for row in rows:
        if row.external_source == source and row.external_id == item.external_id:
            current = row
        elif row.sku == item.sku and row.external_source == source and row.external_id:
            taken = True
    sku = f"{'SHOPIFY' if source == 'shopify' else 'WC'}-{item.external_id}" if taken else item.sku[:64]
    return sku, current


def _deactivate_missing(connection, seen_products: set, seen_variants: set) -> int:
    count = 0
    with transaction.atomic():
        gone = Variant.objects.filter(
            shop=connection.shop, external_source=connection.provider, active=True
        ).exclude(external_id__in=seen_variants)
        for variant in gone:
            variant_update(variant=variant, fields={"active": False})
            count += 1
        links = ProductLink.objects.filter(connection=connection, product__active=True).exclude(
            external_id__in=seen_products
        )
        for link in links.select_related("product"):
            product_update(product=link.product, fields={"active": False})
    return count


# --- orders -------------------------------------------------------------------------------------------


def order_apply(connection, external: ExternalOrder) -> Order | None:
    """An e-shop order as the shop's order; None when cancelled (removed if it existed) or when it names
    nobody (no valid phone nor e-mail)."""
    shop = connection.shop
    if external.cancelled:
        existing = Order.objects.filter(shop=shop, reference=external.reference).first()
        if existing is not None:
            order_delete(order=existing)
        return None
    ref = _customer_ref(shop, external)
    if ref is None:
        raise ValueError("the order has no phone nor e-mail to find its customer by")
    fields = {"amount": external.amount.quantize(_CENTS), "currency": external.currency.upper()}
    if external.placed_at is not None:
        placed = external.placed_at
        fields["placed_at"] = placed if timezone.is_aware(placed) else timezone.make_aware(placed)
    order, _created = order_upsert(shop=shop, reference=external.reference, customer_ref=ref, fields=fields)
    return order


def _customer_ref(shop, external: ExternalOrder) -> CustomerRef | None:
    phone = next((p for raw in external.phones if (p := try_normalize_phone(raw, shop.country))), None)
    email = external.email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    if not (phone or email):
        return None
    return CustomerRef(
        phone=phone,
        email=email or None,
        first_name=external.first_name.strip()[:100],
        last_name=external.last_name.strip()[:100],
    )


# --- webhooks -----------------------------------------------------------------------------------------


def event_store(*, connection, topic: str, delivery_id: str, raw_body: bytes) -> EshopEvent | None:
    """Store a verified webhook (one INSERT) and queue its processing after commit; None when this
    delivery was stored before (the vendor's retry)."""
    from eshops.tasks import process_event

    try:
        with transaction.atomic():
            event = EshopEvent.objects.create(
                connection=connection,
                topic=topic[:64],
                delivery_id=delivery_id[:100],
                payload=raw_body.decode("utf-8"),
            )
    except IntegrityError:
        return None
    # robust: a broker that is down must not turn a stored event into a 500; beat's sweep hands it over.
    transaction.on_commit(lambda: process_event.delay(event.pk), robust=True)
    return event


def event_process(event: EshopEvent) -> str:
    """Apply a stored webhook; the event records what came of it. Idempotent: the same event applied
    twice leaves the same rows (upserts by id, SKU and reference). A failure that may pass (the e-shop
    unreachable or throttling, a concurrent sync's insert) leaves it pending for beat's sweep, up to
    EVENT_MAX_ATTEMPTS; anything else fails at once, kept for the admin's *Process again*."""
    connection = event.connection
    module = PROVIDERS[connection.provider]
    kind = module.TOPICS.get(event.topic)
    event.attempts += 1
    try:
        payload = json.loads(event.payload)
        if kind is None or not isinstance(payload, dict):
            outcome, state = f"topic {event.topic} not used", EshopEvent.State.IGNORED
        else:
            done = _HANDLERS[kind](connection, module, payload)
            state = EshopEvent.State.PROCESSED if done else EshopEvent.State.IGNORED
            outcome = "" if done else "nothing here to change (unknown item, or no customer to attach)"
    except (EshopError, SecretsUnreadable, IntegrityError, DataError, ValueError, KeyError, TypeError) as exc:
        outcome, state = f"{type(exc).__name__}: {exc}"[:1000], EshopEvent.State.FAILED
        transient = isinstance(exc, IntegrityError) or (isinstance(exc, EshopError) and not exc.permanent)
        if transient and event.attempts < EVENT_MAX_ATTEMPTS:
            state = EshopEvent.State.PENDING
        logger.warning("E-shop event %s (%s) attempt %s: %s", event.pk, event.topic, event.attempts, outcome)
    event.state, event.error, event.processed_at = state, outcome, timezone.now()
    event.save(update_fields=["state", "error", "processed_at", "attempts"])
    return state


def events_retry(events) -> int:
    """The admin's *Process again*: the events go back to pending and a task each is queued."""
    from eshops.tasks import process_event

    ids = list(events.values_list("pk", flat=True))
    EshopEvent.objects.filter(pk__in=ids).update(state=EshopEvent.State.PENDING, attempts=0)
    for pk in ids:
        transaction.on_commit(lambda pk=pk: process_event.delay(pk), robust=True)
    return len(ids)


def _on_product(connection, module, payload) -> bool:
    product_apply(connection, module.product_from_webhook(connection, payload))
    return True


def _on_product_delete(connection, module, payload) -> bool:
    return product_retire(connection, module.deleted_product_id(payload))


def _on_stock(connection, module, payload) -> bool:
    return stock_refresh(connection, module.stock_from_webhook(payload).inventory_item_id)


def _on_order(connection, module, payload) -> bool:
    external = module.order_from_webhook(payload)
    try:
        return order_apply(connection, external) is not None or external.cancelled
    except ValueError as exc:
        logger.info("E-shop order %s not recorded: %s", external.reference, exc)
        return False


_HANDLERS = {
    "product": _on_product,
    "product_delete": _on_product_delete,
    "stock": _on_stock,
    "order": _on_order,
}
