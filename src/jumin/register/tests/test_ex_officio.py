"""職権 procedures (std 4.2, j750–j860): 出生, 死亡, 失踪, 職権記載, 職権消除, 職権修正,
軽微な修正, 誤記修正 — each through draft → commit, and each error and alert."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from jumin.core.findings import FindingsError
from jumin.outbox.models import OutboxMessage
from jumin.register import crypto, services
from jumin.register.models import Change, Resident, ResidentHistory
from jumin.register.procedures import ex_officio as xo
from jumin.register.procedures import move_in
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


def _codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def _fields(exc: pytest.ExceptionInfo[FindingsError]) -> dict[str, str]:
    return {x.code: x.field for x in exc.value.findings}


def _commit(change: Change) -> Change:
    return services.commit_change(f.reviewer(), change.pk)


def _fresh(resident: Resident) -> Resident:
    return Resident.objects.get(atena_no=resident.atena_no)


def _refused(submit, data, *, acknowledged=()) -> pytest.ExceptionInfo[FindingsError]:
    before = Change.objects.count()
    with pytest.raises(FindingsError) as exc:
        submit(f.clerk(), data, acknowledged=acknowledged)
    assert Change.objects.count() == before  # nothing written
    return exc


def _resident_since(day: dt.date, **person: Any) -> Resident:
    """A one-person household that moved in on ``day`` (notified in time)."""
    data = f.move_in_input(
        f.person(**person),
        occurred_on=day,
        notified_on=day + dt.timedelta(days=2),
        certificate={"municipality_code": "131016", "planned_on": day},
    )
    change = move_in.submit(f.clerk(), data, acknowledged=["duplicate.person"])
    _commit(change)
    return Resident.objects.get(atena_no=change.payload["persons"][0]["atena_no"])


def _single_household() -> tuple[Resident, Resident]:
    _, (head, wife) = f.committed_move_in(
        f.person(name_kana="ヤマダ タロウ", family_name="山田", given_name="太郎"),
        f.person(
            name_kana="ヤマダ ハナコ",
            family_name="山田",
            given_name="花子",
            relationship="妻",
            sex="2",
            birth_date="1985-02-02",
        ),
    )
    return head, wife


# --- 出生 -------------------------------------------------------------------------------


def birth(household_no: str, **overrides: Any) -> xo.BirthInput:
    data: dict[str, Any] = {
        "household_no": household_no,
        "family_name": "相模",
        "given_name": "次郎",
        "name_kana": "サガミ ジロウ",
        "birth_date": (TODAY - dt.timedelta(days=5)).isoformat(),
        "sex": "1",
        "honseki": "神奈川県相模原市中央区中央二丁目",
        "koseki_head": "相模 太郎",
    }
    data.update(overrides)
    return xo.BirthInput.model_validate(data)


def test_birth_joins_the_household_with_its_address():
    # std 4.2.1.2 (j810): change reason 出生; std 4.2.0.3 (j770): 戸籍の表示 quoted from a member;
    # std 4.2.1.1 (j800): no previous address for a birth; std 4.2.0.4 (j780): notice date
    # defaults to the processing day
    _, (head, wife, *_) = f.family()
    born_on = TODAY - dt.timedelta(days=5)
    change = xo.submit_birth(
        f.clerk(),
        birth(head.household_no, honseki="", koseki_head="", koseki_from_atena_no=head.atena_no),
    )
    assert change.change_reason == "birth"
    assert change.occurred_on == born_on
    assert change.notified_on == TODAY
    assert change.payload["summary"]["basis"] == "koseki_filing"
    atena = change.payload["persons"][0]["atena_no"]
    assert not Resident.objects.filter(atena_no=atena).exists()  # draft only
    _commit(change)
    child = Resident.objects.get(atena_no=atena)
    assert child.status == "resident"
    assert child.household_no == head.household_no
    assert child.relationship == "子"
    assert (child.address, child.address_code, child.katagaki) == (
        head.address,
        head.address_code,
        head.katagaki,
    )
    assert child.head_name == head.name
    assert child.became_resident_on == child.address_set_on == child.birth_date == born_on
    assert child.previous_address == ""
    assert child.notified_on == TODAY
    assert (child.honseki, child.koseki_head) == (head.honseki, head.koseki_head)
    history = ResidentHistory.objects.get(atena_no=atena)
    assert (history.history_no, history.change_reason) == (1, "birth")
    assert ResidentHistory.objects.filter(atena_no=wife.atena_no).count() == 1  # untouched
    assert OutboxMessage.objects.filter(ordering_key=atena, topic="identity_info").count() == 1


def test_birth_with_an_uncertain_date():
    # std 1.1.8 (j80): uncertain birth dates are stored with a sortable date
    _, (head, *_) = f.family()
    change = _commit(
        xo.submit_birth(f.clerk(), birth(head.household_no, birth_date="令和5年 月日不詳"))
    )
    child = Resident.objects.get(atena_no=change.payload["persons"][0]["atena_no"])
    assert child.birth_date == dt.date(2023, 1, 1)
    assert child.birth_date_text.startswith("unknown_month_day|R|5")
    assert child.became_resident_on == dt.date(2023, 1, 1)
    assert change.payload["summary"]["birth_date_text"] == "令和5年 月日不詳"


def test_birth_of_a_foreign_child():
    # 法第30条の45: a foreign child born here is an 出生による経過滞在者
    _, (head, *_) = f.family()
    data = birth(
        head.household_no,
        resident_type="foreign",
        family_name="",
        given_name="",
        name_alphabet="SMITH JOHN",
        name_kana="スミス ジョン",
        honseki="",
        koseki_head="",
        nationality="アメリカ合衆国",
    )
    change = _commit(xo.submit_birth(f.clerk(), data))
    child = Resident.objects.get(atena_no=change.payload["persons"][0]["atena_no"])
    assert child.resident_type == "foreign"
    assert child.foreign_category == "transitional"
    assert child.became_foreign_resident_on == child.birth_date
    assert child.became_resident_on is None


def test_birth_errors():
    _, (head, *_) = f.family()
    hh = head.household_no
    # std 11.1 (j1440): a birth date after today is impossible
    exc = _refused(
        xo.submit_birth, birth(hh, birth_date=(TODAY + dt.timedelta(days=1)).isoformat())
    )
    assert [x.code for x in exc.value.findings] == ["birth_date.future"]
    exc = _refused(xo.submit_birth, birth(hh, birth_date="2月30日頃に"))
    assert _fields(exc) == {"wareki.unparseable": "birth_date"}
    exc = _refused(xo.submit_birth, birth("9999999999"))
    assert "household.unknown" in _codes(exc)
    # std 4.2.0.4 (j780): the notice date is not after today nor before the birth
    exc = _refused(xo.submit_birth, birth(hh, notified_on=TODAY + dt.timedelta(days=1)))
    assert _codes(exc) == {"notified_on.future"}
    exc = _refused(xo.submit_birth, birth(hh, notified_on=TODAY - dt.timedelta(days=6)))
    assert _codes(exc) == {"notified_on.before_occurred"}
    # std 1.1.11 (j110): relationship grammar; std 1.1.10: one head
    exc = _refused(xo.submit_birth, birth(hh, relationship="長男"))
    assert _fields(exc) == {"relationship.forbidden": "relationship"}
    exc = _refused(xo.submit_birth, birth(hh, relationship="世帯主"))
    assert _codes(exc) == {"household.two_heads"}
    # std 4.2.0.3 (j770): quote from a member of this household, or type it, not both
    exc = _refused(xo.submit_birth, birth(hh, koseki_from_atena_no=head.atena_no))
    assert _codes(exc) == {"birth.koseki_twice"}
    exc = _refused(
        xo.submit_birth,
        birth(hh, honseki="", koseki_head="", koseki_from_atena_no="0000000000"),
    )
    assert "birth.koseki_source_unknown" in _codes(exc)
    exc = _refused(xo.submit_birth, birth(hh, name_kana="sagami"))
    assert _fields(exc) == {"name_kana.script": "name_kana"}
    exc = _refused(
        xo.submit_birth,
        birth(hh, resident_type="foreign", name_alphabet="SMITH JOHN", nationality=""),
    )
    assert _codes(exc) == {"honseki.foreign", "nationality.empty"}
    with pytest.raises(ValidationError):
        birth(hh, basis="investigation")  # a birth rests on a 戸籍届出 or 戸籍通知


def test_birth_alerts():
    _, (head, _, son, _) = f.family()
    hh = head.household_no
    exc = _refused(xo.submit_birth, birth(hh, honseki="", koseki_head=""))
    assert _codes(exc) == {"birth.koseki_empty"}
    # duplicate check: the same reading, birth date and sex as a recorded person
    twin = birth(hh, given_name="一郎", name_kana=son.name_kana, birth_date="2010-01-20")
    exc = _refused(xo.submit_birth, twin)
    assert _codes(exc) == {"duplicate.person"}
    change = xo.submit_birth(f.clerk(), twin, acknowledged=["duplicate.person"])
    assert change.acknowledged == ["duplicate.person"]


# --- 死亡 -------------------------------------------------------------------------------


def death(atena_no: str, **overrides: Any) -> xo.DeathInput:
    data: dict[str, Any] = {
        "atena_no": atena_no,
        "death_date": (TODAY - dt.timedelta(days=1)).isoformat(),
    }
    data.update(overrides)
    return xo.DeathInput.model_validate(data)


def test_death_of_the_head_with_several_members_left():
    # std 4.2.2.1 (j820): change reason 死亡; std 4.0.4 (j490): the head leaving two or more
    # members asks for a 世帯主変更 (one alert, not two)
    _, (head, wife, son, daughter) = f.family()
    exc = _refused(xo.submit_death, death(head.atena_no))
    assert _codes(exc) == {"household.head_leaves"}
    change = xo.submit_death(
        f.clerk(), death(head.atena_no), acknowledged=["household.head_leaves"]
    )
    assert [p["atena_no"] for p in change.payload["persons"]] == [head.atena_no]
    _commit(change)
    dead = _fresh(head)
    assert dead.status == "removed"
    assert dead.removal_reason == "death"
    assert dead.removed_on == TODAY - dt.timedelta(days=1)
    # 除票: household and address as of removal
    assert (dead.household_no, dead.address, dead.relationship) == (
        head.household_no,
        head.address,
        "世帯主",
    )
    rows = ResidentHistory.objects.filter(atena_no=head.atena_no).order_by("history_no")
    assert [(r.history_no, r.change_reason, r.status) for r in rows] == [
        (1, "domestic_move_in", "resident"),
        (2, "death", "removed"),
    ]
    for other in (wife, son, daughter):
        assert _fresh(other).history_no == 1


def test_death_of_the_head_makes_the_only_member_head():
    # std 4.0.4 (j490): one remaining member becomes head ex officio
    head, wife = _single_household()
    exc = _refused(xo.submit_death, death(head.atena_no))
    assert _codes(exc) == {"household.single_member_becomes_head"}
    change = xo.submit_death(
        f.clerk(), death(head.atena_no), acknowledged=["household.single_member_becomes_head"]
    )
    assert change.payload["summary"]["new_head"] == wife.atena_no
    _commit(change)
    wife = _fresh(wife)
    assert (wife.relationship, wife.head_name, wife.history_no) == ("世帯主", wife.name, 2)
    assert (
        ResidentHistory.objects.get(atena_no=wife.atena_no, history_no=2).change_reason == "death"
    )


def test_death_of_a_member_and_an_uncertain_date():
    # std 1.1.8 (j80): an uncertain date of death; the sortable date goes to removed_on
    # and the text to the record's 備考 and the change's summary
    person = _resident_since(dt.date(2015, 4, 1))
    change = xo.submit_death(
        f.clerk(), death(person.atena_no, death_date="令和5年4月頃", basis="koseki_notice")
    )
    assert change.occurred_on == dt.date(2023, 4, 1)
    summary = change.payload["summary"]
    assert summary["occurred_on_text"] == "令和5年4月頃"
    assert summary["basis_label"] == "戸籍通知（法第9条第2項）"
    _commit(change)
    dead = _fresh(person)
    assert dead.removed_on == dt.date(2023, 4, 1)
    assert "死亡日：令和5年4月頃" in dead.remarks


def test_death_errors_and_alerts():
    _, (_, _, son, _) = f.family()
    exc = _refused(
        xo.submit_death, death(son.atena_no, death_date=(TODAY + dt.timedelta(days=2)).isoformat())
    )
    assert _codes(exc) == {"death_date.future"}
    exc = _refused(xo.submit_death, death(son.atena_no, death_date="2009-12-31"))
    assert _codes(exc) == {"occurred_on.before_birth"}
    exc = _refused(xo.submit_death, death(son.atena_no, notified_on=TODAY - dt.timedelta(days=2)))
    assert _codes(exc) == {"notified_on.before_occurred"}
    exc = _refused(xo.submit_death, death("0000000000"))
    assert _codes(exc) == {"atena_no.not_resident"}
    exc = _refused(xo.submit_death, death(son.atena_no, death_date="平成元年"))
    assert "wareki.unparseable" in _codes(exc)
    # the family moved in three days ago: a death a year ago contradicts the record
    exc = _refused(
        xo.submit_death,
        death(son.atena_no, death_date=(TODAY - dt.timedelta(days=365)).isoformat()),
    )
    assert _codes(exc) == {"occurred_on.before_address_set"}
    # a removed person cannot die twice
    _commit(xo.submit_death(f.clerk(), death(son.atena_no)))
    exc = _refused(xo.submit_death, death(son.atena_no))
    assert _codes(exc) == {"atena_no.not_resident"}


# --- 失踪 -------------------------------------------------------------------------------


def disappearance(atena_no: str, **overrides: Any) -> xo.DisappearanceInput:
    data: dict[str, Any] = {
        "atena_no": atena_no,
        "deemed_dead_on": "2024-03-31",
        "judgment_final_on": TODAY - dt.timedelta(days=20),
    }
    data.update(overrides)
    return xo.DisappearanceInput.model_validate(data)


def test_disappearance_is_an_ex_officio_removal():
    # std 4.2.2.2 (j830): removed on the 本籍地's notice with the reason 職権消除 (std 1.2.2
    # has no 失踪 reason); removed as of the day the person is deemed dead
    person = _resident_since(dt.date(2010, 4, 1))
    change = xo.submit_disappearance(f.clerk(), disappearance(person.atena_no))
    assert change.change_reason == "ex_officio_removal"
    assert change.occurred_on == dt.date(2024, 3, 31)
    assert change.notified_on == TODAY
    assert change.payload["summary"]["kind"] == "disappearance"
    _commit(change)
    gone = _fresh(person)
    assert (gone.status, gone.removal_reason, gone.removed_on) == (
        "removed",
        "ex_officio_removal",
        dt.date(2024, 3, 31),
    )
    assert "失踪宣告" in gone.remarks and "令和6年3月31日" in gone.remarks


def test_disappearance_with_an_uncertain_deemed_date():
    # std 1.1.8 (j80): 失踪 dates may be uncertain
    person = _resident_since(dt.date(2010, 4, 1))
    change = _commit(
        xo.submit_disappearance(
            f.clerk(), disappearance(person.atena_no, deemed_dead_on="令和4年春")
        )
    )
    assert change.occurred_on == dt.date(2022, 3, 1)
    assert "令和4年春" in _fresh(person).remarks


def test_disappearance_errors_and_alerts():
    person = _resident_since(dt.date(2010, 4, 1))
    a = person.atena_no
    exc = _refused(xo.submit_disappearance, disappearance(a, judgment_final_on=dt.date(2024, 1, 1)))
    assert _codes(exc) == {"judgment_final_on.before_deemed"}
    exc = _refused(
        xo.submit_disappearance, disappearance(a, judgment_final_on=TODAY + dt.timedelta(days=1))
    )
    assert _codes(exc) == {"judgment_final_on.future"}
    exc = _refused(
        xo.submit_disappearance, disappearance(a, notified_on=TODAY - dt.timedelta(days=30))
    )
    assert _codes(exc) == {"notified_on.before_judgment"}
    exc = _refused(
        xo.submit_disappearance,
        disappearance(a, deemed_dead_on=(TODAY + dt.timedelta(days=3)).isoformat()),
    )
    assert "deemed_dead_on.future" in _codes(exc)
    exc = _refused(xo.submit_disappearance, disappearance(a, deemed_dead_on="2005-01-01"))
    assert _codes(exc) == {"occurred_on.before_address_set"}


# --- 職権記載 ---------------------------------------------------------------------------


def entry(*people: dict[str, Any], **overrides: Any) -> xo.ExOfficioEntryInput:
    data: dict[str, Any] = {
        "occurred_on": TODAY - dt.timedelta(days=40),
        "reason": "実態調査により居住を確認",
        "address": {"address_code": f.ADDRESS_CODE, "banchi": "3丁目1番1号"},
        "previous_address": "東京都八王子市元本郷町三丁目24番1号",
        "persons": list(people) or [f.person()],
    }
    data.update(overrides)
    return xo.ExOfficioEntryInput.model_validate(data)


def test_ex_officio_entry_of_a_new_person():
    # std 4.2.1.1 (j800) 住所設定; std 4.2.0.1 (j750): the reason for the 職権記録書 and the
    # flag for the 職権記載等通知書
    change = xo.submit_ex_officio_entry(f.clerk(), entry(f.person(name_kana="キタ ジロウ")))
    assert change.change_reason == "ex_officio_entry"
    assert change.notified_on is None  # 職権調査: no notice date
    summary = change.payload["summary"]
    assert summary["reason"] == "実態調査により居住を確認"
    assert summary["notice_to_person"] is True
    assert summary["basis"] == "investigation"
    assert change.payload["new_households"] == [summary["household_no"]]
    _commit(change)
    person = Resident.objects.get(atena_no=change.payload["persons"][0]["atena_no"])
    assert person.status == "resident"
    assert person.address.endswith("3丁目1番1号")
    assert person.previous_address == "東京都八王子市元本郷町三丁目24番1号"
    assert person.became_resident_on == person.address_set_on == TODAY - dt.timedelta(days=40)
    assert person.notified_on is None
    assert person.head_name == person.name
    assert ResidentHistory.objects.get(atena_no=person.atena_no).change_reason == "ex_officio_entry"


def test_ex_officio_entry_previous_address_forms():
    # std 4.2.1.1 (j800): 「不明」, blank, and 未届転入 with （未届） and the 留意事項
    change = _commit(
        xo.submit_ex_officio_entry(
            f.clerk(), entry(previous_address_status="unknown", previous_address="")
        )
    )
    assert change.payload["persons"][0]["after"]["previous_address"] == "不明"
    change = _commit(
        xo.submit_ex_officio_entry(
            f.clerk(), entry(previous_address_status="none", previous_address="")
        )
    )
    assert change.payload["persons"][0]["after"]["previous_address"] == ""
    data = entry(
        previous_address_status="unnotified",
        last_registered_address="大阪府大阪市北区中之島一丁目3番20号",
    )
    exc = _refused(xo.submit_ex_officio_entry, data)
    assert _codes(exc) == {"ex_officio_entry.unnotified"}
    change = _commit(
        xo.submit_ex_officio_entry(f.clerk(), data, acknowledged=["ex_officio_entry.unnotified"])
    )
    person = Resident.objects.get(atena_no=change.payload["persons"][0]["atena_no"])
    assert person.previous_address == "東京都八王子市元本郷町三丁目24番1号（未届）"
    assert "未届転入" in person.remarks and "東京都八王子市元本郷町三丁目24番1号" in person.remarks
    assert change.payload["summary"]["last_registered_address"].startswith("大阪府")


def test_ex_officio_entry_on_request_of_a_returning_person_into_a_household():
    # std 4.2.0.5 (j790): done on request, with the 申出日 (default: today); std 4.1.1.2 (j600):
    # a former resident keeps the 宛名番号
    _, (head, _, son, _) = f.family()
    _commit(
        xo.submit_ex_officio_removal(
            f.clerk(),
            xo.ExOfficioRemovalInput(
                occurred_on=TODAY - dt.timedelta(days=1),
                reason="居住の実態なし",
                atena_nos=[son.atena_no],
            ),
        )
    )
    person = f.person(
        atena_no=son.atena_no,
        family_name=son.family_name,
        given_name=son.given_name,
        name_kana=son.name_kana,
        birth_date="2010-01-20",
        relationship="子",
    )
    data = entry(person, basis="request", household_no=head.household_no, occurred_on=TODAY)
    change = _commit(xo.submit_ex_officio_entry(f.clerk(), data))
    assert change.notified_on == TODAY
    assert change.payload["summary"]["basis_label"] == "申出"
    assert change.payload["summary"]["returning"] == [son.atena_no]
    back = _fresh(son)
    assert (back.status, back.history_no, back.household_no) == ("resident", 3, head.household_no)
    assert back.head_name == head.name
    assert (back.removal_reason, back.removed_on) == ("", None)


def test_ex_officio_entry_with_a_my_number_and_its_duplicate():
    # DESIGN invariant 6: the 個人番号 is stored encrypted; duplicates are refused
    number = "123456789018"
    change = _commit(xo.submit_ex_officio_entry(f.clerk(), entry(f.person(my_number=number))))
    after = change.payload["persons"][0]["after"]
    assert after["my_number_id"]
    assert number not in str(change.payload)
    exc = _refused(xo.submit_ex_officio_entry, entry(f.person(my_number=number)))
    assert _codes(exc) == {"duplicate.my_number"}
    exc = _refused(xo.submit_ex_officio_entry, entry(f.person(my_number="123456789010")))
    assert _fields(exc) == {next(iter(_codes(exc))): "persons.0.my_number"}


def test_ex_officio_entry_errors_and_alerts():
    _, (head, _, son, _) = f.family()
    exc = _refused(xo.submit_ex_officio_entry, entry(previous_address=""))
    assert _codes(exc) == {"previous_address.empty"}
    exc = _refused(xo.submit_ex_officio_entry, entry(previous_address_status="none"))
    assert _codes(exc) == {"previous_address.not_applicable"}
    exc = _refused(xo.submit_ex_officio_entry, entry(f.person(atena_no=son.atena_no)))
    assert _codes(exc) == {"ex_officio_entry.already_resident"}
    exc = _refused(xo.submit_ex_officio_entry, entry(household_no=head.household_no))
    assert _codes(exc) == {"household.two_heads"}
    exc = _refused(xo.submit_ex_officio_entry, entry(household_no="9999999999"))
    assert "household.unknown" in _codes(exc)
    exc = _refused(xo.submit_ex_officio_entry, entry(occurred_on=TODAY + dt.timedelta(days=1)))
    assert _codes(exc) == {"occurred_on.future"}
    exc = _refused(xo.submit_ex_officio_entry, entry(notified_on=TODAY))
    assert _codes(exc) == {"notified_on.not_applicable"}
    exc = _refused(
        xo.submit_ex_officio_entry,
        entry(basis="request", notified_on=TODAY - dt.timedelta(days=41)),
    )
    assert _codes(exc) == {"notified_on.before_occurred"}
    exc = _refused(
        xo.submit_ex_officio_entry, entry(address={"address_code": "14152999999", "banchi": "1番"})
    )
    assert _fields(exc) == {"address_code.unknown": "address.address_code"}
    exc = _refused(
        xo.submit_ex_officio_entry,
        entry(f.person(name_kana=son.name_kana, birth_date="2010-01-20", relationship="世帯主")),
    )
    assert _codes(exc) == {"duplicate.person"}
    with pytest.raises(ValidationError):
        entry(reason="   ")  # the reason (職権記録書) is required


# --- 職権消除 ---------------------------------------------------------------------------


def removal(*atena_nos: str, **overrides: Any) -> xo.ExOfficioRemovalInput:
    data: dict[str, Any] = {
        "occurred_on": TODAY - dt.timedelta(days=1),
        "reason": "実態調査の結果、居住の事実なし",
        "atena_nos": list(atena_nos),
    }
    data.update(overrides)
    return xo.ExOfficioRemovalInput.model_validate(data)


def test_ex_officio_removal_of_a_whole_household():
    # std 4.2.2: 職権消除 with the reason; nobody is left, so no head alert
    _, members = f.family()
    change = xo.submit_ex_officio_removal(f.clerk(), removal(*[m.atena_no for m in members]))
    assert change.change_reason == "ex_officio_removal"
    assert change.payload["summary"]["reason"] == "実態調査の結果、居住の事実なし"
    assert change.payload["summary"]["notice_to_person"] is True
    assert change.findings == []
    _commit(change)
    for member in members:
        gone = _fresh(member)
        assert (gone.status, gone.removal_reason, gone.removed_on) == (
            "removed",
            "ex_officio_removal",
            TODAY - dt.timedelta(days=1),
        )
        assert gone.household_no == member.household_no
    assert OutboxMessage.objects.filter(change_id=change.pk, topic="identity_info").count() == 4


def test_ex_officio_removal_of_the_head_alone():
    # std 4.0.4 (j490)
    _, (head, *_) = f.family()
    exc = _refused(xo.submit_ex_officio_removal, removal(head.atena_no))
    assert _codes(exc) == {"household.head_leaves"}
    head_and_wife = _single_household()
    change = xo.submit_ex_officio_removal(
        f.clerk(),
        removal(head_and_wife[0].atena_no, basis="request"),
        acknowledged=["household.single_member_becomes_head"],
    )
    assert change.notified_on == TODAY
    assert len(change.payload["persons"]) == 2


def test_ex_officio_removal_errors():
    _, (_, _, son, _) = f.family()
    exc = _refused(xo.submit_ex_officio_removal, removal(son.atena_no, son.atena_no))
    assert _fields(exc) == {"atena_no.repeated": "atena_nos.1"}
    exc = _refused(xo.submit_ex_officio_removal, removal(son.atena_no, "0000000000"))
    assert _fields(exc) == {"atena_no.not_resident": "atena_nos.1"}
    exc = _refused(
        xo.submit_ex_officio_removal,
        removal(son.atena_no, occurred_on=TODAY + dt.timedelta(days=1)),
    )
    assert _codes(exc) == {"occurred_on.future"}
    exc = _refused(
        xo.submit_ex_officio_removal,
        removal(son.atena_no, basis="request", notified_on=TODAY - dt.timedelta(days=2)),
    )
    assert _codes(exc) == {"notified_on.before_occurred"}
    with pytest.raises(ValidationError):
        removal(son.atena_no, reason="")  # the reason is required
    with pytest.raises(ValidationError):
        removal()


# --- 職権修正 ---------------------------------------------------------------------------


def amendment(atena_no: str, changes: dict[str, Any], **overrides: Any) -> xo.AmendmentInput:
    data: dict[str, Any] = {
        "atena_no": atena_no,
        "changes": changes,
        "occurred_on": TODAY - dt.timedelta(days=10),
    }
    data.update(overrides)
    return xo.AmendmentInput.model_validate(data)


def test_amending_the_heads_name_follows_to_every_member():
    # std 4.2.3.1 (j840): the members' 世帯主の氏名 is amended with the head's name
    _, (head, wife, son, daughter) = f.family()
    change = xo.submit_ex_officio_amendment(
        f.clerk(), amendment(head.atena_no, {"family_name": "橋本", "name_kana": "ハシモト タロウ"})
    )
    assert change.change_reason == "ex_officio_amendment"
    assert change.notified_on == TODAY
    summary = change.payload["summary"]
    assert summary["items"]["family_name"] == {"before": "相模", "after": "橋本"}
    assert sorted(summary["followers"]) == sorted([wife.atena_no, son.atena_no, daughter.atena_no])
    _commit(change)
    renamed = _fresh(head)
    assert (renamed.family_name, renamed.name_kana, renamed.head_name) == (
        "橋本",
        "ハシモト　タロウ",
        "橋本　太郎",
    )
    assert renamed.kana_key != head.kana_key  # search keys follow
    for member in (wife, son, daughter):
        fresh = _fresh(member)
        assert fresh.head_name == "橋本　太郎"
        assert fresh.family_name == "相模"  # only the head's name was amended
        row = ResidentHistory.objects.get(atena_no=member.atena_no, history_no=2)
        assert row.change_reason == "ex_officio_amendment"


def test_amendment_without_following_the_household():
    _, (head, *_) = f.family()
    data = amendment(head.atena_no, {"given_name": "太一"}, household_follow=False)
    exc = _refused(xo.submit_ex_officio_amendment, data)
    assert _codes(exc) == {"amendment.head_name_not_followed"}
    change = xo.submit_ex_officio_amendment(
        f.clerk(), data, acknowledged=["amendment.head_name_not_followed"]
    )
    assert len(change.payload["persons"]) == 1
    assert change.payload["persons"][0]["after"]["head_name"] == "相模　太一"


def test_amending_the_address_moves_the_whole_household():
    # std 1.2.1 (j200): the household's common items are held per person
    _, (head, wife, son, daughter) = f.family()
    change = _commit(
        xo.submit_ex_officio_amendment(
            f.clerk(),
            amendment(son.atena_no, {"banchi": "2丁目11番16号", "katagaki": "相模ハイツ101"}),
        )
    )
    assert len(change.payload["persons"]) == 4
    for member in (head, wife, son, daughter):
        fresh = _fresh(member)
        assert fresh.address == "神奈川県相模原市中央区上矢部2丁目11番16号"
        assert fresh.katagaki == "相模ハイツ101"
    # a new address code keeps the 番地
    _commit(
        xo.submit_ex_officio_amendment(
            f.clerk(), amendment(son.atena_no, {"address_code": "14152002000"})
        )
    )
    assert _fresh(head).address == "神奈川県相模原市中央区淵野辺本町2丁目11番16号"
    assert _fresh(head).postal_code == "2520202"


def test_amending_the_reading_resets_the_confirmation_flag():
    # std 1.1.18 (j180): the flag says the reading was confirmed with the person
    person = _resident_since(TODAY - dt.timedelta(days=30), name_kana_confirmed=True)
    data = amendment(person.atena_no, {"name_kana": "サガミ タロ"})
    exc = _refused(xo.submit_ex_officio_amendment, data)
    assert _codes(exc) == {"name_kana_confirmed.reset"}
    change = xo.submit_ex_officio_amendment(
        f.clerk(), data, acknowledged=["name_kana_confirmed.reset"]
    )
    assert change.payload["persons"][0]["after"]["name_kana_confirmed"] is False
    data = amendment(person.atena_no, {"name_kana": "サガミ タロ", "name_kana_confirmed": True})
    change = xo.submit_ex_officio_amendment(f.clerk(), data)
    assert change.findings == []


def test_amending_birth_date_sex_honseki_and_relationship():
    _, (_, _, son, _) = f.family()
    changes = {
        "birth_date": "平成22年1月頃",
        "sex": "2",
        "honseki": "神奈川県相模原市緑区町屋一丁目",
        "koseki_head": "相模 花子",
        "relationship": "妻の子",
    }
    _commit(xo.submit_ex_officio_amendment(f.clerk(), amendment(son.atena_no, changes)))
    fresh = _fresh(son)
    assert fresh.birth_date == dt.date(2010, 1, 1)
    assert fresh.birth_date_text
    assert (fresh.sex, fresh.honseki, fresh.koseki_head, fresh.relationship) == (
        "2",
        "神奈川県相模原市緑区町屋一丁目",
        "相模 花子",
        "妻の子",
    )


def test_amendment_errors():
    _, (head, _, son, _) = f.family()
    a = son.atena_no

    def refused(changes, **kw):
        return _refused(xo.submit_ex_officio_amendment, amendment(a, changes, **kw))

    exc = refused({"shoe_size": "27"})
    assert _fields(exc) == {"amendment.item_unknown": "changes.shoe_size"}
    assert "shoe_size" in next(iter(exc.value.findings)).message
    exc = refused({"alias": "X"})  # 通称 has its own change reasons
    assert _codes(exc) == {"amendment.item_not_allowed"}
    exc = refused({"given_name": son.given_name})
    assert _fields(exc) == {"amendment.no_change": "changes.given_name"}
    exc = refused({"banchi": "2丁目11番15号"})
    assert _codes(exc) == {"amendment.no_change"}
    exc = refused({"banchi": "2丁目11番15号", "katagaki": "相模ハイツ101"})
    assert _fields(exc) == {"amendment.no_change": "changes.banchi"}
    exc = refused({"relationship": "世帯主"})
    assert _codes(exc) == {"amendment.head_relationship"}
    exc = _refused(xo.submit_ex_officio_amendment, amendment(head.atena_no, {"relationship": "子"}))
    assert _codes(exc) == {"amendment.head_relationship"}
    exc = refused({"relationship": "孫"})
    assert _fields(exc) == {"relationship.forbidden": "changes.relationship"}
    exc = refused({"sex": "3"})
    assert _codes(exc) == {"sex.invalid"}
    exc = refused({"name_kana_confirmed": "yes"})
    assert _codes(exc) == {"amendment.type"}
    exc = refused({"family_name": True})
    assert _codes(exc) == {"amendment.type"}
    exc = refused({"family_name": "相模1"})
    assert _fields(exc) == {"name.script": "changes.family_name"}
    exc = refused({"birth_date": (TODAY + dt.timedelta(days=1)).isoformat()})
    assert _fields(exc) == {"birth_date.future": "changes.birth_date"}
    exc = refused({"birth_date": "昭和65年1月1日"})
    assert _codes(exc) == {"wareki.year_range"}
    exc = refused({"address_code": "14152999999"})
    assert _fields(exc) == {"address_code.unknown": "changes.address_code"}
    exc = refused({"address_code": "123"})
    assert _codes(exc) == {"address_code.invalid"}
    exc = refused({"honseki": "x" * 201})
    assert _codes(exc) == {"amendment.too_long"}
    exc = refused({"given_name": "次郎"}, notified_on=TODAY - dt.timedelta(days=11))
    assert _codes(exc) == {"notified_on.before_occurred"}
    exc = refused({"given_name": "次郎"}, occurred_on=TODAY + dt.timedelta(days=1))
    assert _codes(exc) == {"occurred_on.future"}
    with pytest.raises(ValidationError):
        amendment(a, {})
    # only current residents are amended (a 除票 takes a 誤記修正)
    _commit(xo.submit_death(f.clerk(), death(a)))
    exc = refused({"given_name": "次郎"})
    assert _codes(exc) == {"atena_no.not_resident"}


def test_amendment_of_a_foreign_resident_refuses_japanese_items():
    person = _resident_since(
        TODAY - dt.timedelta(days=30),
        resident_type="foreign",
        family_name="",
        given_name="",
        name_alphabet="SMITH JOHN",
        name_kana="スミス ジョン",
        honseki="",
        koseki_head="",
        nationality="アメリカ合衆国",
    )
    exc = _refused(
        xo.submit_ex_officio_amendment, amendment(person.atena_no, {"honseki": "東京都"})
    )
    assert _codes(exc) == {"amendment.not_applicable"}
    change = _commit(
        xo.submit_ex_officio_amendment(
            f.clerk(), amendment(person.atena_no, {"name_alphabet": "SMITH JOHN PAUL"})
        )
    )
    assert _fresh(person).name_alphabet == "SMITH JOHN PAUL"
    assert _fresh(person).head_name == "SMITH JOHN PAUL"
    assert change.payload["summary"]["followers"] == []


# --- 軽微な修正 -------------------------------------------------------------------------


def minor(
    atena_no: str, ground: str, changes: dict[str, Any], **kw: Any
) -> xo.MinorCorrectionInput:
    return xo.MinorCorrectionInput.model_validate(
        {"atena_no": atena_no, "ground": ground, "changes": changes} | kw
    )


def test_minor_correction_appends_a_history_row():
    # std 4.2.3.2 (j850): a minor correction of the 住所 (building renamed); history is
    # append-only here too (std 1.2.1, j200)
    _, (head, wife, son, daughter) = f.family()
    change = xo.submit_minor_correction(
        f.clerk(), minor(head.atena_no, "building_name", {"katagaki": "グランメゾン上矢部"})
    )
    assert change.change_reason == "minor_correction"
    assert change.occurred_on == TODAY
    assert change.notified_on is None
    assert change.payload["summary"]["ground_label"] == "建築物の名称又は建物の賃貸人の変更"
    _commit(change)
    for member in (head, wife, son, daughter):
        rows = ResidentHistory.objects.filter(atena_no=member.atena_no).order_by("history_no")
        assert [r.change_reason for r in rows] == ["domestic_move_in", "minor_correction"]
        assert rows[1].katagaki == "グランメゾン上矢部"
        assert rows[0].katagaki == ""


def test_minor_correction_of_a_name_character():
    # std 4.2.3.2 (j850): 常用平易な文字への変更 of a name
    person = _resident_since(
        TODAY - dt.timedelta(days=30), family_name="髙橋", name_kana="タカハシ タロウ"
    )
    _commit(
        xo.submit_minor_correction(
            f.clerk(), minor(person.atena_no, "common_characters", {"family_name": "高橋"})
        )
    )
    assert _fresh(person).family_name == "高橋"


def test_minor_correction_is_limited_to_its_ground():
    _, (head, *_) = f.family()
    # j850: 地番の変更 may change only the 番地
    exc = _refused(
        xo.submit_minor_correction, minor(head.atena_no, "lot_number", {"family_name": "佐賀"})
    )
    assert _fields(exc) == {"amendment.item_not_allowed": "changes.family_name"}
    # j850 allows only 氏名 or 住所
    exc = _refused(
        xo.submit_minor_correction,
        minor(head.atena_no, "ministerial", {"birth_date": "1980-04-02"}),
    )
    assert _codes(exc) == {"amendment.item_not_allowed"}
    with pytest.raises(ValidationError):
        xo.MinorCorrectionInput.model_validate(
            {"atena_no": head.atena_no, "changes": {"katagaki": "x"}}
        )
    exc = _refused(
        xo.submit_minor_correction,
        minor(head.atena_no, "residence_indication", {"banchi": "3丁目1番1号"}, notified_on=TODAY),
    )
    assert _codes(exc) == {"notified_on.not_applicable"}


# --- 誤記修正 ---------------------------------------------------------------------------


def clerical(atena_no: str, changes: dict[str, Any], **kw: Any) -> xo.ClericalErrorCorrectionInput:
    return xo.ClericalErrorCorrectionInput.model_validate(
        {"atena_no": atena_no, "changes": changes, "reason": "入力誤り"} | kw
    )


def test_clerical_error_correction_keeps_the_erroneous_row():
    # std 4.2.3.3 (j860): change reason 誤記修正; the erroneous history is kept, not overwritten
    person = _resident_since(TODAY - dt.timedelta(days=30))
    data = clerical(
        person.atena_no, {"became_resident_on": (TODAY - dt.timedelta(days=31)).isoformat()}
    )
    change = _commit(xo.submit_clerical_error_correction(f.clerk(), data))
    assert change.change_reason == "clerical_error_correction"
    assert change.payload["summary"]["reason"] == "入力誤り"
    rows = ResidentHistory.objects.filter(atena_no=person.atena_no).order_by("history_no")
    assert [r.became_resident_on for r in rows] == [
        TODAY - dt.timedelta(days=30),
        TODAY - dt.timedelta(days=31),
    ]
    assert [r.change_reason for r in rows] == ["domestic_move_in", "clerical_error_correction"]


def test_clerical_error_correction_of_a_removed_record():
    # std 4.2.3.3 (j860): a 除票 is corrected by appending, too
    person = _resident_since(dt.date(2015, 4, 1))
    _commit(xo.submit_death(f.clerk(), death(person.atena_no, death_date="2024-05-02")))
    data = clerical(person.atena_no, {"removed_on": "R6.5.1"}, basis="koseki_notice")
    change = _commit(xo.submit_clerical_error_correction(f.clerk(), data))
    fresh = _fresh(person)
    assert (fresh.status, fresh.removed_on, fresh.history_no) == ("removed", dt.date(2024, 5, 1), 3)
    assert change.payload["summary"]["items"]["removed_on"] == {
        "before": "2024-05-02",
        "after": "R6.5.1",
    }


def test_clerical_error_correction_errors():
    _, (_, _, son, _) = f.family()
    a = son.atena_no
    exc = _refused(xo.submit_clerical_error_correction, clerical(a, {"removed_on": "2024-01-01"}))
    assert _codes(exc) == {"amendment.not_applicable"}
    exc = _refused(xo.submit_clerical_error_correction, clerical(a, {"alias": "ジョン"}))
    assert _codes(exc) == {"amendment.not_applicable"}  # 通称 is a foreign resident's item
    exc = _refused(
        xo.submit_clerical_error_correction,
        clerical(a, {"address_set_on": (TODAY + dt.timedelta(days=1)).isoformat()}),
    )
    assert _codes(exc) == {"amendment.future_date"}
    exc = _refused(xo.submit_clerical_error_correction, clerical(a, {"notified_on": "2月30日"}))
    assert _fields(exc) == {"wareki.unparseable": "changes.notified_on"}
    exc = _refused(
        xo.submit_clerical_error_correction, clerical("0000000000", {"given_name": "次郎"})
    )
    assert _codes(exc) == {"atena_no.unknown"}
    with pytest.raises(ValidationError):
        clerical(a, {"given_name": "次郎"}, reason="")  # what was wrong must be recorded
    # a 申出 may come before the day of the correction
    change = xo.submit_clerical_error_correction(
        f.clerk(),
        clerical(
            a,
            {"former_family_name": "北村"},
            basis="request",
            notified_on=TODAY - dt.timedelta(days=3),
        ),
    )
    assert change.occurred_on == TODAY and change.notified_on == TODAY - dt.timedelta(days=3)


# --- registry -----------------------------------------------------------------------------


def test_specs_are_unique_and_name_the_standard():
    names = [s.name for s in xo.SPECS]
    assert names == [
        "birth",
        "death",
        "disappearance",
        "ex_officio_entry",
        "ex_officio_removal",
        "ex_officio_amendment",
        "minor_correction",
        "clerical_error_correction",
    ]
    assert all(s.group.startswith("4.2") for s in xo.SPECS)
