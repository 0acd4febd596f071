"""The envelope: canonical form, signing and verification, freshness, malformed input."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jumin.netproto.envelope import (
    MAX_BYTES,
    MAX_SKEW,
    SIGNATURE_PREFIX,
    Envelope,
    NodeKey,
    ProtocolError,
    canonical,
    public_key,
    valid_node_code,
    verify,
)

CITY = NodeKey.generate("141500")


def _envelope(**changes) -> Envelope:
    fields = {
        "kind": "identity.update",
        "sender": "141500",
        "recipient": "pref-14",
        "body": {"identity": {"family_name": "山田", "sequence": 3}},
        "idempotency_key": "change:12:0000000018:identity_info",
    }
    fields.update(changes)
    return Envelope(**fields)


def _raw(data: dict) -> bytes:
    return canonical(data)


# --------------------------------------------------------------------------- canonical form


def test_canonical_is_sorted_compact_utf8():
    assert canonical({"b": 1, "a": {"d": [1, "二"], "c": None}}) == (
        '{"a":{"c":null,"d":[1,"二"]},"b":1}'.encode()
    )


def test_canonical_refuses_nan():
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical({"x": float("nan")})


def test_envelope_bytes_are_canonical_and_parse_back():
    envelope = _envelope()
    raw = envelope.to_bytes()
    assert raw == canonical(json.loads(raw))
    assert Envelope.parse(raw) == envelope
    assert list(json.loads(raw)) == sorted(json.loads(raw))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(body=st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_any_json_body_round_trips_and_verifies(body):
    # strings with lone surrogates cannot be UTF-8: the envelope refuses them
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return
    envelope = _envelope(body=body)
    raw, signature = CITY.seal(envelope)
    assert Envelope.parse(raw) == envelope
    verify(raw, signature, public_key(CITY.public_b64))


# --------------------------------------------------------------------------- signatures


def test_seal_then_verify():
    raw, signature = CITY.seal(_envelope())
    assert signature.startswith(SIGNATURE_PREFIX)
    verify(raw, signature, public_key(CITY.public_b64))


def test_a_changed_body_fails_verification():
    raw, signature = CITY.seal(_envelope())
    tampered = raw.replace("山田".encode(), "川田".encode())
    with pytest.raises(ProtocolError) as caught:
        verify(tampered, signature, public_key(CITY.public_b64))
    assert caught.value.code == "signature.invalid"


def test_another_key_fails_verification():
    raw, _ = CITY.seal(_envelope())
    forged = NodeKey.generate("141500").sign(raw)
    with pytest.raises(ProtocolError) as caught:
        verify(raw, forged, public_key(CITY.public_b64))
    assert caught.value.code == "signature.invalid"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "signature.missing"),
        ("", "signature.missing"),
        ("rsa=AAAA", "signature.missing"),
        ("ed25519=***", "signature.invalid"),
        ("ed25519=" + base64.b64encode(b"short").decode(), "signature.invalid"),
    ],
)
def test_missing_or_garbled_signatures(header, code):
    raw, _ = CITY.seal(_envelope())
    with pytest.raises(ProtocolError) as caught:
        verify(raw, header, public_key(CITY.public_b64))
    assert caught.value.code == code
    assert caught.value.message  # Japanese, for the operator


def test_only_the_sender_seals():
    with pytest.raises(ValueError, match="signed by its sender"):
        NodeKey.generate("130001").seal(_envelope())


def test_private_key_round_trips_through_base64():
    again = NodeKey.from_b64("141500", CITY.private_b64())
    assert again.public_b64 == CITY.public_b64
    assert CITY.private_b64() not in repr(again)


@pytest.mark.parametrize("value", ["", "not base64!", base64.b64encode(b"x" * 31).decode()])
def test_malformed_public_keys(value):
    with pytest.raises(ProtocolError) as caught:
        public_key(value)
    assert caught.value.code == "key.malformed"


# --------------------------------------------------------------------------- freshness


def test_fresh_within_the_skew_and_stale_beyond():
    envelope = _envelope()
    sent = envelope.sent_at_time
    envelope.check_fresh(sent + MAX_SKEW)
    envelope.check_fresh(sent - MAX_SKEW)
    for moment in (sent + MAX_SKEW + dt.timedelta(seconds=1), sent - MAX_SKEW * 2):
        with pytest.raises(ProtocolError) as caught:
            envelope.check_fresh(moment)
        assert caught.value.code == "envelope.stale"


# --------------------------------------------------------------------------- malformed


def _valid_dict() -> dict:
    return _envelope().as_dict()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not json", "envelope.malformed"),
        (b"\xff", "envelope.malformed"),
        (b"[]", "envelope.malformed"),
        (b"[" * 100_000, "envelope.malformed"),
        (b'{"x":NaN}', "envelope.malformed"),
        (b'{"x":"\\ud800"}', "envelope.malformed"),
        (b"{ }", "envelope.not_canonical"),
        (b'{"b":1,"a":2}', "envelope.not_canonical"),
        (b"{}", "envelope.fields"),
    ],
)
def test_malformed_bytes(raw, code):
    with pytest.raises(ProtocolError) as caught:
        Envelope.parse(raw)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"extra": 1}, "envelope.fields"),
        ({"v": 2}, "envelope.version"),
        ({"v": True}, "envelope.version"),
        ({"v": "1"}, "envelope.version"),
        ({"kind": ""}, "envelope.fields"),
        ({"sender": 141500}, "envelope.fields"),
        ({"idempotency_key": "k" * 201}, "envelope.fields"),
        ({"body": []}, "envelope.fields"),
        ({"id": "not-a-uuid"}, "envelope.id"),
        ({"sent_at": "2026-11-26 08:00:00"}, "envelope.sent_at"),
    ],
)
def test_malformed_fields(change, code):
    data = _valid_dict()
    data.update(change)
    with pytest.raises(ProtocolError) as caught:
        Envelope.parse(_raw(data))
    assert caught.value.code == code


def test_missing_field():
    data = _valid_dict()
    del data["idempotency_key"]
    with pytest.raises(ProtocolError) as caught:
        Envelope.parse(_raw(data))
    assert caught.value.code == "envelope.fields"


def test_too_large():
    with pytest.raises(ProtocolError) as caught:
        Envelope.parse(b" " * (MAX_BYTES + 1))
    assert caught.value.code == "envelope.too_large"


# --------------------------------------------------------------------------- replies, codes


def test_reply_answers_the_message():
    envelope = _envelope()
    reply = envelope.reply("pref-14", {"status": "applied"})
    assert reply.kind == "identity.update.result"
    assert (reply.sender, reply.recipient) == ("pref-14", "141500")
    assert reply.idempotency_key == f"reply:{envelope.id}"
    assert reply.id != envelope.id
    uuid.UUID(reply.id)
    assert envelope.reply("jlis", {"code": "x", "message": "y"}, kind="error").kind == "error"


@pytest.mark.parametrize(
    ("code", "valid"),
    [("141500", True), ("jlis", True), ("pref-14", True), ("", False), ("JLIS", False)],
)
def test_node_codes(code, valid):
    assert valid_node_code(code) is valid
    assert valid_node_code("a" * 33) is False
