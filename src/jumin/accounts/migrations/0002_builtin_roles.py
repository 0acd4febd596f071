"""The built-in roles of the permission catalogue."""

from django.db import migrations

from jumin.accounts.permissions import BUILTIN_ROLES


def forwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for spec in BUILTIN_ROLES:
        Role.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "permissions": sorted(p.value for p in spec.permissions),
                "on_premises_only": spec.on_premises_only,
                "is_builtin": True,
            },
        )


def backwards(apps, schema_editor):
    apps.get_model("accounts", "Role").objects.filter(is_builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
