"""世帯変更等 (std 4.1.4): 世帯分離, 世帯合併, 世帯主変更, 世帯変更 — through submit → commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from jumin.core.findings import FindingsError
from jumin.core.identifiers import validate_household_no
from jumin.outbox.models import OutboxMessage
from jumin.register import services
from jumin.register.models import Change, Household, Resident, ResidentHistory
from jumin.register.procedures import household as hh
from jumin.register.procedures.household import Kin, derive_relationship
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)


def _codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def _messages(exc: pytest.ExceptionInfo[FindingsError]) -> str:
    return "\n".join(x.message for x in exc.value.findings)


def _commit(change: Change) -> Change:
    return services.commit_change(f.reviewer(), change.pk)


def _fresh(resident: Resident) -> Resident:
    return Resident.objects.get(atena_no=resident.atena_no)


def _last(resident: Resident) -> ResidentHistory:
    return ResidentHistory.objects.filter(atena_no=resident.atena_no).latest("history_no")


def _dates(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"occurred_on": YESTERDAY, "notified_on": TODAY}
    data.update(overrides)
    return data


def _family() -> tuple[Resident, Resident, Resident, Resident]:
    """太郎 (世帯主, 1980), 花子 (妻, 1982), 一郎 (子, 2010), 桜 (子, 2014)."""
    _, (taro, hanako, ichiro, sakura) = f.family()
    return taro, hanako, ichiro, sakura


def _couple(**address: Any) -> tuple[Resident, Resident]:
    """大野 次郎 (世帯主) and 美咲 (妻), at the family's address unless ``address`` says."""
    extra = {"address": {"address_code": f.ADDRESS_CODE, "banchi": "2丁目11番15号", **address}}
    _, (jiro, misaki) = f.committed_move_in(
        f.person(family_name="大野", given_name="次郎", name_kana="オオノ ジロウ"),
        f.person(
            family_name="大野",
            given_name="美咲",
            name_kana="オオノ ミサキ",
            sex="2",
            birth_date="1984-02-02",
            relationship="妻",
        ),
        **extra,
    )
    return jiro, misaki


def _trio() -> tuple[Resident, Resident, Resident]:
    """大野 次郎 (世帯主), 美咲 (妻), 健 (子, 2012)."""
    _, (jiro, misaki, ken) = f.committed_move_in(
        f.person(family_name="大野", given_name="次郎", name_kana="オオノ ジロウ"),
        f.person(
            family_name="大野",
            given_name="美咲",
            name_kana="オオノ ミサキ",
            sex="2",
            birth_date="1984-02-02",
            relationship="妻",
        ),
        f.person(
            family_name="大野",
            given_name="健",
            name_kana="オオノ ケン",
            birth_date="2012-05-05",
            relationship="子",
        ),
    )
    return jiro, misaki, ken


def _settled_long_ago(family_name: str, kana: str) -> tuple[Resident, Resident]:
    """A couple who moved in 40 days ago (so a 世帯変更 can be notified late)."""
    _, (head, wife) = f.committed_move_in(
        f.person(family_name=family_name, given_name="一", name_kana=f"{kana} ハジメ"),
        f.person(
            family_name=family_name,
            given_name="幸",
            name_kana=f"{kana} サチ",
            sex="2",
            relationship="妻",
        ),
        occurred_on=TODAY - dt.timedelta(days=40),
        notified_on=TODAY - dt.timedelta(days=38),
        certificate={"municipality_code": "131016"},
    )
    return head, wife


def _member(resident: Resident, relationship: str = "") -> dict[str, str]:
    return {"atena_no": resident.atena_no, "relationship": relationship}


def split(household_no: str, new_head: Resident, *members: dict[str, str], **kw: Any):
    data = _dates(
        household_no=household_no, new_head_atena_no=new_head.atena_no, members=list(members)
    )
    data.update(kw)
    return hh.HouseholdSplitInput.model_validate(data)


def merge(household_no: str, into: str, *members: dict[str, str], **kw: Any):
    data = _dates(household_no=household_no, into_household_no=into, members=list(members))
    data.update(kw)
    return hh.HouseholdMergeInput.model_validate(data)


def head_change(household_no: str, new_head: Resident, *overrides: dict[str, str], **kw: Any):
    data = _dates(
        household_no=household_no,
        new_head_atena_no=new_head.atena_no,
        relationships=list(overrides),
    )
    data.update(kw)
    return hh.HeadChangeInput.model_validate(data)


def composition(into: str, *members: dict[str, str], **kw: Any):
    data = _dates(into_household_no=into, members=list(members))
    data.update(kw)
    return hh.HouseholdCompositionInput.model_validate(data)


def test_specs_name_the_four_procedures():
    assert [(s.name, s.label, s.group) for s in hh.SPECS] == [
        ("household_split", "世帯分離", "4.1.4"),
        ("household_merge", "世帯合併", "4.1.4"),
        ("head_change", "世帯主変更", "4.1.4"),
        ("household_composition", "世帯構成変更", "4.1.4"),
    ]


# --- 世帯分離 -----------------------------------------------------------------------------


def test_split_one_member_forms_a_new_household_with_a_valid_number():
    # std 4.1.4.1 (j720) 世帯分離; std 1.1.13 (j130) check digit of the new 世帯番号
    taro, hanako, ichiro, sakura = _family()
    old = taro.household_no
    households = Household.objects.count()
    change = hh.submit_split(f.clerk(), split(old, ichiro, _member(ichiro)))
    assert change.status == Change.Status.DRAFT
    assert _fresh(ichiro).household_no == old  # invisible until committed (j530)
    _commit(change)
    moved = _fresh(ichiro)
    new_no = change.payload["summary"]["new_household_no"]
    assert validate_household_no(new_no) == new_no
    assert moved.household_no == new_no != old
    assert Household.objects.count() == households + 1
    assert change.payload["new_households"] == [new_no]
    assert moved.relationship == "世帯主"
    assert moved.head_name == moved.name == "相模　一郎"
    assert moved.address == ichiro.address and moved.katagaki == ichiro.katagaki
    row = _last(ichiro)
    assert (row.history_no, row.change_reason) == (2, "household_split")
    assert row.occurred_on == YESTERDAY and row.history_notified_on == TODAY
    assert row.household_no == new_no and row.head_name == "相模　一郎"
    for other in (taro, hanako, sakura):
        assert _fresh(other).history_no == 1
        assert _fresh(other).household_no == old
    assert OutboxMessage.objects.filter(
        change_id=change.pk, topic="identity_info", ordering_key=ichiro.atena_no
    ).exists()


def test_split_several_members_takes_their_relationships_to_the_new_head():
    # std 4.1.4.1 (j720); relationships in the core grammar, normalised (std 1.1.11, j110)
    taro, hanako, ichiro, sakura = _family()
    change = hh.submit_split(
        f.clerk(),
        split(
            taro.household_no,
            hanako,
            _member(hanako, "世帯主"),
            _member(sakura, " 子 "),
        ),
    )
    _commit(change)
    assert {p["atena_no"] for p in change.payload["persons"]} == {
        hanako.atena_no,
        sakura.atena_no,
    }
    new_hanako, new_sakura = _fresh(hanako), _fresh(sakura)
    assert new_hanako.household_no == new_sakura.household_no != taro.household_no
    assert (new_hanako.relationship, new_sakura.relationship) == ("世帯主", "子")
    assert new_hanako.head_name == new_sakura.head_name == "相模　花子"
    assert _last(sakura).change_reason == "household_split"
    assert _fresh(taro).history_no == _fresh(ichiro).history_no == 1


def test_split_by_the_head_with_two_left_alerts_and_clears_their_head_name():
    # std 4.0.4 (j490): head leaves, two or more remain → alert, 世帯主変更 needed;
    # std 1.1.10 (j100): the household is left 世帯主未設定 and sent as such
    taro, hanako, ichiro, sakura = _family()
    data = split(taro.household_no, taro, _member(taro), _member(hanako, "妻"))
    with pytest.raises(FindingsError) as exc:
        hh.submit_split(f.clerk(), data)
    assert _codes(exc) == {"household.head_leaves"}  # not a second "no head" alert
    assert not Change.objects.filter(procedure="household_split").exists()
    change = _commit(hh.submit_split(f.clerk(), data, acknowledged=["household.head_leaves"]))
    assert change.acknowledged == ["household.head_leaves"]
    assert len(change.payload["persons"]) == 4
    for child in (ichiro, sakura):
        now = _fresh(child)
        assert now.household_no == taro.household_no
        assert now.relationship == "子"
        assert now.head_name == ""
        assert _last(child).change_reason == "household_split"
    assert _fresh(taro).head_name == _fresh(hanako).head_name == "相模　太郎"
    assert _fresh(hanako).relationship == "妻"


def test_split_by_the_head_with_one_left_makes_that_member_head():
    # std 4.0.4 (j490): a single remaining member becomes head ex officio
    _, (head, child) = f.committed_move_in(
        f.person(family_name="橋本", given_name="修", name_kana="ハシモト オサム"),
        f.person(
            family_name="橋本",
            given_name="歩",
            name_kana="ハシモト アユム",
            birth_date="2000-01-01",
            relationship="子",
        ),
    )
    data = split(head.household_no, head, _member(head))
    with pytest.raises(FindingsError) as exc:
        hh.submit_split(f.clerk(), data)
    assert _codes(exc) == {"household.single_member_becomes_head"}
    _commit(hh.submit_split(f.clerk(), data, acknowledged=["household.single_member_becomes_head"]))
    stayed = _fresh(child)
    assert stayed.household_no == head.household_no
    assert (stayed.relationship, stayed.head_name) == ("世帯主", "橋本　歩")
    assert _last(child).change_reason == "household_split"
    assert _fresh(head).household_no != head.household_no


def test_split_records_the_de_facto_head_in_the_remarks():
    # std 4.1.4.3 (j740): 事実上の世帯主 in 備考
    taro, _hanako, ichiro, sakura = _family()
    _commit(
        hh.submit_split(
            f.clerk(),
            split(taro.household_no, sakura, _member(sakura), de_facto_head_name="施設長　山田"),
        )
    )
    assert _fresh(sakura).remarks == "事実上の世帯主：施設長　山田"
    assert _fresh(ichiro).remarks == ""


@pytest.mark.parametrize(
    ("build", "code"),
    [
        # std 4.1.4.1 (j720): someone must stay behind
        (
            lambda t, h, i, s: split(
                t.household_no, h, *(_member(p, "子") for p in (h, i, s)), _member(t, "夫")
            ),
            "household_split.all_members",
        ),
        (
            lambda t, h, i, s: split(t.household_no, h, _member(i, "子")),
            "household_split.head_not_member",
        ),
        (
            lambda t, h, i, s: split(t.household_no, h, _member(h, "妻"), _member(i, "子")),
            "household_split.head_relationship",
        ),
        # std 1.1.10 (j100): never two heads
        (
            lambda t, h, i, s: split(t.household_no, h, _member(h), _member(i, "世帯主")),
            "household.two_heads",
        ),
        # std 1.1.11 (j110): the core grammar
        (
            lambda t, h, i, s: split(t.household_no, h, _member(h), _member(i, "長男")),
            "relationship.forbidden",
        ),
        (lambda t, h, i, s: split(t.household_no, h, _member(h), _member(i)), "relationship.empty"),
        (lambda t, h, i, s: split(t.household_no, h, _member(h), _member(h)), "member.duplicate"),
        (lambda t, h, i, s: split("9999999999", h, _member(h)), "household.unknown"),
        (
            lambda t, h, i, s: split(t.household_no, h, _member(h), {"atena_no": "9999999999"}),
            "atena_no.not_resident",
        ),
        # std 4.0.3 (j480): no future 異動日 outside 転出
        (
            lambda t, h, i, s: split(
                t.household_no, h, _member(h), occurred_on=TODAY + dt.timedelta(days=1)
            ),
            "occurred_on.future",
        ),
        (
            lambda t, h, i, s: split(
                t.household_no, h, _member(h), occurred_on=TODAY - dt.timedelta(days=10)
            ),
            "occurred_on.before_address_set",
        ),
    ],
)
def test_split_errors_block_and_write_nothing(build, code):
    family = _family()
    households = Household.objects.count()
    with pytest.raises(FindingsError) as exc:
        hh.submit_split(f.clerk(), build(*family), acknowledged=["household.head_leaves"])
    assert code in _codes(exc)
    assert all(x.is_error for x in exc.value.findings if x.code == code)
    assert Household.objects.count() == households
    assert not Change.objects.filter(procedure="household_split").exists()
    assert all(_fresh(p).history_no == 1 for p in family)


def test_split_error_messages_name_the_person():
    taro, hanako, ichiro, _ = _family()
    with pytest.raises(FindingsError) as exc:
        hh.submit_split(
            f.clerk(), split(taro.household_no, hanako, _member(hanako), _member(ichiro, "孫"))
        )
    finding = next(x for x in exc.value.findings if x.code == "relationship.forbidden")
    assert "相模　一郎" in finding.message and ichiro.atena_no in finding.message
    assert "子の子" in finding.message
    assert finding.field == "members.1.relationship"


def test_split_of_a_member_of_another_household_is_refused():
    taro, *_ = _family()
    jiro, _ = _couple()
    with pytest.raises(FindingsError) as exc:
        hh.submit_split(f.clerk(), split(taro.household_no, jiro, _member(jiro)))
    assert "member.not_in_household" in _codes(exc)
    assert jiro.household_no in _messages(exc)


def test_split_late_notification_alert():
    # std 4.0.3 (j480), Art. 25: 世帯変更 within 14 days → alert when later
    head, wife = _settled_long_ago("森", "モリ")
    data = split(
        head.household_no,
        wife,
        _member(wife),
        occurred_on=TODAY - dt.timedelta(days=20),
        notified_on=TODAY,
    )
    with pytest.raises(FindingsError) as exc:
        hh.submit_split(f.clerk(), data)
    assert _codes(exc) == {"notification.late"}
    _commit(hh.submit_split(f.clerk(), data, acknowledged=["notification.late"]))
    assert _last(wife).occurred_on == TODAY - dt.timedelta(days=20)


# --- 世帯合併 -----------------------------------------------------------------------------


def test_merge_moves_every_member_under_the_other_head():
    # std 4.1.4.1 (j720) 世帯合併: all members join; the merged head stops being head
    taro, hanako, ichiro, sakura = _family()
    jiro, misaki = _couple()
    change = hh.submit_merge(
        f.clerk(),
        merge(jiro.household_no, taro.household_no, _member(jiro, "弟"), _member(misaki, "弟の妻")),
    )
    _commit(change)
    assert {p["atena_no"] for p in change.payload["persons"]} == {jiro.atena_no, misaki.atena_no}
    for person, relationship in ((jiro, "弟"), (misaki, "弟の妻")):
        now = _fresh(person)
        assert now.household_no == taro.household_no
        assert now.relationship == relationship
        assert now.head_name == "相模　太郎"
        row = _last(person)
        assert (row.history_no, row.change_reason) == (2, "household_merge")
    for person in (taro, hanako, ichiro, sakura):
        assert _fresh(person).history_no == 1
    assert not Resident.objects.filter(household_no=jiro.household_no).exists()
    assert OutboxMessage.objects.filter(change_id=change.pk, topic="identity_info").count() == 2


def test_merge_needs_the_same_address():
    # std 4.1.4.1 (j720): no address change together with a household change
    taro, *_ = _family()
    jiro, misaki = _couple(banchi="3丁目1番1号")
    with pytest.raises(FindingsError) as exc:
        hh.submit_merge(
            f.clerk(),
            merge(
                jiro.household_no, taro.household_no, _member(jiro, "弟"), _member(misaki, "弟の妻")
            ),
        )
    assert _codes(exc) == {"household.address_differs"}
    assert "3丁目1番1号" in _messages(exc) and "転居" in exc.value.findings.items[0].remedy
    assert _fresh(jiro).history_no == 1


def test_merge_with_a_different_katagaki_alerts():
    # std 4.1.4.1 (j720): equal 方書 is not required (実装しない), so only an alert
    taro, *_ = _family()
    jiro, misaki = _couple(katagaki="離れ")
    data = merge(
        jiro.household_no, taro.household_no, _member(jiro, "弟"), _member(misaki, "弟の妻")
    )
    with pytest.raises(FindingsError) as exc:
        hh.submit_merge(f.clerk(), data)
    assert _codes(exc) == {"household.katagaki_differs"}
    _commit(hh.submit_merge(f.clerk(), data, acknowledged=["household.katagaki_differs"]))
    assert _fresh(jiro).katagaki == "離れ"
    assert _fresh(jiro).household_no == taro.household_no


def test_merge_needs_every_member():
    taro, *_ = _family()
    jiro, _misaki = _couple()
    with pytest.raises(FindingsError) as exc:
        hh.submit_merge(f.clerk(), merge(jiro.household_no, taro.household_no, _member(jiro, "弟")))
    assert _codes(exc) == {"household_merge.member_missing"}
    assert "大野　美咲" in _messages(exc)


def test_merge_into_a_household_without_a_head_is_refused():
    taro, hanako, ichiro, _sakura = _family()
    _commit(
        hh.submit_split(
            f.clerk(),
            split(taro.household_no, taro, _member(taro), _member(hanako, "妻")),
            acknowledged=["household.head_leaves"],
        )
    )
    jiro, misaki = _couple()
    with pytest.raises(FindingsError) as exc:
        hh.submit_merge(
            f.clerk(),
            merge(
                jiro.household_no,
                ichiro.household_no,
                _member(jiro, "縁故者"),
                _member(misaki, "縁故者"),
            ),
        )
    assert _codes(exc) == {"household.target_no_head"}


@pytest.mark.parametrize(
    ("members", "code"),
    [
        # std 1.1.10 (j100): never two heads
        ([("jiro", "世帯主"), ("misaki", "弟の妻")], "household.two_heads"),
        # std 1.1.11 (j110)
        ([("jiro", "義弟"), ("misaki", "弟の妻")], "relationship.forbidden"),
        ([("jiro", "弟"), ("misaki", "弟の妻"), ("ichiro", "子")], "member.not_in_household"),
    ],
)
def test_merge_errors(members, code):
    taro, _hanako, ichiro, _sakura = _family()
    jiro, misaki = _couple()
    people = {"jiro": jiro, "misaki": misaki, "ichiro": ichiro}
    with pytest.raises(FindingsError) as exc:
        hh.submit_merge(
            f.clerk(),
            merge(
                jiro.household_no, taro.household_no, *(_member(people[k], r) for k, r in members)
            ),
        )
    assert code in _codes(exc)
    assert not Change.objects.filter(procedure="household_merge").exists()


def test_merge_into_itself_is_refused():
    taro, *_ = _family()
    with pytest.raises(FindingsError) as exc:
        hh.submit_merge(f.clerk(), merge(taro.household_no, taro.household_no, _member(taro)))
    assert _codes(exc) == {"household.same_household"}


# --- 世帯主変更 ---------------------------------------------------------------------------


def test_head_change_to_the_wife_rederives_every_relationship():
    # std 4.1.4.2 (j730): old head 夫 → new head 妻: old head becomes 夫, 子 stay 子
    taro, hanako, ichiro, sakura = _family()
    data = head_change(taro.household_no, hanako)
    with pytest.raises(FindingsError) as exc:
        hh.submit_head_change(f.clerk(), data)
    assert _codes(exc) == {"head_change.relationships_derived"}
    assert "相模　太郎 世帯主→夫" in _messages(exc)
    change = _commit(
        hh.submit_head_change(f.clerk(), data, acknowledged=["head_change.relationships_derived"])
    )
    expected = {taro: "夫", hanako: "世帯主", ichiro: "子", sakura: "子"}
    assert len(change.payload["persons"]) == 4  # every member: head_name changes
    for person, relationship in expected.items():
        now = _fresh(person)
        assert now.relationship == relationship
        assert now.head_name == "相模　花子"
        assert now.household_no == taro.household_no
        row = _last(person)
        assert (row.history_no, row.change_reason) == (2, "head_change")
    assert change.payload["summary"]["previous_head_atena_no"] == taro.atena_no


def test_head_change_to_a_child():
    # std 4.1.4.2 (j730): 子 becomes head: old head → 父, spouse → 母, siblings by birth date
    taro, hanako, ichiro, sakura = _family()
    _commit(
        hh.submit_head_change(
            f.clerk(),
            head_change(taro.household_no, ichiro),
            acknowledged=["head_change.relationships_derived"],
        )
    )
    got = {p.atena_no: _fresh(p).relationship for p in (taro, hanako, ichiro, sakura)}
    assert got == {
        taro.atena_no: "父",
        hanako.atena_no: "母",
        ichiro.atena_no: "世帯主",
        sakura.atena_no: "妹",
    }
    assert {_fresh(p).head_name for p in (taro, hanako, sakura)} == {"相模　一郎"}


def test_head_change_requires_the_clerk_where_not_derivable():
    # std 4.1.4.2 (j730): 子の妻 under a new head who is 子 cannot be derived (whose wife?)
    _, (father, son, daughter_in_law) = f.committed_move_in(
        f.person(
            family_name="石田", given_name="茂", name_kana="イシダ シゲル", birth_date="1950-01-01"
        ),
        f.person(
            family_name="石田",
            given_name="誠",
            name_kana="イシダ マコト",
            birth_date="1978-01-01",
            relationship="子",
        ),
        f.person(
            family_name="石田",
            given_name="恵",
            name_kana="イシダ メグミ",
            sex="2",
            birth_date="1980-01-01",
            relationship="子の妻",
        ),
    )
    data = head_change(father.household_no, son)
    with pytest.raises(FindingsError) as exc:
        hh.submit_head_change(f.clerk(), data, acknowledged=["head_change.relationships_derived"])
    assert _codes(exc) == {"head_change.relationship_required"}
    finding = exc.value.findings.items[0]
    assert "石田　恵" in finding.message and daughter_in_law.atena_no in finding.message
    assert "子の妻" in finding.message
    fixed = head_change(father.household_no, son, _member(daughter_in_law, "妻"))
    _commit(
        hh.submit_head_change(f.clerk(), fixed, acknowledged=["head_change.relationships_derived"])
    )
    assert _fresh(daughter_in_law).relationship == "妻"
    assert _fresh(father).relationship == "父"
    assert _fresh(son).relationship == "世帯主"


def test_head_change_clerk_override_wins_and_all_overridden_needs_no_alert():
    # std 4.1.4.2 (j730): the clerk may always set the relationship
    taro, hanako, ichiro, sakura = _family()
    data = head_change(
        taro.household_no,
        hanako,
        _member(taro, "夫"),
        _member(ichiro, "夫の子"),
        _member(sakura, "子"),
        _member(hanako, "世帯主"),
    )
    change = _commit(hh.submit_head_change(f.clerk(), data))
    assert change.findings == []
    assert _fresh(ichiro).relationship == "夫の子"
    assert _fresh(sakura).relationship == "子"


def test_head_change_ex_officio_for_a_household_without_head():
    # std 4.0.5 (j500): the city may set the head of a headless household ex officio;
    # relationships are derived from the last head (taro, now elsewhere)
    taro, hanako, ichiro, sakura = _family()
    _commit(
        hh.submit_split(
            f.clerk(),
            split(taro.household_no, taro, _member(taro), _member(hanako, "妻")),
            acknowledged=["household.head_leaves"],
        )
    )
    data = head_change(taro.household_no, ichiro, ex_officio=True, notified_on=None)
    change = _commit(
        hh.submit_head_change(f.clerk(), data, acknowledged=["head_change.relationships_derived"])
    )
    assert change.notified_on is None
    assert change.payload["summary"]["ex_officio"] is True
    assert (_fresh(ichiro).relationship, _fresh(sakura).relationship) == ("世帯主", "妹")
    assert _fresh(sakura).head_name == "相模　一郎"
    assert _last(sakura).history_notified_on is None


def test_head_change_records_and_removes_the_de_facto_head():
    # std 4.1.4.3 (j740): 事実上の世帯主 in 備考, replaced or removed, other lines kept
    taro, hanako, ichiro, sakura = _family()
    ack = ["head_change.relationships_derived"]
    _commit(
        hh.submit_head_change(
            f.clerk(),
            head_change(taro.household_no, hanako, de_facto_head_name="John Smith"),
            acknowledged=ack,
        )
    )
    assert {_fresh(p).remarks for p in (taro, hanako, ichiro, sakura)} == {
        "事実上の世帯主：John Smith"
    }
    _commit(
        hh.submit_head_change(
            f.clerk(),
            head_change(taro.household_no, taro, de_facto_head_name=""),
            acknowledged=ack,
        )
    )
    assert {_fresh(p).remarks for p in (taro, hanako, ichiro, sakura)} == {""}
    assert _fresh(hanako).relationship == "妻"  # and back again: 夫 → 世帯主, 世帯主 → 妻


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda t, h, i, s: head_change(t.household_no, t), "head_change.already_head"),
        (
            lambda t, h, i, s: head_change(t.household_no, h, _member(h, "妻")),
            "head_change.head_relationship",
        ),
        # std 1.1.10 (j100): never two heads
        (
            lambda t, h, i, s: head_change(t.household_no, h, _member(i, "世帯主")),
            "household.two_heads",
        ),
        # std 1.1.11 (j110)
        (
            lambda t, h, i, s: head_change(t.household_no, h, _member(i, "孫")),
            "relationship.forbidden",
        ),
        (
            lambda t, h, i, s: head_change(
                t.household_no, h, {"atena_no": "9999999999", "relationship": "子"}
            ),
            "atena_no.not_resident",
        ),
        # std 4.0.5 (j500): ex officio only without a head, and without a 届出日
        (
            lambda t, h, i, s: head_change(t.household_no, h, ex_officio=True, notified_on=None),
            "head_change.ex_officio_with_head",
        ),
        (
            lambda t, h, i, s: head_change(t.household_no, h, ex_officio=True),
            "head_change.ex_officio_notified",
        ),
        (lambda t, h, i, s: head_change(t.household_no, h, notified_on=None), "notified_on.empty"),
        # std 4.0.3 (j480)
        (
            lambda t, h, i, s: head_change(
                t.household_no, h, occurred_on=TODAY + dt.timedelta(days=2)
            ),
            "occurred_on.future",
        ),
        (
            lambda t, h, i, s: head_change(
                t.household_no, h, occurred_on=TODAY - dt.timedelta(days=10)
            ),
            "occurred_on.before_address_set",
        ),
    ],
)
def test_head_change_errors(build, code):
    family = _family()
    with pytest.raises(FindingsError) as exc:
        hh.submit_head_change(
            f.clerk(), build(*family), acknowledged=["head_change.relationships_derived"]
        )
    assert code in _codes(exc)
    assert not Change.objects.filter(procedure="head_change").exists()
    assert all(_fresh(p).history_no == 1 for p in family)


def test_head_change_to_a_member_of_another_household_is_refused():
    taro, *_ = _family()
    jiro, _ = _couple()
    with pytest.raises(FindingsError) as exc:
        hh.submit_head_change(f.clerk(), head_change(taro.household_no, jiro))
    assert _codes(exc) == {"member.not_in_household"}


def test_head_change_notified_late_alerts():
    # std 4.0.3 (j480), Art. 25
    head, wife = _settled_long_ago("森", "モリ")
    data = head_change(head.household_no, wife, occurred_on=TODAY - dt.timedelta(days=15))
    with pytest.raises(FindingsError) as exc:
        hh.submit_head_change(f.clerk(), data)
    assert _codes(exc) == {"notification.late", "head_change.relationships_derived"}
    _commit(
        hh.submit_head_change(
            f.clerk(), data, acknowledged=["notification.late", "head_change.relationships_derived"]
        )
    )
    assert _fresh(head).relationship == "夫"


def test_input_schema_refuses_unknown_fields_and_empty_lists():
    with pytest.raises(ValidationError):
        hh.HouseholdSplitInput.model_validate(
            _dates(household_no="1", new_head_atena_no="1", members=[])
        )
    with pytest.raises(ValidationError):
        hh.HeadChangeInput.model_validate(
            _dates(household_no="1", new_head_atena_no="1", address="x")
        )


# --- the derivation table (std 4.1.4.2, j730) ---------------------------------------------

M, F = "1", "2"
OLDER, YOUNGER, SAME = dt.date(1970, 1, 1), dt.date(1990, 1, 1), dt.date(1980, 1, 1)


@pytest.mark.parametrize(
    ("new_head", "member", "old_sex", "expected"),
    [
        # new head is the old head's spouse
        (("妻", F, SAME), ("世帯主", M, OLDER), M, "夫"),
        (("夫", M, SAME), ("世帯主", F, OLDER), F, "妻"),
        (("妻（未届）", F, SAME), ("世帯主", M, OLDER), M, "夫（未届）"),
        (("妻", F, SAME), ("子", M, YOUNGER), M, "子"),
        (("妻", F, SAME), ("子の妻", F, YOUNGER), M, "子の妻"),
        (("妻", F, SAME), ("妻の父", M, OLDER), M, "父"),
        (("妻", F, SAME), ("妻の子", M, YOUNGER), M, "子"),
        (("妻", F, SAME), ("父", M, OLDER), M, "夫の父"),
        (("妻", F, SAME), ("兄の子", M, OLDER), M, "夫の兄の子"),
        (("妻", F, SAME), ("父の父の兄", M, OLDER), M, "夫の父の父の兄"),
        (("妻", F, SAME), ("父の父の兄の子", M, OLDER), M, "縁故者"),  # j110: > 4 generations
        (("妻", F, SAME), ("父", M, OLDER), None, None),  # old head's sex unknown
        (("妻（未届）", F, SAME), ("子", M, YOUNGER), M, None),  # whose child?
        (("妻", F, SAME), ("縁故者", M, OLDER), M, "縁故者"),
        (("妻", F, SAME), ("同居人", M, OLDER), M, "同居人"),
        # new head is the old head's child
        (("子", M, SAME), ("世帯主", M, OLDER), M, "父"),
        (("子", M, SAME), ("世帯主", F, OLDER), F, "母"),
        (("子", M, SAME), ("妻", F, OLDER), M, "母"),
        (("子", F, SAME), ("夫", M, OLDER), F, "父"),
        (("子", M, SAME), ("子", M, OLDER), M, "兄"),
        (("子", M, SAME), ("子", F, OLDER), M, "姉"),
        (("子", M, SAME), ("子", M, YOUNGER), M, "弟"),
        (("子", M, SAME), ("子", F, YOUNGER), M, "妹"),
        (("子", M, SAME), ("子", F, SAME), M, None),  # twins: birth order unknown
        (("子", M, None), ("子", F, YOUNGER), M, None),  # uncertain birth date
        (("子", M, SAME), ("妻の父", M, OLDER), M, "母の父"),
        (("子", M, SAME), ("父", M, OLDER), M, "父の父"),
        (("子", M, SAME), ("母", F, OLDER), F, "母の母"),
        (("子", M, SAME), ("兄", M, OLDER), M, "父の兄"),
        (("子", M, SAME), ("子の妻", F, SAME), M, None),
        (("子", M, SAME), ("子の子", F, YOUNGER), M, None),
        (("子", M, SAME), ("妻の子", F, YOUNGER), M, None),
        (("子", M, SAME), ("妻（未届）", F, OLDER), M, None),
        # new head is the old head's parent
        (("父", M, OLDER), ("世帯主", F, SAME), F, "子"),
        (("父", M, OLDER), ("母", F, OLDER), F, "妻"),
        (("母", F, OLDER), ("父", M, OLDER), F, "夫"),
        (("父", M, OLDER), ("父の母", F, OLDER), F, "母"),
        (("父", M, OLDER), ("母の父", M, OLDER), F, "妻の父"),
        (("父", M, OLDER), ("弟", M, YOUNGER), F, "子"),
        (("父", M, OLDER), ("弟の子", M, YOUNGER), F, "子の子"),
        (("父", M, OLDER), ("夫", M, SAME), F, "子の夫"),
        (("父", M, OLDER), ("子", M, YOUNGER), F, "子の子"),
        # new head is the old head's sibling
        (("兄", M, OLDER), ("世帯主", M, SAME), M, "弟"),
        (("姉", F, OLDER), ("世帯主", F, SAME), F, "妹"),
        (("弟", M, YOUNGER), ("世帯主", F, SAME), F, "姉"),
        (("兄", M, OLDER), ("母", F, OLDER), M, "母"),
        (("兄", M, OLDER), ("妹", F, YOUNGER), M, "妹"),
        (("弟", M, SAME), ("姉", F, OLDER), M, "姉"),
        (("兄", M, OLDER), ("妻", F, SAME), M, "弟の妻"),
        (("兄", M, OLDER), ("子", F, YOUNGER), M, "弟の子"),
        (("兄", M, OLDER), ("兄の妻", F, OLDER), M, None),  # which brother's wife?
        # new heads beyond the table
        (("子の妻", F, SAME), ("世帯主", M, OLDER), M, None),
        (("縁故者", F, SAME), ("子", M, YOUNGER), M, None),
    ],
)
def test_derive_relationship(new_head, member, old_sex, expected):
    # std 4.1.4.2 (j730); std 1.1.11 (j110)
    assert derive_relationship(Kin(*member), Kin(*new_head), old_sex) == expected


# --- 世帯変更 -----------------------------------------------------------------------------


def test_composition_moves_a_member_into_another_household():
    # std 4.1.4.1 (j720) 世帯変更
    taro, hanako, ichiro, sakura = _family()
    jiro, misaki, ken = _trio()
    change = hh.submit_composition(
        f.clerk(), composition(taro.household_no, _member(ken, "弟の子"))
    )
    _commit(change)
    assert [p["atena_no"] for p in change.payload["persons"]] == [ken.atena_no]
    now = _fresh(ken)
    assert (now.household_no, now.relationship, now.head_name) == (
        taro.household_no,
        "弟の子",
        "相模　太郎",
    )
    row = _last(ken)
    assert (row.history_no, row.change_reason) == (2, "household_change")
    for person in (taro, hanako, ichiro, sakura, jiro, misaki):
        assert _fresh(person).history_no == 1
    assert change.payload["summary"]["from_household_nos"] == [jiro.household_no]


def test_composition_of_the_head_with_two_left_alerts_and_clears_their_head_name():
    # std 4.0.4 (j490); std 1.1.10 (j100)
    taro, *_ = _family()
    jiro, misaki, ken = _trio()
    data = composition(taro.household_no, _member(jiro, "弟"))
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(f.clerk(), data)
    assert _codes(exc) == {"household.head_leaves"}
    change = _commit(hh.submit_composition(f.clerk(), data, acknowledged=["household.head_leaves"]))
    assert len(change.payload["persons"]) == 3
    assert (_fresh(jiro).relationship, _fresh(jiro).head_name) == ("弟", "相模　太郎")
    for left in (misaki, ken):
        now = _fresh(left)
        assert (now.household_no, now.head_name) == (jiro.household_no, "")
        assert _last(left).change_reason == "household_change"


def test_composition_of_the_head_with_one_left_makes_that_member_head():
    # std 4.0.4 (j490)
    taro, *_ = _family()
    jiro, misaki = _couple()
    data = composition(taro.household_no, _member(jiro, "弟"))
    _commit(
        hh.submit_composition(
            f.clerk(), data, acknowledged=["household.single_member_becomes_head"]
        )
    )
    now = _fresh(misaki)
    assert (now.household_no, now.relationship, now.head_name) == (
        jiro.household_no,
        "世帯主",
        "大野　美咲",
    )


def test_composition_of_a_whole_household_is_a_merge():
    taro, *_ = _family()
    jiro, misaki = _couple()
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(
            f.clerk(),
            composition(taro.household_no, _member(jiro, "弟"), _member(misaki, "弟の妻")),
        )
    assert _codes(exc) == {"household_composition.whole_household"}
    assert "世帯合併" in exc.value.findings.items[0].remedy


def test_composition_needs_the_same_address():
    # std 4.1.4.1 (j720): no address change together with a household change
    taro, *_ = _family()
    _, (head, lodger) = f.committed_move_in(
        f.person(family_name="原", given_name="保", name_kana="ハラ タモツ"),
        f.person(family_name="原", given_name="学", name_kana="ハラ マナブ", relationship="同居人"),
        address={"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1番地"},
    )
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(f.clerk(), composition(taro.household_no, _member(lodger, "同居人")))
    assert _codes(exc) == {"household.address_differs"}
    assert _fresh(head).history_no == 1


@pytest.mark.parametrize(
    ("who", "relationship", "code"),
    [
        # std 1.1.10 (j100): never two heads
        ("ken", "世帯主", "household.two_heads"),
        # std 1.1.11 (j110)
        ("ken", "甥", "relationship.forbidden"),
        ("ichiro", "子", "household.same_household"),
    ],
)
def test_composition_errors(who, relationship, code):
    taro, _, ichiro, _ = _family()
    _, _, ken = _trio()
    person = {"ken": ken, "ichiro": ichiro}[who]
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(
            f.clerk(), composition(taro.household_no, _member(person, relationship))
        )
    assert code in _codes(exc)
    assert not Change.objects.filter(procedure="household_composition").exists()


def test_composition_into_a_household_without_a_head_is_refused():
    taro, hanako, ichiro, _ = _family()
    _commit(
        hh.submit_split(
            f.clerk(),
            split(taro.household_no, taro, _member(taro), _member(hanako, "妻")),
            acknowledged=["household.head_leaves"],
        )
    )
    _, _, ken = _trio()
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(f.clerk(), composition(ichiro.household_no, _member(ken, "縁故者")))
    assert _codes(exc) == {"household.target_no_head"}


def test_composition_dates():
    # std 4.0.3 (j480)
    taro, *_ = _family()
    _, _, ken = _trio()
    future = composition(
        taro.household_no, _member(ken, "縁故者"), occurred_on=TODAY + dt.timedelta(days=1)
    )
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(f.clerk(), future)
    assert "occurred_on.future" in _codes(exc)
    early = composition(
        taro.household_no, _member(ken, "縁故者"), occurred_on=TODAY - dt.timedelta(days=5)
    )
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(f.clerk(), early)
    assert _codes(exc) == {"occurred_on.before_address_set"}


def test_merge_and_composition_notified_late_alert():
    # std 4.0.3 (j480), Art. 25: 世帯変更 within 14 days → alert when later
    head, wife = _settled_long_ago("北村", "キタムラ")
    other, other_wife = _settled_long_ago("南野", "ミナミノ")
    late = {"occurred_on": TODAY - dt.timedelta(days=30), "notified_on": TODAY}
    moving = composition(head.household_no, _member(other_wife, "縁故者"), **late)
    with pytest.raises(FindingsError) as exc:
        hh.submit_composition(f.clerk(), moving)
    assert _codes(exc) == {"notification.late"}
    _commit(hh.submit_composition(f.clerk(), moving, acknowledged=["notification.late"]))
    joining = merge(other.household_no, head.household_no, _member(other, "同居人"), **late)
    with pytest.raises(FindingsError) as exc:
        hh.submit_merge(f.clerk(), joining)
    assert _codes(exc) == {"notification.late"}
    _commit(hh.submit_merge(f.clerk(), joining, acknowledged=["notification.late"]))
    assert {_fresh(p).household_no for p in (head, wife, other, other_wife)} == {head.household_no}
