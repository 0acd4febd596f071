"""Benchmark the register on SQLite and PostgreSQL: import, search, commit, verify.

    .venv/bin/python bench/bench_register.py                       # 1,000,000 residents
    .venv/bin/python bench/bench_register.py --residents 5000      # what CI runs
    .venv/bin/python bench/bench_register.py --db sqlite           # one database only

For each database a child process gets a fresh database (an SQLite file under a temporary
directory, or a throwaway PostgreSQL 15 cluster started with ``.ci/pg`` unless
``JUMIN_BENCH_POSTGRES_URL`` names one), migrates it, generates a synthetic city with
``jumin.synth`` and measures, each against a raw-SQL baseline from the same run:

1. import (``jumin import``) — against a raw bulk insert (``executemany`` on SQLite, COPY on
   PostgreSQL) of the very rows the import wrote — 個人番号, history snapshots, current view —
   into clones of those tables with the same indexes and foreign keys (no parsing, no
   validation, no encryption);
2. fuzzy kana + birth-date search (``search_residents``, with its operation log and search
   history) — p95 against the raw indexed SELECT on the same keys;
3. commit of a reviewed 4-person household move-in (history, current view, operation log and
   outbox rows) — p95 against raw INSERTs of the same number of rows in one transaction;
4. the clerk's screens — server time (request to response, in process) of the search results
   page and the person page, p95, against the raw SELECTs of the rows they show;
5. ``jumin register verify`` — time against a raw full scan of both tables.

Targets at 1,000,000 residents (the issues): import ≤ 300 s and ≥ 0.5 × baseline rate,
search p95 ≤ 20 ms, commit p95 ≤ 50 ms, verify ≤ 300 s; screens p95 ≤ 100 ms. Below full scale
they are printed for information. Exit status 1 only when a run fails, or at full scale when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _pg import create_database, postgres  # bench/_pg.py

ROOT = Path(__file__).resolve().parent.parent
FULL_SCALE = 1_000_000
SEARCHES = 500
COMMITS = 100
SCREENS = 300


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


# --------------------------------------------------------------------------- child side

RAW_TABLES = ("register_encryptedmynumber", "register_residenthistory", "register_resident")
RAW_CHUNK = 20_000


def _raw_bulk_insert(connection: Any, transaction: Any) -> float:
    """Seconds to bulk-insert, with raw SQL and no validation, the very rows the import
    wrote (個人番号, history snapshots, current view) into clones of their tables that have
    the same columns, indexes and foreign keys: ``executemany`` on SQLite, COPY on
    PostgreSQL — the database's own bulk path. Reading the rows back is not timed."""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for table in RAW_TABLES:
            clone = "bench_raw_" + table
            if pg:
                cursor.execute(f"CREATE TABLE {clone} (LIKE {table} INCLUDING ALL)")
                cursor.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    [table],
                )
                for (definition,) in cursor.fetchall():
                    cursor.execute(f"ALTER TABLE {clone} ADD {definition}")
            else:
                cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
                    "ORDER BY type DESC",  # the table before its indexes
                    [table],
                )
                for (sql,) in cursor.fetchall():
                    sql = sql.replace(f'"{table}"', f'"{clone}"')
                    sql = re.sub(r'INDEX "([^"]+)"', r'INDEX "bench_raw_\1"', sql)
                    cursor.execute(sql)
    seconds = 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        for table in RAW_TABLES:
            cursor.execute(f"SELECT * FROM {table} LIMIT 0")
            columns = ", ".join(d[0] for d in cursor.description)
            last = -1
            while True:
                cursor.execute(
                    f"SELECT * FROM {table} WHERE id > %s ORDER BY id LIMIT {RAW_CHUNK}", [last]
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                started = time.perf_counter()
                if pg:
                    with cursor.cursor.copy(
                        f"COPY bench_raw_{table} ({columns}) FROM STDIN"
                    ) as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(rows[0]))
                    cursor.executemany(
                        f"INSERT INTO bench_raw_{table} ({columns}) VALUES ({marks})", rows
                    )
                seconds += time.perf_counter() - started
        started = time.perf_counter()
    return seconds + (time.perf_counter() - started)  # the commit (deferred FK checks)


def _child(db_url: str, residents: int, workdir: Path) -> dict[str, float]:
    os.environ["JUMIN_DATABASE_URL"] = db_url
    os.environ["JUMIN_VAR_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "jumin.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from jumin.accounts import services as accounts
    from jumin.accounts.actor import Actor
    from jumin.register import search, services
    from jumin.register.importer import import_register
    from jumin.register.models import Resident, ResidentHistory
    from jumin.register.procedures import move_in
    from jumin.register.verify import verify_register
    from jumin.synth.generator import generate

    call_command("migrate", verbosity=0)
    system = Actor.system("batch", "bench")
    accounts.create_org_unit(system, code="bench", name="ベンチ課", kind="division")
    staff = {}
    for staff_id, role in (
        ("bench-admin", "administrator"),
        ("bench-clerk", "counter_clerk"),
        ("bench-review", "reviewer"),
    ):
        staff[staff_id] = accounts.create_staff(
            system,
            staff_id=staff_id,
            name="測定 太郎",
            name_kana="ソクテイ タロウ",
            org_unit_code="bench",
            role_codes=[role],
            password="bench-password-2026",  # noqa: S106
        )
    city = workdir / "city"
    generate(city, residents, 7)

    results: dict[str, float] = {}
    # 1. import, against a raw bulk insert of the rows it wrote into clones of its tables
    started = time.perf_counter()
    report = import_register(system, city, operator=staff["bench-admin"])
    results["import_s"] = time.perf_counter() - started
    if not report.loaded:
        raise SystemExit(f"import failed: {report}")
    results["history_rows"] = float(ResidentHistory.objects.count())
    results["import_raw_s"] = _raw_bulk_insert(connection, transaction)

    # 2. search: fuzzy kana + birth date, against the raw indexed SELECT
    sample = list(
        Resident.objects.exclude(name_kana="")
        .order_by("?")
        .values_list("name_kana", "birth_date", "kana_key")[:SEARCHES]
    )
    clerk = Actor.of(staff["bench-clerk"], None, "api")
    timings, raw = [], []
    for name_kana, birth, key in sample:
        criteria = search.SearchCriteria(name_kana=name_kana, birth_date=birth.isoformat())
        t = time.perf_counter()
        result = search.search_residents(clerk, criteria)
        timings.append(time.perf_counter() - t)
        assert result.rows, "the person searched for was not found"
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT atena_no, family_name, given_name, name_kana, birth_date, address "
                "FROM register_resident WHERE kana_key LIKE %s AND birth_date = %s LIMIT 101",
                [key + "%", birth],
            )
            cursor.fetchall()
        raw.append(time.perf_counter() - t)
    results["search_p95_s"] = _p95(timings)
    results["search_raw_p95_s"] = _p95(raw)
    results["search_median_s"] = statistics.median(timings)

    # 3. commit of a reviewed 4-person household move-in
    import datetime as dt

    today = dt.date.today()
    drafts = []
    for n in range(COMMITS):
        people = [
            {
                "family_name": "測定",
                "given_name": given,
                "name_kana": f"ソクテイ {kana}",
                "birth_date": birth,
                "sex": sex,
                "relationship": rel,
            }
            for given, kana, birth, sex, rel in (
                ("一郎", "イチロウ", f"{1970 + n % 20}-04-01", "1", "世帯主"),
                ("花子", "ハナコ", f"{1972 + n % 20}-06-01", "2", "妻"),
                ("太郎", "タロウ", f"{2005 + n % 10}-01-15", "1", "子"),
                ("桜", "サクラ", f"{2008 + n % 10}-03-03", "2", "子"),
            )
        ]
        data = move_in.MoveInInput.model_validate(
            {
                "kind": "domestic",
                "occurred_on": today - dt.timedelta(days=2),
                "notified_on": today,
                "address": {"address_code": "14152001000", "banchi": f"{n + 1}番地"},
                "previous_address": "東京都千代田区霞が関二丁目1番2号",
                "certificate": {"municipality_code": "131016"},
                "persons": people,
            }
        )
        drafts.append(
            move_in.submit(
                Actor.of(staff["bench-clerk"], None, "api"),
                data,
                acknowledged=["duplicate.person", "notification.late"],
            ).pk
        )
    reviewer = Actor.of(staff["bench-review"], None, "api")
    timings = []
    for change_id in drafts:
        t = time.perf_counter()
        services.commit_change(reviewer, change_id)
        timings.append(time.perf_counter() - t)
    results["commit_p95_s"] = _p95(timings)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_raw_commit (a TEXT, b TEXT, c TEXT, d TEXT)")
    raw = []
    for n in range(COMMITS):
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            # 4 history + 4 current + 1 log + 1 log target x4 + 4 + 4 outbox rows
            cursor.executemany(
                "INSERT INTO bench_raw_commit VALUES (%s, %s, %s, %s)",
                [(str(n), str(i), "x" * 200, "y" * 200) for i in range(21)],
            )
        raw.append(time.perf_counter() - t)
    results["commit_raw_p95_s"] = _p95(raw)

    # 4. the clerk's screens (issue 4): server time of the search results page and of the
    #    person page (request → response through middleware, views, reads, templates and the
    #    operation log), against the raw SELECTs of the rows they show
    from django.test import Client

    client = Client()
    client.force_login(staff["bench-clerk"])
    screen_search, screen_person, raw_person = [], [], []
    for name_kana, birth, _key in sample[:SCREENS]:
        t = time.perf_counter()
        response = client.get("/search/", {"name_kana": name_kana, "birth_date": birth.isoformat()})
        screen_search.append(time.perf_counter() - t)
        assert response.status_code == 200, response.status_code
    people = list(Resident.objects.order_by("?").values_list("atena_no", "household_no")[:SCREENS])
    for atena_no, _household in people:
        t = time.perf_counter()
        response = client.get(f"/residents/{atena_no}/")
        screen_person.append(time.perf_counter() - t)
        assert response.status_code == 200, response.status_code
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM register_resident WHERE atena_no = %s", [atena_no])
            cursor.fetchall()
            cursor.execute(
                "SELECT * FROM register_residenthistory WHERE atena_no = %s ORDER BY history_no",
                [atena_no],
            )
            cursor.fetchall()
        raw_person.append(time.perf_counter() - t)
    results["screen_search_p95_s"] = _p95(screen_search)
    results["screen_person_p95_s"] = _p95(screen_person)
    results["screen_person_raw_p95_s"] = _p95(raw_person)

    # 5. verify against a raw scan of both tables
    started = time.perf_counter()
    verify = verify_register()
    results["verify_s"] = time.perf_counter() - started
    if not verify.ok:
        raise SystemExit("register verify found differences after the benchmark")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table, order in (
            ("register_resident", "atena_no"),
            ("register_residenthistory", "atena_no, history_no"),
        ):
            cursor.execute(f"SELECT * FROM {table} ORDER BY {order}")
            while cursor.fetchmany(5000):
                pass
    results["verify_raw_s"] = time.perf_counter() - started
    results["residents"] = float(Resident.objects.count())
    return results


# -------------------------------------------------------------------------- parent side


def _report(db: str, r: dict[str, float], residents: int) -> list[str]:
    full = residents >= FULL_SCALE
    rate = r["history_rows"] / r["import_s"]
    raw_rate = r["history_rows"] / r["import_raw_s"]
    lines = [
        f"== {db}: {int(r['residents']):,} residents, {int(r['history_rows']):,} history rows",
        f"  import   {r['import_s']:8.1f} s  {rate:10,.0f} rows/s   raw {raw_rate:10,.0f} rows/s"
        f"   ratio {rate / raw_rate:5.2f} x (target ≥ 0.5 x, ≤ 300 s at 1,000,000)",
        f"  search   p95 {_ms(r['search_p95_s'])} (median {_ms(r['search_median_s'])})"
        f"   raw p95 {_ms(r['search_raw_p95_s'])}   ratio "
        f"{r['search_p95_s'] / r['search_raw_p95_s']:6.1f} x (target p95 ≤ 20 ms)",
        f"  commit   p95 {_ms(r['commit_p95_s'])}   raw p95 {_ms(r['commit_raw_p95_s'])}   ratio "
        f"{r['commit_p95_s'] / r['commit_raw_p95_s']:6.1f} x (target p95 ≤ 50 ms)",
        f"  screens  search p95 {_ms(r['screen_search_p95_s'])} (raw {_ms(r['search_raw_p95_s'])},"
        f" {r['screen_search_p95_s'] / r['search_raw_p95_s']:6.1f} x)   person p95"
        f" {_ms(r['screen_person_p95_s'])} (raw {_ms(r['screen_person_raw_p95_s'])},"
        f" {r['screen_person_p95_s'] / r['screen_person_raw_p95_s']:6.1f} x)"
        " (target p95 ≤ 100 ms)",
        f"  verify   {r['verify_s']:8.1f} s   raw scan {r['verify_raw_s']:6.1f} s   ratio "
        f"{r['verify_s'] / r['verify_raw_s']:5.2f} x (target ≤ 300 s at 1,000,000)",
    ]
    if full:
        misses = []
        if r["import_s"] > 300 or rate < 0.5 * raw_rate:
            misses.append("import")
        if r["search_p95_s"] > 0.020:
            misses.append("search")
        if r["commit_p95_s"] > 0.050:
            misses.append("commit")
        if r["verify_s"] > 300:
            misses.append("verify")
        if max(r["screen_search_p95_s"], r["screen_person_p95_s"]) > 0.100:
            misses.append("screens")
        lines.append("  targets: " + ("all met" if not misses else "MISSED " + ", ".join(misses)))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=FULL_SCALE)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.residents < 100:
        parser.error("--residents must be at least 100")
    if args.child:
        results = _child(args.child, args.residents, Path(args.workdir))
        print("RESULT " + json.dumps(results))
        return 0

    failed = False
    missed = False
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory(prefix=f"jumin-bench-{db}-") as tmp:
            pg_dir = None
            if db == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
            else:
                url, pg_dir = postgres("jumin_bench")
                create_database(url)
            try:
                proc = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--residents",
                        str(args.residents),
                        "--child",
                        url,
                        "--workdir",
                        tmp,
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
            finally:
                if pg_dir:
                    subprocess.run(["bash", str(ROOT / ".ci" / "pg"), "stop", pg_dir], check=False)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if proc.returncode != 0 or line is None:
                print(f"== {db}: FAILED\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
                failed = True
                continue
            lines = _report(db, json.loads(line[7:]), args.residents)
            missed = missed or any("MISSED" in x for x in lines)
            print("\n".join(lines), flush=True)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
