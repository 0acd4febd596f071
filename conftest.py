"""Test-wide fixtures and the rules about which tests may be skipped.

- ``@pytest.mark.postgres`` tests run only on PostgreSQL (reason given on SQLite).
- ``@pytest.mark.browser`` tests run only when Chromium is installed.
- With ``JUMIN_STRICT_SKIPS=1`` (CI), any skip other than a PostgreSQL-only test on the
  SQLite run fails the session: CI must not pass by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

POSTGRES_ONLY = "[postgres-only] needs PostgreSQL; this run uses SQLite"
HISTORY_TABLE = "register_residenthistory"
CHROMIUM = os.environ.get("JUMIN_CHROMIUM", "/usr/bin/chromium")


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs_pg = [item for item in items if item.get_closest_marker("postgres")]
    if needs_pg and _vendor() != "postgresql":
        for item in needs_pg:
            item.add_marker(pytest.mark.skip(reason=POSTGRES_ONLY))
    chromium_ok = shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)
    if not chromium_ok:
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(
                    pytest.mark.skip(reason=f"[browser] Chromium not found at {CHROMIUM}")
                )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("JUMIN_STRICT_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    forbidden = []
    for report in reporter.stats.get("skipped", []):
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        if POSTGRES_ONLY in reason:
            continue
        forbidden.append(f"{report.nodeid}: {reason}")
    if forbidden:
        reporter.write_line("")
        reporter.write_line("Skips that CI does not allow (JUMIN_STRICT_SKIPS=1):", red=True)
        for line in forbidden:
            reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _uses_db(request: pytest.FixtureRequest) -> tuple[bool, bool]:
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    transactional = bool(
        {"transactional_db", "live_server"} & names
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    return (marker is not None or "db" in names or transactional), transactional


@pytest.fixture(autouse=True)
def _append_only_log(request: pytest.FixtureRequest):
    """Keep the append-only triggers (operation log, history) in place for every database test.

    Transactional tests end with a flush (DELETE/TRUNCATE), which those triggers refuse:
    lift them at the end of such a test, just for that flush; the next test puts them back.
    """
    uses_db, transactional = _uses_db(request)
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    from jumin.audit import triggers

    triggers.install(connection)
    triggers.append_only(connection, HISTORY_TABLE)
    yield
    if transactional:
        triggers.uninstall(connection)
        triggers.allow_changes(connection, HISTORY_TABLE)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """No persistent connections in tests: a live-server thread holding one open would keep
    PostgreSQL from dropping the test database at the end."""
    from django.conf import settings

    for config in settings.DATABASES.values():
        config["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """argon2 is deliberately slow; tests create many staff. Tests that check the production
    hasher say so with ``override_settings``."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()
