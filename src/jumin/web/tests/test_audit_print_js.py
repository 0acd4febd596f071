"""print-log.js in Chromium: printing a screen writes a 画面ハードコピー entry. std 10.2 (j1370).

base.html does not include the script yet (its owner adds the tag); the test adds the same
tag to a signed-in page and fires the browser's ``beforeprint`` event.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry

CHROMIUM = os.environ.get("JUMIN_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium"),
]


def _end_other_sessions() -> None:
    """The live server's threads may still hold a PostgreSQL session: end them so that the
    test database can be flushed and dropped (as tests/e2e/conftest.py does)."""
    from django.db import connection, connections

    connections.close_all()
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


def test_printing_a_screen_is_logged_from_the_browser(live_server):
    # std 10.2 (j1370): 画面ハードコピー — the clerk's print of the home screen
    staff = StaffFactory(roles=["counter_clerk"])
    client = Client()
    client.force_login(staff)
    session_cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
            )
            try:
                context = browser.new_context(base_url=live_server.url, locale="ja-JP")
                context.add_cookies(
                    [
                        {
                            "name": django_settings.SESSION_COOKIE_NAME,
                            "value": session_cookie,
                            "url": live_server.url,
                        }
                    ]
                )
                page = context.new_page()
                page.goto("/")
                assert "/login/" not in page.url
                page.evaluate(
                    """() => new Promise((resolve) => {
                        const s = document.createElement("script");
                        s.src = "/static/web/print-log.js";
                        s.setAttribute("data-print-log", "/audit/print-log/");
                        s.onload = resolve;
                        document.head.appendChild(s);
                    })"""
                )
                with page.expect_response("**/audit/print-log/") as response:
                    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
                assert response.value.status == 204
            finally:
                browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        _end_other_sessions()
    entry = OperationLogEntry.objects.filter(category=Category.SCREEN_COPY).first()
    assert entry is not None, "the print was not logged"
    assert entry.operator_code == staff.staff_id
    assert entry.screen == "web:home"
    assert entry.detail["output"] == "印刷（プレビューを含む）"
    assert "住民記録システム" in entry.detail["title"]
