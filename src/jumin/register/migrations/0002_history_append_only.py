"""History rows are never updated or deleted (DESIGN invariant 2, std 1.2.1)."""

from django.db import migrations

from jumin.audit.triggers import allow_changes, append_only

HISTORY = "register_residenthistory"


def forwards(apps, schema_editor):
    append_only(schema_editor.connection, HISTORY)


def backwards(apps, schema_editor):
    allow_changes(schema_editor.connection, HISTORY)


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
