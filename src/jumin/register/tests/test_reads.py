"""Logged reads of the register (DESIGN invariant 5): 住民照会, 世帯照会 in the order of std 5.2
(j1010), 異動履歴照会 (std 2.2.1, j350) and the 個人番号 shown on request (invariant 6)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import FindingsError
from jumin.register import crypto, reads, services
from jumin.register.models import Resident, ResidentHistory
from jumin.register.procedures import move_in
from jumin.register.records import snapshot, to_json
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

MY_NUMBER = "123456789018"
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


@pytest.fixture
def clerk():
    return f.clerk()


@pytest.fixture
def supervisor():
    return f.supervisor()


def last_entry():
    return OperationLogEntry.objects.order_by("-seq").first()


def codes(exc):
    return {x.code for x in exc.value.findings}


def days_ago(n):
    return TODAY - dt.timedelta(days=n)


def one(occurred_days_ago=3, **person):
    _, [resident] = f.committed_move_in(
        f.person(**person),
        occurred_on=days_ago(occurred_days_ago),
        notified_on=days_ago(occurred_days_ago),
        certificate={"municipality_code": "131016", "planned_on": days_ago(occurred_days_ago)},
    )
    return resident


def commit(changes_by_atena, *, occurred_on, reason=ChangeReason.EX_OFFICIO_AMENDMENT):
    """Commit one change of several persons, built directly with the framework."""
    persons = []
    for atena, changes in changes_by_atena.items():
        current = Resident.objects.get(atena_no=atena)
        after = snapshot(current)
        after.update(to_json(changes))
        persons.append(services.PersonPlan(atena, current.history_no, after))
    plan = services.DraftPlan(
        procedure="test_change",
        change_reason=reason,
        occurred_on=occurred_on,
        notified_on=occurred_on,
        persons=persons,
    )
    change = services.save_draft(f.clerk(), plan)
    return services.commit_change(f.reviewer(), change.pk)


# --------------------------------------------------------------------------- 住民照会


def test_get_resident_reads_the_current_record_and_logs_it(clerk):
    # DESIGN invariant 5: who, when, terminal, function, which person, 個人番号 not shown
    resident = one(my_number=MY_NUMBER)
    view = reads.get_resident(clerk, resident.atena_no)
    assert isinstance(view.record, Resident)
    assert view.record.atena_no == view.atena_no == resident.atena_no
    assert (view.is_removed, view.as_of, view.history_no) == (False, None, 1)
    entry = last_entry()
    assert entry.category == Category.INQUIRY
    assert entry.function == "住民照会"
    assert entry.operator == clerk.staff
    assert entry.operator_code == clerk.staff.staff_id
    assert entry.terminal_name == clerk.terminal.name
    assert entry.occurred_at is not None
    assert entry.targets == [resident.atena_no]
    assert entry.my_number_accessed is False
    assert entry.outcome == Outcome.SUCCESS


def test_unknown_resident(clerk):
    before = OperationLogEntry.objects.count()
    with pytest.raises(FindingsError) as exc:
        reads.get_resident(clerk, "0000009999")
    assert codes(exc) == {"resident.unknown"}
    assert "宛名番号 0000009999" in exc.value.findings.items[0].message
    assert OperationLogEntry.objects.count() == before


def test_drafts_are_invisible_to_every_read(clerk):
    # std 4.0.8 (j530): a draft is not visible to other screens
    change = move_in.submit(f.clerk(), f.move_in_input(f.person()))
    atena = change.payload["persons"][0]["atena_no"]
    household = change.payload["summary"]["household_no"]
    with pytest.raises(FindingsError) as exc:
        reads.get_resident(clerk, atena)
    assert codes(exc) == {"resident.unknown"}
    with pytest.raises(FindingsError) as exc:
        reads.get_history(clerk, atena)
    assert codes(exc) == {"resident.unknown"}
    with pytest.raises(FindingsError) as exc:
        reads.get_household(clerk, household)
    assert codes(exc) == {"household.unknown"}
    with pytest.raises(FindingsError) as exc:
        reads.reveal_my_number(f.supervisor(), atena, reason="確認")
    assert codes(exc) == {"resident.unknown"}
    services.commit_change(f.reviewer(), change.pk)
    assert reads.get_resident(clerk, atena).record.atena_no == atena
    assert [m.atena_no for m in reads.get_household(clerk, household).members] == [atena]


def test_as_of_reproduces_a_past_record(clerk):
    # DESIGN invariant 2; std 1.2.1 (j200): any past state can be reproduced
    resident = one(occurred_days_ago=20, family_name="旧姓", name_kana="キュウセイ タロウ")
    commit(
        {resident.atena_no: {"family_name": "新姓", "name_kana": "シンセイ タロウ"}},
        occurred_on=days_ago(10),
    )
    past = reads.get_resident(clerk, resident.atena_no, as_of=days_ago(15))
    assert isinstance(past.record, ResidentHistory)
    assert (past.record.family_name, past.history_no, past.as_of) == ("旧姓", 1, days_ago(15))
    now = reads.get_resident(clerk, resident.atena_no, as_of=days_ago(10))
    assert (now.record.family_name, now.history_no) == ("新姓", 2)
    assert reads.get_resident(clerk, resident.atena_no).record.family_name == "新姓"
    assert last_entry().detail == {"as_of": None, "history_no": 2}
    with pytest.raises(FindingsError) as exc:
        reads.get_resident(clerk, resident.atena_no, as_of=days_ago(21))
    assert codes(exc) == {"resident.not_yet_recorded"}


def test_as_of_ignores_a_cancelled_change(clerk):
    # ADR 0002: "as of" leaves out changes cancelled by a committed 異動の取消し
    resident = one(occurred_days_ago=20, family_name="元姓")
    wrong = commit({resident.atena_no: {"family_name": "誤姓"}}, occurred_on=days_ago(10))
    current = Resident.objects.get(atena_no=resident.atena_no)
    after = snapshot(current) | {"family_name": "元姓"}
    plan = services.DraftPlan(
        procedure="test_cancel",
        change_reason=ChangeReason.CANCELLATION_AMENDMENT,
        occurred_on=TODAY,
        notified_on=TODAY,
        persons=[services.PersonPlan(current.atena_no, current.history_no, after)],
    )
    cancel = services.save_draft(f.clerk(), plan, cancels=wrong)
    services.commit_change(f.reviewer(), cancel.pk)
    view = reads.get_resident(clerk, resident.atena_no, as_of=days_ago(5))
    assert (view.record.family_name, view.history_no) == ("元姓", 1)
    history = reads.get_history(clerk, resident.atena_no)
    assert [h.family_name for h in history] == ["元姓", "誤姓", "元姓"]  # nothing is hidden


def test_removed_record(clerk):
    # 除票: still readable, flagged as removed
    resident = one()
    commit(
        {
            resident.atena_no: {
                "status": "removed",
                "removal_reason": "death",
                "removed_on": TODAY,
            }
        },
        occurred_on=TODAY,
        reason=ChangeReason.DEATH,
    )
    view = reads.get_resident(clerk, resident.atena_no)
    assert view.is_removed is True
    assert view.record.removal_reason == "death"
    assert reads.get_resident(clerk, resident.atena_no, as_of=days_ago(1)).is_removed is False


@pytest.mark.parametrize("role", ["auditor", "administrator"])
def test_staff_without_the_read_permission_are_refused(role):
    resident = one()
    actor = Actor.of(StaffFactory(roles=[role]), None, "web")
    for call in (
        lambda: reads.get_resident(actor, resident.atena_no),
        lambda: reads.get_history(actor, resident.atena_no),
        lambda: reads.get_household(actor, resident.household_no),
    ):
        with pytest.raises(PermissionDenied):
            call()
        entry = last_entry()
        assert entry.outcome == Outcome.DENIED
        assert entry.detail == {"missing_permission": "register:resident:read"}
    assert not OperationLogEntry.objects.filter(
        category=Category.INQUIRY, outcome=Outcome.SUCCESS
    ).exists()


# --------------------------------------------------------------------------- 異動履歴照会


def test_get_history_lists_every_snapshot_and_is_logged(clerk):
    # std 2.2.1 (j350): 異動履歴及び旧氏・通称履歴を照会できること
    resident = one(occurred_days_ago=20, family_name="山田", given_name="花子", sex="2")
    commit(
        {
            resident.atena_no: {
                "family_name": "佐藤",
                "former_family_name": "山田",
                "former_family_name_kana": "ヤマダ",
            }
        },
        occurred_on=days_ago(10),
        reason=ChangeReason.FORMER_FAMILY_NAME_ENTRY,
    )
    rows = reads.get_history(clerk, resident.atena_no)
    assert [(r.history_no, r.change_reason) for r in rows] == [
        (1, "domestic_move_in"),
        (2, "former_family_name_entry"),
    ]
    assert (rows[0].former_family_name, rows[1].former_family_name) == ("", "山田")
    assert rows[1].operator.staff_id and rows[1].reviewer.staff_id
    assert rows[1].occurred_on == days_ago(10)
    entry = last_entry()
    assert (entry.function, entry.targets) == ("異動履歴照会", [resident.atena_no])
    assert entry.category == Category.INQUIRY
    with pytest.raises(FindingsError) as exc:
        reads.get_history(clerk, "0000009999")
    assert codes(exc) == {"resident.unknown"}


def test_get_history_needs_no_query_per_row(clerk, django_assert_max_num_queries):
    resident = one()
    commit({resident.atena_no: {"katagaki": "一号室"}}, occurred_on=TODAY)
    commit({resident.atena_no: {"katagaki": "二号室"}}, occurred_on=TODAY)
    with django_assert_max_num_queries(8):
        rows = reads.get_history(clerk, resident.atena_no)
        assert [(r.operator.staff_id, r.reviewer.staff_id) for r in rows]


# --------------------------------------------------------------------------- 世帯照会


def test_household_members_in_the_standard_order_and_all_logged(clerk):
    # std 5.2 (j1010): 世帯主, 配偶者, 子 by birth, then 父母
    _, members = f.committed_move_in(
        f.person(given_name="次郎", relationship="子", birth_date="2012-05-05"),
        f.person(given_name="父", relationship="父", birth_date="1950-01-01"),
        f.person(given_name="太郎", relationship="世帯主", birth_date="1980-01-01"),
        f.person(given_name="一子", relationship="子", sex="2", birth_date="2010-03-03"),
        f.person(given_name="花子", relationship="妻", sex="2", birth_date="1982-02-02"),
    )
    by_name = {m.given_name: m.atena_no for m in members}
    view = reads.get_household(clerk, members[0].household_no)
    assert [m.given_name for m in view.members] == ["太郎", "花子", "一子", "次郎", "父"]
    assert view.head.given_name == "太郎"
    entry = last_entry()
    assert entry.function == "世帯照会"
    assert entry.category == Category.INQUIRY
    assert sorted(entry.targets) == sorted(by_name.values())
    assert entry.detail["household_no"] == members[0].household_no


def test_household_as_of_and_removed_members(clerk):
    # std 1.2.1 (j200): the household as it stood on a date
    _, [head, son] = f.committed_move_in(
        f.person(given_name="太郎", relationship="世帯主"),
        f.person(given_name="一郎", relationship="子", birth_date="2005-01-01"),
        occurred_on=days_ago(20),
        notified_on=days_ago(20),
        certificate={"municipality_code": "131016", "planned_on": days_ago(20)},
    )
    household = head.household_no
    commit(
        {son.atena_no: {"status": "removed", "removal_reason": "domestic_move_out"}},
        occurred_on=days_ago(5),
        reason=ChangeReason.DOMESTIC_MOVE_OUT,
    )
    assert [m.atena_no for m in reads.get_household(clerk, household).members] == [head.atena_no]
    with_removed = reads.get_household(clerk, household, include_removed=True)
    assert [m.atena_no for m in with_removed.members] == [head.atena_no, son.atena_no]
    assert set(last_entry().targets) == {head.atena_no, son.atena_no}
    past = reads.get_household(clerk, household, as_of=days_ago(10))
    assert [m.atena_no for m in past.members] == [head.atena_no, son.atena_no]
    assert all(isinstance(m, ResidentHistory) for m in past.members)
    assert past.as_of == days_ago(10)
    with pytest.raises(FindingsError) as exc:
        reads.get_household(clerk, household, as_of=days_ago(30))
    assert codes(exc) == {"household.unknown"}


def test_household_after_a_member_moves_to_another_household(clerk):
    _, [head, daughter] = f.committed_move_in(
        f.person(given_name="太郎", relationship="世帯主"),
        f.person(given_name="花子", relationship="子", sex="2", birth_date="2000-01-01"),
        occurred_on=days_ago(20),
        notified_on=days_ago(20),
        certificate={"municipality_code": "131016", "planned_on": days_ago(20)},
    )
    new_household = services.new_household_no()
    commit(
        {daughter.atena_no: {"household_no": new_household, "relationship": "世帯主"}},
        occurred_on=days_ago(5),
        reason=ChangeReason.HOUSEHOLD_SPLIT,
    )
    old = head.household_no
    assert [m.atena_no for m in reads.get_household(clerk, old).members] == [head.atena_no]
    assert [m.atena_no for m in reads.get_household(clerk, old, as_of=days_ago(6)).members] == [
        head.atena_no,
        daughter.atena_no,
    ]
    assert [m.atena_no for m in reads.get_household(clerk, new_household).members] == [
        daughter.atena_no
    ]
    with pytest.raises(FindingsError) as exc:  # the new household had nobody yet
        reads.get_household(clerk, new_household, as_of=days_ago(6))
    assert codes(exc) == {"household.unknown"}


def test_unknown_household(clerk):
    with pytest.raises(FindingsError) as exc:
        reads.get_household(clerk, "0000009999")
    assert codes(exc) == {"household.unknown"}
    assert exc.value.findings.items[0].field == "household_no"


# --------------------------------------------------------------------------- 個人番号


def test_reveal_my_number_to_a_supervisor_with_a_reason(supervisor):
    # DESIGN invariant 6: shown only with the permission, on request, and logged
    resident = one(my_number=MY_NUMBER)
    number = reads.reveal_my_number(supervisor, resident.atena_no, reason="カード交付の本人確認")
    assert number == MY_NUMBER
    entry = last_entry()
    assert entry.function == "個人番号表示"
    assert entry.category == Category.INQUIRY
    assert entry.my_number_accessed is True
    assert entry.targets == [resident.atena_no]
    assert entry.detail == {"reason": "カード交付の本人確認"}
    for logged in OperationLogEntry.objects.all():
        assert MY_NUMBER not in json.dumps([logged.detail, logged.targets])


def test_reveal_my_number_refused_without_the_permission():
    resident = one(my_number=MY_NUMBER)
    clerk = f.clerk()
    with pytest.raises(PermissionDenied):
        reads.reveal_my_number(clerk, resident.atena_no, reason="確認")
    entry = last_entry()
    assert entry.outcome == Outcome.DENIED
    assert entry.operator == clerk.staff
    assert entry.detail == {"missing_permission": "register:my_number:read"}
    assert entry.my_number_accessed is False


@pytest.mark.parametrize("reason", ["", "   ", "あ" * 201])
def test_reveal_my_number_needs_a_reason(supervisor, reason):
    resident = one(my_number=MY_NUMBER)
    before = OperationLogEntry.objects.count()
    with pytest.raises(FindingsError) as exc:
        reads.reveal_my_number(supervisor, resident.atena_no, reason=reason)
    assert codes(exc) == {"my_number.reason_required"}
    assert exc.value.findings.items[0].field == "reason"
    assert OperationLogEntry.objects.count() == before


def test_reveal_my_number_reason_of_200_characters_is_accepted(supervisor):
    resident = one(my_number=MY_NUMBER)
    assert reads.reveal_my_number(supervisor, resident.atena_no, reason="あ" * 200) == MY_NUMBER


def test_reveal_my_number_refuses_a_number_in_the_reason(supervisor):
    resident = one(my_number=MY_NUMBER)
    with pytest.raises(FindingsError) as exc:
        reads.reveal_my_number(supervisor, resident.atena_no, reason=f"{MY_NUMBER} の確認")
    assert codes(exc) == {"my_number.reason_contains_number"}


def test_reveal_my_number_not_recorded_or_unknown(supervisor):
    resident = one()
    with pytest.raises(FindingsError) as exc:
        reads.reveal_my_number(supervisor, resident.atena_no, reason="確認")
    assert codes(exc) == {"my_number.not_recorded"}
    with pytest.raises(FindingsError) as exc:
        reads.reveal_my_number(supervisor, "0000009999", reason="確認")
    assert codes(exc) == {"resident.unknown"}
