"""The 住基ネット (CS) screens: status and backlog, manual mode, failures and resend, the
searchable, printable list of sent messages (std 7.1.1.1, j1090)."""

from __future__ import annotations

import pytest

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry
from jumin.jukinet.builders import CS_TOPICS
from jumin.jukinet.models import CsSetting, SentMessage
from jumin.jukinet.tests.conftest import cs_env, fake  # noqa: F401 - fixtures
from jumin.jukinet.tests.helpers import drain, make_due, move_in, person
from jumin.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _login(client, role: str):
    staff = StaffFactory(roles=[role])
    client.force_login(staff)
    return staff


def _html(response) -> str:
    return response.content.decode()


def test_status_shows_the_backlog_per_kind(client, cs_env):  # noqa: F811
    # std 7.1.1 (j1090): the messages waiting to go, per kind
    move_in(person(), person(relationship="妻", sex="2", given_name="花子"))
    _login(client, "supervisor")
    html = _html(client.get("/cs/"))
    assert "住基ネット（CS）送信状況" in html
    assert "本人確認情報" in html
    identity = OutboxMessage.objects.filter(topic="identity_info", status="pending").count()
    pending = OutboxMessage.objects.filter(topic__in=CS_TOPICS, status="pending").count()
    assert identity == 2 and f"送信待ち {pending} 件" in html
    assert OperationLogEntry.objects.filter(function="住基ネット送信状況の照会").exists()


def test_manual_mode_switch_stops_and_resumes(client, fake):  # noqa: F811
    # std 7.1.1: 手動連携 — nothing is sent while it is on
    move_in(person())
    _login(client, "supervisor")
    response = client.post("/cs/manual/", {"manual": "1", "reason": "障害対応"})
    assert response.status_code == 302
    assert CsSetting.objects.get().manual is True
    assert "手動連携中です" in _html(client.get("/cs/"))
    drain()
    assert not SentMessage.objects.exists()
    client.post("/cs/manual/", {"manual": "0"})
    drain()
    assert OutboxMessage.objects.get(topic="identity_info").status == "delivered"


def test_sent_list_searches_and_rejects_a_bad_date(client, fake):  # noqa: F811
    _, (resident,) = move_in(person())
    drain()
    _login(client, "supervisor")
    html = _html(client.get("/cs/sent/", {"atena_no": resident.atena_no}))
    assert "本人確認情報の更新" in html and "送信済み（受理）" in html
    sent = SentMessage.objects.filter(atena_no=resident.atena_no).count()
    assert f"{sent} 件中 1〜{sent} 件目" in html
    none = _html(client.get("/cs/sent/", {"atena_no": "0000000000"}))
    assert "条件に合う送信履歴はありません" in none
    bad = client.get("/cs/sent/", {"date_from": "あした"})
    assert bad.status_code == 422
    assert "日付として読めません" in _html(bad) and 'value="あした"' in _html(bad)


def test_failures_list_and_resend(client, fake):  # noqa: F811
    # std 7.1.1.1: CSへ連携できなかった場合のエラー表示, and 再送
    _, (resident,) = move_in(person())
    fake.faults.append("400")
    drain()
    message = OutboxMessage.objects.get(topic="identity_info")
    assert message.status == "failed"
    _login(client, "supervisor")
    html = _html(client.get("/cs/failures/"))
    assert "送信失敗" in html and resident.atena_no in html
    detail = _html(client.get(f"/cs/messages/{message.pk}/"))
    assert "送信の記録" in detail and "拒否" in detail
    response = client.post(f"/cs/messages/{message.pk}/resend/", {})
    assert response.status_code == 302
    make_due()
    drain()
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_clerk_without_the_permission_gets_403(client):
    _login(client, "counter_clerk")
    assert client.get("/cs/").status_code == 403
    assert client.get("/cs/sent/").status_code == 403
    assert client.post("/cs/manual/", {"manual": "1"}).status_code == 403
    assert not CsSetting.objects.filter(manual=True).exists()
