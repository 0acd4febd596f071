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
written by a second thread (``_Writer``) while the main thread reads the next batch; the
個人番号 rows with a multi-row INSERT … RETURNING (the snapshots need their ids).
Validation results are cached per distinct value (names, readings, 続柄 and 住所コード repeat
a lot). Measurements: docs/guide/data-migration.md.

One ``Change`` (procedure ``import``, change reason 職権記載) groups the batch; each history row
keeps its own ``change_reason`` from the CSV. No outbox messages are written: migrated
history describes past events that the national side already knows about.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
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
from jumin.register.crypto import KeyRing, load_keyring
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
_CACHE_LIMIT = 500_000
_TOKYO = ZoneInfo("Asia/Tokyo")

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

_ENTRY = ChangeKind.ENTRY
_REMOVAL = ChangeKind.REMOVAL
_MOVE_WITHIN = ChangeReason.MOVE_WITHIN.value
_MOVE_OUTS = frozenset({ChangeReason.DOMESTIC_MOVE_OUT.value, ChangeReason.MOVE_OUT_ABROAD.value})
_REASONS = {r.value: r for r in ChangeReason}
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
        if not self.ok:
            out.append(
                "問題があるため、何も取り込んでいません。ファイルを直してから再実行してください。"
            )
        elif self.dry_run:
            out.append(f"問題はありません（検査のみ。取り込んでいません{rate}）。")
        elif self.loaded:
            out.append(f"取り込みました（異動 #{self.change_id}{rate}）。")
        return out


class _Rollback(Exception):
    """Raised inside the transaction to undo a load that found problems."""


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
) -> ImportReport:
    """Validate the files in ``source`` and, unless ``dry_run``, load them (all or nothing).

    ``operator`` is the member of staff recorded as the 入力者 of every migrated history row;
    they must hold ``Perm.REGISTER_IMPORT``. Returns the report; ``report.ok`` tells whether
    the files were accepted and ``report.loaded`` whether they were written.
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
    directory = resolve_source(Path(source))
    report = ImportReport(source=str(directory), dry_run=dry_run, max_problems=max_problems)
    started = time.perf_counter()
    if dry_run:
        _Run(directory, report, operator, None, batch_size, progress).run()
    else:
        try:
            with _large_cache(), transaction.atomic():
                change = _start_change(operator, directory)
                run = _Run(directory, report, operator, change, batch_size, progress)
                run.run()
                if not report.ok:
                    raise _Rollback
                run.finish()
                report.loaded = True
                report.change_id = change.pk
        except _Rollback:
            report.loaded = False
            report.change_id = None
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
    report.seconds = time.perf_counter() - started
    _log(actor, report, operator)
    return report


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
    rows: list[tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]]
    status: str

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
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
_R = {name: i for i, name in enumerate(RECORD_FIELDS)}
_KEY_POS = tuple(_R[name] for name in SEARCH_KEY_FIELDS)
_MN_POS = _R["my_number_id"]
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

# A snapshot is assembled from three tuples: the person's constants (residents.csv), the
# state of one history row, and the items derived per row; _RECORD_ORDER puts them in
# RECORD_FIELDS order with one C-level call.
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
    "my_number_id",
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
_ASSEMBLED = (*CONST_FIELDS, *STATE_FIELDS, *DERIVED_FIELDS)
assert sorted(_ASSEMBLED) == sorted(RECORD_FIELDS), "the snapshot parts must cover every item"
_RECORD_ORDER = itemgetter(*(_ASSEMBLED.index(name) for name in RECORD_FIELDS))
_CONST_MN = CONST_FIELDS.index("my_number_id")
_KEY_INPUTS = (
    "name_kana",
    "family_name",
    "given_name",
    "name_alphabet",
    "former_family_name_kana",
    "alias_kana",
)
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


class _Run:
    """One pass over the files: validate every row and, when loading, write in batches."""

    def __init__(
        self,
        directory: Path,
        report: ImportReport,
        operator: Staff,
        change: Change | None,
        batch_size: int,
        progress: Callable[[ImportReport], None] | None,
    ) -> None:
        self.dir = directory
        self.report = report
        self.operator = operator
        self.change = change
        self.batch = batch_size
        self.progress = progress
        self.dictionary = load_dictionary()
        self.as_of = timezone.localdate()
        now = timezone.now()
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
        # what the database holds already (duplicates are checked against rows present
        # before the import, not against the rows this import writes)
        self.db_max_resident = 0
        self.db_max_household = 0
        self.keyring = load_keyring()
        self.lookup_hash = self.keyring.lookup_hash
        self.writer = _Writer()
        self.sql = _Statements.build()
        self.current_file = ""

    # ------------------------------------------------------------------ reporting

    def problem(self, file: str, line: int, column: str, code: str, message: str) -> None:
        self.report.add(file, line, column, code, message)

    @property
    def loading(self) -> bool:
        return self.change is not None and self.report.problem_count == 0

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
        self.db_max_resident = _max_pk(Resident)
        self.db_max_household = _max_pk(Household)
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
                    self.writer.close()
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

    def finish(self) -> None:
        """After a clean load: sequences, and the change's summary."""
        _advance("atena_no", self.max_atena)
        _advance("household_no", self.max_household)
        assert self.change is not None
        self.change.payload = {
            "source": self.dir.name,
            "counts": self.report.counts(),
            "note": "データ移行（住民データ取込）。各履歴の異動事由は履歴行に記録。",
        }
        self.change.save(update_fields=["payload"])

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
        if self.db_max_household:
            self.writer.drain()  # the connection is the writer's while it works
            clash = list(
                Household.objects.filter(
                    pk__lte=self.db_max_household, household_no__in=batch
                ).values_list("household_no", flat=True)[:20]
            )
            for number in clash:
                self.problem(
                    HOUSEHOLDS,
                    self.households[number][0],
                    "household_no",
                    "household_no.exists",
                    f"世帯番号 {number} は既に台帳にあります。",
                )
        if self.loading:
            now = self.now_db
            self.writer.submit(
                _insert_rows,
                _insert_sql(Household, ("household_no", "created_at")),
                [(number, now) for number in batch],
            )

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
        # the person's constant items, in CONST_FIELDS order (my_number_id set when written)
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
            None,  # my_number_id
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
            elif not reason.allowed_for(foreign=person.foreign):
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
                self._snapshot(person, snap, reason, occurred, notified, processed, is_last)
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

    def _snapshot(
        self,
        p: _Person,
        s: tuple[Any, ...],
        reason: ChangeReason,
        occurred: str | None,
        notified: str | None,
        processed: str | None,
        is_last: bool,
    ) -> None:
        """Keep what one history row adds to the person's constants (built when written)."""
        value = reason.value
        if reason.kind is _ENTRY or value == _MOVE_WITHIN:
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
            keys = self.c_keys.data.get(keys_in)
            if keys is None:
                computed = search_keys(dict(zip(_KEY_INPUTS, keys_in, strict=True)))
                keys = self.c_keys.put(keys_in, tuple(computed[k] for k in SEARCH_KEY_FIELDS))
            p.keys_in, p.keys = keys_in, keys
        derived = (
            p.alias_on if s[9] else None,
            address_set,
            address_notified,
            planned_on,
            removal_reason,
            removed_on,
            *p.keys,
        )
        extra = (
            p.next_no - 1,
            value,
            occurred,
            notified,
            self._processed_at(processed),
        )
        p.rows.append((s, derived, extra))

    # ------------------------------------------------------------------ writing

    def _flush(self) -> None:
        ready, self.ready = self.ready, []
        if ready and self.db_max_resident:
            self.writer.drain()
            self._check_register(ready)
        if self.progress is not None and ready:
            self.progress(self.report)
        if not self.loading or not ready:
            return
        assert self.change is not None
        self.writer.submit(
            _write_persons,
            self.sql,
            ready,
            self.keyring,
            self.change.pk,
            self.operator.pk,
            self.now_db,
        )

    def _check_register(self, ready: list[_Person]) -> None:
        """Duplicates against the residents already in the register before this import."""
        limit = self.db_max_resident
        by_atena = {p.atena: p for p in ready}
        old = Resident.objects.filter(pk__lte=limit)
        for atena in old.filter(atena_no__in=list(by_atena)).values_list("atena_no", flat=True):
            self.problem(
                RESIDENTS,
                by_atena[atena].line,
                "atena_no",
                "atena_no.exists",
                f"宛名番号 {atena} は既に台帳にあります。",
            )
        codes = {p.juminhyo: p for p in ready if p.juminhyo}
        for code, atena in old.filter(juminhyo_code__in=list(codes)).values_list(
            "juminhyo_code", "atena_no"
        ):
            self.problem(
                RESIDENTS,
                codes[code].line,
                "juminhyo_code",
                "juminhyo_code.exists",
                f"住民票コード {code} は既に台帳の宛名番号 {atena} に記載されています。",
            )
        hashes = {p.digest: p for p in ready if p.digest}
        for digest, atena in old.filter(my_number__lookup_hash__in=list(hashes)).values_list(
            "my_number__lookup_hash", "atena_no"
        ):
            self.problem(
                RESIDENTS,
                hashes[digest].line,
                "my_number",
                "my_number.exists",
                f"この個人番号は既に台帳の宛名番号 {atena} に記載されています"
                "（番号は表示しません）。",
            )

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


# --------------------------------------------------------------------------- the writer


class _Writer:
    """Writes batches in a second thread while the main thread reads and validates.

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

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        self.cursor.execute(self._sql(sql), params)
        return list(self.cursor.fetchall())

    def close(self) -> None:
        self.cursor.close()


def _insert_rows(cursor: _RawCursor, statement: _Insert, rows: Sequence[Sequence[Any]]) -> None:
    cursor.insert(statement, rows)


def _write_persons(
    cursor: _RawCursor,
    sql: _Statements,
    ready: list[_Person],
    ring: KeyRing,
    change_id: int,
    operator_id: int,
    now: Any,
) -> None:
    """One batch of complete persons: their 個人番号 rows, history rows and current view."""
    with_number = [p for p in ready if p.my_number and p.rows]
    ids: dict[str, int] = {}
    if with_number:
        encrypt = ring.encrypt
        rows = []
        for p in with_number:
            key_id, blob = encrypt(p.my_number)
            rows.append((key_id, blob, p.digest, now))
        by_digest = _insert_numbers(cursor, sql, rows)
        ids = {p.atena: by_digest[p.digest] for p in with_number}
    order = _RECORD_ORDER
    history: list[tuple[Any, ...]] = []
    current: list[tuple[Any, ...]] = []
    for p in ready:
        if not p.rows:
            continue
        const = p.const
        number_id = ids.get(p.atena)
        if number_id is not None:
            const = (*const[:_CONST_MN], number_id, *const[_CONST_MN + 1 :])
        record: tuple[Any, ...] = ()
        for s, derived, (history_no, reason, occurred, notified, processed) in p.rows:
            record = order(const + s + derived)
            history.append(
                (
                    *record,
                    history_no,
                    change_id,
                    reason,
                    occurred,
                    notified,
                    processed,
                    operator_id,
                    None,
                    None,
                )
            )
        current.append((*record, p.last_no, now))
        p.rows = []
    cursor.insert(sql.history, history)
    cursor.insert(sql.resident, current)


_RETURNING_CHUNK = 200  # rows per INSERT … RETURNING (4 parameters each)


@dataclass(frozen=True)
class _Statements:
    """The SQL the writer runs, built in the main thread (Django's connection is per thread)."""

    history: _Insert
    resident: _Insert
    numbers: str  # INSERT … VALUES (without the value lists)
    numbers_returning: str

    @classmethod
    def build(cls) -> _Statements:
        meta = EncryptedMyNumber._meta
        quote = connection.ops.quote_name
        by_attname = {f.attname: str(f.column) for f in meta.concrete_fields}
        columns = ", ".join(quote(by_attname[a]) for a in _NUMBER_FIELDS)
        return cls(
            history=_insert_sql(ResidentHistory, (*RECORD_FIELDS, *HISTORY_EXTRA)),
            resident=_insert_sql(Resident, (*RECORD_FIELDS, *RESIDENT_EXTRA)),
            numbers=f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ",  # noqa: S608
            numbers_returning=(
                f" RETURNING {quote(str(meta.pk.column))}, {quote(by_attname['lookup_hash'])}"
            ),
        )


def _insert_numbers(
    cursor: _RawCursor, sql: _Statements, rows: Sequence[tuple[Any, ...]]
) -> dict[str, int]:
    """Insert EncryptedMyNumber rows; ``lookup_hash -> id`` (hashes are unique in a batch,
    so the mapping does not depend on the order RETURNING gives the rows in)."""
    one = "(" + ", ".join(["%s"] * len(_NUMBER_FIELDS)) + ")"
    out: dict[str, int] = {}
    for start in range(0, len(rows), _RETURNING_CHUNK):
        chunk = rows[start : start + _RETURNING_CHUNK]
        statement = sql.numbers + ", ".join([one] * len(chunk)) + sql.numbers_returning
        for pk, digest in cursor.fetch(statement, [value for row in chunk for value in row]):
            out[digest] = pk
    if len(out) != len(rows):  # pragma: no cover - a database that drops rows
        raise RuntimeError("INSERT … RETURNING returned a different number of rows")
    return out


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
