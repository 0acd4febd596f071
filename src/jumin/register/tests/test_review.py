"""Draft → review → commit, history snapshots, edit locks. std 4.0.8 (j530), 1.2.1 (j200)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from jumin.audit.models import OperationLogEntry
from jumin.core.findings import FindingsError
from jumin.outbox.models import OutboxMessage
from jumin.register import selectors, services
from jumin.register.models import Change, Resident, ResidentHistory
from jumin.register.procedures import move_in
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db


def _codes(exc):
    return {x.code for x in exc.value.findings}


def test_move_in_draft_is_invisible_until_committed():
    # std 4.0.8 (j530): drafts are invisible to every other read
    clerk = f.clerk()
    change = move_in.submit(clerk, f.move_in_input(f.person()))
    assert change.status == Change.Status.DRAFT
    atena = change.payload["persons"][0]["atena_no"]
    assert len(atena) == 10
    assert not Resident.objects.filter(atena_no=atena).exists()
    assert not ResidentHistory.objects.filter(atena_no=atena).exists()
    assert not OutboxMessage.objects.exists()
    assert list(selectors.drafts()) == [change]


def test_commit_writes_history_current_view_log_and_outbox_together():
    # DESIGN invariant 1; std 1.2.1 (j200)
    clerk = f.clerk()
    change = move_in.submit(
        clerk, f.move_in_input(f.person(), f.person(relationship="妻", sex="2"))
    )
    log_before = OperationLogEntry.objects.count()
    reviewer = f.reviewer()
    change = services.commit_change(reviewer, change.pk)
    assert change.status == Change.Status.COMMITTED
    assert change.reviewed_by == reviewer.staff
    atenas = [p["atena_no"] for p in change.payload["persons"]]
    for atena in atenas:
        resident = Resident.objects.get(atena_no=atena)
        history = ResidentHistory.objects.get(atena_no=atena)
        assert history.history_no == resident.history_no == 1
        assert history.change_reason == "domestic_move_in"
        assert history.operator == clerk.staff
        assert history.reviewer == reviewer.staff
        assert history.terminal == clerk.terminal
        assert history.processed_at is not None
        assert resident.address.startswith("神奈川県相模原市中央区上矢部")
        assert resident.household_no == history.household_no
        assert resident.kana_key
    head = Resident.objects.get(atena_no=atenas[0])
    spouse = Resident.objects.get(atena_no=atenas[1])
    assert spouse.head_name == head.name
    topics = sorted(OutboxMessage.objects.values_list("topic", flat=True))
    assert topics == ["identity_info", "identity_info", "move_in_notice", "move_in_notice"]
    assert OperationLogEntry.objects.count() == log_before + 1


def test_the_author_cannot_commit_their_own_draft():
    # std 4.0.8 (j530): a different member of staff commits
    staff = f.StaffFactory(roles=["counter_clerk", "reviewer"])
    actor = f.Actor.of(staff, None, "web")
    change = move_in.submit(actor, f.move_in_input())
    with pytest.raises(FindingsError) as exc:
        services.commit_change(actor, change.pk)
    assert _codes(exc) == {"review.same_person"}
    assert not Resident.objects.exists()


def test_a_clerk_without_review_permission_cannot_commit():
    change = move_in.submit(f.clerk(), f.move_in_input())
    with pytest.raises(PermissionDenied):
        services.commit_change(f.clerk(), change.pk)


def test_the_same_draft_cannot_be_committed_twice():
    change = move_in.submit(f.clerk(), f.move_in_input())
    services.commit_change(f.reviewer(), change.pk)
    with pytest.raises(FindingsError) as exc:
        services.commit_change(f.reviewer(), change.pk)
    assert _codes(exc) == {"change.not_draft"}
    assert ResidentHistory.objects.count() == 1


def test_reject_with_reason_and_withdraw():
    clerk = f.clerk()
    change = move_in.submit(clerk, f.move_in_input())
    with pytest.raises(FindingsError) as exc:
        services.reject_change(f.reviewer(), change.pk, reason="  ")
    assert _codes(exc) == {"review.reason_empty"}
    change = services.reject_change(f.reviewer(), change.pk, reason="転出証明書の日付を確認")
    assert change.status == Change.Status.REJECTED
    assert change.rejection_reason == "転出証明書の日付を確認"
    with pytest.raises(FindingsError):
        services.commit_change(f.reviewer(), change.pk)
    other = move_in.submit(clerk, f.move_in_input())
    with pytest.raises(FindingsError) as exc:
        services.withdraw_change(f.clerk(), other.pk)
    assert _codes(exc) == {"change.not_author"}
    assert services.withdraw_change(clerk, other.pk).status == Change.Status.WITHDRAWN
    assert not Resident.objects.exists()


def test_duplicate_submission_returns_the_same_draft():
    clerk = f.clerk()
    data = f.move_in_input()
    first = move_in.submit(clerk, data, idempotency_key="form-123")
    second = move_in.submit(clerk, data, idempotency_key="form-123")
    assert first.pk == second.pk
    assert Change.objects.count() == 1


def test_bulk_commit_within_cap():
    clerk = f.clerk()
    ids = [move_in.submit(clerk, f.move_in_input()).pk for _ in range(3)]
    boss = f.supervisor()
    with pytest.raises(FindingsError) as exc:
        services.bulk_commit(boss, ids, cap=2)
    assert _codes(exc) == {"review.bulk_cap"}
    result = services.bulk_commit(boss, [*ids, 999999], cap=10)
    assert result.committed == ids
    assert set(result.failed) == {999999}


def test_history_rows_cannot_be_updated_or_deleted():
    # DESIGN invariant 2
    f.committed_move_in(f.person())
    for sql in (
        "UPDATE register_residenthistory SET family_name = 'x'",
        "DELETE FROM register_residenthistory",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert ResidentHistory.objects.count() == 1


def test_edit_lock_lets_one_clerk_edit_and_others_read():
    _, (resident,) = f.committed_move_in(f.person())
    first, second = f.clerk(), f.clerk()
    services.acquire_lock(first, resident.atena_no)
    with pytest.raises(FindingsError) as exc:
        services.acquire_lock(second, resident.atena_no)
    assert _codes(exc) == {"lock.held"}
    assert first.staff.name in next(iter(exc.value.findings)).message
    services.acquire_lock(first, resident.atena_no)  # renewing your own lock is fine
    services.release_lock(first, resident.atena_no)
    services.acquire_lock(second, resident.atena_no)


def test_expired_locks_are_taken_over():
    _, (resident,) = f.committed_move_in(f.person())
    first, second = f.clerk(), f.clerk()
    services.acquire_lock(first, resident.atena_no, minutes=-1)
    lock = services.acquire_lock(second, resident.atena_no)
    assert lock.holder == second.staff


def test_as_of_reproduces_past_state():
    # std 1.2.1 (j200): any past state reproduces
    _, (resident,) = f.committed_move_in(f.person())
    first = selectors.as_of(resident.atena_no, dt.date.today())
    assert first is not None and first.history_no == 1
    assert selectors.as_of(resident.atena_no, dt.date(2000, 1, 1)) is None
