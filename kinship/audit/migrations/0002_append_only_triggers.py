"""Database triggers that refuse UPDATE and DELETE on the audit log (see kinship/audit/triggers.py), so even raw
SQL through the application's connection cannot rewrite history. A database owner can still drop them; the hash
chain catches that (manage.py audit_verify)."""

from django.db import migrations

from kinship.audit.triggers import create_triggers, drop_triggers


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: create_triggers(schema_editor.connection),
            lambda apps, schema_editor: drop_triggers(schema_editor.connection),
        )
    ]
