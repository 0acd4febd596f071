"""The CS worker against a fake national side: delivery, order, retries, faults.

std 7.1.1.1 (j1090): 各電文がCSに自動送信されること／異動の時系列は担保されること／
CSへ連携できなかった場合のエラー表示. DESIGN invariant 7 (outbox, per-person order,
at least once, idempotency keys, failures visible and retryable).
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.utils import timezone

from jumin.jukinet import services
from jumin.jukinet.builders import row_hash
from jumin.jukinet.models import IdentityRecord, SentMessage
from jumin.jukinet.tests import helpers as h
from jumin.outbox import services as outbox
from jumin.outbox.models import OutboxMessage
from jumin.register.crypto import reveal_my_number
from jumin.register.models import EncryptedMyNumber, Resident
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status


def _number(resident: Resident) -> str:
    assert resident.my_number_id is not None
    return reveal_my_number(EncryptedMyNumber.objects.get(pk=resident.my_number_id))


# std 7.1.1.1 (j1090): the 本人確認情報 goes to the prefecture automatically after a change
def test_identity_update_delivered_and_cs_file_written(fake):
    _, [r] = h.move_in()
    h.drain()
    identity_msg, _notice_msg = h.cs_outbox(r.atena_no)
    identity_msg.refresh_from_db()
    assert identity_msg.topic == "identity_info" and identity_msg.status == Status.DELIVERED
    update = next(e for e in fake.received if e.kind == "identity.update")
    assert update.recipient == "pref-14" and update.sender == "141500"
    assert update.idempotency_key == identity_msg.idempotency_key
    item = update.body["identity"]
    assert item["juminhyo_code"] == r.juminhyo_code
    assert item["my_number"] == _number(r)  # in clear only inside the envelope
    assert item["sequence"] == r.history_no == 1
    assert item["status"] == "resident" and item["municipality_code"] == "141500"
    assert item["change_reason"] == "domestic_move_in"
    record = IdentityRecord.objects.get(atena_no=r.atena_no)
    assert record.sequence == 1 and record.national_status == "applied"
    assert record.my_number_id == r.my_number_id
    assert record.items_hash == row_hash(r)
    assert record.envelope_id == update.id


def test_logs_mask_the_my_number(fake):
    _, [r] = h.move_in()
    h.drain()
    number = _number(r)
    logs = list(SentMessage.objects.filter(atena_no=r.atena_no))
    assert {m.kind for m in logs} == {"identity.update", "move_in.notice"}
    for log in logs:
        assert number not in json.dumps(log.request_body, ensure_ascii=False)
        assert number not in json.dumps(log.reply_body, ensure_ascii=False)
    update = next(m for m in logs if m.kind == "identity.update")
    assert update.request_body["identity"]["my_number"] == "************"
    assert update.outcome == SentMessage.Outcome.DELIVERED and update.http_status == 200
    assert update.reply_kind == "identity.update.result"


# std 4.1.3.1 / Art. 9(1): the 転入通知 to the old city, after the person's identity update
def test_move_in_notice_follows_the_identity_update(fake):
    _, [r] = h.move_in()
    first = h.batch()
    assert first.delivered == 1  # only the head of the person's queue
    assert fake.kinds() == ["identity.update"]
    h.drain()
    assert fake.kinds() == ["identity.update", "move_in.notice"]
    notice = fake.received[1]
    assert notice.recipient == "jlis"
    assert notice.body["to_municipality"] == "131016"
    assert notice.body["from_municipality"] == "141500"
    assert notice.body["juminhyo_code"] == r.juminhyo_code
    assert notice.body["new_address"] == r.address


# std 7.1.1.1 (j1090): 一時的に手動連携に切り替えることができること
def test_manual_mode_holds_everything_until_switched_off(fake):
    services.set_manual_mode(f.supervisor(), True, reason="CS保守")
    _, [r] = h.move_in()
    result = h.batch()
    assert result.manual and result.claimed == 0
    assert fake.requests == 0
    assert all(m.status == Status.PENDING for m in h.cs_outbox(r.atena_no))
    services.set_manual_mode(f.supervisor(), False)
    h.drain()
    assert [m.status for m in h.cs_outbox(r.atena_no)] == [Status.DELIVERED] * 2


# fault: netsim down (connection refused) → pending, backoff, delivered when back
def test_national_side_down_then_back(fake):
    _, [r] = h.move_in()
    fake.down()
    before = timezone.now()
    result = h.batch()
    assert result.retried == 1 and result.delivered == 0
    message = h.cs_outbox(r.atena_no)[0]
    assert message.status == Status.PENDING and message.attempts == 1
    assert message.available_at > before  # backing off
    assert "接続できません" in message.last_error
    log = SentMessage.objects.get(outbox=message)
    assert log.outcome == SentMessage.Outcome.RETRY and log.error_code == "network.refused"
    assert h.batch().claimed == 0  # not due yet, and blocks its person
    fake.up()
    h.make_due()
    h.drain()
    assert [m.status for m in h.cs_outbox(r.atena_no)] == [Status.DELIVERED] * 2
    assert fake.effects[f"141500:{message.idempotency_key}"] == 1


def test_backoff_grows_and_is_capped(cs_env):
    from jumin.jukinet.conf import CsConfig
    from jumin.jukinet.worker import backoff

    cfg = CsConfig(**(cs_env.__dict__ | {"backoff_base": 1.0, "backoff_cap": 600.0}))
    delays = [backoff(n, cfg) for n in range(1, 16)]
    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(300.0 <= d <= 600.0 for d in delays[10:])


# fault: slow national side (timeout) → retry under the same key, no second effect
def test_timeout_is_retried_without_a_second_effect(fake, monkeypatch):
    monkeypatch.setenv("JUMIN_CS_TIMEOUT", "0.3")
    _, [r] = h.move_in()
    fake.faults.append(("sleep", 1.0))  # applied, but the answer comes too late
    result = h.batch()
    assert result.retried == 1
    message = h.cs_outbox(r.atena_no)[0]
    assert "応答がありませんでした" in message.last_error
    h.make_due()
    h.drain()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and message.attempts == 2
    assert fake.effects[f"141500:{message.idempotency_key}"] == 1
    sent = list(SentMessage.objects.filter(outbox=message).order_by("pk"))
    assert [s.outcome for s in sent] == ["retry", "delivered"]
    assert sent[0].envelope_id != sent[1].envelope_id
    assert sent[0].idempotency_key == sent[1].idempotency_key


# fault: 5xx → retry
def test_server_error_is_retried(fake):
    _, [r] = h.move_in()
    fake.faults.extend(["503", "500"])
    assert h.batch().retried == 1
    h.make_due()
    assert h.batch().retried == 1
    message = h.cs_outbox(r.atena_no)[0]
    assert message.attempts == 2 and "障害の模擬" in message.last_error
    h.make_due()
    h.drain()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and message.attempts == 3


# std 7.1.1.1 (j1090): CSへ連携できなかった場合のエラー表示 — a 4xx refusal fails the message
def test_refusal_fails_the_message_with_the_reason_and_does_not_block(fake):
    _, [r] = h.move_in()
    fake.faults.append("400")
    result = h.batch()
    assert result.refused == 1
    first = h.cs_outbox(r.atena_no)[0]
    assert first.status == Status.FAILED
    assert "項目が正しくありません" in first.last_error and "body.invalid" in first.last_error
    h.drain()  # the person's later message is not held back by a refused one
    assert h.cs_outbox(r.atena_no)[1].status == Status.DELIVERED


def test_business_refusal_in_a_signed_error_reply(fake):
    _, [r] = h.move_in()
    fake.refusals[r.juminhyo_code] = ("identity.conflict", "別の市区町村に住民票があります。")
    h.drain()
    first = h.cs_outbox(r.atena_no)[0]
    assert first.status == Status.FAILED
    assert "別の市区町村に住民票があります" in first.last_error
    log = SentMessage.objects.get(outbox=first)
    assert log.outcome == "refused" and log.reply_kind == "error"


def test_reply_with_a_wrong_signature_is_not_trusted(fake):
    _, [r] = h.move_in()
    fake.faults.append("badsig")
    assert h.batch().retried == 1
    message = h.cs_outbox(r.atena_no)[0]
    assert message.status == Status.PENDING and "署名" in message.last_error
    assert not IdentityRecord.objects.filter(atena_no=r.atena_no).exists()
    h.make_due()
    h.drain()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert fake.effects[f"141500:{message.idempotency_key}"] == 1


# fault: duplicated delivery (same idempotency key twice) → one effect
def test_duplicate_delivery_has_one_effect(fake):
    _, [r] = h.move_in()
    h.drain()
    first = h.cs_outbox(r.atena_no)[0]
    services.resend(f.supervisor(), first.pk)
    h.drain()
    first.refresh_from_db()
    assert first.status == Status.DELIVERED
    key = f"141500:{first.idempotency_key}"
    assert fake.effects[key] == 1
    assert [e.idempotency_key for e in fake.received].count(first.idempotency_key) == 2
    assert SentMessage.objects.filter(outbox=first, outcome="delivered").count() == 2


# fault: reordered — a person's second message never overtakes the first, even while the
# first is backing off; other persons go on
def test_per_person_order_holds_while_the_first_backs_off(fake):
    _, [a] = h.move_in()
    _, [b] = h.move_in()
    fake.faults.append("503")  # a's identity update fails first
    result = h.batch()
    assert result.retried == 1 and result.delivered == 1
    h.drain()
    a_msgs = h.cs_outbox(a.atena_no)
    assert [m.status for m in a_msgs] == [Status.PENDING, Status.PENDING]
    assert [m.status for m in h.cs_outbox(b.atena_no)] == [Status.DELIVERED] * 2
    # the second message is due, the first is not: still nothing for a
    OutboxMessage.objects.filter(pk=a_msgs[1].pk).update(
        available_at=timezone.now() - dt.timedelta(seconds=5)
    )
    assert h.batch().claimed == 0
    h.make_due()
    h.drain()
    sent_for_a = [
        e.kind for e in fake.received if e.idempotency_key in {m.idempotency_key for m in a_msgs}
    ]
    assert sent_for_a == ["identity.update", "move_in.notice"]  # the 503 was not applied
    attempts = SentMessage.objects.filter(outbox__in=a_msgs).order_by("pk")
    assert [(m.kind, m.outcome) for m in attempts] == [
        ("identity.update", "retry"),
        ("identity.update", "delivered"),
        ("move_in.notice", "delivered"),
    ]


def test_a_persons_changes_arrive_in_history_order(fake):
    _, [r] = h.move_in()
    for _ in range(3):  # three more committed changes for the same person, all pending
        h.commit_move_within(r)
    h.drain()
    sequences = [
        e.body["identity"]["sequence"] for e in fake.received if e.kind == "identity.update"
    ]
    assert sequences == [1, 2, 3, 4]
    assert IdentityRecord.objects.get(atena_no=r.atena_no).sequence == 4


def test_messages_for_other_systems_are_left_alone_and_do_not_block(fake):
    _, [r] = h.move_in()
    from django.db import transaction

    with transaction.atomic():
        outbox.enqueue(
            topic="immigration_notice",
            destination="isa",
            ordering_key=r.atena_no,
            idempotency_key="t:isa:1",
            payload={"atena_no": r.atena_no},
        )
        outbox.enqueue(
            topic="identity_info",
            destination="cs",
            ordering_key=r.atena_no,
            idempotency_key="t:again:1",
            payload={
                "atena_no": r.atena_no,
                "history_no": 1,
                "change_reason": "domestic_move_in",
                "occurred_on": "2026-01-01",
            },
        )
    h.drain()
    isa = OutboxMessage.objects.get(idempotency_key="t:isa:1")
    assert isa.status == Status.PENDING and isa.attempts == 0 and isa.last_error == ""
    assert OutboxMessage.objects.get(idempotency_key="t:again:1").status == Status.DELIVERED


def test_unknown_topic_for_the_cs_stays_pending_with_a_clear_error(fake):
    _, [r] = h.move_in()
    h.drain()
    from django.db import transaction

    with transaction.atomic():
        outbox.enqueue(
            topic="card_status",
            destination="cs",
            ordering_key=r.atena_no,
            idempotency_key="t:card:1",
            payload={"atena_no": r.atena_no},
        )
    result = h.batch()
    assert result.held == 1 and fake.requests == 2
    message = OutboxMessage.objects.get(idempotency_key="t:card:1")
    assert message.status == Status.PENDING
    assert "CSでは送信できません" in message.last_error and "topic.unknown" in message.last_error
    assert message.available_at > timezone.now()


def test_person_without_juminhyo_code_fails_with_the_reason(fake):
    _, [r] = h.move_in(h.person(juminhyo_code="", my_number=""))
    h.drain()
    identity_msg, notice_msg = h.cs_outbox(r.atena_no)
    assert identity_msg.status == Status.FAILED
    assert "住民票コードが記載されていない" in identity_msg.last_error
    assert notice_msg.status == Status.FAILED
    assert "紙の転入通知" in notice_msg.last_error
    assert fake.requests == 0


def test_concurrent_sends_deliver_every_person_once(fake):
    people = [h.move_in()[1][0] for _ in range(6)]
    h.drain(h.worker(concurrency=4, batch=4))
    for r in people:
        assert [m.status for m in h.cs_outbox(r.atena_no)] == [Status.DELIVERED] * 2
    assert sum(fake.effects.values()) == 12
    assert max(fake.effects.values()) == 1


def test_a_worker_that_stopped_before_recording_is_taken_over(fake):
    """The in-process half of the killed-worker case (the subprocess test kills a real one):
    the envelope went out and was applied, the worker never recorded the answer."""
    from jumin.jukinet import worker as worker_module

    _, [r] = h.move_in()
    w = h.worker()
    original = w._record

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    w._record = crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        w.deliver_batch()
    w._record = original  # type: ignore[method-assign]
    message = h.cs_outbox(r.atena_no)[0]
    assert message.status == Status.PENDING
    log = SentMessage.objects.get(outbox=message)
    assert log.outcome == "sending" and log.lease_until > timezone.now()
    assert h.batch().claimed == 0  # still leased to the stopped worker
    SentMessage.objects.filter(pk=log.pk).update(worker="gone-host:1")
    SentMessage.objects.filter(pk=log.pk).update(lease_until=timezone.now())  # lease ran out
    h.drain()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    log.refresh_from_db()
    assert log.outcome == "abandoned" and "中断" in log.error_message
    assert fake.effects[f"141500:{message.idempotency_key}"] == 1
    assert worker_module.release_dead_leases() == 0


def test_idle_worker_sends_nothing(fake):
    result = h.batch()
    assert result.claimed == 0 and fake.requests == 0


def test_run_once_stops_when_nothing_is_due(fake):
    _, [_r] = h.move_in()
    fake.down()
    stop = threading.Event()
    totals = h.worker().run(once=True, stop=stop)
    assert totals.retried == 1 and totals.delivered == 0
    fake.up()
    h.make_due()
    totals = h.worker().run(once=True)
    assert totals.delivered == 2


def test_an_envelope_that_waited_is_sent_with_a_fresh_time(fake):
    # a claimed batch may wait behind the one before it: sent_at is set when it goes out
    import dataclasses

    from jumin.jukinet.client import CsClient
    from jumin.jukinet.tests.conftest import new_code

    client = CsClient.from_config()
    try:
        envelope = client.envelope(
            "identity.query",
            {"purpose": "テスト", "juminhyo_code": new_code()},
            idempotency_key="t:fresh",
        )
        waited = dataclasses.replace(envelope, sent_at="2020-01-01T00:00:00.000000Z")
        exchange = client.send(waited)
    finally:
        client.close()
    assert exchange.outcome == "delivered" and exchange.envelope.id == envelope.id
    assert exchange.result == {"matches": [], "truncated": False}


def test_refusal_classes():
    from jumin.jukinet.client import CsClient, HttpResponse
    from jumin.netproto.envelope import Envelope, NodeKey

    key = NodeKey.generate("141500")
    client = CsClient(key, None, lambda code: key.private.public_key())  # type: ignore[arg-type]
    envelope = Envelope("identity.update", "141500", "pref-14", {}, "t:1")
    now = timezone.now()

    def outcome(status: int, code: str) -> str:
        body = json.dumps({"code": code, "message": "テスト"}).encode()
        return client._interpret(envelope, HttpResponse(status, {}, body), now).outcome

    assert outcome(400, "body.invalid") == "refused"
    assert outcome(409, "envelope.replayed") == "refused"
    assert outcome(400, "envelope.stale") == "retry"  # clocks apart
    assert outcome(401, "node.unknown") == "retry"  # our key is not registered yet
    assert outcome(503, "fault.unavailable") == "retry"
    assert outcome(429, "busy") == "retry"


def test_a_my_number_in_a_refusal_message_is_masked(fake):
    _, [r] = h.move_in()
    number = _number(r)
    fake.refusals[r.juminhyo_code] = (
        "identity.conflict",
        f"個人番号 {number} は別人に付番済みです。",
    )
    h.drain()
    first = h.cs_outbox(r.atena_no)[0]
    assert number not in first.last_error and "************" in first.last_error
    log = SentMessage.objects.get(outbox=first)
    assert number not in log.error_message
    assert number not in json.dumps(log.reply_body, ensure_ascii=False)
