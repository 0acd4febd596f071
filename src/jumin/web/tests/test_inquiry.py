"""住民検索 (std 2.1.1–2.1.3), 個人照会 and 世帯照会 with the change history (std 2.2.1) on the
clerk screens: what a clerk sees, bad input kept beside its field, the 個人番号 shown only on
request (invariant 6), and every read logged (invariant 5)."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.wareki import format_wareki
from jumin.register import crypto, services
from jumin.register.models import Change, Resident, SearchHistory
from jumin.register.procedures import moves
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

MY_NUMBER = "123456789018"
TODAY = dt.date.today()
NEW_ADDRESS = {"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1丁目2番3号"}


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


@pytest.fixture
def clerk_client(client):
    """A counter clerk: may search and read, may not see a 個人番号."""
    staff = StaffFactory(roles=["counter_clerk"])
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def supervisor_client(client):
    staff = StaffFactory(roles=["supervisor"])
    client.force_login(staff)
    client.staff = staff
    return client


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def page(response) -> str:
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def text(markup: str) -> str:
    """The visible text of a fragment, tags dropped and spaces collapsed."""
    plain = html_lib.unescape(re.sub(r"<[^>]+>", " ", markup))
    return re.sub(r"[ \t\r\n]+", " ", plain).strip()  # keeps the full-width space in names


def field_block(markup: str, field_id: str) -> str:
    """The ``<div class="field">`` holding the control ``field_id``."""
    start = markup.index(f'id="{field_id}"')
    opening = markup.rindex('<div class="field', 0, start)
    return markup[opening : markup.index("</div>", start)]


def one(days_ago: int = 3, **person: Any) -> Resident:
    day = days(-days_ago)
    _, [resident] = f.committed_move_in(
        f.person(**person),
        occurred_on=day,
        notified_on=day,
        certificate={"municipality_code": "131016", "planned_on": day},
    )
    return resident


def commit(change: Change) -> Change:
    return services.commit_change(f.reviewer(), change.pk)


def move_within(resident: Resident, occurred_on: dt.date) -> None:
    data = moves.MoveWithinInput.model_validate(
        {
            "occurred_on": occurred_on,
            "notified_on": occurred_on,
            "address": NEW_ADDRESS,
            "persons": [{"atena_no": resident.atena_no}],
        }
    )
    commit(moves.submit_move_within(f.clerk(), data))


def move_out(resident: Resident, planned_on: dt.date) -> None:
    data = moves.MoveOutInput.model_validate(
        {
            "planned_on": planned_on,
            "notified_on": min(planned_on, TODAY),
            "destination": {
                "kind": "domestic",
                "municipality_code": "131016",
                "address": "東京都千代田区霞が関一丁目1番1号",
            },
            "persons": [resident.atena_no],
        }
    )
    commit(moves.submit_move_out(f.clerk(), data))


def log_entries(function: str) -> list[OperationLogEntry]:
    return list(OperationLogEntry.objects.filter(function=function).order_by("seq"))


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    "url",
    ["/search/", "/residents/0000000019/", "/households/0000000019/"],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_anonymous_cannot_reveal_a_number(client):
    response = client.post("/residents/0000000019/my-number/", {"reason": "確認"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not OperationLogEntry.objects.filter(my_number_accessed=True).exists()


def test_staff_without_the_search_permission_get_the_403_page(client):
    client.force_login(StaffFactory(roles=["auditor"]))
    response = client.get("/search/?s=1&name_kana=サガミ")
    assert response.status_code == 403
    assert "権限" in response.content.decode()


# --------------------------------------------------------------------------- 住民検索


def test_search_form_offers_every_criterion(clerk_client):
    markup = page(clerk_client.get("/search/"))
    assert "<h1>住民検索</h1>" in markup
    assert 'aria-current="page"' in markup and ">住民検索 <kbd>" in markup  # nav="search"
    for name in (
        "name_kana",
        "kana_mode",
        "name",
        "name_mode",
        "given_name_kana",
        "former_family_name",
        "former_family_name_kana",
        "alias",
        "alias_kana",
        "birth_date",
        "birth_from",
        "birth_to",
        "sex",
        "relationship",
        "address",
        "address_code",
        "katagaki",
        "ward",
        "atena_no",
        "household_no",
        "juminhyo_code",
        "residence_card_no",
        "removal_reason",
        "status",
        "include_history",
        "my_number",
    ):
        assert f'name="{name}"' in markup, name
        assert f'<label for="f-{name}">' in markup, name
    assert 'name="empty_fields"' in markup
    assert 'method="get"' in markup and 'hx-get="/search/"' in markup
    assert 'class="help"' in markup and "F1" in markup
    assert not OperationLogEntry.objects.filter(function="住民検索").exists()  # nothing searched


def test_search_by_kana_finds_a_committed_family_and_links_each_person(clerk_client):
    # std 2.1.2 (j330): fuzzy kana, spaces and voiced marks ignored; std 2.1.3 (j340)
    _, family = f.family()
    markup = page(clerk_client.get("/search/?" + urlencode({"s": "1", "name_kana": "さかみ"})))
    assert "該当 <strong>4</strong> 件" in markup
    for member in family:
        assert f'href="/residents/{member.atena_no}/"' in markup
        assert member.name in markup
    results = markup[markup.index('id="search-results"') :]
    assert "data-focus-first" in results.split("</a>")[0]  # the first result takes the focus
    assert "昭和55年4月1日" in results and "1980-04-01" in results  # 和暦 with 西暦
    assert "世帯主" in results and "badge resident" in results
    [entry] = log_entries("住民検索")
    assert entry.category == Category.INQUIRY
    assert entry.operator == clerk_client.staff
    assert sorted(entry.targets) == sorted(m.atena_no for m in family)
    # std 2.1.1 (j320): the search is kept in the clerk's history, shown as a link re-running it
    [saved] = SearchHistory.objects.filter(staff=clerk_client.staff)
    assert saved.criteria["name_kana"] == "さかみ"
    assert "氏名の振り仮名：さかみ" in markup


def test_a_past_search_runs_again_from_its_link(clerk_client):
    # std 2.1.1 (j320): 検索履歴を選択することにより、同じ条件による再検索
    _, family = f.family()
    page(clerk_client.get("/search/?s=1&name_kana=サガミ+ハナコ&kana_mode=exact"))
    fresh = page(clerk_client.get("/search/"))
    link = re.search(r'<aside class="past".*?<a href="([^"]+)"', fresh, re.S)
    assert link is not None
    again = page(clerk_client.get(html_lib.unescape(link.group(1))))
    assert "該当 <strong>1</strong> 件" in again
    assert f'href="/residents/{family[1].atena_no}/"' in again
    assert 'value="サガミ ハナコ"' in again  # the criteria are back in the form
    assert 'value="exact" selected' in again


def test_a_bad_birth_date_is_shown_beside_the_field_with_the_value_kept(clerk_client):
    # std 2.1.3 (j340) birth date in 和暦; bad input keeps the values (brief: errors beside fields)
    f.family()
    markup = page(
        clerk_client.get(
            "/search/?"
            + urlencode({"s": "1", "name_kana": "サガミ", "birth_date": "昭和99年1月1日"})
        )
    )
    block = field_block(markup, "f-birth_date")
    assert 'value="昭和99年1月1日"' in block
    assert 'aria-invalid="true"' in block
    assert 'class="field-error"' in block and "元号の範囲外" in text(block)
    assert "生年月日" in text(block.split('class="field-error"')[1])
    assert 'value="サガミ"' in field_block(markup, "f-name_kana")
    assert 'id="search-results"' in markup and "該当 <strong>" not in markup
    assert not log_entries("住民検索")  # refused before searching
    assert not SearchHistory.objects.exists()


def test_birth_year_in_either_calendar_finds_the_same_persons(clerk_client):
    # std 2.1.3 (j340): 西暦と和暦はそれぞれ対応する年に置き換えられ検索がされること
    _, family = f.family()
    western = page(clerk_client.get("/search/?s=1&name_kana=サガミ&birth_date=1980"))
    japanese = page(clerk_client.get("/search/?s=1&name_kana=サガミ&birth_date=S55"))
    for markup in (western, japanese):
        assert "該当 <strong>1</strong> 件" in markup
        assert f'href="/residents/{family[0].atena_no}/"' in markup


def test_a_search_without_criteria_says_what_to_enter(clerk_client):
    markup = page(clerk_client.get("/search/?s=1&status=resident"))
    assert 'class="findings"' in markup and "検索条件が入力されていません" in markup
    assert 'value="resident" selected' in markup


def test_schema_errors_are_japanese_and_beside_their_field(clerk_client):
    markup = page(clerk_client.get("/search/?s=1&name_kana=サガミ&sex=9"))
    block = field_block(markup, "f-sex")
    assert 'aria-invalid="true"' in block and "性別の指定が正しくありません" in text(block)


def test_removed_and_past_matches_are_marked(clerk_client):
    # std 2.1.3 (j340): 除票 included; names and addresses matched on past records
    gone = one(days_ago=20, family_name="除票", name_kana="ジョヒョウ イチロウ")
    move_out(gone, days(-2))
    moved = one(days_ago=20, family_name="転居", name_kana="テンキョ ジロウ")
    move_within(moved, days(-5))
    markup = page(clerk_client.get("/search/?" + urlencode({"s": "1", "address": "上矢部"})))
    row_of = {
        a: markup[markup.index(f'href="/residents/{a}/"') :].split("</tr>")[0]
        for a in (gone.atena_no, moved.atena_no)
    }
    assert "消除（除票）" in row_of[gone.atena_no] and "国内転出" in row_of[gone.atena_no]
    assert "過去の記載で一致" in row_of[moved.atena_no]
    only_residents = page(clerk_client.get("/search/?s=1&address=上矢部&status=resident"))
    assert gone.atena_no not in only_residents


def test_search_by_my_number_is_a_post_and_never_echoes_the_number(supervisor_client):
    # DESIGN invariant 6; std 2.1.3 (j340) 個人番号から検索
    person = one(my_number=MY_NUMBER)
    markup = page(
        supervisor_client.post("/search/", {"my_number": MY_NUMBER, "number_status": "all"})
    )
    assert f'href="/residents/{person.atena_no}/"' in markup
    assert MY_NUMBER not in markup
    [saved] = SearchHistory.objects.all()
    assert saved.criteria["my_number"] == "***"
    assert "個人番号：***（再入力が必要）" in markup
    bad = page(supervisor_client.post("/search/", {"my_number": "123456789019"}))
    block = field_block(bad, "f-my_number")
    assert 'aria-invalid="true"' in block and "個人番号が正しくありません" in text(block)
    assert "123456789019" not in bad
    assert not any(MY_NUMBER in str(e.detail) for e in OperationLogEntry.objects.all())


def test_more_results_than_shown_asks_to_narrow_the_search(clerk_client, monkeypatch):
    from jumin.web import inquiry

    monkeypatch.setattr(inquiry, "PAGE_SIZE", 2)
    f.family()
    markup = page(clerk_client.get("/search/?s=1&name_kana=サガミ"))
    assert "該当 <strong>4</strong> 件（1～2件目を表示）" in markup
    assert "絞り込んでください" in markup
    assert "次の2件" in markup
    second = re.search(r'href="(\?[^"]*offset=2[^"]*)"', markup)
    assert second is not None
    rest = page(clerk_client.get("/search/" + html_lib.unescape(second.group(1))))
    assert "（3～4件目を表示）" in rest


def test_the_ward_of_the_clerk_is_the_default(client):
    # std 2.1.3 (j340): 操作者の所属により管轄区を自動判定し、検索画面上の区を既定値
    from jumin.accounts.tests.factories import OrgUnitFactory

    staff = StaffFactory(roles=["counter_clerk"], org_unit=OrgUnitFactory(name="緑区役所区民課"))
    client.force_login(staff)
    markup = page(client.get("/search/"))
    assert 'value="緑区" selected' in field_block(markup, "f-ward")
    other = page(client.get("/search/?s=1&name_kana=サガミ&ward="))
    assert 'value="" selected' in field_block(other, "f-ward")  # 他区の選択も可能


# --------------------------------------------------------------------------- 個人照会


def test_person_shows_the_record_masked_number_and_history(clerk_client):
    # std 2.2.1 (j350); DESIGN invariants 5 and 6
    _, family = f.family()
    head = Resident.objects.get(atena_no=family[0].atena_no)
    markup = page(clerk_client.get(f"/residents/{head.atena_no}/"))
    body = text(markup)
    for value in (
        "相模　太郎",
        "サガミ タロウ",
        "昭和55年4月1日",
        "男",
        "世帯主",
        head.address,
        head.address_code,
        "神奈川県相模原市中央区中央二丁目",  # 本籍
        "相模 太郎",  # 筆頭者
        "東京都千代田区霞が関二丁目1番2号",  # 前住所
        head.household_no,
    ):
        assert value in body, value
    assert (
        "item-honseki" in markup and "item-juminhyo-code" in markup and "item-my-number" in markup
    )
    assert f'href="/households/{head.household_no}/"' in markup
    assert f'href="/procedures/?atena_no={head.atena_no}"' in markup
    history = markup[markup.index('id="h-history"') :]
    assert "国内転入" in history and "新規記載" in history
    read = log_entries("住民照会")[-1]
    assert read.targets == [head.atena_no] and read.my_number_accessed is False
    assert log_entries("異動履歴照会")[-1].targets == [head.atena_no]


def test_person_masks_a_recorded_number_and_hides_the_form_without_the_permission(clerk_client):
    person = one(my_number=MY_NUMBER)
    markup = page(clerk_client.get(f"/residents/{person.atena_no}/"))
    assert "**** **** ****" in markup
    assert MY_NUMBER not in markup and "1234 5678 9018" not in markup
    assert "/my-number/" not in markup  # no reveal form without the permission


def test_history_lists_each_change_with_its_label_and_what_changed(clerk_client):
    # std 2.2.1 (j350) with the items of std 1.2.1 (j200)
    person = one(days_ago=20)
    old_address = person.address
    move_within(person, days(-5))
    markup = page(clerk_client.get(f"/residents/{person.atena_no}/"))
    history = markup[markup.index('id="h-history"') :]
    rows = history.split("<tr")[2:]  # newest first: 転居, then 国内転入
    assert len(rows) == 2
    assert "転居" in rows[0] and "国内転入" in rows[1]
    assert format_wareki(days(-5)) in rows[0]
    assert "住所" in text(rows[0]) and old_address in text(rows[0])
    assert re.search(r'<span class="changed">[^<]*緑区', rows[0])
    assert "新規記載" in rows[1]
    # the current record highlights the items the latest change changed
    address_row = markup[markup.index(">住所</th>") :].split("</tr>")[0]
    assert "changed" in address_row


def test_as_of_shows_the_earlier_address_after_a_move(clerk_client):
    # DESIGN invariant 2; std 1.2.1 (j200): the record as it stood on a day
    person = one(days_ago=20)
    old_address = person.address
    move_within(person, days(-5))
    now = Resident.objects.get(atena_no=person.atena_no)
    assert now.address != old_address
    before_move = days(-10)
    for typed in (before_move.isoformat(), format_wareki(before_move)):
        markup = page(
            clerk_client.get(f"/residents/{person.atena_no}/?" + urlencode({"as_of": typed}))
        )
        address_row = markup[markup.index(">住所</th>") :].split("</tr>")[0]
        assert old_address in address_row and now.address not in address_row
        assert "時点</strong>の記載（履歴番号 1" in markup
        assert f'value="{typed}"' in markup
    assert log_entries("住民照会")[-1].detail["as_of"] == before_move.isoformat()
    current = page(clerk_client.get(f"/residents/{person.atena_no}/"))
    assert now.address in current[current.index(">住所</th>") :].split("</tr>")[0]


def test_as_of_errors_are_japanese_beside_the_field(clerk_client):
    person = one(days_ago=5)
    bad = page(clerk_client.get(f"/residents/{person.atena_no}/?as_of=令和99年13月1日"))
    block = field_block(bad, "as_of")
    assert 'aria-invalid="true"' in block and "基準日" in text(block)
    assert 'value="令和99年13月1日"' in block
    early = page(clerk_client.get(f"/residents/{person.atena_no}/?as_of=2000-01-01"))
    block = field_block(early, "as_of")
    assert "まだ記載されていません" in text(block)
    assert person.name in early  # the current record is shown instead
    assert "Traceback" not in bad + early


def test_unknown_person_is_a_japanese_404(clerk_client):
    response = clerk_client.get("/residents/0000009999/")
    assert response.status_code == 404
    assert "宛名番号 0000009999 の住民記録はありません" in response.content.decode()


def test_removed_person_has_a_banner_with_reason_and_date(clerk_client):
    # 除票 (std 1.1.5): still readable, clearly marked
    person = one(days_ago=20)
    move_out(person, days(-2))
    markup = page(clerk_client.get(f"/residents/{person.atena_no}/"))
    banner = markup[markup.index('class="banner removed"') :].split("</div>")[0]
    assert "消除（除票）" in banner and "国内転出" in banner
    assert format_wareki(days(-2)) in banner
    assert 'class="banner moving"' not in markup
    before = page(clerk_client.get(f"/residents/{person.atena_no}/?as_of={days(-10).isoformat()}"))
    assert 'class="banner removed"' not in before


def test_planned_move_out_is_marked_and_the_person_still_a_resident(clerk_client):
    # std 4.1.3.0.1 (j640): a 転出 notified in advance takes effect on the planned day
    person = one(days_ago=20)
    move_out(person, days(7))
    markup = page(clerk_client.get(f"/residents/{person.atena_no}/"))
    assert 'class="banner moving"' in markup and "転出予定" in markup
    assert format_wareki(days(7)) in markup
    assert 'class="banner removed"' not in markup
    household = page(clerk_client.get(f"/households/{person.household_no}/"))
    members = household[household.index('id="h-members"') :]
    assert "転出予定" in members.split("</table>")[0]
    assert 'id="h-removed"' not in household


def test_person_edit_lock_is_shown(clerk_client):
    person = one()
    holder = f.clerk()
    services.acquire_lock(holder, person.atena_no)
    markup = page(clerk_client.get(f"/residents/{person.atena_no}/"))
    assert "badge lock" in markup and holder.staff.name in markup and "入力中" in markup


def test_person_view_needs_a_fixed_number_of_queries(clerk_client, django_assert_max_num_queries):
    # brief: no N+1 — the same few queries however long the history (session, staff, roles,
    # the record, the history, the lock, and two logged reads with their hash-chain updates)
    short = one(days_ago=30, my_number=MY_NUMBER)
    long = one(days_ago=30, my_number="023456789013")
    for n in range(4):
        (move_within if n % 2 == 0 else move_within_back)(long, days(-20 + n))
    clerk_client.get(f"/residents/{short.atena_no}/")  # warm the session
    counts = []
    for person in (short, long):
        with CaptureQueriesContext(connection) as queries:
            page(clerk_client.get(f"/residents/{person.atena_no}/"))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(22):
        page(clerk_client.get(f"/residents/{long.atena_no}/"))


def move_within_back(resident: Resident, occurred_on: dt.date) -> None:
    data = moves.MoveWithinInput.model_validate(
        {
            "occurred_on": occurred_on,
            "notified_on": occurred_on,
            "address": {"address_code": f.ADDRESS_CODE, "banchi": "3丁目1番1号"},
            "persons": [{"atena_no": resident.atena_no}],
        }
    )
    commit(moves.submit_move_within(f.clerk(), data))


# --------------------------------------------------------------------------- 個人番号の表示


def test_reveal_with_a_reason_shows_the_number_once_and_logs_it(supervisor_client):
    # DESIGN invariant 6: on request, with a reason, logged as a 個人番号 access
    person = one(my_number=MY_NUMBER)
    response = supervisor_client.post(
        f"/residents/{person.atena_no}/my-number/", {"reason": "個人番号カード交付の本人確認"}
    )
    markup = page(response)
    assert "1234 5678 9018" in markup
    assert "no-store" in response["Cache-Control"]
    [entry] = log_entries("個人番号表示")
    assert entry.my_number_accessed is True
    assert entry.targets == [person.atena_no]
    assert entry.detail == {"reason": "個人番号カード交付の本人確認"}
    assert entry.operator == supervisor_client.staff
    # shown once: reading the person again masks it
    again = page(supervisor_client.get(f"/residents/{person.atena_no}/"))
    assert "1234 5678 9018" not in again and MY_NUMBER not in again and "**** **** ****" in again


def test_reveal_without_a_reason_shows_the_error_beside_the_field(supervisor_client):
    person = one(my_number=MY_NUMBER)
    markup = page(
        supervisor_client.post(f"/residents/{person.atena_no}/my-number/", {"reason": "  "})
    )
    form = markup[markup.index('class="reveal"') :].split("</form>")[0]
    assert 'aria-invalid="true"' in form
    assert "個人番号を表示する理由を入力してください" in text(form)
    assert MY_NUMBER not in markup and "1234 5678 9018" not in markup
    assert not OperationLogEntry.objects.filter(my_number_accessed=True).exists()


def test_a_number_typed_into_the_reason_is_not_echoed(supervisor_client):
    person = one(my_number=MY_NUMBER)
    markup = page(
        supervisor_client.post(
            f"/residents/{person.atena_no}/my-number/", {"reason": f"{MY_NUMBER}の確認"}
        )
    )
    assert "表示理由に個人番号を書くことはできません" in markup
    assert MY_NUMBER not in markup


def test_reveal_without_the_permission_is_the_403_page(clerk_client):
    # counter_clerk (窓口担当) lacks register:my_number:read
    person = one(my_number=MY_NUMBER)
    response = clerk_client.post(f"/residents/{person.atena_no}/my-number/", {"reason": "確認"})
    assert response.status_code == 403
    markup = response.content.decode()
    assert "個人番号の表示" in markup and MY_NUMBER not in markup
    [refusal] = list(OperationLogEntry.objects.filter(outcome=Outcome.DENIED))
    assert refusal.my_number_accessed is False
    assert refusal.detail == {"missing_permission": "register:my_number:read"}


def test_reveal_is_post_only(supervisor_client):
    person = one(my_number=MY_NUMBER)
    assert supervisor_client.get(f"/residents/{person.atena_no}/my-number/").status_code == 405


# --------------------------------------------------------------------------- 世帯照会


def test_household_lists_the_head_first_and_logs_every_member(clerk_client):
    # std 5.2 (j1010) order; DESIGN invariant 5
    _, family = f.family()
    household_no = family[0].household_no
    markup = page(clerk_client.get(f"/households/{household_no}/"))
    members = markup[markup.index('id="h-members"') :].split("</table>")[0]
    order = [
        m.start() for m in (re.search(f'href="/residents/{p.atena_no}/"', members) for p in family)
    ]
    assert order == sorted(order)  # 世帯主, 妻, 子 (older), 子
    assert "世帯主" in members.split("</tr>")[1]
    assert "相模　太郎" in text(markup[markup.index("household-summary") :].split("</table>")[0])
    [entry] = log_entries("世帯照会")
    assert sorted(entry.targets) == sorted(p.atena_no for p in family)


def test_household_shows_removed_members_apart_and_as_of(clerk_client):
    _, family = f.family()
    daughter = family[3]
    move_out(Resident.objects.get(atena_no=daughter.atena_no), days(-1))
    markup = page(clerk_client.get(f"/households/{family[0].household_no}/"))
    members = markup[markup.index('id="h-members"') :].split("</table>")[0]
    removed = markup[markup.index('id="h-removed"') :].split("</table>")[0]
    assert daughter.atena_no not in members
    assert daughter.atena_no in removed and "国内転出" in removed and "除票" in removed
    before = page(
        clerk_client.get(f"/households/{family[0].household_no}/?as_of={days(-2).isoformat()}")
    )
    assert daughter.atena_no in before[before.index('id="h-members"') :].split("</table>")[0]
    assert 'id="h-removed"' not in before


def test_household_errors(clerk_client):
    response = clerk_client.get("/households/0000009999/")
    assert response.status_code == 404
    assert "世帯番号 0000009999 の世帯はありません" in response.content.decode()
    _, family = f.family()
    bad = page(clerk_client.get(f"/households/{family[0].household_no}/?as_of=あした"))
    assert 'aria-invalid="true"' in field_block(bad, "as_of")


def test_household_view_needs_a_fixed_number_of_queries(
    clerk_client, django_assert_max_num_queries
):
    # brief: no N+1 — one logged read whatever the number of members
    _, family = f.family()
    _, [alone] = f.committed_move_in(f.person())
    clerk_client.get(f"/households/{alone.household_no}/")  # warm the session
    counts = []
    for household_no in (alone.household_no, family[0].household_no):
        with CaptureQueriesContext(connection) as queries:
            page(clerk_client.get(f"/households/{household_no}/"))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(14):
        page(clerk_client.get(f"/households/{family[0].household_no}/"))


# --------------------------------------------------------------------------- date filters


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        # std 1.1.9 (j90): 和暦 on screens; a foreign resident's birth date in 西暦
        ({"birth_date": dt.date(2019, 5, 1)}, "令和元年5月1日"),
        ({"birth_date": dt.date(1990, 5, 1), "resident_type": "foreign"}, "1990年5月1日"),
        # std 1.1.8 (j80): an uncertain date as recorded
        ({"birth_date": dt.date(1975, 1, 1), "birth_date_text": "about|S|50|||"}, "昭和50年頃"),
        ({"birth_date": dt.date(1, 1, 1), "birth_date_text": "unknown_all|||||"}, "年月日不詳"),
    ],
)
def test_birth_dates_are_shown_as_the_register_prints_them(record, expected):
    from types import SimpleNamespace

    from jumin.web.templatetags.jumin_format import birth

    shown = text(str(birth(SimpleNamespace(**({"birth_date_text": ""} | record)))))
    assert shown.startswith(expected)


def test_wareki_filter_shows_the_western_date_beside():
    from jumin.web.templatetags.jumin_format import reason_label, sex_label, wareki

    assert text(str(wareki(dt.date(2026, 11, 26)))) == "令和8年11月26日 2026-11-26"
    assert wareki(None) == ""
    assert (sex_label("2"), reason_label("move_within"), reason_label("nonsense")) == (
        "女",
        "転居",
        "nonsense",
    )
