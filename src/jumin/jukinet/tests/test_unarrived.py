"""転入通知未着者一覧 (std 4.1.3.1.4, j710): selector, screen (print, CSV), CLI; and the
個人番号 request screen (std 7.1.2.1, j1130)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry
from jumin.jukinet import selectors
from jumin.jukinet.models import InboundMessage, MyNumberRequest
from jumin.jukinet.tests import helpers as h
from jumin.register import services
from jumin.register.procedures import moves
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
ACTOR = Actor.system("cli", "test")


def _moved_out(**person: object):
    _, [r] = h.move_in(h.person(**person))
    h.commit_move_out(r, card=False)  # planned today + 7
    r.refresh_from_db()
    return r


def _receive_notice(r) -> None:
    data = moves.MoveInNoticeInput(
        atena_no=r.atena_no,
        move_in_notice_on=TODAY,
        moved_out_on=TODAY,
        moved_out_address="東京都千代田区霞が関一丁目1番1号",
        municipality_code="131016",
    )
    change = moves.submit_move_in_notice_receipt(
        f.clerk(), data, acknowledged=["move_in_notice.date_differs"]
    )
    services.commit_change(f.reviewer(), change.pk)


# std 4.1.3.1.4 (j710): removed by a 転出, no 転入通知 after N days → listed
def test_the_list_holds_move_outs_without_a_notice_after_the_days(cs_env):
    waiting = _moved_out()
    noticed = _moved_out(given_name="次郎")
    _receive_notice(noticed)
    received = _moved_out(given_name="三郎")
    InboundMessage.objects.create(
        seq=1,
        kind="move_in.notice",
        origin="131016",
        juminhyo_code=received.juminhyo_code,
        verified=True,
        state=InboundMessage.State.NEEDS_CLERK,
        received_at=timezone.now(),
    )
    _, [staying] = h.move_in(h.person(given_name="四郎"))

    later = TODAY + dt.timedelta(days=7 + 14)
    result = selectors.unarrived(ACTOR, as_of=later)
    assert [u.atena_no for u in result.items] == [waiting.atena_no]
    [row] = result.items
    assert row.days == 14 and row.moved_out_on == TODAY + dt.timedelta(days=7)
    assert row.removal_label and row.destination.startswith("東京都千代田区")
    assert result.received_unprocessed == 1 and result.days == 14
    assert staying.atena_no not in {u.atena_no for u in result.items}
    # a day earlier: not yet overdue
    assert selectors.unarrived(ACTOR, as_of=later - dt.timedelta(days=1)).items == []
    # the setting changes the default threshold
    assert len(selectors.unarrived(ACTOR, days=20, as_of=later).items) == 0
    entry = OperationLogEntry.objects.filter(function=selectors.UNARRIVED_FUNCTION).last()
    assert entry is not None and entry.detail["listed"] == 0


def test_the_days_setting(cs_env, monkeypatch):
    waiting = _moved_out()
    monkeypatch.setenv("JUMIN_CS_UNARRIVED_DAYS", "3")
    result = selectors.unarrived(ACTOR, as_of=TODAY + dt.timedelta(days=10))
    assert result.days == 3 and [u.atena_no for u in result.items] == [waiting.atena_no]


def test_cli_prints_and_exports_csv(cs_env):
    waiting = _moved_out()
    as_of = (TODAY + dt.timedelta(days=30)).isoformat()
    out = io.StringIO()
    call_command("cs", "unarrived", "--as-of", as_of, stdout=out)
    assert "転入通知未着者一覧" in out.getvalue() and waiting.atena_no in out.getvalue()
    out = io.StringIO()
    call_command("cs", "unarrived", "--as-of", as_of, "--csv", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][0] == "宛名番号" and rows[1][0] == waiting.atena_no and rows[1][-1] == "23"
    export = OperationLogEntry.objects.filter(function=selectors.UNARRIVED_EXPORT_FUNCTION).get()
    assert export.category == Category.DATA_EXTRACT


def test_screen_prints_exports_and_refuses_bad_days(client, cs_env):
    waiting = _moved_out()
    client.force_login(StaffFactory(roles=["supervisor"]))
    as_of = (TODAY + dt.timedelta(days=30)).isoformat()
    page = client.get("/cs/unarrived/", {"as_of": as_of})
    html = page.content.decode()
    assert page.status_code == 200 and "転入通知未着者一覧" in html
    assert waiting.atena_no in html and "印刷日時" in html
    response = client.get("/cs/unarrived/", {"as_of": as_of, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert waiting.atena_no in text and text.startswith("宛名番号")
    bad = client.get("/cs/unarrived/", {"days": "abc"})
    assert bad.status_code == 422 and "0〜3650の整数" in bad.content.decode()


def test_number_requests_screen_and_cli(client, fake):
    _, [r] = h.move_in(f.person(juminhyo_code=h.new_code()), kind="abroad", certificate=None)
    h.drain()
    request = MyNumberRequest.objects.get(atena_no=r.atena_no)
    client.force_login(StaffFactory(roles=["supervisor"]))
    html = client.get("/cs/numbers/").content.decode()
    assert r.atena_no in html and "記載の仮登録済み" in html
    assert f"/changes/{request.change_id}/" in html
    out = io.StringIO()
    call_command("cs", "numbers", stdout=out)
    assert r.atena_no in out.getvalue() and f"異動#{request.change_id}" in out.getvalue()
