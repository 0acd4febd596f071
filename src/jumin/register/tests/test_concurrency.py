"""Races between staff members: review, edit locks, drafts built on the same record.

The threaded tests need real concurrent transactions, so they run on PostgreSQL only; each
thread has its own database connection and closes it at the end.
DESIGN invariants 2 and 3; std 4.0.8 (j530), std 10.3 (edit lock).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import FindingsError
from jumin.register import services
from jumin.register.models import Change, EditLock, Resident, ResidentHistory
from jumin.register.procedures import move_in
from jumin.register.records import snapshot
from jumin.register.services import DraftPlan, PersonPlan
from jumin.register.tests import factories as f


def race(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run the calls at the same moment, one thread (and connection) each.

    Returns per call ("ok", result), ("refused", finding codes) or ("crash", exception)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("crash", "not run")] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=20)
            results[i] = ("ok", call())
        except FindingsError as exc:
            results[i] = ("refused", {x.code for x in exc.findings})
        except Exception as exc:
            results[i] = ("crash", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def outcomes(results: list[tuple[str, Any]]) -> list[str]:
    crashes = [r for r in results if r[0] == "crash"]
    assert not crashes, crashes
    return sorted(r[0] for r in results)


def amendment(resident: Resident, given_name: str) -> DraftPlan:
    return DraftPlan(
        "ex_officio_amendment",
        ChangeReason.EX_OFFICIO_AMENDMENT,
        dt.date.today(),
        dt.date.today(),
        [
            PersonPlan(
                resident.atena_no,
                resident.history_no,
                snapshot(resident) | {"given_name": given_name},
            )
        ],
    )


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_commit_one_draft_at_once(attempt):
    # std 4.0.8 (j530): a draft is committed once; history gets one row per person
    draft = move_in.submit(f.clerk(), f.move_in_input(f.person(), f.person(relationship="妻")))
    first, second = f.reviewer(), f.reviewer()
    results = race(
        lambda: services.commit_change(first, draft.pk),
        lambda: services.commit_change(second, draft.pk),
    )
    assert outcomes(results) == ["ok", "refused"]
    refused = next(r[1] for r in results if r[0] == "refused")
    assert refused <= {"change.not_draft", "change.stale"}
    atenas = [p["atena_no"] for p in draft.payload["persons"]]
    for atena in atenas:
        assert list(ResidentHistory.objects.filter(atena_no=atena).values_list("history_no")) == [
            (1,)
        ]
        assert Resident.objects.get(atena_no=atena).history_no == 1
    draft.refresh_from_db()
    assert draft.status == Change.Status.COMMITTED
    winner = next(r[1] for r in results if r[0] == "ok")
    assert draft.reviewed_by_id == winner.reviewed_by_id


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_take_the_edit_lock_at_once(attempt):
    # std 10.3: one clerk edits a person, the other may only read
    _, (resident,) = f.committed_move_in(f.person())
    first, second = f.clerk(), f.clerk()
    results = race(
        lambda: services.acquire_lock(first, resident.atena_no),
        lambda: services.acquire_lock(second, resident.atena_no),
    )
    assert outcomes(results) == ["ok", "refused"]
    assert next(r[1] for r in results if r[0] == "refused") == {"lock.held"}
    winner = next(r[1] for r in results if r[0] == "ok")
    (lock,) = EditLock.objects.filter(atena_no=resident.atena_no)
    assert lock.holder_id == winner.holder_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_drafts_for_one_person_committed_at_once():
    # DESIGN invariant 2: both drafts were built on history row 1; only one may follow it
    _, (resident,) = f.committed_move_in(f.person())
    one = services.save_draft(f.clerk(), amendment(resident, "一"))
    two = services.save_draft(f.clerk(), amendment(resident, "二"))
    first, second = f.reviewer(), f.reviewer()
    results = race(
        lambda: services.commit_change(first, one.pk),
        lambda: services.commit_change(second, two.pk),
    )
    assert outcomes(results) == ["ok", "refused"]
    assert next(r[1] for r in results if r[0] == "refused") == {"change.stale"}
    rows = ResidentHistory.objects.filter(atena_no=resident.atena_no).order_by("history_no")
    assert [r.history_no for r in rows] == [1, 2]
    resident.refresh_from_db()
    assert resident.history_no == 2 and resident.given_name in {"一", "二"}


@pytest.mark.django_db
def test_two_clerks_drafting_for_one_person_the_second_commit_is_stale():
    # DESIGN invariant 2 and 8: the later commit fails and writes nothing
    _, (resident,) = f.committed_move_in(f.person())
    one = services.save_draft(f.clerk(), amendment(resident, "一"))
    two = services.save_draft(f.clerk(), amendment(resident, "二"))
    services.commit_change(f.reviewer(), one.pk)
    rows_before = ResidentHistory.objects.count()
    with pytest.raises(FindingsError) as exc:
        services.commit_change(f.reviewer(), two.pk)
    assert {x.code for x in exc.value.findings} == {"change.stale"}
    assert ResidentHistory.objects.count() == rows_before
    two.refresh_from_db()
    assert two.status == Change.Status.DRAFT and two.reviewed_by is None
    resident.refresh_from_db()
    assert (resident.given_name, resident.history_no) == ("一", 2)
