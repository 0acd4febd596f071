"""転居 (std 4.1.2), 転出 (std 4.1.3) and 転入通知の受理 (std 4.1.3.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jumin.core.findings import FindingsError
from jumin.outbox.models import OutboxMessage
from jumin.register import selectors, services
from jumin.register.models import Change, Household, Resident, ResidentHistory
from jumin.register.procedures import moves
from jumin.register.procedures.common import today
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1丁目2番3号"}
TOKYO = "131016"  # 千代田区


def _codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def _days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def _commit(change: Change) -> Change:
    return services.commit_change(f.reviewer(), change.pk)


def _fresh(resident: Resident) -> Resident:
    return Resident.objects.get(atena_no=resident.atena_no)


def _rows(change: Change) -> dict[str, ResidentHistory]:
    return {h.atena_no: h for h in ResidentHistory.objects.filter(change=change)}


def within(*persons: Any, **overrides: Any) -> moves.MoveWithinInput:
    """A 転居 of ``persons``: residents, or (resident, relationship) pairs."""
    items = []
    for p in persons:
        if isinstance(p, tuple):
            items.append({"atena_no": p[0].atena_no, "relationship": p[1]})
        else:
            items.append({"atena_no": p.atena_no})
    data: dict[str, Any] = {
        "occurred_on": _days(-2),
        "notified_on": today(),
        "address": NEW_ADDRESS,
        "persons": items,
    }
    data.update(overrides)
    return moves.MoveWithinInput.model_validate(data)


def out(*persons: Resident, **overrides: Any) -> moves.MoveOutInput:
    data: dict[str, Any] = {
        "planned_on": _days(7),
        "notified_on": today(),
        "destination": {
            "kind": "domestic",
            "municipality_code": TOKYO,
            "address": "東京都千代田区霞が関一丁目1番1号",
        },
        "persons": [p.atena_no for p in persons],
    }
    data.update(overrides)
    return moves.MoveOutInput.model_validate(data)


def notice(resident: Resident, **overrides: Any) -> moves.MoveInNoticeInput:
    data: dict[str, Any] = {
        "atena_no": resident.atena_no,
        "move_in_notice_on": today(),
        "moved_out_on": resident.moved_out_planned_on,
        "moved_out_address": "東京都千代田区霞が関一丁目1番1号　霞が関ハイツ101",
        "municipality_code": TOKYO,
    }
    data.update(overrides)
    return moves.MoveInNoticeInput.model_validate(data)


def settled(days_ago: int) -> Resident:
    """A person who moved in ``days_ago`` days ago and notified on time."""
    day = _days(-days_ago)
    _, (resident,) = f.committed_move_in(
        f.person(),
        occurred_on=day,
        notified_on=day,
        certificate={"municipality_code": TOKYO, "planned_on": day},
    )
    return resident


def moved_out(*persons: Resident, **overrides: Any) -> list[Resident]:
    overrides.setdefault("planned_on", _days(-2))
    _commit(moves.submit_move_out(f.clerk(), out(*persons, **overrides)))
    return [_fresh(p) for p in persons]


def test_the_procedures_are_registered_under_their_names():
    names = {spec.name: spec for spec in moves.SPECS}
    assert set(names) == {"move_within", "move_out", "move_in_notice_receipt"}
    assert names["move_within"].group == "4.1.2"
    assert names["move_out"].label == "転出"
    assert names["move_in_notice_receipt"].group == "4.1.3.1"
    assert "move_in" not in names


# --- 転居 ------------------------------------------------------------------------------------


def test_whole_household_moves_keeping_household_and_relationships():
    # std 4.1.2, 4.0.1 (j460: the whole household), 1.2.1 (j200: a full snapshot per person)
    _, members = f.family()
    before = {m.atena_no: m for m in members}
    change = moves.submit_move_within(f.clerk(), within(*members))
    assert change.status == Change.Status.DRAFT
    assert _fresh(members[0]).address == members[0].address  # invisible until committed
    change = _commit(change)
    rows = _rows(change)
    assert set(rows) == set(before)
    for atena, old in before.items():
        now = Resident.objects.get(atena_no=atena)
        row = rows[atena]
        assert row.history_no == now.history_no == 2
        assert row.change_reason == "move_within"
        assert now.address == "神奈川県相模原市緑区町屋1丁目2番3号"
        assert now.address_code == f.OTHER_ADDRESS_CODE
        assert now.postal_code == "2520101"
        assert now.address_set_on == _days(-2)
        assert now.notified_on == today()
        assert now.household_no == old.household_no
        assert now.relationship == old.relationship
        assert now.head_name == old.head_name
        # the previous address stays in the row before; 転入前住所 is not touched
        first = selectors.history_of(atena).get(history_no=1)
        assert first.address == old.address
        assert now.previous_address == old.previous_address
        assert now.became_resident_on == old.became_resident_on
    assert OutboxMessage.objects.filter(change_id=change.pk, topic="identity_info").count() == 4
    assert change.payload["summary"]["whole_household"] is True
    assert change.payload["summary"]["new_household"] is False


def test_part_of_a_household_moves_into_a_new_household():
    # std 4.0.2 (j470): the movers form a new household, one of them its head
    _, (head, wife, son, daughter) = f.family()
    change = _commit(moves.submit_move_within(f.clerk(), within((son, "世帯主"), (daughter, "妹"))))
    new_no = change.payload["summary"]["household_no"]
    assert new_no != head.household_no
    assert Household.objects.filter(household_no=new_no).exists()
    son_now, daughter_now = _fresh(son), _fresh(daughter)
    assert son_now.household_no == daughter_now.household_no == new_no
    assert son_now.relationship == "世帯主"
    assert daughter_now.relationship == "妹"
    assert son_now.head_name == daughter_now.head_name == son.name
    assert son_now.address.startswith("神奈川県相模原市緑区町屋")
    # the others are not part of the change and stay as they were
    for other in (head, wife):
        assert _fresh(other).history_no == 1
        assert _fresh(other).household_no == head.household_no
    assert set(_rows(change)) == {son.atena_no, daughter.atena_no}


def test_part_of_a_household_needs_a_relationship_per_person():
    # std 4.0.2 (j470): the relationship in the destination household is entered
    _, (_, _, son, daughter) = f.family()
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "世帯主"), daughter))
    assert _codes(exc) == {"move_within.relationship_required"}
    assert next(iter(exc.value.findings)).field == "persons.1.relationship"


def test_a_new_household_has_exactly_one_head():
    _, (_, _, son, daughter) = f.family()
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "兄"), (daughter, "妹")))
    assert _codes(exc) == {"move_within.new_household_head"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "世帯主"), (daughter, "世帯主")))
    assert _codes(exc) == {"move_within.new_household_head"}
    assert not Household.objects.exclude(household_no=son.household_no).exists()


def test_forbidden_relationship_is_refused():
    # std 1.1.11 (j110): 孫, 長男 … are not relationships
    _, (_, _, son, daughter) = f.family()
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "世帯主"), (daughter, "長女")))
    assert _codes(exc) == {"relationship.forbidden"}


def test_whole_household_move_cannot_change_relationships():
    _, members = f.family()
    head, wife, son, daughter = members
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(
            f.clerk(), within((head, "世帯主"), (wife, "世帯主"), son, daughter)
        )
    assert _codes(exc) == {"move_within.relationship_changed"}
    # restating the same relationship is fine
    change = moves.submit_move_within(f.clerk(), within((head, "世帯主"), wife, son, daughter))
    assert change.status == Change.Status.DRAFT


def test_movers_join_an_existing_household():
    # std 4.0.2 (j470): part of a household joins another, existing household
    _, (head, _, son, _) = f.family()
    _, (single,) = f.committed_move_in(
        f.person(family_name="橋本", given_name="明", name_kana="ハシモト アキラ"),
        address=NEW_ADDRESS,
    )
    change = _commit(
        moves.submit_move_within(
            f.clerk(), within((son, "同居人"), household_no=single.household_no)
        )
    )
    son_now = _fresh(son)
    assert son_now.household_no == single.household_no
    assert son_now.relationship == "同居人"
    assert son_now.head_name == single.name
    assert _fresh(single).history_no == 1
    assert change.payload["summary"]["new_household"] is False
    assert _fresh(head).household_no == head.household_no


def test_joining_a_household_as_a_second_head_is_refused():
    # std 1.1.10: one head per household
    _, (_, _, son, _) = f.family()
    _, (single,) = f.committed_move_in(f.person(), address=NEW_ADDRESS)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(
            f.clerk(), within((son, "世帯主"), household_no=single.household_no)
        )
    assert _codes(exc) == {"household.two_heads"}


def test_joining_a_household_at_another_address_alerts():
    _, (_, _, son, _) = f.family()
    _, (single,) = f.committed_move_in(f.person())  # lives at the family's old address
    data = within((son, "同居人"), household_no=single.household_no)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), data)
    assert _codes(exc) == {"move_within.household_address_differs"}
    change = moves.submit_move_within(
        f.clerk(), data, acknowledged=["move_within.household_address_differs"]
    )
    assert change.acknowledged == ["move_within.household_address_differs"]


def test_unknown_destination_household_is_refused():
    _, (_, _, son, _) = f.family()
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "世帯主"), household_no="9999999999"))
    assert _codes(exc) == {"household.unknown"}


def test_part_of_a_household_cannot_stay_in_it():
    _, (head, _, son, _) = f.family()
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "子"), household_no=head.household_no))
    assert _codes(exc) == {"move_within.stays_in_household"}


def test_whole_household_naming_its_own_household_is_a_plain_move():
    _, members = f.family()
    change = _commit(
        moves.submit_move_within(f.clerk(), within(*members, household_no=members[0].household_no))
    )
    assert change.payload["summary"]["household_no"] == members[0].household_no
    assert _fresh(members[1]).relationship == "妻"


def test_head_moves_away_leaving_three_members_alerts():
    # std 4.0.4 (j490): two or more remain → alert, a 世帯主変更 is needed afterwards
    _, (head, wife, son, daughter) = f.family()
    data = within((head, "世帯主"))
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), data)
    assert _codes(exc) == {"household.head_leaves"}
    change = _commit(
        moves.submit_move_within(f.clerk(), data, acknowledged=["household.head_leaves"])
    )
    assert set(_rows(change)) == {head.atena_no}
    for other in (wife, son, daughter):
        assert _fresh(other).relationship == other.relationship
        assert _fresh(other).history_no == 1


def test_head_and_two_move_away_the_last_member_becomes_head():
    # std 4.0.4 (j490): one member remains → head ex officio, within the same change
    _, (head, wife, son, daughter) = f.family()
    data = within((head, "世帯主"), (wife, "妻"), (son, "子"))
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), data)
    assert _codes(exc) == {"household.single_member_becomes_head"}
    change = _commit(
        moves.submit_move_within(
            f.clerk(), data, acknowledged=["household.single_member_becomes_head"]
        )
    )
    rows = _rows(change)
    assert set(rows) == {head.atena_no, wife.atena_no, son.atena_no, daughter.atena_no}
    remaining = _fresh(daughter)
    assert remaining.relationship == "世帯主"
    assert remaining.head_name == daughter.name
    assert remaining.household_no == head.household_no
    assert remaining.address == daughter.address  # she did not move
    assert rows[daughter.atena_no].history_no == 2
    assert change.payload["summary"]["ex_officio_head"] == [daughter.atena_no]
    assert _fresh(head).household_no != head.household_no


def test_same_address_with_another_katagaki_is_a_move():
    # std 4.1.2.1 (j630): the same 地番, another building: processed as a 転居, no remark
    _, (resident,) = f.committed_move_in(f.person())
    same_lot = {"address_code": f.ADDRESS_CODE, "banchi": "2丁目11番15号", "katagaki": "離れ"}
    change = _commit(moves.submit_move_within(f.clerk(), within(resident, address=same_lot)))
    now = _fresh(resident)
    assert change.findings == []
    assert now.address == resident.address
    assert now.katagaki == "離れ"
    assert now.remarks == resident.remarks == ""


def test_identical_address_and_katagaki_alerts_but_is_allowed():
    # std 4.1.2.1 (j630): allowed (another building on the lot), confirmed by the clerk
    _, (resident,) = f.committed_move_in(f.person())
    same = {"address_code": f.ADDRESS_CODE, "banchi": "2丁目11番15号"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within(resident, address=same))
    assert _codes(exc) == {"move_within.same_address"}
    change = _commit(
        moves.submit_move_within(
            f.clerk(), within(resident, address=same), acknowledged=["move_within.same_address"]
        )
    )
    assert _fresh(resident).history_no == 2
    assert _fresh(resident).remarks == ""
    assert change.acknowledged == ["move_within.same_address"]


def test_late_move_within_notification_alerts():
    # std 4.0.3 (j480) / Art. 23: 転居 within 14 days
    resident = settled(40)
    data = within(resident, occurred_on=_days(-20))
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), data)
    assert _codes(exc) == {"notification.late"}
    change = moves.submit_move_within(f.clerk(), data, acknowledged=["notification.late"])
    assert change.acknowledged == ["notification.late"]


def test_move_within_date_rules():
    # std 4.0.3 (j480): no future 異動日 except for 転出; std 4.1.0.2 (j570): no future 届出日
    _, (resident,) = f.committed_move_in(f.person())
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within(resident, occurred_on=_days(1)))
    assert "occurred_on.future" in _codes(exc)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within(resident, notified_on=_days(1)))
    assert "notified_on.future" in _codes(exc)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within(resident, notified_on=_days(-3)))
    assert _codes(exc) == {"notified_on.before_occurred"}


def test_move_within_refuses_unknown_address_and_persons():
    _, (head, _wife, son, _daughter) = f.family()
    _, (other,) = f.committed_move_in(f.person())
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within(head, address={"address_code": "14152999999"}))
    assert "address_code.unknown" in _codes(exc)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(
            f.clerk(),
            moves.MoveWithinInput.model_validate(
                within(head).model_dump() | {"persons": [{"atena_no": "0000000000"}]}
            ),
        )
    assert _codes(exc) == {"atena_no.not_resident"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "世帯主"), (son, "世帯主")))
    assert _codes(exc) == {"persons.duplicate"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within((son, "世帯主"), (other, "同居人")))
    assert _codes(exc) == {"persons.several_households"}
    assert Change.objects.filter(procedure="move_within").count() == 0


def test_removed_person_cannot_move_within():
    _, (resident,) = f.committed_move_in(f.person())
    (gone,) = moved_out(resident)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within(gone))
    assert _codes(exc) == {"atena_no.not_resident"}


def test_move_within_input_schema_errors():
    with pytest.raises(ValueError, match="persons"):
        moves.MoveWithinInput.model_validate(
            {"occurred_on": today(), "notified_on": today(), "address": NEW_ADDRESS, "persons": []}
        )
    with pytest.raises(ValueError, match="extra"):
        moves.MoveWithinInput.model_validate(
            {
                "occurred_on": today(),
                "notified_on": today(),
                "address": NEW_ADDRESS,
                "persons": [{"atena_no": "1"}],
                "remarks": "同一住所への転居",
            }
        )


# --- 転出 ------------------------------------------------------------------------------------


def test_move_out_of_one_person_with_a_future_planned_date():
    # std 4.1.3.0.1 (j640): the move date may follow the notification
    # std 1.1.5 (j50): the 除票 keeps household and address; 4.1.3.0.2 (j650): destination
    _, (_head, _wife, son, _daughter) = f.family()
    change = _commit(moves.submit_move_out(f.clerk(), out(son)))
    assert change.findings == []
    assert change.occurred_on == _days(7)
    assert change.change_reason == "domestic_move_out"
    now = _fresh(son)
    assert now.status == "removed"
    assert now.removal_reason == "domestic_move_out"
    assert now.removed_on == _days(7)
    assert now.moved_out_planned_on == _days(7)
    assert now.moved_out_planned_address == "東京都千代田区霞が関一丁目1番1号"
    assert now.moved_out_address == "" and now.moved_out_on is None
    assert now.household_no == son.household_no
    assert now.address == son.address
    assert now.relationship == "子"
    assert now.notified_on == today()
    row = _rows(change)[son.atena_no]
    assert row.change_reason == "domestic_move_out" and row.history_no == 2
    assert OutboxMessage.objects.filter(change_id=change.pk, topic="identity_info").count() == 1
    assert not OutboxMessage.objects.filter(topic="move_out_info").exists()


def test_move_out_cancels_nothing_else():
    # the other members' records stay exactly as they were
    _, (head, wife, son, daughter) = f.family()
    before = {
        m.atena_no: (selectors.history_of(m.atena_no).count(), _snapshot(m))
        for m in (head, wife, daughter)
    }
    change = _commit(moves.submit_move_out(f.clerk(), out(son)))
    assert set(_rows(change)) == {son.atena_no}
    for atena, (count, snap) in before.items():
        assert selectors.history_of(atena).count() == count
        assert _snapshot(Resident.objects.get(atena_no=atena)) == snap
    assert [m.atena_no for m in selectors.household_members(head.household_no)] == sorted(before)


def _snapshot(resident: Resident) -> dict[str, Any]:
    from jumin.register.records import snapshot

    return snapshot(resident)


def test_move_out_summary_carries_the_certificate_data():
    # std 4.1.3.0.3 (j660): the 転出証明書 is produced in the flow; the data is in the change
    _, (head, wife, son, daughter) = f.family()
    change = moves.submit_move_out(f.clerk(), out(head, wife, son, daughter), acknowledged=[])
    summary = change.payload["summary"]
    assert summary["certificate"] == "move_out_certificate"
    assert summary["ex_officio"] is False
    data = summary["certificate_data"]
    assert data["planned_on"] == _days(7).isoformat()
    assert data["planned_address"] == "東京都千代田区霞が関一丁目1番1号"
    assert data["address"] == head.address
    assert data["head_name"] == head.name
    people = {p["atena_no"]: p for p in data["persons"]}
    assert set(people) == {head.atena_no, wife.atena_no, son.atena_no, daughter.atena_no}
    assert people[wife.atena_no]["name"] == wife.name
    assert people[wife.atena_no]["birth_date"] == "1982-06-15"
    assert people[wife.atena_no]["sex"] == "2"
    assert people[wife.atena_no]["relationship"] == "妻"
    assert people[wife.atena_no]["juminhyo_code"] == wife.juminhyo_code
    assert people[wife.atena_no]["honseki"] == wife.honseki


def test_late_move_out_is_ex_officio_with_an_equivalent_certificate():
    # std 4.1.3.0.1 (j640), 4.1.3.0.3 (j660): more than 14 days late → ex officio, and a
    # 転出証明書に準ずる証明書 instead of a 転出証明書
    resident = settled(60)
    data = out(resident, planned_on=_days(-15))
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), data)
    assert _codes(exc) == {"move_out.late"}
    change = _commit(moves.submit_move_out(f.clerk(), data, acknowledged=["move_out.late"]))
    assert change.payload["summary"]["certificate"] == "equivalent_certificate"
    assert change.payload["summary"]["ex_officio"] is True
    assert _fresh(resident).removed_on == _days(-15)
    # exactly 14 days is still in time
    other = settled(60)
    change = moves.submit_move_out(f.clerk(), out(other, planned_on=_days(-14)))
    assert change.payload["summary"]["certificate"] == "move_out_certificate"


def test_move_out_abroad():
    # std 4.1.3.0.2 (j650): abroad, with a foreign address
    _, (resident,) = f.committed_move_in(f.person())
    dest = {"kind": "abroad", "country": "アメリカ合衆国", "address": "ニューヨーク州"}
    change = _commit(moves.submit_move_out(f.clerk(), out(resident, destination=dest)))
    now = _fresh(resident)
    assert now.removal_reason == change.change_reason == "move_out_abroad"
    assert now.moved_out_planned_address == "アメリカ合衆国　ニューヨーク州"
    assert change.payload["summary"]["certificate"] == "none"


def test_move_out_destination_rules():
    # std 4.1.3.0.2 (j650): municipality only is fine; abroad needs a country
    _, (resident,) = f.committed_move_in(f.person())
    only_city = {"kind": "domestic", "address": "東京都千代田区"}
    change = moves.submit_move_out(f.clerk(), out(resident, destination=only_city))
    assert change.payload["persons"][0]["after"]["moved_out_planned_address"] == "東京都千代田区"
    cases = [
        ({"kind": "domestic", "municipality_code": TOKYO}, "move_out.destination_required"),
        ({"kind": "abroad"}, "move_out.country_required"),
        (
            {"kind": "abroad", "country": "韓国", "municipality_code": TOKYO},
            "move_out.municipality_for_abroad",
        ),
        (
            {"kind": "abroad", "country": "韓" * 100, "address": "ソ" * 250},
            "move_out.destination_too_long",
        ),
        (
            {"kind": "domestic", "address": "東京都千代田区", "country": "韓国"},
            "move_out.country_for_domestic",
        ),
        (
            {"kind": "domestic", "address": "東京都千代田区", "municipality_code": "131017"},
            "local_government_code.check_digit",
        ),
        (
            {"kind": "domestic", "address": "相模原市緑区", "municipality_code": "141518"},
            "move_out.destination_is_this_city",
        ),
    ]
    for dest, code in cases:
        with pytest.raises(FindingsError) as exc:
            moves.submit_move_out(f.clerk(), out(resident, destination=dest))
        assert _codes(exc) == {code}, dest


def test_card_move_out_sends_the_move_out_info_to_the_cs():
    # std 4.1.3.0.4 (j670): no automatic certificate; the 転出証明書情報 goes to the CS
    _, (head, wife, son, daughter) = f.family()
    change = _commit(
        moves.submit_move_out(f.clerk(), out(head, wife, son, daughter, card_move_out=True))
    )
    summary = change.payload["summary"]
    assert summary["card_move_out"] is True
    assert summary["certificate"] == "card_move_out_info"
    infos = OutboxMessage.objects.filter(change_id=change.pk, topic="move_out_info")
    assert infos.count() == 4
    assert {m.destination for m in infos} == {"cs"}
    assert {m.ordering_key for m in infos} == {
        head.atena_no,
        wife.atena_no,
        son.atena_no,
        daughter.atena_no,
    }
    payload = infos.get(ordering_key=son.atena_no).payload
    assert payload["planned_on"] == _days(7).isoformat()
    assert payload["destination"]["municipality_code"] == TOKYO
    assert payload["juminhyo_code"] == son.juminhyo_code
    assert "my_number" not in payload  # only a reference to the encrypted row


def test_card_move_out_is_not_for_abroad_or_late_notices():
    resident = settled(60)
    abroad = {"kind": "abroad", "country": "韓国"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), out(resident, destination=abroad, card_move_out=True))
    assert _codes(exc) == {"move_out.card_abroad"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(
            f.clerk(),
            out(resident, planned_on=_days(-20), card_move_out=True),
            acknowledged=["move_out.late"],
        )
    assert _codes(exc) == {"move_out.card_late"}


def test_head_moves_out_leaving_three_members_alerts():
    # std 4.0.4 (j490): two or more remain → alert
    _, (head, wife, _son, _daughter) = f.family()
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), out(head))
    assert _codes(exc) == {"household.head_leaves"}
    change = _commit(
        moves.submit_move_out(f.clerk(), out(head), acknowledged=["household.head_leaves"])
    )
    assert set(_rows(change)) == {head.atena_no}
    assert _fresh(wife).relationship == "妻"
    assert _fresh(wife).history_no == 1


def test_head_and_two_move_out_the_last_member_becomes_head():
    # std 4.0.4 (j490): one member remains → head ex officio, within the same change
    _, (head, wife, son, daughter) = f.family()
    data = out(head, wife, daughter)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), data)
    assert _codes(exc) == {"household.single_member_becomes_head"}
    change = _commit(
        moves.submit_move_out(
            f.clerk(), data, acknowledged=["household.single_member_becomes_head"]
        )
    )
    rows = _rows(change)
    assert set(rows) == {head.atena_no, wife.atena_no, son.atena_no, daughter.atena_no}
    last = _fresh(son)
    assert last.status == "resident"
    assert last.relationship == "世帯主"
    assert last.head_name == son.name
    assert last.household_no == son.household_no
    assert rows[son.atena_no].history_no == 2
    for gone in (head, wife, daughter):
        assert _fresh(gone).status == "removed"
    assert change.payload["summary"]["ex_officio_head"] == [son.atena_no]


def test_whole_household_moves_out_without_head_findings():
    _, members = f.family()
    change = _commit(moves.submit_move_out(f.clerk(), out(*members)))
    assert change.findings == []
    assert not selectors.household_members(members[0].household_no)


def test_move_out_refusals():
    _, (resident,) = f.committed_move_in(f.person())
    _, (other,) = f.committed_move_in(f.person())
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), out(resident, notified_on=_days(1)))
    assert _codes(exc) == {"notified_on.future"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), out(resident, other))
    assert _codes(exc) == {"persons.several_households"}
    (gone,) = moved_out(resident)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), out(gone))
    assert _codes(exc) == {"atena_no.not_resident"}


def test_move_out_draft_is_invisible_until_committed():
    # std 4.0.8 (j530)
    _, (resident,) = f.committed_move_in(f.person())
    change = moves.submit_move_out(f.clerk(), out(resident))
    assert _fresh(resident).status == "resident"
    assert list(selectors.drafts()) == [change]


# --- 転入通知の受理 ------------------------------------------------------------------------------


def test_move_in_notice_is_recorded_beside_the_planned_items():
    # std 4.1.3.1.1 (j680), 4.1.3.1.3 (j700): entered by hand, the planned items are kept
    _, (resident,) = f.committed_move_in(f.person())
    (gone,) = moved_out(resident)
    change = _commit(moves.submit_move_in_notice_receipt(f.clerk(), notice(gone)))
    assert change.change_reason == "ex_officio_amendment"
    assert change.findings == []
    assert change.occurred_on == today()
    assert change.notified_on is None
    now = _fresh(gone)
    assert now.history_no == 3
    assert now.status == "removed"
    assert now.moved_out_address == "東京都千代田区霞が関一丁目1番1号　霞が関ハイツ101"
    assert now.moved_out_on == _days(-2)
    assert now.move_in_notice_on == today()
    assert now.moved_out_planned_address == gone.moved_out_planned_address
    assert now.moved_out_planned_on == gone.moved_out_planned_on == _days(-2)
    assert now.removed_on == _days(-2)
    row = _rows(change)[gone.atena_no]
    assert row.change_reason == "ex_officio_amendment"


def test_move_in_notice_with_another_date_alerts_and_keeps_the_planned_date():
    # std 4.1.3.1.1 (j680): the planned date is never overwritten;
    # std 1.1.5 (j50): removal on the earlier of the planned date and the move-in date
    resident = settled(30)
    (gone,) = moved_out(resident, planned_on=_days(-5))
    data = notice(gone, moved_out_on=_days(-8))
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(f.clerk(), data)
    assert _codes(exc) == {"move_in_notice.date_differs"}
    _commit(
        moves.submit_move_in_notice_receipt(
            f.clerk(), data, acknowledged=["move_in_notice.date_differs"]
        )
    )
    now = _fresh(gone)
    assert now.moved_out_planned_on == _days(-5)
    assert now.moved_out_on == _days(-8)
    assert now.removed_on == _days(-8)


def test_move_in_notice_received_before_the_planned_date():
    # std 4.1.3.1.1 (j680): whether or not the planned date has come
    _, (resident,) = f.committed_move_in(f.person())
    (gone,) = moved_out(resident, planned_on=_days(10))
    change = _commit(
        moves.submit_move_in_notice_receipt(
            f.clerk(),
            notice(gone, moved_out_on=_days(-1)),
            acknowledged=["move_in_notice.date_differs"],
        )
    )
    assert _fresh(gone).removed_on == _days(-1)
    assert _fresh(gone).moved_out_planned_on == _days(10)
    assert change.payload["summary"]["planned_on"] == _days(10).isoformat()


def test_move_in_notice_for_a_resident_is_refused():
    _, (resident,) = f.committed_move_in(f.person())
    data = moves.MoveInNoticeInput.model_validate(
        {
            "atena_no": resident.atena_no,
            "move_in_notice_on": today(),
            "moved_out_on": today(),
            "moved_out_address": "東京都千代田区",
        }
    )
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(f.clerk(), data)
    assert _codes(exc) == {"move_in_notice.not_moved_out"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(
            f.clerk(), data.model_copy(update={"atena_no": "0000000000"})
        )
    assert _codes(exc) == {"atena_no.unknown"}


def test_move_in_notice_date_errors():
    _, (resident,) = f.committed_move_in(f.person())
    (gone,) = moved_out(resident)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(
            f.clerk(), notice(gone, move_in_notice_on=_days(1), moved_out_on=_days(1))
        )
    assert _codes(exc) == {"move_in_notice_on.future", "moved_out_on.future"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(f.clerk(), notice(gone, move_in_notice_on=_days(-3)))
    assert _codes(exc) == {"move_in_notice.before_move"}
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(f.clerk(), notice(gone, municipality_code="131017"))
    assert _codes(exc) == {"local_government_code.check_digit"}


def test_second_move_in_notice_alerts_and_amends():
    # std 4.1.3.1.2 (j690): a notice sent again may correct the one already recorded
    _, (resident,) = f.committed_move_in(f.person())
    (gone,) = moved_out(resident)
    _commit(moves.submit_move_in_notice_receipt(f.clerk(), notice(gone)))
    again = notice(gone, moved_out_address="東京都千代田区霞が関一丁目1番1号　霞が関ハイツ201")
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(f.clerk(), again)
    assert _codes(exc) == {"move_in_notice.already_received"}
    _commit(
        moves.submit_move_in_notice_receipt(
            f.clerk(), again, acknowledged=["move_in_notice.already_received"]
        )
    )
    history = list(selectors.history_of(gone.atena_no))
    assert [h.history_no for h in history] == [1, 2, 3, 4]
    assert history[2].moved_out_address.endswith("101")
    assert history[3].moved_out_address.endswith("201")


def test_move_in_notice_from_another_municipality_alerts():
    _, (resident,) = f.committed_move_in(f.person())
    (gone,) = moved_out(resident)
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(
            f.clerk(),
            notice(gone, municipality_code="271004"),  # 大阪市
        )
    assert _codes(exc) == {"move_in_notice.other_municipality"}


def test_move_in_notice_for_a_person_who_moved_abroad_alerts():
    _, (resident,) = f.committed_move_in(f.person())
    (gone,) = moved_out(resident, destination={"kind": "abroad", "country": "韓国"})
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_in_notice_receipt(f.clerk(), notice(gone))
    assert _codes(exc) == {"move_in_notice.moved_abroad"}
    _commit(
        moves.submit_move_in_notice_receipt(
            f.clerk(), notice(gone), acknowledged=["move_in_notice.moved_abroad"]
        )
    )
    # not a 国内転出: the removal date stays the recorded one
    assert _fresh(gone).removed_on == _days(-2)
