"""Double submission never creates two changes (issue 4; std 4.0.8, j530): two clicks on
仮登録, the Back button after saving, the same confirmation sent from two tabs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.steps import changes, navigation
from tests.e2e.test_bad_input import _check, _fill_valid_move_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _to_confirmation(page: Any) -> None:
    page.goto("/procedures/move_in/")
    _fill_valid_move_in(page)
    _check(page)
    assert "（確認）" in page.locator("h1").inner_text(), page.inner_text("main")


def _save_button(page: Any) -> Any:
    return page.get_by_role("button", name="仮登録する").last


def test_double_click_on_save(browser_page, counter, login, look):
    # std 4.0.8 (j530): one 仮登録 per entry
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    _to_confirmation(page)
    with navigation(page):
        _save_button(page).dblclick()
    assert "/changes/" in page.url
    assert len(changes()) == 1
    look(page, "saved")


def test_back_button_after_saving_and_save_again(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    _to_confirmation(page)
    with navigation(page):
        _save_button(page).click()
    [change] = changes()
    page.go_back()
    page.wait_for_load_state()
    assert "（確認）" in page.locator("h1").inner_text()
    look(page, "back")
    with navigation(page):
        _save_button(page).click()
    # the same draft again, not a second one
    assert page.url.split("?")[0].endswith(f"/changes/{change.pk}/")
    assert [c.pk for c in changes()] == [change.pk]
    look(page, "saved-again")


def test_two_tabs_send_the_same_confirmation(new_page, counter, login, look):
    first = new_page()
    login(first, counter.clerk, counter.terminal)
    _to_confirmation(first)
    # a second tab of the same browser holding the same confirmation (a duplicated tab)
    second = first.context.new_page()
    second.goto("/procedures/move_in/")
    second.set_content(first.content())
    assert second.locator("input[name=_key]").input_value() == (
        first.locator("input[name=_key]").input_value()
    )
    with navigation(first):
        _save_button(first).click()
    with navigation(second):
        _save_button(second).click()
    [change] = changes()
    for page in (first, second):
        assert page.url.split("?")[0].endswith(f"/changes/{change.pk}/")
    look(second, "second-tab")
