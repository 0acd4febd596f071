"""A session that expires mid-form loses nothing the clerk typed (issue 4): the form posts,
the login page comes, and after logging in the same form opens with the typed values
restored from the browser's sessionStorage (jumin.js, ``data-preserve``)."""

from __future__ import annotations

from typing import Any

import pytest

from jumin.accounts.tests.factories import PASSWORD
from tests.e2e.steps import FAMILY, changes, navigation
from tests.e2e.test_bad_input import _check, _fill_valid_move_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESTORED = "前回入力中だった内容を復元しました"


def _typed(page: Any) -> dict[str, str]:
    """Every text control of the form with what it holds."""
    return dict(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('form[data-preserve] input[type=text],'
                + ' form[data-preserve] select, form[data-preserve] textarea'))
                .map(e => [e.id, e.value])"""
        )
    )


def _login_here(page: Any, counter: Any, *, terminal: bool = False) -> None:
    """Log in on the login page the browser was sent to (its ?next= kept)."""
    assert "/login/" in page.url and "next=" in page.url, page.url
    page.get_by_label("職員ID").fill(counter.clerk.staff_id)
    page.get_by_label("パスワード").fill(PASSWORD)
    if terminal:
        page.locator("#id_terminal").select_option(str(counter.terminal.pk))
    with navigation(page):
        page.get_by_role("button", name="ログイン").click()


def test_session_expires_mid_form(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    page.goto("/procedures/move_in/")
    _fill_valid_move_in(page)
    page.fill("#f-address-katagaki", "コーポ期限 101号室")
    typed = _typed(page)
    # the session ends (expiry, or the server's session store was cleared)
    page.context.clear_cookies(name="sessionid")
    _check(page)
    look(page, "login")
    _login_here(page, counter)  # the terminal is still chosen (its own cookie)
    assert page.url.endswith("/procedures/move_in/")
    assert RESTORED in page.inner_text("form[data-preserve] .restored")
    assert _typed(page) == typed
    look(page, "restored")
    # and the restored form goes through
    _check(page)
    assert "（確認）" in page.locator("h1").inner_text(), page.inner_text("main")
    with navigation(page):
        page.get_by_role("button", name="仮登録する").last.click()
    [change] = changes()
    assert change.created_by == counter.clerk
    # saved: the kept copy is cleared, a new form starts empty
    page.goto("/procedures/move_in/")
    assert page.locator(".restored").count() == 0
    assert page.locator("#f-persons-0-family_name").input_value() == ""


def test_all_cookies_gone_mid_form(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    page.goto("/procedures/move_in/")
    _fill_valid_move_in(page)
    typed = _typed(page)
    page.context.clear_cookies()
    _check(page)
    look(page, "after-submit")
    _login_here(page, counter, terminal=True)
    assert page.url.endswith("/procedures/move_in/")
    assert _typed(page) == typed


def test_session_expires_with_two_persons_entered(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    page.goto("/procedures/move_in/")
    _fill_valid_move_in(page)
    with navigation(page):
        page.get_by_role("button", name="異動者を追加").click()
    family, given, kana, birth, sex, relationship = FAMILY[1]
    page.fill("#f-persons-1-family_name", family)
    page.fill("#f-persons-1-given_name", given)
    page.fill("#f-persons-1-name_kana", kana)
    page.fill("#f-persons-1-birth_date", birth)
    page.select_option("#f-persons-1-sex", sex)
    page.fill("#f-persons-1-relationship", relationship)
    typed = _typed(page)
    page.context.clear_cookies(name="sessionid")
    _check(page)
    _login_here(page, counter)
    look(page, "restored")
    assert _typed(page) == typed
