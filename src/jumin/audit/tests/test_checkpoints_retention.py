"""Signed checkpoints, retention and archiving, the holiday calendar, the error log.
std 10.2 (j1370): 改ざん防止措置, 市区町村が定める期間保管, エラーログ."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory, actor_for
from jumin.audit import checkpoints, events, holidays, retention, selectors, services, triggers
from jumin.audit.chain import entry_hash
from jumin.audit.models import ArchiveState, Category, OperationLogEntry, OperationLogTarget

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(tmp_path, settings):
    settings.AUDIT_CHECKPOINT_KEY = str(tmp_path / "key.pem")
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    settings.AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    checkpoints.generate_key()
    return tmp_path


def _log(n: int) -> list[OperationLogEntry]:
    actor = Actor.system("batch", "test")
    return [
        services.record(
            actor,
            category=Category.INQUIRY,
            function="住民照会",
            targets=[f"000000001{i % 10}"],
            detail={"i": i},
        )
        for i in range(n)
    ]


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@pytest.fixture
def tamper():
    triggers.uninstall(connection)
    yield _raw
    triggers.install(connection)


def _verify():
    return events.verify()


def test_clean_log_with_checkpoints_verifies(keys, capsys):
    # std 10.2 (j1370): 改ざん防止措置 — a clean log and its checkpoints agree
    _log(3)
    call_command("audit", "checkpoint")
    _log(2)
    call_command("audit", "checkpoint")
    files = list((keys / "checkpoints").glob("checkpoints-*.jsonl"))
    assert len(files) == 1
    lines = [json.loads(x) for x in files[0].read_text().splitlines()]
    assert [x["seq"] for x in lines] == [3, 5]
    assert set(lines[0]) == {"seq", "entry_hash", "time", "key_id", "signature"}
    result = _verify()
    assert result.ok, (result.chain.problems, result.checkpoints.problems)
    assert result.checkpoints.checked == 2
    capsys.readouterr()
    call_command("audit", "verify")
    assert "操作ログは正常です" in capsys.readouterr().out


def test_truncated_tail_is_detected_by_the_checkpoint(keys, tamper, capsys):
    # std 10.2 (j1370): the newest entries deleted and the head rewound consistently —
    # the chain alone looks fine; the signed checkpoint shows the truncation.
    entries = _log(5)
    call_command("audit", "checkpoint")
    tamper("DELETE FROM audit_operationlogtarget WHERE entry_id > 3")
    tamper("DELETE FROM audit_operationlogentry WHERE seq > 3")
    tamper(
        "UPDATE audit_operationloghead SET last_seq = 3, last_hash = %s",
        [entries[2].entry_hash],
    )
    result = _verify()
    assert result.chain.ok  # the chain itself was rewound consistently
    kinds = [p.kind for p in result.checkpoints.problems]
    assert kinds == ["truncated"]
    assert "切り詰め" in result.checkpoints.problems[0].message
    with pytest.raises(CommandError, match="改ざんを検出"):
        call_command("audit", "verify")
    assert "[truncated]" in capsys.readouterr().err


def test_rewritten_entry_with_recomputed_chain_is_detected(keys, tamper):
    # std 10.2 (j1370): an attacker rewrites entry 3 and recomputes every hash after it
    _log(3)
    call_command("audit", "checkpoint")
    tamper("DELETE FROM audit_operationlogtarget WHERE entry_id = 3")
    old = OperationLogEntry.objects.get(seq=3)
    fields = {
        "seq": 3,
        "occurred_at": old.occurred_at,
        "operator_code": "someone-else",
        "terminal_name": "",
        "place": "",
        "category": old.category,
        "function": old.function,
        "screen": old.screen,
        "targets": [],
        "my_number_accessed": False,
        "outcome": old.outcome,
        "detail": {},
        "prev_hash": old.prev_hash,
    }
    forged_hash = entry_hash(**fields)
    tamper(
        "UPDATE audit_operationlogentry SET operator_code = %s, targets = %s, detail = %s,"
        " entry_hash = %s WHERE seq = 3",
        ["someone-else", "[]", "{}", forged_hash],
    )
    tamper("UPDATE audit_operationloghead SET last_hash = %s", [forged_hash])
    result = _verify()
    assert result.chain.ok
    assert [p.kind for p in result.checkpoints.problems] == ["mismatch"]
    assert "改ざん" in result.checkpoints.problems[0].message


def test_modified_row_is_detected_by_the_chain(keys, tamper):
    _log(3)
    call_command("audit", "checkpoint")
    tamper("UPDATE audit_operationlogentry SET function = '改ざん' WHERE seq = 2")
    result = _verify()
    assert not result.ok
    assert [(p.seq, p.kind) for p in result.chain.problems] == [(2, "modified")]


def test_forged_checkpoint_is_detected(keys):
    # std 10.2 (j1370): a checkpoint signed with another key, or edited, is refused
    _log(2)
    cp = checkpoints.write_checkpoint()
    path = keys / "checkpoints" / cp.file
    other = Ed25519PrivateKey.generate()
    body = {**cp.body(), "seq": 1}
    forged = {**body, "signature": checkpoints.sign(other, body)}
    edited = {**cp.body(), "seq": 2, "signature": cp.signature, "entry_hash": "f" * 64}
    with path.open("a") as fh:
        fh.write(json.dumps(forged) + "\n")
        fh.write(json.dumps(edited) + "\n")
        fh.write("not json\n")
    result = _verify()
    kinds = sorted(p.kind for p in result.checkpoints.problems)
    assert kinds == ["forged", "forged", "unreadable"]
    assert all("偽造" in p.message for p in result.checkpoints.problems if p.kind == "forged")


def test_checkpoint_without_key_is_refused(tmp_path, settings):
    settings.AUDIT_CHECKPOINT_KEY = str(tmp_path / "missing.pem")
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "cp")
    with pytest.raises(CommandError, match="keygen"):
        call_command("audit", "checkpoint")
    assert not (tmp_path / "cp").exists()


def test_keygen_writes_a_private_key_once_and_logs_it(tmp_path, settings, capsys):
    settings.AUDIT_CHECKPOINT_KEY = str(tmp_path / "k" / "key.pem")
    call_command("audit", "keygen")
    path = tmp_path / "k" / "key.pem"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "鍵ID" in capsys.readouterr().out
    assert OperationLogEntry.objects.get().category == Category.SETTINGS_CHANGE
    with pytest.raises(CommandError, match="既にあります"):
        call_command("audit", "keygen")


# --- retention and archive ------------------------------------------------------------


def _age(seqs: list[int], years: int) -> None:
    """Move entries into the past, keeping the chain valid (recomputed from seq 1)."""
    triggers.uninstall(connection)
    try:
        prev = "0" * 64
        for e in OperationLogEntry.objects.order_by("seq"):
            if e.seq in seqs:
                e.occurred_at = e.occurred_at - dt.timedelta(days=366 * years)
            e.prev_hash = prev
            e.entry_hash = retention._recompute(e)
            OperationLogEntry.objects.filter(seq=e.seq).update(
                occurred_at=e.occurred_at, prev_hash=e.prev_hash, entry_hash=e.entry_hash
            )
            prev = e.entry_hash
        _raw("UPDATE audit_operationloghead SET last_hash = %s", [prev])
    finally:
        triggers.install(connection)


def test_archive_moves_old_entries_to_a_signed_file_and_the_chain_continues(keys, capsys):
    # std 10.2 (j1370): 市区町村が定める期間保管 — older entries archived, then removed
    _log(5)
    _age([1, 2, 3], 8)
    assert selectors.verify_chain().ok
    call_command("audit", "checkpoint")  # at seq 5 (stays online)
    call_command("audit", "archive")
    out = capsys.readouterr().out
    assert "連番 1〜3（3 件）" in out
    assert list(OperationLogEntry.objects.values_list("seq", flat=True)) == [4, 5, 6]
    assert not OperationLogTarget.objects.filter(entry_id__lte=3).exists()
    state = ArchiveState.objects.get()
    assert state.archived_through == 3
    archive_entry = OperationLogEntry.objects.get(seq=6)
    assert archive_entry.category == Category.BATCH_UPDATE
    assert archive_entry.detail["count"] == 3
    result = _verify()
    assert result.ok, (result.chain.problems, result.checkpoints.problems)
    assert result.chain.archived_through == 3
    files = sorted((keys / "archive").glob("*.jsonl"))
    assert [f.name for f in files] == ["oplog-000000000001-000000000003.jsonl"]
    call_command("audit", "verify-archive", str(files[0]))
    assert "正常です" in capsys.readouterr().out
    # nothing more is old enough
    call_command("audit", "archive")
    assert "ありません" in capsys.readouterr().out


def test_a_tampered_archive_file_is_detected(keys):
    _log(3)
    _age([1, 2], 8)
    result = retention.archive(Actor.system())
    assert result is not None
    text = result.path.read_text().replace("住民照会", "住民照合", 1)
    result.path.write_text(text)
    problems = retention.verify_archive(result.path)
    assert any("改ざん" in p for p in problems)
    assert any("ダイジェスト" in p for p in problems)


def test_only_archived_entries_can_be_deleted_and_the_mark_only_advances(keys):
    _log(4)
    _age([1, 2], 8)
    retention.archive(Actor.system())
    assert ArchiveState.objects.get().archived_through == 2
    for sql in (
        "DELETE FROM audit_operationlogentry WHERE seq = 3",
        "DELETE FROM audit_operationlogtarget WHERE entry_id = 3",
        "UPDATE audit_archivestate SET archived_through = 1",
        "DELETE FROM audit_archivestate",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            _raw(sql)
    assert OperationLogEntry.objects.filter(seq=3).exists()


def test_settings_change_is_permission_checked_and_logged():
    # std 10.2 (j1370): 設定変更ログ; AUDIT_SETTINGS_MANAGE
    auditor = actor_for(StaffFactory(roles=["auditor"]))
    clerk = actor_for(StaffFactory(roles=["counter_clerk"]))
    values = {
        "retention_years": 10,
        "night_start": dt.time(21, 0),
        "night_end": dt.time(6, 0),
        "mass_search_threshold": 50,
    }
    with pytest.raises(PermissionDenied, match="操作ログの保存期間等の設定"):
        retention.change_settings(clerk, **values)
    retention.change_settings(auditor, **values)
    assert retention.current_settings().retention_years == 10
    entry = OperationLogEntry.objects.filter(category=Category.SETTINGS_CHANGE).get()
    assert entry.detail["before"]["retention_years"] == 7
    assert entry.detail["after"]["night_start"] == "21:00"
    from jumin.core.findings import FindingsError

    with pytest.raises(FindingsError) as exc:
        retention.change_settings(auditor, **{**values, "retention_years": 0})
    assert [f.field for f in exc.value.findings] == ["retention_years"]


def test_retention_cutoff_handles_leap_day():
    moment = dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)
    assert retention.retention_cutoff(moment, 7) == dt.datetime(2021, 2, 28, 12, tzinfo=dt.UTC)


# --- holidays ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (dt.date(2026, 1, 1), "元日"),
        (dt.date(2026, 1, 12), "成人の日"),
        (dt.date(2026, 3, 20), "春分の日"),
        (dt.date(2026, 5, 6), "振替休日"),  # 5/3 is a Sunday
        (dt.date(2026, 9, 22), "国民の休日"),  # between 敬老の日 9/21 and 秋分の日 9/23
        (dt.date(2026, 9, 23), "秋分の日"),
        (dt.date(2026, 11, 23), "勤労感謝の日"),
        (dt.date(2025, 11, 24), "振替休日"),  # 11/23/2025 is a Sunday
        (dt.date(2021, 7, 23), "スポーツの日"),  # the Olympic move
        (dt.date(2026, 12, 29), "年末年始"),
        (dt.date(2027, 1, 3), "年末年始"),
        (dt.date(2026, 11, 28), "土曜日"),
        (dt.date(2026, 11, 26), ""),  # a Thursday
        (dt.date(2026, 12, 28), ""),  # the last working day of the year
    ],
)
def test_closed_days(day, reason):
    assert holidays.closed_reason(day) == reason


def test_night_hours_across_midnight():
    start, end = dt.time(22), dt.time(7)
    assert holidays.is_night(dt.time(23, 30), start, end)
    assert holidays.is_night(dt.time(6, 59), start, end)
    assert not holidays.is_night(dt.time(7, 0), start, end)
    assert not holidays.is_night(dt.time(12, 0), start, end)


# --- error log ---------------------------------------------------------------------------


def test_unhandled_exception_writes_an_error_entry(rf):
    # std 10.2 (j1370): エラーログ — the class and the route, no personal data
    from django.core.signals import got_request_exception
    from django.urls import resolve

    request = rf.get("/residents/0000000019/")
    request.resolver_match = resolve("/residents/0000000019/")
    request.user = StaffFactory()
    try:
        raise ZeroDivisionError("boom 0000000019")
    except ZeroDivisionError:
        got_request_exception.send(sender=None, request=request)
    entry = OperationLogEntry.objects.get(category=Category.ERROR)
    assert entry.outcome == "error"
    assert entry.operator_code == request.user.staff_id
    assert entry.detail["exception"] == "ZeroDivisionError"
    assert entry.detail["route"] == "residents/<str:atena_no>/"
    assert "0000000019" not in json.dumps(entry.detail)


def test_archive_refuses_a_broken_chain_and_deletes_nothing(keys):
    _log(4)
    _age([1, 2, 3], 8)
    triggers.uninstall(connection)
    _raw("UPDATE audit_operationlogentry SET function = '改ざん' WHERE seq = 2")
    triggers.install(connection)
    with pytest.raises(CommandError, match="連番 2 でハッシュチェーンが一致しない"):
        call_command("audit", "archive")
    assert OperationLogEntry.objects.count() == 4
    assert not list((keys / "archive").glob("*.jsonl*"))
    assert not ArchiveState.objects.filter(archived_through__gt=0).exists()


def test_checkpoints_inside_the_archived_range_are_counted_not_failed(keys):
    _log(3)
    call_command("audit", "checkpoint")  # seq 3
    _age([1, 2, 3], 8)  # rewrites the hashes: take a fresh checkpoint of the aged chain
    for path in (keys / "checkpoints").glob("*.jsonl"):
        path.unlink()
    call_command("audit", "checkpoint")
    _log(1)
    call_command("audit", "checkpoint")  # seq 4
    retention.archive(Actor.system())  # archives 1..3; logs seq 5
    result = _verify()
    assert result.ok, (result.chain.problems, result.checkpoints.problems)
    assert result.checkpoints.checked == 3  # seq 3, seq 4 and the archive's mark (seq 3)
    assert result.checkpoints.archived == 0  # seq 3 == the anchor: compared with it


def test_off_hours_windows_are_merged_and_clipped_to_the_period():
    from zoneinfo import ZoneInfo

    from jumin.audit.reports import _off_hours

    jst = ZoneInfo("Asia/Tokyo")
    thursday = dt.date(2026, 11, 26)
    spans = _off_hours(thursday, thursday, dt.time(22), dt.time(7))
    assert spans == [
        (dt.datetime(2026, 11, 26, 0, tzinfo=jst), dt.datetime(2026, 11, 26, 7, tzinfo=jst)),
        (dt.datetime(2026, 11, 26, 22, tzinfo=jst), dt.datetime(2026, 11, 27, 0, tzinfo=jst)),
    ]
    # Friday night + Saturday + Sunday + Monday morning: one window
    spans = _off_hours(dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.time(22), dt.time(7))
    assert (
        dt.datetime(2026, 11, 27, 22, tzinfo=jst),
        dt.datetime(2026, 11, 30, 7, tzinfo=jst),
    ) in spans
    # night hours that do not cross midnight
    spans = _off_hours(thursday, thursday, dt.time(0), dt.time(5))
    assert spans == [
        (dt.datetime(2026, 11, 26, 0, tzinfo=jst), dt.datetime(2026, 11, 26, 5, tzinfo=jst))
    ]


def test_moving_the_archive_mark_by_hand_to_delete_entries_is_detected(keys):
    # std 10.2 (j1370): 改ざん防止措置 — the triggers let whoever can update the mark delete
    # up to it; the mark must be attested by the archive job's signed line, so pointing it at
    # an ordinary checkpoint (whose hash matches) and deleting the entries does not pass.
    entries = _log(5)
    call_command("audit", "checkpoint")  # seq 5
    _log(2)
    _raw(
        "UPDATE audit_archivestate SET archived_through = 5, anchor_hash = %s",
        [entries[4].entry_hash],
    )
    _raw("DELETE FROM audit_operationlogtarget WHERE entry_id <= 5")
    _raw("DELETE FROM audit_operationlogentry WHERE seq <= 5")
    result = _verify()
    assert result.chain.ok  # the online chain starts cleanly at the forged anchor
    assert [p.kind for p in result.checkpoints.problems] == ["archive"]
    assert "連番 5 まで" in result.checkpoints.problems[0].message
    assert not result.ok


def test_archive_attests_its_mark_and_checks_the_file_before_deleting(keys, monkeypatch):
    # std 10.2 (j1370): the archive job writes a signed mark; a file that does not verify
    # once written deletes nothing
    _log(4)
    _age([1, 2], 8)
    monkeypatch.setattr(retention, "verify_archive", lambda path, public=None: ["壊れています"])
    with pytest.raises(retention.ArchiveError, match="壊れています"):
        retention.archive(Actor.system())
    assert OperationLogEntry.objects.count() == 4
    assert ArchiveState.objects.get().archived_through == 0
    monkeypatch.undo()
    result = retention.archive(Actor.system())
    assert result is not None and result.through_seq == 2
    found, _ = checkpoints.read_checkpoints()
    marks = [c for c in found if c.kind == checkpoints.ARCHIVE_MARK]
    assert [(c.seq, c.entry_hash) for c in marks] == [(2, ArchiveState.objects.get().anchor_hash)]
    assert _verify().ok


def test_an_archive_file_with_a_garbled_line_is_reported_not_raised(keys):
    _log(3)
    _age([1, 2], 8)
    result = retention.archive(Actor.system())
    assert result is not None
    lines = result.path.read_text().splitlines(keepends=True)
    lines[1] = "{garbage\n"
    result.path.write_text("".join(lines))
    problems = retention.verify_archive(result.path)
    assert any("2 行目を読めません" in p for p in problems)
