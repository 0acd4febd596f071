"""A 転入 entered and committed with the keyboard only (std 10.5, j1400; issue 4): no
clicks and no filling of elements — Tab, Shift+Tab, Enter, the access keys, F1 and Esc —
and the focus checked where it matters: first field, first error, the default button."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jumin.accounts.tests.factories import PASSWORD
from jumin.register.models import Change
from jumin.register.tests.factories import ADDRESS_CODE
from tests.e2e.steps import (
    access_key,
    active_id,
    active_text,
    changes,
    focus_ring,
    tab_to,
    today,
    type_into,
    wareki,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _keyboard_login(page: Any, staff_id: str, look: Any, name: str) -> None:
    page.goto("/login/")
    assert active_id(page) == "id_username"  # the first field has the focus
    assert focus_ring(page)
    page.keyboard.type(staff_id)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert active_id(page) == "id_terminal"
    if page.evaluate("document.activeElement.value") == "":
        page.keyboard.press("ArrowDown")  # the first terminal of the list
    assert page.evaluate("document.activeElement.value") != ""
    look(page, f"{name}-login")
    page.keyboard.press("Shift+Tab")
    assert active_id(page) == "id_password"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.url.endswith("/"), page.url


def _press(page: Any, key: str) -> None:
    """A key that loads another page (``Alt+X``: an access key)."""
    with page.expect_navigation():
        if key.startswith("Alt+"):
            access_key(page, key.removeprefix("Alt+"))
        else:
            page.keyboard.press(key)
    page.wait_for_load_state()


def test_keyboard_only(new_page, counter, look):
    # std 10.5 (j1400): operable by keyboard; std 4.0.8 (j530): entered, then reviewed
    clerk = new_page()
    _keyboard_login(clerk, counter.clerk.staff_id, look, "01-clerk")

    # Alt+N: 異動入力; the first procedure (転入) has the focus
    _press(clerk, "Alt+N")
    assert clerk.url.endswith("/procedures/")
    assert active_text(clerk) == "転入"
    _press(clerk, "Enter")
    assert "/procedures/move_in/" in clerk.url
    assert active_id(clerk) == "f-kind"  # the form's first control

    # F1 opens the help, Esc closes it (and does not leave the form)
    clerk.keyboard.press("F1")
    assert clerk.locator("details.help").get_attribute("open") is not None
    assert active_text(clerk).startswith("この画面の使い方")
    look(clerk, "02-move-in-help")
    clerk.keyboard.press("Escape")
    assert clerk.locator("details.help").get_attribute("open") is None
    assert "/procedures/move_in/" in clerk.url

    moved_in = today() - dt.timedelta(days=2)
    for ident, value in [
        ("f-occurred_on", f"R{moved_in.year - 2018}.2.30"),  # no such day: an error
        ("f-notified_on", wareki(today())),
        ("f-address-address_code", ADDRESS_CODE),
        ("f-address-banchi", "1丁目2番3号"),
        ("f-previous_address", "横浜市中区日本大通1"),
        ("f-certificate-municipality_code", "141003"),
        ("f-persons-0-family_name", "鍵盤"),
        ("f-persons-0-given_name", "一子"),
        ("f-persons-0-name_kana", "ケンバン カズコ"),
        ("f-persons-0-birth_date", "S55.2.28"),
    ]:
        type_into(clerk, ident, value)
    tab_to(clerk, id="f-persons-0-sex")
    clerk.keyboard.press("ArrowDown")  # 男 → ArrowDown again: 女
    clerk.keyboard.press("ArrowDown")
    assert clerk.evaluate("document.activeElement.value") == "2"
    # 続柄 left empty: a second error. (Enter on a <select> does not submit: from the next
    # text field it does.)
    tab_to(clerk, id="f-persons-0-relationship")
    look(clerk, "03-move-in-typed")

    # Enter submits; the form comes back with the focus on the first error
    _press(clerk, "Enter")
    assert active_id(clerk) == "f-occurred_on"
    assert focus_ring(clerk)
    assert "R8.2.30" in clerk.locator("#f-occurred_on-err").inner_text()
    assert clerk.locator("#f-persons-0-relationship").get_attribute("aria-invalid") == "true"
    assert clerk.locator("#f-persons-0-birth_date").input_value() == "S55.2.28"  # kept
    look(clerk, "04-move-in-errors")
    assert not changes()
    clerk.keyboard.type(wareki(moved_in))  # the field's text is selected: typing replaces it
    type_into(clerk, "f-persons-0-relationship", "世帯主")
    _press(clerk, "Enter")
    assert "（確認）" in clerk.locator("h1").inner_text(), clerk.inner_text("main")
    look(clerk, "05-move-in-confirm")

    # 確認: the default button (仮登録する) has the focus; alerts would come first
    while clerk.evaluate("document.activeElement.name") == "_ack":
        clerk.keyboard.press("Space")
        clerk.keyboard.press("Tab")
    assert active_text(clerk).startswith("仮登録する")
    _press(clerk, "Enter")
    [change] = changes()
    assert change.status == Change.Status.DRAFT
    assert "仮登録" in clerk.locator("#change-status").inner_text()
    look(clerk, "06-draft")

    # the reviewer: Alt+R to the list, Tab to the change, Enter, Alt+C to commit
    reviewer = new_page()
    _keyboard_login(reviewer, counter.reviewer.staff_id, look, "07-reviewer")
    _press(reviewer, "Alt+R")
    assert reviewer.url.endswith("/review/")
    tab_to(reviewer, text=str(change.pk))
    assert focus_ring(reviewer)
    look(reviewer, "08-queue")
    _press(reviewer, "Enter")
    assert reviewer.url.endswith(f"/changes/{change.pk}/")
    look(reviewer, "09-review")
    _press(reviewer, "Alt+C")
    change.refresh_from_db()
    assert change.status == Change.Status.COMMITTED
    assert "本登録" in reviewer.locator("#change-status").inner_text()
    look(reviewer, "10-committed")

    # Esc: back to the list (the page's cancel link), now empty
    _press(reviewer, "Escape")
    assert reviewer.url.endswith("/review/")
    assert reviewer.locator("#queue-empty").is_visible()

    # the clerk finds the new resident with the keyboard: Alt+S, type, Enter, Enter
    _press(clerk, "Alt+S")
    assert active_id(clerk) == "f-name_kana"
    clerk.keyboard.type("ケンバン")
    with clerk.expect_response(lambda r: "/search/" in r.url):
        clerk.keyboard.press("Enter")
    clerk.locator("#search-results .result-count").wait_for()
    clerk.wait_for_function("document.activeElement && document.activeElement.closest('table')")
    assert active_text(clerk).replace("\u3000", " ") == "鍵盤 一子"  # the first result
    _press(clerk, "Enter")
    assert "鍵盤" in clerk.locator("h1").inner_text()
    look(clerk, "11-person")
