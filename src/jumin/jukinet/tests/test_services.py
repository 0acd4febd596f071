"""Manual mode, resend, and the reads for the CS screens (with permission and log).

std 7.1.1.1 (j1090): 手動連携への切替, 再送信（異動事由を変更して送信）, 送信した電文の照会及び
一覧表, CSへ連携できなかった場合のエラー表示; std 7.1.1.4 (j1120): 送付先情報の送信履歴.
DESIGN invariants 1 (service + log in one transaction) and 5 (every read logged).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from jumin.audit.models import OperationLogEntry
from jumin.core.findings import FindingsError
from jumin.jukinet import selectors, services
from jumin.jukinet.models import CsSetting, Resend, SentMessage
from jumin.jukinet.tests import helpers as h
from jumin.outbox.models import OutboxMessage
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def _codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def _last_log(function: str) -> OperationLogEntry:
    entry = OperationLogEntry.objects.filter(function=function).order_by("-seq").first()
    assert entry is not None
    return entry


# std 7.1.1.1 (j1090): 一時的に手動連携に切り替えることができること
def test_manual_mode_is_recorded_and_needs_the_permission(cs_env):
    boss = f.supervisor()
    row = services.set_manual_mode(boss, True, reason="CSサーバ保守")
    assert row.manual and row.changed_by == boss.staff.staff_id and row.reason == "CSサーバ保守"
    entry = _last_log(services.MANUAL_FUNCTION)
    assert entry.detail == {"manual": True, "reason": "CSサーバ保守"}
    assert entry.category == "settings_change"
    with pytest.raises(PermissionDenied):
        services.set_manual_mode(f.clerk(), False)
    assert CsSetting.objects.get(pk=1).manual


# std 7.1.1.1 (j1090): 送信した本人確認情報…の再送信
def test_resend_a_failed_message_under_the_same_key(fake):
    _, [r] = h.move_in()
    fake.faults.append("400")
    h.drain()
    failed = h.cs_outbox(r.atena_no)[0]
    assert failed.status == Status.FAILED
    again = services.resend(f.supervisor(), failed.pk)
    assert again.pk == failed.pk and again.status == Status.PENDING
    assert again.last_error == ""
    resend = Resend.objects.get(outbox=failed)
    assert resend.previous_status == "failed" and resend.new_outbox is None
    h.drain()
    failed.refresh_from_db()
    assert failed.status == Status.DELIVERED
    keys = [m.idempotency_key for m in SentMessage.objects.filter(outbox=failed)]
    assert len(keys) == 2 and len(set(keys)) == 1
    entry = _last_log(services.RESEND_FUNCTION)
    assert entry.targets == [r.atena_no] and entry.detail["previous_status"] == "failed"


# std 7.1.1.1 (j1090): 再送信の際は異動事由を変更して送信できること
def test_resend_with_a_changed_reason_is_a_new_message(fake):
    _, [r] = h.move_in()
    h.drain()
    first = h.cs_outbox(r.atena_no)[0]
    queued = services.resend(f.supervisor(), first.pk, change_reason="ex_officio_amendment")
    assert queued.pk != first.pk and queued.idempotency_key != first.idempotency_key
    assert queued.payload["change_reason"] == "ex_officio_amendment"
    assert queued.payload["resend_of"] == first.pk
    first.refresh_from_db()
    assert first.status == Status.DELIVERED  # the original stays as it was
    h.drain()
    queued.refresh_from_db()
    assert queued.status == Status.DELIVERED
    update = fake.received[-1]
    assert update.idempotency_key == queued.idempotency_key
    assert update.body["identity"]["change_reason"] == "ex_officio_amendment"
    assert update.body["identity"]["sequence"] == 1
    assert fake.effects[f"141500:{queued.idempotency_key}"] == 1
    assert Resend.objects.get(outbox=first).new_outbox_id == queued.pk


def test_resend_refusals(fake):
    _, [r] = h.move_in()
    identity_msg, notice_msg = h.cs_outbox(r.atena_no)
    boss = f.supervisor()
    with pytest.raises(FindingsError) as exc:
        services.resend(boss, identity_msg.pk)
    assert _codes(exc) == {"resend.pending"}
    h.drain()
    with pytest.raises(FindingsError) as exc:
        services.resend(boss, identity_msg.pk, change_reason="no_such_reason")
    assert _codes(exc) == {"resend.reason_unknown"}
    with pytest.raises(FindingsError) as exc:
        services.resend(boss, notice_msg.pk, change_reason="move_within")
    assert _codes(exc) == {"resend.reason_not_applicable"}
    with pytest.raises(FindingsError) as exc:
        services.resend(boss, 999_999)
    assert _codes(exc) == {"resend.unknown"}
    with pytest.raises(PermissionDenied):
        services.resend(f.clerk(), identity_msg.pk)
    assert not Resend.objects.exists()


# std 7.1.1.1 (j1090): 送信した…の照会及び一覧表への印字
def test_sent_message_search_filters_and_logs_the_read(fake):
    _, [a] = h.move_in()
    _, [b] = h.move_in()
    fake.faults.append("400")
    h.drain()
    boss = f.supervisor()
    page = selectors.sent_messages(boss, atena_no=b.atena_no)
    assert page.total == 2 and {m.atena_no for m in page.items} == {b.atena_no}
    entry = _last_log(selectors.SEARCH_FUNCTION)
    assert entry.targets == [b.atena_no] and entry.category == "inquiry"
    refused = selectors.sent_messages(boss, outcome="refused")
    assert refused.total == 1 and refused.items[0].atena_no == a.atena_no
    kinds = selectors.sent_messages(boss, kind="move_in.notice")
    assert kinds.total == 2
    today = timezone.localdate()
    assert selectors.sent_messages(boss, date_from=today, date_to=today).total == 4
    tomorrow = today + dt.timedelta(days=1)
    assert selectors.sent_messages(boss, date_from=tomorrow).total == 0
    assert selectors.sent_messages(boss, limit=1).items[0].started_at >= page.items[-1].started_at


def test_reads_need_the_permission_and_a_denial_is_logged(fake):
    clerk = f.clerk()
    with pytest.raises(PermissionDenied):
        selectors.sent_messages(clerk)
    with pytest.raises(PermissionDenied):
        selectors.failures(clerk)
    with pytest.raises(PermissionDenied):
        selectors.backlog_summary(clerk)
    denied = OperationLogEntry.objects.filter(outcome="denied", function__startswith="住基ネット")
    assert denied.count() == 3


# std 7.1.1.1 (j1090): CSへ連携できなかった場合のエラー表示
def test_failures_list_shows_refused_and_retrying_messages(fake):
    _, [a] = h.move_in()
    _, [b] = h.move_in()
    fake.faults.extend(["400", "503"])
    h.batch()
    rows = selectors.failures(f.supervisor())
    assert [(x.atena_no, x.status_label) for x in rows] == [
        (a.atena_no, "送信失敗"),
        (b.atena_no, "再送待ち"),
    ]
    assert "項目が正しくありません" in rows[0].last_error
    assert rows[1].next_try_at is not None and rows[1].attempts == 1
    assert rows[0].topic_label == "本人確認情報"
    only_failed = selectors.failures(f.supervisor(), include_retrying=False)
    assert [x.atena_no for x in only_failed] == [a.atena_no]
    assert _last_log(selectors.FAILURES_FUNCTION).targets == [a.atena_no]


# fault: the backlog is visible (pending, failed, oldest age per topic)
def test_backlog_summary_per_topic(fake):
    _, [_a] = h.move_in()
    _, [_b] = h.move_in()
    fake.down()
    h.batch()
    backlog = selectors.backlog_summary(f.supervisor())
    by_topic = {t.topic: t for t in backlog.topics}
    assert by_topic["identity_info"].pending == 2 and by_topic["identity_info"].retrying == 2
    assert by_topic["move_in_notice"].pending == 2 and by_topic["move_in_notice"].retrying == 0
    assert by_topic["identity_info"].oldest_age_seconds is not None
    assert by_topic["mailing_info"].pending == 0
    assert backlog.pending == 4 and backlog.failed == 0 and backlog.manual is None
    services.set_manual_mode(f.supervisor(), True)
    assert selectors.backlog_summary(f.supervisor()).manual is not None


def test_message_detail_lists_every_envelope(fake):
    _, [r] = h.move_in()
    fake.faults.append("503")
    h.drain()
    h.make_due()
    h.drain()
    message = h.cs_outbox(r.atena_no)[0]
    found = selectors.outbox_message(f.supervisor(), message.pk)
    assert found is not None
    got, sent = found
    assert got.pk == message.pk and [s.outcome for s in sent] == ["retry", "delivered"]
