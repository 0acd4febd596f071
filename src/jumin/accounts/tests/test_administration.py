"""Administration services: edits with before/after in the log, ward scope, passwords,
roles, terminals, scheduled changes and the bulk role import (std 10.3, j1380)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from jumin.accounts import services
from jumin.accounts.actor import Actor
from jumin.accounts.models import Role, ScheduledStaffChange, Staff
from jumin.accounts.permissions import Perm
from jumin.accounts.tests.factories import (
    PASSWORD,
    OrgUnitFactory,
    StaffFactory,
    TerminalFactory,
    actor_for,
)
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.findings import FindingsError

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("cli", "test")


def _codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {f.code for f in exc.value.findings}


def _last() -> OperationLogEntry:
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry is not None
    return entry


@pytest.fixture
def admin() -> Actor:
    return actor_for(StaffFactory(staff_id="admin01", roles=["administrator"]))


@pytest.fixture
def clerk():
    return StaffFactory(staff_id="clerk01", roles=["counter_clerk"])


# std 10.3 (j1380): every change to the staff register is logged with before and after
def test_update_staff_logs_before_and_after(admin, clerk):
    unit = OrgUnitFactory(code="midori-kumin")
    services.update_staff(
        admin,
        staff_id="clerk01",
        name=clerk.name,
        name_kana=clerk.name_kana,
        org_unit_code=unit.code,
        role_codes=["counter_clerk", "reviewer"],
        valid_from=clerk.valid_from,
        valid_until=dt.date(2099, 3, 31),
        ward_scope="緑区",
    )
    clerk.refresh_from_db()
    assert clerk.ward_scope == "緑区" and clerk.org_unit == unit
    assert clerk.valid_until == dt.date(2099, 3, 31)
    entry = _last()
    assert entry.category == Category.SETTINGS_CHANGE
    assert entry.function == "職員の変更"
    assert entry.detail["before"]["roles"] == ["counter_clerk"]
    assert entry.detail["after"]["roles"] == ["counter_clerk", "reviewer"]
    assert (
        entry.detail["before"]["ward_scope"] == "" and entry.detail["after"]["ward_scope"] == "緑区"
    )
    assert "name" not in entry.detail["after"]  # unchanged items are not repeated


def test_update_staff_refuses_bad_input_and_writes_nothing(admin, clerk):
    before = OperationLogEntry.objects.count()
    with pytest.raises(FindingsError) as exc:
        services.update_staff(
            admin,
            staff_id="clerk01",
            name="",
            name_kana="abc",
            org_unit_code="nowhere",
            role_codes=["wizard"],
            valid_from=dt.date(2026, 4, 1),
            valid_until=dt.date(2026, 3, 1),
            ward_scope="北区",
        )
    assert _codes(exc) >= {
        "name.empty",
        "staff.org_unit.unknown",
        "staff.roles.unknown",
        "staff.valid_until.before_from",
        "staff.ward_scope.unknown",
    }
    assert OperationLogEntry.objects.count() == before
    assert Staff.objects.get(staff_id="clerk01").ward_scope == ""


def test_staff_services_need_the_permission_and_log_the_refusal(clerk):
    actor = actor_for(clerk)
    for call in (
        lambda: services.reset_password(actor, staff_id="clerk01"),
        lambda: services.set_roles(actor, staff_id="clerk01", role_codes=["administrator"]),
        lambda: services.apply_scheduled_changes(actor),
        lambda: services.import_roles(actor, "staff_id,roles,valid_from,valid_until\n"),
    ):
        with pytest.raises(PermissionDenied):
            call()
        assert _last().outcome == Outcome.DENIED
    with pytest.raises(PermissionDenied):
        services.save_role(actor, code="x1", name="x", permissions=[], create=True)
    assert _last().detail == {"missing_permission": Perm.ROLE_MANAGE.value}


def test_ward_scope_defaults_from_the_org_unit(admin):
    unit = OrgUnitFactory(code="minami-kumin")
    services.set_org_unit_ward_scope(SYSTEM, code="minami-kumin", ward_scope="南区")
    assert _last().detail["after"] == {"ward_scope": "南区"}
    staff = services.create_staff(
        admin,
        staff_id="minami01",
        name="南 花子",
        name_kana="ミナミ ハナコ",
        org_unit_code=unit.code,
        role_codes=["counter_clerk"],
        password=PASSWORD,
    )
    assert staff.ward_scope == "南区"
    whole = services.create_staff(
        admin,
        staff_id="minami02",
        name="南 次郎",
        name_kana="ミナミ ジロウ",
        org_unit_code=unit.code,
        role_codes=[],
        password=PASSWORD,
        ward_scope="",
    )
    assert whole.ward_scope == ""
    with pytest.raises(FindingsError) as exc:
        services.set_org_unit_ward_scope(SYSTEM, code="minami-kumin", ward_scope="北区")
    assert _codes(exc) == {"staff.ward_scope.unknown"}


# std 10.3 (j1380): staff outside their validity period can do nothing
def test_permissions_end_with_the_validity_period():
    today = timezone.localdate()
    last_day = StaffFactory(roles=["counter_clerk"], valid_until=today)
    assert actor_for(last_day).can(Perm.CHANGE_DRAFT)
    ended = StaffFactory(roles=["counter_clerk"], valid_until=today - dt.timedelta(days=1))
    assert not actor_for(ended).can(Perm.CHANGE_DRAFT)
    assert not ended.has_perm(Perm.RESIDENT_READ.value)
    not_yet = StaffFactory(roles=["counter_clerk"], valid_from=today + dt.timedelta(days=1))
    assert not actor_for(not_yet).can(Perm.RESIDENT_READ)


def test_deactivate_and_reactivate(admin, clerk):
    services.deactivate_staff(admin, staff_id="clerk01")
    assert not Staff.objects.get(staff_id="clerk01").has_permission(Perm.RESIDENT_READ)
    assert _last().detail["after"] == {"is_active": False}
    services.reactivate_staff(admin, staff_id="clerk01")
    assert Staff.objects.get(staff_id="clerk01").is_active
    with pytest.raises(FindingsError) as exc:
        services.deactivate_staff(admin, staff_id="admin01")
    assert _codes(exc) == {"staff.deactivate.self"}


# --- passwords --------------------------------------------------------------------------


def test_change_own_password(clerk):
    actor = actor_for(clerk)
    with pytest.raises(FindingsError) as exc:
        services.change_own_password(actor, current="wrong", new="short", confirm="other")
    assert _codes(exc) >= {"password.current.wrong", "password.confirm.mismatch"}
    with pytest.raises(FindingsError) as exc:
        services.change_own_password(actor, current=PASSWORD, new="1234", confirm="1234")
    assert "staff.password.weak" in _codes(exc)
    services.change_own_password(
        actor, current=PASSWORD, new="another-horse-staple-77", confirm="another-horse-staple-77"
    )
    clerk.refresh_from_db()
    assert clerk.check_password("another-horse-staple-77")
    entry = _last()
    assert entry.category == Category.SETTINGS_CHANGE
    assert entry.function == "パスワードの変更"
    assert "another" not in str(entry.detail)


def test_reset_password_gives_a_one_time_password_to_change(admin, clerk):
    password = services.reset_password(admin, staff_id="clerk01")
    clerk.refresh_from_db()
    assert clerk.check_password(password) and not clerk.check_password(PASSWORD)
    assert clerk.must_change_password
    entry = _last()
    assert entry.function == "パスワードの再発行" and password not in str(entry.detail)
    services.change_own_password(
        actor_for(clerk),
        current=password,
        new="fresh-lantern-river-31",
        confirm="fresh-lantern-river-31",
    )
    clerk.refresh_from_db()
    assert not clerk.must_change_password


# --- roles and terminals ----------------------------------------------------------------


def test_custom_role_and_builtin_role_limits(admin):
    role_admin = actor_for(StaffFactory(roles=["administrator"]))
    role = services.save_role(
        role_admin,
        code="night_desk",
        name="夜間窓口",
        permissions=[Perm.RESIDENT_READ.value, Perm.RESIDENT_SEARCH.value],
        allowed_networks=["10.9.0.0/16"],
        create=True,
    )
    assert role.perms == {Perm.RESIDENT_READ, Perm.RESIDENT_SEARCH}
    services.save_role(
        role_admin,
        code="night_desk",
        name="夜間窓口",
        permissions=[Perm.RESIDENT_READ.value],
        allowed_networks=["10.9.0.0/16"],
        create=False,
    )
    assert _last().detail["before"]["permissions"] == sorted(
        [Perm.RESIDENT_READ.value, Perm.RESIDENT_SEARCH.value]
    )
    assert _last().detail["after"]["permissions"] == [Perm.RESIDENT_READ.value]
    with pytest.raises(FindingsError) as exc:
        services.save_role(
            role_admin,
            code="Bad Code",
            name="",
            permissions=["no:such:perm"],
            allowed_networks=["10.0.0.300/8"],
            create=True,
        )
    assert _codes(exc) == {
        "role.code.format",
        "name.empty",
        "role.permissions.unknown",
        "allowed_networks.format",
    }
    clerk_role = Role.objects.get(code="counter_clerk")
    with pytest.raises(FindingsError) as exc:
        services.save_role(
            role_admin,
            code="counter_clerk",
            name=clerk_role.name,
            permissions=[Perm.MY_NUMBER_READ.value],
            create=False,
        )
    assert _codes(exc) == {"role.builtin.fixed"}
    contractor = Role.objects.get(code="certificate_contractor")
    with pytest.raises(FindingsError) as exc:
        services.save_role(
            role_admin,
            code="certificate_contractor",
            name=contractor.name,
            permissions=contractor.permissions,
            on_premises_only=False,
            create=False,
        )
    assert _codes(exc) == {"role.builtin.fixed"}
    # the place limits of a built-in role can be set
    services.save_role(
        role_admin,
        code="counter_clerk",
        name=clerk_role.name,
        permissions=clerk_role.permissions,
        allowed_networks=["10.1.0.0/16"],
        create=False,
    )
    assert Role.objects.get(code="counter_clerk").allowed_networks == ["10.1.0.0/16"]


def test_terminal_create_and_update(admin):
    unit = OrgUnitFactory(code="chuo-kumin")
    terminal = services.create_terminal(
        admin,
        name="CHUO-09",
        location="中央区役所 2階",
        org_unit_code=unit.code,
        allowed_networks=["10.2.3.4/16", "10.2.0.0/16"],
    )
    assert terminal.allowed_networks == ["10.2.0.0/16"]
    services.update_terminal(
        admin,
        terminal_id=terminal.pk,
        location="中央区役所 3階",
        org_unit_code=unit.code,
        on_premises=False,
        allowed_networks=[],
        is_active=False,
    )
    detail = _last().detail
    assert detail["before"]["on_premises"] is True and detail["after"]["on_premises"] is False
    assert detail["after"]["allowed_networks"] == []
    with pytest.raises(FindingsError) as exc:
        services.update_terminal(
            admin,
            terminal_id=terminal.pk,
            location="",
            org_unit_code="x",
            on_premises=True,
            allowed_networks=["nonsense"],
            is_active=True,
        )
    assert _codes(exc) == {"location.empty", "terminal.org_unit.unknown", "allowed_networks.format"}


# --- scheduled changes ------------------------------------------------------------------


# std 10.3 (j1380): changes prepared in advance and applied on their date by a batch
def test_scheduled_change_is_applied_once_on_its_date(admin, clerk):
    unit = OrgUnitFactory(code="midori-kumin")
    today = timezone.localdate()
    change = services.schedule_staff_change(
        admin,
        staff_id="clerk01",
        effective_on=today + dt.timedelta(days=3),
        role_codes=["reviewer"],
        org_unit_code=unit.code,
        set_valid_until=True,
        valid_until=today + dt.timedelta(days=400),
        set_ward_scope=True,
        ward_scope="緑区",
        note="4月1日付け異動",
    )
    assert _last().function == "職員の予定変更の登録"
    assert services.apply_scheduled_changes(SYSTEM, today=today) == []
    assert Staff.objects.get(staff_id="clerk01").ward_scope == ""
    day = today + dt.timedelta(days=3)
    assert services.apply_scheduled_changes(SYSTEM, today=day) == [change.pk]
    staff = Staff.objects.get(staff_id="clerk01")
    assert [r.code for r in staff.roles.all()] == ["reviewer"]
    assert staff.org_unit == unit and staff.ward_scope == "緑区"
    assert staff.valid_until == today + dt.timedelta(days=400)
    entry = _last()
    assert entry.category == Category.BATCH_UPDATE
    assert entry.detail["before"]["roles"] == ["counter_clerk"]
    assert entry.detail["after"]["roles"] == ["reviewer"]
    change.refresh_from_db()
    assert change.status == ScheduledStaffChange.Status.APPLIED
    count = OperationLogEntry.objects.count()
    assert services.apply_scheduled_changes(SYSTEM, today=day) == []  # idempotent
    assert OperationLogEntry.objects.count() == count


def test_scheduled_change_cancel_and_validation(admin, clerk):
    today = timezone.localdate()
    with pytest.raises(FindingsError) as exc:
        services.schedule_staff_change(
            admin, staff_id="clerk01", effective_on=today - dt.timedelta(days=1)
        )
    assert _codes(exc) == {"schedule.effective_on.past", "schedule.empty"}
    with pytest.raises(FindingsError) as exc:
        services.schedule_staff_change(
            admin,
            staff_id="clerk01",
            effective_on=today,
            role_codes=["wizard"],
            set_ward_scope=True,
            ward_scope="北区",
        )
    assert _codes(exc) == {"staff.roles.unknown", "staff.ward_scope.unknown"}
    change = services.schedule_staff_change(
        admin, staff_id="clerk01", effective_on=today, deactivate=True
    )
    services.cancel_scheduled_change(admin, change_id=change.pk)
    assert services.apply_scheduled_changes(SYSTEM, today=today) == []
    assert Staff.objects.get(staff_id="clerk01").is_active
    with pytest.raises(FindingsError) as exc:
        services.cancel_scheduled_change(admin, change_id=change.pk)
    assert _codes(exc) == {"schedule.not_pending"}


def test_cli_apply_scheduled(admin, clerk, capsys):
    today = timezone.localdate()
    services.schedule_staff_change(
        admin,
        staff_id="clerk01",
        effective_on=today,
        set_valid_until=True,
        valid_until=today,
    )
    call_command("staff", "apply-scheduled")
    assert "予定変更を1件適用しました" in capsys.readouterr().out
    assert _last().operator_code.startswith("batch:")
    call_command("staff", "apply-scheduled", "--date", today.isoformat())
    assert "予定変更を0件適用しました" in capsys.readouterr().out
    assert Staff.objects.get(staff_id="clerk01").valid_until == today


# --- bulk import ------------------------------------------------------------------------

HEADER = "staff_id,roles,valid_from,valid_until\n"


# std 10.3 (j1380): 操作権限はバッチ処理で一括メンテナンス
def test_import_roles_all_or_nothing_with_line_numbers(admin, clerk):
    StaffFactory(staff_id="clerk02", roles=["counter_clerk"])
    before = OperationLogEntry.objects.count()
    bad = (
        HEADER
        + "clerk01,reviewer;counter_clerk,2026-04-01,\n"
        + "ghost,reviewer,,\n"
        + "clerk02,wizard,2026-13-01,\n"
        + "clerk01,reviewer,,\n"
        + "clerk02,reviewer\n"
    )
    with pytest.raises(FindingsError) as exc:
        services.import_roles(admin, bad)
    messages = [f.message for f in exc.value.findings]
    assert any(m.startswith("4行目") and "2026-13-01" in m for m in messages)
    assert any(m.startswith("5行目") and "2行目にもあります" in m for m in messages)
    assert any(m.startswith("6行目") and "項目の数" in m for m in messages)
    assert Staff.objects.get(staff_id="clerk01").roles.get().code == "counter_clerk"
    with pytest.raises(FindingsError) as exc:
        services.import_roles(admin, HEADER + "ghost,reviewer,,\nclerk02,wizard,,\n")
    messages = [f.message for f in exc.value.findings]
    assert any(m.startswith("2行目") and "ghost" in m for m in messages)
    assert any(m.startswith("3行目") and "wizard" in m for m in messages)
    assert OperationLogEntry.objects.count() == before
    good = HEADER + "clerk01,reviewer counter_clerk,2026-04-01,2027-03-31\nclerk02,,,\n"
    assert services.import_roles(admin, good) == 2
    clerk.refresh_from_db()
    assert sorted(r.code for r in clerk.roles.all()) == ["counter_clerk", "reviewer"]
    assert clerk.valid_from == dt.date(2026, 4, 1) and clerk.valid_until == dt.date(2027, 3, 31)
    assert not Staff.objects.get(staff_id="clerk02").roles.exists()
    assert OperationLogEntry.objects.count() == before + 2
    assert _last().detail["line"] == 3


def test_import_roles_header_and_cli(admin, clerk, tmp_path, capsys):
    with pytest.raises(FindingsError) as exc:
        services.import_roles(admin, "id,role\nclerk01,reviewer\n")
    assert _codes(exc) == {"import.header"}
    path = tmp_path / "roles.csv"
    path.write_text("\ufeff" + HEADER + "clerk01,reviewer,,\n", encoding="utf-8")
    call_command("staff", "import-roles", str(path))
    assert "1人のロールと有効期間を設定しました" in capsys.readouterr().out
    path.write_text(HEADER + "clerk01,wizard,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="2行目"):
        call_command("staff", "import-roles", str(path))
    with pytest.raises(CommandError, match="ファイルを読めません"):
        call_command("staff", "import-roles", str(tmp_path / "missing.csv"))


def test_place_limits_are_set_on_terminals(admin, clerk):
    terminal = TerminalFactory(allowed_networks=["10.1.0.0/16"])
    assert services.check_login_place(clerk, terminal, "10.1.0.9") is None


# std 10.3 (j1380): incompatible duties — no one widens their own access. (A reviewer
# committing their own draft is refused by the register: register/tests/test_review.py.)
def test_an_administrator_cannot_change_their_own_access(admin):
    me = admin.staff
    with pytest.raises(FindingsError) as exc:
        services.set_roles(admin, staff_id="admin01", role_codes=["administrator", "supervisor"])
    assert _codes(exc) == {"staff.self_change"}

    def edit(**changes):
        values = dict(
            name=me.name,
            name_kana=me.name_kana,
            org_unit_code=me.org_unit.code,
            role_codes=["administrator"],
            valid_from=me.valid_from,
            valid_until=None,
            ward_scope="",
        )
        values.update(changes)
        return services.update_staff(admin, staff_id="admin01", **values)

    edit(name="管理 改名")  # a correction of one's own name is fine
    for changes in (
        {"ward_scope": "緑区"},
        {"valid_until": dt.date(2099, 1, 1)},
        {"role_codes": ["administrator", "auditor"]},
    ):
        with pytest.raises(FindingsError) as exc:
            edit(**changes)
        assert _codes(exc) == {"staff.self_change"}
    with pytest.raises(FindingsError) as exc:
        services.schedule_staff_change(
            admin,
            staff_id="admin01",
            effective_on=timezone.localdate(),
            role_codes=["supervisor"],
        )
    assert _codes(exc) == {"staff.self_change"}
    with pytest.raises(FindingsError) as exc:
        services.import_roles(admin, HEADER + "admin01,administrator supervisor,,\n")
    assert [f.message[:3] for f in exc.value.findings] == ["2行目"]
    with pytest.raises(FindingsError) as exc:
        services.save_role(
            admin,
            code="administrator",
            name=Role.objects.get(code="administrator").name,
            permissions=[
                *Role.objects.get(code="administrator").permissions,
                "register:resident:read",
            ],
            create=False,
        )
    assert "role.self_change" in _codes(exc)
    assert [r.code for r in Staff.objects.get(staff_id="admin01").roles.all()] == ["administrator"]


# std 10.3 (j1380): no one loosens the place limits of a role they hold (tightening is fine)
def test_an_administrator_cannot_loosen_the_place_limits_of_their_own_role(admin):
    role = Role.objects.get(code="administrator")

    def save(actor, networks, code="administrator", on_premises_only=False):
        current = Role.objects.get(code=code)
        return services.save_role(
            actor,
            code=code,
            name=current.name,
            permissions=current.permissions,
            on_premises_only=on_premises_only,
            allowed_networks=networks,
            create=False,
        )

    save(SYSTEM, ["10.1.0.0/16"])  # set by someone else
    for wider in ([], ["10.0.0.0/8"], ["10.1.0.0/16", "192.168.0.0/24"], ["::/0"]):
        with pytest.raises(FindingsError) as exc:
            save(admin, wider)
        assert _codes(exc) == {"role.self_change"}, wider
    assert Role.objects.get(code="administrator").allowed_networks == ["10.1.0.0/16"]
    save(admin, ["10.1.2.0/24"])  # narrower: allowed
    assert Role.objects.get(code="administrator").allowed_networks == ["10.1.2.0/24"]
    # a custom on-premises-only role held by the administrator stays on-premises only
    services.save_role(
        SYSTEM,
        code="night_admin",
        name="夜間管理",
        permissions=role.permissions,
        on_premises_only=True,
        create=True,
    )
    services.set_roles(SYSTEM, staff_id="admin01", role_codes=["administrator", "night_admin"])
    with pytest.raises(FindingsError) as exc:
        save(admin, [], code="night_admin", on_premises_only=False)
    assert _codes(exc) == {"role.self_change"}
    assert Role.objects.get(code="night_admin").on_premises_only is True


def test_demo_has_a_ward_limited_clerk(settings):
    from jumin.accounts.demo import setup_demo

    settings.JUMIN = {**settings.JUMIN, "MODE": "demo"}
    setup_demo(SYSTEM)
    assert Staff.objects.get(staff_id="midori01").ward_scope == "緑区"
    assert Staff.objects.get(staff_id="clerk01").ward_scope == ""


def test_cli_reset_password_list_and_terminal_networks(clerk, capsys):
    call_command("staff", "reset-password", "--staff-id", "clerk01")
    password = capsys.readouterr().out.split("初期パスワード: ")[1].split()[0]
    clerk.refresh_from_db()
    assert clerk.check_password(password) and clerk.must_change_password
    call_command("staff", "list")
    assert "clerk01\t" in capsys.readouterr().out
    OrgUnitFactory(code="chuo-kumin")
    call_command(
        "terminal",
        "add",
        "--name",
        "T-9",
        "--location",
        "1階",
        "--org-unit",
        "chuo-kumin",
        "--network",
        "10.1.0.0/16",
    )
    call_command("terminal", "list")
    assert "T-9\t1階\tchuo-kumin\t庁舎内\t10.1.0.0/16" in capsys.readouterr().out
    with pytest.raises(CommandError, match="アドレス範囲「bad」"):
        call_command(
            "terminal",
            "add",
            "--name",
            "T-10",
            "--location",
            "1階",
            "--org-unit",
            "chuo-kumin",
            "--network",
            "bad",
        )


def test_address_ranges_are_bounded():
    findings: list = []
    assert services.network_findings(findings, "allowed_networks", ["x " * 50]) == []
    assert len(findings) == 5
    findings = []
    many = [f"10.{i}.0.0/16" for i in range(services.MAX_NETWORKS + 1)]
    services.network_findings(findings, "allowed_networks", many)
    assert [f.code for f in findings] == ["allowed_networks.too_many"]
