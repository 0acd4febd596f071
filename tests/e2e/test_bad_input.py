"""Bad input on each form (issue 4): the form comes back with the error beside the field, in
Japanese, what was typed still there, the focus on the first error — and nothing saved."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jumin.accounts.actor import Actor
from jumin.audit.models import OperationLogEntry
from jumin.register.models import Change
from jumin.register.procedures import move_in
from jumin.register.tests import factories as f
from tests.e2e.steps import active_id, changes, navigation, today, wareki

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MY_NUMBER = "123456789018"


def _assert_error_beside(page: Any, ident: str, *words: str) -> None:
    """The control is marked invalid, and its error — named by its aria-describedby, so a
    screen reader reads it with the field — sits in the same box (.field, or the small form)
    and names the field."""
    control = page.locator(f"#{ident}")
    assert control.get_attribute("aria-invalid") == "true", ident
    described = (control.get_attribute("aria-describedby") or "").split()
    errors = [
        d
        for d in described
        if "field-error" in (page.locator(f"#{d}").get_attribute("class") or "")
    ]
    assert errors, (ident, described)
    error = page.locator(f"#{errors[0]}")
    text = error.inner_text()
    for word in words:
        assert word in text, (ident, text)
    beside = error.evaluate(
        "(e, id) => e.closest('.field, form').contains(document.getElementById(id))", ident
    )
    assert beside, (ident, "the error is not next to its field")


def test_login_with_a_wrong_password(browser_page, counter, look):
    page = browser_page
    page.goto("/login/")
    page.get_by_label("職員ID").fill(counter.clerk.staff_id)
    page.get_by_label("パスワード").fill("wrong-password")
    page.locator("#id_terminal").select_option(str(counter.terminal.pk))
    with navigation(page):
        page.get_by_role("button", name="ログイン").click()
    assert page.url.split("?")[0].endswith("/login/")
    assert "職員IDまたはパスワードが正しくありません" in page.inner_text("[role=alert]")
    assert page.get_by_label("職員ID").input_value() == counter.clerk.staff_id  # kept
    assert page.get_by_label("パスワード").input_value() == ""  # never echoed
    assert page.locator("#id_terminal").input_value() == str(counter.terminal.pk)
    assert active_id(page) == "id_password"  # the field to type again
    look(page, "login-refused")
    # nothing: no session, the home page still asks for a login; the failure is logged
    assert not [c for c in page.context.cookies() if c["name"] == "sessionid"]
    with navigation(page):
        page.goto("/")
    assert "/login/" in page.url
    failed = OperationLogEntry.objects.filter(function="ログイン", outcome="failed")
    assert failed.count() == 1


def test_search_with_an_impossible_birth_date(browser_page, counter, login, look):
    # std 2.1.3 (j340): search by birth date in 和暦/西暦
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    page.goto("/search/")
    page.fill("#f-name_kana", "サガミ")
    page.fill("#f-birth_date", "S50.13.45")
    with page.expect_response(lambda r: "/search/" in r.url):
        page.locator("#f-birth_date").press("Enter")
    page.locator("#f-birth_date[aria-invalid=true]").wait_for()
    _assert_error_beside(page, "f-birth_date", "生年月日")
    assert page.locator("#f-birth_date").input_value() == "S50.13.45"
    assert page.locator("#f-name_kana").input_value() == "サガミ"
    assert active_id(page) == "f-birth_date"
    assert page.locator("#search-results table").count() == 0  # no search was made
    look(page, "search-refused")
    # the folded parts of the form, opened, pass axe too
    page.get_by_text("詳細な条件（").click()
    page.get_by_text("個人番号で検索", exact=True).first.click()
    look(page, "search-all-open")


def _move_in_form(page: Any) -> None:
    page.goto("/procedures/move_in/")
    page.locator("#f-occurred_on").wait_for()


def _fill_valid_move_in(page: Any, address_code: str = f.ADDRESS_CODE) -> None:
    day = today() - dt.timedelta(days=1)
    page.fill("#f-occurred_on", wareki(day))
    page.fill("#f-address-address_code", address_code)
    page.fill("#f-address-banchi", "5番地")
    page.fill("#f-previous_address", "東京都新宿区西新宿二丁目8番1号")
    page.fill("#f-certificate-municipality_code", "131041")
    page.fill("#f-persons-0-family_name", "誤入")
    page.fill("#f-persons-0-given_name", "力")
    page.fill("#f-persons-0-name_kana", "ゴニュウ チカラ")
    page.fill("#f-persons-0-birth_date", "H2.3.4")
    page.select_option("#f-persons-0-sex", "1")
    page.fill("#f-persons-0-relationship", "世帯主")


def _check(page: Any) -> None:
    with navigation(page):
        page.get_by_role("button", name="確認へ進む").last.click()


def test_procedure_form_with_required_fields_left_empty(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    _move_in_form(page)
    page.fill("#f-persons-0-family_name", "空欄")  # the person's row is not blank
    _check(page)
    assert "入力内容に誤りがあります" in page.inner_text(".findings[role=alert]")
    for ident, label in [
        ("f-occurred_on", "異動日"),
        ("f-address-address_code", "住所コード"),
        ("f-previous_address", "前住所"),
        ("f-persons-0-birth_date", "生年月日"),
        ("f-persons-0-sex", "性別"),
        ("f-persons-0-relationship", "続柄"),
    ]:
        _assert_error_beside(page, ident, label)
    assert active_id(page) == "f-occurred_on"  # the first error
    assert page.locator("#f-persons-0-family_name").input_value() == "空欄"
    assert page.locator("#f-notified_on").input_value() != ""
    look(page, "procedure-required")
    assert not changes()


def test_procedure_form_with_an_unknown_address_code(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    _move_in_form(page)
    _fill_valid_move_in(page, address_code="14152999999")
    _check(page)
    _assert_error_beside(page, "f-address-address_code", "14152999999", "住所辞書")
    assert active_id(page) == "f-address-address_code"
    # everything typed is still there
    assert page.locator("#f-address-address_code").input_value() == "14152999999"
    assert page.locator("#f-persons-0-birth_date").input_value() == "H2.3.4"
    assert page.locator("#f-persons-0-sex").input_value() == "1"
    assert page.locator("#f-persons-0-name_kana").input_value() == "ゴニュウ チカラ"
    look(page, "procedure-address")
    assert not changes()


def test_procedure_form_reports_an_unknown_address_code_once(browser_page, counter, login):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    _move_in_form(page)
    _fill_valid_move_in(page, address_code="14152999999")
    _check(page)
    assert page.locator(".findings[role=alert] li").count() == 1
    assert "住所コード「」" not in page.inner_text("main")


def test_procedure_form_keeps_an_impossible_date_as_typed(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    _move_in_form(page)
    _fill_valid_move_in(page)
    page.fill("#f-occurred_on", "R8.2.30")
    _check(page)
    look(page, "procedure-impossible-date")
    _assert_error_beside(page, "f-occurred_on", "R8.2.30")
    assert not changes()
    assert page.locator("#f-occurred_on").input_value() == "R8.2.30"
    # one mistake, one error
    assert page.locator(".findings[role=alert] li").count() == 1


def test_confirmation_with_an_alert_left_unacknowledged(browser_page, counter, login, look):
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    _move_in_form(page)
    _fill_valid_move_in(page)
    page.select_option("#f-kind", "unnotified")  # 未届転入: an alert to acknowledge
    page.fill("#f-certificate-municipality_code", "")
    _check(page)
    assert "（確認）" in page.locator("h1").inner_text(), page.inner_text("main")
    box = page.locator("input[name=_ack]")
    assert box.count() == 1
    assert active_id(page) == "ack-1"  # the alert comes first
    look(page, "confirm")
    with navigation(page):
        page.get_by_role("button", name="仮登録する").last.click()
    assert "確認していないアラートがあります" in page.inner_text("fieldset.findings")
    assert box.get_attribute("aria-invalid") == "true"
    assert active_id(page) == "ack-1"
    look(page, "confirm-refused")
    assert not changes()
    box.check()
    with navigation(page):
        page.get_by_role("button", name="仮登録する").last.click()
    [change] = changes()
    assert "move_in.unnotified" in change.acknowledged


def _draft_by(counter: Any) -> Change:
    clerk = Actor.of(counter.clerk, counter.terminal, "web")
    return move_in.submit(clerk, f.move_in_input(f.person(family_name="却下")))


def test_reject_without_a_reason(browser_page, counter, login, look):
    # std 4.0.8 (j530): a draft is returned with a reason
    change = _draft_by(counter)
    page = browser_page
    login(page, counter.reviewer, counter.back_office)
    page.goto(f"/changes/{change.pk}/")
    with navigation(page):
        page.get_by_role("button", name="却下（差戻し）").click()
    _assert_error_beside(page, "reason", "理由")
    assert active_id(page) == "reason"
    look(page, "reject-refused")
    change.refresh_from_db()
    assert change.status == Change.Status.DRAFT
    # with a reason it goes back to the clerk
    page.fill("#reason", "本籍の記載が届書と違います。")
    with navigation(page):
        page.get_by_role("button", name="却下（差戻し）").click()
    change.refresh_from_db()
    assert change.status == Change.Status.REJECTED


def test_person_page_with_a_garbage_date_and_a_reveal_without_reason(
    browser_page, counter, login, look
):
    _, [resident] = f.committed_move_in(f.person(my_number=MY_NUMBER))
    page = browser_page
    login(page, counter.supervisor, counter.back_office)
    page.goto(f"/residents/{resident.atena_no}/")
    page.fill("#as_of", "きのうのあさ")
    with navigation(page):
        page.locator("#as_of").press("Enter")
    _assert_error_beside(page, "as_of", "基準日")
    assert page.locator("#as_of").input_value() == "きのうのあさ"
    assert active_id(page) == "as_of"
    assert page.locator(".banner.asof").count() == 0  # the current record is shown
    look(page, "asof-refused")

    page.goto(f"/residents/{resident.atena_no}/")
    with navigation(page):
        page.get_by_role("button", name="表示", exact=True).last.click()
    _assert_error_beside(page, "reason", "理由")
    assert active_id(page) == "reason"
    assert page.locator("#my-number-value").count() == 0
    assert MY_NUMBER not in page.content()
    look(page, "reveal-refused")
    page.fill("#reason", "個人番号カード交付の本人確認")
    with navigation(page):
        page.get_by_role("button", name="表示", exact=True).last.click()
    assert page.locator("#my-number-value").inner_text().replace(" ", "") == MY_NUMBER
