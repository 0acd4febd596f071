"""Refresh the built-in roles: 証明書の処分 (supervisor) and 支援措置の個別解除 (support-measure
officer) became permissions of their own."""

from django.db import migrations

from jumin.accounts.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_refresh_builtin_roles")]
    operations = [migrations.RunPython(_roles.refresh, migrations.RunPython.noop)]
