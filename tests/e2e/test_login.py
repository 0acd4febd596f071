"""A clerk logs in with the keyboard in a real browser."""

from __future__ import annotations

import pytest

from jumin.accounts.tests.factories import PASSWORD, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_logs_in_with_the_keyboard(browser_page, look):
    page = browser_page
    StaffFactory(staff_id="clerk01", name="窓口 一郎", roles=["counter_clerk"])
    page.goto("/")
    assert page.url.endswith("/login/?next=/")
    assert "デモモード" in page.inner_text("body")
    look(page, "login")
    # The staff id field has focus; type, Tab, type, Enter.
    page.keyboard.type("clerk01")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong-password")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "正しくありません" in page.inner_text("[role=alert]")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/")
    body = page.inner_text("main")
    assert "窓口 一郎 さん" in body
    assert "窓口担当" in body
    # std 10.3 (j1380): no authenticator enrolled, demo mode — said on every page
    banner = "デモモード：パスワードのみでログインしています（本番では生体認証が必要です）"
    assert banner in page.inner_text("header")
    look(page, "home")
    page.goto("/search/")
    assert banner in page.inner_text("header")
