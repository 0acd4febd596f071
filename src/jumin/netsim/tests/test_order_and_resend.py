"""Per-person order, idempotent resends and injected faults (the city's retry paths)."""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from jumin.netsim.client import Client
from jumin.netsim.testing import NetsimProcess

from .conftest import identity


def _record(netsim_db, code):
    rows = netsim_db.rows("SELECT * FROM netsim_identityrecord WHERE juminhyo_code = %s", code)
    return rows[0] if rows else None


def test_an_older_sequence_is_stale_and_never_overwrites(city, jcode, netsim_db):
    # std 7.1.1.1 (j1090): 異動の時系列は担保されること
    code = jcode()
    newer = identity(city, code, 3, address="新住所", change_reason="転居")
    older = identity(city, code, 2, address="旧住所", change_reason="転居")
    assert city.ok("identity.update", newer) == {"status": "applied"}
    assert city.ok("identity.update", older) == {"status": "stale"}
    record = _record(netsim_db, code)
    assert record["address"] == "新住所"
    assert record["sequence"] == 3
    assert netsim_db.count("identityhistory", "juminhyo_code = %s", code) == 1
    outcomes = netsim_db.rows(
        "SELECT outcome FROM netsim_messagelog "
        "WHERE direction = 'in' AND CAST(body AS TEXT) LIKE %s ORDER BY id",
        f"%{code}%",
    )
    assert [row["outcome"] for row in outcomes] == ["applied", "stale"]


def test_the_same_sequence_resent_with_a_changed_reason_is_applied(city, jcode, netsim_db):
    # std 7.1.1.1 (j1090): 再送信の際は異動事由を変更して送信できること
    code = jcode()
    city.ok("identity.update", identity(city, code, 4, change_reason="転居"))
    assert city.ok("identity.update", identity(city, code, 4, change_reason="職権修正")) == {
        "status": "applied"
    }
    assert _record(netsim_db, code)["change_reason"] == "職権修正"


def test_a_late_removal_from_the_old_city_keeps_the_new_citys_record(make_city, jcode, netsim_db):
    old, new = make_city("旧市"), make_city("新市")
    code = jcode()
    old.ok("identity.update", identity(old, code, 7, address="旧市の住所"))
    new.ok("identity.update", identity(new, code, 1, address="新市の住所", change_reason="転入"))
    late = identity(old, code, 8, status="removed", change_reason="転出", address="旧市の住所")
    assert old.ok("identity.update", late) == {"status": "applied"}  # recorded in history
    record = _record(netsim_db, code)
    assert record["municipality_code"] == new.code
    assert record["status"] == "resident"
    assert netsim_db.count("identityhistory", "juminhyo_code = %s", code) == 3


def test_a_resend_with_the_same_idempotency_key_returns_the_first_result(city, netsim_db):
    first = city.ok("codes.request", {"count": 3}, key="codes:batch-1")
    again = city.ok("codes.request", {"count": 3}, key="codes:batch-1")  # a new id
    assert again == first
    assert netsim_db.count("issuedcode", "municipality_code = %s", city.code) == 3
    rows = netsim_db.rows(
        "SELECT outcome, first_id FROM netsim_messagelog WHERE sender = %s AND "
        "idempotency_key = %s ORDER BY id",
        city.code,
        "codes:batch-1",
    )
    assert [row["outcome"] for row in rows] == ["applied", "repeated"]
    assert rows[1]["first_id"] is not None


def test_an_idempotency_key_reused_for_another_kind_is_refused(city, jcode, netsim_db):
    city.ok("codes.request", {"count": 1}, key="shared-key")
    envelope, response = city.send(
        "my_number.generate", {"juminhyo_code": jcode()}, key="shared-key"
    )
    assert response.status == 409
    assert response.json()["code"] == "idempotency.conflict"
    assert netsim_db.count("mynumberassignment", "message_id = %s", envelope.id) == 0


def test_a_refused_message_can_be_resent_with_the_same_key_once_it_can_succeed(make_city, jcode):
    # a refusal has no effect, so it does not use up the idempotency key
    old, new = make_city("旧市"), make_city("新市")
    code = jcode()
    notice = {
        "to_municipality": old.code,
        "from_municipality": new.code,
        "juminhyo_code": code,
        "certificate_id": "LATE-1",
        "moved_in_on": "2026-12-01",
        "new_address": "東京都千代田区千代田1番1号",
        "notified_on": "2026-12-03",
    }
    assert new.refused("move_in.notice", notice, key="notice:1")["code"] == (
        "move_in.certificate_unknown"
    )
    old.ok(
        "move_out.info",
        {
            "certificate_id": "LATE-1",
            "from_municipality": old.code,
            "to_municipality": None,
            "previous_address": "旧住所",
            "planned_on": "2026-12-01",
            "destination_address": "",
            "persons": [
                {"juminhyo_code": code, "birth_date": "1980-01-01", "sex": "2"},
            ],
        },
    )
    assert new.ok("move_in.notice", notice, key="notice:1") == {"accepted": True}


# --------------------------------------------------------------------------- faults


@pytest.fixture
def faults(netsim_server):
    client = Client(netsim_server.url)
    yield client
    client.faults(None)
    client.close()


def test_unavailable_answers_503_and_applies_nothing(city, jcode, netsim_db, faults):
    assert faults.faults({"unavailable": 1}).status == 200
    code = jcode()
    envelope, response = city.send("identity.update", identity(city, code, 1))
    assert response.status == 503
    assert response.json()["code"] == "fault.unavailable"
    assert netsim_db.log(envelope.id) == []  # netsim was "down": it never saw it
    city.verified_reply(envelope, city.client.send(envelope))  # the retry goes through
    assert _record(netsim_db, code) is not None


def test_a_dropped_reply_is_recovered_by_resending(city, jcode, netsim_db, faults):
    faults.faults({"drop": 1})
    code = jcode()
    envelope = city.envelope("my_number.generate", {"juminhyo_code": code})
    raw, signature = city.key.seal(envelope)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        city.client.post_raw(raw, signature)
    [applied] = netsim_db.log(envelope.id)
    assert applied["outcome"] == "applied"  # applied before the reply was lost
    # the retry of the same bytes gets the logged reply, the number is not generated twice
    retry = city.client.post_raw(raw, signature)
    reply = city.verified_reply(envelope, retry)
    assert reply.id == applied["reply_id"]  # the very reply that was lost
    assert reply.body["juminhyo_code"] == code
    assert netsim_db.count("mynumberassignment", "juminhyo_code = %s", code) == 1
    # and a resend under a new id with the same key gets the same number too
    again = city.ok("my_number.generate", {"juminhyo_code": code}, key=envelope.idempotency_key)
    assert again["my_number"] == reply.body["my_number"]


def test_a_delayed_answer_is_still_correct(city, jcode, faults):
    faults.faults({"delay_ms": 200, "delay_count": 1})
    assert city.ok("identity.update", identity(city, jcode(), 1)) == {"status": "applied"}
    assert faults.request("GET", "/v1/_faults").json()["delay_count"] == 0


def test_fault_specs_are_checked(faults):
    response = faults.request("POST", "/v1/_faults", b'{"explode": 1}')
    assert response.status == 400
    assert response.json()["code"] == "fault.invalid"


def test_sigterm_finishes_the_message_in_flight_and_exits_cleanly(
    netsim_server, tmp_path, make_city, jcode
):
    city = make_city()
    env = netsim_server.env
    second = NetsimProcess.start(
        tmp_path / "second",
        database_url=env["JUMIN_NETSIM_DATABASE_URL"],
        extra_env={"JUMIN_NETSIM_KEY_FILE": str(netsim_server.var_dir / "keys.json")},
        open_registration=False,
    )
    try:
        with Client(second.url) as control:
            control.faults({"delay_ms": 1500, "delay_count": 1})
            results = {}

            def send():
                with Client(second.url, city.key) as client:
                    envelope = city.envelope("identity.update", identity(city, jcode(), 1))
                    results["envelope"] = envelope
                    results["response"] = client.send(envelope)

            sender = threading.Thread(target=send)
            sender.start()
            while control.request("GET", "/v1/_faults").json()["delay_count"]:
                time.sleep(0.01)  # until the request has been taken (it is now in flight)
        exit_code = second.stop()
        sender.join(60)
    finally:
        second.stop()
    assert exit_code == 0, second.log_text()
    city.verified_reply(results["envelope"], results["response"])
    assert "停止しました" in second.log_text()


def test_registration_is_closed_unless_opened(tmp_path, netsim_server):
    closed = NetsimProcess.start(
        tmp_path / "closed",
        database_url=netsim_server.env["JUMIN_NETSIM_DATABASE_URL"],
        extra_env={"JUMIN_NETSIM_KEY_FILE": str(netsim_server.var_dir / "keys.json")},
        open_registration=False,
        faults=False,
    )
    try:
        from jumin.netproto.envelope import NodeKey

        from .conftest import new_municipality_code

        with Client(closed.url, NodeKey.generate(new_municipality_code())) as client:
            response = client.register("自己登録市")
            assert response.status == 403
            assert response.json()["code"] == "registration.closed"
            assert client.request("GET", "/v1/_faults").status == 404  # faults off
    finally:
        assert closed.stop() == 0
