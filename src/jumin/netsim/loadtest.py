"""How many messages per second netsim accepts (pure Python client, loopback).

    python -m jumin.netsim.loadtest [--url http://127.0.0.1:8100] [--count 5000] [--threads 4]

Without ``--url`` it starts its own netsim (SQLite in a temporary directory, or
``--database-url``). The city registers itself (open registration), the envelopes are built
and signed before the clock starts, then ``--threads`` keep-alive connections send them.
Printed: identity.update/s, and ``GET /v1/health``/s over the same connections as the raw
floor of HTTP + Django on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from jumin.core.identifiers import juminhyo_code_check_digit
from jumin.netproto.envelope import Envelope, NodeKey
from jumin.netproto.messages import prefecture_node
from jumin.netsim.client import Client
from jumin.netsim.testing import NetsimProcess

CITY = "141500"


def identity_update(key: NodeKey, person: int, sequence: int) -> tuple[bytes, str]:
    body10 = f"{person:010d}"
    code = body10 + juminhyo_code_check_digit(body10)
    envelope = Envelope(
        kind="identity.update",
        sender=key.code,
        recipient=prefecture_node(key.code),
        idempotency_key=f"load:{uuid.uuid4()}",
        body={
            "identity": {
                "juminhyo_code": code,
                "my_number": None,
                "family_name": "負荷",
                "given_name": f"試験{person}",
                "name_alphabet": "",
                "name_kana": "フカ　シケン",
                "birth_date": "1990-01-01",
                "sex": "1",
                "address": "神奈川県相模原市中央区中央2丁目11番15号",
                "municipality_code": key.code,
                "status": "resident",
                "change_reason": "転居",
                "occurred_on": dt.date.today().isoformat(),
                "sequence": sequence,
            }
        },
    )
    return key.seal(envelope)


def run(
    url: str, jobs: list[Callable[[Client], int]], threads: int, key: NodeKey
) -> tuple[float, int]:
    """Run ``jobs`` over ``threads`` connections; (seconds, failures)."""
    lock = threading.Lock()
    position = 0
    failures = 0

    def worker() -> None:
        nonlocal position, failures
        with Client(url, key) as client:
            while True:
                with lock:
                    if position >= len(jobs):
                        return
                    job = jobs[position]
                    position += 1
                if job(client) != 200:
                    with lock:
                        failures += 1

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return time.perf_counter() - started, failures


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process (Linux /proc), 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, count: int, threads: int, pid: int | None = None) -> dict[str, float]:
    key = NodeKey.generate(CITY)
    with Client(url, key) as client:
        reply = client.register("負荷試験市")
        if reply.status not in {200, 201}:
            raise SystemExit(f"registration failed: {reply.status} {reply.content!r}")
    sealed = [identity_update(key, person, 1) for person in range(1, count + 1)]

    def send(raw: bytes, signature: str) -> Callable[[Client], int]:
        return lambda client: client.post_raw(raw, signature).status

    def health(client: Client) -> int:
        return client.health().status

    cpu = cpu_seconds(pid)
    seconds, failures = run(url, [send(*item) for item in sealed], threads, key)
    update_cpu = cpu_seconds(pid) - cpu
    if failures:
        raise SystemExit(f"{failures} identity.update messages were not accepted")
    cpu = cpu_seconds(pid)
    health_seconds, _ = run(url, [health] * count, threads, key)
    health_cpu = cpu_seconds(pid) - cpu
    return {
        "identity_update_per_s": count / seconds,
        "health_per_s": count / health_seconds,
        "update_cpu_ms": update_cpu * 1000 / count,
        "health_cpu_ms": health_cpu * 1000 / count,
        "count": count,
        "threads": threads,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running netsim (with JUMIN_NETSIM_OPEN_REGISTRATION=1)")
    parser.add_argument("--database-url", help="netsim's database when started here")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    if args.url:
        result = measure(args.url, args.count, args.threads)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            netsim = NetsimProcess.start(
                Path(tmp), database_url=args.database_url, faults=False, open_registration=True
            )
            try:
                result = measure(netsim.url, args.count, args.threads, netsim.process.pid)
            finally:
                netsim.stop()
    print(
        f"identity.update: {result['identity_update_per_s']:.0f} msg/s "
        f"({args.count} messages, {args.threads} connections); "
        f"GET /v1/health: {result['health_per_s']:.0f} req/s (HTTP + Django floor)"
    )
    if result.get("update_cpu_ms"):
        print(
            f"netsim CPU per request: identity.update {result['update_cpu_ms']:.2f} ms, "
            f"health {result['health_cpu_ms']:.2f} ms "
            f"(one process: at most {1000 / result['update_cpu_ms']:.0f} identity.update/s "
            "on an idle core)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
