"""Refresh the built-in roles: the independent functions of std 10.3 (住民票コードの付番, batch,
data extraction, J-LIS query, delivery switch, log settings) and the item visibility of
std 10.4 (本籍・筆頭者, 住民票コード, 在留資格等) became permissions of their own."""

from django.db import migrations

from jumin.accounts.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_login_place_ward_scope_scheduled")]
    operations = [migrations.RunPython(_roles.refresh, migrations.RunPython.noop)]
