"""Trigram indexes for the customer search on PostgreSQL (customers/search.py): `LIKE '%…%'` on phones and
on e-mails and sender addresses as Django's `icontains` writes them (`UPPER(…::text)`), each read through
a GIN `gin_trgm_ops` index instead of scanning the shop. SQLite gets no index, which is fine at its sizes.

Not the names: `unaccent()` cannot be indexed (it is STABLE), and measured with bench/pages.py an
IMMUTABLE SQL wrapper around it made every name search twice as slow, index or not (the README says so).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # The expressions exactly as the search's lookups write them, so that the planner matches them.
    "CREATE INDEX IF NOT EXISTS customers_phone_trgm ON customers_customer "
    "USING gin ((phone::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_email_trgm ON customers_customer "
    "USING gin ((UPPER(email::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_external_address_trgm ON customers_customer "
    "USING gin ((UPPER(external_address::text)) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS customers_external_address_trgm",
    "DROP INDEX IF EXISTS customers_email_trgm",
    "DROP INDEX IF EXISTS customers_phone_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_customer_figures")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
