"""Bad input is refused, logged, and has no effect (issue 7: unsigned, wrongly signed,
replayed, malformed, non-canonical, unknown kind, wrong recipient, stale, unknown sender,
bad body)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from jumin.netproto.envelope import SIGNATURE_HEADER, Envelope, NodeKey, canonical
from jumin.netsim.client import Client

from .conftest import identity, new_municipality_code


def _assert_rejected(netsim_db, response, *, status, code, message_id=None, signed=None):
    assert response.status == status, response.content.decode()
    error = response.json()
    assert set(error) == {"code", "message"}
    assert error["code"] == code
    assert error["message"]  # Japanese, for the operator
    if signed is not None:
        assert response.signature is not None
        from jumin.netproto.envelope import public_key, verify

        verify(response.content, response.signature, public_key(signed))
    if message_id is not None:
        rows = netsim_db.log(message_id)
        assert [row["outcome"] for row in rows] == ["rejected"]
        assert rows[0]["error_code"] == code
        assert rows[0]["http_status"] == status
    return error


def _no_record(netsim_db, juminhyo_code):
    assert netsim_db.count("identityrecord", "juminhyo_code = %s", juminhyo_code) == 0
    assert netsim_db.count("identityhistory", "juminhyo_code = %s", juminhyo_code) == 0


def test_unsigned_message_is_refused(city, jcode, netsim_db):
    code = jcode()
    envelope = city.envelope("identity.update", identity(city, code, 1))
    response = city.client.post_raw(envelope.to_bytes(), None)
    _assert_rejected(
        netsim_db, response, status=401, code="signature.missing", message_id=envelope.id
    )
    _no_record(netsim_db, code)


def test_message_signed_with_another_key_is_refused(city, jcode, netsim_db):
    code = jcode()
    envelope = city.envelope("identity.update", identity(city, code, 1))
    impostor = NodeKey.generate(city.code)
    raw, signature = impostor.seal(envelope)
    response = city.client.post_raw(raw, signature)
    _assert_rejected(
        netsim_db, response, status=401, code="signature.invalid", message_id=envelope.id
    )
    _no_record(netsim_db, code)


def test_body_changed_after_signing_is_refused(city, jcode, netsim_db):
    code = jcode()
    envelope = city.envelope("identity.update", identity(city, code, 1))
    raw, signature = city.key.seal(envelope)
    tampered = raw.replace("山田".encode(), "川田".encode())
    assert tampered != raw
    response = city.client.post_raw(tampered, signature)
    _assert_rejected(
        netsim_db, response, status=401, code="signature.invalid", message_id=envelope.id
    )
    _no_record(netsim_db, code)


def test_garbled_signature_header_is_refused(city, jcode, netsim_db):
    envelope = city.envelope("identity.update", identity(city, jcode(), 1))
    response = city.client.post_raw(envelope.to_bytes(), "ed25519=not-base64!!")
    _assert_rejected(netsim_db, response, status=401, code="signature.invalid")


def test_replayed_id_with_other_content_is_refused(city, jcode, netsim_db):
    first_code, second_code = jcode(), jcode()
    envelope = city.envelope("identity.update", identity(city, first_code, 1))
    city.verified_reply(envelope, city.client.send(envelope))
    replay = Envelope(**{**envelope.as_dict(), "body": identity(city, second_code, 1)})
    response = city.client.send(replay)
    _assert_rejected(
        netsim_db,
        response,
        status=409,
        code="envelope.replayed",
        signed=city.public_keys[envelope.recipient],
    )
    outcomes = [row["outcome"] for row in netsim_db.log(envelope.id)]
    assert outcomes == ["applied", "rejected"]
    _no_record(netsim_db, second_code)


def test_identical_replay_gets_the_logged_reply_without_a_second_effect(city, netsim_db):
    envelope = city.envelope("codes.request", {"count": 2})
    raw, signature = city.key.seal(envelope)
    first = city.client.post_raw(raw, signature)
    second = city.client.post_raw(raw, signature)
    assert first.status == second.status == 200
    assert second.content == first.content
    assert second.signature == first.signature
    assert netsim_db.count("issuedcode", "message_id = %s", envelope.id) == 2
    outcomes = [row["outcome"] for row in netsim_db.log(envelope.id)]
    assert outcomes == ["applied", "duplicate"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "envelope.malformed"),
        (b"[1, 2, 3]", "envelope.malformed"),
        (b"\xff\xfe", "envelope.malformed"),
        (b"[" * 5000 + b"]" * 5000, "envelope.malformed"),
    ],
)
def test_malformed_json_is_refused_and_logged(city, netsim_db, raw, code):
    before = netsim_db.count("messagelog", "outcome = 'rejected' AND error_code = %s", code)
    response = city.client.post_raw(raw, city.key.sign(raw))
    _assert_rejected(netsim_db, response, status=400, code=code)
    after = netsim_db.count("messagelog", "outcome = 'rejected' AND error_code = %s", code)
    assert after == before + 1


def test_non_canonical_json_is_refused(city, jcode, netsim_db):
    code = jcode()
    envelope = city.envelope("identity.update", identity(city, code, 1))
    pretty = json.dumps(envelope.as_dict(), ensure_ascii=False, indent=2).encode()
    response = city.client.post_raw(pretty, city.key.sign(pretty))
    _assert_rejected(netsim_db, response, status=400, code="envelope.not_canonical")
    [row] = netsim_db.rows(
        "SELECT raw_excerpt, body FROM netsim_messagelog WHERE raw_excerpt LIKE %s",
        f"%{envelope.id}%",
    )
    assert row["body"] is None  # not parsed: the first bytes are kept for the audit
    _no_record(netsim_db, code)


def test_unknown_kind_is_refused(city, netsim_db):
    envelope = city.envelope("identity.delete", {"juminhyo_code": "12345678901"})
    response = city.client.send(envelope)
    _assert_rejected(
        netsim_db,
        response,
        status=400,
        code="kind.unknown",
        message_id=envelope.id,
        signed=city.public_keys["jlis"],
    )


@pytest.mark.parametrize(
    ("kind", "recipient", "code"),
    [
        ("identity.update", "jlis", "recipient.role"),  # goes to the prefecture
        ("identity.update", "pref-13", "recipient.role"),  # not the city's prefecture
        ("codes.request", "pref-14", "recipient.role"),  # goes to J-LIS
        ("codes.request", "pref-99", "recipient.unknown"),
        ("codes.request", "141500", "recipient.unknown"),  # cities talk through J-LIS
    ],
)
def test_wrong_recipient_is_refused(city, jcode, netsim_db, kind, recipient, code):
    juminhyo_code = jcode()
    body = identity(city, juminhyo_code, 1) if kind == "identity.update" else {"count": 1}
    envelope = city.envelope(kind, body, recipient=recipient)
    response = city.client.send(envelope)
    _assert_rejected(netsim_db, response, status=400, code=code, message_id=envelope.id)
    _no_record(netsim_db, juminhyo_code)
    assert netsim_db.count("issuedcode", "message_id = %s", envelope.id) == 0


@pytest.mark.parametrize("minutes", [-6, 6])
def test_stale_or_future_timestamp_is_refused(city, jcode, netsim_db, minutes):
    code = jcode()
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    envelope = city.envelope(
        "identity.update",
        identity(city, code, 1),
        sent_at=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
    response = city.client.send(envelope)
    _assert_rejected(netsim_db, response, status=400, code="envelope.stale", message_id=envelope.id)
    _no_record(netsim_db, code)


def test_unknown_sender_is_refused_unsigned(netsim_server, jcode, netsim_db):
    stranger = NodeKey.generate(new_municipality_code())
    with Client(netsim_server.url, stranger) as client:
        envelope, response = client.message("codes.request", {"count": 1})
    _assert_rejected(netsim_db, response, status=401, code="node.unknown", message_id=envelope.id)
    assert response.signature is None  # the sender is unknown: nothing to sign for
    assert netsim_db.count("issuedcode", "message_id = %s", envelope.id) == 0


def test_bad_body_field_is_refused_with_the_field_named(city, jcode, netsim_db):
    code = jcode()
    body = identity(city, code, 1, birth_date=None, sex="9")
    envelope = city.envelope("identity.update", body)
    response = city.client.send(envelope)
    error = _assert_rejected(
        netsim_db, response, status=400, code="body.invalid", message_id=envelope.id
    )
    assert "生年月日" in error["message"] and "identity.birth_date" in error["message"]
    assert "性別" in error["message"] and "identity.sex" in error["message"]
    _no_record(netsim_db, code)


def test_extra_body_field_is_refused(city, netsim_db):
    envelope = city.envelope("codes.request", {"count": 1, "prefix": "14"})
    error = _assert_rejected(netsim_db, city.client.send(envelope), status=400, code="body.invalid")
    assert "prefix" in error["message"]


def test_identity_of_another_city_is_refused(make_city, jcode, netsim_db):
    city, other = make_city(), make_city("他市")
    code = jcode()
    envelope = city.envelope(
        "identity.update", identity(city, code, 1, municipality_code=other.code)
    )
    error = _assert_rejected(netsim_db, city.client.send(envelope), status=400, code="body.invalid")
    assert "市区町村コード" in error["message"]
    _no_record(netsim_db, code)


def test_bad_check_digit_is_refused(city, jcode, netsim_db):
    code = jcode()
    wrong = code[:10] + str((int(code[10]) + 1) % 10)
    error = _assert_rejected(
        netsim_db,
        city.client.send(city.envelope("my_number.generate", {"juminhyo_code": wrong})),
        status=400,
        code="body.invalid",
    )
    assert "住民票コード" in error["message"]
    assert netsim_db.count("mynumberassignment", "juminhyo_code = %s", wrong) == 0


def test_query_needs_exactly_one_condition(city, netsim_db):
    error = _assert_rejected(
        netsim_db,
        city.client.send(
            city.envelope(
                "identity.query",
                {"purpose": "確認", "juminhyo_code": "12345678901", "my_number": "123456789018"},
            )
        ),
        status=400,
        code="body.invalid",
    )
    assert "1つだけ" in error["message"]


def test_nul_characters_are_refused(city, jcode, netsim_db):
    code = jcode()
    envelope = city.envelope("identity.update", identity(city, code, 1, family_name="山\x00田"))
    _assert_rejected(
        netsim_db, city.client.send(envelope), status=400, code="envelope.control_char"
    )
    _no_record(netsim_db, code)


def test_inactive_node_is_refused(netsim_server, make_city, netsim_db):
    city = make_city()
    netsim_server.command("node", "deactivate", city.code)
    envelope = city.envelope("codes.request", {"count": 1})
    _assert_rejected(netsim_db, city.client.send(envelope), status=401, code="node.inactive")
    netsim_server.command("node", "activate", city.code)
    assert len(city.ok("codes.request", {"count": 1})["codes"]) == 1


def test_other_methods_and_paths_answer_json(netsim_server):
    with Client(netsim_server.url) as client:
        wrong_method = client.request("GET", "/v1/messages")
        assert wrong_method.status == 405
        assert wrong_method.json()["code"] == "http.method"
        missing = client.request("GET", "/v2/anything")
        assert missing.status == 404
        assert missing.json()["code"] == "http.not_found"


def test_too_large_is_refused_before_reading(city, netsim_db):
    big = b"{" + b" " * (1 << 20) + b"}"
    response = city.client.request(
        "POST", "/v1/messages", big, {SIGNATURE_HEADER: city.key.sign(big)}
    )
    assert response.status == 413
    assert response.json()["code"] == "envelope.too_large"


def test_self_registration_needs_the_private_key(netsim_server):
    code = new_municipality_code()
    claimed = NodeKey.generate(code)
    content = canonical({"code": code, "name": "なりすまし市", "public_key": claimed.public_b64})
    with Client(netsim_server.url) as client:
        forged = client.request(
            "POST",
            "/v1/nodes",
            content,
            {SIGNATURE_HEADER: NodeKey.generate(code).sign(content)},
        )
        assert forged.status == 401
        assert client.node(code).status == 404


def test_a_registered_key_is_not_replaced_by_self_registration(netsim_server, city):
    with Client(netsim_server.url, NodeKey.generate(city.code)) as usurper:
        response = usurper.register("乗っ取り市")
    assert response.status == 409
    assert response.json()["code"] == "node.key_conflict"
    with Client(netsim_server.url) as client:
        assert client.node(city.code).json()["public_key"] == city.key.public_b64


def test_envelope_ids_are_per_sender(make_city):
    # the same id from two cities is two messages, not a replay
    first, second = make_city(), make_city()
    shared = str(uuid.uuid4())
    for city in (first, second):
        envelope = Envelope(
            kind="codes.request",
            sender=city.code,
            recipient="jlis",
            body={"count": 1},
            idempotency_key=f"k:{shared}",
            id=shared,
        )
        city.verified_reply(envelope, city.client.send(envelope))
