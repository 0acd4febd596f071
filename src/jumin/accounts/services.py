"""Writes to staff, roles, org units and terminals. Each call is one transaction that also
appends its operation-log entry (invariant 1)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.models import OrgUnit, Role, Staff, Terminal
from jumin.accounts.permissions import BUILTIN_ROLES, Perm
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, FindingsError, error
from jumin.core.names import validate_name, validate_name_kana

STAFF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")


def authorize(actor: Actor, perm: Perm, function: str) -> None:
    """Refuse, and log the refusal, when ``actor`` lacks ``perm``."""
    if actor.can(perm):
        return
    audit.record(
        actor,
        category=Category.EVENT,
        function=function,
        outcome=Outcome.DENIED,
        detail={"missing_permission": perm.value},
    )
    raise PermissionDenied(f"この操作には「{perm.label}」の権限が必要です（{perm.value}）。")


def _text(findings: list[Finding], field: str, label: str, value: str, max_len: int) -> str:
    value = value.strip()
    if not value:
        findings.append(error(f"{field}.empty", f"{label}を入力してください。", field=field))
    elif len(value) > max_len:
        findings.append(
            error(
                f"{field}.too_long",
                f"{label}は{max_len}文字以内で入力してください（現在{len(value)}文字）。",
                field=field,
                remedy=f"{max_len}文字以内に短くしてください。",
            )
        )
    return value


def _core(findings: list[Finding], field: str, check: object, value: str) -> str:
    try:
        result = check(value, field=field)  # type: ignore[operator]
    except CoreError as exc:
        findings.append(error(exc.code, exc.message, field=field))
        return value
    return str(result)


def ensure_builtin_roles(actor: Actor) -> list[Role]:
    """Create or refresh the built-in roles from the catalogue."""
    authorize(actor, Perm.ROLE_MANAGE, "標準ロールの設定")
    with transaction.atomic():
        roles = []
        for spec in BUILTIN_ROLES:
            role, _ = Role.objects.update_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "permissions": sorted(p.value for p in spec.permissions),
                    "on_premises_only": spec.on_premises_only,
                    "is_builtin": True,
                },
            )
            roles.append(role)
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="標準ロールの設定",
            detail={"roles": [r.code for r in roles]},
        )
    return roles


def create_org_unit(
    actor: Actor, *, code: str, name: str, kind: str, parent_code: str | None = None
) -> OrgUnit:
    authorize(actor, Perm.ORG_UNIT_MANAGE, "組織の登録")
    findings: list[Finding] = []
    code = code.strip()
    if not CODE.match(code):
        findings.append(
            error(
                "org_unit.code.format",
                "組織コードは英小文字・数字・-・_ の2〜32文字で入力してください。",
                field="code",
            )
        )
    name = _text(findings, "name", "組織名", name, 100)
    if kind not in OrgUnit.Kind.values:
        findings.append(
            error(
                "org_unit.kind.unknown",
                "種別は division（課）、ward_office（区役所）、branch（出張所）のいずれかです。",
                field="kind",
            )
        )
    parent = None
    if parent_code:
        parent = OrgUnit.objects.filter(code=parent_code).first()
        if parent is None:
            findings.append(
                error(
                    "org_unit.parent.unknown",
                    f"上位組織「{parent_code}」がありません。",
                    field="parent",
                )
            )
    if OrgUnit.objects.filter(code=code).exists():
        findings.append(
            error("org_unit.code.duplicate", f"組織コード「{code}」は登録済みです。", field="code")
        )
    if findings:
        raise FindingsError(findings)
    with transaction.atomic():
        unit = OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent)
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="組織の登録",
            detail={"org_unit": code},
        )
    return unit


def create_terminal(
    actor: Actor, *, name: str, location: str, org_unit_code: str, on_premises: bool = True
) -> Terminal:
    authorize(actor, Perm.TERMINAL_MANAGE, "端末の登録")
    findings: list[Finding] = []
    name = _text(findings, "name", "端末名", name, 64)
    location = _text(findings, "location", "設置場所", location, 200)
    unit = OrgUnit.objects.filter(code=org_unit_code).first()
    if unit is None:
        findings.append(
            error(
                "terminal.org_unit.unknown",
                f"組織「{org_unit_code}」がありません。",
                field="org_unit",
            )
        )
    if name and Terminal.objects.filter(name=name).exists():
        findings.append(
            error("terminal.name.duplicate", f"端末名「{name}」は登録済みです。", field="name")
        )
    if findings:
        raise FindingsError(findings)
    assert unit is not None
    with transaction.atomic():
        terminal = Terminal.objects.create(
            name=name, location=location, org_unit=unit, on_premises=on_premises
        )
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="端末の登録",
            detail={"terminal": name, "org_unit": unit.code, "on_premises": on_premises},
        )
    return terminal


def generate_initial_password() -> str:
    """A random password for a new account, handed to the person once."""
    return secrets.token_urlsafe(12)


def create_staff(
    actor: Actor,
    *,
    staff_id: str,
    name: str,
    name_kana: str,
    org_unit_code: str,
    role_codes: Sequence[str],
    password: str,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> Staff:
    """Register a member of staff. Refuses with findings; writes nothing on refusal."""
    authorize(actor, Perm.STAFF_MANAGE, "職員の登録")
    findings: list[Finding] = []
    staff_id = staff_id.strip()
    if not STAFF_ID.match(staff_id):
        findings.append(
            error(
                "staff.staff_id.format",
                "職員IDは半角英数字・-・_ の3〜32文字で、英数字で始めてください。",
                field="staff_id",
            )
        )
    elif Staff.objects.filter(staff_id=staff_id).exists():
        findings.append(
            error(
                "staff.staff_id.duplicate",
                f"職員ID「{staff_id}」は登録済みです。",
                field="staff_id",
                remedy="別の職員IDを指定してください。",
            )
        )
    name = _core(findings, "name", validate_name, name)
    name_kana = _core(findings, "name_kana", validate_name_kana, name_kana)
    unit = OrgUnit.objects.filter(code=org_unit_code).first()
    if unit is None:
        findings.append(
            error(
                "staff.org_unit.unknown",
                f"所属「{org_unit_code}」は登録されていません。",
                field="org_unit",
                remedy="jumin orgunit list で組織コードを確認してください。",
            )
        )
    roles = list(Role.objects.filter(code__in=set(role_codes)))
    unknown = sorted(set(role_codes) - {r.code for r in roles})
    if unknown:
        findings.append(
            error(
                "staff.roles.unknown",
                f"ロール「{'、'.join(unknown)}」は登録されていません。",
                field="roles",
                remedy="jumin staff roles でロールコードを確認してください。",
            )
        )
    valid_from = valid_from or timezone.localdate()
    if valid_until is not None and valid_until < valid_from:
        findings.append(
            error(
                "staff.valid_until.before_from",
                "有効期間の終了日が開始日より前です。",
                field="valid_until",
                remedy="終了日を開始日以降にしてください。",
            )
        )
    candidate = Staff(staff_id=staff_id, name=name, name_kana=name_kana)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        for message in exc.messages:
            findings.append(error("staff.password.weak", message, field="password"))
    if findings:
        raise FindingsError(findings)
    assert unit is not None
    try:
        with transaction.atomic():
            staff = Staff(
                staff_id=staff_id,
                name=name,
                name_kana=name_kana,
                org_unit=unit,
                valid_from=valid_from,
                valid_until=valid_until,
            )
            staff.set_password(password)
            staff.save()
            staff.roles.set(roles)
            audit.record(
                actor,
                category=Category.SETTINGS_CHANGE,
                function="職員の登録",
                detail={"staff_id": staff_id, "roles": sorted(r.code for r in roles)},
            )
    except IntegrityError as exc:  # a concurrent registration of the same id won
        raise FindingsError(
            [
                error(
                    "staff.staff_id.duplicate",
                    f"職員ID「{staff_id}」は登録済みです。",
                    field="staff_id",
                )
            ]
        ) from exc
    return staff


def set_roles(actor: Actor, *, staff_id: str, role_codes: Iterable[str]) -> Staff:
    authorize(actor, Perm.STAFF_MANAGE, "職員のロール変更")
    codes = set(role_codes)
    with transaction.atomic():
        staff = Staff.objects.select_for_update().filter(staff_id=staff_id).first()
        if staff is None:
            raise FindingsError(
                [
                    error(
                        "staff.unknown",
                        f"職員ID「{staff_id}」は登録されていません。",
                        field="staff_id",
                    )
                ]
            )
        roles = list(Role.objects.filter(code__in=codes))
        unknown = sorted(codes - {r.code for r in roles})
        if unknown:
            raise FindingsError(
                [
                    error(
                        "staff.roles.unknown",
                        f"ロール「{'、'.join(unknown)}」は登録されていません。",
                        field="roles",
                    )
                ]
            )
        staff.roles.set(roles)
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="職員のロール変更",
            detail={"staff_id": staff_id, "roles": sorted(codes)},
        )
    return staff


def deactivate_staff(actor: Actor, *, staff_id: str) -> Staff:
    """Staff are never deleted (the log refers to them); they are deactivated."""
    authorize(actor, Perm.STAFF_MANAGE, "職員の無効化")
    with transaction.atomic():
        staff = Staff.objects.select_for_update().filter(staff_id=staff_id).first()
        if staff is None:
            raise FindingsError(
                [
                    error(
                        "staff.unknown",
                        f"職員ID「{staff_id}」は登録されていません。",
                        field="staff_id",
                    )
                ]
            )
        staff.is_active = False
        staff.save(update_fields=["is_active"])
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="職員の無効化",
            detail={"staff_id": staff_id},
        )
    return staff


def record_login(actor: Actor, *, staff_id: str, success: bool) -> None:
    """認証ログ (std 10.2, j1370): every login, successful or not."""
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.AUTHENTICATION,
            function="ログイン",
            screen="web:login",
            outcome=Outcome.SUCCESS if success else Outcome.FAILED,
            detail={"staff_id": staff_id[:64]},
        )
