"""Refresh the built-in roles: 窓口担当 may enter 異動の取消し (reviewed like any change)."""

from django.db import migrations

from jumin.accounts.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_builtin_roles")]
    operations = [migrations.RunPython(_roles.refresh, migrations.RunPython.noop)]
