"""Make the operation log append-only and start its chain."""

from django.db import migrations

from jumin.audit import triggers
from jumin.audit.chain import GENESIS_HASH


def forwards(apps, schema_editor):
    Head = apps.get_model("audit", "OperationLogHead")
    Head.objects.get_or_create(pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})
    triggers.install(schema_editor.connection)


def backwards(apps, schema_editor):
    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
