"""The auditors' reads of the operation log: search, detail, export and the analysis reports
of std 10.2 (j1370) 「ログの分析」. Every read is itself logged (照会 on the log; an export as
データ抽出) and checked against the catalogue's permissions (``access``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import CharField, Count, Func, Max, Q, QuerySet
from django.utils import timezone

from jumin.audit import access, holidays, retention
from jumin.audit.models import (
    Category,
    OperationLogEntry,
    OperationLogHead,
    OperationLogTarget,
    Outcome,
)
from jumin.audit.selectors import archive_state
from jumin.audit.services import record

SEARCH_FUNCTION = "操作ログの検索"
DETAIL_FUNCTION = "操作ログの詳細照会"
EXPORT_FUNCTION = "操作ログのCSV出力"
REPORT_FUNCTION = "操作ログの分析"

# The register's search (jumin.register.search.FUNCTION) and its criteria that name one person.
RESIDENT_SEARCH_FUNCTION = "住民検索"
NUMBER_CRITERIA = {
    "atena_no": "宛名番号",
    "my_number": "個人番号",
    "juminhyo_code": "住民票コード",
    "household_no": "世帯番号",
    "residence_card_no": "在留カード番号等",
}
CATEGORIES = Category.choices
CATEGORY_VALUES = frozenset(Category.values)
OUTCOMES = Outcome.choices
OUTCOME_VALUES = frozenset(Outcome.values)
REPORT_ROW_LIMIT = 1000  # on screen; the CSV has every row


@dataclass(frozen=True)
class LogFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    operator_code: str = ""
    terminal_name: str = ""
    category: str = ""
    outcome: str = ""
    function: str = ""
    atena_no: str = ""
    my_number_accessed: bool | None = None

    def as_log_detail(self) -> dict[str, Any]:
        """The filter as written to the log (only what was given)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value in (None, ""):
                continue
            out[key] = value.isoformat() if isinstance(value, dt.date) else value
        return out


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _period(
    qs: QuerySet[OperationLogEntry], date_from: dt.date | None, date_to: dt.date | None
) -> QuerySet[OperationLogEntry]:
    if date_from:
        qs = qs.filter(occurred_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(occurred_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    return qs


def filtered(f: LogFilter) -> QuerySet[OperationLogEntry]:
    qs = _period(OperationLogEntry.objects.all(), f.date_from, f.date_to)
    if f.operator_code:
        qs = qs.filter(operator_code=f.operator_code)
    if f.terminal_name:
        qs = qs.filter(terminal_name=f.terminal_name)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.function:
        qs = qs.filter(function__contains=f.function)
    if f.atena_no:
        qs = qs.filter(
            seq__in=OperationLogTarget.objects.filter(atena_no=f.atena_no).values("entry_id")
        )
    if f.my_number_accessed is not None:
        qs = qs.filter(my_number_accessed=f.my_number_accessed)
    return qs.order_by("-seq")


def _log_read(
    actor: access.Actor,
    function: str,
    screen: str,
    detail: dict[str, Any],
    category: Category = Category.INQUIRY,
) -> None:
    with transaction.atomic():
        record(actor, category=category, function=function, screen=screen, detail=detail)


@dataclass
class Page:
    items: list[OperationLogEntry]
    total: int
    offset: int
    limit: int


def search(actor: access.Actor, f: LogFilter, *, offset: int = 0, limit: int = 50) -> Page:
    """操作ログの検索 (AUDIT_LOG_READ), newest first."""
    access.require(actor, access.LOG_READ, SEARCH_FUNCTION)
    qs = filtered(f)
    items = list(qs[offset : offset + limit])
    if len(items) < limit and (items or offset == 0):
        total = offset + len(items)
    elif f == LogFilter():  # the whole log: seq has no gaps (verify_chain), so no COUNT(*)
        head = OperationLogHead.objects.filter(pk=1).values_list("last_seq", flat=True).first()
        total = (head or 0) - archive_state().archived_through
    else:
        total = qs.count()
    _log_read(
        actor,
        SEARCH_FUNCTION,
        "web:audit_search",
        {"filter": f.as_log_detail(), "offset": offset, "count": total},
    )
    return Page(items, total, offset, limit)


def entry(actor: access.Actor, seq: int) -> OperationLogEntry | None:
    access.require(actor, access.LOG_READ, DETAIL_FUNCTION)
    found = OperationLogEntry.objects.filter(seq=seq).first()
    _log_read(actor, DETAIL_FUNCTION, "web:audit_entry", {"seq": seq, "found": found is not None})
    return found


CSV_HEADER = [
    "連番",
    "日時",
    "操作者ID",
    "端末名",
    "処理場所",
    "区分",
    "機能名",
    "画面名",
    "対象者（宛名番号）",
    "個人番号アクセス",
    "結果",
    "詳細",
    "ハッシュ",
]


def export(actor: access.Actor, f: LogFilter) -> Iterator[list[str]]:
    """データ抽出（EUC）of the filtered log (AUDIT_LOG_READ and DATA_EXTRACT): logged first,
    with the filter, then streamed oldest first in chunks."""
    import json

    access.require(actor, access.LOG_READ, EXPORT_FUNCTION)
    access.require(actor, access.DATA_EXTRACT, EXPORT_FUNCTION)
    _log_read(
        actor,
        EXPORT_FUNCTION,
        "web:audit_export",
        {"filter": f.as_log_detail(), "format": "CSV (UTF-8 BOM)"},
        Category.DATA_EXTRACT,
    )
    categories = dict(Category.choices)
    outcomes = dict(Outcome.choices)

    def rows() -> Iterator[list[str]]:
        yield CSV_HEADER
        for e in filtered(f).order_by("occurred_at", "seq").iterator(chunk_size=2000):
            yield [
                str(e.seq),
                timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                e.operator_code,
                e.terminal_name,
                e.place,
                categories.get(e.category, e.category),
                e.function,
                e.screen,
                " ".join(e.targets),
                "有" if e.my_number_accessed else "無",
                outcomes.get(e.outcome, e.outcome),
                json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
                e.entry_hash,
            ]

    return rows()


# ------------------------------------------------------------------ analysis (std 10.2)


@dataclass
class Report:
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    total: int = 0
    note: str = ""

    @property
    def shown(self) -> list[list[str]]:
        return self.rows[:REPORT_ROW_LIMIT]


REPORTS = {
    "night": "深夜・休業日アクセス一覧",
    "login_failures": "ログイン失敗一覧",
    "logins": "ID別ログイン数一覧",
    "mass_searches": "大量検索実行一覧",
    "number_searches": "宛名番号等から該当者の検索実行一覧",
}


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _fmt(moment: dt.datetime) -> str:
    return _local(moment).strftime("%Y-%m-%d %H:%M:%S")


def report(
    actor: access.Actor,
    key: str,
    *,
    date_from: dt.date,
    date_to: dt.date,
    csv: bool = False,
) -> Report:
    """One analysis report (AUDIT_LOG_ANALYSE; the CSV also needs DATA_EXTRACT), logged."""
    if key not in REPORTS:
        raise KeyError(key)
    access.require(actor, access.LOG_ANALYSE, f"{REPORT_FUNCTION}（{REPORTS[key]}）")
    if csv:
        access.require(actor, access.DATA_EXTRACT, f"{REPORT_FUNCTION}（{REPORTS[key]}）")
    built = _BUILDERS[key](date_from, date_to)
    _log_read(
        actor,
        f"{REPORT_FUNCTION}（{REPORTS[key]}）",
        f"web:audit_report:{key}",
        {
            "report": key,
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "rows": built.total,
            **({"format": "CSV (UTF-8 BOM)"} if csv else {}),
        },
        Category.DATA_EXTRACT if csv else Category.INQUIRY,
    )
    return built


def _by_seq(rep: Report) -> None:
    """Rows in log order (the last column is the 連番), read without ORDER BY."""
    if rep.columns[-1] == "連番":
        rep.rows.sort(key=lambda row: int(row[-1]))
    rep.total = len(rep.rows)


def _night(date_from: dt.date, date_to: dt.date) -> Report:
    conf = retention.current_settings()
    rep = Report(
        "night",
        REPORTS["night"],
        ["日時", "区分", "理由", "操作者ID", "端末名", "機能名", "対象者", "個人番号", "連番"],
        note=(
            f"深夜 {conf.night_start:%H:%M}〜{conf.night_end:%H:%M}、土日・祝日・振替休日・"
            "年末年始（12/29〜1/3）の職員による操作（システム・バッチは除く）。"
        ),
    )
    fields = (
        "seq",
        "occurred_at",
        "category",
        "operator_code",
        "terminal_name",
        "function",
        "targets",
        "my_number_accessed",
    )
    categories = dict(Category.choices)
    spans = _off_hours(date_from, date_to, conf.night_start, conf.night_end)
    for first in range(0, len(spans), 100):  # bounded SQL (SQLite's expression depth)
        windows = Q()
        for start, end in spans[first : first + 100]:
            windows |= Q(occurred_at__gte=start, occurred_at__lt=end)
        # no ORDER BY: SQLite would walk the primary key instead of the time index
        qs = OperationLogEntry.objects.filter(windows, operator__isnull=False).order_by()
        for row in qs.values_list(*fields).iterator(chunk_size=5000):
            seq, at, category, operator, terminal, function, targets, my_number = row
            local = _local(at)
            reasons = []
            closed = holidays.closed_reason(local.date())
            if closed:
                reasons.append(f"休業日（{closed}）")
            if holidays.is_night(local.time(), conf.night_start, conf.night_end):
                reasons.append("深夜")
            rep.rows.append(
                [
                    _fmt(at),
                    categories.get(category, category),
                    "・".join(reasons),
                    operator,
                    terminal,
                    function,
                    " ".join(targets),
                    "有" if my_number else "",
                    str(seq),
                ]
            )
    _by_seq(rep)
    return rep


def _off_hours(
    date_from: dt.date, date_to: dt.date, night_start: dt.time, night_end: dt.time
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The moments of the period that are night or on a closed day, as merged [start, end)
    intervals (local time), so that the database reads only those rows."""
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    period_start, period_end = _day_start(date_from), _day_start(date_to + dt.timedelta(days=1))
    day = date_from - dt.timedelta(days=1)
    while day <= date_to:
        midnight = _day_start(day)
        if holidays.closed_reason(day):
            spans.append((midnight, _day_start(day + dt.timedelta(days=1))))
        if night_start <= night_end:
            spans.append((_at(day, night_start), _at(day, night_end)))
        else:
            spans.append((_at(day, night_start), _at(day + dt.timedelta(days=1), night_end)))
            spans.append((midnight, _at(day, night_end)))
        day += dt.timedelta(days=1)
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(spans):
        start, end = max(start, period_start), min(end, period_end)
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _at(day: dt.date, moment: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, moment))


def _auth(date_from: dt.date, date_to: dt.date) -> QuerySet[OperationLogEntry]:
    return _period(
        OperationLogEntry.objects.filter(category=Category.AUTHENTICATION), date_from, date_to
    )


def _login_id(operator_code: str, detail: Any) -> str:
    if isinstance(detail, dict) and detail.get("staff_id"):
        return str(detail["staff_id"])
    return operator_code


def _login_failures(date_from: dt.date, date_to: dt.date) -> Report:
    rep = Report(
        "login_failures",
        REPORTS["login_failures"],
        ["日時", "入力されたID", "端末名", "機能名", "結果", "理由", "連番"],
    )
    outcomes = dict(Outcome.choices)
    qs = _auth(date_from, date_to).exclude(outcome=Outcome.SUCCESS).order_by()
    for seq, at, code, terminal, function, outcome, detail in qs.values_list(
        "seq", "occurred_at", "operator_code", "terminal_name", "function", "outcome", "detail"
    ).iterator(chunk_size=5000):
        rep.rows.append(
            [
                _fmt(at),
                _login_id(code, detail),
                terminal,
                function,
                outcomes.get(outcome, outcome),
                str(detail.get("reason", "")) if isinstance(detail, dict) else "",
                str(seq),
            ]
        )
    _by_seq(rep)
    return rep


def _logins(date_from: dt.date, date_to: dt.date) -> Report:
    rep = Report(
        "logins",
        REPORTS["logins"],
        ["ID", "ログイン成功", "ログイン失敗", "最終ログイン", "使用した端末"],
    )
    counts: dict[str, dict[str, Any]] = {}
    qs = _auth(date_from, date_to).filter(function="ログイン").order_by()
    for at, code, terminal, outcome, detail in qs.values_list(
        "occurred_at", "operator_code", "terminal_name", "outcome", "detail"
    ).iterator(chunk_size=5000):
        who = _login_id(code, detail)
        row = counts.setdefault(who, {"ok": 0, "ng": 0, "last": None, "terminals": set()})
        if outcome == Outcome.SUCCESS:
            row["ok"] += 1
            row["last"] = at if row["last"] is None else max(row["last"], at)
        else:
            row["ng"] += 1
        if terminal:
            row["terminals"].add(terminal)
    for who in sorted(counts):
        row = counts[who]
        rep.rows.append(
            [
                who,
                str(row["ok"]),
                str(row["ng"]),
                _fmt(row["last"]) if row["last"] else "",
                " ".join(sorted(row["terminals"])),
            ]
        )
    _by_seq(rep)
    return rep


class _UtcHour(Func):
    """The UTC clock hour of a timestamp as text ``YYYY-MM-DD HH``: computed by the database
    on both backends (SQLite stores UTC text; no per-row Python function as ``TruncHour``
    needs there). For a whole-hour offset such as Japan's (UTC+9) it is the local hour too."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 13)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')",
            **extra,
        )


def _mass_searches(date_from: dt.date, date_to: dt.date) -> Report:
    threshold = retention.current_settings().mass_search_threshold
    rep = Report(
        "mass_searches",
        REPORTS["mass_searches"],
        ["時間帯（開始）", "操作者ID", "照会・検索の回数", "最後の連番"],
        note=f"1時間あたり {threshold} 回以上の照会・検索（しきい値は設定画面で変更できます）。",
    )
    qs = (
        _period(OperationLogEntry.objects.filter(category=Category.INQUIRY), date_from, date_to)
        .exclude(function__startswith="操作ログ")
        .annotate(hour=_UtcHour("occurred_at"))
        .values("operator_code", "hour")
        .annotate(n=Count("seq"), last=Max("seq"))
        .filter(n__gte=threshold)
        .order_by("hour", "operator_code")
    )
    for row in qs:
        hour = dt.datetime.strptime(row["hour"], "%Y-%m-%d %H").replace(tzinfo=dt.UTC)
        rep.rows.append(
            [
                _local(hour).strftime("%Y-%m-%d %H:00"),
                row["operator_code"],
                str(row["n"]),
                str(row["last"]),
            ]
        )
    _by_seq(rep)
    return rep


def _any_criterion(names: dict[str, str]) -> Q:
    """A coarse filter in the database (the criteria list's text mentions a name); the exact
    test is done on the rows it returns."""
    q = Q()
    for name in names:
        q |= Q(detail__criteria__icontains=name)
    return q


def _number_searches(date_from: dt.date, date_to: dt.date) -> Report:
    rep = Report(
        "number_searches",
        REPORTS["number_searches"],
        ["日時", "操作者ID", "端末名", "検索に使った番号", "該当者（宛名番号）", "連番"],
        note="宛名番号・個人番号・住民票コード・世帯番号・在留カード番号等を条件にした住民検索。",
    )
    qs = _period(
        OperationLogEntry.objects.filter(
            Q(category=Category.INQUIRY) & Q(function=RESIDENT_SEARCH_FUNCTION)
        ).filter(_any_criterion(NUMBER_CRITERIA)),
        date_from,
        date_to,
    ).order_by()
    for seq, at, code, terminal, targets, detail in qs.values_list(
        "seq", "occurred_at", "operator_code", "terminal_name", "targets", "detail"
    ).iterator(chunk_size=5000):
        criteria = detail.get("criteria", []) if isinstance(detail, dict) else []
        used = [NUMBER_CRITERIA[c] for c in criteria if c in NUMBER_CRITERIA]
        if used:
            rep.rows.append(
                [_fmt(at), code, terminal, "・".join(used), " ".join(targets), str(seq)]
            )
    _by_seq(rep)
    return rep


_BUILDERS = {
    "night": _night,
    "login_failures": _login_failures,
    "logins": _logins,
    "mass_searches": _mass_searches,
    "number_searches": _number_searches,
}
