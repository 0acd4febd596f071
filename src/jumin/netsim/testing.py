"""Run netsim as a real process for tests, end-to-end runs and benchmarks (no Django here).

``scratch_database(default)`` gives a throwaway database URL next to the caller's own:
a SQLite file in a temporary directory, or a new database on the same PostgreSQL server
(dropped afterwards). ``NetsimProcess.start(...)`` runs ``jumin netsim serve --port 0`` with
its own var dir and database, waits until it listens, and stops it with SIGTERM::

    with scratch_database(settings.DATABASES["default"], tmp) as url:
        netsim = NetsimProcess.start(tmp / "netsim", database_url=url)
        try:
            ...  # netsim.url, netsim.command("node", "add", …)
        finally:
            netsim.stop()
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LISTENING = re.compile(rb"NETSIM_LISTENING port=(\d+)")


def cli(*args: str) -> list[str]:
    """The argv of ``jumin netsim <args>`` with this interpreter."""
    return [sys.executable, "-m", "jumin.config.cli", "netsim", *args]


def postgres_url(config: Mapping[str, Any], name: str) -> str:
    user = config.get("USER") or ""
    password = config.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = config.get("HOST") or "localhost"
    port = config.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{name}"


@contextlib.contextmanager
def scratch_database(default: Mapping[str, Any], directory: Path) -> Iterator[str]:
    """A fresh, empty database URL of the same kind as ``default`` (a Django DATABASES entry)."""
    engine = str(default.get("ENGINE", ""))
    if "postgresql" not in engine:
        yield f"sqlite:///{directory / 'netsim.sqlite3'}"
        return
    import psycopg

    name = f"netsim_test_{secrets.token_hex(6)}"
    admin = dict(
        host=default.get("HOST") or None,
        port=default.get("PORT") or None,
        user=default.get("USER") or None,
        password=default.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )
    with psycopg.connect(**admin) as connection:  # type: ignore[arg-type]
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(default, name)
    finally:
        with psycopg.connect(**admin) as connection:  # type: ignore[arg-type]
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class NetsimProcess:
    url: str
    port: int
    var_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: Any = field(repr=False, default=None)

    @classmethod
    def start(
        cls,
        var_dir: Path,
        *,
        database_url: str | None = None,
        faults: bool = True,
        open_registration: bool = True,
        extra_env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        timeout: float = 60,
    ) -> NetsimProcess:
        var_dir.mkdir(parents=True, exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("JUMIN_NETSIM_", "DJANGO_SETTINGS_MODULE"))
        }
        env.update(
            {
                "JUMIN_MODE": "demo",
                "JUMIN_NETSIM_VAR_DIR": str(var_dir),
                "JUMIN_NETSIM_FAULTS": "1" if faults else "0",
                "JUMIN_NETSIM_OPEN_REGISTRATION": "1" if open_registration else "0",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if database_url:
            env["JUMIN_NETSIM_DATABASE_URL"] = database_url
        env.update(extra_env or {})
        log_path = var_dir / f"serve-{secrets.token_hex(3)}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            cli("serve", "--host", host, "--port", "0"),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        port = None
        while time.monotonic() < deadline:
            match = LISTENING.search(log_path.read_bytes())
            if match:
                port = int(match.group(1))
                break
            if process.poll() is not None:
                break
            time.sleep(0.05)
        if port is None:
            process.kill()
            process.wait()
            log.close()
            raise RuntimeError(
                f"netsim did not start: {log_path.read_text(encoding='utf-8', errors='replace')}"
            )
        url = f"http://{host}:{port}"
        running = cls(url, port, var_dir, env, process, log_path, log)
        running._wait_healthy(deadline)
        return running

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/v1/health", timeout=5) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise
            time.sleep(0.05)

    def command(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``jumin netsim <args>`` against this instance's database and keys."""
        return subprocess.run(  # noqa: S603 - our own CLI
            cli(*args), env=self.env, capture_output=True, text=True, check=check, timeout=120
        )

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, wait; the exit code (a clean stop is 0)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return int(self.process.returncode)
