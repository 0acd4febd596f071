"""Printing a screen writes a 画面ハードコピー entry (print-log.js, loaded by base.html for a
signed-in member of staff). std 10.2 (j1370)."""

from __future__ import annotations

import pytest

from jumin.audit.models import Category, OperationLogEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_printing_a_screen_is_logged_from_the_browser(browser_page, counter, login):
    # std 10.2 (j1370): 画面ハードコピー — the clerk prints the home screen
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    page.goto("/")
    with page.expect_response("**/audit/print-log/") as response:
        page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert response.value.status == 204
    entry = OperationLogEntry.objects.filter(category=Category.SCREEN_COPY).first()
    assert entry is not None, "the print was not logged"
    assert entry.operator_code == counter.clerk.staff_id
    assert entry.terminal_name == counter.terminal.name
    assert entry.screen == "web:home"
    assert entry.detail["output"] == "印刷（プレビューを含む）"
    assert "住民記録システム" in entry.detail["title"]
