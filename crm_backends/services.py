"""CRM sync services: the outbox (crm_backends/outbox.py: changes become rows in the same transaction,
and a drain is asked for after the commit, one queued per connection), its drain (crm_backends/drain.py:
batches pushed in a constant number of queries each) and the operations behind the `sync_crm` command
and the admin's actions. Other code imports the outbox and drain functions from here.
"""

import json
import logging
from dataclasses import asdict

from django.db import transaction
from django.utils import timezone

from crm_backends import crypto
from crm_backends.base import CrmError
from crm_backends.drain import (  # noqa: F401 - the services' public names
    DrainReport,
    backoff,
    customer_payloads,
    due_count,
    interaction_payloads,
    sync_drain,
)
from crm_backends.models import CustomerSync, SyncItem
from crm_backends.outbox import (  # noqa: F401 - the services' public names
    drain_after_commit,
    drain_started,
    enqueue_drain,
    outbox_add_customers,
    outbox_add_interactions,
    outbox_add_statuses,
)
from crm_backends.registry import backend_for
from customers.models import Customer, Interaction
from customers.phones import try_normalize_phone

logger = logging.getLogger(__name__)


# --- operations (sync_crm command, admin actions) -----------------------------------------------------


def sync_retry_failed(connection, *, customer_ids=None, item_ids=None) -> int:
    """Queue failed rows again: all of the connection's, or those of some customers, or some rows
    (the Sync queue's selection: erasures have no customer any more)."""
    failed = SyncItem.objects.filter(connection=connection, state=SyncItem.State.FAILED)
    if customer_ids is not None:
        failed = failed.filter(customer_id__in=customer_ids)
    if item_ids is not None:
        failed = failed.filter(pk__in=item_ids)
    customers = set(failed.filter(kind=SyncItem.Kind.CUSTOMER).values_list("customer_id", flat=True))
    failed.filter(kind=SyncItem.Kind.CUSTOMER).delete()  # replaced by fresh pending rows below
    count = len(customers) + failed.update(
        state=SyncItem.State.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )
    CustomerSync.objects.filter(connection=connection, customer_id__in=customers).update(
        status=CustomerSync.Status.PENDING, last_error=""
    )
    outbox_add_customers(shop_id=connection.shop_id, customer_ids=customers)
    drain_after_commit(connection.pk)
    return count


def sync_full(connection) -> int:
    """Queue every customer of the shop (and their interactions not yet pushed)."""
    ids = list(Customer.objects.filter(shop_id=connection.shop_id).values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        outbox_add_customers(shop_id=connection.shop_id, customer_ids=ids[start : start + 5000])
    interaction_ids = Interaction.objects.filter(customer__shop_id=connection.shop_id).values_list(
        "pk", flat=True
    )
    outbox_add_interactions(shop_id=connection.shop_id, interaction_ids=list(interaction_ids))
    return len(ids)


def sync_pull(connection, *, backend=None) -> dict:
    """Import the CRM's contacts on first connection: link each to the matching customer (by phone or
    e-mail) or create one, and remember the CRM id so that nothing is duplicated on either side."""
    backend = backend or backend_for(connection)
    counts = {"linked": 0, "created": 0, "skipped": 0}
    shop = connection.shop
    for contact in backend.pull_contacts():
        with transaction.atomic():
            counts[_pull_one(connection, shop, contact)] += 1
    return counts


def _pull_one(connection, shop, contact) -> str:
    from customers.services import customer_find

    phone = try_normalize_phone(contact.phone, shop.country) if contact.phone else None
    email = contact.email.lower() or None
    if not (phone or email):
        return "skipped"
    customer = customer_find(shop=shop, phone=phone, email=email)
    outcome = "linked"
    if customer is None:
        customer = Customer.objects.create(
            shop=shop,
            phone=phone,
            email=email,
            first_name=contact.first_name[:100],
            last_name=contact.last_name[:100],
            name_source=Customer.NameSource.HUMAN,
            source=connection.backend,
        )
        outcome = "created"
    CustomerSync.objects.update_or_create(
        connection=connection,
        customer=customer,
        defaults={
            "external_id": contact.external_id,
            "status": CustomerSync.Status.SYNCED,
            "synced_at": timezone.now(),
        },
    )
    # It came from the CRM: no need to push it straight back.
    SyncItem.objects.filter(connection=connection, kind=SyncItem.Kind.CUSTOMER, customer=customer).delete()
    return outcome


def connection_test(connection) -> list:
    """Run the backend's checks and keep the report on the connection. Whatever the CRM (or a
    misconfiguration) does, the answer is a list of ✓/✗ lines, never an exception."""
    from crm_backends.base import Check

    try:
        checks = backend_for(connection).test_connection()
    except (CrmError, crypto.SecretsUnreadable) as exc:
        checks = [Check("configuration", False, str(exc))]
    except Exception:  # noqa: BLE001 - an owner is waiting on a page: a ✗ line, the details in the log
        logger.exception("CRM connection test of connection %s failed unexpectedly", connection.pk)
        checks = [Check("configuration", False, "unexpected error while testing; see the server log")]
    connection.last_test_at = timezone.now()
    connection.last_test_report = json.dumps([asdict(c) for c in checks])
    connection.save(update_fields=["last_test_at", "last_test_report"])
    return checks
