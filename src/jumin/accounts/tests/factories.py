"""Test data for staff, roles, org units and terminals (factory_boy)."""

from __future__ import annotations

import datetime as dt

import factory

from jumin.accounts.actor import Actor
from jumin.accounts.models import OrgUnit, Role, Staff, Terminal
from jumin.accounts.permissions import BUILTIN_ROLES

PASSWORD = "correct-horse-battery-42"


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"テスト課{n}")
    kind = OrgUnit.Kind.DIVISION


class TerminalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Terminal

    name = factory.Sequence(lambda n: f"TEST-{n:03d}")
    location = "本庁舎 1階"
    org_unit = factory.SubFactory(OrgUnitFactory)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff
        skip_postgeneration_save = True

    staff_id = factory.Sequence(lambda n: f"s{n:05d}")
    name = "試験 太郎"
    name_kana = "シケン タロウ"
    org_unit = factory.SubFactory(OrgUnitFactory)
    valid_from = factory.LazyFunction(lambda: dt.date(2020, 4, 1))
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create:
            return
        codes = extracted or ()
        for code in codes:
            spec = next(r for r in BUILTIN_ROLES if r.code == code)
            role, _ = Role.objects.get_or_create(
                code=code,
                defaults={
                    "name": spec.name,
                    "permissions": sorted(p.value for p in spec.permissions),
                    "is_builtin": True,
                },
            )
            self.roles.add(role)
        self.save()


def actor_for(staff: Staff, terminal: Terminal | None = None, channel: str = "web") -> Actor:
    return Actor.of(staff, terminal, channel)
