"""異動の取消し: std 4.6.0.1 (j980), （申出による）異動の取消し std 4.6.1.1 (j990).

The changes being cancelled are made with the procedures that exist (転入) or, for the others,
built directly as a DraftPlan and committed through review like any procedure's draft.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from pydantic import ValidationError

from jumin.addresses.dictionary import load_dictionary
from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import FindingsError
from jumin.outbox.models import OutboxMessage
from jumin.register import selectors, services
from jumin.register.models import Change, Resident, ResidentHistory
from jumin.register.procedures import cancellation, household, move_in, moves, registry
from jumin.register.procedures.cancellation import ChangeCancellationInput, history_record
from jumin.register.records import SEARCH_KEY_FIELDS, snapshot, to_json
from jumin.register.services import DraftPlan, PersonPlan
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
CR = ChangeReason


def canceller():
    """Enters cancellations: drafting plus the 異動の取消し permission."""
    staff = f.StaffFactory(roles=["counter_clerk", "reviewer"])
    return f.Actor.of(staff, f.TerminalFactory(org_unit=staff.org_unit), "web")


# One clerk, reviewer and canceller per test: hashing staff passwords is the slow part.
CREW: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _crew():
    CREW.update(clerk=f.clerk(), reviewer=f.reviewer(), canceller=canceller())
    yield
    CREW.clear()


def clerk():
    return CREW["clerk"]


def reviewer():
    return CREW["reviewer"]


def moved_in(*people: dict[str, Any], **overrides: Any) -> tuple[Change, list[Resident]]:
    """factories.committed_move_in, by this test's crew."""
    draft = move_in.submit(
        clerk(), f.move_in_input(*people, **overrides), acknowledged=["duplicate.person"]
    )
    change = services.commit_change(reviewer(), draft.pk)
    return change, [Resident.objects.get(atena_no=p["atena_no"]) for p in change.payload["persons"]]


def a_family() -> tuple[Change, list[Resident]]:
    """factories.family, by this test's crew: head, wife, son, daughter."""
    return moved_in(
        f.person(given_name="太郎", name_kana="サガミ タロウ", relationship="世帯主"),
        f.person(
            given_name="花子",
            name_kana="サガミ ハナコ",
            sex="2",
            birth_date="1982-06-15",
            relationship="妻",
        ),
        f.person(
            given_name="一郎",
            name_kana="サガミ イチロウ",
            birth_date="2010-01-20",
            relationship="子",
        ),
        f.person(
            given_name="桜",
            name_kana="サガミ サクラ",
            sex="2",
            birth_date="2014-03-03",
            relationship="子",
        ),
    )


def _codes(exc) -> set[str]:
    return {x.code for x in exc.value.findings}


def direct(
    procedure: str, reason: ChangeReason, changes: dict[str, dict[str, Any]], **kw: Any
) -> Change:
    """A committed change built as a DraftPlan: each person's current record with updates."""
    persons = []
    for atena, updates in changes.items():
        r = Resident.objects.get(atena_no=atena)
        persons.append(PersonPlan(atena, r.history_no, snapshot(r) | to_json(updates)))
    day = kw.get("occurred_on", TODAY - dt.timedelta(days=1))
    draft = services.save_draft(clerk(), DraftPlan(procedure, reason, day, day, persons))
    return services.commit_change(reviewer(), draft.pk)


def other_place(banchi: str = "1番1号") -> dict[str, Any]:
    entry = load_dictionary().by_code(f.OTHER_ADDRESS_CODE)
    assert entry is not None
    return {
        "address_code": entry.address_code,
        "postal_code": entry.postal_code,
        "address": entry.address + banchi,
        "katagaki": "",
        "address_set_on": TODAY - dt.timedelta(days=1),
    }


def move_out(*atenas: str) -> dict[str, dict[str, Any]]:
    day = TODAY - dt.timedelta(days=1)
    return {
        a: {
            "status": "removed",
            "removal_reason": CR.DOMESTIC_MOVE_OUT.value,
            "removed_on": day,
            "moved_out_planned_address": "東京都千代田区霞が関二丁目1番2号",
            "moved_out_planned_on": day,
        }
        for a in atenas
    }


def cancel_input(change: Change, **kw: Any) -> ChangeCancellationInput:
    kw.setdefault("reason", "入力誤りのため")
    return ChangeCancellationInput(change_id=change.pk, **kw)


def cancel(change: Change, *, acknowledged=(), **kw: Any) -> Change:
    actor = CREW["canceller"]
    draft = cancellation.submit(actor, cancel_input(change, **kw), acknowledged=acknowledged)
    assert draft.status == Change.Status.DRAFT
    return services.commit_change(reviewer(), draft.pk)


def refused(change: Change, **kw: Any) -> set[str]:
    before = Change.objects.count()
    with pytest.raises(FindingsError) as exc:
        cancellation.submit(CREW["canceller"], cancel_input(change, **kw))
    assert Change.objects.count() == before  # nothing written
    return _codes(exc)


def assert_view_matches_history(*atenas: str) -> None:
    # std 1.2.1 (j200): the current view is each person's latest snapshot
    for atena in atenas:
        resident = Resident.objects.get(atena_no=atena)
        latest = selectors.history_of(atena).last()
        assert latest is not None and latest.history_no == resident.history_no
        assert snapshot(resident) == history_record(latest)
        for key in SEARCH_KEY_FIELDS:
            assert getattr(resident, key) == getattr(latest, key)


def row(atena: str, history_no: int) -> ResidentHistory:
    return ResidentHistory.objects.get(atena_no=atena, history_no=history_no)


# --- cancelling an entry, a removal, an amendment ------------------------------------------


def test_cancelling_a_move_in_removes_the_persons_and_keeps_the_history():
    # std 4.6 (j980) ②: 異動取消（減）; the history is appended, never deleted
    change, (head, wife) = moved_in(
        f.person(), f.person(relationship="妻", sex="2", name_kana="サガミ ハナコ")
    )
    entered = {r.atena_no: history_record(row(r.atena_no, 1)) for r in (head, wife)}
    outbox_before = OutboxMessage.objects.count()
    done = cancel(change)
    assert done.status == Change.Status.COMMITTED
    assert done.cancels == change
    assert done.change_reason == CR.CANCELLATION_DECREASE
    assert done.procedure == "change_cancellation"
    assert done.payload["summary"]["reason"] == "入力誤りのため"
    assert done.payload["summary"]["person_reasons"] == {
        head.atena_no: "cancellation_decrease",
        wife.atena_no: "cancellation_decrease",
    }
    for r in (head, wife):
        now = Resident.objects.get(atena_no=r.atena_no)
        assert now.status == "removed"
        assert now.removal_reason == CR.CANCELLATION_DECREASE
        assert now.removed_on == TODAY
        assert now.history_no == 2
        assert now.household_no == r.household_no  # 除票 keeps the household
        assert history_record(row(r.atena_no, 1)) == entered[r.atena_no]
        assert row(r.atena_no, 2).change_reason == CR.CANCELLATION_DECREASE
        assert row(r.atena_no, 2).change == done
    assert_view_matches_history(head.atena_no, wife.atena_no)
    # the CS hears of it like any change
    sent = OutboxMessage.objects.filter(change_id=done.pk, topic="identity_info")
    assert sent.count() == 2
    assert OutboxMessage.objects.count() == outbox_before + 2
    assert not selectors.household_members(head.household_no)


def test_cancelling_a_move_in_into_an_existing_household():
    # std 4.6 (j980): the household is as before the move-in
    _, family = a_family()
    household_no = family[0].household_no
    change, (lodger,) = moved_in(
        f.person(relationship="同居人", name_kana="ヨコハマ ジロウ"), household_no=household_no
    )
    assert len(selectors.household_members(household_no)) == 5
    cancel(change)
    lodger.refresh_from_db()
    assert lodger.status == "removed" and lodger.household_no == household_no
    assert [m.atena_no for m in selectors.household_members(household_no)] == sorted(
        m.atena_no for m in family
    )
    for member in family:
        member.refresh_from_db()
        assert member.history_no == 1  # untouched


def test_cancelling_a_move_out_restores_the_record():
    # std 4.6 (j980) ①: 異動取消（増）
    _, (resident,) = moved_in(f.person())
    before = snapshot(resident)
    out = direct("move_out", CR.DOMESTIC_MOVE_OUT, move_out(resident.atena_no))
    done = cancel(out)
    assert done.change_reason == CR.CANCELLATION_INCREASE
    resident.refresh_from_db()
    assert resident.status == "resident"
    assert resident.removal_reason == "" and resident.removed_on is None
    assert snapshot(resident) == before
    assert resident.history_no == 3
    assert_view_matches_history(resident.atena_no)


def test_cancelling_an_amendment_restores_the_name_and_search_keys():
    # std 4.6 (j980) ③: 異動取消（修正）
    _, (resident,) = moved_in(f.person(given_name="太郎", name_kana="サガミ タロウ"))
    keys = {k: getattr(resident, k) for k in SEARCH_KEY_FIELDS}
    amended = direct(
        "ex_officio_amendment",
        CR.EX_OFFICIO_AMENDMENT,
        {resident.atena_no: {"given_name": "太朗", "name_kana": "サガミ タロオ"}},
    )
    resident.refresh_from_db()
    assert resident.given_name == "太朗"
    done = cancel(amended)
    assert done.change_reason == CR.CANCELLATION_AMENDMENT
    resident.refresh_from_db()
    assert (resident.given_name, resident.name_kana) == ("太郎", "サガミ タロウ")
    assert {k: getattr(resident, k) for k in SEARCH_KEY_FIELDS} == keys
    assert_view_matches_history(resident.atena_no)


def test_cancelling_a_returning_move_in_restores_the_removed_record():
    # std 4.6 (j980): 再転入 cancelled → the earlier 除票 again
    _, (resident,) = moved_in(f.person())
    direct("move_out", CR.DOMESTIC_MOVE_OUT, move_out(resident.atena_no))
    removed = snapshot(Resident.objects.get(atena_no=resident.atena_no))
    data = f.person(atena_no=resident.atena_no, name_kana=resident.name_kana)
    back = services.commit_change(reviewer(), move_in.submit(clerk(), f.move_in_input(data)).pk)
    assert Resident.objects.get(atena_no=resident.atena_no).status == "resident"
    done = cancel(back)
    assert done.change_reason == CR.CANCELLATION_DECREASE
    now = Resident.objects.get(atena_no=resident.atena_no)
    assert snapshot(now) == removed
    assert now.removal_reason == CR.DOMESTIC_MOVE_OUT  # the earlier removal stands
    assert now.history_no == 4


# --- households ------------------------------------------------------------------------------


def test_cancelling_a_household_move_restores_household_and_address():
    # std 4.6 (j980): a cancelled move returns to the former household and address
    _, family = a_family()
    before = {m.atena_no: snapshot(m) for m in family}
    new_no = services.new_household_no()
    moved = direct(
        "move_within",
        CR.MOVE_WITHIN,
        {m.atena_no: other_place() | {"household_no": new_no} for m in family},
    )
    assert {r.household_no for r in Resident.objects.all()} == {new_no}
    done = cancel(moved)
    assert done.change_reason == CR.CANCELLATION_AMENDMENT
    assert done.payload["new_households"] == []
    for member in family:
        now = Resident.objects.get(atena_no=member.atena_no)
        assert snapshot(now) == before[member.atena_no]
        assert now.history_no == 3
    assert not selectors.household_members(new_no)
    assert_view_matches_history(*(m.atena_no for m in family))


def test_cancelling_a_partial_move_returns_the_person_to_the_former_household():
    # std 4.6 (j980): 従前の世帯に復帰 — the household, relationship and head come back
    _, (head, _wife, son, _daughter) = a_family()
    new_no = services.new_household_no()
    moved = direct(
        "move_within",
        CR.MOVE_WITHIN,
        {
            son.atena_no: other_place()
            | {"household_no": new_no, "relationship": "世帯主", "head_name": son.name}
        },
    )
    done = cancel(moved)
    son.refresh_from_db()
    assert son.household_no == head.household_no
    assert son.relationship == "子"
    assert son.head_name == head.name
    assert son.address_code == f.ADDRESS_CODE
    assert done.payload["new_households"] == []
    assert len(selectors.household_members(head.household_no)) == 4


def test_former_household_gone_the_person_returns_as_a_new_household():
    # std 4.6 (j980): 従前の世帯が全部転出等していた場合は転出前の住所に新たな世帯として
    _, (head, wife) = moved_in(
        f.person(), f.person(relationship="妻", sex="2", name_kana="サガミ ハナコ")
    )
    old_address = wife.address
    own_no = services.new_household_no()
    moved = direct(
        "move_within",
        CR.MOVE_WITHIN,
        {
            wife.atena_no: other_place()
            | {"household_no": own_no, "relationship": "世帯主", "head_name": wife.name}
        },
    )
    direct("move_out", CR.DOMESTIC_MOVE_OUT, move_out(head.atena_no))
    assert refused(moved) == {"cancellation.new_household"}
    done = cancel(moved, acknowledged=["cancellation.new_household"])
    wife.refresh_from_db()
    (fresh,) = done.payload["new_households"]
    assert wife.household_no == fresh not in {head.household_no, own_no}
    assert wife.relationship == "世帯主"
    assert wife.head_name == wife.name
    assert wife.address == old_address
    assert done.acknowledged == ["cancellation.new_household"]
    assert_view_matches_history(wife.atena_no)


def test_former_household_moved_on_the_person_returns_as_a_new_household():
    # std 4.6 (j980): the former household is no longer at the former address
    _, (head, wife) = moved_in(
        f.person(), f.person(relationship="妻", sex="2", name_kana="サガミ ハナコ")
    )
    own_no = services.new_household_no()
    moved = direct(
        "move_within",
        CR.MOVE_WITHIN,
        {
            wife.atena_no: other_place()
            | {"household_no": own_no, "relationship": "世帯主", "head_name": wife.name}
        },
    )
    direct("move_within", CR.MOVE_WITHIN, {head.atena_no: other_place("9番9号")})
    done = cancel(moved, acknowledged=["cancellation.new_household"])
    wife.refresh_from_db()
    assert wife.household_no not in {head.household_no, own_no}
    assert wife.relationship == "世帯主"
    assert wife.address_code == f.ADDRESS_CODE
    head.refresh_from_db()
    assert head.household_no != wife.household_no
    assert done.payload["new_households"] == [wife.household_no]


def test_head_change_since_the_move_is_flagged():
    # std 4.6 (j980) with std 4.1.4: the relationship was to the former head
    _, (head, wife, son, _daughter) = a_family()
    new_no = services.new_household_no()
    moved = direct(
        "move_within",
        CR.MOVE_WITHIN,
        {
            son.atena_no: other_place()
            | {"household_no": new_no, "relationship": "世帯主", "head_name": son.name}
        },
    )
    direct(
        "head_change",
        CR.HEAD_CHANGE,
        {
            head.atena_no: {"relationship": "夫", "head_name": wife.name},
            wife.atena_no: {"relationship": "世帯主", "head_name": wife.name},
        },
    )
    assert refused(moved) == {"cancellation.head_changed"}
    cancel(moved, acknowledged=["cancellation.head_changed"])
    son.refresh_from_db()
    assert son.household_no == head.household_no
    assert son.head_name == wife.name  # the head as of now


def test_a_restored_head_meeting_a_new_head_is_an_error():
    # std 1.1.10: one head per household, also after a cancellation
    _, (head, wife, _son, _daughter) = a_family()
    out = direct("move_out", CR.DOMESTIC_MOVE_OUT, move_out(head.atena_no))
    direct(
        "head_change",
        CR.HEAD_CHANGE,
        {wife.atena_no: {"relationship": "世帯主", "head_name": wife.name}},
    )
    assert "household.two_heads" in refused(out)


# --- mixed and partial cancellations -----------------------------------------------------


def test_a_mixed_change_takes_the_dominant_reason_and_lists_each_person():
    # std 1.2.2 (j210): one reason per change; per-person reasons in the summary
    _, (head, wife) = moved_in(
        f.person(), f.person(relationship="妻", sex="2", name_kana="サガミ ハナコ")
    )
    changes = move_out(head.atena_no)
    changes[wife.atena_no] = {"relationship": "世帯主", "head_name": wife.name}
    out = direct("move_out", CR.DOMESTIC_MOVE_OUT, changes)
    done = cancel(out)
    summary = done.payload["summary"]
    assert done.change_reason == CR.CANCELLATION_INCREASE
    assert summary["mixed"] is True
    assert summary["person_reasons"] == {
        head.atena_no: "cancellation_increase",
        wife.atena_no: "cancellation_amendment",
    }
    head.refresh_from_db()
    wife.refresh_from_db()
    assert (head.status, head.relationship) == ("resident", "世帯主")
    assert (wife.relationship, wife.head_name) == ("妻", head.name)
    assert_view_matches_history(head.atena_no, wife.atena_no)


def test_dominant_reason_without_the_preferred_one_is_the_most_frequent():
    dominant = cancellation._dominant
    assert dominant(CR.MOVE_WITHIN, []) == CR.CANCELLATION_AMENDMENT
    both = [CR.CANCELLATION_INCREASE, CR.CANCELLATION_DECREASE, CR.CANCELLATION_INCREASE]
    assert dominant(CR.MOVE_WITHIN, both) == CR.CANCELLATION_INCREASE
    assert dominant(CR.MOVE_WITHIN, both[:2]) == CR.CANCELLATION_DECREASE


def test_partial_cancellation_sets_the_remaining_member_as_head():
    # std 4.6 (j980) with std 4.0.1 (一部) and std 4.0.4 (j490)
    change, (head, wife) = moved_in(
        f.person(), f.person(relationship="妻", sex="2", name_kana="サガミ ハナコ")
    )
    codes = refused(change, atena_nos=[head.atena_no])
    assert codes == {"household.single_member_becomes_head"}
    done = cancel(
        change, atena_nos=[head.atena_no], acknowledged=["household.single_member_becomes_head"]
    )
    summary = done.payload["summary"]
    assert summary["partial"] is True
    assert summary["person_reasons"] == {
        head.atena_no: "cancellation_decrease",
        wife.atena_no: "cancellation_amendment",
    }
    assert done.change_reason == CR.CANCELLATION_DECREASE
    head.refresh_from_db()
    wife.refresh_from_db()
    assert head.status == "removed"
    assert (wife.relationship, wife.head_name, wife.history_no) == ("世帯主", wife.name, 2)
    # the head's part is done; the wife's record has moved on since
    assert refused(change, atena_nos=[head.atena_no]) == {"cancellation.already_cancelled"}
    assert refused(change, atena_nos=[wife.atena_no]) == {"cancellation.not_latest"}


def test_partial_cancellation_of_a_head_with_two_members_left_alerts():
    # std 4.0.4 (j490): a 世帯主変更 is needed
    change, (head, *_rest) = a_family()
    assert refused(change, atena_nos=[head.atena_no]) == {"household.head_leaves"}


def test_a_person_outside_the_change_cannot_be_selected():
    change, _ = moved_in(f.person())
    _, (stranger,) = moved_in(f.person(name_kana="ヨソ モノ"))
    assert refused(change, atena_nos=[stranger.atena_no]) == {"cancellation.person_not_in_change"}


# --- what cannot be cancelled ------------------------------------------------------------


def test_only_the_latest_change_can_be_cancelled():
    # std 4.6 (j980): the later change must be cancelled first, then the earlier one can be
    change, (resident,) = moved_in(f.person())
    amended = direct(
        "ex_officio_amendment",
        CR.EX_OFFICIO_AMENDMENT,
        {resident.atena_no: {"given_name": "太朗"}},
    )
    with pytest.raises(FindingsError) as exc:
        cancellation.submit(CREW["canceller"], cancel_input(change))
    assert _codes(exc) == {"cancellation.not_latest"}
    (finding,) = exc.value.findings
    assert f"異動 {amended.pk}" in finding.message and "職権修正" in finding.message
    assert f"先に異動 {amended.pk} を取り消してください" in finding.remedy
    cancel(amended)
    cancel(change)  # the amendment and its cancellation cancel out
    resident.refresh_from_db()
    assert (resident.status, resident.history_no) == ("removed", 4)


def test_a_change_is_cancelled_once():
    change, _ = moved_in(f.person())
    first = cancel(change)
    with pytest.raises(FindingsError) as exc:
        cancellation.submit(CREW["canceller"], cancel_input(change))
    assert _codes(exc) == {"cancellation.already_cancelled"}
    assert f"異動 {first.pk} で既に取り消されています" in next(iter(exc.value.findings)).message


def test_a_cancellation_can_itself_be_cancelled():
    # std 4.6 (j980): a cancellation is a change like any other; appending restores again
    change, (resident,) = moved_in(f.person())
    entered = snapshot(resident)
    first = cancel(change)
    again = cancel(first)
    assert again.change_reason == CR.CANCELLATION_INCREASE
    resident.refresh_from_db()
    assert snapshot(resident) == entered
    assert resident.history_no == 3
    cancel(change)  # the first cancellation is undone, so the move-in can be cancelled anew
    assert Resident.objects.get(atena_no=resident.atena_no).status == "removed"


@pytest.mark.parametrize("status", ["draft", "rejected", "withdrawn"])
def test_uncommitted_changes_cannot_be_cancelled(status):
    change = move_in.submit(clerk(), f.move_in_input())
    if status == "rejected":
        services.reject_change(reviewer(), change.pk, reason="確認のため")
    elif status == "withdrawn":
        services.withdraw_change(clerk(), change.pk)
    assert refused(change) == {"cancellation.not_committed"}


def test_unknown_change():
    change = Change(pk=987654)
    assert refused(change) == {"change.unknown"}


def test_the_reason_is_required():
    change, _ = moved_in(f.person())
    for reason in ("", "   ", "あ" * 1001):
        with pytest.raises(ValidationError):
            cancel_input(change, reason=reason)
    with pytest.raises(ValidationError):
        ChangeCancellationInput(change_id=change.pk)


def test_dates():
    # std 4.0.3 (j480): no future 異動日; the 申出日 not after the processing day
    change, _ = moved_in(f.person())
    tomorrow = TODAY + dt.timedelta(days=1)
    assert refused(change, occurred_on=tomorrow) == {"occurred_on.future"}
    assert refused(change, requested=True, notified_on=tomorrow) == {"notified_on.future"}


def test_a_clerk_without_the_cancel_permission_is_refused():
    change, _ = moved_in(f.person())
    contractor = f.Actor.of(f.StaffFactory(roles=["certificate_contractor"]), None, "web")
    with pytest.raises(PermissionDenied):
        cancellation.submit(contractor, cancel_input(change))


def test_the_canceller_cannot_commit_their_own_cancellation():
    # std 4.0.8 (j530): a cancellation is reviewed like any change
    change, _ = moved_in(f.person())
    actor = CREW["canceller"]
    draft = cancellation.submit(actor, cancel_input(change))
    with pytest.raises(FindingsError) as exc:
        services.commit_change(actor, draft.pk)
    assert _codes(exc) == {"review.same_person"}


def test_an_edit_lock_of_another_clerk_blocks_the_cancellation():
    change, (resident,) = moved_in(f.person())
    services.acquire_lock(clerk(), resident.atena_no)
    assert refused(change) == {"lock.held"}


# --- 申出, dates, open drafts, duplicates --------------------------------------------------


def test_requested_cancellation_records_the_request_date():
    # std 4.6.1.1 (j990) → std 4.2.0.5 (j790): 申出による, 申出日 defaults to the processing day
    change, (resident,) = moved_in(f.person())
    done = cancel(change, requested=True)
    assert done.payload["summary"]["requested"] is True
    assert done.notified_on == TODAY
    assert row(resident.atena_no, 2).history_notified_on == TODAY
    earlier = TODAY - dt.timedelta(days=5)
    change2, _ = moved_in(f.person(name_kana="ベツ ジン"))
    done2 = cancel(change2, requested=True, notified_on=earlier, occurred_on=TODAY)
    assert (done2.notified_on, done2.occurred_on) == (earlier, TODAY)


def test_ex_officio_cancellation_has_no_request_date():
    change, _ = moved_in(f.person())
    done = cancel(change, occurred_on=TODAY - dt.timedelta(days=30))
    assert done.notified_on is None
    assert done.payload["summary"]["requested"] is False
    assert done.occurred_on == TODAY - dt.timedelta(days=30)  # no 14-day alert


def test_open_drafts_of_the_persons_are_flagged_and_become_stale():
    change, (resident,) = moved_in(f.person())
    pending = services.save_draft(
        clerk(),
        DraftPlan(
            "ex_officio_amendment",
            CR.EX_OFFICIO_AMENDMENT,
            TODAY,
            TODAY,
            [PersonPlan(resident.atena_no, 1, snapshot(resident) | {"given_name": "太朗"})],
        ),
    )
    codes = refused(change)
    assert codes == {"cancellation.open_drafts"}
    cancel(change, acknowledged=["cancellation.open_drafts"])
    with pytest.raises(FindingsError) as exc:
        services.commit_change(reviewer(), pending.pk)
    assert _codes(exc) == {"change.stale"}


def test_a_person_restored_after_being_registered_again_is_flagged():
    # the same person may have been entered anew meanwhile (duplicate check where persons appear)
    _, (resident,) = moved_in(f.person(name_kana="フタリ メ"))
    out = direct("move_out", CR.DOMESTIC_MOVE_OUT, move_out(resident.atena_no))
    moved_in(f.person(name_kana="フタリ メ"))
    assert refused(out) == {"duplicate.person"}
    cancel(out, acknowledged=["duplicate.person"])


def test_the_procedure_is_listed():
    spec = cancellation.SPECS[0]
    assert (spec.name, spec.label, spec.group) == ("change_cancellation", "異動の取消し", "4.6")
    if "cancellation" in registry.MODULES:
        assert registry.get("change_cancellation") is spec


# --- with the procedures themselves ----------------------------------------------------------


def _ack_all(call):
    """Submit through a procedure, acknowledging its alerts (errors still raise)."""
    try:
        return call(())
    except FindingsError as exc:
        if exc.findings.has_errors:
            raise
        return call([x.code for x in exc.findings])


def test_cancelling_a_move_out_of_a_household():
    # std 4.6 (j980) ①: 転出 (std 4.1.3) cancelled, the household is back as it was
    _, family = a_family()
    before = {m.atena_no: snapshot(m) for m in family}
    data = moves.MoveOutInput.model_validate(
        {
            "planned_on": TODAY + dt.timedelta(days=7),
            "notified_on": TODAY,
            "destination": {"kind": "domestic", "address": "東京都千代田区霞が関一丁目1番1号"},
            "persons": [m.atena_no for m in family],
        }
    )
    out = _ack_all(lambda ack: moves.submit_move_out(clerk(), data, acknowledged=ack))
    out = services.commit_change(reviewer(), out.pk)
    assert not selectors.household_members(family[0].household_no)
    done = cancel(out)
    assert done.change_reason == CR.CANCELLATION_INCREASE
    for m in family:
        assert snapshot(Resident.objects.get(atena_no=m.atena_no)) == before[m.atena_no]
    assert_view_matches_history(*(m.atena_no for m in family))


def test_cancelling_a_move_within_of_part_of_a_household():
    # std 4.6 (j980): 転居 (std 4.1.2) of one member to a new household, cancelled
    _, (head, wife, son, daughter) = a_family()
    before = snapshot(son)
    data = moves.MoveWithinInput.model_validate(
        {
            "occurred_on": TODAY - dt.timedelta(days=1),
            "notified_on": TODAY,
            "address": {"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1番1号"},
            "persons": [{"atena_no": son.atena_no, "relationship": "世帯主"}],
        }
    )
    moved = _ack_all(lambda ack: moves.submit_move_within(clerk(), data, acknowledged=ack))
    moved = services.commit_change(reviewer(), moved.pk)
    son.refresh_from_db()
    assert son.household_no != head.household_no
    cancel(moved)
    son.refresh_from_db()
    assert snapshot(son) == before
    members = {m.atena_no for m in selectors.household_members(head.household_no)}
    assert members == {head.atena_no, wife.atena_no, son.atena_no, daughter.atena_no}


def test_cancelling_a_household_split():
    # std 4.6 (j980) ③: 世帯分離 (std 4.1.4) cancelled
    _, (head, _wife, son, _daughter) = a_family()
    before = snapshot(son)
    data = household.HouseholdSplitInput.model_validate(
        {
            "occurred_on": TODAY - dt.timedelta(days=1),
            "notified_on": TODAY,
            "household_no": head.household_no,
            "new_head_atena_no": son.atena_no,
            "members": [{"atena_no": son.atena_no, "relationship": "世帯主"}],
        }
    )
    split = _ack_all(lambda ack: household.submit_split(clerk(), data, acknowledged=ack))
    split = services.commit_change(reviewer(), split.pk)
    done = cancel(split)
    assert done.change_reason == CR.CANCELLATION_AMENDMENT
    son.refresh_from_db()
    assert snapshot(son) == before


def test_a_cancelled_change_with_later_changes_is_still_reported_as_cancelled():
    change, (resident,) = moved_in(f.person())
    first = cancel(change)
    direct(
        "ex_officio_amendment", CR.EX_OFFICIO_AMENDMENT, {resident.atena_no: {"remarks": "確認"}}
    )
    with pytest.raises(FindingsError) as exc:
        cancellation.submit(CREW["canceller"], cancel_input(change))
    assert _codes(exc) == {"cancellation.already_cancelled"}
    assert f"異動 {first.pk}" in next(iter(exc.value.findings)).message
