"""End to end against the real netsim (``jumin netsim serve`` in a subprocess, own SQLite
file, free port): delivery, the national query, faults, and a worker killed mid-delivery.

std 7.1.1.1 (j1090), 7.1.1.2 (j1100); DESIGN invariant 7.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from jumin.accounts.actor import Actor
from jumin.jukinet import reconcile
from jumin.jukinet.models import SentMessage
from jumin.jukinet.tests import helpers as h
from jumin.jukinet.tests.realnet import JUMIN, RealNetsim, clean_env
from jumin.outbox.models import OutboxMessage

Status = OutboxMessage.Status


@pytest.fixture(scope="module")
def netsim(tmp_path_factory) -> Iterator[RealNetsim]:
    net = RealNetsim(tmp_path_factory.mktemp("netsim"))
    yield net
    net.stop()


@pytest.fixture(scope="module")
def city_key_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("city") / "cs-key.json"


@pytest.fixture
def real(netsim, city_key_file, cs_env, monkeypatch) -> RealNetsim:
    """This city (141500) registered with the real netsim, its national keys pinned."""
    monkeypatch.setenv("JUMIN_CS_KEY_FILE", str(city_key_file))
    monkeypatch.setenv("JUMIN_NETSIM_URL", netsim.url)
    if not city_key_file.exists():
        call_command("cs", "register", "--name", "相模原市", stdout=io.StringIO())
    netsim.clear_faults()
    return netsim


def _keys(messages: list[OutboxMessage]) -> list[str]:
    return [m.idempotency_key for m in messages]


@pytest.mark.django_db
def test_delivery_to_the_real_netsim_and_national_reconciliation(real):
    _, [a, b] = h.move_in(h.person(), h.person(relationship="妻", sex="2"))
    h.drain(h.worker(concurrency=2))
    messages = h.cs_outbox(a.atena_no) + h.cs_outbox(b.atena_no)
    assert [m.status for m in messages] == [Status.DELIVERED] * 4
    applied = real.applied()
    assert all(applied[k] == 1 for k in _keys(messages))
    rows = real.query(
        "SELECT juminhyo_code, sequence, municipality_code FROM netsim_identityrecord "
        "WHERE juminhyo_code IN (?, ?)",
        (a.juminhyo_code, b.juminhyo_code),
    )
    assert sorted(rows) == sorted([(a.juminhyo_code, 1, "141500"), (b.juminhyo_code, 1, "141500")])
    report = reconcile.reconcile(Actor.system("cli", "test"), national=True)
    assert report.clean and report.national_checked >= 2


# faults on the real service: down (503), slow (timeout), reply dropped after applying
# one by one, a fault hits one request (one message); in batches, the whole batch
@pytest.mark.django_db
@pytest.mark.parametrize("batches", [False, True], ids=["single", "batch"])
def test_faults_on_the_real_netsim_lose_and_duplicate_nothing(real, monkeypatch, batches):
    monkeypatch.setenv("JUMIN_CS_TIMEOUT", "0.5")
    monkeypatch.setenv("JUMIN_CS_BATCH", "1" if batches else "0")
    people = [h.move_in()[1][0] for _ in range(3)]
    hit = 3 if batches else 1
    real.faults(unavailable=1)
    assert h.batch().retried == hit  # 503
    real.faults(delay_ms=1500, delay_count=1)
    h.make_due()
    assert h.batch().retried == hit  # timeout (applied late)
    real.faults(drop=1)
    h.make_due()
    assert h.batch().retried == hit  # applied, no answer
    for _ in range(6):
        h.make_due()
        h.drain()
        time.sleep(0.2)
    messages = [m for p in people for m in h.cs_outbox(p.atena_no)]
    assert [m.status for m in messages] == [Status.DELIVERED] * 6
    applied = real.applied()
    assert all(applied[k] == 1 for k in _keys(messages))
    retried = SentMessage.objects.filter(outcome="retry").values_list("error_code", flat=True)
    assert {"fault.unavailable", "network.timeout"} <= set(retried)


SETUP = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumin.config.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from jumin.jukinet.tests import helpers as h
for _ in range(3):
    h.move_in()
print("ready")
"""


def _fresh_database(tmp_path: Path) -> tuple[str, Any]:
    """A database the subprocesses can open: an SQLite file, or a new PostgreSQL database on
    the server this test run uses. Returns its URL and a cleanup function."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'jumin.sqlite3'}", lambda: None
    import psycopg

    s = connection.settings_dict
    name = f"jumin_cs_kill_{uuid.uuid4().hex[:8]}"
    admin = {"host": s["HOST"], "port": s["PORT"], "user": s["USER"], "dbname": "postgres"}
    if s.get("PASSWORD"):
        admin["password"] = s["PASSWORD"]
    with psycopg.connect(**admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    auth = urllib.parse.quote(s["USER"]) + (
        ":" + urllib.parse.quote(s["PASSWORD"]) if s.get("PASSWORD") else ""
    )
    url = f"postgres://{auth}@{s['HOST']}:{s['PORT']}/{name}"

    def drop() -> None:
        with psycopg.connect(**admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url[len("sqlite:///") :], timeout=20) as db:
            return list(db.execute(sql))
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as db:
        return list(db.execute(sql))


def _wait(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_worker_killed_after_sending_resumes_without_loss_or_duplicate(netsim, tmp_path):
    """A real worker process is SIGKILLed while netsim holds its first envelope (received,
    applied after the kill, never answered); a new worker resends it under the same key."""
    url, cleanup = _fresh_database(tmp_path)
    env = clean_env(
        JUMIN_VAR_DIR=str(tmp_path / "var"),
        JUMIN_DATABASE_URL=url,
        JUMIN_NETSIM_URL=netsim.url,
        JUMIN_CS_NODE="141305",  # its own city: the module's netsim knows 141500's key
        JUMIN_CS_KEY_FILE=str(tmp_path / "cs-key.json"),
        JUMIN_CS_TIMEOUT="20",
    )

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            args, capture_output=True, text=True, env=env, timeout=300, check=False, **kw
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    try:
        assert "ready" in run(sys.executable, "-c", SETUP).stdout
        run(*JUMIN, "cs", "register", "--name", "川崎市")
        netsim.clear_faults()
        netsim.faults(delay_ms=5000, delay_count=1)
        worker = subprocess.Popen(
            [*JUMIN, "cs", "deliver", "--batch", "1", "--concurrency", "1", "--idle", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # netsim has the first envelope in hand (it took the armed delay)
            _wait(lambda: netsim._request("GET", "/v1/_faults")["delay_count"] == 0, "a send")
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
        logged = _rows(url, "SELECT idempotency_key, outcome FROM jukinet_sentmessage ORDER BY id")
        first_key = logged[0][0]  # the next batch may be claimed too (the worker pipelines)
        assert {outcome for _, outcome in logged} == {"sending"}
        _wait(
            lambda: netsim.applied("141305").get(first_key) == 1,
            "netsim to apply the held envelope",
        )
        out = run(*JUMIN, "cs", "deliver", "--once").stdout
        assert "受理 6件" in out
        statuses = _rows(
            url,
            "SELECT status, COUNT(*) FROM outbox_outboxmessage "
            "WHERE topic IN ('identity_info', 'move_in_notice') GROUP BY status",
        )
        assert statuses == [("delivered", 6)]
        keys = [k for (k,) in _rows(url, "SELECT idempotency_key FROM outbox_outboxmessage")]
        applied = netsim.applied("141305")
        assert all(applied.get(k) == 1 for k in keys if k.endswith(("identity_info", "notice")))
        outcomes = _rows(
            url,
            "SELECT outcome FROM jukinet_sentmessage WHERE idempotency_key = "
            f"'{first_key}' ORDER BY id",
        )
        assert outcomes == [("abandoned",), ("delivered",)]
        repeated = netsim.query(
            "SELECT outcome FROM netsim_messagelog WHERE direction = 'in' "
            "AND sender = '141305' AND idempotency_key = ? ORDER BY id",
            (first_key,),
        )
        assert [o for (o,) in repeated] == ["applied", "repeated"]
    finally:
        cleanup()


# std 7.1.2.1 (j1130): the real J-LIS designates the number, the CS takes it in through a
# reviewed change, then the 送付先情報 reaches J-LIS's mailing file
@pytest.mark.django_db
def test_my_number_generation_and_mailing_with_the_real_netsim(real):
    from jumin.jukinet.models import MyNumberRequest
    from jumin.register import services
    from jumin.register.crypto import reveal_my_number
    from jumin.register.models import EncryptedMyNumber
    from jumin.register.tests import factories as f

    person = f.person(juminhyo_code=h.new_code())
    _, [r] = h.move_in(person, kind="abroad", certificate=None)
    h.drain()
    request = MyNumberRequest.objects.get(atena_no=r.atena_no)
    assert request.state == MyNumberRequest.State.DRAFTED
    services.commit_change(f.reviewer(), request.change_id)
    h.drain()
    r.refresh_from_db()
    number = reveal_my_number(EncryptedMyNumber.objects.get(pk=r.my_number_id))
    [assigned] = real.query(
        "SELECT my_number FROM netsim_mynumberassignment WHERE juminhyo_code = ? AND active",
        (r.juminhyo_code,),
    )
    assert assigned == (number,)
    [mailing] = real.query(
        "SELECT my_number, name, address, sex, birth_date, municipality_code "
        "FROM netsim_mailingrecord WHERE juminhyo_code = ?",
        (r.juminhyo_code,),
    )
    assert mailing == (number, r.name, r.address, "1", "1980-04-01", "141500")
    [(national,)] = real.query(
        "SELECT my_number FROM netsim_identityrecord WHERE juminhyo_code = ?", (r.juminhyo_code,)
    )
    assert national == number
    request.refresh_from_db()
    assert request.state == MyNumberRequest.State.MAILED
    logged = real.query(
        "SELECT body, reply FROM netsim_messagelog WHERE kind IN "
        "('my_number.generate', 'mailing.info') AND sender = '141500'"
    )
    assert logged and not any(number in str(row) for row in logged)
