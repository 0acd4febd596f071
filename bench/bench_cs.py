"""Benchmark the CS on SQLite and PostgreSQL: reconciliation and outbox delivery.

    .venv/bin/python bench/bench_cs.py                                  # 1,000,000 residents
    .venv/bin/python bench/bench_cs.py --residents 5000 --messages 1000 # what CI runs
    .venv/bin/python bench/bench_cs.py --db sqlite --concurrency 4

For each database a child process gets a fresh database (an SQLite file, or a throwaway
PostgreSQL 15 cluster started with ``.ci/pg`` unless ``JUMIN_BENCH_POSTGRES_URL`` names one),
migrates it and measures, each against a baseline from the same run:

1. ``jumin cs reconcile``'s comparison of the register with the CS identity file
   (``reconcile.compare``: both tables streamed in 宛名番号 order, a digest of the identity
   items compared) for N residents with a 住民票コード and their CS rows — 0.1 % planted
   missing and 0.1 % planted different — against (a) the raw SQL join of the two tables on
   宛名番号 comparing the 履歴番号 (what the database alone does; it cannot compare the
   items' digest) and (b) a raw cursor reading the same columns of both tables in order;
2. outbox delivery to the real netsim (``jumin netsim serve`` in a subprocess on loopback,
   its own SQLite file) — M ``identity_info`` messages, each built from its history row with
   an encrypted 個人番号, signed, sent, the reply verified, the outbox, the log and the CS file
   updated — against a raw HTTP POST loop of pre-signed envelopes of the same kind to the
   same netsim with the same number of connections (no database, no building, no checks):
   one per request, and (unless ``--no-batches``) in ``POST /v1/messages:batch`` requests of
   the size the worker sends (a claimed batch / concurrency).

Targets (the issue): reconcile 1,000,000 ≤ 60 s; delivery ≥ 500 msg/s. Below full scale
they are printed for information. Exit status 1 only when a run fails, or at full scale when
a target is missed. The data are generated directly into the tables (the register's own
import is measured by bench_register.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _pg import create_database, postgres  # bench/_pg.py

ROOT = Path(__file__).resolve().parent.parent
FULL_SCALE = 1_000_000
RECONCILE_TARGET_S = 60.0
DELIVERY_TARGET = 500.0
CHUNK = 10_000
FAMILY = ["相模", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林"]
GIVEN = ["太郎", "花子", "一郎", "桜", "健", "陽菜", "蓮", "結衣", "大翔", "葵"]
KANA_F = ["サガミ", "サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト"]
KANA_G = ["タロウ", "ハナコ", "イチロウ", "サクラ", "ケン", "ヒナ", "レン", "ユイ"]


# --------------------------------------------------------------------------- child side


def _generate(residents: int, rng: random.Random) -> dict[str, float]:
    """Residents (each with a 住民票コード) and their CS rows; 0.1 % planted differences."""
    from django.db import transaction
    from django.utils import timezone

    from jumin.core.identifiers import generate_juminhyo_code, make_atena_no, make_household_no
    from jumin.jukinet.builders import IDENTITY_COLUMNS, birth_text, full_address, identity_hash
    from jumin.jukinet.models import IdentityRecord
    from jumin.register.models import Resident

    started = time.perf_counter()
    codes: set[str] = set()
    now = timezone.now()
    planted = {"missing_in_cs": 0, "differs": 0}
    for first in range(1, residents + 1, CHUNK):
        people: list[Resident] = []
        cs_rows: list[IdentityRecord] = []
        for i in range(first, min(first + CHUNK, residents + 1)):
            code = generate_juminhyo_code(rng)
            while code in codes:
                code = generate_juminhyo_code(rng)
            codes.add(code)
            r = Resident(
                atena_no=make_atena_no(i),
                household_no=make_household_no(i),
                resident_type="japanese",
                status="resident",
                relationship="世帯主",
                family_name=rng.choice(FAMILY),
                given_name=rng.choice(GIVEN),
                name_kana=f"{rng.choice(KANA_F)} {rng.choice(KANA_G)}",
                birth_date=dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000)),
                sex=rng.choice("12"),
                address_code="14152001000",
                postal_code="2520239",
                address=f"相模原市中央区中央{rng.randrange(1, 7)}丁目{rng.randrange(1, 30)}番",
                katagaki=f"{rng.randrange(1, 20)}0{rng.randrange(1, 9)}号" if i % 5 == 0 else "",
                juminhyo_code=code,
                history_no=1,
            )
            people.append(r)
            if i % 1000 == 0:
                planted["missing_in_cs"] += 1
                continue
            digest = identity_hash([getattr(r, c) for c in IDENTITY_COLUMNS])
            if i % 1000 == 1:
                digest = "0" * 32
                planted["differs"] += 1
            cs_rows.append(
                IdentityRecord(
                    atena_no=r.atena_no,
                    juminhyo_code=code,
                    family_name=r.family_name,
                    given_name=r.given_name,
                    name_kana=r.name_kana,
                    birth_date=birth_text(r.birth_date, ""),
                    sex=r.sex,
                    address=full_address(r.address, r.katagaki),
                    municipality_code="141500",
                    status="resident",
                    change_reason="domestic_move_in",
                    occurred_on=dt.date(2020, 4, 1),
                    sequence=1,
                    items_hash=digest,
                    national_status="applied",
                    delivered_at=now,
                    envelope_id=str(uuid.uuid4()),
                )
            )
        with transaction.atomic():
            Resident.objects.bulk_create(people, batch_size=2000)
            IdentityRecord.objects.bulk_create(cs_rows, batch_size=2000)
    return {
        "generate_s": time.perf_counter() - started,
        **{f"planted_{k}": v for k, v in planted.items()},
    }


def _raw_join(connection: Any) -> float:
    """The database alone: join the two tables on 宛名番号, count missing or behind rows."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM register_resident r LEFT JOIN jukinet_identityrecord c "
            "ON c.atena_no = r.atena_no WHERE r.juminhyo_code <> '' "
            "AND (c.id IS NULL OR c.sequence < r.history_no)"
        )
        cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*) FROM jukinet_identityrecord c LEFT JOIN register_resident r "
            "ON r.atena_no = c.atena_no AND r.juminhyo_code <> '' WHERE r.id IS NULL"
        )
        cursor.fetchone()
    return time.perf_counter() - started


def _raw_scan(connection: Any) -> float:
    """A raw cursor reading the columns the comparison reads, both tables in order."""
    from jumin.jukinet.builders import IDENTITY_COLUMNS

    columns = ", ".join(["atena_no", "history_no", *IDENTITY_COLUMNS])
    started = time.perf_counter()
    for sql in (
        f"SELECT {columns} FROM register_resident WHERE juminhyo_code <> '' ORDER BY atena_no",
        "SELECT atena_no, sequence, items_hash, juminhyo_code FROM jukinet_identityrecord "
        "ORDER BY atena_no",
    ):
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql)
            while cursor.fetchmany(CHUNK):
                pass
    return time.perf_counter() - started


def _delivery_data(messages: int, rng: random.Random) -> list[str]:
    """History rows, encrypted 個人番号 and one pending ``identity_info`` per person."""
    from django.db import transaction
    from django.utils import timezone

    from jumin.accounts import services as accounts
    from jumin.accounts.actor import Actor
    from jumin.core.identifiers import generate_my_number
    from jumin.outbox.models import OutboxMessage
    from jumin.register.crypto import load_keyring
    from jumin.register.models import Change, EncryptedMyNumber, Resident, ResidentHistory
    from jumin.register.records import SNAPSHOT_FIELDS

    system = Actor.system("batch", "bench")
    accounts.create_org_unit(system, code="bench", name="ベンチ課", kind="division")
    staff = accounts.create_staff(
        system,
        staff_id="bench-admin",
        name="測定 太郎",
        name_kana="ソクテイ タロウ",
        org_unit_code="bench",
        role_codes=["administrator"],
        password="bench-password-2026",  # noqa: S106
    )
    ring = load_keyring()
    people = list(Resident.objects.order_by("atena_no")[:messages])
    with transaction.atomic():
        change = Change.objects.create(
            procedure="bench",
            change_reason="domestic_move_in",
            status=Change.Status.COMMITTED,
            occurred_on=dt.date(2020, 4, 1),
            created_by=staff,
        )
        numbers = []
        for _ in people:
            number = generate_my_number(rng)
            key_id, blob = ring.encrypt(number)
            numbers.append(
                EncryptedMyNumber(
                    key_id=key_id, ciphertext=blob, lookup_hash=ring.lookup_hash(number)
                )
            )
        numbers = EncryptedMyNumber.objects.bulk_create(numbers, batch_size=2000)
        now = timezone.now()
        histories = []
        for r, n in zip(people, numbers, strict=True):
            fields = {name: getattr(r, name) for name in SNAPSHOT_FIELDS} | {"my_number_id": n.pk}
            histories.append(
                ResidentHistory(
                    **fields,
                    history_no=1,
                    change=change,
                    change_reason="domestic_move_in",
                    occurred_on=dt.date(2020, 4, 1),
                    processed_at=now,
                    operator=staff,
                )
            )
        ResidentHistory.objects.bulk_create(histories, batch_size=2000)
        OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    topic="identity_info",
                    destination="cs",
                    ordering_key=r.atena_no,
                    idempotency_key=f"change:{change.pk}:{r.atena_no}:identity_info",
                    payload={
                        "atena_no": r.atena_no,
                        "history_no": 1,
                        "change_reason": "domestic_move_in",
                        "occurred_on": "2020-04-01",
                        "juminhyo_code": r.juminhyo_code,
                        "my_number_ref": n.pk,
                    },
                    change_id=change.pk,
                )
                for r, n in zip(people, numbers, strict=True)
            ],
            batch_size=2000,
        )
    return [r.atena_no for r in people]


def _raw_post_loop(
    url_port: int, messages: int, concurrency: int, rng: random.Random, per_request: int = 1
) -> float:
    """Messages per second of a raw HTTP POST loop of pre-signed identity updates: one per
    request (``POST /v1/messages``), or ``per_request`` per ``POST /v1/messages:batch`` — the
    same batches the worker sends, without the database, the building or the checks."""
    from jumin.core.identifiers import generate_juminhyo_code, generate_my_number
    from jumin.jukinet import keys
    from jumin.jukinet.conf import config
    from jumin.netproto import batch
    from jumin.netproto.envelope import SIGNATURE_HEADER, Envelope

    key = keys.node_key(config())
    sealed = []
    for i in range(messages):
        body = {
            "identity": {
                "juminhyo_code": generate_juminhyo_code(rng),
                "my_number": generate_my_number(rng),
                "family_name": rng.choice(FAMILY),
                "given_name": rng.choice(GIVEN),
                "name_alphabet": "",
                "name_kana": f"{rng.choice(KANA_F)} {rng.choice(KANA_G)}",
                "birth_date": "1980-04-01",
                "sex": "1",
                "address": "神奈川県相模原市中央区中央2丁目11番15号",
                "municipality_code": key.code,
                "status": "resident",
                "change_reason": "domestic_move_in",
                "occurred_on": "2020-04-01",
                "sequence": 1,
            }
        }
        envelope = Envelope(
            kind="identity.update",
            sender=key.code,
            recipient=f"pref-{key.code[:2]}",
            body=body,
            idempotency_key=f"raw:{per_request}:{i}",
        )
        sealed.append(key.seal(envelope))
    parts = [sealed[i::concurrency] for i in range(concurrency)]
    failures: list[str] = []

    def post(part: list[tuple[bytes, str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", url_port, timeout=30)
        try:
            if per_request > 1:
                for i in range(0, len(part), per_request):
                    chunk = part[i : i + per_request]
                    conn.request(
                        "POST",
                        batch.BATCH_PATH,
                        batch.encode_request(chunk),
                        {"Content-Type": "application/json"},
                    )
                    response = conn.getresponse()
                    answers = batch.decode_reply(response.read(), len(chunk))
                    failures.extend(str(a.status) for a in answers if a.status != 200)
                return
            for raw, signature in part:
                conn.request(
                    "POST",
                    "/v1/messages",
                    raw,
                    {"Content-Type": "application/json", SIGNATURE_HEADER: signature},
                )
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(str(response.status))
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=post, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"raw POST loop failed: {failures[:5]}")
    return messages / elapsed


def _worker_processes(
    args: argparse.Namespace, db_url: str, workdir: Path, netsim_url: str
) -> list[str]:
    """Run ``jumin cs deliver --once`` in ``args.workers`` processes at once."""
    from jumin.jukinet.tests.realnet import JUMIN, clean_env

    env = clean_env(
        JUMIN_DATABASE_URL=db_url,
        JUMIN_VAR_DIR=str(workdir),
        JUMIN_CS_KEY_FILE=str(workdir / "cs-key.json"),
        JUMIN_NETSIM_URL=netsim_url,
    )
    command = [
        *JUMIN,
        "cs",
        "deliver",
        "--once",
        "--batch",
        str(args.batch),
        "--concurrency",
        str(args.concurrency),
    ]
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(args.workers)
    ]
    errors = []
    for proc in procs:
        _, err = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            errors.append(err[-500:])
    return errors


def _child(args: argparse.Namespace, db_url: str, workdir: Path) -> dict[str, float]:
    os.environ["JUMIN_DATABASE_URL"] = db_url
    os.environ["JUMIN_VAR_DIR"] = str(workdir)
    os.environ["JUMIN_CS_KEY_FILE"] = str(workdir / "cs-key.json")
    os.environ["DJANGO_SETTINGS_MODULE"] = "jumin.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from jumin.jukinet import reconcile
    from jumin.jukinet.tests.realnet import RealNetsim
    from jumin.jukinet.worker import Worker
    from jumin.outbox.models import OutboxMessage

    call_command("migrate", verbosity=0)
    rng = random.Random(20261126)
    results: dict[str, float] = {}
    results.update(_generate(args.residents, rng))

    # 1. reconciliation: the register against the CS file
    report = reconcile.compare(sample=0)
    results["reconcile_s"] = report.seconds
    results["reconcile_register"] = report.register_count
    results["found_missing_in_cs"] = report.counts.get("missing_in_cs", 0)
    results["found_differs"] = report.counts.get("differs", 0)
    results["reconcile_raw_join_s"] = _raw_join(connection)
    results["reconcile_raw_scan_s"] = _raw_scan(connection)

    # 2. delivery to the real netsim on loopback
    if args.messages:
        atenas = _delivery_data(args.messages, rng)
        net = RealNetsim(workdir / "netsim", prefectures=args.prefecture, faults=False)
        try:
            os.environ["JUMIN_NETSIM_URL"] = net.url
            call_command("cs", "register", "--name", "ベンチ市", stdout=open(os.devnull, "w"))  # noqa: SIM115
            results["delivery_raw_per_s"] = _raw_post_loop(
                net.port, args.messages, args.concurrency, rng
            )
            if not args.no_batches:  # the worker's batches: a claimed batch / concurrency
                per_request = max(1, -(-args.batch // args.concurrency))
                results["delivery_raw_batch_per_s"] = _raw_post_loop(
                    net.port, args.messages, args.concurrency, rng, per_request
                )
                results["per_request"] = per_request
            os.environ["JUMIN_CS_BATCH"] = "0" if args.no_batches else "1"
            started = time.perf_counter()
            if args.workers == 1:
                totals = Worker(batch=args.batch, concurrency=args.concurrency).run(once=True)
                errors = totals.errors[:3]
            else:  # several worker processes share the queue (PostgreSQL: SKIP LOCKED)
                errors = _worker_processes(args, db_url, workdir, net.url)
            elapsed = time.perf_counter() - started
            delivered = OutboxMessage.objects.filter(
                ordering_key__in=atenas, status=OutboxMessage.Status.DELIVERED
            ).count()
            if delivered != args.messages:
                raise SystemExit(f"delivery incomplete: {delivered}/{args.messages} ({errors})")
            results["delivery_s"] = elapsed
            results["workers"] = args.workers
            results["delivery_per_s"] = args.messages / elapsed
        finally:
            net.stop()
    return results


# --------------------------------------------------------------------------- parent side


def _report(db: str, r: dict[str, float], args: argparse.Namespace) -> list[str]:
    full = args.residents >= FULL_SCALE

    def verdict(ok: bool) -> str:
        if ok:
            return "ok"
        return "MISSED" if full else "below target (information only below full scale)"

    n = int(r["reconcile_register"])
    lines = [
        f"== {db}: {args.residents:,} residents (generated in {r['generate_s']:.1f} s)",
        f"reconcile, register vs CS file: {r['reconcile_s']:8.2f} s for {n:,} persons"
        f"  [target ≤ {RECONCILE_TARGET_S:.0f} s at 1,000,000: "
        f"{verdict(r['reconcile_s'] * FULL_SCALE / max(n, 1) <= RECONCILE_TARGET_S)}]",
        f"  raw SQL join (counts only):   {r['reconcile_raw_join_s']:8.2f} s"
        f"  → reconcile / raw = {r['reconcile_s'] / r['reconcile_raw_join_s']:.1f}×",
        f"  raw ordered scan of both:     {r['reconcile_raw_scan_s']:8.2f} s"
        f"  → reconcile / raw = {r['reconcile_s'] / r['reconcile_raw_scan_s']:.1f}×",
        f"  found: missing in CS {int(r['found_missing_in_cs']):,}"
        f" (planted {int(r['planted_missing_in_cs']):,}),"
        f" differs {int(r['found_differs']):,} (planted {int(r['planted_differs']):,})",
    ]
    if (
        r["found_missing_in_cs"] != r["planted_missing_in_cs"]
        or r["found_differs"] != r["planted_differs"]
    ):
        lines.append("  MISSED: the comparison did not find exactly the planted differences")
    if "delivery_per_s" in r:
        lines += [
            f"delivery to netsim (loopback), {args.messages:,} messages, "
            f"{int(r.get('workers', 1))} worker(s) × concurrency {args.concurrency}: "
            f"{r['delivery_per_s']:8.0f} msg/s ({r['delivery_s']:.1f} s)"
            f"  [target ≥ {DELIVERY_TARGET:.0f}: "
            f"{verdict(r['delivery_per_s'] >= DELIVERY_TARGET)}]",
            f"  raw HTTP POST loop (pre-signed, no database): {r['delivery_raw_per_s']:8.0f} msg/s"
            f"  → worker / raw = {r['delivery_per_s'] / r['delivery_raw_per_s']:.2f}",
        ]
        if "delivery_raw_batch_per_s" in r:
            ratio = r["delivery_per_s"] / r["delivery_raw_batch_per_s"]
            lines.append(
                f"  raw batch POST loop ({int(r['per_request'])} per request, the worker's"
                f" batches): {r['delivery_raw_batch_per_s']:8.0f} msg/s"
                f"  → worker / raw batch = {ratio:.2f}"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=FULL_SCALE)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--batch", type=int, default=500, help="messages claimed per worker batch (default 500)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (PostgreSQL only when > 1)"
    )
    parser.add_argument(
        "--no-batches",
        action="store_true",
        help="the worker sends one envelope per request (JUMIN_CS_BATCH=0)",
    )
    parser.add_argument("--prefecture", default="14", help=argparse.SUPPRESS)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.residents < 1000:
        parser.error("--residents must be at least 1000")
    args.messages = min(args.messages, args.residents)
    if args.child:
        results = _child(args, args.child, Path(args.workdir))
        print("RESULT " + json.dumps(results))
        return 0

    failed = missed = False
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory(prefix=f"jumin-bench-cs-{db}-") as tmp:
            pg_dir = None
            if db == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
            else:
                url, pg_dir = postgres("jumin_bench_cs")
                create_database(url)
            try:
                proc = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--residents",
                        str(args.residents),
                        "--messages",
                        str(args.messages),
                        "--concurrency",
                        str(args.concurrency),
                        "--batch",
                        str(args.batch),
                        "--workers",
                        str(args.workers if db == "postgres" else 1),
                        *(["--no-batches"] if args.no_batches else []),
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
            lines = _report(db, json.loads(line[7:]), args)
            missed = missed or any("MISSED" in x for x in lines)
            print("\n".join(lines), flush=True)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
