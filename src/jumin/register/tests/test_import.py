"""住民データの取込 (data migration): the CSV layout of docs/guide/csv-layout.md.

A small synthetic city (jumin.synth) is imported; the tests check counts, each person's
snapshot per history row, the current view, the encrypted 個人番号, the number sequences,
the all-or-nothing behaviour on bad files and the dry run.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import json
import multiprocessing
import os
import shutil
import signal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.change_reasons import ChangeKind, ChangeReason
from jumin.core.identifiers import make_atena_no, make_household_no
from jumin.outbox.models import OutboxMessage
from jumin.register import crypto
from jumin.register.importer import FUNCTION, import_register
from jumin.register.models import (
    Change,
    EncryptedMyNumber,
    Household,
    NumberSequence,
    Resident,
    ResidentHistory,
)
from jumin.register.records import SEARCH_KEY_FIELDS, search_keys, snapshot
from jumin.register.tests import factories
from jumin.register.verify import verify_register
from jumin.synth.generator import generate

pytestmark = pytest.mark.django_db

RESIDENTS = 300
SEED = 7


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    crypto.reset_keyring_cache()
    yield settings.KEY_FILE
    crypto.reset_keyring_cache()


@pytest.fixture(scope="module")
def city_template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city") / "city"
    generate(out, RESIDENTS, SEED)
    return out


@pytest.fixture(scope="module")
def larger_city(tmp_path_factory) -> Path:
    """Far more rows than a pipe holds: a child stopped after its first batch cannot have
    sent them all."""
    out = tmp_path_factory.mktemp("larger") / "city"
    generate(out, 2000, SEED)
    return out


@pytest.fixture
def city(city_template, tmp_path) -> Path:
    """A fresh copy of the generated city that a test may edit."""
    out = tmp_path / "city"
    shutil.copytree(city_template, out)
    return out


@pytest.fixture
def admin():
    return StaffFactory(roles=["administrator"])


def actor() -> Actor:
    return Actor.system("cli", "test")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def rewrite(path: Path, change) -> None:
    """Apply ``change(rows)`` to a CSV file (rows as dicts), keeping the header."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def manifest(city: Path) -> dict:
    return json.loads((city / "manifest.json").read_text(encoding="utf-8"))


def nothing_loaded() -> None:
    assert Household.objects.count() == 0
    assert Resident.objects.count() == 0
    assert ResidentHistory.objects.count() == 0
    assert EncryptedMyNumber.objects.count() == 0
    assert not Change.objects.filter(procedure="import").exists()
    assert not NumberSequence.objects.exists()


# --- the good path ----------------------------------------------------------------------


def test_import_loads_every_household_person_and_history_row(city, admin):
    counts = manifest(city)["counts"]
    report = import_register(actor(), city, operator=admin)

    assert report.ok and report.loaded, report.lines()
    assert report.residents == counts["residents"] == RESIDENTS
    assert report.households == counts["households"]
    assert report.history_rows == counts["history_rows"]
    assert report.removed == counts["removed"]
    assert Household.objects.count() == counts["households"]
    assert Resident.objects.count() == RESIDENTS
    assert Resident.objects.filter(status="removed").count() == counts["removed"]
    assert Resident.objects.filter(resident_type="foreign").count() == counts["foreign"]
    assert ResidentHistory.objects.count() == counts["history_rows"]
    assert EncryptedMyNumber.objects.count() == RESIDENTS

    change = Change.objects.get(pk=report.change_id)
    assert change.procedure == "import"
    assert change.status == Change.Status.COMMITTED
    assert change.change_reason == ChangeReason.EX_OFFICIO_ENTRY
    assert change.created_by == admin
    assert change.payload["counts"]["residents"] == RESIDENTS
    assert set(ResidentHistory.objects.values_list("change_id", flat=True)) == {change.pk}
    assert set(ResidentHistory.objects.values_list("operator_id", flat=True)) == {admin.pk}

    # migration, not new events: nothing for the CS or other systems
    assert OutboxMessage.objects.count() == 0
    entry = OperationLogEntry.objects.filter(function=FUNCTION).get()
    assert entry.category == Category.BATCH_UPDATE
    assert entry.outcome == Outcome.SUCCESS
    assert entry.detail["residents"] == RESIDENTS
    assert entry.detail["change_id"] == change.pk
    assert entry.detail["operator"] == admin.staff_id


def test_each_history_row_is_the_person_as_of_that_row(city, admin):
    """std 1.2.1 (j200): one full snapshot per (宛名番号, 履歴番号); csv-layout.md: the
    non-state columns of residents.csv overlaid with the state columns of the row."""
    import_register(actor(), city, operator=admin)
    residents = {r["atena_no"]: r for r in read(city / "residents.csv")}
    history = read(city / "history.csv")
    by_person: dict[str, list[dict[str, str]]] = {}
    for row in history:
        by_person.setdefault(row["atena_no"], []).append(row)
    # the person with the most history rows (a move within the city, a 旧氏, …)
    atena = max(by_person, key=lambda a: len(by_person[a]))
    rows = by_person[atena]
    assert len(rows) >= 2
    person = residents[atena]
    stored = list(ResidentHistory.objects.filter(atena_no=atena).order_by("history_no"))
    assert [h.history_no for h in stored] == [int(r["history_no"]) for r in rows]
    for row, h in zip(rows, stored, strict=True):
        assert h.change_reason == row["change_reason"]
        assert h.occurred_on.isoformat() == row["occurred_on"]
        assert h.history_notified_on.isoformat() == row["notified_on"]
        processed = timezone.localtime(h.processed_at)
        assert processed.date() == dt.date.fromisoformat(row["processed_on"])
        # state columns of this row
        for column in (
            "household_no",
            "relationship",
            "head_name",
            "status",
            "family_name",
            "given_name",
            "former_family_name",
            "alias",
            "address_code",
            "postal_code",
            "katagaki",
            "previous_address",
            "previous_address_code",
            "residence_status",
            "period_of_stay",
            "residence_card_no",
        ):
            assert getattr(h, column) == row[column], column
        kana = "\u3000".join(p for p in (row["family_name_kana"], row["given_name_kana"]) if p)
        assert h.name_kana == kana
        assert h.address.startswith("神奈川県相模原市" + row["ward"] + row["town"])
        assert h.address.endswith(row["banchi"])
        assert h.moved_out_planned_address == row["moved_out_to_address"]
        # non-state columns of residents.csv
        assert h.birth_date.isoformat() == person["birth_date"]
        assert h.sex == person["sex"]
        assert h.honseki == person["honseki"]
        assert h.juminhyo_code == person["juminhyo_code"]
        assert h.resident_type == person["resident_type"]
        assert h.name_kana_confirmed == (person["name_kana_confirmed"] == "1")
        # derived: the 住所を定めた年月日 follows the address events
        reason = ChangeReason(row["change_reason"])
        if reason.kind is ChangeKind.ENTRY or reason is ChangeReason.MOVE_WITHIN:
            assert h.address_set_on.isoformat() == row["occurred_on"]
        # search keys computed from the snapshot (std 2.1.2, j330)
        keys = search_keys(snapshot(h))  # type: ignore[arg-type]
        assert {k: getattr(h, k) for k in SEARCH_KEY_FIELDS} == keys
    # every snapshot of one person points at the same encrypted 個人番号 row
    assert len({h.my_number_id for h in stored}) == 1
    last = stored[-1]
    assert last.address_set_on.isoformat() == person["address_set_on"]


def test_every_search_key_is_the_one_of_its_snapshot(city, admin):
    """std 2.1.2 (j330): the keys the import computes (part by part, cached) are exactly
    search_keys of each stored snapshot — reading, name, 旧氏 and 通称 alike."""
    foreign = next(
        r["atena_no"] for r in read(city / "residents.csv") if r["resident_type"] == "foreign"
    )

    def give_an_alias(rows):
        for row in rows:
            if row["atena_no"] == foreign:
                row["alias"], row["alias_kana"] = "山田　花子", "やまだ　はなこ"
        return rows

    rewrite(city / "residents.csv", give_an_alias)
    rewrite(city / "history.csv", give_an_alias)
    assert import_register(actor(), city, operator=admin).loaded
    rows = list(ResidentHistory.objects.all())
    assert len(rows) == manifest(city)["counts"]["history_rows"]
    for h in rows:
        keys = search_keys(snapshot(h))  # type: ignore[arg-type]
        assert {k: getattr(h, k) for k in SEARCH_KEY_FIELDS} == keys, h.atena_no
    assert any(h.former_kana_key for h in rows)
    assert any(h.alias_kana_key for h in rows)
    assert any(h.given_kana_key for h in rows)


def test_a_removed_person_is_removed_only_in_the_removal_row(city, admin):
    """A 除票 keeps its address; the 消除事由 appears in the removal row, not before."""
    import_register(actor(), city, operator=admin)
    removed = Resident.objects.filter(status="removed").exclude(history_no=1).first()
    assert removed is not None
    rows = list(ResidentHistory.objects.filter(atena_no=removed.atena_no).order_by("history_no"))
    assert rows[-1].status == "removed"
    assert rows[-1].removal_reason == removed.removal_reason != ""
    assert rows[-1].removed_on == removed.removed_on
    for earlier in rows[:-1]:
        assert earlier.status == "resident"
        assert earlier.removal_reason == ""
        assert earlier.removed_on is None
    if removed.removal_reason in {"domestic_move_out", "move_out_abroad"}:
        assert removed.moved_out_planned_on == removed.removed_on


def test_the_current_view_is_each_persons_latest_history_row(city, admin):
    import_register(actor(), city, operator=admin)
    for resident in Resident.objects.all()[:50]:
        latest = ResidentHistory.objects.filter(atena_no=resident.atena_no).latest("history_no")
        assert resident.history_no == latest.history_no
        assert snapshot(resident) == snapshot(latest)  # type: ignore[arg-type]
        for key in SEARCH_KEY_FIELDS:
            assert getattr(resident, key) == getattr(latest, key)
    assert verify_register().ok


def test_my_number_is_encrypted_and_found_by_its_hash(city, admin):
    """Invariant 6: the 個人番号 is stored encrypted, searchable through the keyed hash."""
    import_register(actor(), city, operator=admin)
    people = read(city / "residents.csv")
    for person in people[:20]:
        number = person["my_number"]
        found = Resident.objects.get(my_number__lookup_hash=crypto.my_number_lookup_hash(number))
        assert found.atena_no == person["atena_no"]
        row = found.my_number
        assert row is not None
        assert number.encode() not in bytes(row.ciphertext)
        assert crypto.reveal_my_number(row) == number
        assert row.key_id == crypto.load_keyring().active_id
    # the report and the log never carry a number
    entry = OperationLogEntry.objects.get(function=FUNCTION)
    assert people[0]["my_number"] not in json.dumps(entry.detail)


def test_sequences_move_past_the_imported_numbers(city, admin):
    """std 1.1.13 (j130): a new move-in after the import gets fresh 宛名番号 and 世帯番号."""
    import_register(actor(), city, operator=admin)
    top_atena = max(int(a[:-1]) for a in Resident.objects.values_list("atena_no", flat=True))
    top_household = max(
        int(h[:-1]) for h in Household.objects.values_list("household_no", flat=True)
    )
    assert NumberSequence.objects.get(name="atena_no").last_value == top_atena
    assert NumberSequence.objects.get(name="household_no").last_value == top_household

    _change, (newcomer,) = factories.committed_move_in()
    assert newcomer.atena_no == make_atena_no(top_atena + 1)
    assert newcomer.household_no == make_household_no(top_household + 1)
    assert verify_register().ok


def test_the_command_imports_and_prints_the_report_in_japanese(city, admin):
    out = io.StringIO()
    call_command("import", str(city), "--operator", admin.staff_id, "--quiet", stdout=out)
    text = out.getvalue()
    assert "住民データ取込の結果" in text
    assert f"{RESIDENTS:,} 件" in text
    assert "取り込みました" in text
    assert Resident.objects.count() == RESIDENTS


def test_a_file_path_means_its_directory(city, admin):
    report = import_register(actor(), city / "manifest.json", operator=admin)
    assert report.loaded


# --- bad files: the report, and nothing loaded ------------------------------------------


def test_one_bad_check_digit_loads_nothing_and_names_file_line_and_column(city, admin):
    """Invariant 8: a failing file loads nothing; the report says where and what."""
    people = read(city / "residents.csv")
    target = people[4]  # data line 5 → line 6 of the file (after the header)
    number = target["my_number"]
    bad = number[:-1] + str((int(number[-1]) + 1) % 10)

    def corrupt(rows):
        rows[4]["my_number"] = bad
        return rows

    rewrite(city / "residents.csv", corrupt)
    report = import_register(actor(), city, operator=admin)

    assert not report.ok and not report.loaded
    assert report.problem_count == 1
    (problem,) = report.problems
    assert (problem.file, problem.line, problem.column) == ("residents.csv", 6, "my_number")
    assert problem.code == "my_number.check_digit"
    assert "チェックデジット" in problem.message
    text = "\n".join(report.lines())
    assert bad not in text and number not in text  # never a 個人番号 in the report
    assert "residents.csv 6行目 my_number" in text
    assert "何も取り込んでいません" in text
    nothing_loaded()
    entry = OperationLogEntry.objects.get(function=FUNCTION)
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["problems"] == 1


def test_a_bad_atena_check_digit_is_reported_with_its_line(city, admin):
    def corrupt(rows):
        atena = rows[9]["atena_no"]
        rows[9]["atena_no"] = atena[:-1] + str((int(atena[-1]) + 1) % 10)
        return rows

    rewrite(city / "residents.csv", corrupt)
    report = import_register(actor(), city, operator=admin)
    assert not report.ok
    first = report.problems[0]
    assert (first.file, first.line, first.column) == ("residents.csv", 11, "atena_no")
    assert first.code == "atena_no.check_digit"
    nothing_loaded()


def test_the_command_exits_with_an_error_and_loads_nothing(city, admin):
    def corrupt(rows):
        rows[0]["birth_date"] = "1980-02-30"
        rows[1]["sex"] = "9"
        return rows

    rewrite(city / "residents.csv", corrupt)
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 件の問題"):
        call_command("import", str(city), "--operator", admin.staff_id, stdout=out)
    text = out.getvalue()
    assert "residents.csv 2行目 birth_date（生年月日）" in text
    assert "residents.csv 3行目 sex（性別）" in text
    nothing_loaded()


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("relationship", "長男", "relationship.forbidden"),  # std 1.1.11 (j110)
        ("address_code", "14152999000", "address_code.unknown"),  # std 1.3.3 (j250)
        ("family_name_kana", "yamada", "name_kana.script"),  # std 1.1.18 (j180)
        ("occurred_on", "2020/01/01", "date.invalid"),
        ("change_reason", "moved", "change_reason.unknown"),
        ("household_no", "0000001237", "household_no.check_digit"),
    ],
)
def test_bad_history_values_are_reported(city, admin, column, value, code):
    def corrupt(rows):
        rows[2][column] = value
        return rows

    rewrite(city / "history.csv", corrupt)
    report = import_register(actor(), city, operator=admin)
    assert not report.ok
    assert any(
        (p.file, p.line, p.column, p.code) == ("history.csv", 4, column, code)
        for p in report.problems
    ), [p.format() for p in report.problems]
    nothing_loaded()


def test_a_gap_in_history_numbers_is_reported(city, admin):
    history = read(city / "history.csv")
    counts: dict[str, int] = {}
    for row in history:
        counts[row["atena_no"]] = counts.get(row["atena_no"], 0) + 1
    atena = next(a for a, n in counts.items() if n >= 2)

    def drop_first(rows):
        first = next(i for i, r in enumerate(rows) if r["atena_no"] == atena)
        return rows[:first] + rows[first + 1 :]

    rewrite(city / "history.csv", drop_first)
    report = import_register(actor(), city, operator=admin)
    assert not report.ok
    assert any(p.code == "history_no.gap" and atena in p.message for p in report.problems)
    nothing_loaded()


def test_duplicates_within_the_file_are_reported(city, admin):
    def duplicate(rows):
        rows[3]["juminhyo_code"] = rows[2]["juminhyo_code"]
        rows[5]["my_number"] = rows[4]["my_number"]
        return rows

    rewrite(city / "residents.csv", duplicate)
    report = import_register(actor(), city, operator=admin)
    codes = {(p.line, p.code) for p in report.problems}
    assert (5, "juminhyo_code.duplicate") in codes
    assert (7, "my_number.duplicate") in codes
    nothing_loaded()


def test_numbers_already_in_the_register_are_refused(city, admin):
    first = import_register(actor(), city, operator=admin)
    assert first.loaded
    before = (Resident.objects.count(), ResidentHistory.objects.count())
    again = import_register(actor(), city, operator=admin)
    assert not again.ok and not again.loaded
    codes = {p.code for p in again.problems}
    assert {"household_no.exists", "atena_no.exists"} <= codes
    assert (Resident.objects.count(), ResidentHistory.objects.count()) == before


def test_residents_and_history_must_agree_on_the_current_state(city, admin):
    def rename(rows):
        rows[0]["family_name"] = "別姓"
        return rows

    rewrite(city / "residents.csv", rename)
    report = import_register(actor(), city, operator=admin)
    assert [p.code for p in report.problems] == ["history.final_mismatch"]
    assert "氏" in report.problems[0].message
    nothing_loaded()


def test_a_missing_file_or_column_is_reported(city, admin):
    (city / "history.csv").unlink()
    report = import_register(actor(), city, operator=admin)
    assert [(p.file, p.code) for p in report.problems] == [("history.csv", "import.file_missing")]

    city2 = city.parent / "city2"
    shutil.copytree(city, city2)
    shutil.copy(city.parent / "city" / "residents.csv", city2 / "history.csv")
    report = import_register(actor(), city2, operator=admin)
    assert not report.ok
    assert report.problems[0].file == "history.csv"
    assert report.problems[0].code in {"import.column_missing", "import.column_unknown"}
    nothing_loaded()


def test_manifest_counts_catch_a_truncated_file(city, admin):
    rewrite(city / "history.csv", lambda rows: rows[:-1])
    report = import_register(actor(), city, operator=admin)
    assert "manifest.count" in {p.code for p in report.problems}
    nothing_loaded()


# --- dry run and permissions --------------------------------------------------------------


def test_dry_run_validates_and_writes_nothing(city, admin):
    report = import_register(actor(), city, operator=admin, dry_run=True)
    assert report.ok and not report.loaded
    assert report.residents == RESIDENTS
    assert "検査のみ" in "\n".join(report.lines())
    nothing_loaded()
    entry = OperationLogEntry.objects.get()
    assert entry.function == FUNCTION + "（検査のみ）"

    out = io.StringIO()
    call_command("import", str(city), "--operator", admin.staff_id, "--dry-run", stdout=out)
    assert "問題はありません" in out.getvalue()
    nothing_loaded()


def test_the_operator_needs_the_import_permission(city):
    clerk = StaffFactory(roles=["counter_clerk"])
    with pytest.raises(PermissionDenied, match="住民データの取込"):
        import_register(actor(), city, operator=clerk)
    nothing_loaded()
    with pytest.raises(CommandError, match="住民データの取込"):
        call_command("import", str(city), "--operator", clerk.staff_id)
    with pytest.raises(CommandError, match="職員ID「nobody」"):
        call_command("import", str(city), "--operator", "nobody")


def test_a_database_error_while_writing_rolls_everything_back(city, admin, monkeypatch):
    """Invariant 8: an error in the writer thread leaves no partial state, and is logged."""
    from jumin.register import importer

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_write_persons", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_register(actor(), city, operator=admin, batch_size=50)
    nothing_loaded()
    entry = OperationLogEntry.objects.get(function=FUNCTION)
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["problem_codes"] == ["import.database"]


# --- the parallel path: a child process reads and validates, this one writes ----------------


WORKER = "jumin-import-worker"


def import_workers() -> list:
    return [p for p in multiprocessing.active_children() if p.name == WORKER]


def register_content() -> dict[str, list[dict]]:
    """Every imported row, without its ids; the 個人番号 decrypted."""
    numbers = {n.pk: crypto.reveal_my_number(n) for n in EncryptedMyNumber.objects.all()}

    def rows(model, *order: str, drop: tuple[str, ...] = ()) -> list[dict]:
        out = []
        for row in model.objects.order_by(*order).values():
            for name in ("id", "change_id", *drop):
                row.pop(name, None)
            if "my_number_id" in row:
                row["my_number_id"] = numbers[row["my_number_id"]]
            out.append(row)
        return out

    content = {
        "households": rows(Household, "household_no", drop=("created_at",)),
        "history": rows(ResidentHistory, "atena_no", "history_no"),
        "residents": rows(Resident, "atena_no", drop=("updated_at",)),
    }
    used = set(Resident.objects.values_list("my_number_id", flat=True))
    assert used == set(numbers), "every 個人番号 row belongs to a resident"
    return content


class _Undo(Exception):
    pass


def rolled_back(func):
    """``func()`` in a savepoint that is then rolled back (history rows cannot be deleted)."""
    result = []
    with contextlib.suppress(_Undo), transaction.atomic():
        result.append(func())
        raise _Undo
    return result[0]


def test_the_parallel_path_writes_exactly_what_the_in_process_path_writes(city, admin):
    """std 1.2.1 (j200): the same snapshots, current view, households and 個人番号, whichever
    process reads the files."""
    here, expected = rolled_back(
        lambda: (import_register(actor(), city, operator=admin, workers=0), register_content())
    )
    assert here.loaded, here.lines()
    nothing_loaded()

    report = import_register(actor(), city, operator=admin, workers=1, batch_size=40)

    assert report.ok and report.loaded, report.lines()
    assert report.counts() == here.counts()
    assert not import_workers()
    content = register_content()
    for table in ("households", "history", "residents"):
        assert len(content[table]) == len(expected[table]) > 0, table
        assert content[table] == expected[table], table
    # every number decrypts with the key ring of the key file (the child loaded the same)
    assert {r["my_number_id"] for r in content["residents"]} == {
        p["my_number"] for p in read(city / "residents.csv")
    }
    assert set(ResidentHistory.objects.values_list("change_id", flat=True)) == {report.change_id}
    change = Change.objects.get(pk=report.change_id)
    assert change.payload["counts"]["residents"] == RESIDENTS
    top_atena = max(int(a[:-1]) for a in Resident.objects.values_list("atena_no", flat=True))
    assert NumberSequence.objects.get(name="atena_no").last_value == top_atena
    entry = OperationLogEntry.objects.filter(function=FUNCTION, outcome=Outcome.SUCCESS).get()
    assert entry.detail["change_id"] == report.change_id
    assert verify_register().ok


@pytest.mark.django_db(transaction=True)
def test_a_parallel_load_in_a_transaction_of_its_own_commits(city, admin):
    """The usual case (``jumin import``): the load is the outermost transaction, so on
    PostgreSQL its foreign keys are checked as each batch is copied, not at COMMIT."""
    report = import_register(actor(), city, operator=admin, workers=1, batch_size=100)
    assert report.loaded, report.lines()
    assert ResidentHistory.objects.count() == manifest(city)["counts"]["history_rows"]
    assert Resident.objects.count() == EncryptedMyNumber.objects.count() == RESIDENTS
    assert verify_register().ok


def test_the_parallel_path_reports_progress_from_the_child(city, admin):
    seen: list[tuple[int, int]] = []
    report = import_register(
        actor(),
        city,
        operator=admin,
        workers=1,
        batch_size=50,
        progress=lambda r: seen.append((r.residents, r.history_rows)),
    )
    assert report.loaded
    assert len(seen) >= RESIDENTS // 50
    assert seen == sorted(seen)
    assert seen[-1] == (RESIDENTS, report.history_rows)


def test_a_bad_row_on_the_parallel_path_loads_nothing(city, admin):
    """Invariant 8: batches written before the child reaches the bad row are rolled back."""
    people = read(city / "residents.csv")
    number = people[250]["my_number"]
    bad = number[:-1] + str((int(number[-1]) + 1) % 10)

    def corrupt(rows):
        rows[250]["my_number"] = bad
        return rows

    rewrite(city / "residents.csv", corrupt)
    report = import_register(actor(), city, operator=admin, workers=1, batch_size=20)

    assert not report.ok and not report.loaded
    assert [(p.file, p.line, p.column, p.code) for p in report.problems] == [
        ("residents.csv", 252, "my_number", "my_number.check_digit")
    ]
    assert report.residents == RESIDENTS
    text = "\n".join(report.lines())
    assert bad not in text and number not in text
    assert "何も取り込んでいません" in text
    nothing_loaded()
    assert not import_workers()
    entry = OperationLogEntry.objects.get(function=FUNCTION)
    assert entry.outcome == Outcome.FAILED


def test_numbers_already_in_the_register_are_refused_on_the_parallel_path(city, admin):
    """The checks against the register run in the writing process, on its connection."""
    first = import_register(actor(), city, operator=admin, workers=0)
    assert first.loaded
    before = (Resident.objects.count(), ResidentHistory.objects.count())
    again = import_register(
        actor(), city, operator=admin, workers=1, batch_size=50, max_problems=10_000
    )
    assert not again.ok and not again.loaded
    assert again.problem_count == len(again.problems) > RESIDENTS
    codes = {p.code for p in again.problems}
    assert {"household_no.exists", "atena_no.exists", "my_number.exists"} <= codes
    assert (Resident.objects.count(), ResidentHistory.objects.count()) == before
    assert not import_workers()


def test_a_child_that_dies_rolls_back_and_is_reported(larger_city, admin):
    """Invariant 8: a crash of the reading process leaves nothing half-loaded."""
    killed: list[int] = []

    def kill_the_child(report):
        for child in import_workers():
            if not killed:
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    report = import_register(
        actor(), larger_city, operator=admin, workers=1, batch_size=10, progress=kill_the_child
    )

    assert killed
    assert not report.ok and not report.loaded and report.change_id is None
    (problem,) = report.problems
    assert problem.code == "import.worker"
    assert "子プロセスが途中で終了しました（シグナル 9）" in problem.message
    text = "\n".join(report.lines())
    assert "処理が途中で止まったため、何も取り込んでいません" in text
    nothing_loaded()
    assert not import_workers()  # joined: no zombie
    entry = OperationLogEntry.objects.get(function=FUNCTION)
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["problem_codes"] == ["import.worker"]


def test_a_child_that_hangs_is_ended_and_reported(larger_city, admin, monkeypatch):
    """No hang: a child silent for WORKER_SILENCE_LIMIT is given up, ended (killed when
    SIGTERM does not end it) and joined."""
    from jumin.register import importer

    monkeypatch.setattr(importer, "WORKER_STOP_TIMEOUT", 1.0)
    stopped: list[int] = []

    def stop_the_child(report):
        for child in import_workers():
            if not stopped:
                os.kill(child.pid, signal.SIGSTOP)  # alive, silent, deaf to SIGTERM
                stopped.append(child.pid)
                # (only now: a child starting up on a busy machine may be slow)
                monkeypatch.setattr(importer, "WORKER_SILENCE_LIMIT", 1.0)

    report = import_register(
        actor(), larger_city, operator=admin, workers=1, batch_size=10, progress=stop_the_child
    )

    assert stopped
    assert not report.loaded
    assert [p.code for p in report.problems] == ["import.worker"]
    assert "1 秒間応答しません" in report.problems[0].message
    nothing_loaded()
    assert not import_workers()


def test_an_error_in_the_child_is_reported_and_logged(city, admin, monkeypatch, caplog):
    """The child refuses to encrypt with keys other than the parent's (here: a key file
    that changed): its traceback goes to the log, the report names the error."""
    from jumin.register import importer

    real = crypto.load_keyring()
    monkeypatch.setattr(
        importer, "load_keyring", lambda: dataclasses.replace(real, active_id="k-other")
    )
    report = import_register(actor(), city, operator=admin, workers=1)

    assert not report.loaded
    (problem,) = report.problems
    assert problem.code == "import.worker"
    assert "子プロセスでエラーが発生しました（RuntimeError）" in problem.message
    assert "the key file changed" in caplog.text
    nothing_loaded()
    assert not import_workers()


def test_a_database_error_on_the_parallel_path_rolls_back_and_ends_the_child(
    city, admin, monkeypatch
):
    from jumin.register import importer

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_write_persons", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_register(actor(), city, operator=admin, workers=1, batch_size=20)
    nothing_loaded()
    assert not import_workers()
    entry = OperationLogEntry.objects.get(function=FUNCTION)
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["problem_codes"] == ["import.database"]


def test_a_large_load_chooses_the_child_and_a_dry_run_never_does(city, admin, monkeypatch):
    from jumin.register import importer

    started: list[bool] = []
    original = importer._load_in_worker

    def spy(*args, **kwargs):
        started.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "_load_in_worker", spy)
    assert import_register(actor(), city, operator=admin, dry_run=True, workers=1).ok
    assert not started
    monkeypatch.setattr(importer, "PARALLEL_MIN_RESIDENTS", RESIDENTS + 1)
    assert rolled_back(lambda: import_register(actor(), city, operator=admin)).loaded
    assert not started
    monkeypatch.setattr(importer, "PARALLEL_MIN_RESIDENTS", RESIDENTS)
    assert import_register(actor(), city, operator=admin).loaded
    assert started == [True]


def test_without_manifest_counts_the_size_of_residents_csv_decides(city, monkeypatch):
    from jumin.register import importer

    data = manifest(city)
    del data["counts"]
    (city / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    size = (city / "residents.csv").stat().st_size
    assert importer._estimated_residents(city) == size // importer._BYTES_PER_RESIDENT
    monkeypatch.setattr(importer, "PARALLEL_MIN_RESIDENTS", size // importer._BYTES_PER_RESIDENT)
    assert importer._use_worker(city, None)
    assert not importer._use_worker(city, 0)
    assert importer._use_worker(city, 2)
    with pytest.raises(ValueError, match="workers"):
        import_register(actor(), city, operator=StaffFactory(roles=["administrator"]), workers=-1)


@pytest.mark.parametrize(
    ("content", "records"),
    [
        (b"", 0),
        (b"h\n", 0),
        (b"h\na\nb\n", 2),
        (b"h\na\nb", 2),
        (b"h\r\na\r\nb\r\n", 2),
        (b"h\ra\rb", 2),
        (b'h\n"a\nstill a"\nb\n', 3),  # an upper bound: a quoted line end counts
    ],
)
def test_the_reserved_ids_cover_every_record(tmp_path, content, records):
    """Each 個人番号 row gets an id reserved before the pass: never fewer than the records."""
    from jumin.register import importer

    path = tmp_path / "residents.csv"
    path.write_bytes(content)
    assert importer._max_records(path) == records
