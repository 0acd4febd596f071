"""The auditors' screens of the operation log: search, detail, CSV export, the analysis
reports, verification, settings; and the 画面ハードコピー endpoint. std 10.2 (j1370)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory, TerminalFactory
from jumin.audit import checkpoints, services
from jumin.audit.models import AuditSettings, Category, OperationLogEntry, Outcome

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
# The clock of everything the screens log themselves (the auditor's own reads): a weekday
# morning outside every period the tests ask about — else a run at night or on a holiday
# sees its own reads in the 深夜・休業日 report. Entries of a test's own make use ``_at``.
SCREEN_CLOCK = dt.datetime(2026, 12, 1, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def _fixed_clock():
    with mock.patch("django.utils.timezone.now", return_value=SCREEN_CLOCK):
        yield


def _login(client, role: str, **kwargs):
    staff = StaffFactory(roles=[role], **kwargs)
    client.force_login(staff)
    return staff


def _at(moment: dt.datetime, actor=None, **kwargs) -> OperationLogEntry:
    """An entry as if recorded at ``moment`` (JST)."""
    kwargs.setdefault("category", Category.INQUIRY)
    kwargs.setdefault("function", "住民照会")
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return services.record(actor or Actor.system("batch", "test"), **kwargs)


def _text(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode()


def _last() -> OperationLogEntry:
    return OperationLogEntry.objects.order_by("-seq")[0]


ROUTES = [
    "/audit/",
    "/audit/entries/1/",
    "/audit/export.csv",
    "/audit/reports/",
    "/audit/reports/night/",
    "/audit/verify/",
    "/audit/settings/",
]


@pytest.mark.parametrize("url", ROUTES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", ROUTES)
def test_a_clerk_is_refused_and_the_refusal_logged(client, url):
    # std 10.3 (j1380): access logs are an independent permission
    _at(dt.datetime(2026, 11, 26, 10, tzinfo=JST))
    staff = _login(client, "counter_clerk")
    response = client.get(url)
    assert response.status_code == 403
    assert "権限が必要です" in response.content.decode()
    denied = _last()
    assert denied.outcome == Outcome.DENIED
    assert denied.operator_code == staff.staff_id


def test_administrator_may_verify_but_not_read(client):
    _login(client, "administrator")
    assert client.get("/audit/verify/").status_code == 200
    assert client.get("/audit/").status_code == 403


def test_search_filters_paginates_and_is_logged(client):
    # std 10.2 (j1370): オンラインでの検索・抽出・照会
    clerk = StaffFactory(roles=["counter_clerk"], staff_id="c0001")
    terminal = TerminalFactory(name="MADO-01")
    who = Actor.of(clerk, terminal, "web")
    _at(
        dt.datetime(2026, 11, 2, 10, tzinfo=JST),
        who,
        targets=["0000000019"],
        my_number_accessed=True,
    )
    _at(
        dt.datetime(2026, 11, 3, 10, tzinfo=JST),
        who,
        category=Category.DOCUMENT_ISSUE,
        function="住民票の写し",
    )
    _at(dt.datetime(2026, 10, 1, 10, tzinfo=JST), who, targets=["0000000019"])
    for i in range(55):
        _at(dt.datetime(2026, 11, 4, 10, tzinfo=JST), function=f"一括 {i}")
    auditor = _login(client, "auditor")
    html = _text(client.get("/audit/", {"atena_no": "0000000019", "date_from": "R8.11.1"}))
    assert "1 件中 1〜1 件目" in html
    assert "MADO-01" in html and "c0001" in html
    logged = _last()
    assert logged.function == "操作ログの検索"
    assert logged.operator_code == auditor.staff_id
    assert logged.detail["filter"] == {"atena_no": "0000000019", "date_from": "2026-11-01"}
    html = _text(client.get("/audit/", {"my_number": "1"}))
    assert "1 件中" in html
    html = _text(client.get("/audit/", {"category": "document_issue", "terminal": "MADO-01"}))
    assert "住民票の写し" in html and "1 件中" in html
    html = _text(client.get("/audit/", {"function": "一括"}))
    assert "55 件中 1〜50 件目" in html and "次の50件" in html
    html = _text(client.get("/audit/", {"function": "一括", "offset": "50"}))
    assert "55 件中 51〜55 件目" in html
    everything = OperationLogEntry.objects.count()  # the unfiltered total comes from the head
    assert f"{everything} 件中 1〜50 件目" in _text(client.get("/audit/"))


def test_search_rejects_bad_input_in_japanese(client):
    _login(client, "auditor")
    response = client.get("/audit/", {"date_from": "昨日", "category": "nope"})
    assert response.status_code == 422
    html = _text(response)
    assert "期間（から）「昨日」を日付として読めません。" in html
    assert "区分は一覧から選んでください。" in html
    response = client.get("/audit/", {"date_from": "2026-11-10", "date_to": "2026-11-01"})
    assert response.status_code == 422
    assert "期間（まで）が期間（から）より前です。" in _text(response)


def test_entry_detail_is_shown_and_logged(client):
    e = _at(dt.datetime(2026, 11, 2, 10, tzinfo=JST), detail={"reason": "窓口"})
    _login(client, "auditor")
    html = _text(client.get(f"/audit/entries/{e.seq}/"))
    assert e.entry_hash in html and "窓口" in html
    assert _last().function == "操作ログの詳細照会"
    assert client.get("/audit/entries/999/").status_code == 404


def test_csv_export_has_a_bom_is_filtered_and_logged_as_data_extract(client):
    # std 10.2 (j1370): データ抽出（EUC） of the log, logged with its filter
    _at(dt.datetime(2026, 11, 2, 10, tzinfo=JST), targets=["0000000019"])
    _at(dt.datetime(2026, 11, 2, 11, tzinfo=JST), targets=["0000000027"])
    _login(client, "auditor")
    response = client.get("/audit/export.csv", {"atena_no": "0000000027"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = _text(response)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["連番", "日時", "操作者ID"]
    assert len(rows) == 2 and rows[1][8] == "0000000027"
    assert rows[1][1] == "2026-11-02 11:00:00"
    extract = OperationLogEntry.objects.get(category=Category.DATA_EXTRACT)
    assert extract.detail["filter"] == {"atena_no": "0000000027"}


def test_csv_export_needs_data_extract(client):
    # a log reader without DATA_EXTRACT: a role built from the catalogue
    from jumin.accounts.models import Role

    role = Role.objects.create(code="log_reader", name="ログ閲覧", permissions=["audit:log:read"])
    reader = StaffFactory()
    reader.roles.add(role)
    client.force_login(reader)
    assert client.get("/audit/").status_code == 200
    assert "CSV 出力（データ抽出）</a>" not in _text(client.get("/audit/"))
    response = client.get("/audit/export.csv")
    assert response.status_code == 403
    assert _last().detail == {"missing_permission": "register:data:extract"}


def test_night_and_holiday_report(client):
    # std 10.2 (j1370): 深夜・休業日におけるアクセス一覧
    clerk = Actor.of(StaffFactory(staff_id="c0002"), None, "web")
    _at(dt.datetime(2026, 11, 26, 23, 30, tzinfo=JST), clerk, function="深夜の照会")
    _at(dt.datetime(2026, 11, 23, 10, tzinfo=JST), clerk, function="祝日の照会")  # 勤労感謝の日
    _at(dt.datetime(2026, 11, 28, 10, tzinfo=JST), clerk, function="土曜の照会")
    _at(dt.datetime(2026, 11, 26, 10, tzinfo=JST), clerk, function="平日昼の照会")
    _at(dt.datetime(2026, 11, 26, 2, tzinfo=JST), function="夜間バッチ")  # system: left out
    _login(client, "auditor")
    html = _text(
        client.get("/audit/reports/night/", {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    )
    assert "深夜の照会" in html and "祝日の照会" in html and "土曜の照会" in html
    assert "勤労感謝の日" in html and "深夜" in html
    assert "平日昼の照会" not in html and "夜間バッチ" not in html
    logged = _last()
    assert logged.function == "操作ログの分析（深夜・休業日アクセス一覧）"
    assert logged.detail["rows"] == 3
    response = client.get(
        "/audit/reports/night/",
        {"date_from": "2026-11-01", "date_to": "2026-11-30", "format": "csv"},
    )
    body = _text(response)
    assert body.startswith("\ufeff日時,区分,理由")
    assert body.count("\n") == 4
    assert _last().category == Category.DATA_EXTRACT


def test_night_hours_follow_the_settings(client):
    clerk = Actor.of(StaffFactory(), None, "web")
    _at(dt.datetime(2026, 11, 26, 20, 30, tzinfo=JST), clerk, function="二十時半の照会")
    _login(client, "auditor")
    url, period = "/audit/reports/night/", {"date_from": "2026-11-26", "date_to": "2026-11-26"}
    assert "二十時半の照会" not in _text(client.get(url, period))
    client.post(
        "/audit/settings/",
        {
            "retention_years": "7",
            "night_start": "20:00",
            "night_end": "07:00",
            "mass_search_threshold": "100",
        },
    )
    assert "二十時半の照会" in _text(client.get(url, period))


def test_login_reports(client):
    # std 10.2 (j1370): ログイン失敗一覧 / ID別ログイン数一覧
    anon = Actor.system("web", "anonymous")
    known = StaffFactory(staff_id="c0003")
    for ok, hour in ((False, 9), (False, 9), (True, 10)):
        who = Actor.of(known, None, "web") if ok else anon
        _at(
            dt.datetime(2026, 11, 26, hour, tzinfo=JST),
            who,
            category=Category.AUTHENTICATION,
            function="ログイン",
            outcome=Outcome.SUCCESS if ok else Outcome.FAILED,
            detail={"staff_id": "c0003"},
        )
    _login(client, "auditor")
    period = {"date_from": "2026-11-26", "date_to": "2026-11-26"}
    html = _text(client.get("/audit/reports/login_failures/", period))
    assert html.count("<td>c0003</td>") == 2
    body = _text(client.get("/audit/reports/logins/", {**period, "format": "csv"}))
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][:3] == ["c0003", "1", "2"]


def test_mass_search_report_uses_the_threshold(client):
    # std 10.2 (j1370): 大量検索実行一覧
    AuditSettings.objects.update_or_create(pk=1, defaults={"mass_search_threshold": 5})
    heavy = Actor.of(StaffFactory(staff_id="c0004"), None, "web")
    light = Actor.of(StaffFactory(staff_id="c0005"), None, "web")
    for minute in range(6):
        _at(dt.datetime(2026, 11, 26, 14, minute, tzinfo=JST), heavy, function="住民検索")
    for minute in range(4):
        _at(dt.datetime(2026, 11, 26, 14, minute, tzinfo=JST), light, function="住民検索")
    _login(client, "auditor")
    html = _text(
        client.get(
            "/audit/reports/mass_searches/", {"date_from": "2026-11-26", "date_to": "2026-11-26"}
        )
    )
    assert "2026-11-26 14:00" in html and "c0004" in html and "<td>6</td>" in html
    assert "c0005" not in html


def test_number_search_report(client):
    # std 10.2 (j1370): 宛名番号等から該当者の検索実行一覧
    clerk = Actor.of(StaffFactory(staff_id="c0006"), None, "web")
    moment = dt.datetime(2026, 11, 26, 11, tzinfo=JST)
    _at(
        moment,
        clerk,
        function="住民検索",
        targets=["0000000019"],
        detail={"criteria": ["atena_no"]},
    )
    _at(
        moment,
        clerk,
        function="住民検索",
        targets=["0000000027"],
        detail={"criteria": ["my_number"]},
    )
    _at(
        moment,
        clerk,
        function="住民検索",
        targets=["0000000035"],
        detail={"criteria": ["name_kana"]},
    )
    _login(client, "auditor")
    html = _text(
        client.get(
            "/audit/reports/number_searches/", {"date_from": "2026-11-26", "date_to": "2026-11-26"}
        )
    )
    assert "0000000019" in html and "宛名番号" in html
    assert "0000000027" in html and "個人番号" in html
    assert "0000000035" not in html


def test_unknown_report_is_404(client):
    _login(client, "auditor")
    assert client.get("/audit/reports/nope/").status_code == 404


def test_verify_screen_shows_ok_then_tampering(client, tmp_path, settings):
    # std 10.2 (j1370): 改ざん防止措置 — the chain and the signed checkpoints
    settings.AUDIT_CHECKPOINT_KEY = str(tmp_path / "key.pem")
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "cp")
    checkpoints.generate_key()
    _at(dt.datetime(2026, 11, 26, 10, tzinfo=JST))
    checkpoints.write_checkpoint()
    _login(client, "auditor")
    html = _text(client.get("/audit/verify/"))
    assert "操作ログは正常です" in html and "チェックポイント 1 件" in html
    # what the check cannot see is said on the screen (the tail after the newest checkpoint)
    assert "この検査で見つけられないもの" in html and "次のチェックポイントの前に" in html
    assert _last().function == "操作ログの改ざん検査"
    with (tmp_path / "cp" / next(iter(p.name for p in (tmp_path / "cp").iterdir()))).open(
        "a"
    ) as fh:
        fh.write(
            '{"seq": 99, "entry_hash": "x", "time": "t", "key_id": "k", "signature": "AAAA"}\n'
        )
    html = _text(client.get("/audit/verify/"))
    assert "操作ログの改ざんを検出しました" in html and "署名が正しくありません" in html


def test_settings_screen_changes_and_logs(client):
    _login(client, "auditor")
    assert "オンライン保存期間" in _text(client.get("/audit/settings/"))
    response = client.post(
        "/audit/settings/",
        {
            "retention_years": "abc",
            "night_start": "22:00",
            "night_end": "07:00",
            "mass_search_threshold": "100",
        },
    )
    assert response.status_code == 422
    assert "保存期間「abc」を数値として読めません。" in _text(response)
    response = client.post(
        "/audit/settings/",
        {
            "retention_years": "10",
            "night_start": "22:00",
            "night_end": "07:00",
            "mass_search_threshold": "100",
        },
    )
    assert response.status_code == 302
    assert AuditSettings.objects.get().retention_years == 10
    assert _last().category == Category.SETTINGS_CHANGE


def test_print_of_a_screen_is_logged(client):
    # std 10.2 (j1370): 画面ハードコピー / 印刷ログ
    staff = _login(client, "counter_clerk")
    response = client.post(
        "/audit/print-log/", {"path": "/residents/0000000019/", "title": "住民照会 — 相模原市"}
    )
    assert response.status_code == 204
    entry = _last()
    assert entry.category == Category.SCREEN_COPY
    assert entry.operator_code == staff.staff_id
    assert entry.targets == ["0000000019"]
    assert entry.detail["title"] == "住民照会 — 相模原市"
    assert entry.detail["output"] == "印刷（プレビューを含む）"
    assert entry.my_number_accessed is False and entry.detail["my_number_output"] is False
    client.post("/audit/print-log/", {"path": "/residents/0000000019/", "my_number": "1"})
    assert _last().my_number_accessed is True
    assert _last().detail["my_number_output"] is True
    assert client.post("/audit/print-log/", {"path": "https://evil/"}).status_code == 400
    assert client.post("/audit/print-log/", {"path": "/no/such/screen/"}).status_code == 400


def test_print_log_needs_login_and_csrf(client):
    assert client.post("/audit/print-log/", {"path": "/"}).status_code == 302
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(StaffFactory())
    assert strict.post("/audit/print-log/", {"path": "/"}).status_code == 403


def test_night_report_over_a_whole_year(client):
    # std 10.2 (j1370): a long period is read in bounded chunks of off-hours windows
    clerk = Actor.of(StaffFactory(), None, "web")
    _at(dt.datetime(2026, 1, 1, 10, tzinfo=JST), clerk, function="元日の照会")
    _at(dt.datetime(2026, 6, 15, 23, tzinfo=JST), clerk, function="六月深夜の照会")
    _at(dt.datetime(2026, 6, 15, 10, tzinfo=JST), clerk, function="六月平日の照会")
    _at(dt.datetime(2026, 12, 31, 12, tzinfo=JST), clerk, function="大晦日の照会")
    _login(client, "auditor")
    html = _text(
        client.get("/audit/reports/night/", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    )
    assert "元日の照会" in html and "六月深夜の照会" in html and "大晦日の照会" in html
    assert "休業日（元日）" in html and "休業日（年末年始）" in html
    assert "六月平日の照会" not in html
    assert _last().detail["rows"] == 3


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
        _text(response)  # a streamed CSV runs its queries while it is read
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv", "/audit/?atena_no=0000000011"])
def test_search_and_export_queries_do_not_grow_with_the_rows(client, url):
    # std 10.2 (j1370): the auditors' search and CSV — no query per entry shown or exported
    staff = _login(client, "auditor")
    clerk = Actor.of(staff, TerminalFactory(), "web")  # entries with an operator row
    moment = dt.datetime(2026, 11, 26, 10, tzinfo=JST)
    for _ in range(3):
        _at(moment, clerk, targets=["0000000011"])
    few = _queries(client, url)
    for _ in range(60):
        _at(moment, clerk, targets=["0000000011"])
    assert _queries(client, url) <= few


def _night_functions(client, date_from: str, date_to: str) -> set[str]:
    body = _text(
        client.get(
            "/audit/reports/night/",
            {"date_from": date_from, "date_to": date_to, "format": "csv"},
        )
    )
    return {row[5] for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) if row[0] != "日時"}


def test_night_and_holiday_report_boundaries_in_japan_time(client):
    # std 10.2 (j1370): 深夜・休業日 — night [22:00, 07:00) and closed days are local (JST)
    # days; the period's first and last day are whole local days
    clerk = Actor.of(StaffFactory(), None, "web")
    cases = {
        "前日23:59:59": (dt.datetime(2026, 11, 25, 23, 59, 59), False),  # before the period
        "06:59:59": (dt.datetime(2026, 11, 26, 6, 59, 59, 999999), True),
        "07:00": (dt.datetime(2026, 11, 26, 7, 0), False),
        "21:59:59": (dt.datetime(2026, 11, 26, 21, 59, 59, 999999), False),
        "22:00": (dt.datetime(2026, 11, 26, 22, 0), True),
        "翌日00:00": (dt.datetime(2026, 11, 27, 0, 0), False),  # after the period
    }
    for name, (moment, _) in cases.items():
        _at(moment.replace(tzinfo=JST), clerk, function=name)
    # 勤労感謝の日 (Mon 23 Nov 2026) to the last microsecond; Tuesday 07:00 is a working hour
    _at(dt.datetime(2026, 11, 23, 23, 59, 59, 999999, tzinfo=JST), clerk, function="祝日の終わり")
    _at(dt.datetime(2026, 11, 24, 7, 0, tzinfo=JST), clerk, function="翌平日の朝")
    # 年末年始 (12/29–1/3)
    _at(dt.datetime(2026, 12, 28, 12, tzinfo=JST), clerk, function="御用納め")
    _at(dt.datetime(2026, 12, 29, 12, tzinfo=JST), clerk, function="年末")
    _at(dt.datetime(2027, 1, 3, 23, 59, tzinfo=JST), clerk, function="三が日の終わり")
    _at(dt.datetime(2027, 1, 4, 9, tzinfo=JST), clerk, function="仕事始め")
    _login(client, "auditor")
    expected = {name for name, (_, night) in cases.items() if night}
    assert _night_functions(client, "2026-11-26", "2026-11-26") == expected
    assert _night_functions(client, "2026-11-23", "2026-11-24") == {"祝日の終わり"}
    assert _night_functions(client, "2026-12-28", "2027-01-04") == {"年末", "三が日の終わり"}


def test_mass_search_hours_are_local_clock_hours(client):
    # std 10.2 (j1370): 大量検索 — counted per local clock hour (09:59:59 and 10:00 apart)
    AuditSettings.objects.update_or_create(pk=1, defaults={"mass_search_threshold": 2})
    clerk = Actor.of(StaffFactory(staff_id="c0009"), None, "web")
    for moment in (
        dt.datetime(2026, 11, 26, 9, 59, 59, 999999),
        dt.datetime(2026, 11, 26, 10, 0),
        dt.datetime(2026, 11, 26, 10, 59, 59, 999999),
        dt.datetime(2026, 11, 26, 0, 30),  # 15:30 UTC the day before
        dt.datetime(2026, 11, 26, 0, 45),
    ):
        _at(moment.replace(tzinfo=JST), clerk, function="住民検索")
    _login(client, "auditor")
    body = _text(
        client.get(
            "/audit/reports/mass_searches/",
            {"date_from": "2026-11-26", "date_to": "2026-11-26", "format": "csv"},
        )
    )
    rows = [r[:3] for r in csv.reader(io.StringIO(body.lstrip("\ufeff")))][1:]
    assert rows == [["2026-11-26 00:00", "c0009", "2"], ["2026-11-26 10:00", "c0009", "2"]]
