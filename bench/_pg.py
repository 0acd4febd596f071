"""PostgreSQL for the benchmarks: a throwaway cluster (``.ci/pg``) or JUMIN_BENCH_POSTGRES_URL,
and a fresh database in it. Shared by the bench_*.py scripts (run as scripts: this directory
is on sys.path)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def postgres(database: str) -> tuple[str, str | None]:
    """The URL of ``database`` and the cluster directory to stop afterwards (None when
    JUMIN_BENCH_POSTGRES_URL names an existing server)."""
    url = os.environ.get("JUMIN_BENCH_POSTGRES_URL")
    if url:
        return url, None
    out = subprocess.run(
        ["bash", str(ROOT / ".ci" / "pg"), "start"], capture_output=True, text=True, check=True
    ).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in out.strip().splitlines())
    return env["JUMIN_TEST_POSTGRES_URL"].rsplit("/", 1)[0] + f"/{database}", env["JUMIN_PG_DIR"]


def create_database(url: str) -> None:
    """Drop and create the database the URL names."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
