"""Shared by the migrations that write the built-in roles from the catalogue."""

from jumin.accounts.permissions import BUILTIN_ROLES


def refresh(apps, schema_editor):
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
