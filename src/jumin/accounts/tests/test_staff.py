"""Staff, roles, org units and terminals, through the services and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from jumin.accounts import services
from jumin.accounts.actor import Actor
from jumin.accounts.models import OrgUnit, Role, Staff, Terminal
from jumin.accounts.permissions import BUILTIN_ROLES, Perm
from jumin.accounts.tests.factories import PASSWORD, OrgUnitFactory, StaffFactory, actor_for
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.findings import FindingsError

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("cli", "test")


def _add(**overrides):
    OrgUnitFactory(code="chuo-kumin")
    kwargs = dict(
        staff_id="clerk01",
        name="窓口 一郎",
        name_kana="マドグチ イチロウ",
        org_unit_code="chuo-kumin",
        role_codes=["counter_clerk"],
        password=PASSWORD,
    )
    kwargs.update(overrides)
    return services.create_staff(SYSTEM, **kwargs)


def _codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {f.code for f in exc.value.findings}


def test_permission_names_follow_the_catalogue_shape():
    for perm in Perm:
        area, resource, action = perm.value.split(":")
        assert area and resource and action
        assert perm.label


def test_builtin_roles_exist_after_migrate():
    codes = set(Role.objects.values_list("code", flat=True))
    assert {r.code for r in BUILTIN_ROLES} <= codes
    assert codes >= {
        "counter_clerk",
        "reviewer",
        "certificate_contractor",
        "supervisor",
        "support_measure_officer",
        "auditor",
        "administrator",
    }
    assert Role.objects.get(code="certificate_contractor").on_premises_only


def test_separation_of_duties_in_builtin_roles():
    roles = {r.code: r.permissions for r in BUILTIN_ROLES}
    # the clerk who drafts a change cannot commit it; the administrator cannot read residents
    assert Perm.CHANGE_REVIEW not in roles["counter_clerk"]
    assert Perm.RESIDENT_READ not in roles["administrator"]
    assert Perm.RESIDENT_READ not in roles["auditor"]
    assert Perm.MY_NUMBER_READ not in roles["certificate_contractor"]


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_create_staff_writes_staff_and_log():
    before = OperationLogEntry.objects.count()
    staff = _add()
    assert staff.staff_id == "clerk01"
    assert staff.check_password(PASSWORD)
    assert staff.password.startswith("argon2")
    assert staff.has_permission(Perm.CHANGE_DRAFT)
    assert not staff.has_permission(Perm.CHANGE_REVIEW)
    assert staff.has_perm("register:change:draft")
    assert not staff.has_perm("no:such:perm")
    assert staff.has_perms(["register:resident:read", "register:change:draft"])
    assert staff.has_module_perms("register")
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert OperationLogEntry.objects.count() == before + 1
    assert entry.category == Category.SETTINGS_CHANGE
    assert entry.detail["staff_id"] == "clerk01"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"staff_id": ""}, "staff.staff_id.format"),
        ({"staff_id": "x" * 40}, "staff.staff_id.format"),
        ({"staff_id": "窓口"}, "staff.staff_id.format"),
        ({"name": ""}, "name.empty"),
        ({"name": "あ" * 101}, "name.too_long"),
        ({"name_kana": "madoguchi"}, "name_kana.script"),
        ({"name_kana": ""}, "name_kana.empty"),
        ({"org_unit_code": "nowhere"}, "staff.org_unit.unknown"),
        ({"role_codes": ["counter_clerk", "wizard"]}, "staff.roles.unknown"),
        (
            {"valid_from": dt.date(2026, 4, 1), "valid_until": dt.date(2026, 3, 31)},
            "staff.valid_until.before_from",
        ),
        ({"password": "123"}, "staff.password.weak"),
    ],
)
def test_bad_input_is_refused_with_findings_and_writes_nothing(overrides, code):
    staff_before = Staff.objects.count()
    log_before = OperationLogEntry.objects.count()
    with pytest.raises(FindingsError) as exc:
        _add(**overrides)
    assert code in _codes(exc)
    finding = next(f for f in exc.value.findings if f.code == code)
    assert finding.message  # Japanese text for the clerk
    assert finding.field
    assert Staff.objects.count() == staff_before
    assert OperationLogEntry.objects.count() == log_before


def test_duplicate_staff_id_is_refused():
    _add()
    with pytest.raises(FindingsError) as exc:
        services.create_staff(
            SYSTEM,
            staff_id="clerk01",
            name="別人 二郎",
            name_kana="ベツジン ジロウ",
            org_unit_code="chuo-kumin",
            role_codes=[],
            password=PASSWORD,
        )
    assert _codes(exc) == {"staff.staff_id.duplicate"}


def test_staff_without_permission_is_denied_and_the_refusal_logged():
    clerk = StaffFactory(roles=["counter_clerk"])
    OrgUnitFactory(code="chuo-kumin")
    with pytest.raises(PermissionDenied, match="職員の管理"):
        services.create_staff(
            actor_for(clerk),
            staff_id="intruder",
            name="侵入 者",
            name_kana="シンニュウ シャ",
            org_unit_code="chuo-kumin",
            role_codes=["administrator"],
            password=PASSWORD,
        )
    assert not Staff.objects.filter(staff_id="intruder").exists()
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry.outcome == Outcome.DENIED
    assert entry.operator == clerk


def test_administrator_can_manage_staff():
    admin = StaffFactory(roles=["administrator"])
    OrgUnitFactory(code="chuo-kumin")
    staff = services.create_staff(
        actor_for(admin),
        staff_id="newbie",
        name="新人 花子",
        name_kana="シンジン ハナコ",
        org_unit_code="chuo-kumin",
        role_codes=["counter_clerk"],
        password=PASSWORD,
    )
    services.set_roles(actor_for(admin), staff_id="newbie", role_codes=["reviewer"])
    staff.refresh_from_db()
    assert [r.code for r in staff.roles.all()] == ["reviewer"]
    services.deactivate_staff(actor_for(admin), staff_id="newbie")
    staff.refresh_from_db()
    assert not staff.is_active
    assert not staff.has_permission(Perm.RESIDENT_READ)


def test_set_roles_and_deactivate_unknown_staff():
    with pytest.raises(FindingsError):
        services.set_roles(SYSTEM, staff_id="ghost", role_codes=[])
    with pytest.raises(FindingsError):
        services.deactivate_staff(SYSTEM, staff_id="ghost")
    _add()
    with pytest.raises(FindingsError) as exc:
        services.set_roles(SYSTEM, staff_id="clerk01", role_codes=["wizard"])
    assert _codes(exc) == {"staff.roles.unknown"}


def test_login_honours_password_and_validity_period():
    staff = _add(valid_from=dt.date(2020, 1, 1), valid_until=dt.date(2099, 12, 31))
    assert authenticate(username="clerk01", password=PASSWORD) == staff
    assert authenticate(username="clerk01", password="wrong-password") is None
    assert authenticate(username="nobody", password=PASSWORD) is None
    assert authenticate(username="", password=PASSWORD) is None
    expired = StaffFactory(valid_from=dt.date(2020, 1, 1), valid_until=dt.date(2021, 3, 31))
    assert not expired.is_valid_on(dt.date(2021, 4, 1))
    assert expired.is_valid_on(dt.date(2021, 3, 31))
    assert authenticate(username=expired.staff_id, password=PASSWORD) is None
    future = StaffFactory(valid_from=dt.date(2099, 1, 1))
    assert authenticate(username=future.staff_id, password=PASSWORD) is None


def test_org_units_and_terminals():
    unit = services.create_org_unit(
        SYSTEM, code="midori-kumin", name="緑区役所 区民課", kind="ward_office"
    )
    branch = services.create_org_unit(
        SYSTEM, code="tsukui", name="津久井出張所", kind="branch", parent_code="midori-kumin"
    )
    assert branch.parent == unit
    assert str(unit) == "緑区役所 区民課（区役所）"
    terminal = services.create_terminal(
        SYSTEM, name="MIDORI-01", location="緑区役所 1階", org_unit_code="midori-kumin"
    )
    assert terminal.on_premises and terminal.org_unit == unit
    with pytest.raises(FindingsError) as exc:
        services.create_org_unit(
            SYSTEM, code="Bad Code", name="", kind="castle", parent_code="none"
        )
    assert _codes(exc) == {
        "org_unit.code.format",
        "name.empty",
        "org_unit.kind.unknown",
        "org_unit.parent.unknown",
    }
    with pytest.raises(FindingsError) as exc:
        services.create_org_unit(SYSTEM, code="tsukui", name="重複", kind="branch")
    assert _codes(exc) == {"org_unit.code.duplicate"}
    with pytest.raises(FindingsError) as exc:
        services.create_terminal(SYSTEM, name="MIDORI-01", location="", org_unit_code="x")
    assert _codes(exc) == {"terminal.name.duplicate", "location.empty", "terminal.org_unit.unknown"}
    assert Terminal.objects.count() == 1
    assert OrgUnit.objects.count() == 2


def test_actor_describes_itself():
    staff = StaffFactory()
    actor = actor_for(staff)
    assert actor.operator_code == staff.staff_id
    assert actor.place == staff.org_unit.code
    assert actor.terminal_name == ""
    assert not actor.is_system
    system = Actor.system("batch", "nightly")
    assert system.operator_code == "batch:nightly"
    assert system.place == ""
    assert system.can(Perm.STAFF_MANAGE)


# --- CLI ---------------------------------------------------------------------------


def test_cli_staff_add_list_and_roles(capsys):
    call_command(
        "orgunit",
        "add",
        "--code",
        "chuo-kumin",
        "--name",
        "中央区役所 区民課",
        "--kind",
        "ward_office",
    )
    call_command(
        "staff",
        "add",
        "--staff-id",
        "clerk09",
        "--name",
        "窓口 九郎",
        "--kana",
        "マドグチ クロウ",
        "--org-unit",
        "chuo-kumin",
        "--role",
        "counter_clerk",
    )
    out = capsys.readouterr().out
    assert "職員を登録しました: clerk09" in out
    password = out.split("初期パスワード: ")[1].split()[0]
    assert authenticate(username="clerk09", password=password) is not None
    call_command("staff", "list")
    assert "clerk09\t窓口 九郎\tchuo-kumin\tcounter_clerk\t有効" in capsys.readouterr().out
    call_command("staff", "roles")
    assert "register:change:draft" in capsys.readouterr().out
    call_command(
        "terminal", "add", "--name", "T-1", "--location", "1階", "--org-unit", "chuo-kumin"
    )
    call_command("terminal", "list")
    assert "T-1\t1階\tchuo-kumin\t庁舎内" in capsys.readouterr().out
    call_command("orgunit", "list")
    assert "chuo-kumin" in capsys.readouterr().out
    call_command("staff", "set-roles", "--staff-id", "clerk09", "--role", "reviewer")
    call_command("staff", "deactivate", "--staff-id", "clerk09")
    assert not Staff.objects.get(staff_id="clerk09").is_active


def test_cli_reports_findings_in_japanese():
    with pytest.raises(CommandError) as exc:
        call_command(
            "staff", "add", "--staff-id", "x", "--name", "", "--kana", "abc", "--org-unit", "none"
        )
    text = str(exc.value)
    assert "入力内容に誤りがあります" in text
    assert "[staff_id]" in text and "[name]" in text and "[name_kana]" in text
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command(
            "staff",
            "add",
            "--staff-id",
            "abc",
            "--name",
            "a",
            "--kana",
            "ア",
            "--org-unit",
            "none",
            "--valid-from",
            "2026-13-01",
        )
