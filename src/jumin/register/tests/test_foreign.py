"""Foreign residents (std 4.5: j910–j970, items of std 1.1.2 j20) and 通称 (std 1.1.7, j70)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

import pytest

from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import FindingsError
from jumin.core.identifiers import generate_juminhyo_code
from jumin.outbox.models import OutboxMessage
from jumin.register import crypto, services
from jumin.register.models import JuminhyoCodePool, Resident, ResidentHistory
from jumin.register.procedures import foreign
from jumin.register.records import snapshot
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
_cards = itertools.count(10000001)


@pytest.fixture(autouse=True)
def _environment(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "keys.json"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.JUMIN = {**settings.JUMIN, "JUMINHYO_CODE_POOL_MINIMUM": 2}
    crypto.reset_keyring_cache()
    rng = random.Random(11)
    JuminhyoCodePool.objects.bulk_create(
        JuminhyoCodePool(code=c) for c in {generate_juminhyo_code(rng) for _ in range(40)}
    )
    yield
    crypto.reset_keyring_cache()


def card() -> str:
    return f"AB{next(_cards)}CD"


def fperson(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name_alphabet": "SMITH JOHN",
        "name_kana": "スミス ジョン",
        "birth_date": "1990-05-06",
        "sex": "1",
        "relationship": "世帯主",
        "nationality": "米国",
        "foreign_category": "mid_long_term",
        "residence_status": "技術・人文知識・国際業務",
        "period_of_stay": "3年",
        "stay_expires_on": TODAY + dt.timedelta(days=3 * 365),
        "residence_card_no": card(),
    }
    data.update(overrides)
    return data


def spouse(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name_alphabet": "SMITH MARY",
        "name_kana": "スミス メアリー",
        "birth_date": "1991-07-08",
        "sex": "2",
        "relationship": "妻",
        "residence_status": "家族滞在",
    }
    return fperson(**(data | overrides))


def move_in_data(*people: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "occurred_on": TODAY - dt.timedelta(days=2),
        "notified_on": TODAY,
        "address": {"address_code": f.ADDRESS_CODE, "banchi": "2丁目11番15号", "katagaki": "101"},
        "previous_address": "",
        "persons": list(people) or [fperson()],
    }
    data.update(overrides)
    return data


def submit_30_46(*people: dict[str, Any], ack=(), **overrides: Any):
    data = foreign.ForeignMoveInInput.model_validate(move_in_data(*people, **overrides))
    return foreign.submit_foreign_move_in_30_46(f.clerk(), data, acknowledged=ack)


def commit(change):
    return services.commit_change(f.reviewer(), change.pk)


def committed_foreign(*people: dict[str, Any], **overrides: Any) -> list[Resident]:
    change = commit(submit_30_46(*people, **overrides))
    return [Resident.objects.get(atena_no=p["atena_no"]) for p in change.payload["persons"]]


def codes_of(exc) -> set[str]:
    return {x.code for x in exc.value.findings}


def refused(submit, data, ack=()) -> set[str]:
    with pytest.raises(FindingsError) as exc:
        submit(f.clerk(), data, acknowledged=ack)
    return codes_of(exc)


def reasons(atena: str) -> list[str]:
    return list(
        ResidentHistory.objects.filter(atena_no=atena)
        .order_by("history_no")
        .values_list("change_reason", flat=True)
    )


# --------------------------------------------------------------------------- 法第30条の46


def test_move_in_30_46_enters_a_foreign_household_from_abroad():
    # std 4.5.1 (j910): 国外転入に準じた登録, blank previous address; std 1.1.2 (j20) items
    change = submit_30_46(fperson(), spouse())
    assert change.change_reason == "move_in_from_abroad"
    head, wife = committed = [
        Resident.objects.get(atena_no=p["atena_no"]) for p in commit(change).payload["persons"]
    ]
    for person in committed:
        assert person.resident_type == "foreign"
        assert person.became_foreign_resident_on == TODAY - dt.timedelta(days=2)
        assert person.address_set_on == TODAY - dt.timedelta(days=2)
        assert person.became_resident_on is None
        assert person.previous_address == ""
        assert person.katagaki == "101"
        assert person.household_no == head.household_no
        assert reasons(person.atena_no) == ["move_in_from_abroad"]
        # std 4.3.1 (j870): persons without a code get one from the pool
        assert JuminhyoCodePool.objects.get(code=person.juminhyo_code).assigned_to == (
            person.atena_no
        )
    assert wife.head_name == "SMITH JOHN"
    assert head.stay_expires_on == TODAY + dt.timedelta(days=3 * 365)
    notices = OutboxMessage.objects.filter(topic="immigration_notice").order_by("id")
    # std 4.5.7 (j970): 市町村通知, 住基法・入管法 for 中長期在留者
    assert [n.payload["basis"] for n in notices] == ["jumin_and_immigration"] * 2
    assert {n.ordering_key for n in notices} == {head.atena_no, wife.atena_no}
    assert notices[0].destination == "isa"
    assert OutboxMessage.objects.filter(topic="identity_info").count() == 2


def test_move_in_30_46_category_items():
    # std 1.1.2 (j20): the items of 法第30条の45 per category
    special, refuge = committed_foreign(
        fperson(
            foreign_category="special_permanent",
            residence_status="",
            period_of_stay="",
            stay_expires_on=None,
            residence_card_no="ab12345678cd",
        ),
        spouse(
            foreign_category="temporary_refuge",
            residence_status="",
            residence_card_no="",
            period_of_stay="6月",
            stay_expires_on=None,
        ),
    )
    assert special.residence_card_no == "AB12345678CD"  # normalised
    assert refuge.period_of_stay == "6月"
    notices = {
        n.ordering_key: n.payload["basis"]
        for n in OutboxMessage.objects.filter(topic="immigration_notice")
    }
    assert notices == {special.atena_no: "jumin_and_immigration", refuge.atena_no: "jumin"}


def test_move_in_30_46_errors():
    submit = foreign.submit_foreign_move_in_30_46

    def check(person, ack=()):
        return refused(submit, foreign.ForeignMoveInInput.model_validate(move_in_data(person)), ack)

    assert check(fperson(foreign_category="transitional")) == {"foreign_category.invalid"}
    assert check(fperson(foreign_category="")) == {"foreign_category.invalid"}
    assert check(fperson(nationality="")) == {"nationality.empty"}
    assert check(fperson(residence_status="", period_of_stay="")) == {
        "residence_status.empty",
        "period_of_stay.empty",
    }
    assert check(fperson(stay_expires_on=None)) == {"stay_expires_on.empty"}
    assert check(fperson(stay_expires_on=TODAY - dt.timedelta(days=10))) == {"stay_expires_on.past"}
    assert check(fperson(residence_card_no="A1234567CD")) == {"residence_card_no.length"}
    assert check(fperson(residence_card_no="1234567890AB")) == {"residence_card_no.format"}
    assert check(
        fperson(foreign_category="special_permanent", period_of_stay="", stay_expires_on=None)
    ) == {"foreign.item_not_applicable"}
    assert check(
        fperson(foreign_category="special_permanent", **_no_stay(), residence_card_no="")
    ) == {"residence_card_no.empty"}
    assert check(fperson(name_alphabet="", name_kana="")) == {"name.empty"}
    assert check(fperson(birth_date="1990-02-3x")) == {"wareki.unparseable", "birth_date.empty"}
    # 在留カード後日交付: an alert, not an error
    assert check(fperson(residence_card_no="")) == {"residence_card_no.later_issue"}
    change = submit_30_46(fperson(residence_card_no=""), ack=["residence_card_no.later_issue"])
    assert change.acknowledged == ["residence_card_no.later_issue"]


def _no_stay() -> dict[str, Any]:
    return {"residence_status": "", "period_of_stay": "", "stay_expires_on": None}


def test_move_in_30_46_late_notification_and_duplicates():
    # std 4.0.3 (j480): 14 days; duplicate card numbers
    late = move_in_data(fperson(), occurred_on=TODAY - dt.timedelta(days=20))
    assert refused(
        foreign.submit_foreign_move_in_30_46, foreign.ForeignMoveInInput.model_validate(late)
    ) == {"notification.late"}
    (holder,) = committed_foreign(fperson())
    twin = move_in_data(
        fperson(
            residence_card_no=holder.residence_card_no,
            name_alphabet="OTHER PERSON",
            name_kana="アザー パーソン",
        )
    )
    assert refused(
        foreign.submit_foreign_move_in_30_46, foreign.ForeignMoveInInput.model_validate(twin)
    ) == {"duplicate.residence_card_no"}
    again = move_in_data(fperson(atena_no=holder.atena_no))
    assert refused(
        foreign.submit_foreign_move_in_30_46, foreign.ForeignMoveInInput.model_validate(again)
    ) == {"move_in.already_resident"}


def _remove(resident: Resident, reason: ChangeReason) -> Resident:
    """Test data: a removal committed through the services (as a move-out would)."""
    after = snapshot(resident)
    after.update(status="removed", removal_reason=reason.value, removed_on=TODAY.isoformat())
    plan = services.DraftPlan(
        procedure="test_removal",
        change_reason=reason,
        occurred_on=TODAY,
        notified_on=TODAY,
        persons=[services.PersonPlan(resident.atena_no, resident.history_no, after)],
    )
    change = services.save_draft(f.clerk(), plan)
    commit(change)
    resident.refresh_from_db()
    return resident


def test_returning_after_moving_abroad_carries_the_alias_over():
    # std 1.1.7 (j70): 国外転出後最初の国外転入で通称を引き継ぐ
    (person,) = committed_foreign(fperson())
    commit(
        foreign.submit_alias_entry(
            f.clerk(),
            foreign.AliasEntryInput(
                atena_no=person.atena_no, alias="山田太郎", alias_kana="ヤマダ タロウ"
            ),
        )
    )
    person.refresh_from_db()
    _remove(person, ChangeReason.MOVE_OUT_ABROAD)
    code = person.juminhyo_code
    change = submit_30_46(
        fperson(atena_no=person.atena_no, residence_card_no=person.residence_card_no),
        ack=["duplicate.residence_card_no_removed"],
    )
    assert change.payload["summary"]["alias_carried_over"] == [person.atena_no]
    commit(change)
    person.refresh_from_db()
    assert person.status == "resident"
    assert person.alias == "山田太郎" and person.alias_entered_on is not None
    assert person.juminhyo_code == code  # a returning person keeps the code
    assert reasons(person.atena_no)[-1] == "move_in_from_abroad"


def test_returning_without_alias_carry_over():
    (person,) = committed_foreign(fperson())
    commit(
        foreign.submit_alias_entry(
            f.clerk(),
            foreign.AliasEntryInput(
                atena_no=person.atena_no, alias="山田太郎", alias_kana="ヤマダ タロウ"
            ),
        )
    )
    person.refresh_from_db()
    _remove(person, ChangeReason.MOVE_OUT_ABROAD)
    commit(
        submit_30_46(
            fperson(atena_no=person.atena_no, keep_alias=False),
        )
    )
    person.refresh_from_db()
    assert person.alias == "" and person.alias_entered_on is None


# --------------------------------------------------------------------------- 法第30条の47


def test_30_47_enters_a_person_who_becomes_a_mid_long_term_resident():
    # std 4.5.2 (j920): 住所を有する者が中長期在留者等となった場合
    data = foreign.Foreign3047Input.model_validate(
        move_in_data(
            fperson(),
            occurred_on=TODAY - dt.timedelta(days=1),
            address_set_on=TODAY - dt.timedelta(days=200),
        )
    )
    change = foreign.submit_foreign_30_47(f.clerk(), data)
    assert change.change_reason == "move_in_from_abroad"
    assert change.procedure == "foreign_30_47"
    commit(change)
    person = Resident.objects.get(atena_no=change.payload["persons"][0]["atena_no"])
    assert person.address_set_on == TODAY - dt.timedelta(days=200)
    assert person.became_foreign_resident_on == TODAY - dt.timedelta(days=1)
    notice = OutboxMessage.objects.get(topic="immigration_notice")
    assert notice.payload["event"] == "notification_30_47"
    assert notice.payload["basis"] == "jumin_and_immigration"


def test_30_47_errors():
    data = foreign.Foreign3047Input.model_validate(
        move_in_data(
            fperson(),
            occurred_on=TODAY - dt.timedelta(days=5),
            address_set_on=TODAY - dt.timedelta(days=1),
        )
    )
    assert refused(foreign.submit_foreign_30_47, data) == {"address_set_on.after_occurred"}
    data = foreign.Foreign3047Input.model_validate(
        move_in_data(fperson(), household_no="9999999999", address_set_on=TODAY)
    )
    assert "household.unknown" in refused(foreign.submit_foreign_30_47, data)


# --------------------------------------------------------------------------- 帰化・国籍取得


def naturalised(atena: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "atena_no": atena,
        "family_name": "山田",
        "given_name": "太郎",
        "name_kana": "ヤマダ タロウ",
        "honseki": "神奈川県相模原市中央区中央二丁目",
        "koseki_head": "山田 太郎",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("submit", "procedure"),
    [
        (foreign.submit_naturalisation, "naturalisation"),
        (foreign.submit_nationality_acquisition, "nationality_acquisition"),
    ],
)
def test_naturalisation_removes_the_foreign_record_and_enters_a_japanese_one(submit, procedure):
    # std 4.5.3 (j930) / 4.5.4 (j940): the items carry over;
    # 外国人住民となった年月日 becomes 住民となった年月日
    head, wife = committed_foreign(fperson(), spouse())
    data = foreign.NaturalisationInput.model_validate(
        {"occurred_on": TODAY - dt.timedelta(days=1), "persons": [naturalised(head.atena_no)]}
    )
    change = submit(f.clerk(), data)
    assert change.procedure == procedure
    assert change.change_reason == "ex_officio_entry_naturalisation"
    summary = change.payload["summary"]
    new_atena = summary["successors"][head.atena_no]
    assert new_atena != head.atena_no
    assert summary["person_reasons"] == {
        head.atena_no: "ex_officio_removal_naturalisation",
        new_atena: "ex_officio_entry_naturalisation",
        wife.atena_no: "ex_officio_amendment",
    }
    commit(change)
    old = Resident.objects.get(atena_no=head.atena_no)
    new = Resident.objects.get(atena_no=new_atena)
    assert old.status == "removed"
    assert old.removal_reason == "ex_officio_removal_naturalisation"
    assert old.removed_on == TODAY - dt.timedelta(days=1)
    assert old.resident_type == "foreign" and old.name_alphabet == "SMITH JOHN"
    assert new.status == "resident" and new.resident_type == "japanese"
    assert new.name == "山田　太郎" and new.honseki and new.koseki_head == "山田 太郎"
    for item in (
        "address",
        "katagaki",
        "address_code",
        "birth_date",
        "sex",
        "relationship",
        "address_set_on",
        "juminhyo_code",
        "my_number_id",
        "previous_address",
        "household_no",
    ):
        assert getattr(new, item) == getattr(old, item), item
    assert new.became_resident_on == old.became_foreign_resident_on
    assert new.became_foreign_resident_on is None
    assert new.nationality == new.residence_card_no == new.name_alphabet == ""
    assert new.stay_expires_on is None
    assert new.relationship == "世帯主"
    wife.refresh_from_db()
    assert wife.head_name == "山田　太郎"
    # each person's history row carries their own reason (std 1.2.2, j210)
    assert reasons(new_atena) == ["ex_officio_entry_naturalisation"]
    assert reasons(head.atena_no) == ["move_in_from_abroad", "ex_officio_removal_naturalisation"]
    assert reasons(wife.atena_no) == ["move_in_from_abroad", "ex_officio_amendment"]
    notice = OutboxMessage.objects.get(topic="immigration_notice", payload__event=procedure)
    assert notice.ordering_key == head.atena_no


def test_naturalisation_of_a_whole_family():
    head, wife = committed_foreign(fperson(), spouse())
    data = foreign.NaturalisationInput.model_validate(
        {
            "occurred_on": TODAY,
            "persons": [
                naturalised(head.atena_no),
                naturalised(
                    wife.atena_no, given_name="花子", name_kana="ヤマダ ハナコ", relationship="妻"
                ),
            ],
        }
    )
    change = commit(foreign.submit_naturalisation(f.clerk(), data))
    successors = change.payload["summary"]["successors"]
    new_wife = Resident.objects.get(atena_no=successors[wife.atena_no])
    assert new_wife.head_name == "山田　太郎"
    assert Resident.objects.filter(status="resident", household_no=head.household_no).count() == 2


def test_naturalisation_errors():
    (alien,) = committed_foreign(fperson())
    _, (japanese,) = f.committed_move_in(f.person())

    def check(*persons):
        data = foreign.NaturalisationInput.model_validate(
            {"occurred_on": TODAY, "persons": list(persons)}
        )
        return refused(foreign.submit_naturalisation, data)

    assert check(naturalised(japanese.atena_no)) == {"naturalisation.not_foreign"}
    assert check(naturalised("9999999999")) == {"atena_no.not_resident"}
    assert check(naturalised(alien.atena_no, name_kana="")) == {"name_kana.empty"}
    assert check(naturalised(alien.atena_no, honseki="", koseki_head="")) == {
        "honseki.empty",
        "koseki_head.empty",
    }
    assert check(naturalised(alien.atena_no, family_name="")) == {"name.empty"}
    assert check(naturalised(alien.atena_no), naturalised(alien.atena_no)) == {"persons.duplicate"}
    late = foreign.NaturalisationInput.model_validate(
        {
            "occurred_on": TODAY,
            "notified_on": TODAY - dt.timedelta(days=1),
            "persons": [naturalised(alien.atena_no)],
        }
    )
    assert refused(foreign.submit_naturalisation, late) == {"notified_on.before_occurred"}
    assert Resident.objects.get(atena_no=alien.atena_no).status == "resident"


# --------------------------------------------------------------------------- 国籍喪失


def lost(atena: str, **overrides: Any) -> dict[str, Any]:
    data = {"atena_no": atena, "name_alphabet": "SAGAMI TARO", "nationality": "米国"}
    data.update(overrides)
    return data


def test_nationality_loss_enters_a_transitional_foreign_record():
    # std 4.5.5 (j950): 日本人住民票の消除と外国人住民票の記載; 経過滞在者
    _, (head, wife, *_children) = f.family()
    crypto.reset_keyring_cache()
    loss_on = TODAY - dt.timedelta(days=1)
    data = foreign.NationalityLossInput.model_validate(
        {"occurred_on": loss_on, "persons": [lost(head.atena_no)]}
    )
    change = foreign.submit_nationality_loss(f.clerk(), data)
    assert change.change_reason == "ex_officio_entry_nationality_loss"
    summary = change.payload["summary"]
    new_atena = summary["successors"][head.atena_no]
    assert summary["person_reasons"][head.atena_no] == "ex_officio_removal_nationality_loss"
    commit(change)
    old = Resident.objects.get(atena_no=head.atena_no)
    new = Resident.objects.get(atena_no=new_atena)
    assert old.status == "removed" and old.removal_reason == "ex_officio_removal_nationality_loss"
    assert reasons(head.atena_no)[-1] == "ex_officio_removal_nationality_loss"
    assert reasons(new_atena) == ["ex_officio_entry_nationality_loss"]
    assert new.resident_type == "foreign" and new.foreign_category == "transitional"
    assert new.name_alphabet == "SAGAMI TARO"
    assert new.family_name == "相模"  # the kanji name is carried unless given
    assert new.honseki == new.koseki_head == ""
    assert new.became_resident_on is None
    # the later of the loss and 住民となった年月日 (3 days ago in the factory)
    assert new.became_foreign_resident_on == loss_on
    for item in ("address", "birth_date", "relationship", "juminhyo_code", "household_no"):
        assert getattr(new, item) == getattr(old, item)
    wife.refresh_from_db()
    assert wife.head_name == "相模　太郎"
    notice = OutboxMessage.objects.get(topic="immigration_notice")
    assert notice.ordering_key == new_atena and notice.payload["basis"] == "jumin"


def test_nationality_loss_before_becoming_a_resident_uses_the_resident_date():
    # std 4.5.5 (j950): いずれか遅い年月日
    _, (person,) = f.committed_move_in(f.person())
    data = foreign.NationalityLossInput.model_validate(
        {"occurred_on": TODAY - dt.timedelta(days=30), "persons": [lost(person.atena_no)]}
    )
    change = commit(foreign.submit_nationality_loss(f.clerk(), data))
    new = Resident.objects.get(atena_no=change.payload["summary"]["successors"][person.atena_no])
    assert new.became_foreign_resident_on == person.became_resident_on


def test_nationality_loss_errors():
    (alien,) = committed_foreign(fperson())
    _, (person,) = f.committed_move_in(f.person())

    def check(entry):
        data = foreign.NationalityLossInput.model_validate(
            {"occurred_on": TODAY, "persons": [entry]}
        )
        return refused(foreign.submit_nationality_loss, data)

    assert check(lost(alien.atena_no)) == {"nationality_loss.not_japanese"}
    assert check(lost(person.atena_no, nationality="")) == {"nationality.empty"}
    assert check(lost(person.atena_no, residence_status="留学")) == {"foreign.item_not_applicable"}
    assert check(lost(person.atena_no, foreign_category="unknown")) == {"foreign_category.invalid"}


# --------------------------------------------------------------------------- 長官通知


def amendment(atena: str, **changes: Any) -> foreign.ImmigrationAmendmentInput:
    return foreign.ImmigrationAmendmentInput.model_validate(
        {"atena_no": atena, "occurred_on": TODAY - dt.timedelta(days=3), "notified_on": TODAY}
        | changes
    )


def test_immigration_amendment_changes_the_stay_items():
    # std 4.5.6 (j960): 長官通知に基づく修正; the before/after list (処理結果確認票)
    (person,) = committed_foreign(fperson())
    new_expiry = TODAY + dt.timedelta(days=5 * 365)
    change = foreign.submit_immigration_amendment(
        f.clerk(),
        amendment(
            person.atena_no,
            residence_status="永住者",
            period_of_stay="無期限",
            stay_expires_on=new_expiry,
            residence_card_no="xy98765432zz",
        ),
    )
    assert change.change_reason == "ex_officio_amendment"
    changes = change.payload["summary"]["changes"]
    assert changes["residence_status"] == {"before": "技術・人文知識・国際業務", "after": "永住者"}
    assert changes["residence_card_no"]["after"] == "XY98765432ZZ"
    assert set(changes) == {
        "residence_status",
        "period_of_stay",
        "stay_expires_on",
        "residence_card_no",
    }
    commit(change)
    person.refresh_from_db()
    assert person.residence_status == "永住者" and person.stay_expires_on == new_expiry
    assert reasons(person.atena_no) == ["move_in_from_abroad", "ex_officio_amendment"]
    assert not OutboxMessage.objects.filter(
        topic="immigration_notice", change_id=change.pk
    ).exists()


def test_immigration_amendment_category_change_clears_items_and_name_follows_to_members():
    head, wife = committed_foreign(fperson(), spouse())
    change = commit(
        foreign.submit_immigration_amendment(
            f.clerk(),
            amendment(
                head.atena_no,
                foreign_category="special_permanent",
                name_alphabet="SMITH JOHN PAUL",
            ),
        )
    )
    head.refresh_from_db()
    assert head.foreign_category == "special_permanent"
    assert head.residence_status == head.period_of_stay == "" and head.stay_expires_on is None
    wife.refresh_from_db()
    assert wife.head_name == "SMITH JOHN PAUL"
    assert {p["atena_no"] for p in change.payload["persons"]} == {head.atena_no, wife.atena_no}


def test_immigration_amendment_errors():
    (person,) = committed_foreign(fperson())
    _, (japanese,) = f.committed_move_in(f.person())
    submit = foreign.submit_immigration_amendment
    assert refused(submit, amendment(person.atena_no)) == {"immigration.nothing_changed"}
    assert refused(
        submit, amendment(person.atena_no, residence_status="技術・人文知識・国際業務")
    ) == {"immigration.nothing_changed"}
    assert refused(
        submit, amendment(person.atena_no, stay_expires_on=TODAY - dt.timedelta(days=30))
    ) == {"stay_expires_on.past"}
    assert refused(submit, amendment(japanese.atena_no, nationality="米国")) == {
        "immigration.not_foreign"
    }
    assert refused(submit, amendment(person.atena_no, residence_card_no="12")) == {
        "residence_card_no.length"
    }
    (other,) = committed_foreign(fperson(name_alphabet="OTHER ONE", name_kana="アザー ワン"))
    assert refused(
        submit, amendment(person.atena_no, residence_card_no=other.residence_card_no)
    ) == {"duplicate.residence_card_no"}


def removal(atena: str, **extra: Any) -> foreign.ImmigrationRemovalInput:
    return foreign.ImmigrationRemovalInput.model_validate(
        {
            "atena_no": atena,
            "occurred_on": TODAY - dt.timedelta(days=3),
            "notified_on": TODAY,
            "kind": "status_revoked",
        }
        | extra
    )


def test_immigration_removal_and_the_remaining_member_becomes_head():
    # std 4.5.6 (j960): 長官通知に基づく消除; std 4.0.4 (j490)
    head, wife = committed_foreign(fperson(), spouse())
    assert refused(foreign.submit_immigration_removal, removal(head.atena_no)) == {
        "household.single_member_becomes_head"
    }
    change = commit(
        foreign.submit_immigration_removal(
            f.clerk(), removal(head.atena_no), acknowledged=["household.single_member_becomes_head"]
        )
    )
    assert change.change_reason == "ex_officio_removal"
    assert change.payload["summary"]["label"] == "在留資格の取消し"
    head.refresh_from_db()
    wife.refresh_from_db()
    assert head.status == "removed" and head.removal_reason == "ex_officio_removal"
    assert head.removed_on == TODAY - dt.timedelta(days=3)
    assert head.household_no == wife.household_no  # the removed record keeps its household
    assert wife.relationship == "世帯主" and wife.head_name == "SMITH MARY"
    assert change.payload["summary"]["person_reasons"] == {wife.atena_no: "ex_officio_amendment"}
    assert reasons(head.atena_no)[-1] == "ex_officio_removal"
    assert reasons(wife.atena_no)[-1] == "ex_officio_amendment"


def test_immigration_removal_errors():
    (person,) = committed_foreign(fperson())
    _, (japanese,) = f.committed_move_in(f.person())
    submit = foreign.submit_immigration_removal
    assert refused(submit, removal(person.atena_no, kind="other")) == {"note.empty"}
    assert refused(submit, removal(japanese.atena_no)) == {"immigration.not_foreign"}
    assert refused(submit, removal(person.atena_no, occurred_on=TODAY + dt.timedelta(days=1))) == {
        "occurred_on.future",
        "notified_on.before_occurred",
    }
    change = commit(submit(f.clerk(), removal(person.atena_no, kind="other", note="出国確認")))
    assert change.payload["summary"]["note"] == "出国確認"
    assert refused(submit, removal(person.atena_no)) == {"atena_no.not_resident"}


# --------------------------------------------------------------------------- 通称


def test_alias_entry_and_removal():
    # std 1.1.7 (j70) 申出に基づく通称の記載・削除; std 1.1.2 (j20) 記載・削除の年月日と市区町村
    (person,) = committed_foreign(fperson())
    change = foreign.submit_alias_entry(
        f.clerk(),
        foreign.AliasEntryInput(
            atena_no=person.atena_no,
            alias="山田太郎",
            alias_kana="やまだ たろう",
            notified_on=TODAY - dt.timedelta(days=1),
        ),
    )
    assert change.change_reason == "alias_entry"
    assert change.notified_on == TODAY - dt.timedelta(days=1)
    assert change.payload["summary"]["alias_municipality_code"] == "141500"
    commit(change)
    person.refresh_from_db()
    assert person.alias == "山田太郎" and person.alias_kana == "ヤマダ　タロウ"
    assert person.alias_entered_on == TODAY and person.alias_kana_key
    assert f"通称を記載した年月日 {TODAY:%Y-%m-%d}" in person.remarks
    assert "通称を記載した市区町村 相模原市（141500）" in person.remarks
    change = commit(
        foreign.submit_alias_removal(
            f.clerk(),
            foreign.AliasRemovalInput(atena_no=person.atena_no, municipality_code="131016"),
        )
    )
    assert change.payload["summary"]["previous_alias"] == "山田太郎"
    person.refresh_from_db()
    assert person.alias == person.alias_kana == "" and person.alias_entered_on is None
    assert person.alias_removed_on == TODAY
    assert "通称を削除した市区町村 131016" in person.remarks.splitlines()[-1]
    assert reasons(person.atena_no) == ["move_in_from_abroad", "alias_entry", "alias_removal"]
    before = ResidentHistory.objects.get(atena_no=person.atena_no, history_no=2)
    assert before.alias == "山田太郎"  # the history keeps the alias


def test_alias_errors():
    (person,) = committed_foreign(fperson())
    _, (japanese,) = f.committed_move_in(f.person())

    def entry(**data):
        return refused(
            foreign.submit_alias_entry,
            foreign.AliasEntryInput.model_validate({"atena_no": person.atena_no} | data),
        )

    ok = {"alias": "山田太郎", "alias_kana": "ヤマダ タロウ"}
    assert refused(
        foreign.submit_alias_entry,
        foreign.AliasEntryInput(atena_no=japanese.atena_no, **ok),
    ) == {"resident_type.not_allowed"}
    assert refused(
        foreign.submit_alias_removal, foreign.AliasRemovalInput(atena_no=person.atena_no)
    ) == {"alias.none"}
    assert entry(alias="山田太郎", alias_kana="") == {"name_kana.empty"}
    assert entry(alias="", alias_kana="ヤマダ") == {"name.empty"}
    assert entry(alias="SMITH JOHN", alias_kana="スミス") == {"alias.same_as_name"}
    assert entry(**ok, municipality_code="141501") == {"local_government_code.check_digit"}
    assert entry(**ok, notified_on=TODAY, entered_on=TODAY - dt.timedelta(days=1)) == {
        "notified_on.after_occurred"
    }
    commit(
        foreign.submit_alias_entry(
            f.clerk(), foreign.AliasEntryInput(atena_no=person.atena_no, **ok)
        )
    )
    assert entry(**ok) == {"alias.exists"}


def test_specs_are_listed():
    assert [s.name for s in foreign.SPECS] == [
        "foreign_move_in_30_46",
        "foreign_30_47",
        "naturalisation",
        "nationality_acquisition",
        "nationality_loss",
        "immigration_amendment",
        "immigration_removal",
        "alias_entry",
        "alias_removal",
    ]
