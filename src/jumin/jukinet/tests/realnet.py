"""The real netsim (``jumin netsim serve``) as a subprocess on a free port, own SQLite file.

Used by the end-to-end tests and by bench/bench_cs.py.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

JUMIN = [sys.executable, "-m", "jumin.config.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this process's Jumin/Django settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JUMIN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(extra)
    return env


class RealNetsim:
    def __init__(self, var_dir: Path, *, prefectures: str = "13,14", faults: bool = True) -> None:
        self.var_dir = var_dir
        var_dir.mkdir(parents=True, exist_ok=True)
        env = clean_env(
            JUMIN_NETSIM_VAR_DIR=str(var_dir),
            JUMIN_NETSIM_OPEN_REGISTRATION="1",
            JUMIN_NETSIM_FAULTS="1" if faults else "0",
            JUMIN_NETSIM_PREFECTURES=prefectures,
        )
        self.log = open(var_dir / "serve.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*JUMIN, "netsim", "serve", "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 120
        self.port = 0
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith("NETSIM_LISTENING port="):
                self.port = int(line.strip().split("=", 1)[1])
                break
        if not self.port:
            self.stop()
            raise RuntimeError(
                "netsim did not start: " + (var_dir / "serve.log").read_text(errors="replace")
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _request(self, method: str, path: str, data: Any = None) -> Any:
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return json.loads(response.read() or b"null")

    def faults(self, **spec: int) -> Any:
        return self._request("POST", "/v1/_faults", spec)

    def clear_faults(self) -> None:
        self._request("DELETE", "/v1/_faults")

    def public_key(self, code: str) -> str:
        return str(self._request("GET", f"/v1/nodes/{code}")["public_key"])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read netsim's own database (its SQLite file) directly."""
        with sqlite3.connect(self.var_dir / "netsim.sqlite3", timeout=20) as db:
            return list(db.execute(sql, params))

    def applied(self, sender: str = "141500") -> dict[str, int]:
        """Idempotency key → how many times it took effect (applied or stale) for ``sender``."""
        rows = self.query(
            "SELECT idempotency_key, COUNT(*) FROM netsim_messagelog WHERE direction = 'in' "
            "AND sender = ? AND outcome IN ('applied', 'stale') GROUP BY idempotency_key",
            (sender,),
        )
        return {str(k): int(n) for k, n in rows}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()
