"""Writes to staff, roles, org units and terminals. Each call is one transaction that also
appends its operation-log entry (invariant 1)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.models import OrgUnit, Role, ScheduledStaffChange, Staff, Terminal
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
    actor: Actor,
    *,
    name: str,
    location: str,
    org_unit_code: str,
    on_premises: bool = True,
    allowed_networks: Iterable[str] = (),
) -> Terminal:
    authorize(actor, Perm.TERMINAL_MANAGE, "端末の登録")
    findings: list[Finding] = []
    name = _text(findings, "name", "端末名", name, 64)
    location = _text(findings, "location", "設置場所", location, 200)
    networks = network_findings(findings, "allowed_networks", allowed_networks)
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
            name=name,
            location=location,
            org_unit=unit,
            on_premises=on_premises,
            allowed_networks=networks,
        )
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="端末の登録",
            detail={"after": _terminal_snapshot(terminal)},
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
    ward_scope: str | None = None,
    must_change_password: bool = False,
) -> Staff:
    """Register a member of staff. Refuses with findings; writes nothing on refusal.

    ``ward_scope`` None takes the org unit's default (std 10.3: 組織単位で設定); "" is the
    whole city."""
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
    if ward_scope is None:
        ward_scope = unit.ward_scope if unit is not None else ""
    ward_scope = _ward(findings, "ward_scope", ward_scope)
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
                ward_scope=ward_scope,
                must_change_password=must_change_password,
            )
            staff.set_password(password)
            staff.save()
            staff.roles.set(roles)
            audit.record(
                actor,
                category=Category.SETTINGS_CHANGE,
                function="職員の登録",
                detail={
                    "staff_id": staff_id,
                    "roles": sorted(r.code for r in roles),
                    "after": staff_snapshot(staff),
                },
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


def _unknown_staff(staff_id: str) -> FindingsError:
    return FindingsError(
        [error("staff.unknown", f"職員ID「{staff_id}」は登録されていません。", field="staff_id")]
    )


def _locked_staff(staff_id: str) -> Staff:
    staff = Staff.objects.select_for_update().filter(staff_id=staff_id).first()
    if staff is None:
        raise _unknown_staff(staff_id)
    return staff


def _roles_for(findings: list[Finding], codes: Iterable[str], field: str = "roles") -> list[Role]:
    wanted = {c.strip() for c in codes if c.strip()}
    roles = list(Role.objects.filter(code__in=wanted))
    unknown = sorted(wanted - {r.code for r in roles})
    if unknown:
        findings.append(
            error(
                "staff.roles.unknown",
                f"ロール「{'、'.join(unknown)}」は登録されていません。",
                field=field,
                remedy="ロール一覧でロールコードを確認してください。",
            )
        )
    return roles


def _is_self(actor: Actor, staff: Staff) -> bool:
    return actor.staff is not None and actor.staff.pk == staff.pk


def _self_change(field: str, line: int | None = None) -> Finding:
    """Separation of duties: no one widens their own access (std 10.3, j1380)."""
    prefix = f"{line}行目：" if line is not None else ""
    return error(
        "staff.self_change",
        f"{prefix}自分自身のロール・所属・有効期間・管轄区は変更できません。",
        field=field,
        remedy="別の管理者に依頼してください。",
    )


def staff_snapshot(staff: Staff) -> dict[str, object]:
    """What the operation log keeps of a member of staff before and after a change."""
    return {
        "staff_id": staff.staff_id,
        "name": staff.name,
        "org_unit": staff.org_unit.code,
        "roles": sorted(r.code for r in staff.roles.all()),
        "valid_from": staff.valid_from.isoformat(),
        "valid_until": staff.valid_until.isoformat() if staff.valid_until else None,
        "ward_scope": staff.ward_scope,
        "is_active": staff.is_active,
    }


def _changed(before: dict[str, object], after: dict[str, object]) -> dict[str, object]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {
        "before": {k: before.get(k) for k in keys},
        "after": {k: after[k] for k in keys},
    }


def set_roles(actor: Actor, *, staff_id: str, role_codes: Iterable[str]) -> Staff:
    authorize(actor, Perm.STAFF_MANAGE, "職員のロール変更")
    with transaction.atomic():
        staff = _locked_staff(staff_id)
        findings: list[Finding] = []
        roles = _roles_for(findings, role_codes)
        if _is_self(actor, staff):
            findings.append(_self_change("roles"))
        if findings:
            raise FindingsError(findings)
        before = staff_snapshot(staff)
        staff.roles.set(roles)
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="職員のロール変更",
            detail={
                "staff_id": staff_id,
                "roles": sorted(r.code for r in roles),
                **_changed(before, staff_snapshot(staff)),
            },
        )
    return staff


def update_staff(
    actor: Actor,
    *,
    staff_id: str,
    name: str,
    name_kana: str,
    org_unit_code: str,
    role_codes: Sequence[str],
    valid_from: dt.date,
    valid_until: dt.date | None,
    ward_scope: str,
) -> Staff:
    """Change a member of staff's name, org unit, roles, validity period and ward scope
    (std 10.3, j1380). The log entry holds what changed, before and after."""
    authorize(actor, Perm.STAFF_MANAGE, "職員の変更")
    findings: list[Finding] = []
    name = _core(findings, "name", validate_name, name)
    name_kana = _core(findings, "name_kana", validate_name_kana, name_kana)
    unit = OrgUnit.objects.filter(code=org_unit_code).first()
    if unit is None:
        findings.append(
            error(
                "staff.org_unit.unknown",
                f"所属「{org_unit_code}」は登録されていません。",
                field="org_unit",
            )
        )
    roles = _roles_for(findings, role_codes)
    if valid_until is not None and valid_until < valid_from:
        findings.append(
            error(
                "staff.valid_until.before_from",
                "有効期間の終了日が開始日より前です。",
                field="valid_until",
                remedy="終了日を開始日以降にしてください。",
            )
        )
    ward_scope = _ward(findings, "ward_scope", ward_scope)
    with transaction.atomic():
        staff = _locked_staff(staff_id)
        if _is_self(actor, staff) and unit is not None:
            access = ("org_unit", "roles", "valid_from", "valid_until", "ward_scope")
            current = staff_snapshot(staff)
            wanted = {
                "org_unit": unit.code,
                "roles": sorted(r.code for r in roles),
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat() if valid_until else None,
                "ward_scope": ward_scope,
            }
            if any(current[k] != wanted[k] for k in access):
                findings.append(_self_change("roles"))
        if findings:
            raise FindingsError(findings)
        assert unit is not None
        before = staff_snapshot(staff)
        staff.name = name
        staff.name_kana = name_kana
        staff.org_unit = unit
        staff.valid_from = valid_from
        staff.valid_until = valid_until
        staff.ward_scope = ward_scope
        staff.save()
        staff.roles.set(roles)
        staff.__dict__.pop("_perm_cache", None)
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="職員の変更",
            detail={"staff_id": staff_id, **_changed(before, staff_snapshot(staff))},
        )
    return staff


def _set_active(actor: Actor, staff_id: str, active: bool, function: str) -> Staff:
    authorize(actor, Perm.STAFF_MANAGE, function)
    with transaction.atomic():
        staff = _locked_staff(staff_id)
        if actor.staff is not None and actor.staff.pk == staff.pk and not active:
            raise FindingsError(
                [
                    error(
                        "staff.deactivate.self",
                        "自分自身を無効にすることはできません。",
                        field="staff_id",
                        remedy="別の管理者に依頼してください。",
                    )
                ]
            )
        before = staff_snapshot(staff)
        staff.is_active = active
        staff.save(update_fields=["is_active"])
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function=function,
            detail={"staff_id": staff_id, **_changed(before, staff_snapshot(staff))},
        )
    return staff


def deactivate_staff(actor: Actor, *, staff_id: str) -> Staff:
    """Staff are never deleted (the log refers to them); they are deactivated."""
    return _set_active(actor, staff_id, False, "職員の無効化")


def reactivate_staff(actor: Actor, *, staff_id: str) -> Staff:
    return _set_active(actor, staff_id, True, "職員の再有効化")


LOGIN_PLACE_REFUSED = "この端末からはログインできません。端末の管理者に問い合わせてください。"


def parse_networks(value: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR strings as networks; an entry that is not one is skipped (the services that store
    them validate with ``network_findings``)."""
    networks = []
    for text in value:
        try:
            networks.append(ipaddress.ip_network(str(text).strip(), strict=False))
        except ValueError:
            continue
    return networks


def _address_in(remote_addr: str, ranges: Sequence[str]) -> bool:
    """True when ``ranges`` is empty (no limit) or the address lies in one of them. A stored
    list whose entries are all unreadable refuses every address (fail closed)."""
    if not ranges:
        return True
    try:
        address = ipaddress.ip_address(remote_addr.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in parse_networks(ranges))


def check_login_place(staff: Staff, terminal: Terminal | None, remote_addr: str) -> str | None:
    """Whether ``staff`` may log in from ``terminal`` at ``remote_addr`` (std 10.3, j1380).

    Returns None when allowed, else the refusal shown to the person. The rules:

    * a terminal given must be active, and when it lists address ranges the client address
      must fall in one of them;
    * a role marked ``on_premises_only`` (the certificate contractor) needs a registered,
      active, on-premises terminal;
    * a role listing address ranges needs the client address in one of them.

    A member of staff holding several roles is refused when ANY role's limit is not met
    (rather than dropping that role for the session): the place is checked once, at login,
    and the permissions of a session never depend on where it started. The message is the
    same whatever rule failed, so it does not say which; it comes only after a right password
    (the person needs to know why), so it does confirm the password. The caller logs it.
    """
    if terminal is not None and (
        not terminal.is_active or not _address_in(remote_addr, terminal.allowed_networks)
    ):
        return LOGIN_PLACE_REFUSED
    for role in staff.roles.all():
        if role.on_premises_only and (
            terminal is None or not terminal.is_active or not terminal.on_premises
        ):
            return LOGIN_PLACE_REFUSED
        if not _address_in(remote_addr, role.allowed_networks):
            return LOGIN_PLACE_REFUSED
    return None


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


# --- ward scope, address ranges ------------------------------------------------------------


def ward_names() -> list[str]:
    """The wards a member of staff or an org unit may be limited to."""
    # Imported here: the register imports accounts, not the other way round at load time.
    from jumin.register.search import WARDS

    return list(WARDS)


def _ward(findings: list[Finding], field: str, value: str) -> str:
    value = (value or "").strip()
    if value and value not in ward_names():
        findings.append(
            error(
                "staff.ward_scope.unknown",
                f"管轄区「{value}」はありません（{'・'.join(ward_names())}のいずれか、"
                "または空欄＝市全域）。",
                field=field,
                remedy="一覧から区を選んでください。",
            )
        )
    return value


MAX_NETWORKS = 64


def network_findings(findings: list[Finding], field: str, values: Iterable[str]) -> list[str]:
    """Address ranges as typed (one CIDR a line or comma separated), normalised
    ("10.1.2.3/16" → "10.1.0.0/16"); an unreadable one is a finding naming it."""
    result: list[str] = []
    unreadable = 0
    for raw in values:
        for text in re.split(r"[\s,、]+", str(raw)):
            if not text:
                continue
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                unreadable += 1
                if unreadable > 5:  # enough to show what is wrong
                    continue
                findings.append(
                    error(
                        f"{field}.format",
                        f"アドレス範囲「{text[:60]}」を読み取れません。",
                        field=field,
                        remedy="10.1.0.0/16 や 192.168.10.5 のように、CIDR 形式で"
                        "1行に1つずつ入力してください。",
                    )
                )
                continue
            if str(network) not in result:
                result.append(str(network))
    if len(result) > MAX_NETWORKS:
        findings.append(
            error(
                f"{field}.too_many",
                f"アドレス範囲が{len(result)}個あります（{MAX_NETWORKS}個まで）。",
                field=field,
                remedy="範囲をまとめて（例：10.1.0.0/16）数を減らしてください。",
            )
        )
    return result


def _terminal_snapshot(terminal: Terminal) -> dict[str, object]:
    return {
        "terminal": terminal.name,
        "location": terminal.location,
        "org_unit": terminal.org_unit.code,
        "on_premises": terminal.on_premises,
        "allowed_networks": list(terminal.allowed_networks),
        "is_active": terminal.is_active,
    }


def update_terminal(
    actor: Actor,
    *,
    terminal_id: int,
    location: str,
    org_unit_code: str,
    on_premises: bool,
    allowed_networks: Iterable[str],
    is_active: bool,
) -> Terminal:
    """Change a terminal's place, on-premises flag, address ranges and whether it is in use.
    The name stays: the operation log refers to terminals by name."""
    authorize(actor, Perm.TERMINAL_MANAGE, "端末の変更")
    findings: list[Finding] = []
    location = _text(findings, "location", "設置場所", location, 200)
    networks = network_findings(findings, "allowed_networks", allowed_networks)
    unit = OrgUnit.objects.filter(code=org_unit_code).first()
    if unit is None:
        findings.append(
            error(
                "terminal.org_unit.unknown",
                f"組織「{org_unit_code}」がありません。",
                field="org_unit",
            )
        )
    with transaction.atomic():
        terminal = Terminal.objects.select_for_update().filter(pk=terminal_id).first()
        if terminal is None:
            raise FindingsError(
                [error("terminal.unknown", "指定の端末は登録されていません。", field="terminal")]
            )
        if findings:
            raise FindingsError(findings)
        assert unit is not None
        before = _terminal_snapshot(terminal)
        terminal.location = location
        terminal.org_unit = unit
        terminal.on_premises = on_premises
        terminal.allowed_networks = networks
        terminal.is_active = is_active
        terminal.save()
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="端末の変更",
            detail={"terminal": terminal.name, **_changed(before, _terminal_snapshot(terminal))},
        )
    return terminal


def set_org_unit_ward_scope(actor: Actor, *, code: str, ward_scope: str) -> OrgUnit:
    """The ward given by default to staff registered in this org unit (std 10.3: 組織単位)."""
    authorize(actor, Perm.ORG_UNIT_MANAGE, "組織の管轄区の設定")
    findings: list[Finding] = []
    ward_scope = _ward(findings, "ward_scope", ward_scope)
    if findings:
        raise FindingsError(findings)
    with transaction.atomic():
        unit = OrgUnit.objects.select_for_update().filter(code=code).first()
        if unit is None:
            raise FindingsError(
                [error("org_unit.unknown", f"組織「{code}」がありません。", field="code")]
            )
        before = unit.ward_scope
        unit.ward_scope = ward_scope
        unit.save(update_fields=["ward_scope"])
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="組織の管轄区の設定",
            detail={
                "org_unit": code,
                "before": {"ward_scope": before},
                "after": {"ward_scope": ward_scope},
            },
        )
    return unit


# --- roles ---------------------------------------------------------------------------------


def _role_snapshot(role: Role) -> dict[str, object]:
    return {
        "code": role.code,
        "name": role.name,
        "permissions": sorted(role.permissions),
        "on_premises_only": role.on_premises_only,
        "allowed_networks": list(role.allowed_networks),
    }


def _perms(findings: list[Finding], values: Iterable[str]) -> list[str]:
    known = {p.value for p in Perm}
    wanted = {v.strip() for v in values if v.strip()}
    unknown = sorted(wanted - known)
    if unknown:
        findings.append(
            error(
                "role.permissions.unknown",
                f"権限「{'、'.join(unknown)}」は権限の一覧にありません。",
                field="permissions",
            )
        )
    return sorted(wanted & known)


def _widens_place(role: Role, on_premises_only: bool, networks: Sequence[str]) -> bool:
    """Whether the new place limits let a holder of ``role`` log in from somewhere the
    current ones do not (separation of duties: no one loosens their own limits)."""
    if role.on_premises_only and not on_premises_only:
        return True
    if not role.allowed_networks:
        return False  # no address limit yet: any list only narrows it
    if not networks:
        return True  # the limit removed
    current = parse_networks(role.allowed_networks)
    return not all(
        any(
            new.version == old.version and new.subnet_of(old)  # type: ignore[arg-type]
            for old in current
        )
        for new in parse_networks(networks)
    )


def save_role(
    actor: Actor,
    *,
    code: str,
    name: str,
    permissions: Iterable[str],
    on_premises_only: bool = False,
    allowed_networks: Iterable[str] = (),
    create: bool,
) -> Role:
    """Create a role, or change one. A built-in role's name, permissions and on-premises flag
    follow the catalogue (an upgrade rewrites them), so only its address ranges can be changed
    here; for anything else, create a role of your own."""
    function = "ロールの登録" if create else "ロールの変更"
    authorize(actor, Perm.ROLE_MANAGE, function)
    findings: list[Finding] = []
    code = code.strip()
    name = _text(findings, "name", "ロール名", name, 100)
    perms = _perms(findings, permissions)
    networks = network_findings(findings, "allowed_networks", allowed_networks)
    if create and not CODE.match(code):
        findings.append(
            error(
                "role.code.format",
                "ロールコードは英小文字・数字・-・_ の2〜32文字で入力してください。",
                field="code",
            )
        )
    with transaction.atomic():
        if create:
            if Role.objects.filter(code=code).exists():
                findings.append(
                    error("role.code.duplicate", f"ロール「{code}」は登録済みです。", field="code")
                )
            if findings:
                raise FindingsError(findings)
            role = Role(code=code)
            before: dict[str, object] = {}
        else:
            found = Role.objects.select_for_update().filter(code=code).first()
            if found is None:
                raise FindingsError(
                    [error("role.unknown", f"ロール「{code}」は登録されていません。", field="code")]
                )
            role = found
            fixed = (role.name, sorted(role.permissions), role.on_premises_only)
            if role.is_builtin and (name, perms, on_premises_only) != fixed:
                findings.append(
                    error(
                        "role.builtin.fixed",
                        "標準ロールの名称・権限・庁舎内端末のみの設定は変更できません"
                        "（更新時に標準の内容に戻ります）。",
                        field="permissions",
                        remedy="別の権限が必要なときは、新しいロールを作成してください。",
                    )
                )
            held = actor.staff is not None and actor.staff.roles.filter(pk=role.pk).exists()
            if held and perms != sorted(role.permissions):
                findings.append(
                    error(
                        "role.self_change",
                        "自分が持つロールの権限は変更できません。",
                        field="permissions",
                        remedy="別の管理者に依頼してください。",
                    )
                )
            if held and _widens_place(role, on_premises_only, networks):
                findings.append(
                    error(
                        "role.self_change",
                        "自分が持つロールの利用場所の制限（庁舎内端末のみ・接続元アドレス範囲）は"
                        "緩められません。",
                        field="allowed_networks",
                        remedy="別の管理者に依頼してください（制限を厳しくする変更はできます）。",
                    )
                )
            if findings:
                raise FindingsError(findings)
            before = _role_snapshot(role)
        role.name = name
        role.permissions = perms
        role.on_premises_only = on_premises_only
        role.allowed_networks = networks
        role.save()
        after = _role_snapshot(role)
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function=function,
            detail={"role": code, **(_changed(before, after) if before else {"after": after})},
        )
    return role


# --- passwords -----------------------------------------------------------------------------


def change_own_password(actor: Actor, *, current: str, new: str, confirm: str) -> Staff:
    """The logged-in member of staff changes their own password."""
    staff = actor.staff
    if staff is None:
        raise PermissionDenied("パスワードの変更にはログインが必要です。")
    findings: list[Finding] = []
    if not staff.check_password(current):
        findings.append(
            error(
                "password.current.wrong",
                "現在のパスワードが違います。",
                field="current",
                remedy="現在のパスワードを入力し直してください。",
            )
        )
    if new != confirm:
        findings.append(
            error(
                "password.confirm.mismatch",
                "新しいパスワードと確認用の入力が一致しません。",
                field="confirm",
                remedy="同じパスワードを2回入力してください。",
            )
        )
    elif new == current:
        findings.append(
            error(
                "password.new.same",
                "新しいパスワードが現在のものと同じです。",
                field="new",
                remedy="別のパスワードにしてください。",
            )
        )
    try:
        validate_password(new, staff)
    except ValidationError as exc:
        for message in exc.messages:
            findings.append(error("staff.password.weak", message, field="new"))
    if findings:
        raise FindingsError(findings)
    with transaction.atomic():
        staff.set_password(new)
        staff.must_change_password = False
        staff.save(update_fields=["password", "must_change_password"])
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="パスワードの変更",
            detail={"staff_id": staff.staff_id, "by": "self"},
        )
    return staff


def reset_password(actor: Actor, *, staff_id: str) -> str:
    """An administrator gives a member of staff a new random initial password, returned to be
    shown once; the person must change it at their next login."""
    authorize(actor, Perm.STAFF_MANAGE, "パスワードの再発行")
    password = generate_initial_password()
    with transaction.atomic():
        staff = _locked_staff(staff_id)
        staff.set_password(password)
        staff.must_change_password = True
        staff.save(update_fields=["password", "must_change_password"])
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="パスワードの再発行",
            detail={"staff_id": staff_id, "by": "administrator"},
        )
    return password


# --- scheduled changes (std 10.3, j1380: スケジューラーに設定し、事前に準備) ---------------


def schedule_staff_change(
    actor: Actor,
    *,
    staff_id: str,
    effective_on: dt.date | None,
    role_codes: Sequence[str] | None = None,
    org_unit_code: str | None = None,
    set_valid_until: bool = False,
    valid_until: dt.date | None = None,
    set_ward_scope: bool = False,
    ward_scope: str = "",
    deactivate: bool = False,
    note: str = "",
) -> ScheduledStaffChange:
    """Prepare a change to apply on ``effective_on`` (``jumin staff apply-scheduled``)."""
    authorize(actor, Perm.STAFF_MANAGE, "職員の予定変更の登録")
    findings: list[Finding] = []
    today = timezone.localdate()
    staff = Staff.objects.filter(staff_id=staff_id).first()
    if staff is None:
        raise _unknown_staff(staff_id)
    if _is_self(actor, staff):
        findings.append(_self_change("role_codes"))
    if effective_on is None:
        findings.append(
            error("schedule.effective_on.empty", "適用日を入力してください。", field="effective_on")
        )
    elif effective_on < today:
        findings.append(
            error(
                "schedule.effective_on.past",
                "適用日が過去の日付です。",
                field="effective_on",
                remedy="今日以降の日付を入力してください（今日の変更は職員の変更画面で）。",
            )
        )
    roles = _roles_for(findings, role_codes) if role_codes is not None else None
    unit = None
    if org_unit_code:
        unit = OrgUnit.objects.filter(code=org_unit_code).first()
        if unit is None:
            findings.append(
                error(
                    "staff.org_unit.unknown",
                    f"所属「{org_unit_code}」は登録されていません。",
                    field="org_unit",
                )
            )
    if set_valid_until and valid_until is not None and valid_until < staff.valid_from:
        findings.append(
            error(
                "staff.valid_until.before_from",
                "有効期間の終了日が開始日より前です。",
                field="valid_until",
            )
        )
    if set_ward_scope:
        ward_scope = _ward(findings, "ward_scope", ward_scope)
    note = note.strip()
    if len(note) > 200:
        findings.append(
            error("schedule.note.too_long", "備考は200文字以内で入力してください。", field="note")
        )
    nothing = roles is None and unit is None and not set_valid_until and not set_ward_scope
    if nothing and not deactivate:
        findings.append(
            error(
                "schedule.empty",
                "変更する項目がありません。",
                field="role_codes",
                remedy="ロール・所属・有効期間の終了・管轄区・無効化のいずれかを指定してください。",
            )
        )
    if findings:
        raise FindingsError(findings)
    assert effective_on is not None
    with transaction.atomic():
        change = ScheduledStaffChange.objects.create(
            staff=staff,
            effective_on=effective_on,
            role_codes=sorted(r.code for r in roles) if roles is not None else None,
            org_unit=unit,
            set_valid_until=set_valid_until,
            valid_until=valid_until if set_valid_until else None,
            set_ward_scope=set_ward_scope,
            ward_scope=ward_scope if set_ward_scope else "",
            deactivate=deactivate,
            note=note,
            created_by=actor.operator_code,
        )
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="職員の予定変更の登録",
            detail={"staff_id": staff_id, "scheduled": scheduled_summary(change)},
        )
    return change


def scheduled_summary(change: ScheduledStaffChange) -> dict[str, object]:
    summary: dict[str, object] = {"id": change.pk, "effective_on": change.effective_on.isoformat()}
    if change.role_codes is not None:
        summary["roles"] = list(change.role_codes)
    if change.org_unit_id is not None:
        summary["org_unit"] = change.org_unit.code if change.org_unit else None
    if change.set_valid_until:
        summary["valid_until"] = change.valid_until.isoformat() if change.valid_until else None
    if change.set_ward_scope:
        summary["ward_scope"] = change.ward_scope
    if change.deactivate:
        summary["deactivate"] = True
    return summary


def cancel_scheduled_change(actor: Actor, *, change_id: int) -> ScheduledStaffChange:
    authorize(actor, Perm.STAFF_MANAGE, "職員の予定変更の取消")
    with transaction.atomic():
        change = (
            ScheduledStaffChange.objects.select_for_update(of=("self",))
            .select_related("staff", "org_unit")
            .filter(pk=change_id)
            .first()
        )
        if change is None or change.status != ScheduledStaffChange.Status.PENDING:
            raise FindingsError(
                [
                    error(
                        "schedule.not_pending",
                        "この予定変更は取り消せません（登録されていないか、適用・取消済みです）。",
                        field="change",
                    )
                ]
            )
        change.status = ScheduledStaffChange.Status.CANCELLED
        change.decided_at = timezone.now()
        change.save(update_fields=["status", "decided_at"])
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="職員の予定変更の取消",
            detail={"staff_id": change.staff.staff_id, "scheduled": scheduled_summary(change)},
        )
    return change


def apply_scheduled_changes(actor: Actor, *, today: dt.date | None = None) -> list[int]:
    """Apply the pending changes whose date has come, oldest first, each in its own
    transaction with its operation-log entry (BATCH_UPDATE). Idempotent: an applied change is
    never applied again, so the command can run daily, or twice."""
    authorize(actor, Perm.STAFF_MANAGE, "職員の予定変更の適用")
    today = today or timezone.localdate()
    due = list(
        ScheduledStaffChange.objects.filter(
            status=ScheduledStaffChange.Status.PENDING, effective_on__lte=today
        )
        .order_by("effective_on", "pk")
        .values_list("pk", flat=True)
    )
    applied: list[int] = []
    for pk in due:
        with transaction.atomic():
            change = (
                ScheduledStaffChange.objects.select_for_update(of=("self",))
                .select_related("org_unit")
                .filter(pk=pk, status=ScheduledStaffChange.Status.PENDING)
                .first()
            )
            if change is None:  # applied or cancelled meanwhile
                continue
            staff = _locked_staff(change.staff.staff_id)
            before = staff_snapshot(staff)
            if change.role_codes is not None:
                staff.roles.set(Role.objects.filter(code__in=change.role_codes))
            if change.org_unit is not None:
                staff.org_unit = change.org_unit
            if change.set_valid_until:
                staff.valid_until = change.valid_until
            if change.set_ward_scope:
                staff.ward_scope = change.ward_scope
            if change.deactivate:
                staff.is_active = False
            staff.save()
            change.status = ScheduledStaffChange.Status.APPLIED
            change.decided_at = timezone.now()
            change.save(update_fields=["status", "decided_at"])
            audit.record(
                actor,
                category=Category.BATCH_UPDATE,
                function="職員の予定変更の適用",
                detail={
                    "staff_id": staff.staff_id,
                    "scheduled": change.pk,
                    **_changed(before, staff_snapshot(staff)),
                },
            )
            applied.append(change.pk)
    return applied


# --- bulk maintenance (std 10.3: 操作権限はバッチ処理で一括メンテナンス) ----------------------

IMPORT_COLUMNS = ("staff_id", "roles", "valid_from", "valid_until")


@dataclass(frozen=True)
class RoleImportRow:
    line: int
    staff_id: str
    role_codes: tuple[str, ...]
    valid_from: dt.date | None
    valid_until: dt.date | None


def _import_date(findings: list[Finding], line: int, column: str, text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        findings.append(
            error(
                "import.date.format",
                f"{line}行目：{column}「{text}」は日付として読めません。",
                field=f"line.{line}.{column}",
                remedy="YYYY-MM-DD（例：2026-04-01）で入力してください。",
            )
        )
        return None


def parse_role_import(text: str) -> list[RoleImportRow]:
    """Read the CSV (header ``staff_id,roles,valid_from,valid_until``; roles separated by
    spaces or ``;``). Every problem is a finding naming its line."""
    findings: list[Finding] = []
    rows: list[RoleImportRow] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(IMPORT_COLUMNS):
        raise FindingsError(
            [
                error(
                    "import.header",
                    "1行目（見出し）が staff_id,roles,valid_from,valid_until ではありません。",
                    field="line.1",
                    remedy="テンプレートの見出し行をそのまま使ってください。",
                )
            ]
        )
    seen: dict[str, int] = {}
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(IMPORT_COLUMNS):
            findings.append(
                error(
                    "import.columns",
                    f"{line}行目：項目の数が{len(values)}個です（4個必要です）。",
                    field=f"line.{line}",
                )
            )
            continue
        staff_id, roles, valid_from, valid_until = (v.strip() for v in values)
        if staff_id in seen:
            findings.append(
                error(
                    "import.duplicate",
                    f"{line}行目：職員ID「{staff_id}」は{seen[staff_id]}行目にもあります。",
                    field=f"line.{line}.staff_id",
                )
            )
        seen.setdefault(staff_id, line)
        rows.append(
            RoleImportRow(
                line=line,
                staff_id=staff_id,
                role_codes=tuple(c for c in re.split(r"[\s;]+", roles) if c),
                valid_from=_import_date(findings, line, "valid_from", valid_from),
                valid_until=_import_date(findings, line, "valid_until", valid_until),
            )
        )
    if not rows and not findings:
        findings.append(error("import.empty", "データ行がありません。", field="line.2"))
    if findings:
        raise FindingsError(findings)
    return rows


def import_roles(actor: Actor, text: str) -> int:
    """Set the roles and validity period of many staff at once from CSV, all or nothing: any
    error (with its line number) and nothing is written. Empty valid_from keeps the current
    start; empty valid_until means no end date. Returns the number of staff changed."""
    authorize(actor, Perm.STAFF_MANAGE, "ロールの一括設定")
    rows = parse_role_import(text)
    findings: list[Finding] = []
    known_roles = {r.code: r for r in Role.objects.all()}
    with transaction.atomic():
        staff_by_id = {
            s.staff_id: s
            for s in Staff.objects.select_for_update().filter(
                staff_id__in=[r.staff_id for r in rows]
            )
        }
        for row in rows:
            staff = staff_by_id.get(row.staff_id)
            if staff is None:
                findings.append(
                    error(
                        "import.staff.unknown",
                        f"{row.line}行目：職員ID「{row.staff_id}」は登録されていません。",
                        field=f"line.{row.line}.staff_id",
                    )
                )
                continue
            if _is_self(actor, staff):
                findings.append(_self_change(f"line.{row.line}.staff_id", row.line))
            unknown = sorted(set(row.role_codes) - set(known_roles))
            if unknown:
                findings.append(
                    error(
                        "import.roles.unknown",
                        f"{row.line}行目：ロール「{'、'.join(unknown)}」は登録されていません。",
                        field=f"line.{row.line}.roles",
                    )
                )
            start = row.valid_from or staff.valid_from
            if row.valid_until is not None and row.valid_until < start:
                findings.append(
                    error(
                        "import.valid_until.before_from",
                        f"{row.line}行目：有効期間の終了日が開始日より前です。",
                        field=f"line.{row.line}.valid_until",
                    )
                )
        if findings:
            raise FindingsError(findings)
        for row in rows:
            staff = staff_by_id[row.staff_id]
            before = staff_snapshot(staff)
            if row.valid_from is not None:
                staff.valid_from = row.valid_from
            staff.valid_until = row.valid_until
            staff.save(update_fields=["valid_from", "valid_until"])
            staff.roles.set([known_roles[c] for c in row.role_codes])
            audit.record(
                actor,
                category=Category.SETTINGS_CHANGE,
                function="ロールの一括設定",
                detail={
                    "staff_id": staff.staff_id,
                    "line": row.line,
                    **_changed(before, staff_snapshot(staff)),
                },
            )
    return len(rows)


SYSTEM_ORG_UNIT = "system"


def system_account(staff_id: str, *, name: str, name_kana: str) -> Staff:
    """The account recorded as 入力者 of what the system itself enters (e.g. the CS's drafts).
    It cannot log in (inactive, unusable password, no role), so every member of staff differs
    from it. Created on first use, in its own transaction with its settings-change entry."""
    existing = Staff.objects.filter(staff_id=staff_id).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        unit, _ = OrgUnit.objects.get_or_create(
            code=SYSTEM_ORG_UNIT,
            defaults={"name": "システム（自動入力）", "kind": OrgUnit.Kind.DIVISION},
        )
        staff, created = Staff.objects.get_or_create(
            staff_id=staff_id,
            defaults={
                "name": name,
                "name_kana": name_kana,
                "org_unit": unit,
                "valid_from": timezone.localdate(),
                "is_active": False,
            },
        )
        if created:
            staff.set_unusable_password()
            staff.save(update_fields=["password"])
            audit.record(
                Actor.system("batch", staff_id),
                category=Category.SETTINGS_CHANGE,
                function="システム用アカウントの作成",
                detail={"staff_id": staff_id, "login": False},
            )
    return staff


def batch_operator(staff_id: str | None, perm: Perm, function: str) -> Actor:
    """Who runs a batch command (std 9.1; std 10.3 controls batch processing on its own).

    With ``--operator STAFF_ID`` the command runs as that member of staff: they must exist,
    be within their validity period and hold ``perm`` (a refusal is logged, nothing runs) and
    the operation log names them. Without it, the command runs as the server's operating-
    system user (a system actor): who may log in to the server is the city's OS policy.
    """
    if not staff_id:
        return Actor.system("batch")
    staff = Staff.objects.filter(staff_id=staff_id.strip()).first()
    if staff is None:
        raise FindingsError(
            [
                error(
                    "operator.unknown",
                    f"職員ID「{staff_id[:32]}」の職員はいません。",
                    field="operator",
                    remedy="--operator には登録済みの職員IDを指定してください。",
                )
            ]
        )
    actor = Actor.of(staff, None, "batch")
    authorize(actor, perm, function)
    return actor
