"""The folded name as a stored column with a trigram index, so that a name search reads an index instead
of folding every customer's name of the shop (customers/search.py, bench/pages.py).

`f_unaccent` wraps the unaccent extension (migration 0005) as IMMUTABLE, which a generated column
requires: the extension's function is only STABLE because its dictionary could be edited. Its rules
are fixed here, and the column is computed once per write of a name, never while searching.
"""

import django.db.models
from django.db import migrations

import customers.models


def _postgres(forward: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        if not forward:
            schema_editor.execute("DROP FUNCTION IF EXISTS f_unaccent(text)")
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
            )
            (schema,) = cursor.fetchone()
        # Schema-qualified, so that it reads the same whatever the session's search_path.
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text "
            "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
            f"AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$"
        )

    return run


def _index(forward: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        if forward:
            # With the shop first (btree_gin): a search reads its own shop's matches only, where a name
            # common in every shop would otherwise read ten shops' worth and filter.
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
            schema_editor.execute(
                "CREATE INDEX IF NOT EXISTS customers_search_name_trgm ON customers_customer "
                "USING gin (shop_id, search_name gin_trgm_ops)"
            )
        else:
            schema_editor.execute("DROP INDEX IF EXISTS customers_search_name_trgm")

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_search_indexes")]

    operations = [
        migrations.RunPython(_postgres(True), _postgres(False)),
        migrations.AddField(
            model_name="customer",
            name="search_name",
            field=django.db.models.GeneratedField(
                db_persist=True,
                expression=customers.models.FoldedName("first_name", "last_name"),
                output_field=django.db.models.TextField(),
            ),
        ),
        migrations.RunPython(_index(True), _index(False)),
    ]
