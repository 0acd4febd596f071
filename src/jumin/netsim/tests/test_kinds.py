"""Every message kind's good path, against a running netsim (see conftest)."""

from __future__ import annotations

import datetime as dt

from jumin.core.identifiers import is_valid_my_number, validate_juminhyo_code
from jumin.netproto.envelope import Envelope, public_key, verify
from jumin.netproto.messages import MoveOutInfo
from jumin.netsim.client import Client

from .conftest import identity

MASK = "************"  # services.MASK (services imports the models: not importable here)


def test_identity_update_is_applied_and_answered_by_the_prefecture(city, jcode, netsim_db):
    # std 7.1.1.1 (j1090): 本人確認情報 sent to the prefecture server
    code = jcode()
    body = city.ok("identity.update", identity(city, code, 1, my_number="123456789018"))
    assert body == {"status": "applied"}
    record = netsim_db.rows("SELECT * FROM netsim_identityrecord WHERE juminhyo_code = %s", code)
    assert len(record) == 1
    assert record[0]["family_name"] == "山田"
    assert record[0]["municipality_code"] == city.code
    assert record[0]["my_number"] == "123456789018"  # the national file keeps it
    assert netsim_db.count("identityhistory", "juminhyo_code = %s", code) == 1


def test_the_log_masks_the_my_number(city, jcode, netsim_db):
    envelope, response = city.send(
        "identity.update", identity(city, jcode(), 1, my_number="023456789013")
    )
    city.verified_reply(envelope, response)
    [row] = netsim_db.log(envelope.id)
    assert row["outcome"] == "applied"
    assert row["direction"] == "in"
    assert row["kind"] == "identity.update"
    assert row["sender"] == city.code
    assert row["body"]["identity"]["my_number"] == MASK
    assert "023456789013" not in str(row["body"])
    assert row["reply"]["body"] == {"status": "applied"}


def test_identity_query_by_code_number_and_four_items(city, jcode):
    code = jcode()
    city.ok(
        "identity.update",
        identity(
            city,
            code,
            1,
            my_number="314159265352",
            family_name="照会",
            given_name="花子",
            name_kana="ショウカイ　ハナコ",
            birth_date="1991-02-03",
            sex="2",
        ),
    )
    by_code = city.ok("identity.query", {"purpose": "転入審査", "juminhyo_code": code})
    assert [m["juminhyo_code"] for m in by_code["matches"]] == [code]
    assert by_code["matches"][0]["my_number"] == "314159265352"
    assert by_code["truncated"] is False

    by_number = city.ok("identity.query", {"purpose": "本人確認", "my_number": "314159265352"})
    assert [m["juminhyo_code"] for m in by_number["matches"]] == [code]

    four = {"name_kana": "しょうかい はなこ", "birth_date": "1991-02-03", "sex": "2"}
    by_kana = city.ok("identity.query", {"purpose": "本人確認", "four_items": four})
    assert code in [m["juminhyo_code"] for m in by_kana["matches"]]

    by_name = city.ok(
        "identity.query",
        {"purpose": "本人確認", "four_items": {"name": "照会 花子", "birth_date": "1991-02-03"}},
    )
    assert code in [m["juminhyo_code"] for m in by_name["matches"]]

    other_sex = dict(four, sex="1")
    none = city.ok("identity.query", {"purpose": "本人確認", "four_items": other_sex})
    assert code not in [m["juminhyo_code"] for m in none["matches"]]


def test_identity_query_returns_at_most_twenty_and_says_so(city, jcode):
    for _ in range(21):
        city.ok(
            "identity.update",
            identity(city, jcode(), 1, name_kana="ドウセイ　ドウメイ", birth_date="1970-07-07"),
        )
    result = city.ok(
        "identity.query",
        {
            "purpose": "同姓同名の確認",
            "four_items": {"name_kana": "ドウセイ ドウメイ", "birth_date": "1970-07-07"},
        },
    )
    assert len(result["matches"]) == 20
    assert result["truncated"] is True


def test_codes_request_hands_out_unique_valid_codes(city, make_city, netsim_db):
    # std 7.1.1.1 (j1090): 住民票コード空きコード received from 住基ネット
    first = city.ok("codes.request", {"count": 5})["codes"]
    second = make_city("別市").ok("codes.request", {"count": 5})["codes"]
    assert len(set(first) | set(second)) == 10
    for code in first + second:
        assert validate_juminhyo_code(code) == code
    issued = netsim_db.rows(
        "SELECT code, municipality_code FROM netsim_issuedcode WHERE municipality_code = %s",
        city.code,
    )
    assert sorted(row["code"] for row in issued) == sorted(first)


def test_my_number_generate_is_valid_and_idempotent_per_code(city, jcode):
    # std 7.1.2.1 (j1130): 個人番号の生成要求
    code = jcode()
    first = city.ok("my_number.generate", {"juminhyo_code": code})
    assert first["juminhyo_code"] == code
    assert is_valid_my_number(first["my_number"])
    again = city.ok("my_number.generate", {"juminhyo_code": code})  # a new idempotency key
    assert again["my_number"] == first["my_number"]
    other = city.ok("my_number.generate", {"juminhyo_code": jcode()})
    assert other["my_number"] != first["my_number"]


def test_my_number_change_gives_a_new_number_and_retires_the_old(city, jcode, netsim_db):
    # std 7.1.2.1 (j1130): 個人番号の変更要求
    code = jcode()
    old = city.ok("my_number.generate", {"juminhyo_code": code})["my_number"]
    city.ok("identity.update", identity(city, code, 1, my_number=old))
    new = city.ok("my_number.change", {"juminhyo_code": code, "reason": "request"})["my_number"]
    assert new != old
    assert is_valid_my_number(new)
    rows = netsim_db.rows(
        "SELECT my_number, active, reason FROM netsim_mynumberassignment "
        "WHERE juminhyo_code = %s ORDER BY id",
        code,
    )
    assert [(r["my_number"], bool(r["active"]), r["reason"]) for r in rows] == [
        (old, False, "generate"),
        (new, True, "request"),
    ]
    assert city.ok("my_number.generate", {"juminhyo_code": code})["my_number"] == new
    assert city.ok("identity.query", {"purpose": "確認", "my_number": old})["matches"] == []
    found = city.ok("identity.query", {"purpose": "確認", "my_number": new})["matches"]
    assert [m["juminhyo_code"] for m in found] == [code]


def test_my_number_change_without_a_number_is_refused(city, jcode):
    error = city.refused("my_number.change", {"juminhyo_code": jcode(), "reason": "ex_officio"})
    assert error["code"] == "my_number.none"
    assert "生成要求" in error["message"]


def test_mailing_info_is_recorded(city, jcode, netsim_db):
    code = jcode()
    body = {
        "juminhyo_code": code,
        "name": "山田　太郎",
        "name_kana": "ヤマダ　タロウ",
        "postal_code": "2525277",
        "address": "神奈川県相模原市中央区中央2丁目11番15号",
        "household_head": "山田　太郎",
    }
    assert city.ok("mailing.info", body) == {"accepted": True}
    [row] = netsim_db.rows("SELECT * FROM netsim_mailingrecord WHERE juminhyo_code = %s", code)
    assert row["municipality_code"] == city.code
    assert row["postal_code"] == "2525277"


def _move_out(city, codes, *, certificate_id, to=None):
    return {
        "certificate_id": certificate_id,
        "from_municipality": city.code,
        "to_municipality": to,
        "previous_address": "神奈川県相模原市中央区中央2丁目11番15号",
        "planned_on": dt.date(2026, 12, 1).isoformat(),
        "destination_address": "東京都千代田区千代田1番1号",
        "persons": [
            {
                "juminhyo_code": code,
                "my_number": "123456789018" if i == 0 else None,
                "family_name": "転出",
                "given_name": f"者{i}",
                "name_kana": "テンシュツ　シャ",
                "birth_date": "1985-05-05",
                "sex": "1",
                "relationship": "世帯主" if i == 0 else "子",
            }
            for i, code in enumerate(codes)
        ],
    }


def _verified_items(client_for_keys, items):
    """Check each relayed envelope against its origin city's key (GET /v1/nodes/<code>)."""
    envelopes = []
    for item in items:
        raw = Envelope(**item["envelope"]).to_bytes()
        origin = client_for_keys.node(item["envelope"]["sender"]).json()["public_key"]
        verify(raw, item["signature"], public_key(origin))
        envelopes.append(Envelope.parse(raw))
    return envelopes


def test_card_move_out_is_relayed_to_the_new_city_and_fetchable(make_city, jcode, netsim_db):
    # std 4.1.3.0.4 (j670): 特例転入を利用した転出 — 転出証明書情報 sent through the CS
    old, new = make_city("旧市"), make_city("新市", prefecture="13")
    family = [jcode(), jcode()]
    info = _move_out(old, family, certificate_id="T-0001", to=new.code)
    assert old.ok("move_out.info", info) == {"accepted": True}

    mailbox = new.ok("mailbox.fetch", {"after": 0})
    [relayed] = _verified_items(new.client, mailbox["items"])
    assert relayed.kind == "move_out.info"
    assert relayed.sender == old.code
    assert relayed.body["certificate_id"] == "T-0001"
    assert mailbox["last"] == mailbox["items"][0]["seq"]

    fetched = new.ok("move_out.fetch", {"juminhyo_code": family[1]})
    assert fetched["found"] is True
    assert MoveOutInfo.model_validate(fetched["info"]) == MoveOutInfo.model_validate(info)
    assert netsim_db.count("messagelog", "direction = 'out' AND recipient = %s", new.code) == 1


def test_move_out_without_destination_is_held_for_fetch(make_city, jcode):
    old, new = make_city("旧市"), make_city("新市")
    code = jcode()
    old.ok("move_out.info", _move_out(old, [code], certificate_id="T-0002"))
    assert new.ok("mailbox.fetch", {"after": 0})["items"] == []
    assert new.ok("move_out.fetch", {"juminhyo_code": code})["found"] is True
    assert new.ok("move_out.fetch", {"juminhyo_code": jcode()}) == {"found": False, "info": None}


def test_move_in_notice_is_relayed_to_the_old_city(make_city, jcode, netsim_db):
    # std 4.1.3.1.2 (j690): 転入通知 received from the CS by the old city
    old, new = make_city("旧市"), make_city("新市")
    code = jcode()
    old.ok("move_out.info", _move_out(old, [code], certificate_id="T-0003", to=new.code))
    notice = {
        "to_municipality": old.code,
        "from_municipality": new.code,
        "juminhyo_code": code,
        "certificate_id": "T-0003",
        "moved_in_on": "2026-12-01",
        "new_address": "東京都千代田区千代田1番1号",
        "notified_on": "2026-12-03",
    }
    assert new.ok("move_in.notice", notice) == {"accepted": True}
    items = old.ok("mailbox.fetch", {"after": 0})["items"]
    [relayed] = _verified_items(old.client, items)
    assert relayed.kind == "move_in.notice"
    assert relayed.sender == new.code
    assert relayed.body == notice
    consumed = netsim_db.value(
        "SELECT consumed_by FROM netsim_moveoutcertificate "
        "WHERE from_municipality = %s AND certificate_id = %s",
        old.code,
        "T-0003",
    )
    assert consumed == new.code


def test_move_in_notice_on_the_paper_path_needs_no_certificate_information(make_city, jcode):
    # std 4.1.3.1.1 (j680): 転入通知 after a paper 転出証明書
    old, new = make_city("旧市"), make_city("新市")
    notice = {
        "to_municipality": old.code,
        "from_municipality": new.code,
        "juminhyo_code": jcode(),
        "certificate_id": "",
        "moved_in_on": "2026-12-01",
        "new_address": "東京都千代田区千代田1番1号",
        "notified_on": "2026-12-03",
    }
    assert new.ok("move_in.notice", notice) == {"accepted": True}
    assert len(old.ok("mailbox.fetch", {"after": 0})["items"]) == 1


def test_move_in_notice_for_an_unknown_certificate_is_refused(make_city, jcode, netsim_db):
    # issue 7: a move-in referring to an unknown move-out certificate is refused, explained
    old, new = make_city("旧市"), make_city("新市")
    notice = {
        "to_municipality": old.code,
        "from_municipality": new.code,
        "juminhyo_code": jcode(),
        "certificate_id": "NO-SUCH",
        "moved_in_on": "2026-12-01",
        "new_address": "東京都千代田区千代田1番1号",
        "notified_on": "2026-12-03",
    }
    envelope, response = new.send("move_in.notice", notice)
    reply = new.verified_reply(envelope, response)
    assert reply.kind == "error"
    assert reply.body["code"] == "move_in.certificate_unknown"
    assert "NO-SUCH" in reply.body["message"]
    assert "証明書番号" in reply.body["message"]
    assert old.ok("mailbox.fetch", {"after": 0})["items"] == []  # nothing relayed
    [row] = netsim_db.log(envelope.id)
    assert row["outcome"] == "refused"
    assert row["error_code"] == "move_in.certificate_unknown"


def test_move_in_notice_for_someone_not_on_the_certificate_is_refused(make_city, jcode):
    old, new = make_city("旧市"), make_city("新市")
    old.ok("move_out.info", _move_out(old, [jcode()], certificate_id="T-0004"))
    error = new.refused(
        "move_in.notice",
        {
            "to_municipality": old.code,
            "from_municipality": new.code,
            "juminhyo_code": jcode(),
            "certificate_id": "T-0004",
            "moved_in_on": "2026-12-01",
            "new_address": "東京都千代田区千代田1番1号",
            "notified_on": "2026-12-03",
        },
    )
    assert error["code"] == "move_in.person_not_on_certificate"


def test_mailbox_pages_with_after_and_limit(make_city, jcode):
    old, new = make_city("旧市"), make_city("新市")
    for _ in range(3):
        new.ok(
            "move_in.notice",
            {
                "to_municipality": old.code,
                "from_municipality": new.code,
                "juminhyo_code": jcode(),
                "certificate_id": "",
                "moved_in_on": "2026-12-01",
                "new_address": "東京都千代田区千代田1番1号",
                "notified_on": "2026-12-03",
            },
        )
    page = old.ok("mailbox.fetch", {"after": 0, "limit": 2})
    assert [item["seq"] for item in page["items"]] == [1, 2]
    assert page["last"] == 2
    rest = old.ok("mailbox.fetch", {"after": page["last"], "limit": 2})
    assert [item["seq"] for item in rest["items"]] == [3]
    empty = old.ok("mailbox.fetch", {"after": 3})
    assert empty == {"items": [], "last": 3}


def test_a_city_only_reads_its_own_mailbox(make_city, jcode):
    old, new, third = make_city("旧市"), make_city("新市"), make_city("第三市")
    new.ok(
        "move_in.notice",
        {
            "to_municipality": old.code,
            "from_municipality": new.code,
            "juminhyo_code": jcode(),
            "certificate_id": "",
            "moved_in_on": "2026-12-01",
            "new_address": "東京都千代田区千代田1番1号",
            "notified_on": "2026-12-03",
        },
    )
    assert third.ok("mailbox.fetch", {"after": 0})["items"] == []


def test_nodes_and_health_are_public(netsim_server, city):
    with Client(netsim_server.url) as anonymous:
        health = anonymous.health()
        assert health.status == 200
        assert health.json()["status"] == "ok"
        node = anonymous.node(city.code).json()
        assert node == {
            "code": city.code,
            "name": "試験市",
            "kind": "city",
            "public_key": city.key.public_b64,
            "active": True,
        }
        missing = anonymous.node("999999")
        assert missing.status == 404
        assert missing.json()["code"] == "node.unknown"
