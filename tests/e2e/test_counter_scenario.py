"""The counter scenario of issue 4 in a real browser (std 4.0.8, 4.1.1, 4.1.3, 4.1.4):
a family of four moves in, a second clerk commits it, one child moves out, the spouse
becomes head of the household. Every screen is photographed and checked with axe-core."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jumin.register.models import Change, Resident
from jumin.register.tests.factories import ADDRESS_CODE
from tests.e2e.steps import (
    FAMILY,
    active_text,
    changes,
    navigation,
    norm,
    today,
    wareki,
    wareki_long,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _search_kana(page: Any, kana: str) -> None:
    """住民検索 by 振り仮名 (htmx swaps the results in; the URL follows)."""
    with navigation(page):
        page.get_by_role("link", name="住民検索").first.click()
    page.locator("#f-name_kana").fill(kana)
    with page.expect_response(lambda r: "/search/" in r.url and r.request.method == "GET"):
        page.locator("#f-name_kana").press("Enter")
    page.locator("#search-results .result-count").wait_for()


def _fill_person(page: Any, i: int, person: tuple[str, ...]) -> None:
    family, given, kana, birth, sex, relationship = person
    p = f"#f-persons-{i}-"
    page.fill(p + "family_name", family)
    page.fill(p + "given_name", given)
    page.fill(p + "name_kana", kana)
    page.fill(p + "birth_date", birth)
    page.select_option(p + "sex", sex)
    page.fill(p + "relationship", relationship)
    page.fill(p + "honseki", "神奈川県相模原市中央区中央二丁目1番")
    page.fill(p + "koseki_head", "相模 太郎")


def _confirm_and_save(page: Any, look: Any, name: str) -> Change:
    """確認 → (alerts acknowledged one by one) → 仮登録; the change page says 仮登録."""
    with navigation(page):
        page.get_by_role("button", name="確認へ進む").last.click()
    assert "（確認）" in page.locator("h1").inner_text(), page.inner_text("main")
    look(page, f"{name}-confirm")
    boxes = page.locator("input[name=_ack]")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    before = len(changes())
    with navigation(page):
        page.get_by_role("button", name="仮登録する").last.click()
    after = changes()
    assert len(after) == before + 1
    change = after[-1]
    assert page.url.split("?")[0].endswith(f"/changes/{change.pk}/")
    assert "仮登録" in page.locator("#change-status").inner_text()
    assert f"異動 {change.pk}" in page.locator(".messages").inner_text()
    return change


def _review_and_commit(page: Any, change: Change, look: Any, name: str) -> None:
    """The reviewer: 決裁 list → the change → 決裁（本登録）."""
    with navigation(page):
        page.get_by_role("link", name="決裁").first.click()
    row = page.locator(f"#draft-{change.pk}")
    assert row.is_visible()
    look(page, f"{name}-queue")
    with navigation(page):
        row.get_by_role("link", name=str(change.pk)).click()
    look(page, f"{name}-review")
    with navigation(page):
        page.locator("#commit").click()
    assert "本登録" in page.locator("#change-status").inner_text()
    change.refresh_from_db()
    assert change.status == Change.Status.COMMITTED
    look(page, f"{name}-committed")


def _member_rows(page: Any) -> list[tuple[str, str]]:
    """(続柄, 氏名) of the household's current members, in the order shown."""
    rows = page.locator("table.members:not(.removed-members) tbody tr")
    return [
        (
            rows.nth(i).locator("td").nth(1).inner_text().strip(),
            norm(rows.nth(i).locator("th").inner_text()),
        )
        for i in range(rows.count())
    ]


def test_counter_scenario(new_page, counter, login, look):
    clerk = new_page()
    reviewer = new_page()
    login(clerk, counter.clerk, counter.terminal)
    look(clerk, "01-home")

    # --- nobody of that name yet (std 2.1.3, j340)
    _search_kana(clerk, "サガミ タロウ")
    assert "条件に該当する住民はいません" in clerk.inner_text("#search-results")
    look(clerk, "02-search-none")

    # --- 転入 of a family of four, dates in 和暦 (std 4.1.1, j560)
    with navigation(clerk):
        clerk.get_by_role("link", name="異動入力").first.click()
    look(clerk, "03-procedures")
    with navigation(clerk):
        clerk.get_by_role("link", name="転入", exact=True).click()
    look(clerk, "04-move-in-empty")
    moved_in = today() - dt.timedelta(days=3)
    clerk.fill("#f-occurred_on", wareki(moved_in))
    clerk.fill("#f-notified_on", wareki_long(today()))
    clerk.fill("#f-address-address_code", ADDRESS_CODE)
    clerk.fill("#f-address-banchi", "2丁目11番15号")
    clerk.fill("#f-previous_address", "東京都千代田区霞が関二丁目1番2号")
    clerk.fill("#f-certificate-municipality_code", "131016")
    clerk.fill("#f-certificate-planned_on", wareki(moved_in))
    for i, person in enumerate(FAMILY):
        if i:
            with navigation(clerk):
                clerk.get_by_role("button", name="異動者を追加").click()
        _fill_person(clerk, i, person)
    look(clerk, "05-move-in-filled")
    change = _confirm_and_save(clerk, look, "06-move-in")
    assert clerk.locator("#own-draft").is_visible()  # the author cannot commit
    assert clerk.locator("#commit").count() == 0
    look(clerk, "07-move-in-draft")
    assert not Resident.objects.exists()  # a draft changes nothing yet

    # --- a second clerk reviews and commits (std 4.0.8, j530)
    login(reviewer, counter.reviewer, counter.back_office)
    _review_and_commit(reviewer, change, look, "08-move-in")
    assert Resident.objects.count() == 4

    # --- the head is found; the history shows 転入 (std 2.2.1, j350)
    _search_kana(clerk, "サガミ タロウ")
    look(clerk, "09-search-found")
    with navigation(clerk):
        clerk.locator("#search-results").get_by_role("link", name="相模 太郎").click()
    history = clerk.locator("section.history")
    assert "転入" in history.locator("tbody tr").first.locator("td.reason").inner_text()
    look(clerk, "10-person-head")

    # --- the household: four, head first (std 5.2, j1010)
    with navigation(clerk):
        clerk.get_by_role("link", name="世帯照会").click()
    members = _member_rows(clerk)
    assert [m[0] for m in members] == ["世帯主", "妻", "子", "子"], members
    household_url = clerk.url
    household_no = household_url.rstrip("/").split("/")[-1]
    look(clerk, "11-household-four")

    # --- one child moves out, dated today: removed now (std 4.1.3, j640)
    with navigation(clerk):
        clerk.get_by_role("link", name="相模 一郎").click()
    child = Resident.objects.get(given_name="一郎")
    with navigation(clerk):
        clerk.get_by_role("link", name="異動入力").last.click()
    with navigation(clerk):
        clerk.get_by_role("link", name="転出", exact=True).click()
    assert clerk.locator("#f-persons-0").input_value() == child.atena_no
    look(clerk, "12-move-out-empty")
    clerk.fill("#f-planned_on", wareki(today()))
    clerk.fill("#f-destination-municipality_code", "131016")
    clerk.fill("#f-destination-address", "東京都千代田区霞が関二丁目1番2号")
    change = _confirm_and_save(clerk, look, "13-move-out")
    _review_and_commit(reviewer, change, look, "14-move-out")
    clerk.goto(household_url)
    assert [m[0] for m in _member_rows(clerk)] == ["世帯主", "妻", "子"]
    removed = clerk.locator("table.removed-members tbody tr")
    assert removed.count() == 1 and "相模 一郎" in norm(removed.inner_text())
    look(clerk, "15-household-three")

    # --- 世帯主変更: the spouse becomes head, relationships derived (std 4.1.4, j730)
    spouse = Resident.objects.get(given_name="花子")
    clerk.goto(f"/procedures/?household_no={household_no}")
    with navigation(clerk):
        clerk.get_by_role("link", name="世帯主変更").click()
    assert clerk.locator("#f-household_no").input_value() == household_no
    look(clerk, "16-head-change-prefilled")
    clerk.fill("#f-occurred_on", wareki(today()))
    clerk.fill("#f-new_head_atena_no", spouse.atena_no)
    _clear_relationship_rows(clerk)
    look(clerk, "17-head-change-filled")
    change = _confirm_and_save(clerk, look, "18-head-change")
    _review_and_commit(reviewer, change, look, "19-head-change")
    clerk.goto(household_url)
    members = _member_rows(clerk)
    assert members[0] == ("世帯主", "相模 花子"), members
    assert [m[0] for m in members] == ["世帯主", "夫", "子"], members
    assert "相模 花子" in norm(clerk.locator(".household-summary").inner_text())
    look(clerk, "20-household-new-head")
    assert norm(active_text(clerk)) == "相模 花子"  # the focus is on the first member


def _clear_relationship_rows(page: Any) -> None:
    """Leave the relationships to the derivation: empty every prefilled row (a blank row is
    ignored)."""
    rows = page.locator("input[id^=f-relationships-][id$=-atena_no]")
    for i in range(rows.count()):
        page.fill(f"#f-relationships-{i}-atena_no", "")
        page.fill(f"#f-relationships-{i}-relationship", "")
