"""Reads of staff, roles, org units and terminals."""

from __future__ import annotations

from django.db.models import QuerySet

from jumin.accounts.models import OrgUnit, Role, Staff, Terminal


def staff_list() -> QuerySet[Staff]:
    return Staff.objects.select_related("org_unit").prefetch_related("roles").order_by("staff_id")


def role_list() -> QuerySet[Role]:
    return Role.objects.order_by("code")


def org_unit_list() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.order_by("code")


def terminal_list() -> QuerySet[Terminal]:
    return Terminal.objects.select_related("org_unit").order_by("name")


def terminal_by_name(name: str) -> Terminal | None:
    return Terminal.objects.select_related("org_unit").filter(name=name, is_active=True).first()


def terminal_by_id(terminal_id: int) -> Terminal | None:
    terminals = Terminal.objects.select_related("org_unit")
    return terminals.filter(pk=terminal_id, is_active=True).first()
