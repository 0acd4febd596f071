"""住民データの取込 (data migration): load the CSV layout of ``docs/guide/csv-layout.md``.

The same layout is written by ``jumin seed`` (a synthetic city) and by a city exporting its
old register (``docs/guide/data-migration.md``). ``import_register`` reads the four files of
one directory in a single streaming pass:

1. ``manifest.json`` (format version, counts) and ``households.csv``;
2. ``residents.csv`` (ordered by 宛名番号) merged with ``history.csv`` (each person's rows in
   履歴番号 order, grouped by household or person): every history row becomes one
   ``ResidentHistory`` snapshot — the person's non-state columns from residents.csv overlaid
   with the state columns of that row — and the latest one becomes the ``Resident`` row.

Every row is validated (identifiers and their check digits, dates, 続柄 with the core
grammar, 住所コード against the address dictionary, names and their kana, sex, change
reasons, duplicates within the files and against the register, 履歴番号 without gaps) and
the result is an ``ImportReport`` (counts, and the first problems with file, line, column
and a Japanese message). The load is all-or-nothing: everything is written in one
transaction, which is rolled back when any problem is found, so a failing file loads
nothing. ``dry_run`` validates only.

Speed: rows go to the database as plain tuples in batches (no model instances for the 2–3
million snapshot rows of a large city) — ``executemany`` on SQLite, COPY on PostgreSQL —
written by a second thread (``_Writer``) that shares the transaction. The ids of the 個人番号
rows are reserved before the pass (``_reserve_number_ids``), so every row of a batch is
complete when it is built. Validation results are cached per distinct value (names,
readings, 続柄 and 住所コード repeat a lot).

A large load (``PARALLEL_MIN_RESIDENTS`` residents or more, or ``workers=1``) runs the whole
read-and-validate pass — ``_Run``: every check, the snapshots, the row tuples and the AES-GCM
encryption of the 個人番号 — in a child process (``import_worker``, started with *spawn*),
which sends ready-to-insert batches through a pipe; this process only writes them, in its
transaction, and runs the checks against rows already in the register. The child never
opens a database connection: it reads the files, and the key file for the 個人番号 (the
clear number never leaves it). A problem, a crash of the child or a database error rolls the
whole load back. Small loads and dry runs run the same ``_Run`` in this process.
Measurements: docs/guide/data-migration.md.

One ``Change`` (procedure ``import``, change reason 職権記載) groups the batch; each history row
keeps its own ``change_reason`` from the CSV. No outbox messages are written: migrated
history describes past events that the national side already knows about.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import gc
import json
import logging
import multiprocessing
import os
import pickle
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import connection as mp_connection
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import ENVIRONMENT_VARIABLE, settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.models import Staff
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.addresses.dictionary import AddressEntry, load_dictionary
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.core.change_reasons import ChangeKind, ChangeReason
from jumin.core.errors import CoreError
from jumin.core.identifiers import (
    get_juminhyo_code_check,
    mod11_w27_check_digit,
    validate_atena_no,
    validate_household_no,
    validate_juminhyo_code,
    validate_local_government_code,
    validate_my_number,
    validate_residence_card_no,
)
from jumin.core.names import validate_name, validate_name_kana
from jumin.core.relationships import validate_relationship
from jumin.core.wareki import parse_any_date
from jumin.register.crypto import load_keyring
from jumin.register.models import (
    Change,
    EncryptedMyNumber,
    ForeignCategory,
    Household,
    NumberSequence,
    Resident,
    ResidentHistory,
    ResidentRecord,
)
from jumin.register.records import SEARCH_KEY_FIELDS, search_keys
from jumin.synth import generator as layout

__all__ = [
    "FILES",
    "FORMAT_VERSION",
    "FUNCTION",
    "ImportReport",
    "Problem",
    "import_register",
    "resolve_source",
]

FORMAT_VERSION = 1
FUNCTION = "住民データ取込"
PROCEDURE = "import"
DEFAULT_BATCH = 5000
DEFAULT_MAX_PROBLEMS = 100
MAX_PENDING = 50_000  # persons read from residents.csv whose history is not complete yet
# From this many residents (manifest.json, or the size of residents.csv) a load runs its
# read-and-validate pass in a child process: starting it costs about a second.
PARALLEL_MIN_RESIDENTS = 20_000
_BYTES_PER_RESIDENT = 300  # residents.csv, to estimate a count when the manifest has none
WORKER_SILENCE_LIMIT = 600.0  # seconds without a message from the child: it is hung
WORKER_STOP_TIMEOUT = 10.0
PICKLE_PROTOCOL = 5
WORKER_NAME = "jumin-import-worker"
_CACHE_LIMIT = 500_000
_TOKYO = ZoneInfo("Asia/Tokyo")
logger = logging.getLogger(__name__)

HOUSEHOLDS, RESIDENTS, HISTORY, MANIFEST = (
    "households.csv",
    "residents.csv",
    "history.csv",
    "manifest.json",
)
FILES = (HOUSEHOLDS, RESIDENTS, HISTORY, MANIFEST)

# The CSV layout (docs/guide/csv-layout.md) is defined once, beside the generator that writes it.
STATE_COLUMNS = layout.STATE_COLUMNS
HOUSEHOLD_COLUMNS = layout.HOUSEHOLD_COLUMNS
RESIDENT_COLUMNS = layout.RESIDENT_COLUMNS
HISTORY_COLUMNS = layout.HISTORY_COLUMNS
EXPECTED_COLUMNS = {
    HOUSEHOLDS: HOUSEHOLD_COLUMNS,
    RESIDENTS: RESIDENT_COLUMNS,
    HISTORY: HISTORY_COLUMNS,
}

# Column labels in the report (the item names of std 1.1.1 / 1.1.2 / 1.2.1).
LABELS = {
    "household_no": "世帯番号",
    "status": "状態",
    "head_atena_no": "世帯主の宛名番号",
    "head_name": "世帯主の氏名",
    "member_count": "世帯員数",
    "address_code": "住所コード",
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "city": "市",
    "ward": "区",
    "town": "町字",
    "formed_on": "世帯を記載した日",
    "removed_on": "消除の事由が生じた年月日",
    "atena_no": "宛名番号",
    "history_no": "履歴番号",
    "resident_type": "住民種別",
    "relationship": "続柄",
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏の振り仮名",
    "given_name_kana": "名の振り仮名",
    "former_family_name": "旧氏",
    "former_family_name_kana": "旧氏の振り仮名",
    "alias": "通称",
    "alias_kana": "通称の振り仮名",
    "previous_address_code": "転入前住所コード",
    "previous_postal_code": "転入前郵便番号",
    "moved_out_to_postal_code": "転出先郵便番号",
    "residence_status": "在留資格",
    "stay_expires_on": "在留期間の満了の日",
    "residence_card_no": "在留カード等の番号",
    "name_kana_confirmed": "フリガナ確認フラグ",
    "name_alphabet": "氏名（アルファベット）",
    "alias_entered_on": "通称を記載した年月日",
    "alias_entered_municipality_code": "通称を記載した市区町村コード",
    "birth_date": "生年月日",
    "sex": "性別",
    "honseki": "本籍",
    "koseki_head": "筆頭者",
    "became_resident_on": "住民となった年月日",
    "became_foreign_resident_on": "外国人住民となった年月日",
    "alien_registration_on": "旧外国人登録年月日",
    "address_set_on": "住所を定めた年月日",
    "notified_on": "届出日",
    "my_number": "個人番号",
    "juminhyo_code": "住民票コード",
    "nationality_code": "国籍・地域コード",
    "nationality": "国籍・地域",
    "foreign_resident_category": "法第30条の45の区分",
    "removal_reason": "消除事由",
    "removal_notified_on": "消除の届出日",
    "change_reason": "異動事由",
    "occurred_on": "異動日",
    "processed_on": "処理日",
}

_REMOVAL = ChangeKind.REMOVAL
_MOVE_OUTS = frozenset({ChangeReason.DOMESTIC_MOVE_OUT.value, ChangeReason.MOVE_OUT_ABROAD.value})
_REASONS = {r.value: r for r in ChangeReason}
# (code, foreign) -> whether the reason applies; codes of the events that set the address
_APPLIES = {(r.value, f): r.allowed_for(foreign=f) for r in ChangeReason for f in (False, True)}
_ADDRESS_EVENTS = frozenset(
    r.value for r in ChangeReason if r.kind is ChangeKind.ENTRY or r is ChangeReason.MOVE_WITHIN
)
_FOREIGN_CATEGORIES = frozenset(c.value for c in ForeignCategory)
_DIGITS = frozenset("0123456789")

# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Problem:
    """One problem found in the files: where, and what (Japanese)."""

    file: str
    line: int
    column: str
    code: str
    message: str

    def format(self) -> str:
        where = f"{self.file} {self.line}行目" if self.line else self.file
        if self.column:
            label = LABELS.get(self.column)
            where += f" {self.column}" + (f"（{label}）" if label else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    """取込結果: counts, the problems found (the first ``max_problems``), and the outcome."""

    source: str
    dry_run: bool
    max_problems: int = DEFAULT_MAX_PROBLEMS
    households: int = 0
    residents: int = 0
    history_rows: int = 0
    removed: int = 0
    foreign: int = 0
    my_numbers: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    loaded: bool = False
    change_id: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, file: str, line: int, column: str, code: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(Problem(file, line, column, code, message))

    def counts(self) -> dict[str, int]:
        return {
            "households": self.households,
            "residents": self.residents,
            "history_rows": self.history_rows,
            "removed": self.removed,
            "foreign": self.foreign,
            "my_numbers": self.my_numbers,
            "problems": self.problem_count,
        }

    def lines(self) -> list[str]:
        """The report as a clerk reads it (Japanese)."""
        title = "住民データ取込の検査結果" if self.dry_run else "住民データ取込の結果"
        out = [
            f"{title}（{self.source}）",
            f"  世帯        {self.households:>12,} 件",
            f"  住民        {self.residents:>12,} 件"
            f"（うち消除 {self.removed:,} 件、外国人住民 {self.foreign:,} 件）",
            f"  異動履歴    {self.history_rows:>12,} 件",
            f"  個人番号    {self.my_numbers:>12,} 件",
            f"  問題        {self.problem_count:>12,} 件",
        ]
        if self.problems:
            shown = len(self.problems)
            more = f"（最初の {shown:,} 件を表示）" if shown < self.problem_count else ""
            out.append(f"問題の一覧{more}:")
            out.extend(f"  - {p.format()}" for p in self.problems)
        rate = ""
        if self.seconds > 0 and self.residents:
            rate = f"、所要時間 {self.seconds:.1f} 秒、毎秒 {self.residents / self.seconds:,.0f} 人"
        if not self.ok and any(p.code in _ABORTS for p in self.problems):
            out.append(
                "処理が途中で止まったため、何も取り込んでいません。原因を取り除いてから"
                "再実行してください。"
            )
        elif not self.ok:
            out.append(
                "問題があるため、何も取り込んでいません。ファイルを直してから再実行してください。"
            )
        elif self.dry_run:
            out.append(f"問題はありません（検査のみ。取り込んでいません{rate}）。")
        elif self.loaded:
            out.append(f"取り込みました（異動 #{self.change_id}{rate}）。")
        return out


_ABORTS = frozenset({"import.worker", "import.database"})  # the load stopped, not the files


class _Rollback(Exception):
    """Raised inside the transaction to undo a load that found problems."""


class _WorkerFailed(Exception):
    """The child process died, failed or hung; ``message`` is for the report (Japanese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Fatal(Exception):
    """A problem that makes reading on pointless (already added to the report)."""


# --------------------------------------------------------------------------- entry point


def resolve_source(path: Path) -> Path:
    """The directory of the four files: ``path`` itself, or the directory of one of them."""
    if path.is_file() and path.name in FILES:
        return path.parent
    return path


def import_register(
    actor: Actor,
    source: Path,
    *,
    operator: Staff,
    dry_run: bool = False,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[ImportReport], None] | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Validate the files in ``source`` and, unless ``dry_run``, load them (all or nothing).

    ``operator`` is the member of staff recorded as the 入力者 of every migrated history row;
    they must hold ``Perm.REGISTER_IMPORT``. ``workers``: ``None`` chooses — a load of
    ``PARALLEL_MIN_RESIDENTS`` residents or more reads and validates in a child process
    while this one writes; ``0`` keeps everything in this process; ``1`` (or more: the files
    are one stream, so one child) always uses the child. A dry run never starts one. The
    child is started with *spawn*: a script calling this must guard its top level with
    ``if __name__ == "__main__":``. Returns the report; ``report.ok`` tells whether the files
    were accepted and ``report.loaded`` whether they were written.
    """
    authorize(actor, Perm.REGISTER_IMPORT, FUNCTION)
    if not operator.is_valid_on(timezone.localdate()):
        raise PermissionDenied(
            f"職員 {operator.staff_id} は無効か有効期間外のため、取込の入力者にできません。"
        )
    # the operator is recorded on every history row: they need the permission themselves
    authorize(Actor.of(operator, None, actor.channel), Perm.REGISTER_IMPORT, FUNCTION)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if workers is not None and workers < 0:
        raise ValueError("workers must be None, 0 or more")
    directory = resolve_source(Path(source))
    report = ImportReport(source=str(directory), dry_run=dry_run, max_problems=max_problems)
    started = time.perf_counter()
    setup = _Setup(directory, max_problems, batch_size, timezone.now())
    if dry_run:
        _load_here(_with_register(setup), report, progress)
    else:
        own_transaction = not connection.in_atomic_block
        # started first: its start-up overlaps the transaction's set-up
        worker = _Worker.start() if _use_worker(directory, workers) else None
        try:
            with _large_cache(), transaction.atomic():
                change = _start_change(operator, directory)
                setup = _prepare_load(setup, change, operator, own_transaction)
                if worker is not None:
                    top = _load_in_worker(worker, setup, report, progress)
                else:
                    top = _load_here(setup, report, progress)
                if not report.ok:
                    raise _Rollback
                _finish(change, directory, report, *top)
                report.loaded = True
                report.change_id = change.pk
        except _Rollback:
            report.loaded = False
            report.change_id = None
        except _WorkerFailed as exc:  # rolled back; the report says what happened
            report.loaded = False
            report.change_id = None
            report.add("", 0, "", "import.worker", exc.message)
        except Exception as exc:  # a database error while writing: rolled back, logged
            report.loaded = False
            report.change_id = None
            report.seconds = time.perf_counter() - started
            report.add(
                "",
                0,
                "",
                "import.database",
                f"書込み中にエラーが発生しました（{type(exc).__name__}）。",
            )
            _log(actor, report, operator)
            raise
        finally:
            if worker is not None:
                worker.end()
    report.seconds = time.perf_counter() - started
    _log(actor, report, operator)
    return report


@dataclass(frozen=True)
class _Setup:
    """What one pass needs, as plain values (the child process gets a pickled copy)."""

    directory: Path
    max_problems: int
    batch_size: int
    now: dt.datetime
    change_id: int | None = None  # None: validate only
    operator_id: int | None = None
    # rows present before the import: duplicates are checked against ids up to these
    db_max_resident: int = 0
    db_max_household: int = 0
    # ids reserved for the EncryptedMyNumber rows, as inclusive ranges
    number_ids: tuple[tuple[int, int], ...] = ()

    @property
    def loading(self) -> bool:
        return self.change_id is not None


def _use_worker(directory: Path, workers: int | None) -> bool:
    if workers is not None:
        return workers >= 1
    return _estimated_residents(directory) >= PARALLEL_MIN_RESIDENTS


def _estimated_residents(directory: Path) -> int:
    """The manifest's count of residents, else one guessed from the size of residents.csv."""
    with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
        counts = json.loads((directory / MANIFEST).read_text(encoding="utf-8")).get("counts")
        if isinstance(counts, dict) and isinstance(counts.get("residents"), int):
            return int(counts["residents"])
    with contextlib.suppress(OSError):
        return (directory / RESIDENTS).stat().st_size // _BYTES_PER_RESIDENT
    return 0


def _prepare_load(setup: _Setup, change: Change, operator: Staff, own_transaction: bool) -> _Setup:
    """The load's setup, inside its transaction: what the register holds already and the
    ids of the 個人番号 rows."""
    if connection.vendor == "postgresql" and own_transaction:
        # Foreign keys checked as each batch is copied, beside the reading, rather than all
        # at COMMIT (Django makes them DEFERRABLE INITIALLY DEFERRED). Only in a transaction
        # of our own: the setting lasts until its end.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return dataclasses.replace(
        _with_register(setup),
        change_id=change.pk,
        operator_id=operator.pk,
        number_ids=_reserve_number_ids(setup.directory / RESIDENTS),
    )


def _with_register(setup: _Setup) -> _Setup:
    """Duplicates are checked against the rows present before the import (ids up to these),
    not against the rows the import writes."""
    return dataclasses.replace(
        setup, db_max_resident=_max_pk(Resident), db_max_household=_max_pk(Household)
    )


def _finish(
    change: Change, directory: Path, report: ImportReport, max_atena: int, max_household: int
) -> None:
    """After a clean load: sequences, and the change's summary."""
    _advance("atena_no", max_atena)
    _advance("household_no", max_household)
    change.payload = {
        "source": directory.name,
        "counts": report.counts(),
        "note": "データ移行（住民データ取込）。各履歴の異動事由は履歴行に記録。",
    }
    change.save(update_fields=["payload"])


SQLITE_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def _large_cache() -> Iterator[None]:
    """SQLite: a 256 MiB page cache while loading (the indexes of a million rows do not fit
    in the default 2 MiB; the OS page cache would serve them, but far slower)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")


def _start_change(operator: Staff, directory: Path) -> Change:
    now = timezone.now()
    return Change.objects.create(
        procedure=PROCEDURE,
        change_reason=ChangeReason.EX_OFFICIO_ENTRY.value,
        status=Change.Status.COMMITTED,
        occurred_on=timezone.localdate(),
        notified_on=None,
        payload={"source": directory.name},
        created_by=operator,
        reviewed_at=now,
    )


def _log(actor: Actor, report: ImportReport, operator: Staff) -> None:
    detail: dict[str, Any] = {
        **report.counts(),
        "dry_run": report.dry_run,
        "operator": operator.staff_id,
        "source": Path(report.source).name,
        "seconds": round(report.seconds, 1),
    }
    if report.change_id is not None:
        detail["change_id"] = report.change_id
    if report.problems:
        detail["problem_codes"] = sorted({p.code for p in report.problems})[:20]
    audit.record(
        actor,
        category=Category.BATCH_UPDATE,
        function=FUNCTION + ("（検査のみ）" if report.dry_run else ""),
        outcome=Outcome.SUCCESS if report.ok else Outcome.FAILED,
        detail=detail,
    )


# --------------------------------------------------------------------------- helpers


def _open_csv(path: Path) -> IO[str]:
    return path.open(encoding="utf-8", newline="", buffering=1 << 20)


class _Cache:
    """Validated values: ``value -> result`` for values seen before (bounded)."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    def put(self, key: Any, value: Any) -> Any:
        if len(self.data) >= _CACHE_LIMIT:
            self.data.clear()
        self.data[key] = value
        return value


_BAD = object()  # cached marker of an invalid value


class _Person:
    """A person read from residents.csv whose history rows are being collected."""

    __slots__ = (
        "address_notified",
        "address_set",
        "alias_on",
        "atena",
        "const",
        "digest",
        "final_address_set",
        "final_notified",
        "final_state",
        "foreign",
        "household_no",
        "juminhyo",
        "keys",
        "keys_in",
        "last_no",
        "line",
        "my_number",
        "next_no",
        "ok",
        "removal_reason",
        "removed_on",
        "rows",
        "status",
    )
    address_notified: str | None
    address_set: str | None
    alias_on: str | None
    atena: str
    const: tuple[Any, ...]
    digest: str
    final_address_set: str | None
    final_notified: str | None
    final_state: tuple[str, ...]
    foreign: bool
    household_no: str
    juminhyo: str
    keys: tuple[str, ...]
    keys_in: tuple[str, ...] | None
    last_no: int
    line: int
    my_number: str
    next_no: int
    ok: bool
    removal_reason: str
    removed_on: str | None
    rows: list[tuple[Any, ...]]  # STATE_FIELDS + DERIVED_FIELDS + ROW_FIELDS, per history row
    status: str

    def __init__(self) -> None:
        self.rows = []
        self.next_no = 1
        self.address_set: str | None = None
        self.address_notified: str | None = None
        self.keys_in: tuple[str, ...] | None = None
        self.keys: tuple[str, ...] = ()


# Field positions in a snapshot row (ResidentRecord's fields, model order).
RECORD_FIELDS: tuple[str, ...] = tuple(
    f.attname  # type: ignore[union-attr]
    for f in ResidentRecord._meta.get_fields()
)
HISTORY_EXTRA = (
    "history_no",
    "change_id",
    "change_reason",
    "occurred_on",
    "history_notified_on",
    "processed_at",
    "operator_id",
    "reviewer_id",
    "terminal_id",
)
RESIDENT_EXTRA = ("history_no", "updated_at")

# Items the CSV layout does not carry: imported with their empty value.
_EXTRA = {
    "former_family_name_kana_confirmed": False,
    "alias_kana_confirmed": False,
    "alias_removed_municipality_code": "",
    "last_registered_address": "",
    "residence_place_notified": False,
    "landing_permit_move_in": False,
    "card_status": "",
    "adult_guardianship": False,
    "signature_cert_serial": "",
    "auth_cert_serial": "",
    "suppressed": False,
    "memo": "",
    "display_order": None,
}
EXTRA_DEFAULTS = tuple(_EXTRA)
_EXTRA_VALUES = tuple(_EXTRA.values())

# A row is assembled from two tuples: the person's (constants from residents.csv, then the
# items set when the person is written), and the history row's (its state, the items derived
# for it, its own columns); _HISTORY_ROW puts their concatenation in the order of the INSERT
# with one C-level call.
CONST_FIELDS = (
    "atena_no",
    "resident_type",
    "name_alphabet",
    "name_kana_confirmed",
    "alias_removed_on",
    "birth_date",
    "birth_date_text",
    "sex",
    "honseki",
    "koseki_head",
    "became_resident_on",
    "became_foreign_resident_on",
    "moved_out_address",
    "moved_out_on",
    "move_in_notice_on",
    "nationality",
    "foreign_category",
    "juminhyo_code",
    "elector",
    "insurance",
    "remarks",
    "alias_entered_municipality_code",
    "alien_registration_on",
    *EXTRA_DEFAULTS,
)
STATE_FIELDS = (
    "household_no",
    "relationship",
    "head_name",
    "status",
    "family_name",
    "given_name",
    "name_kana",
    "former_family_name",
    "former_family_name_kana",
    "alias",
    "alias_kana",
    "address_code",
    "postal_code",
    "address",
    "katagaki",
    "previous_address_code",
    "previous_address",
    "moved_out_planned_address",
    "residence_status",
    "period_of_stay",
    "stay_expires_on",
    "residence_card_no",
)
DERIVED_FIELDS = (
    "alias_entered_on",
    "address_set_on",
    "notified_on",
    "moved_out_planned_on",
    "removal_reason",
    "removed_on",
    *SEARCH_KEY_FIELDS,
)
WRITE_FIELDS = ("my_number_id", "change_id", "operator_id", "updated_at", "")  # "": None
ROW_FIELDS = ("history_no", "change_reason", "occurred_on", "history_notified_on", "processed_at")
_ASSEMBLED = (*CONST_FIELDS, *WRITE_FIELDS, *STATE_FIELDS, *DERIVED_FIELDS, *ROW_FIELDS)
assert sorted(n for n in _ASSEMBLED if n not in (*HISTORY_EXTRA, *RESIDENT_EXTRA, "")) == sorted(
    RECORD_FIELDS
), "the snapshot parts must cover every item, once"
_HISTORY_ROW = itemgetter(
    *(
        _ASSEMBLED.index("" if name in ("reviewer_id", "terminal_id") else name)
        for name in (*RECORD_FIELDS, *HISTORY_EXTRA)
    )
)
# the current view is the latest history row's record and 履歴番号, and updated_at
_LATEST = len(RECORD_FIELDS) + 1
assert (*RECORD_FIELDS, *HISTORY_EXTRA)[:_LATEST] == (*RECORD_FIELDS, *RESIDENT_EXTRA[:1])
assert SEARCH_KEY_FIELDS == (
    "kana_key",
    "kana_exact",
    "given_kana_key",
    "name_key",
    "former_kana_key",
    "alias_kana_key",
), "_Run._search_keys builds them in this order"
_NUMBER_FIELDS = ("key_id", "ciphertext", "lookup_hash", "created_at")
# residents.csv columns read by _Run._resident, in its unpacking order
_RESIDENT_PICK = (
    "atena_no",
    "history_no",
    "resident_type",
    "household_no",
    "relationship",
    "status",
    "family_name",
    "given_name",
    "name_kana_confirmed",
    "name_alphabet",
    "alias_entered_on",
    "alias_entered_municipality_code",
    "birth_date",
    "sex",
    "honseki",
    "koseki_head",
    "became_resident_on",
    "became_foreign_resident_on",
    "alien_registration_on",
    "address_set_on",
    "notified_on",
    "my_number",
    "juminhyo_code",
    "nationality_code",
    "nationality",
    "foreign_resident_category",
    "removal_reason",
    "removed_on",
    "removal_notified_on",
)


@dataclass(frozen=True)
class _Insert:
    """How to bulk-insert rows into one table: ``executemany`` of an INSERT, or (PostgreSQL)
    COPY FROM STDIN, the database's own bulk path."""

    insert: str
    copy: str


def _insert_sql(model: Any, attnames: Sequence[str]) -> _Insert:
    meta = model._meta
    by_attname = {f.attname: str(f.column) for f in meta.concrete_fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(by_attname[a]) for a in attnames)
    marks = ", ".join(["%s"] * len(attnames))
    table = quote(meta.db_table)
    # identifiers come from the models, values are parameters
    return _Insert(
        insert=f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
        copy=f"COPY {table} ({columns}) FROM STDIN",
    )


# --------------------------------------------------------------------------- the run


class _Sink(Protocol):
    """Where ``_Run`` sends its batches: ``_Loader`` in this process, or the pipe to the
    parent (``import_worker``). ``stopped`` becomes true when a check of the receiving side
    found a problem: the run goes on validating but builds no more rows."""

    stopped: bool

    def households(
        self, lines: list[tuple[str, int]] | None, rows: list[tuple[Any, ...]] | None
    ) -> None: ...

    def persons(self, checks: list[_Check] | None, batch: _Batch | None) -> None: ...

    def close(self) -> None: ...


# (宛名番号, 住民票コード, keyed hash of the 個人番号, line): what is checked against the register
_Check = tuple[str, str, str, int]
# one batch of persons: 個人番号 rows, history snapshots, the index of each person's latest
_Batch = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[int]]


class _Run:
    """One pass over the files: validate every row and, when loading, build the rows to
    write, in batches, for the sink."""

    def __init__(self, setup: _Setup, report: ImportReport, sink: _Sink) -> None:
        self.setup = setup
        self.dir = setup.directory
        self.report = report
        self.sink = sink
        self.batch = setup.batch_size
        self.dictionary = load_dictionary()
        now = setup.now
        self.as_of = timezone.localdate(now)
        self.now = now
        self.now_db = connection.ops.adapt_datetimefield_value(now)
        # caches of validated values
        self.c_names = _Cache()
        self.c_kana = _Cache()
        self.c_rel = _Cache()
        self.c_addr = _Cache()
        self.c_lg = _Cache()
        self.c_processed = _Cache()
        self.c_keys = _Cache()
        self.c_reading = _Cache()
        self.c_name = _Cache()
        # what the files define
        self.households: dict[str, list[Any]] = {}  # household_no -> [line, active, count, head]
        # household_no -> [members, current members, current heads, the head's atena_no]
        self.hh_members: dict[str, list[Any]] = {}
        self.atenas: set[int] = set()
        self.juminhyo: set[int] = set()
        self.my_numbers: set[int] = set()
        self.max_atena = 0
        self.max_household = 0
        self.last_atena = -1
        # the merge
        self.pending: dict[str, _Person] = {}
        self.ready: list[_Person] = []
        self.residents_done = False
        self.keyring = load_keyring()
        self.lookup_hash = self.keyring.lookup_hash
        self.number_ids = _iter_ranges(setup.number_ids)
        self.current_file = ""

    # ------------------------------------------------------------------ reporting

    def problem(self, file: str, line: int, column: str, code: str, message: str) -> None:
        self.report.add(file, line, column, code, message)

    @property
    def loading(self) -> bool:
        return self.setup.loading and self.report.problem_count == 0 and not self.sink.stopped

    # ------------------------------------------------------------------ main

    def run(self) -> None:
        missing = [name for name in FILES if not (self.dir / name).is_file()]
        if not self.dir.is_dir():
            self.problem(
                str(self.dir),
                0,
                "",
                "import.no_directory",
                "取込元のディレクトリがありません。パスを確認してください。",
            )
            return
        for name in missing:
            self.problem(
                name,
                0,
                "",
                "import.file_missing",
                f"{name} がありません。households.csv・residents.csv・history.csv・"
                "manifest.json の4つのファイルを同じディレクトリに置いてください。",
            )
        if missing:
            return
        manifest = self._manifest()
        try:
            with (
                _open_csv(self.dir / HOUSEHOLDS) as hf,
                _open_csv(self.dir / RESIDENTS) as rf,
                _open_csv(self.dir / HISTORY) as yf,
            ):
                try:
                    self._households(hf)
                    self._residents_and_history(rf, yf)
                finally:
                    self.sink.close()
        except _Fatal:
            return
        except UnicodeDecodeError as exc:
            self.problem(
                self.current_file,
                0,
                "",
                "import.encoding",
                f"ファイルを UTF-8 として読めません（{exc.reason}、{exc.start}バイト目付近）。"
                "UTF-8（BOMなし）で出力し直してください。",
            )
            return
        except csv.Error as exc:
            self.problem(
                self.current_file, 0, "", "import.csv", f"CSVの形式が正しくありません: {exc}"
            )
            return
        self._check_households()
        self._check_manifest_counts(manifest)

    # ------------------------------------------------------------------ manifest

    def _manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.dir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            self.problem(
                MANIFEST,
                0,
                "",
                "manifest.invalid",
                "manifest.json を JSON として読めません。",
            )
            return {}
        if not isinstance(data, dict):
            self.problem(
                MANIFEST,
                0,
                "",
                "manifest.invalid",
                "manifest.json が JSON オブジェクトではありません。",
            )
            return {}
        if data.get("format_version") != FORMAT_VERSION:
            self.problem(
                MANIFEST,
                0,
                "format_version",
                "manifest.format_version",
                f"format_version が {FORMAT_VERSION} ではありません"
                f"（{data.get('format_version')!r}）。このバージョンの形式には対応していません。",
            )
        as_of = data.get("as_of")
        if as_of:
            try:
                self.as_of = max(self.as_of, dt.date.fromisoformat(str(as_of)))
            except ValueError:
                self.problem(
                    MANIFEST,
                    0,
                    "as_of",
                    "manifest.as_of",
                    f"as_of「{as_of}」が日付ではありません。",
                )
        return data

    def _check_manifest_counts(self, manifest: dict[str, Any]) -> None:
        counts = manifest.get("counts")
        if not isinstance(counts, dict):
            return
        for key, actual in (
            ("households", self.report.households),
            ("residents", self.report.residents),
            ("history_rows", self.report.history_rows),
        ):
            expected = counts.get(key)
            if isinstance(expected, int) and expected != actual:
                self.problem(
                    MANIFEST,
                    0,
                    f"counts.{key}",
                    "manifest.count",
                    f"manifest.json の件数（{key}: {expected:,}）とファイルの行数（{actual:,}）が"
                    "一致しません。ファイルが途中で切れていないか確認してください。",
                )

    # ------------------------------------------------------------------ headers

    def _reader(self, name: str, fh: IO[str]) -> tuple[Any, dict[str, int]]:
        self.current_file = name
        reader = csv.reader(fh)
        header = next(reader, None)
        expected = EXPECTED_COLUMNS[name]
        if header is None:
            self.problem(
                name, 1, "", "import.empty_file", f"{name} が空です（見出し行がありません）。"
            )
            raise _Fatal
        if header and header[0].startswith("\ufeff"):
            self.problem(
                name,
                1,
                header[0],
                "import.bom",
                "BOM 付きです。UTF-8（BOMなし）で出力してください。",
            )
            raise _Fatal
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        for column in missing:
            self.problem(name, 1, column, "import.column_missing", f"列「{column}」がありません。")
        for column in extra:
            self.problem(
                name, 1, column, "import.column_unknown", f"列「{column}」は取込形式にない列です。"
            )
        if len(set(header)) != len(header):
            self.problem(
                name, 1, "", "import.column_duplicate", "見出し行に同じ列名が複数あります。"
            )
        if missing or extra or len(set(header)) != len(header):
            raise _Fatal
        return reader, {c: header.index(c) for c in expected}

    def _width_ok(self, name: str, line: int, row: list[str], width: int) -> bool:
        if len(row) == width:
            return True
        self.problem(
            name,
            line,
            "",
            "import.row_width",
            f"列の数が見出しと違います（{len(row)}列、見出しは{width}列）。",
        )
        return False

    # ------------------------------------------------------------------ single values

    def _date(self, file: str, line: int, column: str, value: str) -> str | None:
        """An ISO date (``2026-04-01``) as the same string, '' → None; a problem otherwise."""
        if not value:
            return None
        if len(value) == 10:
            try:
                dt.date.fromisoformat(value)
                return value
            except ValueError:
                pass
        self.problem(
            file,
            line,
            column,
            "date.invalid",
            f"「{value}」は日付ではありません。"
            "西暦の YYYY-MM-DD 形式（例: 2026-04-01）で出力してください。",
        )
        return None

    def _core_id(
        self, file: str, line: int, column: str, func: Callable[[str], str], value: str
    ) -> str | None:
        try:
            return func(value)
        except CoreError as exc:
            self.problem(file, line, column, exc.code, exc.message)
            return None

    def _number(
        self, file: str, line: int, column: str, func: Callable[[str], str], value: str
    ) -> bool:
        """宛名番号, 世帯番号 or 住民票コード, exactly as the register stores it (ASCII digits).

        The check digit is computed with jumin.core.identifiers; the full validation (and
        its precise message) runs only for a value that fails the quick test."""
        if value.isascii() and value.isdigit():
            if func is validate_juminhyo_code:
                if len(value) == 11 and get_juminhyo_code_check()(value[:10]) == value[10]:
                    return True
            elif (
                len(value) == 10
                and value[:-1].strip("0")
                and mod11_w27_check_digit(value[:-1]) == value[-1]
            ):
                return True
        if self._core_id(file, line, column, func, value) is not None:
            self.problem(
                file,
                line,
                column,
                f"{column}.format",
                f"「{value}」は半角数字だけで、区切り文字なしに出力してください。",
            )
        return False

    def _name(self, file: str, line: int, column: str, value: str) -> bool:
        key = (column, value)
        hit = self.c_names.data.get(key)
        if hit is None:
            try:
                validate_name(value, column)
                hit = self.c_names.put(key, True)
            except CoreError as exc:
                hit = self.c_names.put(key, (exc.code, exc.message))
        if hit is True:
            return True
        self.problem(file, line, column, hit[0], hit[1])
        return False

    def _kana(self, file: str, line: int, column: str, value: str) -> str | None:
        key = (column, value)
        hit = self.c_kana.data.get(key)
        if hit is None:
            try:
                hit = self.c_kana.put(key, validate_name_kana(value, column))
            except CoreError as exc:
                hit = self.c_kana.put(key, (exc.code, exc.message))
        if isinstance(hit, str):
            return hit
        self.problem(file, line, column, hit[0], hit[1])
        return None

    def _relationship(self, file: str, line: int, value: str) -> str | None:
        hit = self.c_rel.data.get(value)
        if hit is None:
            try:
                hit = self.c_rel.put(value, validate_relationship(value).text)
            except CoreError as exc:
                hit = self.c_rel.put(value, (exc.code, exc.message))
        if isinstance(hit, str):
            return hit
        self.problem(file, line, "relationship", hit[0], hit[1])
        return None

    def _address(self, file: str, line: int, code: str) -> AddressEntry | None:
        hit = self.c_addr.data.get(code)
        if hit is None:
            hit = self.c_addr.put(code, self.dictionary.by_code(code) or _BAD)
        if hit is _BAD:
            self.problem(
                file,
                line,
                "address_code",
                "address_code.unknown",
                f"住所コード「{code}」は住所辞書にありません。住所辞書の住所コードに置き換えてください。",
            )
            return None
        entry: AddressEntry = hit
        return entry

    def _digits(self, file: str, line: int, column: str, value: str, length: int) -> None:
        if value and (len(value) != length or not _DIGITS.issuperset(value)):
            self.problem(
                file,
                line,
                column,
                f"{column}.format",
                f"「{value}」は{length}桁の数字ではありません。",
            )

    def _lg_code(self, file: str, line: int, column: str, value: str) -> None:
        hit = self.c_lg.data.get(value)
        if hit is None:
            try:
                validate_local_government_code(value)
                hit = self.c_lg.put(value, True)
            except CoreError as exc:
                hit = self.c_lg.put(value, (exc.code, exc.message))
        if hit is not True:
            self.problem(file, line, column, hit[0], hit[1])

    def _processed_at(self, value: str | None) -> Any:
        if not value:
            return self.now_db
        hit = self.c_processed.data.get(value)
        if hit is None:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime(day.year, day.month, day.day, tzinfo=_TOKYO)
            hit = self.c_processed.put(value, connection.ops.adapt_datetimefield_value(moment))
        return hit

    # ------------------------------------------------------------------ households.csv

    def _households(self, fh: IO[str]) -> None:
        reader, ix = self._reader(HOUSEHOLDS, fh)
        width = len(ix)
        i_no, i_status, i_head = ix["household_no"], ix["status"], ix["head_atena_no"]
        i_count, i_code, i_postal = ix["member_count"], ix["address_code"], ix["postal_code"]
        i_pref, i_city, i_ward, i_town = ix["prefecture"], ix["city"], ix["ward"], ix["town"]
        i_formed, i_removed, i_head_name = ix["formed_on"], ix["removed_on"], ix["head_name"]
        households = self.households
        batch: list[str] = []
        f = HOUSEHOLDS
        for row in reader:
            line = reader.line_num
            if not self._width_ok(f, line, row, width):
                continue
            self.report.households += 1
            number = row[i_no]
            if not self._number(f, line, "household_no", validate_household_no, number):
                continue
            if number in households:
                self.problem(
                    f,
                    line,
                    "household_no",
                    "household_no.duplicate",
                    f"世帯番号 {number} が重複しています（{households[number][0]}行目と同じ）。",
                )
                continue
            status = row[i_status]
            if status not in ("active", "removed"):
                self.problem(
                    f,
                    line,
                    "status",
                    "household.status",
                    f"世帯の状態「{status}」は active か removed で指定してください。",
                )
            head = row[i_head]  # checked against residents.csv in _check_households
            if row[i_head_name]:
                self._name(f, line, "head_name", row[i_head_name])
            count_text = row[i_count]
            count = int(count_text) if count_text.isdigit() else -1
            if count < 0:
                self.problem(
                    f,
                    line,
                    "member_count",
                    "household.member_count",
                    f"世帯員数「{count_text}」は0以上の整数で指定してください。",
                )
            entry = self._address(f, line, row[i_code])
            if entry is not None:
                self._same_place(f, line, entry, row[i_pref], row[i_city], row[i_ward], row[i_town])
            self._digits(f, line, "postal_code", row[i_postal], 7)
            self._date(f, line, "formed_on", row[i_formed])
            removed_on = self._date(f, line, "removed_on", row[i_removed])
            if status == "removed" and removed_on is None and not row[i_removed]:
                self.problem(
                    f,
                    line,
                    "removed_on",
                    "household.removed_on",
                    "消除された世帯（removed）には消除の日を入れてください。",
                )
            households[number] = [line, status == "active", count, head]
            body = int(number[:-1])
            if body > self.max_household:
                self.max_household = body
            batch.append(number)
            if len(batch) >= self.batch:
                self._flush_households(batch)
                batch = []
        self._flush_households(batch)

    def _same_place(
        self, file: str, line: int, entry: AddressEntry, pref: str, city: str, ward: str, town: str
    ) -> None:
        if (pref and pref != entry.prefecture) or (city and city != entry.city):
            self.problem(
                file,
                line,
                "city",
                "address.city_mismatch",
                f"都道府県・市「{pref}{city}」が住所コード {entry.address_code} の"
                f"「{entry.prefecture}{entry.city}」と一致しません。",
            )
        # the 小字 may be left out of the town column; the printed address takes it from
        # the dictionary
        if ward != entry.ward or (town != entry.town and town != entry.town + entry.koaza):
            self.problem(
                file,
                line,
                "town",
                "address.town_mismatch",
                f"区・町字「{ward}{town}」が住所コード {entry.address_code} の"
                f"「{entry.ward}{entry.town}{entry.koaza}」と一致しません。",
            )

    def _flush_households(self, batch: list[str]) -> None:
        if not batch:
            return
        lines = None
        if self.setup.db_max_household:
            lines = [(number, self.households[number][0]) for number in batch]
        rows = None
        if self.loading:
            now = self.now_db
            rows = [(number, now) for number in batch]
        self.sink.households(lines, rows)

    # ------------------------------------------------------------------ residents.csv

    def _residents_and_history(self, rf: IO[str], yf: IO[str]) -> None:
        self.r_reader, self.r_ix = self._reader(RESIDENTS, rf)
        y_reader, y_ix = self._reader(HISTORY, yf)
        self._prepare_residents()
        self._history(y_reader, y_ix)
        # residents without any history row
        while self._next_resident() is not None:
            pass
        for person in list(self.pending.values()):
            self._incomplete(person)
        self.pending.clear()
        self._flush()

    def _prepare_residents(self) -> None:
        ix = self.r_ix
        self.r_width = len(ix)
        self.r_state = itemgetter(*(ix[c] for c in STATE_COLUMNS))
        self.r_pick = itemgetter(*(ix[c] for c in _RESIDENT_PICK))

    def _next_resident(self) -> _Person | None:
        """Read, validate and keep the next person of residents.csv (None at the end)."""
        if self.residents_done:
            return None
        f = RESIDENTS
        ix = self.r_ix
        reader = self.r_reader
        for row in reader:
            line = reader.line_num
            if not self._width_ok(f, line, row, self.r_width):
                continue
            self.report.residents += 1
            person = self._resident(f, line, row, ix)
            if person is None:
                continue
            if len(self.pending) >= MAX_PENDING:
                self.problem(
                    HISTORY,
                    0,
                    "atena_no",
                    "import.order",
                    f"history.csv の並び順が residents.csv と揃っていません（{MAX_PENDING:,}人分の"
                    "履歴が未完了のまま残っています）。residents.csv は宛名番号順、history.csv は"
                    "世帯ごと・人ごとにまとめ、同じ順に並べてください。",
                )
                raise _Fatal
            self.pending[person.atena] = person
            return person
        self.residents_done = True
        return None

    def _resident(self, f: str, line: int, row: list[str], ix: dict[str, int]) -> _Person | None:
        (
            atena,
            history_no,
            resident_type,
            household_no,
            relationship,
            status,
            family,
            given,
            confirmed,
            alpha,
            alias_on,
            alias_lg,
            birth_text,
            sex,
            honseki,
            koseki_head,
            became_text,
            became_foreign_text,
            alien_text,
            address_set_text,
            notified_text,
            my_number,
            code,
            nationality_code,
            nationality,
            category,
            removal_reason,
            removed_text,
            removal_notified_text,
        ) = self.r_pick(row)
        if not self._number(f, line, "atena_no", validate_atena_no, atena):
            return None
        atena_int = int(atena)
        if atena_int <= self.last_atena:
            if atena_int in self.atenas:
                self.problem(
                    f,
                    line,
                    "atena_no",
                    "atena_no.duplicate",
                    f"宛名番号 {atena} が重複しています。",
                )
            else:
                self.problem(
                    f,
                    line,
                    "atena_no",
                    "import.order",
                    f"宛名番号 {atena} が前の行より小さくなっています。residents.csv は宛名番号の"
                    "昇順に並べてください。",
                )
            return None
        self.last_atena = atena_int
        self.atenas.add(atena_int)
        body = atena_int // 10
        if body > self.max_atena:
            self.max_atena = body
        p = _Person()
        p.atena = atena
        p.line = line
        p.ok = True
        report = self.report
        problems_before = report.problem_count
        p.last_no = int(history_no) if history_no.isdigit() else 0
        if p.last_no < 1:
            self.problem(
                f,
                line,
                "history_no",
                "history_no.invalid",
                f"履歴番号「{history_no}」は1以上の整数で指定してください。",
            )
        if resident_type not in ("japanese", "foreign"):
            self.problem(
                f,
                line,
                "resident_type",
                "resident_type.invalid",
                f"住民種別「{resident_type}」は japanese か foreign で指定してください。",
            )
        foreign = resident_type == "foreign"
        p.foreign = foreign
        if foreign:
            report.foreign += 1
        p.final_state = self.r_state(row)
        p.household_no = household_no
        p.status = status
        members = self.hh_members.get(household_no)
        if members is None:
            members = self.hh_members[household_no] = [0, 0, 0, ""]
        members[0] += 1
        if status == "resident":
            members[1] += 1
            if relationship == "世帯主":
                members[2] += 1
                members[3] = atena
        if confirmed not in ("0", "1", ""):
            self.problem(
                f,
                line,
                "name_kana_confirmed",
                "name_kana_confirmed.invalid",
                f"フリガナ確認フラグ「{confirmed}」は 1 か 0 で指定してください。",
            )
        if alpha:
            self._name(f, line, "name_alphabet", alpha)
        elif foreign and not family and not given:
            self.problem(
                f,
                line,
                "name_alphabet",
                "name.empty",
                "外国人住民の氏名（アルファベット）または漢字氏名を入れてください。",
            )
        date = self._date
        p.alias_on = date(f, line, "alias_entered_on", alias_on) if alias_on else None
        if alias_lg:
            self._lg_code(f, line, "alias_entered_municipality_code", alias_lg)
        birth, birth_storage = self._birth(f, line, birth_text)
        if sex != "1" and sex != "2":
            self.problem(
                f,
                line,
                "sex",
                "sex.invalid",
                f"性別「{sex}」は 1（男）か 2（女）で指定してください。",
            )
        if foreign and (honseki or koseki_head):
            self.problem(
                f,
                line,
                "honseki",
                "honseki.foreign",
                "外国人住民には本籍・筆頭者を記載しません。空欄にしてください。",
            )
        if koseki_head:
            self._name(f, line, "koseki_head", koseki_head)
        became = date(f, line, "became_resident_on", became_text) if became_text else None
        became_foreign = (
            date(f, line, "became_foreign_resident_on", became_foreign_text)
            if became_foreign_text
            else None
        )
        alien = date(f, line, "alien_registration_on", alien_text) if alien_text else None
        p.final_address_set = (
            date(f, line, "address_set_on", address_set_text) if address_set_text else None
        )
        p.final_notified = date(f, line, "notified_on", notified_text) if notified_text else None
        p.my_number = p.digest = ""
        if my_number:
            try:
                # validates (check digit) and gives the keyed hash in one call
                digest = self.lookup_hash(my_number)
            except CoreError as exc:
                # never repeat a 個人番号 in the report
                self.problem(f, line, "my_number", exc.code, _my_number_message(exc.code))
            else:
                if len(my_number) == 12 and my_number.isascii():
                    p.my_number = my_number
                else:  # full-width digits or separators: store the normalised number
                    p.my_number = validate_my_number(my_number)
                p.digest = digest
                n = int(digest, 16)
                if n in self.my_numbers:
                    self.problem(
                        f,
                        line,
                        "my_number",
                        "my_number.duplicate",
                        "この個人番号は residents.csv の別の行にもあります（番号は表示しません）。",
                    )
                else:
                    self.my_numbers.add(n)
                    report.my_numbers += 1
        p.juminhyo = code
        if code and self._number(f, line, "juminhyo_code", validate_juminhyo_code, code):
            n = int(code)
            if n in self.juminhyo:
                self.problem(
                    f,
                    line,
                    "juminhyo_code",
                    "juminhyo_code.duplicate",
                    f"住民票コード {code} は residents.csv の別の行にもあります。",
                )
            else:
                self.juminhyo.add(n)
        if nationality_code and not (len(nationality_code) == 2 and nationality_code.isalpha()):
            self.problem(
                f,
                line,
                "nationality_code",
                "nationality_code.invalid",
                f"国籍・地域コード「{nationality_code}」は ISO 3166-1 の2文字で指定してください。",
            )
        if foreign:
            if not nationality:
                self.problem(
                    f,
                    line,
                    "nationality",
                    "nationality.empty",
                    "外国人住民の国籍・地域を入れてください。",
                )
            if category and category not in _FOREIGN_CATEGORIES:
                self.problem(
                    f,
                    line,
                    "foreign_resident_category",
                    "foreign_category.invalid",
                    f"法第30条の45の区分「{category}」は "
                    + "・".join(sorted(_FOREIGN_CATEGORIES))
                    + " のいずれかで指定してください。",
                )
        elif nationality or category:
            self.problem(
                f,
                line,
                "nationality",
                "nationality.japanese",
                "日本人住民には国籍・地域と法第30条の45の区分を記載しません。",
            )
        p.removal_reason = removal_reason
        removed_on = date(f, line, "removed_on", removed_text) if removed_text else None
        p.removed_on = removed_on
        if removal_notified_text:
            date(f, line, "removal_notified_on", removal_notified_text)
        if status == "removed":
            reason = _REASONS.get(removal_reason)
            report.removed += 1
            if reason is None or reason.kind is not _REMOVAL:
                self.problem(
                    f,
                    line,
                    "removal_reason",
                    "removal_reason.invalid",
                    f"消除事由「{removal_reason}」は消除の異動事由コード（domestic_move_out、"
                    "move_out_abroad、death など）で指定してください。",
                )
            if not removed_text:
                self.problem(
                    f,
                    line,
                    "removed_on",
                    "removed_on.empty",
                    "消除された住民には消除の事由が生じた年月日を入れてください。",
                )
        elif removal_reason or removed_text:
            self.problem(
                f,
                line,
                "removal_reason",
                "removal_reason.not_removed",
                "住民状態が resident の行に消除事由・消除日があります。",
            )
        if report.problem_count != problems_before:
            p.ok = False
        # the person's constant items, in CONST_FIELDS order
        p.const = (
            atena,
            resident_type,
            alpha,
            confirmed == "1",
            None,  # alias_removed_on
            birth,
            birth_storage,
            sex,
            honseki,
            koseki_head,
            became,
            became_foreign,
            "",  # moved_out_address
            None,  # moved_out_on
            None,  # move_in_notice_on
            nationality,
            category,
            code,
            False,  # elector
            "{}",  # insurance
            f"旧外国人登録年月日 {alien}" if alien else "",  # remarks
            alias_lg or "",  # alias_entered_municipality_code
            alien,  # alien_registration_on
            *_EXTRA_VALUES,
        )
        return p

    def _birth(self, f: str, line: int, text: str) -> tuple[str | None, str]:
        if len(text) == 10:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                pass
            else:
                if day > self.as_of:
                    self.problem(
                        f,
                        line,
                        "birth_date",
                        "birth_date.future",
                        f"生年月日「{text}」が未来の日付です。",
                    )
                return text, ""
            if text[4] == "-" and text[7] == "-":  # shaped like an ISO date, but is none
                self._date(f, line, "birth_date", text)
                return None, ""
        if not text:
            self.problem(f, line, "birth_date", "birth_date.empty", "生年月日を入れてください。")
            return None, ""
        try:
            value = parse_any_date(text)  # 和暦, or an uncertain date (年月日不詳 …)
        except CoreError as exc:
            self.problem(f, line, "birth_date", exc.code, exc.message)
            return None, ""
        return value.sort_key.isoformat(), ("" if value.is_exact else value.to_storage())

    # ------------------------------------------------------------------ history.csv

    def _history(self, reader: Any, ix: dict[str, int]) -> None:
        f = HISTORY
        width = len(ix)
        i_atena, i_no, i_reason = ix["atena_no"], ix["history_no"], ix["change_reason"]
        i_occ, i_not, i_proc = ix["occurred_on"], ix["notified_on"], ix["processed_on"]
        state = itemgetter(*(ix[c] for c in STATE_COLUMNS))
        self.y_state = state
        pending = self.pending
        report = self.report
        for row in reader:
            line = reader.line_num
            if len(row) != width:
                self._width_ok(f, line, row, width)
                continue
            report.history_rows += 1
            atena = row[i_atena]
            person = pending.get(atena)
            if person is None:
                person = self._find(f, line, atena)
                if person is None:
                    continue
            no_text = row[i_no]
            if no_text != str(person.next_no):
                self.problem(
                    f,
                    line,
                    "history_no",
                    "history_no.gap",
                    f"宛名番号 {atena} の履歴番号「{no_text}」が連続していません"
                    f"（{person.next_no} のはずです）。履歴番号は1から順に欠番なく並べてください。",
                )
                person.ok = False
                person.next_no = int(no_text) + 1 if no_text.isdigit() else person.next_no + 1
            else:
                person.next_no += 1
            before = report.problem_count
            reason_code = row[i_reason]
            reason = _REASONS.get(reason_code)
            if reason is None:
                self.problem(
                    f,
                    line,
                    "change_reason",
                    "change_reason.unknown",
                    f"異動事由「{reason_code}」は異動事由コード（std 1.2.2）ではありません。",
                )
            elif not _APPLIES[reason_code, person.foreign]:
                who = "外国人住民" if person.foreign else "日本人住民"
                self.problem(
                    f,
                    line,
                    "change_reason",
                    "change_reason.not_applicable",
                    f"異動事由「{reason.label}」は{who}には使えません。",
                )
            occurred = self._date(f, line, "occurred_on", row[i_occ])
            if occurred is None and not row[i_occ]:
                self.problem(
                    f, line, "occurred_on", "occurred_on.empty", "異動日を入れてください。"
                )
            notified = self._date(f, line, "notified_on", row[i_not])
            processed = self._date(f, line, "processed_on", row[i_proc])
            snap = self._state(f, line, row, person)
            if report.problem_count != before:
                person.ok = False
            is_last = person.next_no > person.last_no
            if is_last and person.ok and state(row) != person.final_state:
                self._final_mismatch(person, state(row))
            if self.loading and person.ok and snap is not None and reason is not None:
                self._snapshot(person, snap, reason_code, occurred, notified, processed, is_last)
            if person.next_no > person.last_no:
                del pending[atena]
                self.ready.append(person)
                if len(self.ready) >= self.batch:
                    self._flush()

    def _find(self, f: str, line: int, atena: str) -> _Person | None:
        """The person of a history row not yet read: read residents.csv up to them."""
        try:
            atena_int = int(atena)
        except ValueError:
            atena_int = -1
        if atena_int < 0 or not atena.isdigit():
            self._core_id(f, line, "atena_no", validate_atena_no, atena)
            return None
        while atena_int > self.last_atena:
            person = self._next_resident()
            if person is None:
                break
            if person.atena == atena:
                return person
        if atena_int in self.atenas:
            self.problem(
                f,
                line,
                "history_no",
                "history_no.beyond",
                f"宛名番号 {atena} の履歴行が residents.csv の履歴番号より多くあります"
                "（または residents.csv のその人の行に誤りがあります）。",
            )
        else:
            self.problem(
                f,
                line,
                "atena_no",
                "atena_no.unknown",
                f"宛名番号 {atena} は residents.csv にありません（または history.csv の並び順が"
                "residents.csv と揃っていません）。",
            )
        return None

    def _incomplete(self, person: _Person) -> None:
        if person.next_no == 1:
            self.problem(
                RESIDENTS,
                person.line,
                "history_no",
                "history.missing",
                f"宛名番号 {person.atena} の履歴が history.csv に1行もありません。",
            )
        else:
            self.problem(
                RESIDENTS,
                person.line,
                "history_no",
                "history.incomplete",
                f"宛名番号 {person.atena} の履歴番号は {person.last_no} ですが、history.csv には"
                f" {person.next_no - 1} までしかありません。",
            )

    def _final_mismatch(self, person: _Person, last: tuple[str, ...]) -> None:
        columns = [
            c for c, a, b in zip(STATE_COLUMNS, last, person.final_state, strict=True) if a != b
        ]
        person.ok = False
        self.problem(
            RESIDENTS,
            person.line,
            columns[0],
            "history.final_mismatch",
            f"宛名番号 {person.atena} の residents.csv の値が history.csv の最新の履歴と"
            "一致しません"
            f"（{'、'.join(LABELS.get(c, c) for c in columns[:5])}）。",
        )

    def _state(self, f: str, line: int, row: list[str], person: _Person) -> tuple[Any, ...] | None:
        """Validate the state columns of a history row; return them as STATE_FIELDS."""
        (
            household_no,
            relationship_text,
            head_name,
            status,
            family,
            given,
            fk,
            gk,
            former,
            former_kana,
            alias,
            alias_kana,
            code,
            postal,
            ward,
            town,
            banchi,
            katagaki,
            previous_code,
            previous_postal,
            previous_address,
            destination_postal,
            destination,
            residence_status,
            period,
            expires_text,
            card,
        ) = self.y_state(row)
        foreign = person.foreign
        if household_no not in self.households and self._core_id(
            f, line, "household_no", validate_household_no, household_no
        ):
            self.problem(
                f,
                line,
                "household_no",
                "household.unknown",
                f"世帯番号 {household_no} は households.csv にありません。",
            )
        relationship = self._relationship(f, line, relationship_text)
        if head_name:
            self._name(f, line, "head_name", head_name)
        if status != "resident" and status != "removed":
            self.problem(
                f,
                line,
                "status",
                "status.invalid",
                f"住民状態「{status}」は resident か removed で指定してください。",
            )
        if family or not foreign:
            self._name(f, line, "family_name", family)
        if given or not foreign:
            self._name(f, line, "given_name", given)
        family_kana = self._kana(f, line, "family_name_kana", fk) if fk else ""
        given_kana = self._kana(f, line, "given_name_kana", gk) if gk else ""
        if not fk and not gk:
            self.problem(
                f,
                line,
                "given_name_kana",
                "name_kana.empty",
                "氏名の振り仮名（氏・名のフリガナ）を入れてください。",
            )
        if former:
            self._name(f, line, "former_family_name", former)
        if former_kana:
            former_kana = self._kana(f, line, "former_family_name_kana", former_kana) or ""
        if alias or alias_kana:
            if not foreign:
                self.problem(
                    f, line, "alias", "alias.japanese", "通称は外国人住民にだけ記載できます。"
                )
            if alias:
                self._name(f, line, "alias", alias)
            if alias_kana:
                alias_kana = self._kana(f, line, "alias_kana", alias_kana) or ""
        entry = self._address(f, line, code)
        if entry is not None and (
            ward != entry.ward or (town != entry.town and town != entry.town + entry.koaza)
        ):
            self._same_place(f, line, entry, "", "", ward, town)
        digits = self._digits
        if postal:
            digits(f, line, "postal_code", postal, 7)
        if previous_code:
            digits(f, line, "previous_address_code", previous_code, 11)
        if previous_postal:
            digits(f, line, "previous_postal_code", previous_postal, 7)
        if destination_postal:
            digits(f, line, "moved_out_to_postal_code", destination_postal, 7)
        if not foreign and (residence_status or card):
            self.problem(
                f,
                line,
                "residence_status",
                "residence_status.japanese",
                "日本人住民には在留資格・在留カード等の番号を記載しません。",
            )
        if card:
            self._core_id(f, line, "residence_card_no", validate_residence_card_no, card)
        expires = self._date(f, line, "stay_expires_on", expires_text) if expires_text else None
        if entry is None or relationship is None:
            return None
        if family_kana and given_kana:
            name_kana = f"{family_kana}\u3000{given_kana}"
        else:
            name_kana = family_kana or given_kana or ""
        return (
            household_no,
            relationship,
            head_name,
            status,
            family,
            given,
            name_kana,
            former,
            former_kana,
            alias,
            alias_kana,
            code,
            postal,
            entry.address + banchi,
            katagaki,
            previous_code,
            previous_address,
            destination,
            residence_status,
            period,
            expires,
            card,
        )

    def _search_keys(
        self, kana: str, family: str, given: str, alpha: str, former: str, alias: str
    ) -> tuple[str, ...]:
        """``search_keys`` of a snapshot (SEARCH_KEY_FIELDS order), computed part by part: the
        keys of the reading, of the name, of the 旧氏 and of the 通称 each depend on their own
        items only, and a reading or a name repeats far more often than the whole person
        (tests compare every imported row with ``search_keys`` of its snapshot)."""
        reading = self.c_reading.data.get(kana)
        if reading is None:
            got = search_keys({"name_kana": kana})
            reading = self.c_reading.put(
                kana, (got["kana_key"], got["kana_exact"], got["given_kana_key"])
            )
        name_in = (family, given, alpha)
        name = self.c_name.data.get(name_in)
        if name is None:
            got = search_keys({"family_name": family, "given_name": given, "name_alphabet": alpha})
            name = self.c_name.put(name_in, got["name_key"])
        former_key = alias_key = ""
        if former:
            hit = self.c_keys.data.get(("former", former))
            if hit is None:
                got = search_keys({"former_family_name_kana": former})
                hit = self.c_keys.put(("former", former), got["former_kana_key"])
            former_key = hit
        if alias:
            hit = self.c_keys.data.get(("alias", alias))
            if hit is None:
                got = search_keys({"alias_kana": alias})
                hit = self.c_keys.put(("alias", alias), got["alias_kana_key"])
            alias_key = hit
        return (*reading, name, former_key, alias_key)

    def _snapshot(
        self,
        p: _Person,
        s: tuple[Any, ...],
        value: str,
        occurred: str | None,
        notified: str | None,
        processed: str | None,
        is_last: bool,
    ) -> None:
        """Keep what one history row adds to the person's constants (built when written);
        ``value`` is a valid change reason code."""
        if value in _ADDRESS_EVENTS:  # 記載 or 転居
            p.address_set = occurred
            p.address_notified = notified
        if is_last:
            address_set, address_notified = p.final_address_set, p.final_notified
        else:
            address_set, address_notified = p.address_set, p.address_notified
        if s[3] == "removed":
            removal_reason, removed_on = p.removal_reason, p.removed_on
            planned_on = removed_on if removal_reason in _MOVE_OUTS else None
        else:
            removal_reason, removed_on, planned_on = "", None, None
        keys_in = (s[6], s[4], s[5], p.const[2], s[8], s[10])
        if keys_in != p.keys_in:
            p.keys_in, p.keys = keys_in, self._search_keys(*keys_in)
        # DERIVED_FIELDS and ROW_FIELDS (concatenation: faster than unpacking into a tuple)
        p.rows.append(
            s  # noqa: RUF005
            + (
                p.alias_on if s[9] else None,
                address_set,
                address_notified,
                planned_on,
                removal_reason,
                removed_on,
                *p.keys,
                p.next_no - 1,
                value,
                occurred,
                notified,
                self._processed_at(processed),
            )
        )

    # ------------------------------------------------------------------ writing

    def _flush(self) -> None:
        ready, self.ready = self.ready, []
        if not ready:
            return
        checks = None
        if self.setup.db_max_resident:
            checks = [(p.atena, p.juminhyo, p.digest, p.line) for p in ready]
        self.sink.persons(checks, self._build(ready) if self.loading else None)

    def _build(self, ready: list[_Person]) -> _Batch:
        """The rows of complete persons: their 個人番号 rows (encrypted, with a reserved id),
        every history snapshot, and which of them are the latest (the current view is built
        from those where they are written: a slice, cheaper than sending it)."""
        encrypt = self.keyring.encrypt
        ids = self.number_ids
        setup = self.setup
        change_id, operator_id, now = setup.change_id, setup.operator_id, self.now_db
        history_row = _HISTORY_ROW
        numbers: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        latest: list[int] = []
        append = history.append
        for p in ready:
            if not p.rows:
                continue
            number_id = None
            if p.my_number:
                number_id = next(ids, None)
                if number_id is None:  # pragma: no cover - the reservation counts every line
                    raise RuntimeError("no reserved id left for an EncryptedMyNumber row")
                key_id, blob = encrypt(p.my_number)
                numbers.append((number_id, key_id, blob, p.digest, now))
            # + WRITE_FIELDS
            person = p.const + (number_id, change_id, operator_id, now, None)  # noqa: RUF005
            for part in p.rows:
                append(history_row(person + part))
            latest.append(len(history) - 1)
            p.rows = []
        return numbers, history, latest

    # ------------------------------------------------------------------ households, again

    def _check_households(self) -> None:
        """Cross-checks that need the whole of residents.csv: members, count, head."""
        f = HOUSEHOLDS
        members = self.hh_members
        for number, (line, active, count, head) in self.households.items():
            seen = members.get(number)
            if seen is None:
                self.problem(
                    f,
                    line,
                    "household_no",
                    "household.no_members",
                    f"世帯番号 {number} の世帯員が residents.csv に1人もいません。",
                )
                continue
            _total, current, heads, head_atena = seen
            if active and current == 0:
                self.problem(
                    f,
                    line,
                    "status",
                    "household.active_without_members",
                    f"世帯 {number} は active ですが、住民状態が resident の世帯員がいません。",
                )
            elif not active and current:
                self.problem(
                    f,
                    line,
                    "status",
                    "household.removed_with_members",
                    f"世帯 {number} は removed ですが、resident の世帯員が{current}人います。",
                )
            if count >= 0 and count != current:
                self.problem(
                    f,
                    line,
                    "member_count",
                    "household.member_count_mismatch",
                    f"世帯 {number} の世帯員数 {count} が residents.csv の現在の世帯員数"
                    f" {current} と一致しません。",
                )
            if heads > 1:
                self.problem(
                    f,
                    line,
                    "head_atena_no",
                    "household.two_heads",
                    f"世帯 {number} に世帯主が{heads}人います（std 1.1.10）。",
                )
            elif active and heads == 1 and head and head != head_atena:
                self.problem(
                    f,
                    line,
                    "head_atena_no",
                    "household.head_mismatch",
                    f"世帯主の宛名番号 {head} が residents.csv の世帯主（{head_atena}）と"
                    "一致しません。",
                )
            elif head and head != head_atena:  # no current head to compare with
                self._core_id(f, line, "head_atena_no", validate_atena_no, head)


# --------------------------------------------------------------------------- loading


def _load_here(
    setup: _Setup, report: ImportReport, progress: Callable[[ImportReport], None] | None
) -> tuple[int, int]:
    """The pass in this process (dry runs and small loads); the top 宛名番号 and 世帯番号."""
    run = _Run(setup, report, _Loader(setup, report, progress))
    run.run()
    return run.max_atena, run.max_household


class _Loader:
    """The writing side: checks of a batch against the rows already in the register (on
    this connection, in the transaction), then the batch to the writer thread, unless a
    problem was found. Fed by ``_Run`` in this process, or by ``_load_in_worker`` with the
    batches of the child process."""

    def __init__(
        self,
        setup: _Setup,
        report: ImportReport,
        progress: Callable[[ImportReport], None] | None,
    ) -> None:
        self.setup = setup
        self.report = report  # where the problems of the checks go
        self.progress = progress
        self.writer = _Writer()
        self.sql = _Statements.build()
        self.now = connection.ops.adapt_datetimefield_value(setup.now)
        self.stopped = False  # the problems are in report: _Run stops through its count

    def households(
        self, lines: list[tuple[str, int]] | None, rows: list[tuple[Any, ...]] | None
    ) -> None:
        if lines:
            self.writer.drain()  # the connection is the writer's while it works
            _household_clash(lines, self.setup.db_max_household, self.report)
        if rows and self.report.ok:
            self.writer.submit(_insert_rows, self.sql.households, rows)

    def persons(self, checks: list[_Check] | None, batch: _Batch | None) -> None:
        if checks:
            self.writer.drain()
            _check_register(checks, self.setup.db_max_resident, self.report)
        if self.progress is not None:
            self.progress(self.report)
        if batch is not None and self.report.ok:
            self.writer.submit(_write_persons, self.sql, batch, self.now)

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.stop()


def _household_clash(lines: list[tuple[str, int]], limit: int, report: ImportReport) -> None:
    """世帯番号 already in the register before this import."""
    line_of = dict(lines)
    clash = Household.objects.filter(pk__lte=limit, household_no__in=list(line_of))
    for number in clash.values_list("household_no", flat=True)[:20]:
        report.add(
            HOUSEHOLDS,
            line_of[number],
            "household_no",
            "household_no.exists",
            f"世帯番号 {number} は既に台帳にあります。",
        )


def _check_register(checks: list[_Check], limit: int, report: ImportReport) -> None:
    """Duplicates against the residents already in the register before this import."""
    old = Resident.objects.filter(pk__lte=limit)
    by_atena = {atena: line for atena, _code, _digest, line in checks}
    for atena in old.filter(atena_no__in=list(by_atena)).values_list("atena_no", flat=True):
        report.add(
            RESIDENTS,
            by_atena[atena],
            "atena_no",
            "atena_no.exists",
            f"宛名番号 {atena} は既に台帳にあります。",
        )
    codes = {code: line for _atena, code, _digest, line in checks if code}
    for code, atena in old.filter(juminhyo_code__in=list(codes)).values_list(
        "juminhyo_code", "atena_no"
    ):
        report.add(
            RESIDENTS,
            codes[code],
            "juminhyo_code",
            "juminhyo_code.exists",
            f"住民票コード {code} は既に台帳の宛名番号 {atena} に記載されています。",
        )
    hashes = {digest: line for _atena, _code, digest, line in checks if digest}
    for digest, atena in old.filter(my_number__lookup_hash__in=list(hashes)).values_list(
        "my_number__lookup_hash", "atena_no"
    ):
        report.add(
            RESIDENTS,
            hashes[digest],
            "my_number",
            "my_number.exists",
            f"この個人番号は既に台帳の宛名番号 {atena} に記載されています（番号は表示しません）。",
        )


# --------------------------------------------------------------------------- the child


class _Worker:
    """The child process and this process's end of the pipe to it."""

    def __init__(self, process: Any, conn: Any) -> None:
        self.process = process
        self.conn = conn
        self.done = False  # it sent its report: it ends by itself
        self.ended = False

    @classmethod
    def start(cls) -> _Worker:
        """Start the child: it sets Django up and loads the keys, then waits for ``go``."""
        from jumin.register import import_worker

        ring = load_keyring()  # creates the demo key file, if any, before the child reads it
        # (under override_settings the holder names no module: the environment does)
        module = settings.SETTINGS_MODULE or os.environ.get(ENVIRONMENT_VARIABLE, "")
        if not module:
            raise ImproperlyConfigured(
                "子プロセスで取り込むには DJANGO_SETTINGS_MODULE の設定が必要です。"
                " The import worker needs DJANGO_SETTINGS_MODULE."
            )
        config = {  # plain values: the child unpickles them before Django is set up
            "settings_module": module,
            "engine": str(connection.settings_dict["ENGINE"]),
            "db_time_zone": connection.settings_dict.get("TIME_ZONE"),
            "key_file": str(settings.KEY_FILE),
            "key_id": ring.active_id,
        }
        context = multiprocessing.get_context("spawn")
        here, there = context.Pipe(duplex=True)
        process = context.Process(
            target=import_worker.serve, args=(there, config), name=WORKER_NAME, daemon=True
        )
        process.start()
        there.close()  # so that a dead child reads as the end of the pipe
        return cls(process, here)

    def end(self) -> None:
        """Join the child: after ``done`` it ends by itself; otherwise (or if it does not)
        terminate it, then kill it. Idempotent."""
        if self.ended:
            return
        self.ended = True
        self.conn.close()
        process = self.process
        if self.done:
            process.join(WORKER_STOP_TIMEOUT)
        if process.is_alive():
            process.terminate()
            process.join(WORKER_STOP_TIMEOUT)
        if process.is_alive():  # pragma: no cover - a child that ignores SIGTERM
            process.kill()
            process.join()
        process.close()


def _load_in_worker(
    worker: _Worker,
    setup: _Setup,
    report: ImportReport,
    progress: Callable[[ImportReport], None] | None,
) -> tuple[int, int]:
    """The pass in the child process (``import_worker.serve``); this process writes.

    This process sends ``go`` (the setup); the child sends ``households``, ``persons``
    (with a snapshot of its counts), and at the end ``done`` (its report and the top
    numbers) or ``error``; this process answers ``stop`` when its own checks found a
    problem. Problems found here are added to the child's report. A child that dies, fails
    or falls silent raises ``_WorkerFailed``; the child is ended and joined before this
    returns.
    """
    mine = ImportReport(source=report.source, dry_run=False, max_problems=report.max_problems)
    loader = _Loader(setup, mine, None)
    conn = worker.conn
    stopped = False
    try:
        with contextlib.suppress(OSError):  # a dead child is found by _receive
            _send(conn, ("go", dataclasses.asdict(setup)))
        while True:
            message = _receive(conn, worker.process)
            kind = message[0]
            if kind == "households":
                loader.households(message[1], message[2])
            elif kind == "persons":
                loader.persons(message[1], message[2])
                _progress(report, message[3], mine)
                if progress is not None:
                    progress(report)
            elif kind == "done":
                child, top = message[1], (message[2], message[3])
                worker.done = True
                break
            elif kind == "error":
                logger.error("The import worker failed:\n%s", message[2])
                raise _WorkerFailed(
                    f"検査・変換を行う子プロセスでエラーが発生しました（{message[1]}）。"
                    "取込を取り消しました。"
                )
            else:  # pragma: no cover - the two sides are one module version
                raise RuntimeError(f"unexpected message from the import worker: {kind!r}")
            if not mine.ok and not stopped:
                with contextlib.suppress(OSError):
                    _send(conn, ("stop",))
                stopped = True
        loader.close()  # waits for the last batch; raises a database error
    except BaseException:
        loader.abort()
        raise
    finally:
        worker.end()
    _merge(report, child, mine)
    return top


def _send(conn: Any, message: tuple[Any, ...]) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=PICKLE_PROTOCOL))


def _receive(conn: Any, process: Any) -> tuple[Any, ...]:
    """The next message of the child; ``_WorkerFailed`` when it has ended or hangs."""
    ready = mp_connection.wait([conn, process.sentinel], timeout=WORKER_SILENCE_LIMIT)
    if conn in ready:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            pass  # the child is gone; its exit code says how
        else:
            with _gc_paused():  # a batch is some 100,000 tuples that are no garbage
                message: tuple[Any, ...] = pickle.loads(data)  # noqa: S301 - from our child
            return message
    if not ready:
        raise _WorkerFailed(
            f"検査・変換を行う子プロセスが {WORKER_SILENCE_LIMIT:.0f} 秒間応答しません。"
            "取込を取り消しました。"
        )
    process.join(WORKER_STOP_TIMEOUT)
    code = process.exitcode
    how = f"シグナル {-code}" if code is not None and code < 0 else f"終了コード {code}"
    raise _WorkerFailed(
        f"検査・変換を行う子プロセスが途中で終了しました（{how}）。取込を取り消しました。"
        "メモリ不足や強制終了がなかったか確認してください。"
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_COUNTS = ("households", "residents", "history_rows", "removed", "foreign", "my_numbers")


def _progress(report: ImportReport, counts: dict[str, int], mine: ImportReport) -> None:
    for name in _COUNTS:
        setattr(report, name, counts[name])
    report.problem_count = counts["problems"] + mine.problem_count


def _merge(report: ImportReport, child: ImportReport, mine: ImportReport) -> None:
    """The child's report, then the problems this process found."""
    for name in _COUNTS:
        setattr(report, name, getattr(child, name))
    report.problem_count = 0
    report.problems = []
    for part in (child, mine):
        for p in part.problems:
            report.add(p.file, p.line, p.column, p.code, p.message)
        report.problem_count += part.problem_count - len(part.problems)


# --------------------------------------------------------------------------- the writer


class _Writer:
    """Writes batches in a second thread while the main thread reads and validates (or
    receives the child's next batch).

    The thread uses the DB-API connection under Django's connection (the same transaction);
    sqlite3 and psycopg release the GIL while the database works, so parsing and inserting
    overlap. While the writer has work queued, the main thread does not touch the
    connection (``drain`` before any query of its own). An error in the writer is re-raised
    in the main thread, inside the transaction, so the whole import rolls back.
    """

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.queue: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.Queue(
            maxsize=3
        )
        self.thread: threading.Thread | None = None

    def submit(self, func: Callable[..., None], *args: Any) -> None:
        self._raise()
        if self.thread is None:
            connection.ensure_connection()
            raw = connection.connection
            self.thread = threading.Thread(
                target=self._run, args=(raw, connection.vendor), name="jumin-import-writer"
            )
            self.thread.start()
        self.queue.put((func, args))

    def drain(self) -> None:
        if self.thread is not None:
            self.queue.join()
        self._raise()

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        self._raise()

    def stop(self) -> None:
        """End the thread after the batch in hand, keeping (not raising) its error: the
        transaction is about to be rolled back for another reason."""
        if self.thread is not None:
            self.error = self.error or _Stopped()
            self.queue.put(None)
            self.thread.join()
            self.thread = None

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def _run(self, raw: Any, vendor: str) -> None:
        cursor = _RawCursor(raw.cursor(), vendor)
        try:
            while True:
                item = self.queue.get()
                try:
                    if item is None:
                        return
                    if self.error is None:
                        func, args = item
                        func(cursor, *args)
                except BaseException as exc:  # re-raised in the main thread
                    self.error = exc
                finally:
                    self.queue.task_done()
        finally:
            cursor.close()


class _Stopped(Exception):
    """Set as the writer's error by ``stop``: the batches still queued are skipped."""


class _RawCursor:
    """A DB-API cursor taking Django's ``%s`` placeholders on every backend."""

    def __init__(self, cursor: Any, vendor: str) -> None:
        self.cursor = cursor
        self.qmark = vendor == "sqlite"
        self.copy = vendor == "postgresql" and hasattr(cursor, "copy")

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.qmark else sql

    def insert(self, statement: _Insert, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.copy:
            with self.cursor.copy(statement.copy) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        else:
            self.cursor.executemany(self._sql(statement.insert), rows)

    def close(self) -> None:
        self.cursor.close()


def _insert_rows(cursor: _RawCursor, statement: _Insert, rows: Sequence[Sequence[Any]]) -> None:
    cursor.insert(statement, rows)


def _write_persons(cursor: _RawCursor, sql: _Statements, batch: _Batch, now: Any) -> None:
    """One batch of complete persons: their 個人番号 rows, history rows and current view."""
    numbers, history, latest = batch
    cursor.insert(sql.numbers, numbers)
    cursor.insert(sql.history, history)
    end = (now,)  # updated_at
    cursor.insert(sql.resident, [history[i][:_LATEST] + end for i in latest])


@dataclass(frozen=True)
class _Statements:
    """The SQL the writer runs, built in the main thread (Django's connection is per thread)."""

    households: _Insert
    numbers: _Insert
    history: _Insert
    resident: _Insert

    @classmethod
    def build(cls) -> _Statements:
        pk = str(EncryptedMyNumber._meta.pk.attname)
        return cls(
            households=_insert_sql(Household, ("household_no", "created_at")),
            numbers=_insert_sql(EncryptedMyNumber, (pk, *_NUMBER_FIELDS)),
            history=_insert_sql(ResidentHistory, (*RECORD_FIELDS, *HISTORY_EXTRA)),
            resident=_insert_sql(Resident, (*RECORD_FIELDS, *RESIDENT_EXTRA)),
        )


# --------------------------------------------------------------------------- 個人番号 ids


def _reserve_number_ids(residents: Path) -> tuple[tuple[int, int], ...]:
    """Ids for the EncryptedMyNumber rows of the load, as inclusive ranges: one per record
    residents.csv can hold at most, so every row of a batch is complete when it is built
    (no INSERT … RETURNING between the 個人番号 rows and the snapshots that point at them).

    PostgreSQL: values of the table's sequence (``nextval``, never handed out twice, even
    to concurrent sessions); SQLite: the ids after the largest one, which no one else can
    take while this transaction holds the database's write lock (taken at ``BEGIN
    IMMEDIATE``, or at the ``Change`` row written before this). Ids not used are gaps."""
    count = _max_records(residents)
    if count == 0:
        return ()
    meta = EncryptedMyNumber._meta
    table, column = meta.db_table, str(meta.pk.column)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # identifiers from the model; consecutive values grouped into ranges
            cursor.execute(
                "SELECT min(v), max(v) FROM (SELECT v, v - row_number() OVER (ORDER BY v) AS g"
                " FROM (SELECT nextval(pg_get_serial_sequence(%s, %s)) AS v"
                " FROM generate_series(1, %s)) AS s) AS t GROUP BY g ORDER BY 1",
                [table, column, count],
            )
            return tuple((int(a), int(b)) for a, b in cursor.fetchall())
        if connection.vendor != "sqlite":  # pragma: no cover - SQLite and PostgreSQL only
            raise NotImplementedError(connection.vendor)
        cursor.execute(f"SELECT max({quote(column)}) FROM {quote(table)}")  # noqa: S608
        top = int(cursor.fetchone()[0] or 0)
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
        )
        if cursor.fetchone():
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            top = max(top, int(row[0] or 0) if row else 0)
    return ((top + 1, top + count),)


def _max_records(path: Path) -> int:
    """An upper bound of the data records of a CSV file: its line ends (LF, CR LF or CR —
    a quoted field may hold more) after the header, plus a last line without one."""
    if not path.is_file():
        return 0
    breaks = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            # CR LF split between two chunks counts once
            crlf = chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            breaks += chunk.count(b"\n") + chunk.count(b"\r") - crlf
            last = chunk[-1:]
    lines = breaks + (last not in (b"", b"\n", b"\r"))  # an unterminated last line
    return max(0, lines - 1)  # the header


def _iter_ranges(ranges: Sequence[tuple[int, int]]) -> Iterator[int]:
    for first, last in ranges:
        yield from range(first, last + 1)


def _my_number_message(code: str) -> str:
    if code.endswith("check_digit"):
        return "個人番号のチェックデジット（検査数字）が一致しません（番号は表示しません）。"
    if code.endswith("length"):
        return "個人番号は12桁の数字です（番号は表示しません）。"
    return "個人番号は12桁の数字で指定してください（番号は表示しません）。"


def _max_pk(model: Any) -> int:
    value = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return int(value or 0)


def _advance(name: str, top: int) -> None:
    """Move a number sequence past ``top`` so new numbers never collide with imported ones."""
    seq = NumberSequence.objects.select_for_update().filter(name=name).first()
    if seq is None:
        NumberSequence.objects.create(name=name, last_value=top)
    elif seq.last_value < top:
        seq.last_value = top
        seq.save(update_fields=["last_value"])
