"""特例転入: on the 転入 screen the clerk fetches the 転出証明書情報 over the 住基ネット
(``move_out.fetch``) and the form is filled (std 4.1.1 j560…, 4.1.3.0.4 j670; issue 7:
a move-in referring to an unknown move-out certificate is refused with an explanation).
The national side is the CS tests' fake netsim, answering ``move_out.fetch`` here."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry
from jumin.jukinet import inbound
from jumin.jukinet.models import SentMessage
from jumin.jukinet.tests.conftest import cs_env, fake, new_code, new_my_number  # noqa: F401
from jumin.jukinet.twocities import form_values
from jumin.register.crypto import reveal_my_number
from jumin.register.models import Change, EncryptedMyNumber
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/procedures/move_in/"
OLD = "131016"
TODAY = dt.date.today()


def _person(code: str, number: str, given: str, kana: str, relationship: str, sex: str = "1"):
    return {
        "juminhyo_code": code,
        "my_number": number,
        "family_name": "千代田",
        "given_name": given,
        "name_kana": f"チヨダ {kana}",
        "birth_date": "1980-04-01",
        "sex": sex,
        "relationship": relationship,
        "head_name": "千代田 太郎",
        "honseki": "東京都千代田区千代田1番",
        "koseki_head": "千代田 太郎",
        "resident_type": "japanese",
    }


@pytest.fixture
def certificates(fake, monkeypatch):  # noqa: F811
    """Two persons' 転出証明書情報 held by the fake J-LIS (one certificate each, as the old
    city's CS sends them), answered to ``move_out.fetch``."""
    people = [
        _person(new_code(), new_my_number(), "太郎", "タロウ", "世帯主"),
        _person(new_code(), new_my_number(), "花子", "ハナコ", "妻", sex="2"),
    ]
    held = {
        p["juminhyo_code"]: {
            "certificate_id": f"{OLD}-9-{i}",
            "from_municipality": OLD,
            "to_municipality": "141500",
            "previous_address": "東京都千代田区霞が関一丁目1番1号",
            "planned_on": TODAY.isoformat(),
            "destination_address": "神奈川県相模原市中央区",
            "persons": [p],
        }
        for i, p in enumerate(people)
    }
    answer = fake._result

    def result(envelope: Any, body: Any) -> dict[str, Any]:
        if envelope.kind == "move_out.fetch":
            info = held.get(body.juminhyo_code)
            return {"found": info is not None, "info": info}
        return answer(envelope, body)

    monkeypatch.setattr(fake, "_result", result)
    return people


@pytest.fixture
def clerk(client):
    client.force_login(StaffFactory(roles=["counter_clerk"]))
    return client


def _fetch(client, codes: str, origin: str = OLD, **typed: str):
    data = {"_key": "k-fetch", "_action": "fetch", "_cs_codes": codes, "_cs_from": origin}
    data.update(typed)
    return client.post(URL, data)


def test_fetch_fills_the_form_and_the_confirmation_names_the_source(clerk, certificates):
    # std 4.1.1 (特例転入) / 4.1.3.0.4 (j670): the 転出証明書情報 comes from the CS
    codes = " ".join(p["juminhyo_code"] for p in certificates)
    response = _fetch(clerk, codes, **{"notified_on": TODAY.isoformat(), "address.banchi": "1番"})
    html = response.content.decode()
    assert response.status_code == 200, html
    assert "転出証明書情報を取得し、入力欄に反映しました" in html
    values = form_values(html, URL)
    assert values["kind"] == "card"
    assert values["previous_address"] == "東京都千代田区霞が関一丁目1番1号"
    assert values["certificate.municipality_code"] == OLD
    assert values["persons.0.given_name"] == "太郎" and values["persons.1.given_name"] == "花子"
    assert values["persons.1.juminhyo_code"] == certificates[1]["juminhyo_code"]
    # the 個人番号 are carried sealed for the register, never shown in the page
    assert values["persons.0.my_number"] == "" and values["persons.1.my_number"] == ""
    assert all(p["my_number"] not in html for p in certificates)
    assert values["address.banchi"] == "1番"  # what the clerk typed stays
    assert values["_cs_source"]  # the sealed record of the fetch
    sent = SentMessage.objects.filter(kind="move_out.fetch")
    assert sent.count() == 2 and {s.purpose for s in sent} == {inbound.FETCH_MOVE_OUT_PURPOSE}
    assert OperationLogEntry.objects.filter(detail__kind="move_out.fetch").exists()
    # a mistake on the way keeps the record of the fetch with the form
    wrong = clerk.post(URL, {**values, "_action": "check", "address.address_code": "1"})
    page = wrong.content.decode()
    assert wrong.status_code == 422 and "住基ネットから取得した転出証明書情報による入力です" in page
    assert form_values(page, URL)["_cs_source"] == values["_cs_source"]
    # the clerk completes the address and dates, goes to the confirmation, then saves
    values.update(
        {
            "_action": "check",
            "occurred_on": TODAY.isoformat(),
            "address.address_code": f.ADDRESS_CODE,
        }
    )
    confirm = clerk.post(URL, values)
    page = confirm.content.decode()
    assert confirm.status_code == 200, page
    assert "（確認）" in page and "住基ネット（CS）から取得した転出証明書情報による入力" in page
    assert f"{OLD}-9-0" in page
    final = form_values(page, URL)
    final["_action"] = "save"
    acks = re.findall(r'name="_ack" value="([^"]+)"', page)
    saved = clerk.post(URL, {**final, "_ack": acks})
    assert saved.status_code == 302, saved.content.decode()
    change = Change.objects.get(procedure="move_in")
    assert change.payload["summary"]["kind"] == "card"
    codes_saved = {p["after"]["juminhyo_code"] for p in change.payload["persons"]}
    assert codes_saved == {p["juminhyo_code"] for p in certificates}
    # the fetched 個人番号 reached the register (encrypted), each with its own person
    for saved in change.payload["persons"]:
        number = next(
            p["my_number"]
            for p in certificates
            if p["juminhyo_code"] == saved["after"]["juminhyo_code"]
        )
        stored = EncryptedMyNumber.objects.get(pk=saved["after"]["my_number_id"])
        assert reveal_my_number(stored) == number
    assert [m["destination"] for m in change.payload["messages"]] == [OLD, OLD]


def test_unknown_certificate_is_refused_with_an_explanation_and_the_form_kept(clerk, certificates):
    # issue 7 bad input: a move-in referring to an unknown move-out certificate is refused
    unknown = new_code()
    response = _fetch(clerk, unknown, **{"address.banchi": "2番", "previous_address": "手入力"})
    html = response.content.decode()
    assert response.status_code == 422
    assert f"次の住民票コードの転出証明書情報は住基ネットにありません: {unknown}" in html
    assert "転出証明書（紙）" in html
    values = form_values(html, URL)
    assert values["address.banchi"] == "2番" and values["previous_address"] == "手入力"
    assert values["_cs_codes"] == unknown and "_cs_source" not in values
    assert not Change.objects.exists()


def test_certificate_from_another_municipality_and_bad_codes_are_explained(clerk, certificates):
    code = certificates[0]["juminhyo_code"]
    html = _fetch(clerk, code, origin="141003").content.decode()
    assert f"転出元 {OLD} から送られたもの" in html and "入力された転出元は 141003" in html
    sent = SentMessage.objects.filter(kind="move_out.fetch").count()
    bad = _fetch(clerk, "123").content.decode()
    assert "住民票コード「123」が正しくありません" in bad
    assert SentMessage.objects.filter(kind="move_out.fetch").count() == sent  # nothing sent


def test_netsim_down_gives_a_clear_message_and_keeps_the_form(clerk, certificates, fake):  # noqa: F811
    fake.faults.append("503")
    response = _fetch(clerk, certificates[0]["juminhyo_code"], **{"address.banchi": "3番"})
    html = response.content.decode()
    assert response.status_code == 503
    assert "転出証明書情報を取得できません" in html and "入力内容はそのまま" in html
    assert form_values(html, URL)["address.banchi"] == "3番"


def test_the_fetch_needs_the_draft_permission(client, certificates):
    client.force_login(StaffFactory(roles=["auditor"]))
    response = _fetch(client, certificates[0]["juminhyo_code"])
    assert response.status_code == 403
    assert not SentMessage.objects.filter(kind="move_out.fetch").exists()
