"""個人番号の生成要求 → 職権記載 (reviewed) → 送付先情報, against the fake national side.

std 7.1.2.1 (j1130), std 4.4 (j900); 番号法第7条第1項.
"""

from __future__ import annotations

import json

import pytest

from jumin.accounts.actor import Actor
from jumin.audit.models import OperationLogEntry
from jumin.jukinet import services as cs
from jumin.jukinet.models import MailingRecord, MyNumberRequest, SentMessage
from jumin.jukinet.tests import helpers as h
from jumin.outbox.models import OutboxMessage
from jumin.register import services
from jumin.register.crypto import reveal_my_number
from jumin.register.models import Change, EncryptedMyNumber, Resident
from jumin.register.procedures import identity
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
State = MyNumberRequest.State


def _no_number(**overrides: object) -> dict[str, object]:
    return f.person(juminhyo_code=h.new_code(), **overrides)


def _abroad(**person: object) -> Resident:
    """A committed 国外転入 of a person with a 住民票コード and no 個人番号."""
    _, [r] = h.move_in(_no_number(**person), kind="abroad", certificate=None)
    assert r.juminhyo_code and r.my_number_id is None
    return r


def _commit_draft(request: MyNumberRequest) -> Change:
    assert request.change_id is not None
    return services.commit_change(f.reviewer(), request.change_id)


# std 7.1.2.1 (j1130): new number → generation request → number taken in → mailing info
def test_first_registration_gets_a_number_through_a_reviewed_change_then_mailing(fake):
    r = _abroad()
    h.drain()
    topics = [(m.topic, m.status) for m in h.cs_outbox(r.atena_no)]
    assert topics == [
        ("identity_info", Status.DELIVERED),
        ("my_number_generate", Status.DELIVERED),
    ]
    generate = next(e for e in fake.received if e.kind == "my_number.generate")
    assert generate.body == {"juminhyo_code": r.juminhyo_code}
    number = fake.numbers[r.juminhyo_code]

    request = MyNumberRequest.objects.get(atena_no=r.atena_no)
    assert request.state == State.DRAFTED and request.juminhyo_code == r.juminhyo_code
    draft = Change.objects.get(pk=request.change_id)
    assert draft.status == Change.Status.DRAFT and draft.procedure == "my_number_record"
    assert draft.created_by.staff_id == services.SYSTEM_OPERATOR_ID
    r.refresh_from_db()
    assert r.my_number_id is None  # nothing reaches the register before the review

    _commit_draft(request)
    r.refresh_from_db()
    assert reveal_my_number(EncryptedMyNumber.objects.get(pk=r.my_number_id)) == number
    h.drain()
    topics = [(m.topic, m.status) for m in h.cs_outbox(r.atena_no)]
    assert topics[2:] == [("identity_info", Status.DELIVERED), ("mailing_info", Status.DELIVERED)]
    updates = [e for e in fake.received if e.kind == "identity.update"]
    assert updates[-1].body["identity"]["my_number"] == number
    assert updates[-1].body["identity"]["change_reason"] == "my_number_ex_officio_entry"
    [mailing] = fake.mailings
    assert mailing["juminhyo_code"] == r.juminhyo_code and mailing["my_number"] == number
    assert mailing["name"] == "相模　" + r.given_name
    assert mailing["address"] == r.address and mailing["katagaki"] == r.katagaki
    assert mailing["birth_date"] == "1980-04-01" and mailing["sex"] == "1"
    # only the items the notice needs
    assert mailing["name_kana"] == mailing["postal_code"] == mailing["household_head"] == ""
    request.refresh_from_db()
    assert request.state == State.MAILED
    row = MailingRecord.objects.get(atena_no=r.atena_no)
    assert row.my_number_id == r.my_number_id and row.juminhyo_code == r.juminhyo_code

    # never in clear in the outbox, the CS log or the operation log
    rows = [json.dumps(m.payload) for m in OutboxMessage.objects.filter(ordering_key=r.atena_no)]
    rows += [
        json.dumps([s.request_body, s.reply_body], ensure_ascii=False)
        for s in SentMessage.objects.filter(atena_no=r.atena_no)
    ]
    rows += [json.dumps(o.detail, ensure_ascii=False) for o in OperationLogEntry.objects.all()]
    rows += [json.dumps(c.payload, ensure_ascii=False) for c in Change.objects.all()]
    assert rows and not any(number in text for text in rows)


def test_a_person_who_already_has_a_number_is_not_numbered_again(fake):
    _, [r] = h.move_in()  # 転入 with a 個人番号
    h.drain()
    assert not MyNumberRequest.objects.exists()
    assert "my_number.generate" not in fake.kinds()
    assert [m.topic for m in h.cs_outbox(r.atena_no)] == ["identity_info", "move_in_notice"]


def test_a_domestic_move_in_without_a_number_is_not_a_first_designation(fake):
    _, [r] = h.move_in(_no_number())
    h.drain()
    assert not MyNumberRequest.objects.filter(atena_no=r.atena_no).exists()


def test_the_request_is_sent_once_even_when_the_identity_is_resent(fake):
    r = _abroad()
    h.drain()
    first = OutboxMessage.objects.get(ordering_key=r.atena_no, topic="identity_info")
    cs.resend(Actor.system("cli", "test"), first.pk)
    h.drain()
    assert MyNumberRequest.objects.filter(atena_no=r.atena_no).count() == 1
    assert fake.kinds().count("my_number.generate") == 1


def test_a_register_refusal_leaves_the_request_for_a_clerk(fake):
    r = _abroad()
    clerk = f.clerk()
    services.acquire_lock(clerk, r.atena_no)  # a clerk is editing the record
    h.drain()
    request = MyNumberRequest.objects.get(atena_no=r.atena_no)
    assert request.state == State.NEEDS_CLERK and request.change_id is None
    assert "仮登録できませんでした" in request.note
    assert not Change.objects.filter(procedure="my_number_record").exists()
    # the message itself was answered: it is not retried behind the person's back
    generate = OutboxMessage.objects.get(ordering_key=r.atena_no, topic="my_number_generate")
    assert generate.status == Status.DELIVERED
    # once the clerk is done, a resend of the request gets the same number and the draft
    services.release_lock(clerk, r.atena_no)
    cs.resend(Actor.system("cli", "test"), generate.pk)
    h.drain()
    request.refresh_from_db()
    assert request.state == State.DRAFTED and request.change_id is not None
    assert fake.effects[f"141500:{generate.idempotency_key}"] == 1  # no second designation


def test_a_failure_inside_the_draft_does_not_stop_the_batch(fake, monkeypatch):
    # issue 7 item 7: a bug hit by one person's draft must not roll back the record of the
    # whole batch (it would be resent, and fail, for ever)
    from jumin.register.procedures import identity as procedures

    r = _abroad()
    other = _abroad()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    original = procedures.submit_my_number_record
    monkeypatch.setattr(procedures, "submit_my_number_record", broken)
    h.drain()
    states = {
        q.atena_no: q.state
        for q in MyNumberRequest.objects.filter(atena_no__in=[r.atena_no, other.atena_no])
    }
    assert states == {r.atena_no: State.NEEDS_CLERK, other.atena_no: State.NEEDS_CLERK}
    note = MyNumberRequest.objects.get(atena_no=r.atena_no).note
    assert "内部エラー RuntimeError" in note
    # the messages were recorded as answered: nothing is stuck in the outbox
    generate = OutboxMessage.objects.get(ordering_key=r.atena_no, topic="my_number_generate")
    assert generate.status == Status.DELIVERED
    monkeypatch.setattr(procedures, "submit_my_number_record", original)  # the bug fixed
    cs.resend(Actor.system("cli", "test"), generate.pk)
    h.drain()
    assert MyNumberRequest.objects.get(atena_no=r.atena_no).state == State.DRAFTED


def test_a_number_recorded_meanwhile_stops_the_request(fake):
    r = _abroad()
    # the identity goes, then a clerk records a number before the request is sent
    w = h.worker(batch=1)
    w.deliver_batch()
    w.close()
    data = identity.MyNumberRecordInput(atena_no=r.atena_no, my_number=h.new_my_number())
    draft = identity.submit_my_number_record(f.clerk(), data)
    change = services.commit_change(f.reviewer(), draft.pk)
    assert change.status == Change.Status.COMMITTED
    h.drain()
    generate = OutboxMessage.objects.get(ordering_key=r.atena_no, topic="my_number_generate")
    assert generate.status == Status.FAILED
    assert "既に個人番号が記載されている" in generate.last_error
    assert "my_number.generate" not in fake.kinds()
