"""Browser tests: the `playwright` package driving Debian's Chromium (never a downloaded one)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("JUMIN_CHROMIUM", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(live_server, tmp_path) -> Iterator[object]:
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous and safe, so let Django allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="ja-JP", base_url=live_server.url
        )
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    _end_other_sessions()


def _end_other_sessions() -> None:
    """End the database sessions the test left open besides the main one, so PostgreSQL can
    drop the test database: the live server's request threads are daemons that may still
    hold one, and code run inside Playwright's sync API runs in a greenlet with its own
    context, hence its own Django connection."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
            cursor.execute(f"SELECT count(*) {others}")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.1)
