"""PostgreSQL's `unaccent` extension, for accent-insensitive search (customers/search.py). A trusted
extension: the database's owner may create it. SQLite gets a Python function instead (customers/apps.py)."""

from django.db import migrations


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_message_fidelity")]

    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop)]
