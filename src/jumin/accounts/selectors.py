"""Reads of staff, roles, org units and terminals."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from jumin.accounts.models import OrgUnit, Role, ScheduledStaffChange, Staff, Terminal
from jumin.accounts.permissions import Perm


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


def staff_search(
    *, text: str = "", org_unit: str = "", role: str = "", state: str = ""
) -> QuerySet[Staff]:
    """The administration list: ``text`` in the id, name or kana; ``state`` one of
    "active" (usable today), "inactive" (deactivated or outside the validity period), ""."""
    rows = staff_list()
    if text:
        rows = rows.filter(
            Q(staff_id__icontains=text) | Q(name__icontains=text) | Q(name_kana__icontains=text)
        )
    if org_unit:
        rows = rows.filter(org_unit__code=org_unit)
    if role:
        rows = rows.filter(roles__code=role).distinct()
    today = timezone.localdate()
    usable = Q(is_active=True, valid_from__lte=today) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
    if state == "active":
        rows = rows.filter(usable)
    elif state == "inactive":
        rows = rows.exclude(usable)
    return rows


def staff_by_staff_id(staff_id: str) -> Staff | None:
    return staff_list().filter(staff_id=staff_id).first()


def role_by_code(code: str) -> Role | None:
    return Role.objects.filter(code=code).first()


def terminal_for_admin(terminal_id: int) -> Terminal | None:
    """A terminal whether in use or not (``terminal_by_id`` gives only active ones)."""
    return Terminal.objects.select_related("org_unit").filter(pk=terminal_id).first()


def scheduled_changes(
    staff: Staff | None = None, *, pending_only: bool = False
) -> QuerySet[ScheduledStaffChange]:
    rows = ScheduledStaffChange.objects.select_related("staff", "org_unit").order_by(
        "effective_on", "pk"
    )
    if staff is not None:
        rows = rows.filter(staff=staff)
    if pending_only:
        rows = rows.filter(status=ScheduledStaffChange.Status.PENDING)
    return rows


AREA_LABELS = {
    "register": "住民記録",
    "batch": "バッチ処理",
    "certificates": "証明書・支援措置",
    "jukinet": "住基ネット",
    "audit": "操作ログ",
    "accounts": "職員・権限の管理",
}


def permission_groups() -> list[tuple[str, list[Perm]]]:
    """The catalogue grouped by area, in catalogue order, with the area's Japanese name."""
    groups: dict[str, list[Perm]] = {}
    for perm in Perm:
        groups.setdefault(perm.value.split(":", 1)[0], []).append(perm)
    return [(AREA_LABELS.get(area, area), perms) for area, perms in groups.items()]


def role_matrix() -> tuple[list[Role], list[tuple[str, list[tuple[Perm, list[bool]]]]]]:
    """操作権限一覧表: roles as columns, permissions (grouped) as rows, True where held."""
    roles = list(role_list())
    held = [set(r.permissions) for r in roles]
    rows = [
        (label, [(perm, [perm.value in h for h in held]) for perm in perms])
        for label, perms in permission_groups()
    ]
    return roles, rows
