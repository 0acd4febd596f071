"""The procedure screens generated from the input models: input → 確認 → 仮登録."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from jumin.audit.models import OperationLogEntry
from jumin.core.wareki import format_wareki_short
from jumin.register.models import Change, EditLock, Resident
from jumin.register.procedures import registry
from jumin.register.tests import factories as f
from jumin.web import procedure_forms as pf
from jumin.web.labels import FIELD_LABELS

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def _login(client, actor):
    client.force_login(actor.staff)
    if actor.terminal is not None:
        session = client.session
        session["terminal_id"] = actor.terminal.pk
        session.save()
    return actor


def _html(response) -> str:
    return response.content.decode()


def _field(html: str, path: str) -> str:
    """The <div class="field"> of one input, to check what sits beside it."""
    ident = "f-" + path.replace(".", "-")
    match = re.search(
        rf'<div class="field[^"]*">(?:(?!<div class="field).)*?id="{ident}".*?</div>', html, re.S
    )
    assert match, f"no field {path}"
    return match.group(0)


def _move_in_post(**overrides):
    data = {
        "_key": "k-" + str(overrides.pop("n", 1)),
        "_action": "check",
        "kind": "domestic",
        "occurred_on": "R" + str(TODAY.year - 2018) + f".{TODAY.month}.{TODAY.day}",
        "notified_on": TODAY.isoformat(),
        "address.address_code": f.ADDRESS_CODE,
        "address.banchi": "3丁目1番2号",
        "address.katagaki": "",
        "previous_address": "東京都千代田区霞が関二丁目1番2号",
        "certificate.municipality_code": "131016",
        "certificate.planned_on": "",
        "persons.0.family_name": "窓口",
        "persons.0.given_name": "一郎",
        "persons.0.name_kana": "マドグチ イチロウ",
        "persons.0.birth_date": "S55.4.1",
        "persons.0.sex": "1",
        "persons.0.relationship": "世帯主",
        "persons.0.resident_type": "japanese",
        "persons.1.family_name": "窓口",
        "persons.1.given_name": "花子",
        "persons.1.name_kana": "マドグチ ハナコ",
        "persons.1.birth_date": "1982-06-15",
        "persons.1.sex": "2",
        "persons.1.relationship": "妻",
        "persons.1.resident_type": "japanese",
    }
    data.update(overrides)
    return data


def test_every_field_of_every_procedure_has_a_japanese_label():
    # the screens are generated: a new field without a label would show English to a clerk
    missing = set()
    for spec in registry.all_specs().values():
        for path in pf.field_paths(pf.build(spec.input_model, None)):
            name = path.split(".")[-1]
            if not name.isdigit() and name not in FIELD_LABELS and name not in {"item", "value"}:
                missing.add(f"{spec.name}: {path}")
    assert not missing, sorted(missing)


def test_every_procedure_screen_renders(client):
    _login(client, f.clerk())
    for name in registry.names():
        response = client.get(f"/procedures/{name}/")
        assert response.status_code == 200, name
        html = _html(response)
        assert '<html lang="ja">' in html
        assert "確認へ進む" in html
        # every input has a label pointing at it
        for ident in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html):
            assert f'for="{ident}"' in html, (name, ident)


def test_index_lists_procedures_by_chapter(client):
    _login(client, f.clerk())
    html = _html(client.get("/procedures/?atena_no=0000000001"))
    assert "転入" in html and "世帯主変更" in html and "個人番号の職権記載" in html
    assert "/procedures/move_out/?atena_no=0000000001" in html


def test_move_in_input_confirm_and_save(client):
    # std 4.1.1 (j560): a family moves in through the screen; std 4.0.8 (j530) draft only
    clerk = _login(client, f.clerk())
    response = client.post("/procedures/move_in/", _move_in_post())
    html = _html(response)
    assert response.status_code == 200, html
    assert "（確認）" in html
    assert "窓口 一郎" in html and "窓口 花子" in html
    assert "昭和55年4月1日" in html  # the 和暦 typed was read and is shown as 和暦
    assert not Change.objects.exists()  # nothing saved by the confirmation
    payload = re.search(r'name="_payload" value="([^"]+)"', html).group(1)
    assert "窓口" not in payload  # sealed, not clear
    response = client.post(
        "/procedures/move_in/", {"_key": "k-1", "_action": "save", "_payload": payload}
    )
    assert response.status_code == 302
    change = Change.objects.get()
    assert change.status == Change.Status.DRAFT
    assert change.created_by == clerk.staff
    assert response["Location"].startswith(f"/changes/{change.pk}/")
    assert not Resident.objects.exists()  # a draft: invisible until reviewed
    # the same form posted again (double click, back button, second tab): no second draft
    again = client.post(
        "/procedures/move_in/", {"_key": "k-1", "_action": "save", "_payload": payload}
    )
    assert again.status_code == 302
    assert Change.objects.count() == 1


def test_bad_input_is_shown_beside_the_field_with_values_kept(client):
    _login(client, f.clerk())
    post = _move_in_post(
        **{
            "persons.0.birth_date": "R99.99.99",
            "persons.1.family_name": "",
            "persons.1.given_name": "",
            "persons.1.relationship": "",
            "address.address_code": "99999999999",
            "previous_address": "",
        }
    )
    response = client.post("/procedures/move_in/", post)
    html = _html(response)
    assert response.status_code == 422
    assert "入力内容に誤りがあります" in html
    birth = _field(html, "persons.0.birth_date")
    assert 'aria-invalid="true"' in birth and "R99.99.99" in birth
    assert "日付として読めません" in birth
    previous = _field(html, "previous_address")
    assert "「前住所」を入力してください" in previous
    # what the clerk typed elsewhere is kept
    assert 'value="マドグチ イチロウ"' in html
    assert not Change.objects.exists()


def test_planner_findings_land_beside_their_field(client):
    _login(client, f.clerk())
    response = client.post(
        "/procedures/move_in/", _move_in_post(**{"address.address_code": "14152999999"})
    )
    html = _html(response)
    assert response.status_code == 422
    assert "住所辞書にありません" in _field(html, "address.address_code")
    assert not Change.objects.exists()


def test_alerts_must_be_acknowledged_one_by_one(client):
    # std 11.1 (j1440): an alert needs an explicit, recorded acknowledgement
    _login(client, f.clerk())
    late = (TODAY - dt.timedelta(days=30)).isoformat()
    response = client.post("/procedures/move_in/", _move_in_post(occurred_on=late))
    html = _html(response)
    assert response.status_code == 200
    codes = re.findall(r'name="_ack" value="([^"]+)"', html)
    assert codes, "the late notification alert is offered for acknowledgement"
    payload = re.search(r'name="_payload" value="([^"]+)"', html).group(1)
    refused = client.post(
        "/procedures/move_in/", {"_key": "k-2", "_action": "save", "_payload": payload}
    )
    assert refused.status_code == 422
    assert "確認していないアラートがあります" in _html(refused)
    assert not Change.objects.exists()
    saved = client.post(
        "/procedures/move_in/",
        {"_key": "k-2", "_action": "save", "_payload": payload, "_ack": codes},
    )
    assert saved.status_code == 302
    assert sorted(Change.objects.get().acknowledged) == sorted(set(codes))


def test_tampered_confirmation_is_refused(client):
    _login(client, f.clerk())
    response = client.post(
        "/procedures/move_in/", {"_key": "k-3", "_action": "save", "_payload": "forged"}
    )
    assert response.status_code == 200
    assert "有効期限が切れたか" in _html(response)
    assert not Change.objects.exists()


def test_add_and_remove_rows_keep_values(client):
    _login(client, f.clerk())
    post = _move_in_post(_action="add:persons")
    html = _html(client.post("/procedures/move_in/", post))
    assert 'id="f-persons-2-family_name"' in html
    assert 'value="マドグチ ハナコ"' in html
    post = _move_in_post(_action="remove:persons.1")
    html = _html(client.post("/procedures/move_in/", post))
    assert 'id="f-persons-1-family_name"' not in html
    assert 'value="マドグチ イチロウ"' in html


def test_back_from_confirmation_keeps_values_but_not_a_my_number(client):
    actor = _login(client, f.clerk())
    _, (resident,) = f.committed_move_in()
    response = client.post(
        "/procedures/my_number_record/",
        {"_key": "m-1", "atena_no": resident.atena_no, "my_number": "1234 5678 9018"},
    )
    html = _html(response)
    assert "123456789018" not in html and "9018" not in html
    payload = re.search(r'name="_payload" value="([^"]+)"', html)
    if payload is None:  # the planner refused (check digit): the error names the field
        assert "個人番号" in html
        return
    back = client.post(
        "/procedures/my_number_record/",
        {"_key": "m-1", "_action": "back", "_payload": payload.group(1)},
    )
    assert "9018" not in _html(back)
    assert actor.staff is not None


def test_prefill_from_a_person_and_a_household(client):
    _login(client, f.clerk())
    _, members = f.family()
    head = members[0]
    html = _html(client.get(f"/procedures/move_out/?atena_no={head.atena_no}"))
    assert f'value="{head.atena_no}"' in html
    html = _html(client.get(f"/procedures/household_split/?household_no={head.household_no}"))
    for m in members:
        assert f'value="{m.atena_no}"' in html
    # a head change starts without relationships: they are re-derived from the new head
    html = _html(client.get(f"/procedures/head_change/?household_no={head.household_no}"))
    assert f'value="{head.household_no}"' in html and 'id="f-relationships-0-atena_no"' not in html


def test_confirmation_shows_before_and_after_and_logs_the_read(client):
    # std 4.1.2 (j600): 転居 — the confirmation shows what changes
    _login(client, f.clerk())
    _, (resident,) = f.committed_move_in()
    before = OperationLogEntry.objects.count()
    response = client.post(
        "/procedures/move_within/",
        {
            "_key": "w-1",
            "occurred_on": TODAY.isoformat(),
            "notified_on": TODAY.isoformat(),
            "address.address_code": f.OTHER_ADDRESS_CODE,
            "address.banchi": "5番地",
            "persons.0.atena_no": resident.atena_no,
        },
    )
    html = _html(response)
    assert response.status_code == 200, html
    assert 'class="changed"' in html and "5番地" in html
    assert OperationLogEntry.objects.filter(function="異動入力の確認").count() == 1
    assert OperationLogEntry.objects.count() > before


def test_a_person_locked_by_another_clerk_cannot_be_saved(client):
    # std 10.3: while one clerk edits a person, others can only read
    _, (resident,) = f.committed_move_in()
    holder = f.clerk()
    from jumin.register import services

    services.acquire_lock(holder, resident.atena_no)
    _login(client, f.clerk())
    html = _html(client.get(f"/procedures/move_out/?atena_no={resident.atena_no}"))
    assert "編集中" in html and holder.staff.name in html
    response = client.post(
        "/procedures/move_out/",
        {
            "_key": "o-1",
            "planned_on": TODAY.isoformat(),
            "notified_on": TODAY.isoformat(),
            "destination.kind": "domestic",
            "destination.address": "東京都新宿区西新宿二丁目8番1号",
            "persons.0": resident.atena_no,
        },
    )
    assert response.status_code == 422
    assert "編集中です" in _html(response)
    assert not Change.objects.filter(status=Change.Status.DRAFT).exists()


def test_lock_screen_takes_and_releases(client):
    actor = _login(client, f.clerk())
    _, (resident,) = f.committed_move_in()
    response = client.post(f"/locks/{resident.atena_no}/", {})
    assert response.status_code == 302
    assert EditLock.objects.get(atena_no=resident.atena_no).holder == actor.staff
    client.post(f"/locks/{resident.atena_no}/", {"_action": "release"})
    assert not EditLock.objects.filter(atena_no=resident.atena_no).exists()


def test_anonymous_is_sent_to_login_and_a_role_without_drafting_gets_403(client):
    response = client.get("/procedures/move_in/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    auditor = f.StaffFactory(roles=["auditor"])
    client.force_login(auditor)
    response = client.post("/procedures/move_in/", _move_in_post())
    assert response.status_code == 403
    assert "権限がありません" in _html(response)


def test_address_lookup_offers_dictionary_entries(client):
    _login(client, f.clerk())
    html = _html(client.get("/addresses/lookup/", {"address.address_code": "中央区中央"}))
    assert f'value="{f.ADDRESS_CODE}"' in html or "<option" in html
    assert "相模原市中央区中央" in html
    by_code = _html(client.get("/addresses/lookup/", {"q": f.ADDRESS_CODE[:9]}))
    assert f'value="{f.ADDRESS_CODE}"' in by_code
    assert _html(client.get("/addresses/lookup/", {"q": ""})).strip() == ""


def test_required_choices_have_no_silent_default(client):
    _login(client, f.clerk())
    html = _html(client.get("/procedures/move_in/"))
    sex = _field(html, "persons.0.sex")
    assert '<option value="" selected>（選択してください）</option>' in sex
    # 届出日 starts as today, in 和暦 like everything the clerk types
    assert f'value="{format_wareki_short(TODAY)}"' in _field(html, "notified_on")


def test_record_display_shows_codes_as_words():
    # the confirmation and review screens print the 消除事由 and 区分 in words, not codes
    from jumin.core.change_reasons import ChangeReason
    from jumin.web.record_display import summarise

    before = {"status": "resident", "removal_reason": "", "foreign_category": ""}
    after = {
        "status": "removed",
        "removal_reason": "domestic_move_out",
        "foreign_category": "special_permanent",
    }
    items = {i.name: i.after for i in summarise("0000000001", after, before).items}
    assert items["removal_reason"] == ChangeReason("domestic_move_out").label
    assert items["foreign_category"] == "特別永住者"
    assert items["status"] == "消除"
