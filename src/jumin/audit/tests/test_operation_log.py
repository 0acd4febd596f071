"""The operation log: append-only, hash-chained, tamper-evident. std 10.2 (j1370)."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory, TerminalFactory, actor_for
from jumin.audit import selectors, services, triggers
from jumin.audit.models import Category, OperationLogEntry, OperationLogHead, Outcome

pytestmark = pytest.mark.django_db


def _log(n: int, actor: Actor | None = None) -> list[OperationLogEntry]:
    actor = actor or Actor.system("batch", "test")
    return [
        services.record(
            actor,
            category=Category.INQUIRY,
            function="住民照会",
            screen="/residents/",
            targets=[f"00000000{i % 10}{i % 7}"],
            detail={"i": i},
        )
        for i in range(n)
    ]


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def test_entries_carry_the_fields_of_the_standard():
    # std 10.2 (j1370): operator, time, terminal, function, screen, targets, My Number access
    staff = StaffFactory()
    terminal = TerminalFactory()
    entry = services.record(
        actor_for(staff, terminal),
        category=Category.INQUIRY,
        function="住民照会",
        screen="/residents/0000000019",
        targets=["0000000019", "0000000027"],
        my_number_accessed=True,
    )
    entry.refresh_from_db()
    assert entry.seq == 1
    assert entry.operator == staff
    assert entry.operator_code == staff.staff_id
    assert entry.terminal_name == terminal.name
    assert entry.place == terminal.org_unit.code
    assert entry.occurred_at is not None
    assert entry.function == "住民照会"
    assert entry.screen == "/residents/0000000019"
    assert entry.targets == ["0000000019", "0000000027"]
    assert entry.my_number_accessed is True
    assert entry.outcome == Outcome.SUCCESS
    assert [e.seq for e in selectors.entries_for_person("0000000027")] == [1]


def test_chain_links_each_entry_to_the_previous():
    entries = _log(5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash
    head = OperationLogHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (5, entries[-1].entry_hash)
    report = selectors.verify_chain()
    assert report.ok, report.problems
    assert report.checked == 5


def test_record_joins_the_callers_transaction():
    # invariant 1: the log entry commits or rolls back with the caller's writes
    _log(1)

    def failing_work() -> None:
        with transaction.atomic():
            _log(1)
            raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError):
        failing_work()
    assert OperationLogEntry.objects.count() == 1
    assert selectors.verify_chain().ok
    assert _log(1)[0].seq == 2


@pytest.mark.parametrize(
    "detail",
    [{"my_number": "123456789018"}, {"note": "番号 983205673214 を確認"}, {"n": ["000000000019"]}],
)
def test_my_number_is_never_logged_in_clear(detail):
    # invariant 6
    with pytest.raises(services.MyNumberInLogError):
        services.record(Actor.system(), category=Category.INQUIRY, function="照会", detail=detail)
    assert OperationLogEntry.objects.count() == 0


def test_twelve_digits_that_are_not_a_my_number_are_allowed():
    entry = services.record(
        Actor.system(), category=Category.INQUIRY, function="照会", detail={"x": "123456789012"}
    )
    assert entry.detail == {"x": "123456789012"}


def test_update_and_delete_are_refused_by_the_database():
    _log(2)
    for sql in (
        "UPDATE audit_operationlogentry SET function = 'x' WHERE seq = 1",
        "DELETE FROM audit_operationlogentry WHERE seq = 2",
        "UPDATE audit_operationlogtarget SET atena_no = 'x'",
        "DELETE FROM audit_operationlogtarget",
        "UPDATE audit_operationloghead SET last_seq = 0",
        "DELETE FROM audit_operationloghead",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            _raw(sql)
    with pytest.raises(DatabaseError), transaction.atomic():
        OperationLogEntry.objects.filter(seq=1).update(function="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        OperationLogEntry.objects.filter(seq=1).delete()
    assert OperationLogEntry.objects.count() == 2
    assert selectors.verify_chain().ok


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql():
    _log(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        _raw("TRUNCATE audit_operationlogentry CASCADE")
    assert OperationLogEntry.objects.count() == 1


# --- tampering: an attacker with database access drops the triggers first -------------


@pytest.fixture
def tamper():
    """Drop the triggers as an attacker would; put them back afterwards."""
    triggers.uninstall(connection)
    yield _raw
    triggers.install(connection)


def _kinds() -> set[str]:
    return {p.kind for p in selectors.verify_chain().problems}


def test_detects_a_modified_entry(tamper):
    _log(5)
    tamper("UPDATE audit_operationlogentry SET operator_code = 'someone-else' WHERE seq = 3")
    report = selectors.verify_chain()
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "modified")]


def test_detects_a_modified_target(tamper):
    _log(3)
    tamper("UPDATE audit_operationlogentry SET targets = '[\"9999999999\"]' WHERE seq = 2")
    assert "modified" in _kinds()


def test_detects_a_deleted_entry(tamper):
    _log(5)
    tamper("DELETE FROM audit_operationlogtarget WHERE entry_id = 3")
    tamper("DELETE FROM audit_operationlogentry WHERE seq = 3")
    assert {"missing", "broken_link"} <= _kinds()


def test_detects_a_deleted_tail(tamper):
    _log(5)
    tamper("DELETE FROM audit_operationlogtarget WHERE entry_id = 5")
    tamper("DELETE FROM audit_operationlogentry WHERE seq = 5")
    assert _kinds() == {"head"}


def test_detects_an_inserted_entry(tamper):
    entries = _log(4)
    # Shift entries 3..4 up by one and forge an entry at 3 with a self-consistent hash.
    tamper("DELETE FROM audit_operationlogtarget")
    tamper("UPDATE audit_operationlogentry SET seq = seq + 10 WHERE seq >= 3")
    tamper("UPDATE audit_operationlogentry SET seq = seq - 9 WHERE seq >= 13")
    forged = entries[1]
    from jumin.audit.chain import entry_hash

    fields = dict(
        seq=3,
        occurred_at=forged.occurred_at,
        operator_code="forger",
        terminal_name="",
        place="",
        category="inquiry",
        function="偽造",
        screen="",
        targets=[],
        my_number_accessed=False,
        outcome="success",
        detail={},
        prev_hash=forged.entry_hash,
    )
    OperationLogEntry.objects.create(entry_hash=entry_hash(**fields), **fields)
    kinds = _kinds()
    assert "modified" in kinds or "broken_link" in kinds
    assert not selectors.verify_chain().ok


def test_detects_reordered_entries(tamper):
    _log(4)
    tamper("DELETE FROM audit_operationlogtarget")
    tamper("UPDATE audit_operationlogentry SET seq = 100 WHERE seq = 2")
    tamper("UPDATE audit_operationlogentry SET seq = 2 WHERE seq = 3")
    tamper("UPDATE audit_operationlogentry SET seq = 3 WHERE seq = 100")
    assert "modified" in _kinds()


def test_detects_forged_index_rows(tamper):
    _log(2)
    tamper("INSERT INTO audit_operationlogtarget (entry_id, atena_no) VALUES (1, '1234567890')")
    assert _kinds() == {"targets"}


def test_verify_command_reports_ok_and_tampering(tamper, capsys):
    _log(3)
    call_command("audit", "verify")
    assert "正常" in capsys.readouterr().out
    tamper("UPDATE audit_operationlogentry SET function = '改ざん' WHERE seq = 2")
    with pytest.raises(CommandError, match="改ざんを検出"):
        call_command("audit", "verify")
    assert "連番 2 [modified]" in capsys.readouterr().err


def test_tail_command_lists_latest(capsys):
    _log(3)
    call_command("audit", "tail", "--last", "2")
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["2", "3"]


def test_chain_restarts_after_a_flush():
    # A freshly flushed database has no head row; the first append recreates it.
    triggers.uninstall(connection)
    _raw("DELETE FROM audit_operationloghead")
    triggers.install(connection)
    assert _log(1)[0].seq == 1
    assert selectors.verify_chain().ok
