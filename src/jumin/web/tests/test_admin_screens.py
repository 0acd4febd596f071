"""職員・権限の管理 screens (std 10.3 j1380, 10.4 j1390): the administrator's lists and forms,
403 for others (logged), bad input re-rendered with what was typed, every change logged."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jumin.accounts.models import Role, ScheduledStaffChange, Staff, Terminal
from jumin.accounts.permissions import BUILTIN_ROLES, Perm
from jumin.accounts.tests.factories import PASSWORD, OrgUnitFactory, StaffFactory, TerminalFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome

pytestmark = pytest.mark.django_db


def page(response, status: int = 200) -> str:
    assert response.status_code == status, response.content.decode()[:3000]
    return response.content.decode()


def last_entry() -> OperationLogEntry:
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry is not None
    return entry


@pytest.fixture
def admin_client(client):
    staff = StaffFactory(staff_id="admin01", roles=["administrator"])
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def clerk():
    return StaffFactory(staff_id="clerk01", name="窓口 一郎", roles=["counter_clerk"])


# std 10.3 (j1380): only the administrator manages staff; others are refused and logged
@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/new-staff/",
        "/admin/staff/clerk01/",
        "/admin/staff/clerk01/edit/",
        "/admin/staff/clerk01/schedule/",
        "/admin/import-roles/",
        "/admin/roles/",
        "/admin/roles/matrix/",
        "/admin/roles/matrix.csv",
        "/admin/roles/counter_clerk/",
        "/admin/terminals/",
        "/admin/terminals/new/",
        "/admin/org-units/",
    ],
)
def test_others_get_403_and_the_refusal_is_logged(client, clerk, url):
    client.force_login(StaffFactory(roles=["counter_clerk", "supervisor", "auditor"]))
    html = page(client.get(url), 403)
    assert "権限" in html
    assert last_entry().outcome == Outcome.DENIED


def test_posts_are_refused_to_others(client, clerk):
    client.force_login(StaffFactory(roles=["supervisor"]))
    page(client.post("/admin/staff/clerk01/deactivate/"), 403)
    page(client.post("/admin/staff/clerk01/reset-password/"), 403)
    assert Staff.objects.get(staff_id="clerk01").is_active
    assert Staff.objects.get(staff_id="clerk01").check_password(PASSWORD)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_list_filters(admin_client, clerk):
    StaffFactory(staff_id="rev01", name="審査 花子", roles=["reviewer"], is_active=False)
    html = page(admin_client.get("/admin/"))
    assert 'id="staff-clerk01"' in html and 'id="staff-rev01"' in html
    html = page(admin_client.get("/admin/", {"role": "reviewer"}))
    assert 'id="staff-clerk01"' not in html and 'id="staff-rev01"' in html
    html = page(admin_client.get("/admin/", {"state": "active"}))
    assert 'id="staff-clerk01"' in html and 'id="staff-rev01"' not in html
    html = page(admin_client.get("/admin/", {"text": "窓口"}))
    assert 'id="staff-clerk01"' in html and 'id="staff-admin01"' not in html


def test_create_staff_shows_the_initial_password_once(admin_client):
    OrgUnitFactory(code="chuo-kumin", name="中央区役所 区民課", ward_scope="中央区")
    response = admin_client.post(
        "/admin/new-staff/",
        {
            "staff_id": "new01",
            "name": "新規 三郎",
            "name_kana": "シンキ サブロウ",
            "org_unit": "chuo-kumin",
            "valid_from": "R8.4.1",
            "valid_until": "",
            "ward_scope": "*",
            "roles": ["counter_clerk"],
        },
    )
    html = page(response)
    assert "no-store" in response["Cache-Control"]
    staff = Staff.objects.get(staff_id="new01")
    assert staff.valid_from == dt.date(2026, 4, 1)
    assert staff.ward_scope == "中央区"  # the org unit's default
    assert staff.must_change_password
    shown = html.split('id="initial-password">')[1].split("<")[0]
    assert staff.check_password(shown)
    entry = last_entry()
    assert entry.category == Category.SETTINGS_CHANGE and entry.function == "職員の登録"
    assert shown not in str(entry.detail)


def test_create_staff_bad_input_keeps_values_and_saves_nothing(admin_client):
    OrgUnitFactory(code="chuo-kumin")
    before = OperationLogEntry.objects.count()
    html = page(
        admin_client.post(
            "/admin/new-staff/",
            {
                "staff_id": "ng01",
                "name": "正しい 名前",
                "name_kana": "abc",
                "org_unit": "chuo-kumin",
                "valid_from": "2026-02-30",
                "ward_scope": "",
                "roles": ["reviewer"],
            },
        )
    )
    assert not Staff.objects.filter(staff_id="ng01").exists()
    assert OperationLogEntry.objects.count() == before
    assert 'value="正しい 名前"' in html and 'value="abc"' in html
    assert 'value="2026-02-30"' in html
    assert 'value="reviewer" checked' in html
    assert "有効期間の開始「2026-02-30」を日付として読めません" in html
    assert 'aria-invalid="true"' in html


# std 10.3 (j1380): roles, validity period and ward scope per member of staff, logged
def test_edit_staff_logs_before_and_after(admin_client, clerk):
    html = page(admin_client.get("/admin/staff/clerk01/edit/"))
    assert 'value="counter_clerk" checked' in html
    response = admin_client.post(
        "/admin/staff/clerk01/edit/",
        {
            "name": clerk.name,
            "name_kana": clerk.name_kana,
            "org_unit": clerk.org_unit.code,
            "valid_from": "2020-04-01",
            "valid_until": "2099-03-31",
            "ward_scope": "南区",
            "roles": ["counter_clerk", "reviewer"],
        },
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.ward_scope == "南区" and clerk.valid_until == dt.date(2099, 3, 31)
    detail = last_entry().detail
    assert detail["before"]["roles"] == ["counter_clerk"]
    assert detail["after"]["roles"] == ["counter_clerk", "reviewer"]
    html = page(admin_client.get("/admin/staff/clerk01/"))
    assert '<td id="ward-scope">南区</td>' in html
    assert Perm.CHANGE_REVIEW.label in html


def test_edit_staff_bad_input_keeps_values(admin_client, clerk):
    html = page(
        admin_client.post(
            "/admin/staff/clerk01/edit/",
            {
                "name": "",
                "name_kana": clerk.name_kana,
                "org_unit": clerk.org_unit.code,
                "valid_from": "2026-04-01",
                "valid_until": "2026-03-01",
                "ward_scope": "南区",
                "roles": ["reviewer"],
            },
        )
    )
    assert "氏名" in html and "有効期間の終了日が開始日より前です" in html
    assert '<option value="南区" selected>' in html
    assert 'value="2026-03-01"' in html
    clerk.refresh_from_db()
    assert clerk.ward_scope == "" and clerk.valid_until is None


def test_deactivate_reactivate_and_reset_password(admin_client, clerk):
    admin_client.post("/admin/staff/clerk01/deactivate/")
    assert not Staff.objects.get(staff_id="clerk01").is_active
    assert last_entry().function == "職員の無効化"
    admin_client.post("/admin/staff/clerk01/reactivate/")
    assert Staff.objects.get(staff_id="clerk01").is_active
    response = admin_client.post("/admin/staff/clerk01/reset-password/")
    html = page(response)
    shown = html.split('id="initial-password">')[1].split("<")[0]
    staff = Staff.objects.get(staff_id="clerk01")
    assert staff.check_password(shown) and staff.must_change_password
    assert last_entry().function == "パスワードの再発行"
    # one cannot lock oneself out
    response = admin_client.post("/admin/staff/admin01/deactivate/", follow=True)
    assert "自分自身を無効にすることはできません" in page(response)
    assert Staff.objects.get(staff_id="admin01").is_active


# std 10.3 (j1380): scheduled changes prepared in advance on the screen
def test_schedule_and_cancel_on_screen(admin_client, clerk):
    day = timezone.localdate() + dt.timedelta(days=10)
    html = page(
        admin_client.post(
            "/admin/staff/clerk01/schedule/",
            {"effective_on": day.isoformat(), "note": "何も選ばない"},
        )
    )
    assert "変更する項目がありません" in html and 'value="何も選ばない"' in html
    response = admin_client.post(
        "/admin/staff/clerk01/schedule/",
        {
            "effective_on": day.isoformat(),
            "change_roles": "1",
            "roles": ["reviewer"],
            "set_ward_scope": "1",
            "ward_scope": "緑区",
            "note": "4月異動",
        },
    )
    assert response.status_code == 302
    change = ScheduledStaffChange.objects.get()
    assert change.role_codes == ["reviewer"] and change.ward_scope == "緑区"
    html = page(admin_client.get("/admin/staff/clerk01/"))
    assert f'id="scheduled-{change.pk}"' in html and "4月異動" in html
    admin_client.post(f"/admin/scheduled/{change.pk}/cancel/")
    change.refresh_from_db()
    assert change.status == ScheduledStaffChange.Status.CANCELLED


# std 10.3 (j1380): 操作権限はバッチ処理で一括メンテナンス (also from the screen)
def test_import_roles_screen(admin_client, clerk):
    bad = SimpleUploadedFile(
        "roles.csv", b"staff_id,roles,valid_from,valid_until\nclerk01,wizard,,\n"
    )
    html = page(admin_client.post("/admin/import-roles/", {"file": bad}))
    assert "2行目" in html and "wizard" in html
    good = SimpleUploadedFile(
        "roles.csv", b"staff_id,roles,valid_from,valid_until\nclerk01,reviewer,,\n"
    )
    response = admin_client.post("/admin/import-roles/", {"file": good})
    assert response.status_code == 302
    assert [r.code for r in Staff.objects.get(staff_id="clerk01").roles.all()] == ["reviewer"]
    html = page(
        admin_client.post(
            "/admin/import-roles/", {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00")}
        )
    )
    assert "UTF-8 ではありません" in html


# std 10.3 (j1380): 操作権限一覧表 — roles × permissions, printable and CSV
def test_role_matrix_and_csv(admin_client):
    html = page(admin_client.get("/admin/roles/matrix/"))
    for perm in Perm:
        assert perm.label in html
    for spec in BUILTIN_ROLES:
        assert spec.name in html
    response = admin_client.get("/admin/roles/matrix.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    column = next(i for i, h in enumerate(header) if h.endswith("（counter_clerk）"))
    by_perm = {row[2]: row for row in rows[1:]}
    assert len(by_perm) == len(Perm)
    assert by_perm[Perm.CHANGE_DRAFT.value][column] == "○"
    assert by_perm[Perm.CHANGE_REVIEW.value][column] == ""


def test_role_create_edit_and_builtin_fixed(admin_client):
    html = page(
        admin_client.post(
            "/admin/roles/new/",
            {
                "code": "Night Desk",
                "name": "夜間窓口",
                "networks": "10.9.0.0/16\nnot-a-range",
                "permissions": [Perm.RESIDENT_READ.value],
            },
        )
    )
    assert "ロールコードは英小文字" in html and "not-a-range" in html
    assert f'value="{Perm.RESIDENT_READ.value}" checked' in html
    assert not Role.objects.filter(name="夜間窓口").exists()
    response = admin_client.post(
        "/admin/roles/new/",
        {
            "code": "night_desk",
            "name": "夜間窓口",
            "on_premises_only": "1",
            "networks": "10.9.0.0/16",
            "permissions": [Perm.RESIDENT_READ.value, Perm.RESIDENT_SEARCH.value],
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(code="night_desk")
    assert role.on_premises_only and role.allowed_networks == ["10.9.0.0/16"]
    assert last_entry().function == "ロールの登録"
    html = page(admin_client.get("/admin/roles/counter_clerk/"))
    assert 'id="builtin-note"' in html
    clerk_role = Role.objects.get(code="counter_clerk")
    response = admin_client.post(
        "/admin/roles/counter_clerk/",
        {
            "name": clerk_role.name,
            "networks": "10.1.0.0/16",
            "permissions": clerk_role.permissions,
        },
    )
    assert response.status_code == 302
    assert Role.objects.get(code="counter_clerk").allowed_networks == ["10.1.0.0/16"]
    assert last_entry().detail["after"] == {"allowed_networks": ["10.1.0.0/16"]}


def test_terminals_screens(admin_client):
    unit = OrgUnitFactory(code="chuo-kumin")
    html = page(
        admin_client.post(
            "/admin/terminals/new/",
            {"name": "CHUO-09", "location": "", "org_unit": unit.code, "networks": "bad"},
        )
    )
    assert "設置場所を入力してください" in html and 'value="CHUO-09"' in html
    assert not Terminal.objects.filter(name="CHUO-09").exists()
    response = admin_client.post(
        "/admin/terminals/new/",
        {
            "name": "CHUO-09",
            "location": "中央区役所 2階",
            "org_unit": unit.code,
            "on_premises": "1",
            "networks": "10.2.0.0/16",
        },
    )
    assert response.status_code == 302
    terminal = Terminal.objects.get(name="CHUO-09")
    assert terminal.on_premises and terminal.allowed_networks == ["10.2.0.0/16"]
    response = admin_client.post(
        f"/admin/terminals/{terminal.pk}/",
        {"location": "中央区役所 3階", "org_unit": unit.code, "networks": ""},
    )
    assert response.status_code == 302
    terminal.refresh_from_db()
    assert not terminal.on_premises and not terminal.is_active
    assert last_entry().function == "端末の変更"
    html = page(admin_client.get("/admin/terminals/"))
    assert "使用停止" in html and "庁舎外" in html
    assert admin_client.get("/admin/terminals/99999/").status_code == 404


def test_org_unit_ward_scope(admin_client):
    OrgUnitFactory(code="minami-kumin", name="南区役所")
    response = admin_client.post(
        "/admin/org-units/", {"code": "minami-kumin", "ward_scope": "南区"}
    )
    assert response.status_code == 302
    html = page(
        admin_client.post("/admin/org-units/", {"code": "minami-kumin", "ward_scope": "北区"})
    )
    assert "管轄区「北区」はありません" in html


def test_own_password_change(client, clerk):
    client.force_login(clerk)
    html = page(client.post("/admin/password/", {"current": "wrong", "new": "x", "confirm": "y"}))
    assert "現在のパスワードが違います" in html
    assert 'value="wrong"' not in html  # passwords are never typed back
    response = client.post(
        "/admin/password/",
        {
            "current": PASSWORD,
            "new": "another-horse-staple-77",
            "confirm": "another-horse-staple-77",
        },
    )
    assert response.status_code == 302
    assert last_entry().function == "パスワードの変更"
    # still logged in (session hash updated)
    assert client.get("/admin/password/").status_code == 200


def test_terminal_factory_has_place_fields():
    terminal = TerminalFactory(allowed_networks=["10.0.0.0/8"])
    assert terminal.allowed_networks == ["10.0.0.0/8"]


def test_builtin_role_form_keeps_its_fixed_settings(admin_client):
    contractor = Role.objects.get(code="certificate_contractor")
    html = page(admin_client.get("/admin/roles/certificate_contractor/"))
    assert 'name="on_premises_only" value="1" checked disabled' in html
    # disabled controls are not sent: the fixed settings stay as they are
    response = admin_client.post(
        "/admin/roles/certificate_contractor/",
        {"name": contractor.name, "networks": "192.168.5.0/24"},
    )
    assert response.status_code == 302
    contractor.refresh_from_db()
    assert contractor.on_premises_only
    assert contractor.allowed_networks == ["192.168.5.0/24"]
    assert sorted(contractor.permissions) == sorted(
        p.value
        for spec in BUILTIN_ROLES
        if spec.code == "certificate_contractor"
        for p in spec.permissions
    )


def test_import_refuses_a_file_too_large_rather_than_truncating(admin_client, clerk, monkeypatch):
    from jumin.web import admin_views

    body = b"staff_id,roles,valid_from,valid_until\n" + b"clerk01,reviewer,,\n" * 10
    monkeypatch.setattr(admin_views, "IMPORT_MAX_BYTES", len(body) - 1)
    html = page(
        admin_client.post("/admin/import-roles/", {"file": SimpleUploadedFile("r.csv", body)})
    )
    assert "ファイルが大きすぎます" in html
    assert [r.code for r in Staff.objects.get(staff_id="clerk01").roles.all()] == ["counter_clerk"]


# list screens: the number of queries does not grow with the number of staff (no N+1)
@pytest.mark.parametrize("url", ["/admin/", "/auth/enrol-links/"])
def test_staff_lists_query_count_does_not_grow(admin_client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jumin.accounts.actor import Actor
    from jumin.authn.services import issue_enrolment_link

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(admin_client.get(url))
        return len(captured)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            StaffFactory(staff_id=f"many{i:03d}", roles=["counter_clerk", "reviewer"])
            issue_enrolment_link(Actor.system("cli"), staff_id=f"many{i:03d}")

    add(2, 0)
    queries()  # warm: the first request of a session does a few one-off reads
    few = queries()
    add(20, 2)
    assert queries() == few
