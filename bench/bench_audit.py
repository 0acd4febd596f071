"""Benchmark the auditors' reads of the operation log: the search page query and each
analysis report of std 10.2 (j1370), against raw SQL measured in the same run.

    .venv/bin/python bench/bench_audit.py                        # 20,000 entries, SQLite
    .venv/bin/python bench/bench_audit.py --scale full           # 1,000,000 entries
    .venv/bin/python bench/bench_audit.py --db postgres          # a throwaway PostgreSQL

The script makes its own data: a fresh database (SQLite under a temporary directory, or a
throwaway cluster from ``.ci/pg`` / ``JUMIN_BENCH_POSTGRES_URL``), migrated, then a year of
log entries written with bulk INSERTs (a valid hash chain; office hours on working days and
3 % at any time; 100 operators on 50 terminals;
照会 with one person each, 住民検索 with their criteria, logins with some failures, changes,
prints, some at night and on holidays) and their per-person index rows.

Measured (median of ``--repeat`` runs, milliseconds), each with the ratio to a raw-SQL
baseline of the same rows (the SELECT the screen needs, no ORM, no Python post-processing):

1. the search page (``reports.search``: 50 newest rows + the count, plus its own log entry)
   unfiltered, by operator and month, by 宛名番号, by category and month;
2. each report over 30 days (``reports.report``): 深夜・休業日, ログイン失敗, ID別ログイン数,
   大量検索, 宛名番号等からの検索;
3. ``jumin audit verify`` (the whole chain, no baseline), once.

Timings are printed, never asserted; exit 1 only on failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
SCALES = {"small": 20_000, "full": 1_000_000}
BATCH = 5_000
OPERATORS = 100


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _generate(count: int, operators: list[tuple[int, str]], seed: int = 7) -> None:
    from django.db import connection, transaction

    from jumin.audit import triggers
    from jumin.audit.chain import GENESIS_HASH, entry_hash

    rng = random.Random(seed)
    tz = dt.timezone(dt.timedelta(hours=9))
    end = dt.datetime(2026, 11, 26, 18, tzinfo=tz)
    start = end - dt.timedelta(days=365)
    span = (end - start).total_seconds()
    terminals = [f"MADO-{n:02d}" for n in range(50)]
    from jumin.audit.holidays import closed_reason

    def moment() -> dt.datetime:
        """Office hours on working days, 3 % at any time (night, weekends, holidays)."""
        at = start + dt.timedelta(seconds=rng.random() * span)
        if rng.random() < 0.03:
            return at
        day = at.date()
        while closed_reason(day):
            day += dt.timedelta(days=1)
        return dt.datetime.combine(
            day, dt.time(8 + rng.randrange(9), rng.randrange(60), rng.randrange(60)), tz
        )

    times = sorted(moment() for _ in range(count))
    entry_cols = (
        "seq, occurred_at, operator_id, operator_code, terminal_name, place, category, "
        "function, screen, targets, my_number_accessed, outcome, detail, prev_hash, entry_hash"
    )
    import json

    from jumin.audit.models import OperationLogHead

    head = OperationLogHead.objects.get(pk=1)
    first, prev = head.last_seq + 1, head.last_hash or GENESIS_HASH
    entries: list[tuple[Any, ...]] = []
    targets: list[tuple[Any, ...]] = []
    triggers.uninstall(connection)
    marks = ", ".join(["%s"] * 15)

    def flush() -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO audit_operationlogentry ({entry_cols}) VALUES ({marks})", entries
            )
            if targets:
                cursor.executemany(
                    "INSERT INTO audit_operationlogtarget (entry_id, atena_no) VALUES (%s, %s)",
                    targets,
                )
        entries.clear()
        targets.clear()

    with transaction.atomic():
        for seq, at in enumerate(times, start=first):
            operator_pk, who = rng.choice(operators)
            roll = rng.random()
            person = f"{rng.randrange(1, 1_000_000) * 8 + 3:010d}"[-10:]
            tgt: list[str] = []
            detail: dict[str, Any] = {}
            outcome = "success"
            if roll < 0.55:
                category, function, tgt = "inquiry", "住民照会", [person]
            elif roll < 0.75:
                category, function, tgt = "inquiry", "住民検索", [person]
                detail = {"criteria": rng.choice([["name_kana"], ["atena_no"], ["my_number"]])}
            elif roll < 0.82:
                category, function = "authentication", "ログイン"
                outcome = "failed" if rng.random() < 0.1 else "success"
                detail = {"staff_id": who}
            elif roll < 0.92:
                category, function, tgt = "change_add", "異動の仮登録（転入）", [person]
            else:
                category, function, tgt = "document_issue", "証明書の交付", [person]
            fields = {
                "seq": seq,
                "occurred_at": at,
                "operator_code": who,
                "terminal_name": rng.choice(terminals),
                "place": "shimin",
                "category": category,
                "function": function,
                "screen": "",
                "targets": tgt,
                "my_number_accessed": detail.get("criteria") == ["my_number"],
                "outcome": outcome,
                "detail": detail,
                "prev_hash": prev,
            }
            digest = entry_hash(**fields)  # type: ignore[arg-type]
            entries.append(
                (
                    seq,
                    connection.ops.adapt_datetimefield_value(at),
                    operator_pk,
                    who,
                    fields["terminal_name"],
                    "shimin",
                    category,
                    function,
                    "",
                    json.dumps(tgt),
                    fields["my_number_accessed"],
                    outcome,
                    json.dumps(detail, ensure_ascii=False),
                    prev,
                    digest,
                )
            )
            targets.extend((seq, t) for t in tgt)
            prev = digest
            if len(entries) >= BATCH:
                flush()
        flush()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_operationloghead SET last_seq = %s, last_hash = %s WHERE id = 1",
                [first + count - 1, prev],
            )
    triggers.install(connection)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _child(db_url: str, count: int, repeat: int, workdir: Path) -> list[str]:
    os.environ["JUMIN_DATABASE_URL"] = db_url
    os.environ["JUMIN_VAR_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "jumin.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from jumin.accounts.actor import Actor
    from jumin.audit import reports
    from jumin.audit.models import OperationLogTarget

    call_command("migrate", verbosity=0)
    from django.test.utils import override_settings

    from jumin.accounts import services as accounts

    system = Actor.system("batch", "bench")
    accounts.create_org_unit(system, code="bench", name="ベンチ課", kind="division")
    operators = []
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        for n in range(OPERATORS):
            staff = accounts.create_staff(
                system,
                staff_id=f"s{n:05d}",
                name="測定 太郎",
                name_kana="ソクテイ タロウ",
                org_unit_code="bench",
                role_codes=["counter_clerk"],
                password="bench-password-2026",  # noqa: S106
            )
            operators.append((staff.pk, staff.staff_id))
    started = time.perf_counter()
    _generate(count, operators)
    lines = [f"generated {count:,} entries in {time.perf_counter() - started:.1f} s"]
    actor = Actor.system("batch", "bench")
    month_from, month_to = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
    atena = OperationLogTarget.objects.order_by("entry_id").values_list("atena_no", flat=True)[
        count // 3
    ]
    jst = dt.timezone(dt.timedelta(hours=9))
    since = connection.ops.adapt_datetimefield_value(dt.datetime(2026, 10, 1, tzinfo=jst))
    until = connection.ops.adapt_datetimefield_value(dt.datetime(2026, 11, 1, tzinfo=jst))

    def raw(sql: str, params: list[Any]) -> Callable[[], Any]:
        def run() -> Any:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        return run

    table = "audit_operationlogentry"
    cols = "seq, occurred_at, operator_code, terminal_name, category, function, targets, outcome"
    searches = {
        "search: unfiltered": (
            reports.LogFilter(),
            [
                (f"SELECT {cols} FROM {table} ORDER BY seq DESC LIMIT 50", []),
                (f"SELECT COUNT(*) FROM {table}", []),
            ],
        ),
        "search: operator + month": (
            reports.LogFilter(date_from=month_from, date_to=month_to, operator_code="s00042"),
            [
                (
                    f"SELECT {cols} FROM {table} WHERE operator_code = %s AND occurred_at >= %s"
                    " AND occurred_at < %s ORDER BY seq DESC LIMIT 50",
                    ["s00042", since, until],
                ),
                (
                    f"SELECT COUNT(*) FROM {table} WHERE operator_code = %s AND occurred_at >= %s"
                    " AND occurred_at < %s",
                    ["s00042", since, until],
                ),
            ],
        ),
        "search: 宛名番号": (
            reports.LogFilter(atena_no=atena),
            [
                (
                    f"SELECT {cols} FROM {table} WHERE seq IN (SELECT entry_id FROM"
                    " audit_operationlogtarget WHERE atena_no = %s) ORDER BY seq DESC LIMIT 50",
                    [atena],
                ),
            ],
        ),
        "search: category + month": (
            reports.LogFilter(date_from=month_from, date_to=month_to, category="document_issue"),
            [
                (
                    f"SELECT {cols} FROM {table} WHERE category = %s AND occurred_at >= %s"
                    " AND occurred_at < %s ORDER BY seq DESC LIMIT 50",
                    ["document_issue", since, until],
                ),
                (
                    f"SELECT COUNT(*) FROM {table} WHERE category = %s AND occurred_at >= %s"
                    " AND occurred_at < %s",
                    ["document_issue", since, until],
                ),
            ],
        ),
    }
    lines.append(f"{'measurement':34} {'ms':>9} {'raw ms':>9} {'ratio':>7}")
    from jumin.audit.services import record

    own = _median_ms(
        lambda: record(actor, category="inquiry", function="操作ログの検索", detail={}), repeat
    )
    lines.append(f"{'(each read logs itself: one append)':34} {own:9.1f}")
    for name, (f, sqls) in searches.items():

        def ours_search(f: Any = f) -> None:
            reports.search(actor, f)

        def raw_search(sqls: Any = sqls) -> None:
            for sql, params in sqls:
                raw(sql, params)()

        ours = _median_ms(ours_search, repeat)
        base = _median_ms(raw_search, repeat)
        lines.append(f"{name:34} {ours:9.1f} {base:9.1f} {ours / max(base, 0.001):7.1f}")
    from jumin.audit.reports import _off_hours

    night_spans = _off_hours(month_from, month_to, dt.time(22), dt.time(7))
    report_sql = {
        "night": (
            f"SELECT seq, occurred_at, category, operator_code, terminal_name, function, targets"
            f" FROM {table} WHERE operator_id IS NOT NULL AND ("
            + " OR ".join(["(occurred_at >= %s AND occurred_at < %s)"] * len(night_spans))
            + ")",
            [connection.ops.adapt_datetimefield_value(x) for span in night_spans for x in span],
        ),
        "login_failures": (
            f"SELECT seq, occurred_at, operator_code, detail FROM {table} WHERE category ="
            " 'authentication' AND occurred_at >= %s AND occurred_at < %s AND outcome <> 'success'",
            [since, until],
        ),
        "logins": (
            f"SELECT operator_code, outcome, COUNT(*) FROM {table} WHERE category ="
            " 'authentication' AND occurred_at >= %s AND occurred_at < %s GROUP BY 1, 2",
            [since, until],
        ),
        "mass_searches": (
            f"SELECT operator_code, COUNT(*) FROM {table} WHERE category = 'inquiry' AND"
            " occurred_at >= %s AND occurred_at < %s GROUP BY operator_code,"
            " substr(CAST(occurred_at AS TEXT), 1, 13) HAVING COUNT(*) >= 100",
            [since, until],
        ),
        "number_searches": (
            f"SELECT seq, occurred_at, operator_code, detail FROM {table} WHERE category ="
            " 'inquiry' AND function = '住民検索' AND occurred_at >= %s AND occurred_at < %s",
            [since, until],
        ),
    }
    for key, (sql, params) in report_sql.items():
        rows: list[int] = []

        def ours_fn(key: str = key, rows: list[int] = rows) -> None:
            rows.append(reports.report(actor, key, date_from=month_from, date_to=month_to).total)

        ours = _median_ms(ours_fn, repeat)
        base = _median_ms(raw(sql, params), repeat)
        label = f"report: {key} ({rows[-1]:,} rows)"
        lines.append(f"{label:34} {ours:9.1f} {base:9.1f} {ours / max(base, 0.001):7.1f}")
    from jumin.audit import events

    started = time.perf_counter()
    result = events.verify()
    seconds = time.perf_counter() - started
    lines.append(
        f"verify (chain of {result.chain.checked:,} entries): {seconds:.1f} s,"
        f" {'OK' if result.ok else 'PROBLEMS'}"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--entries", type=int, default=None, help="overrides --scale")
    parser.add_argument(
        "--residents",
        type=int,
        default=None,
        help="as .ci/bench calls every script: one log entry per resident (overrides --scale)",
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    count = args.entries or args.residents or SCALES[args.scale]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _pg import create_database, postgres

    with tempfile.TemporaryDirectory(prefix="jumin-bench-audit-") as tmp:
        pg_dir = None
        if args.db == "sqlite":
            url = f"sqlite:///{tmp}/bench.sqlite3"
        else:
            url, pg_dir = postgres("jumin_bench_audit")
            create_database(url)
        try:
            lines = _child(url, count, args.repeat, Path(tmp))
        except Exception as exc:  # print and fail
            print(f"== {args.db}: FAILED {type(exc).__name__}: {exc}")
            raise
        finally:
            if pg_dir:
                import subprocess

                subprocess.run(["bash", str(ROOT / ".ci" / "pg"), "stop", pg_dir], check=False)
    print(f"== operation log, {args.db}, {count:,} entries (median of {args.repeat})")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
