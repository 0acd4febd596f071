"""住民記録の整合性検査 (task ③, keep the register accurate): the current view against history.

``Resident`` is by design each person's latest ``ResidentHistory`` row (std 1.2.1, j200;
DESIGN invariant 2). ``verify_register`` rebuilds the current view from history — the row
with the highest 履歴番号 per 宛名番号 — and compares it, item by item (every snapshot item
and every search key, plus the 履歴番号), with the ``Resident`` rows. It reports:

- a differing item (宛名番号, item, value in the current view, value in history);
- a person with history but no ``Resident`` row (missing), and a ``Resident`` row without
  history (extra);
- a gap in a person's 履歴番号 (they run 1, 2, 3 … without gaps).

The 個人番号 is compared by the id of its encrypted row (``my_number_id``); nothing is
decrypted and no number is ever printed.

Speed: both tables are streamed ordered by 宛名番号 (server-side cursors on PostgreSQL,
``fetchmany`` in chunks) and compared in one merge, as raw database values (no model
instances, no conversions): a million residents take a few minutes at most. On PostgreSQL
both reads run in one REPEATABLE READ transaction, so they see the same snapshot; on SQLite
each read sees its own snapshot — run the check when no change is being committed, or
re-run it to confirm a difference.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from jumin.accounts.actor import Actor
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.register.models import Resident, ResidentHistory, ResidentRecord

__all__ = ["FUNCTION", "Difference", "VerifyReport", "verify_register"]

FUNCTION = "住民記録の整合性検査"
DEFAULT_LIMIT = 100
DEFAULT_CHUNK = 5000

# Every item of a resident record (snapshot items and search keys), by column.
_FIELDS = [f for f in ResidentRecord._meta.get_fields() if f.name != "atena_no"]
COMPARED: tuple[str, ...] = tuple(f.attname for f in _FIELDS)  # type: ignore[union-attr]
LABELS: dict[str, str] = {
    f.attname: str(f.verbose_name) if f.verbose_name != f.name.replace("_", " ") else ""  # type: ignore[union-attr]
    for f in _FIELDS
}
LABELS["my_number_id"] = "個人番号（暗号化行のID）"
LABELS["history_no"] = "履歴番号"
_JSON = {f.attname for f in _FIELDS if f.get_internal_type() == "JSONField"}  # type: ignore[union-attr]


@dataclass(frozen=True)
class Difference:
    """One finding. ``kind``: ``field``, ``missing``, ``extra`` or ``gap``."""

    kind: str
    atena_no: str
    field: str = ""
    current: str = ""
    history: str = ""

    def format(self) -> str:
        if self.kind == "missing":
            return (
                f"宛名番号 {self.atena_no}: 住民票（現在の記録）がありません"
                f"（異動履歴は履歴番号 {self.history} まであります）。"
            )
        if self.kind == "extra":
            return (
                f"宛名番号 {self.atena_no}: 異動履歴がないのに住民票（現在の記録）があります"
                f"（履歴番号 {self.current}）。"
            )
        if self.kind == "gap":
            return (
                f"宛名番号 {self.atena_no}: 履歴番号が連続していません"
                f"（{self.history} の次が {self.current}）。"
            )
        label = LABELS.get(self.field, "")
        name = f"{self.field}（{label}）" if label else self.field
        return (
            f"宛名番号 {self.atena_no} {name}: 住民票「{self.current}」、"
            f"最新の異動履歴「{self.history}」"
        )


@dataclass
class VerifyReport:
    """Counts and the first ``limit`` differences (``difference_count`` counts them all)."""

    limit: int = DEFAULT_LIMIT
    residents: int = 0
    history_rows: int = 0
    persons: int = 0
    difference_count: int = 0
    missing: int = 0
    extra: int = 0
    gaps: int = 0
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.difference_count == 0

    def add(self, difference: Difference) -> None:
        self.difference_count += 1
        if difference.kind == "missing":
            self.missing += 1
        elif difference.kind == "extra":
            self.extra += 1
        elif difference.kind == "gap":
            self.gaps += 1
        if len(self.differences) < self.limit:
            self.differences.append(difference)

    def counts(self) -> dict[str, int]:
        return {
            "residents": self.residents,
            "history_rows": self.history_rows,
            "persons": self.persons,
            "differences": self.difference_count,
            "missing": self.missing,
            "extra": self.extra,
            "gaps": self.gaps,
        }

    def lines(self) -> list[str]:
        """The report in Japanese."""
        out = [
            "住民記録の整合性検査（異動履歴の最新の行と住民票を全項目比較）",
            f"  住民票（現在の記録） {self.residents:>12,} 件",
            f"  異動履歴             {self.history_rows:>12,} 件（{self.persons:,} 人）",
            f"  不一致               {self.difference_count:>12,} 件"
            f"（住民票なし {self.missing:,}、履歴なし {self.extra:,}、"
            f"履歴番号の欠番 {self.gaps:,}）",
        ]
        if self.differences:
            shown = len(self.differences)
            more = f"（最初の {shown:,} 件を表示）" if shown < self.difference_count else ""
            out.append(f"不一致の一覧{more}:")
            out.extend(f"  - {d.format()}" for d in self.differences)
        if self.ok:
            out.append(f"住民票と異動履歴は一致しています（所要時間 {self.seconds:.1f} 秒）。")
        else:
            out.append(
                "住民票と異動履歴が一致しません。変更の途中でなかったか確認し、再実行しても"
                "同じであれば、システム管理者に連絡してください。"
            )
        return out


def verify_register(
    actor: Actor | None = None, *, limit: int = DEFAULT_LIMIT, chunk_size: int = DEFAULT_CHUNK
) -> VerifyReport:
    """Compare every ``Resident`` row with its person's latest history row.

    With ``actor``, the check is recorded in the operation log (counts only).
    """
    if limit < 0 or chunk_size < 1:
        raise ValueError("limit must be >= 0 and chunk_size >= 1")
    report = VerifyReport(limit=limit)
    started = time.perf_counter()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:  # one snapshot for both reads
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            _compare(report, chunk_size)
    else:
        # SQLite: no transaction (Django would take the write lock; WAL readers do not
        # block the clerks). Inside a caller's transaction: that transaction's view.
        _compare(report, chunk_size)
    report.seconds = time.perf_counter() - started
    if actor is not None:
        audit.record(
            actor,
            category=Category.EVENT,
            function=FUNCTION,
            outcome=Outcome.SUCCESS if report.ok else Outcome.FAILED,
            detail={**report.counts(), "seconds": round(report.seconds, 1)},
        )
    return report


def _select(model: Any, order: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("atena_no", "history_no", *COMPARED))
    # identifiers come from the models; there are no parameters
    return f"SELECT {columns} FROM {quote(model._meta.db_table)} ORDER BY {order}"  # noqa: S608


def _rows(sql: str, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql)
        while True:
            chunk = cursor.fetchmany(chunk_size)
            if not chunk:
                return
            yield from chunk
    finally:
        cursor.close()


def _latest(report: VerifyReport, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """The latest history row of each person, in 宛名番号 order; gaps are reported."""
    quote = connection.ops.quote_name
    rows = _rows(
        _select(ResidentHistory, f"{quote('atena_no')}, {quote('history_no')}"), chunk_size
    )
    last: tuple[Any, ...] | None = None
    for row in rows:
        report.history_rows += 1
        if last is not None and row[0] == last[0]:
            if row[1] != last[1] + 1:
                report.add(Difference("gap", row[0], current=str(row[1]), history=str(last[1])))
        else:
            if last is not None:
                yield last
            report.persons += 1
            if row[1] != 1:
                report.add(Difference("gap", row[0], current=str(row[1]), history="0"))
        last = row
    if last is not None:
        yield last


def _compare(report: VerifyReport, chunk_size: int) -> None:
    quote = connection.ops.quote_name
    current = _rows(_select(Resident, quote("atena_no")), chunk_size)
    resident = next(current, None)
    for latest in _latest(report, chunk_size):
        atena = latest[0]
        while resident is not None and resident[0] < atena:
            _extra(report, resident)
            resident = next(current, None)
        if resident is not None and resident[0] == atena:
            report.residents += 1
            if resident != latest:
                _fields(report, resident, latest)
            resident = next(current, None)
        else:
            report.add(Difference("missing", atena, history=str(latest[1])))
    while resident is not None:
        _extra(report, resident)
        resident = next(current, None)


def _extra(report: VerifyReport, resident: tuple[Any, ...]) -> None:
    report.residents += 1
    report.add(Difference("extra", resident[0], current=str(resident[1])))


def _fields(report: VerifyReport, resident: tuple[Any, ...], latest: tuple[Any, ...]) -> None:
    names = ("history_no", *COMPARED)
    for name, a, b in zip(names, resident[1:], latest[1:], strict=True):
        if a == b or (name in _JSON and _json(a) == _json(b)):
            continue
        report.add(Difference("field", resident[0], name, _show(a), _show(b)))


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _show(value: Any) -> str:
    if value is None:
        return "（なし）"
    if value == "":
        return "（空欄）"
    if isinstance(value, bytes | memoryview):
        return "（バイナリ）"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"
