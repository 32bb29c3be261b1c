"""The outbox rows the inbound path writes on every batch, in one SQL statement each.

The ORM's way (update the pending rows, read which exist, bulk_create the others as model instances)
cost 6 statements and a model instance per customer and row: a quarter of the worker's time per
message (bench/processing_profile.py, 2026-12-02). Here each is an INSERT … SELECT with ON CONFLICT on
the outbox's own unique constraints, so the database does the "absorb or add" and Python builds no
row. PostgreSQL and SQLite (3.24+ upsert, with the partial index's WHERE) only, like coccinelle/db.py.
Only names from the models' metadata and placeholders go into the text; every value is a parameter.
"""

from django.db import connections, router
from django.utils import timezone

from crm_backends.models import CustomerSync, SyncItem
from customers.models import Customer, Interaction


def _table(model, connection) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _execute(sql: str, params) -> int:
    connection = connections[router.db_for_write(SyncItem)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Ids per statement: far below PostgreSQL's 65,535 parameters and SQLite's 32,766 (an import or a
# segment set on a whole list changes tens of thousands of customers at once).
CHUNK = 5000


def _chunks(ids):
    ids = sorted(set(ids))  # in id order, so that two writers lock the same rows in the same order
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def customer_items_upsert(connection_id: int, customer_ids) -> None:
    """A pending push per customer: a row already waiting absorbs the change (its version goes up, so a
    worker pushing the older state right now pushes once more), the others are added."""
    connection = connections[router.db_for_write(SyncItem)]
    items, customers = _table(SyncItem, connection), _table(Customer, connection)
    now = timezone.now()
    for ids in _chunks(customer_ids):
        sql = (
            f"INSERT INTO {items} (connection_id, kind, customer_id, interaction_id, external_id, payload,"  # noqa: S608
            " state, version, attempts, next_attempt_at, last_error, created_at, updated_at)"
            " SELECT %s, 'customer', c.id, NULL, '', '{}', 'pending', 1, 0, %s, '', %s, %s"
            f" FROM {customers} c WHERE c.id IN ({_placeholders(ids)})"
            # The target names the partial unique constraint sync_item_one_pending_push_per_customer.
            " ON CONFLICT (connection_id, customer_id) WHERE kind = 'customer' AND state = 'pending'"
            f" DO UPDATE SET version = {items}.version + 1, next_attempt_at = excluded.next_attempt_at,"
            " attempts = 0"
        )
        _execute(sql, [connection_id, now, now, now, *ids])


def customer_syncs_mark_pending(connection_id: int, customer_ids) -> None:
    """The per-customer sync state the pages show: pending, except where the last push failed (that
    stays visible until a push succeeds)."""
    connection = connections[router.db_for_write(CustomerSync)]
    syncs, customers = _table(CustomerSync, connection), _table(Customer, connection)
    for ids in _chunks(customer_ids):
        sql = (
            f"INSERT INTO {syncs} (connection_id, customer_id, status, external_id, last_error, updated_at)"  # noqa: S608
            f" SELECT %s, c.id, 'pending', '', '', %s FROM {customers} c WHERE c.id IN ({_placeholders(ids)})"
            " ON CONFLICT (connection_id, customer_id)"
            f" DO UPDATE SET status = 'pending' WHERE {syncs}.status NOT IN ('pending', 'failed')"
        )
        _execute(sql, [connection_id, timezone.now(), *ids])


def interaction_items_insert(connection_id: int, interaction_ids) -> None:
    """One row per message to push (a message already queued or pushed keeps its row)."""
    connection = connections[router.db_for_write(SyncItem)]
    items, interactions = _table(SyncItem, connection), _table(Interaction, connection)
    now = timezone.now()
    for ids in _chunks(interaction_ids):
        sql = (
            f"INSERT INTO {items} (connection_id, kind, customer_id, interaction_id, external_id, payload,"  # noqa: S608
            " state, version, attempts, next_attempt_at, last_error, created_at, updated_at)"
            f" SELECT %s, 'interaction', i.customer_id, i.id, '', '{{}}', 'pending', 1, 0, %s, '', %s, %s"
            f" FROM {interactions} i WHERE i.id IN ({_placeholders(ids)})"
            # The target names the partial unique constraint sync_item_one_row_per_interaction.
            " ON CONFLICT (connection_id, interaction_id) WHERE kind = 'interaction' DO NOTHING"
        )
        _execute(sql, [connection_id, now, now, now, *ids])
