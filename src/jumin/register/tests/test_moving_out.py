"""転出予定者: a 転出 with a planned date still to come keeps the person a resident until then
(std 1.1.5 j50, 5.1 j1000, 6.1 j1080) — in the person and household views, the search, the API
and counts; from the planned date (or the earlier move-in date of a 転入通知) the record is a
除票. The rule lives in ``jumin.register.status``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jumin.core.findings import FindingsError
from jumin.register import reads, selectors, services, status
from jumin.register.models import Change, Resident, ResidentHistory
from jumin.register.procedures import cancellation, moves
from jumin.register.procedures.common import today
from jumin.register.search import SearchCriteria, search_residents
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

BASE = "/api/register"
TOKYO = "131016"
DESTINATION = "東京都千代田区霞が関一丁目1番1号"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clerk():
    return f.clerk()


def _days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def _freeze(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """Make ``day`` the local date for every read (and procedure) from now on."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def _codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def _commit(change: Change) -> Change:
    return services.commit_change(f.reviewer(), change.pk)


def _ack_all(submit: Any) -> Change:
    """Submit acknowledging the alerts the procedure raises (errors still raise)."""
    try:
        return submit(())
    except FindingsError as exc:
        if exc.findings.has_errors:
            raise
        return submit([x.code for x in exc.findings])


def move_out(*persons: Resident, planned_on: dt.date, **overrides: Any) -> Change:
    data: dict[str, Any] = {
        "planned_on": planned_on,
        "notified_on": today(),
        "destination": {"kind": "domestic", "municipality_code": TOKYO, "address": DESTINATION},
        "persons": [p.atena_no for p in persons],
    }
    data.update(overrides)
    inp = moves.MoveOutInput.model_validate(data)
    return _commit(
        _ack_all(lambda ack: moves.submit_move_out(f.clerk(), inp, acknowledged=list(ack)))
    )


def receive_notice(person: Resident, *, moved_out_on: dt.date) -> Change:
    inp = moves.MoveInNoticeInput.model_validate(
        {
            "atena_no": person.atena_no,
            "move_in_notice_on": today(),
            "moved_out_on": moved_out_on,
            "moved_out_address": DESTINATION + "　霞が関ハイツ101",
            "municipality_code": TOKYO,
        }
    )
    return _commit(
        _ack_all(
            lambda ack: moves.submit_move_in_notice_receipt(f.clerk(), inp, acknowledged=list(ack))
        )
    )


def find(actor: Any, **criteria: Any) -> dict[str, Any]:
    return {r.atena_no: r for r in search_residents(actor, SearchCriteria(**criteria)).rows}


# --------------------------------------------------------------------------- 住民照会


def test_a_person_moving_out_tomorrow_is_read_as_a_resident_with_the_marker(clerk):
    # std 1.1.5 (j50): 除票となるまでは、現存者として…; std 5.1 (j1000): before the planned date
    # the record is shown without the items the 転出届 recorded
    _, (_head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(1))
    current = Resident.objects.get(atena_no=son.atena_no)
    assert current.status == "removed"  # committed at once, dated on the planned day

    view = reads.get_resident(clerk, son.atena_no)
    assert view.is_removed is False
    assert view.moving_out is not None
    assert view.moving_out_on == _days(1)
    assert view.moving_out_to == DESTINATION
    assert view.moving_out.abroad is False
    assert view.moving_out.label == f"転出予定（{_days(1):%Y-%m-%d}） {DESTINATION}"
    assert view.record.status == "resident"
    assert view.record.history_no == 1 == view.history_no
    assert view.record.moved_out_planned_on is None
    assert view.record.moved_out_planned_address == ""
    assert view.record.relationship == "子"


def test_from_the_planned_date_the_person_is_a_removed_record(clerk, monkeypatch):
    # std 1.1.5 (j50): removed on the planned date; no job runs, the read derives it
    _, (_head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(1))
    planned = _days(1)
    _freeze(monkeypatch, planned)
    view = reads.get_resident(clerk, son.atena_no)
    assert view.is_removed is True
    assert view.moving_out is None
    assert view.record.status == "removed"
    assert view.record.removed_on == planned
    assert view.history_no == 2


def test_as_of_reads_follow_the_planned_date(clerk):
    # std 1.2.1 (j200): the record as of a date; the 転出 takes effect on its planned date
    _, (_head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(3))
    before = reads.get_resident(clerk, son.atena_no, as_of=_days(2))
    assert before.is_removed is False
    assert before.record.status == "resident"
    assert before.moving_out_on == _days(3)  # notified today: the plan was known by then
    on_day = reads.get_resident(clerk, son.atena_no, as_of=_days(3))
    assert on_day.is_removed is True
    assert on_day.moving_out is None
    assert on_day.record.removed_on == _days(3)
    # before the 転出届 there was no plan to show
    earlier = reads.get_resident(clerk, son.atena_no, as_of=_days(-1))
    assert earlier.is_removed is False and earlier.moving_out is None


def test_a_move_out_dated_today_or_earlier_removes_at_once(clerk):
    # std 1.1.5 (j50): the planned date has come — a 除票 as before
    _, (head, wife, son, daughter) = f.family()
    move_out(son, planned_on=today())
    move_out(daughter, planned_on=_days(-2))
    for person, day in ((son, today()), (daughter, _days(-2))):
        view = reads.get_resident(clerk, person.atena_no)
        assert view.is_removed is True
        assert view.moving_out is None
        assert view.record.removed_on == day
    household = reads.get_household(clerk, head.household_no)
    assert {m.atena_no for m in household.members} == {head.atena_no, wife.atena_no}
    assert household.moving_out == {}
    found = find(clerk, household_no=head.household_no, status="removed")
    assert set(found) == {son.atena_no, daughter.atena_no}
    assert all(r.status == "removed" and r.moving_out_on is None for r in found.values())


# --------------------------------------------------------------------------- 世帯照会


def test_the_household_lists_a_person_moving_out_until_the_date(clerk, monkeypatch):
    # std 1.1.5 (j50): 残存世帯員とともに続柄も管理しながら
    _, (head, wife, son, daughter) = f.family()
    move_out(son, planned_on=_days(1))
    view = reads.get_household(clerk, head.household_no)
    assert [m.atena_no for m in view.members] == [
        head.atena_no,
        wife.atena_no,
        son.atena_no,
        daughter.atena_no,
    ]
    assert set(view.moving_out) == {son.atena_no}
    assert view.moving_out[son.atena_no].on == _days(1)
    assert view.head is not None and view.head.atena_no == head.atena_no
    with_removed = reads.get_household(clerk, head.household_no, include_removed=True)
    assert with_removed.removed == frozenset()
    # procedures still see the committed composition (the 転出 is applied)
    assert [m.atena_no for m in selectors.household_members(head.household_no)] == sorted(
        [head.atena_no, wife.atena_no, daughter.atena_no]
    )

    _freeze(monkeypatch, _days(1))
    after = reads.get_household(clerk, head.household_no)
    assert son.atena_no not in {m.atena_no for m in after.members}
    assert after.moving_out == {}
    after_all = reads.get_household(clerk, head.household_no, include_removed=True)
    assert after_all.members[-1].atena_no == son.atena_no
    assert after_all.removed == frozenset({son.atena_no})


def test_a_head_moving_out_stays_head_until_the_date(clerk, monkeypatch):
    # std 4.0.4 (j490): the single remaining member is made head within the 転出; std 1.1.5
    # (j50): until the date the household and its relationships stand as before
    _, (head, wife) = f.committed_move_in(
        f.person(given_name="太郎", relationship="世帯主"),
        f.person(given_name="花子", relationship="妻", sex="2", birth_date="1982-06-15"),
    )
    move_out(head, planned_on=_days(5))
    assert Resident.objects.get(atena_no=wife.atena_no).relationship == "世帯主"  # committed

    view = reads.get_household(clerk, head.household_no)
    assert [(m.atena_no, m.relationship) for m in view.members] == [
        (head.atena_no, "世帯主"),
        (wife.atena_no, "妻"),
    ]
    assert set(view.moving_out) == {head.atena_no}
    assert reads.get_resident(clerk, wife.atena_no).record.relationship == "妻"
    assert reads.get_resident(clerk, wife.atena_no).moving_out is None

    _freeze(monkeypatch, _days(5))
    after = reads.get_household(clerk, head.household_no)
    assert [(m.atena_no, m.relationship) for m in after.members] == [(wife.atena_no, "世帯主")]
    assert reads.get_resident(clerk, wife.atena_no).record.relationship == "世帯主"


def test_a_whole_household_moving_out_is_still_a_household(clerk):
    # std 1.1.5 (j50): certificates of the whole household until the date
    _, members = f.family()
    move_out(*members, planned_on=_days(2))
    view = reads.get_household(clerk, members[0].household_no)
    assert {m.atena_no for m in view.members} == {m.atena_no for m in members}
    assert set(view.moving_out) == {m.atena_no for m in members}
    assert all(m.status == "resident" for m in view.members)


# --------------------------------------------------------------------------- 転入通知


def test_a_move_in_notice_with_an_earlier_date_removes_from_that_date(clerk):
    # std 4.1.3.1.1 (j680): received before the planned date; std 1.1.5 (j50): removed on the
    # earlier of the planned date and the notified move-in date
    _, (resident,) = f.committed_move_in(f.person())
    move_out(resident, planned_on=_days(10))
    assert reads.get_resident(clerk, resident.atena_no).is_removed is False
    receive_notice(resident, moved_out_on=_days(-1))

    view = reads.get_resident(clerk, resident.atena_no)
    assert view.is_removed is True
    assert view.moving_out is None
    assert view.record.removed_on == _days(-1)
    assert view.record.moved_out_planned_on == _days(10)  # kept beside the confirmed date
    # as of the move-in date the person is removed, though the notice came later
    moved = reads.get_resident(clerk, resident.atena_no, as_of=_days(-1))
    assert moved.is_removed is True
    assert moved.record.moved_out_on == _days(-1)
    before = reads.get_resident(clerk, resident.atena_no, as_of=_days(-2))
    assert before.is_removed is False
    assert before.moving_out is None  # the 転出届 was made later (today)
    assert find(clerk, atena_no=resident.atena_no, status="resident") == {}


def test_a_move_in_notice_after_a_move_abroad_also_ends_the_plan(clerk):
    # std 4.1.3.0.2 (j650): 国外転出; std 1.1.5 (j50): the earlier date applies to any 転出
    _, (resident,) = f.committed_move_in(f.person())
    move_out(
        resident,
        planned_on=_days(10),
        destination={"kind": "abroad", "country": "韓国", "address": "ソウル特別市"},
    )
    view = reads.get_resident(clerk, resident.atena_no)
    assert view.moving_out is not None and view.moving_out.abroad is True
    assert view.moving_out_to == "韓国　ソウル特別市"
    assert view.moving_out.label.startswith("国外転出予定")
    receive_notice(resident, moved_out_on=_days(-1))
    assert reads.get_resident(clerk, resident.atena_no).is_removed is True


# --------------------------------------------------------------------------- 住民検索


def test_search_finds_a_person_moving_out_among_the_residents(clerk, monkeypatch):
    # std 2.1.3 (j340) with std 1.1.5 (j50): a 転出予定者 is a current resident
    _, (head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(1))
    household = head.household_no
    residents = find(clerk, household_no=household, status="resident")
    assert son.atena_no in residents and len(residents) == 4
    row = residents[son.atena_no]
    assert row.status == "resident"
    assert row.removal_reason == ""
    assert row.moving_out_on == _days(1)
    assert row.moving_out_to == DESTINATION
    assert residents[head.atena_no].moving_out_on is None
    assert find(clerk, household_no=household, status="removed") == {}
    assert find(clerk, household_no=household, removal_reason="domestic_move_out") == {}
    assert son.atena_no in find(clerk, household_no=household)

    _freeze(monkeypatch, _days(1))
    assert son.atena_no not in find(clerk, household_no=household, status="resident")
    removed = find(clerk, household_no=household, status="removed")
    assert set(removed) == {son.atena_no}
    assert removed[son.atena_no].status == "removed"
    assert removed[son.atena_no].removal_reason == "domestic_move_out"
    assert removed[son.atena_no].moving_out_on is None
    assert set(find(clerk, household_no=household, removal_reason="domestic_move_out")) == {
        son.atena_no
    }


# --------------------------------------------------------------------------- counts (j1080)


def test_counts_treat_a_person_moving_out_as_a_resident_until_the_date():
    # std 6.1 (j1080): 統計基準日時点で転出予定年月日を経過していない転出予定者は現存者
    _, members = f.family()
    move_out(members[2], planned_on=_days(3))
    household = members[0].household_no

    def counts(day: dt.date) -> tuple[int, int]:
        qs = Resident.objects.filter(household_no=household)
        return (
            qs.filter(status.resident_on_q(day)).count(),
            qs.filter(status.removed_on_q(day)).count(),
        )

    assert counts(_days(2)) == (4, 0)
    assert counts(_days(3)) == (3, 1)
    current = Resident.objects.get(atena_no=members[2].atena_no)
    assert status.is_resident_on(current, _days(2)) is True
    assert status.is_resident_on(current, _days(3)) is False
    assert status.moving_out_on(current, _days(2)) == _days(3)
    # the history rows in force on a day give the same answer
    in_force = {
        row.atena_no: row
        for row in ResidentHistory.objects.filter(
            status.in_force_q(_days(2)), household_no=household
        ).order_by("atena_no", "history_no")
    }
    assert all(status.is_resident_on(row, _days(2)) for row in in_force.values())


# --------------------------------------------------------------------------- procedures


def test_a_further_change_for_a_person_moving_out_asks_for_the_cancellation_first():
    # std 4.6 (j980): the committed 転出 is cancelled first, then the new change is entered
    _, (_head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(7))
    again = moves.MoveOutInput.model_validate(
        {
            "planned_on": _days(9),
            "notified_on": today(),
            "destination": {"kind": "domestic", "address": "大阪府大阪市北区"},
            "persons": [son.atena_no],
        }
    )
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_out(f.clerk(), again)
    assert _codes(exc) == {"atena_no.moving_out"}
    (finding,) = exc.value.findings
    assert "取消" in finding.remedy and finding.field == "persons.0.atena_no"
    within = moves.MoveWithinInput.model_validate(
        {
            "occurred_on": today(),
            "notified_on": today(),
            "address": {"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1番1号"},
            "persons": [{"atena_no": son.atena_no, "relationship": "世帯主"}],
        }
    )
    with pytest.raises(FindingsError) as exc:
        moves.submit_move_within(f.clerk(), within)
    assert _codes(exc) == {"atena_no.moving_out"}


def test_cancelling_the_move_out_before_the_date_leaves_a_plain_resident(clerk):
    # std 4.6 (j980): 異動取消（増） restores the record; no 転出予定 remains. The alert on
    # cancelling a 転出 after its date or a 転入通知 is 【実装しない機能】 of j980.
    _, (head, _wife, son, _daughter) = f.family()
    out = move_out(son, planned_on=_days(7))
    staff = f.StaffFactory(roles=["counter_clerk", "reviewer"])
    canceller = f.Actor.of(staff, f.TerminalFactory(org_unit=staff.org_unit), "web")
    draft = cancellation.submit(
        canceller,
        cancellation.ChangeCancellationInput(change_id=out.pk, reason="転出の取りやめ"),
    )
    services.commit_change(f.reviewer(), draft.pk)
    view = reads.get_resident(clerk, son.atena_no)
    assert view.is_removed is False and view.moving_out is None
    assert view.record.status == "resident"
    assert view.history_no == 3
    assert reads.get_household(clerk, head.household_no).moving_out == {}
    # and the plan has gone from the past too: as of the old planned date, still a resident
    assert reads.get_resident(clerk, son.atena_no, as_of=_days(7)).is_removed is False


# --------------------------------------------------------------------------- API


def _api_client(*roles: str) -> Client:
    staff: Any = f.StaffFactory(roles=list(roles))
    client = Client()
    client.force_login(staff)
    return client


def test_the_api_shows_the_marker_in_person_household_and_search():
    # std 1.1.5 (j50) through the register API
    _, (head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(1))
    client = _api_client("counter_clerk")

    body = client.get(f"{BASE}/residents/{son.atena_no}").json()
    assert body["is_removed"] is False
    assert body["moving_out_on"] == _days(1).isoformat()
    assert body["moving_out_to"] == DESTINATION
    assert body["record"]["status_label"] == "住民"
    assert body["record"]["moved_out_planned_on"] is None

    other = client.get(f"{BASE}/residents/{head.atena_no}").json()
    assert other["moving_out_on"] is None and other["moving_out_to"] is None

    members = client.get(f"{BASE}/households/{head.household_no}").json()["members"]
    marked = {m["atena_no"]: m["moving_out_on"] for m in members}
    assert marked == {
        m.atena_no: (_days(1).isoformat() if m.atena_no == son.atena_no else None)
        for m in (head, _wife, son, _daughter)
    }
    son_out = next(m for m in members if m["atena_no"] == son.atena_no)
    assert son_out["moving_out_to"] == DESTINATION
    assert son_out["relationship"] == "子" and son_out["name"] == son.name

    rows = client.get(
        f"{BASE}/search", {"household_no": head.household_no, "status": "resident"}
    ).json()["rows"]
    row = next(r for r in rows if r["atena_no"] == son.atena_no)
    assert row["status"] == "resident" and row["moving_out_on"] == _days(1).isoformat()

    # the planned date through as_of: a 除票
    on_day = client.get(f"{BASE}/residents/{son.atena_no}?as_of={_days(1)}").json()
    assert on_day["is_removed"] is True
    assert on_day["moving_out_on"] is None
    assert on_day["record"]["status_label"] == "消除"
    later = client.get(f"{BASE}/households/{head.household_no}?as_of={_days(1)}").json()
    assert son.atena_no not in {m["atena_no"] for m in later["members"]}


def test_reads_of_a_person_moving_out_are_logged_like_any_other(clerk):
    # DESIGN invariant 5: the 転出予定者 shown in the household is a logged target
    from jumin.audit.models import OperationLogEntry

    _, (head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(1))
    reads.get_household(clerk, head.household_no)
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry is not None and son.atena_no in entry.targets


def test_a_death_of_a_person_moving_out_asks_for_the_cancellation_first():
    # std 4.6 (j980): procedures that name a current member refuse a 転出予定者 the same way
    from jumin.register.procedures import ex_officio

    _, (_head, _wife, son, _daughter) = f.family()
    move_out(son, planned_on=_days(7))
    death = ex_officio.DeathInput.model_validate(
        {"atena_no": son.atena_no, "death_date": today().isoformat()}
    )
    with pytest.raises(FindingsError) as exc:
        ex_officio.submit_death(f.clerk(), death)
    assert "atena_no.moving_out" in _codes(exc)
