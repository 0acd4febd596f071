"""``POST /v1/messages:batch``: several envelopes in one request, each signed, verified,
applied, logged and answered on its own (std 7.1.1.1, j1090: delivery throughput without
weakening the per-message checks)."""

from __future__ import annotations

import json

from jumin.netproto import batch
from jumin.netproto.envelope import Envelope, NodeKey

from .conftest import identity


def _post(city, items: list[tuple[bytes, str]]):
    return city.client.request("POST", batch.BATCH_PATH, batch.encode_request(items))


def test_each_item_is_answered_as_if_sent_alone(city, jcode, netsim_db):
    codes = [jcode() for _ in range(3)]
    envelopes = [city.envelope("identity.update", identity(city, c, 1)) for c in codes]
    sealed = [city.key.seal(e) for e in envelopes]
    # item 2: a forged signature (another key) → 401 for that item only
    forged = NodeKey.generate(city.code).seal(envelopes[1])
    items = [sealed[0], (sealed[1][0], forged[1]), sealed[2]]
    response = _post(city, items)
    assert response.status == 200, response.content.decode()
    answers = batch.decode_reply(response.content, 3)
    assert [a.status for a in answers] == [200, 401, 200]
    for envelope, answer in zip(envelopes, answers, strict=True):
        if answer.status != 200:
            continue
        reply = type(response)(200, answer.content, answer.signature).verified(
            city.public_keys[envelope.recipient]
        )
        assert reply.kind == "identity.update.result" and reply.body == {"status": "applied"}
        assert reply.idempotency_key == f"reply:{envelope.id}"
    assert json.loads(answers[1].content)["code"].startswith("signature")
    applied = netsim_db.count("identityrecord", "juminhyo_code IN (%s, %s)", codes[0], codes[2])
    assert applied == 2
    assert netsim_db.count("identityrecord", "juminhyo_code = %s", codes[1]) == 0
    outcomes = [netsim_db.log(e.id)[0]["outcome"] for e in envelopes]
    assert outcomes == ["applied", "rejected", "applied"]


def test_a_resent_batch_has_no_second_effect(city, jcode, netsim_db):
    envelopes = [city.envelope("identity.update", identity(city, jcode(), 1)) for _ in range(2)]
    items = [city.key.seal(e) for e in envelopes]
    first = batch.decode_reply(_post(city, items).content, 2)
    again = batch.decode_reply(_post(city, items).content, 2)  # the same bytes: a replay
    assert [a.status for a in first] == [200, 200] and [a.content for a in again] == [
        a.content for a in first
    ]
    for envelope in envelopes:
        outcomes = [row["outcome"] for row in netsim_db.log(envelope.id)]
        assert outcomes == ["applied", "duplicate"]


def test_a_malformed_batch_is_refused_whole(city):
    for content in (b"[]", b'{"items": []}', b'{"items": [{"envelope": 1}]}', b"xx"):
        response = city.client.request("POST", batch.BATCH_PATH, content)
        assert response.status == 400, content
        assert json.loads(response.content)["code"].startswith("batch")
    too_many = [(b"{}", "ed25519=x")] * (batch.MAX_ITEMS + 1)
    response = _post(city, too_many)
    assert response.status == 400 and json.loads(response.content)["code"] == "batch.too_many"


def test_an_unparseable_item_is_its_own_400(city, jcode):
    good = city.key.seal(city.envelope("identity.update", identity(city, jcode(), 1)))
    answers = batch.decode_reply(_post(city, [(b"not json", "ed25519=AAAA"), good]).content, 2)
    assert [a.status for a in answers] == [400, 200]
    assert Envelope.parse(answers[1].content).kind == "identity.update.result"


def test_an_item_with_a_lone_surrogate_is_refused_alone(city, jcode):
    # JSON may carry "\ud800", which UTF-8 cannot encode: that item is its own 400, the rest
    # of the batch is applied (it used to fail the whole batch with HTTP 500)
    good = city.key.seal(city.envelope("identity.update", identity(city, jcode(), 1)))
    content = (
        b'{"items":[{"envelope":"\\ud800","signature":null},'
        + json.dumps({"envelope": good[0].decode(), "signature": good[1]}).encode()
        + b"]}"
    )
    response = city.client.request("POST", batch.BATCH_PATH, content)
    assert response.status == 200, response.content.decode()
    answers = batch.decode_reply(response.content, 2)
    assert [a.status for a in answers] == [400, 200]
    assert json.loads(answers[0].content)["code"] == "envelope.malformed"


def test_a_deeply_nested_batch_is_a_400_not_a_server_error(city):
    content = b'{"items":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = city.client.request("POST", batch.BATCH_PATH, content)
    assert response.status == 400 and json.loads(response.content)["code"] == "batch.malformed"


def test_an_unreadable_item_carrying_a_my_number_is_logged_masked(city, netsim_db):
    # invariant 6: a message netsim cannot read is logged as an excerpt — never a 個人番号
    import random

    from jumin.core.identifiers import generate_my_number

    number = generate_my_number(random.Random(7))
    raw = json.dumps({"kind": "my_number.change", "body": {"my_number": number}}, indent=1)
    answers = batch.decode_reply(_post(city, [(raw.encode(), "ed25519=AAAA")]).content, 1)
    assert answers[0].status == 400
    assert netsim_db.count("messagelog", "raw_excerpt LIKE %s", '%"my_number%') >= 1
    assert netsim_db.count("messagelog", "raw_excerpt LIKE %s", f"%{number}%") == 0


def test_an_item_that_crashes_the_server_fails_alone_and_goes_through_on_resend(
    city, jcode, netsim_db, netsim_server
):
    # issue 7 item 7 (faults): a bug hit by one item must not fail its whole batch on every
    # resend (a poison batch would stop everybody's delivery)
    from jumin.netsim.client import Client

    control = Client(netsim_server.url)
    try:
        assert control.faults({"crash": 1}).status == 200
        codes = [jcode() for _ in range(3)]
        envelopes = [city.envelope("identity.update", identity(city, c, 1)) for c in codes]
        sealed = [city.key.seal(e) for e in envelopes]
        response = _post(city, sealed)
        assert response.status == 200
        answers = batch.decode_reply(response.content, 3)
        assert [a.status for a in answers] == [500, 200, 200]
        assert json.loads(answers[0].content)["code"] == "server.error"
        assert netsim_db.count("identityrecord", "juminhyo_code = %s", codes[0]) == 0
        assert netsim_db.count("identityrecord", "juminhyo_code IN (%s, %s)", *codes[1:]) == 2
        again = batch.decode_reply(_post(city, sealed).content, 3)  # the sender resends
        assert [a.status for a in again] == [200, 200, 200]
        assert netsim_db.count("identityrecord", "juminhyo_code = %s", codes[0]) == 1
    finally:
        control.faults(None)
        control.close()
