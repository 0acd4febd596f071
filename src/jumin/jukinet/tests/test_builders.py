"""Outbox message → envelope body: only the items each message needs, as at the change.

std 7.1.1.1 (j1090): 電文仕様に基づき各電文がCSに自動送信されること; std 4.1.3.0.4 (j670):
特例転出の転出証明書情報; assessment §III: the CS takes only the needed items.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from jumin.jukinet.builders import BuildError, Built, build_batch, is_cs_message
from jumin.jukinet.tests import helpers as h
from jumin.netproto.messages import Identity, MoveOutInfo
from jumin.outbox import services as outbox
from jumin.outbox.models import OutboxMessage
from jumin.register.crypto import reveal_my_number
from jumin.register.models import EncryptedMyNumber, ResidentHistory

pytestmark = pytest.mark.django_db


def _build(message: OutboxMessage) -> Built | BuildError:
    return build_batch([message], "141500")[message.pk]


def test_identity_is_the_state_at_the_change_not_the_current_one(cs_env):
    _, [r] = h.move_in()
    first = h.cs_outbox(r.atena_no)[0]
    h.commit_move_within(r)  # the address changes after the first message was queued
    built = _build(first)
    assert isinstance(built, Built)
    identity = Identity.model_validate(built.body["identity"])
    row = ResidentHistory.objects.get(atena_no=r.atena_no, history_no=1)
    assert (
        identity.address
        == row.address
        != ResidentHistory.objects.get(atena_no=r.atena_no, history_no=2).address
    )
    assert identity.sequence == 1
    assert set(built.body["identity"]) == set(Identity.model_fields)  # nothing else
    assert built.identity is not None and "my_number" not in built.identity
    assert built.identity["my_number_id"] == row.my_number_id


def test_uncertain_birth_date_is_sent_as_stored(cs_env):
    # std 1.1.8 (j80): 不詳日 — the identity carries the stored text, not the sort key
    _, [r] = h.move_in(h.person(birth_date="昭和25年 月日不詳"))
    built = _build(h.cs_outbox(r.atena_no)[0])
    assert isinstance(built, Built)
    row = ResidentHistory.objects.get(atena_no=r.atena_no, history_no=1)
    assert row.birth_date_text
    assert built.body["identity"]["birth_date"] == row.birth_date_text


# std 4.1.3.0.4 (j670): 特例転入を利用した転出 — the 転出証明書情報 goes to the CS
def test_move_out_info_for_a_card_move_out(cs_env):
    _, [a, b] = h.move_in(h.person(), h.person(relationship="妻", sex="2"))
    change = h.commit_move_out(a, b, card=True, to="131016")
    messages = list(OutboxMessage.objects.filter(change_id=change.pk, topic="move_out_info"))
    assert len(messages) == 2
    built = [_build(m) for m in messages]
    assert all(isinstance(b, Built) for b in built)
    infos = [MoveOutInfo.model_validate(b.body) for b in built if isinstance(b, Built)]
    assert {i.certificate_id for i in infos} == {
        f"141500-{change.pk}-{a.atena_no}",
        f"141500-{change.pk}-{b.atena_no}",
    }
    info = next(i for i in infos if i.persons[0].juminhyo_code == a.juminhyo_code)
    assert info.from_municipality == "141500" and info.to_municipality == "131016"
    assert info.previous_address.startswith(a.address)
    assert info.destination_address == "東京都千代田区霞が関一丁目1番1号"
    person = info.persons[0]
    assert person.my_number == reveal_my_number(EncryptedMyNumber.objects.get(pk=a.my_number_id))
    assert person.relationship == "世帯主" and person.honseki


def test_mailing_info_from_the_current_record_with_a_different_residence(cs_env):
    _, [r] = h.move_in()
    with transaction.atomic():
        message = outbox.enqueue(
            topic="mailing_info",
            destination="cs",
            ordering_key=r.atena_no,
            idempotency_key="t:mailing:1",
            payload={
                "atena_no": r.atena_no,
                "address": "神奈川県相模原市緑区橋本1番1号",
                "postal_code": "2520143",
            },
        )
    built = _build(message)
    assert isinstance(built, Built) and built.kind == "mailing.info"
    assert built.body["juminhyo_code"] == r.juminhyo_code
    assert built.body["address"] == "神奈川県相模原市緑区橋本1番1号"  # 居所 (j1120)
    assert built.body["postal_code"] == "2520143"
    assert built.body["name"] == r.name
    # the notice needs the number: in the envelope only, the CS file keeps the reference
    assert built.body["my_number"] and built.mailing is not None
    assert built.body["my_number"] not in json.dumps(built.mailing, default=str)
    assert built.mailing["my_number_id"] == r.my_number_id
    assert built.body["birth_date"] == "1980-04-01" and built.body["sex"] == "1"


def test_missing_history_is_a_final_error(cs_env):
    with transaction.atomic():
        message = outbox.enqueue(
            topic="identity_info",
            destination="cs",
            ordering_key="0000000000",
            idempotency_key="t:x:1",
            payload={"atena_no": "0000000000", "history_no": 9},
        )
    error = _build(message)
    assert isinstance(error, BuildError) and error.final and error.code == "history.missing"


def test_which_messages_are_the_cs_s():
    assert is_cs_message("identity_info", "cs")
    assert is_cs_message("move_in_notice", "131016")
    assert is_cs_message("something_new", "cs")
    assert not is_cs_message("immigration_notice", "isa")
    assert not is_cs_message("juminhyo_code_notice", "print")
    assert not is_cs_message("something_else", "print")


# std 4.1.3.0.3 (j660), 4.1.3.0.4 (j670): the 転入通知 names the 転出証明書 it answers
def test_move_in_notice_carries_the_code_and_the_certificate_id_received(cs_env):
    from django.utils import timezone

    from jumin.jukinet.models import InboundMessage, SentMessage

    code, fetched_code = h.new_code(), h.new_code()
    InboundMessage.objects.create(
        seq=1,
        kind="move_out.info",
        origin="131016",
        juminhyo_code=code,
        body={"certificate_id": "131016-77-0000000123", "from_municipality": "131016"},
        verified=True,
        state=InboundMessage.State.NOT_HANDLED,
        received_at=timezone.now(),
    )
    SentMessage.objects.create(
        envelope_id="e-fetch-1",
        kind="move_out.fetch",
        recipient="jlis",
        idempotency_key="call:x",
        outcome=SentMessage.Outcome.DELIVERED,
        request_body={"juminhyo_code": fetched_code},
        reply_body={
            "found": True,
            "info": {"certificate_id": "131016-78-0000000124", "from_municipality": "131016"},
        },
        started_at=timezone.now(),
    )
    _, [a, b, c] = h.move_in(
        h.person(juminhyo_code=code),
        h.person(juminhyo_code=fetched_code, relationship="妻", sex="2"),
        h.person(relationship="子"),
    )
    notices = {
        m.ordering_key: m
        for m in OutboxMessage.objects.filter(
            topic="move_in_notice", ordering_key__in=[a.atena_no, b.atena_no, c.atena_no]
        )
    }
    built = build_batch(list(notices.values()), "141500")
    body = {m.ordering_key: built[m.pk].body for m in notices.values()}  # type: ignore[union-attr]
    assert body[a.atena_no]["juminhyo_code"] == code
    assert body[a.atena_no]["certificate_id"] == "131016-77-0000000123"  # relayed to us
    assert body[b.atena_no]["certificate_id"] == "131016-78-0000000124"  # fetched by us
    assert body[c.atena_no]["certificate_id"] == ""  # paper certificate: none known
    assert body[c.atena_no]["juminhyo_code"] == c.juminhyo_code
