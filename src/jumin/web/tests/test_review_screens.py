"""決裁 screens: the list of drafts, bulk commit, a change's detail with commit, reject and
withdraw. std 4.0.8 (j530)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.register import services
from jumin.register.models import Change, Resident, ResidentHistory
from jumin.register.procedures import identity, move_in, moves
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

MY_NUMBER = "123456789018"


def login(client, actor: Actor) -> None:
    client.force_login(actor.staff)
    if actor.terminal is not None:
        session = client.session
        session["terminal_id"] = actor.terminal.pk
        session.save()


def draft(clerk: Actor | None = None, *people, **overrides) -> Change:
    return move_in.submit(
        clerk or f.clerk(), f.move_in_input(*people, **overrides), acknowledged=["duplicate.person"]
    )


def draft_with_alert(clerk: Actor) -> Change:
    """A move-in whose certificate date is far from the move-in date: an alert the clerk
    acknowledged when saving."""
    today = dt.date.today()
    return move_in.submit(
        clerk,
        f.move_in_input(
            f.person(family_name="大野", given_name="次郎", name_kana="オオノ ジロウ"),
            f.person(
                family_name="大野",
                given_name="春子",
                name_kana="オオノ ハルコ",
                sex="2",
                relationship="妻",
            ),
            certificate={
                "municipality_code": "131016",
                "planned_on": today - dt.timedelta(days=60),
            },
        ),
        acknowledged=["move_in.date_differs", "duplicate.person"],
    )


def entries(function: str, **filters) -> list[OperationLogEntry]:
    return list(OperationLogEntry.objects.filter(function=function, **filters).order_by("seq"))


def atenas(change: Change) -> list[str]:
    return [p["atena_no"] for p in change.payload["persons"]]


def html(response) -> str:
    return response.content.decode()


# --- the list ---------------------------------------------------------------------------------


def test_review_list_shows_a_clerks_draft_and_logs_the_read(client):
    # std 4.0.8 (j530): 仮登録一覧は画面に表示され、異動者が選択できること
    clerk = f.clerk()
    change = draft_with_alert(clerk)
    reviewer = f.reviewer()
    login(client, reviewer)
    response = client.get("/review/")
    assert response.status_code == 200
    page = html(response)
    row = re.search(rf'<tr id="draft-{change.pk}">.*?</tr>', page, re.S)
    assert row is not None
    row_html = row.group(0)
    assert f'href="/changes/{change.pk}/"' in row_html
    assert "転入" in row_html
    assert '大野　次郎</span>、<span class="nowrap">大野　春子' in row_html
    assert clerk.staff.name in row_html
    assert clerk.terminal.org_unit.name in row_html  # 入力支所
    assert "30日以上離れています" in row_html  # the acknowledged alert
    assert 'aria-current="page"' in page and "決裁（仮登録一覧）" in page
    # a reviewer without the bulk permission commits one by one: no checkboxes
    assert 'name="change_ids"' not in page
    # invariant 5: the persons shown are logged, as the API logs its list
    (entry,) = entries("仮登録一覧の照会")
    assert entry.operator == reviewer.staff
    assert entry.category == Category.INQUIRY
    assert sorted(entry.targets) == sorted(atenas(change))


def test_review_list_filters_by_unit_and_procedure(client):
    # std 4.0.8 (j530): 一部（入力支所等を単位とした一部）ごとに表示
    first, second = f.clerk(), f.clerk()
    a = draft(first)
    b = draft(second)
    login(client, f.supervisor())
    page = html(client.get(f"/review/?unit={first.terminal.org_unit.code}"))
    assert f'id="draft-{a.pk}"' in page
    assert f'id="draft-{b.pk}"' not in page
    page = html(client.get("/review/?procedure=move_within"))
    assert f'id="draft-{a.pk}"' not in page and "0件" in page
    # a bulk commit from the filtered list returns to it
    unit = first.terminal.org_unit.code
    response = client.post("/review/bulk/", {"change_ids": [a.pk], "unit": unit})
    assert response["Location"] == f"/review/?unit={unit}"


def test_own_drafts_are_listed_but_cannot_be_selected(client):
    # std 4.0.8 (j530): nobody reviews their own draft
    both = StaffFactory(roles=["counter_clerk", "supervisor"])
    me = Actor.of(both, None, "web")
    mine = draft(me)
    theirs = draft()
    login(client, me)
    page = html(client.get("/review/"))
    assert "一括決裁は最大100件" in page
    assert f'id="select-{theirs.pk}"' in page
    assert f'id="select-{mine.pk}"' not in page
    assert f'id="own-{mine.pk}"' in page
    assert "選択不可<br>（自分の入力）" in page
    # "select all" selects only the drafts the viewer may commit
    page = html(client.get("/review/?select=all"))
    assert re.search(rf'id="select-{theirs.pk}" checked', page)


# --- bulk commit ------------------------------------------------------------------------------


def test_bulk_commit_within_the_cap_commits_the_selected_and_explains_refusals(client):
    # std 4.0.8 (j530): 全部本登録については、件数に上限
    clerk = f.clerk()
    a, b, c = draft(clerk), draft(clerk), draft(clerk)
    services.withdraw_change(clerk, c.pk)
    boss = f.supervisor()
    login(client, boss)
    response = client.post("/review/bulk/", {"change_ids": [a.pk, b.pk, c.pk]})
    assert response.status_code == 302
    assert response["Location"] == "/review/"
    assert {x.status for x in Change.objects.filter(pk__in=[a.pk, b.pk])} == {"committed"}
    for change in (a, b):
        assert ResidentHistory.objects.filter(change=change).count() == len(atenas(change))
    page = html(client.get(response["Location"]))
    result = re.search(r'<section class="bulk-result".*?</section>', page, re.S).group(0)
    assert f"異動 {a.pk}" in result and f"異動 {b.pk}" in result
    refused = re.search(r'<div class="findings" id="bulk-refused">.*?</div>', result, re.S)
    assert f"異動 {c.pk}" in refused.group(0)
    assert "既に取下げされています" in refused.group(0)
    assert "2件の異動を本登録（決裁）しました" in page
    # the service's own log entries: one commit per change, one failure
    assert len(entries("異動の本登録（国内転入）", operator=boss.staff)) == 2
    (failed,) = entries("異動の一括本登録", outcome=Outcome.FAILED)
    assert failed.detail["change_id"] == c.pk
    # the result is shown once
    assert "一括決裁の結果" not in html(client.get("/review/"))


def test_bulk_commit_over_the_cap_is_refused_and_keeps_the_selection(client, monkeypatch):
    # std 4.0.8 (j530): the cap on a bulk commit
    monkeypatch.setattr(services, "DEFAULT_BULK_CAP", 2)
    changes = [draft() for _ in range(3)]
    login(client, f.supervisor())
    assert "一括決裁は最大2件" in html(client.get("/review/"))
    response = client.post("/review/bulk/", {"change_ids": [c.pk for c in changes]})
    assert response.status_code == 422
    page = html(response)
    assert "一括本登録は2件までです（3件が選択されています）" in page
    assert 'id="bulk-errors"' in page and 'role="alert"' in page
    for change in changes:
        assert re.search(rf'id="select-{change.pk}" checked', page)
    assert set(Change.objects.values_list("status", flat=True)) == {"draft"}
    assert not ResidentHistory.objects.filter(change__in=changes).exists()


def test_bulk_commit_without_a_selection_says_so(client):
    change = draft()
    login(client, f.supervisor())
    response = client.post("/review/bulk/", {})
    assert response.status_code == 422
    assert "決裁する異動が選択されていません" in html(response)
    change.refresh_from_db()
    assert change.status == "draft"


# --- the detail and commit --------------------------------------------------------------------


def test_detail_shows_the_draft_with_its_acknowledged_alert_and_logs_the_read(client):
    clerk = f.clerk()
    change = draft_with_alert(clerk)
    reviewer = f.reviewer()
    login(client, reviewer)
    response = client.get(f"/changes/{change.pk}/")
    assert response.status_code == 200
    page = html(response)
    assert '<span class="badge draft" id="change-status">仮登録（決裁待ち）</span>' in page
    assert f"{clerk.staff.name}（{clerk.staff.staff_id}）" in page
    assert "未審査" in page
    assert "30日以上離れています" in page  # acknowledged alert
    for atena in atenas(change):
        assert f'id="person-{atena}"' in page
    assert '<td rowspan="' in page and 'class="new muted">新規</td>' in page
    assert "大野　次郎" in page
    # actions for the reviewer, with the version and the access keys
    assert f'<input type="hidden" name="version" value="{change.version}">' in page
    assert 'accesskey="c"' in page and 'accesskey="j"' in page
    assert 'id="withdraw"' not in page
    (entry,) = entries("異動の照会")
    assert entry.operator == reviewer.staff
    assert sorted(entry.targets) == sorted(atenas(change))
    assert entry.detail == {"change_id": change.pk}


def test_detail_of_an_existing_person_shows_before_and_after(client):
    # std 4.0.8 (j530): the reviewer sees what changes; std 1.2.1 (j200): before = the
    # snapshot the draft was built on
    _, members = f.family()
    head = members[0]
    change = moves.submit_move_within(
        f.clerk(),
        moves.MoveWithinInput.model_validate(
            {
                "occurred_on": dt.date.today() - dt.timedelta(days=2),
                "notified_on": dt.date.today(),
                "address": {"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1丁目2番3号"},
                "persons": [{"atena_no": m.atena_no} for m in members],
            }
        ),
    )
    login(client, f.reviewer())
    page = html(client.get(f"/changes/{change.pk}/"))
    person = re.search(rf'<div class="person" id="person-{head.atena_no}">.*?</table>', page, re.S)
    block = person.group(0)
    assert "履歴番号 1 → 2" in block
    address_row = re.search(r"<th scope=\"row\">住所</th>.*?</tr>", block, re.S).group(0)
    assert head.address in address_row
    assert '<td class="changed">神奈川県相模原市緑区町屋1丁目2番3号</td>' in address_row
    # unchanged items are not listed
    assert '<th scope="row">生年月日</th>' not in block


def test_the_my_number_is_never_shown_only_that_it_changes(client):
    # DESIGN invariant 6
    _, (person, *_) = f.committed_move_in(f.person())
    change = identity.submit_my_number_record(
        f.clerk(), identity.MyNumberRecordInput(atena_no=person.atena_no, my_number=MY_NUMBER)
    )
    login(client, f.reviewer())
    page = html(client.get(f"/changes/{change.pk}/"))
    assert '<th scope="row">個人番号</th>' in page
    assert "変更あり" in page
    assert MY_NUMBER not in page and "1234-5678-9018" not in page


def test_the_author_cannot_commit_their_own_draft(client):
    # std 4.0.8 (j530): a different member of staff commits
    both = Actor.of(StaffFactory(roles=["counter_clerk", "reviewer"]), None, "web")
    change = draft(both)
    login(client, both)
    page = html(client.get(f"/changes/{change.pk}/"))
    assert 'id="own-draft"' in page and 'id="commit"' not in page
    assert 'id="withdraw"' in page
    response = client.post(f"/changes/{change.pk}/commit/", {"version": change.version})
    assert response.status_code == 409
    assert "自分で入力した異動は本登録できません。" in html(response)
    assert 'id="refusal"' in html(response)
    change.refresh_from_db()
    assert change.status == "draft"
    assert not Resident.objects.exists()
    assert not ResidentHistory.objects.exists()


def test_a_reviewer_commits_and_sees_the_committed_change(client):
    # std 4.0.8 (j530): 決裁により本登録; POST/redirect/GET
    change = draft_with_alert(f.clerk())
    reviewer = f.reviewer()
    login(client, reviewer)
    response = client.post(f"/changes/{change.pk}/commit/", {"version": change.version})
    assert response.status_code == 302
    assert response["Location"] == f"/changes/{change.pk}/"
    for atena in atenas(change):
        assert ResidentHistory.objects.get(atena_no=atena).change_id == change.pk
    page = html(client.get(response["Location"]))
    assert "本登録（決裁済）" in page
    assert f"異動 {change.pk} を本登録（決裁）しました。" in page
    assert f"{reviewer.staff.name}（{reviewer.staff.staff_id}）" in page
    messages = re.search(r'<table id="messages">.*?</table>', page, re.S).group(0)
    assert "本人確認情報の通知（都道府県サーバ）" in messages
    assert "転入通知（転出元市区町村）" in messages
    assert 'id="commit"' not in page and 'id="reject"' not in page
    (entry,) = entries("異動の本登録（国内転入）")
    assert entry.operator == reviewer.staff
    assert entry.category == Category.CHANGE_ADD
    assert entry.detail == {"change_id": change.pk}


def test_commit_posted_twice_commits_once_and_says_so(client):
    # std 4.0.8 (j530); the issue: double submission never does anything twice
    change = draft()
    login(client, f.reviewer())
    first = client.post(f"/changes/{change.pk}/commit/", {"version": change.version})
    second = client.post(f"/changes/{change.pk}/commit/", {"version": change.version})
    assert first.status_code == 302
    assert second.status_code == 409
    page = html(second)
    assert f"異動 {change.pk} は既に本登録されています。" in page
    assert "本登録（決裁済）" in page
    assert ResidentHistory.objects.filter(change=change).count() == len(atenas(change))
    assert len(entries("異動の本登録（国内転入）")) == 1


def test_a_stale_version_is_refused(client):
    change = draft()
    login(client, f.reviewer())
    response = client.post(f"/changes/{change.pk}/commit/", {"version": change.version + 1})
    assert response.status_code == 409
    assert "この異動は表示後に変更されています。" in html(response)
    change.refresh_from_db()
    assert change.status == "draft"


def test_an_unknown_change_is_404(client):
    login(client, f.reviewer())
    assert client.get("/changes/999999/").status_code == 404
    assert client.post("/changes/999999/commit/", {"version": 1}).status_code == 404


# --- reject and withdraw ----------------------------------------------------------------------


def test_reject_without_a_reason_shows_the_error_beside_the_field(client):
    change = draft()
    login(client, f.reviewer())
    response = client.post(f"/changes/{change.pk}/reject/", {"reason": "   "})
    assert response.status_code == 422
    page = html(response)
    field = re.search(r'<div class="field">.*?</div>', page, re.S).group(0)
    assert 'id="reason"' in field and 'aria-invalid="true"' in field
    assert (
        '<span class="field-error" id="reason-error" role="alert">差戻し理由を入力してください。'
        in field
    )
    change.refresh_from_db()
    assert change.status == "draft"
    assert not entries("異動の差戻し")


def test_reject_with_a_reason_reaches_the_authors_home(client):
    # std 4.0.8 (j530): the draft returns to its author with the reason
    clerk = f.clerk()
    change = draft(clerk)
    reviewer = f.reviewer()
    login(client, reviewer)
    reason = "転入前住所の番地が転出証明書と違います。"
    response = client.post(f"/changes/{change.pk}/reject/", {"reason": reason})
    assert response.status_code == 302
    page = html(client.get(response["Location"]))
    assert "差戻し（却下）" in page and reason in page
    change.refresh_from_db()
    assert change.status == "rejected"
    assert not Resident.objects.exists()
    (entry,) = entries("異動の差戻し")
    assert entry.operator == reviewer.staff and entry.category == Category.CHANGE_DELETE
    # a second post is refused, not applied twice
    again = client.post(f"/changes/{change.pk}/reject/", {"reason": reason})
    assert again.status_code == 409
    assert "既に差戻しされています" in html(again)
    assert len(entries("異動の差戻し")) == 1
    login(client, clerk)
    home = html(client.get("/"))
    alert = re.search(rf'<li class="finding" id="rejected-{change.pk}">.*?</li>', home, re.S)
    assert reason in alert.group(0)


def test_withdraw_is_for_the_author_only(client):
    clerk, other = f.clerk(), f.clerk()
    change = draft(clerk)
    login(client, other)
    response = client.post(f"/changes/{change.pk}/withdraw/")
    assert response.status_code == 409
    assert "取下げは入力した職員のみできます。" in html(response)
    login(client, clerk)
    response = client.post(f"/changes/{change.pk}/withdraw/")
    assert response.status_code == 302
    page = html(client.get(response["Location"]))
    assert "取下げ" in page and f"異動 {change.pk} を取り下げました。" in page
    change.refresh_from_db()
    assert change.status == "withdrawn"
    (entry,) = entries("異動の取下げ")
    assert entry.operator == clerk.staff


# --- permissions ------------------------------------------------------------------------------


def test_roles_without_the_permissions_get_403(client):
    # std 10.3 (j1380): 事務分掌による実施処理の制御; std 4.0.8: drafts hidden from others
    change = draft()
    auditor = StaffFactory(roles=["auditor"])
    client.force_login(auditor)
    for url in ("/review/", f"/changes/{change.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "権限" in html(response)
    contractor = StaffFactory(roles=["certificate_contractor"])  # reads, but no drafts
    client.force_login(contractor)
    assert client.get("/review/").status_code == 403
    clerk = f.clerk()
    login(client, clerk)
    assert client.post(f"/changes/{change.pk}/commit/", {"version": 1}).status_code == 403
    assert client.post(f"/changes/{change.pk}/reject/", {"reason": "x"}).status_code == 403
    login(client, f.reviewer())  # may review, but not in bulk
    assert client.post("/review/bulk/", {"change_ids": [change.pk]}).status_code == 403
    change.refresh_from_db()
    assert change.status == "draft"
    denied = OperationLogEntry.objects.filter(outcome=Outcome.DENIED)
    assert denied.count() >= 5


def test_screens_need_a_login_and_the_right_method(client):
    change = draft()
    assert client.get("/review/").status_code == 302
    assert client.post(f"/changes/{change.pk}/commit/").status_code == 302
    login(client, f.reviewer())
    assert client.get(f"/changes/{change.pk}/commit/").status_code == 405
