"""ホーム: who is signed in, the caller's own drafts, rejected drafts with the reason, and the
review queue for a reviewer. std 4.0.8 (j530), 10.5 (j1400)."""

from __future__ import annotations

import re

import pytest

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry
from jumin.register import services
from jumin.register.procedures import move_in
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db


def login(client, actor) -> None:
    client.force_login(actor.staff)
    if actor.terminal is not None:
        session = client.session
        session["terminal_id"] = actor.terminal.pk
        session.save()


def draft(clerk, *people):
    return move_in.submit(clerk, f.move_in_input(*people), acknowledged=["duplicate.person"])


def section(page: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">.*?</section>', page, re.S)
    assert match is not None, heading_id
    return match.group(0)


def test_home_greets_with_role_unit_terminal_and_help(client):
    # std 10.5 (j1400): help on the screen
    clerk = f.clerk()
    login(client, clerk)
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    who = section(page, "h-who")
    assert f"{clerk.staff.name} さん" in who
    assert "窓口担当" in who
    assert clerk.staff.org_unit.name in who
    assert clerk.terminal.name in who
    assert '<details class="help">' in page and "Alt+S" in page and "Alt+N" in page
    assert page.count("<h1>") == 1
    assert 'href="/search/"' in page and 'href="/procedures/"' in page
    assert "現在アラートはありません" in page


def test_a_clerk_sees_their_drafts_but_not_the_queue(client):
    # std 4.0.8 (j530): drafts are seen by their author; review is for reviewers
    clerk = f.clerk()
    mine = draft(clerk, f.person(family_name="森", given_name="一夫", name_kana="モリ カズオ"))
    theirs = draft(f.clerk())
    login(client, clerk)
    page = client.get("/").content.decode()
    drafts = section(page, "h-mine")
    assert "（1件）" in drafts
    assert f'href="/changes/{mine.pk}/"' in drafts
    assert "森　一夫" in drafts and "転入" in drafts and "仮登録（決裁待ち）" in drafts
    assert f'href="/changes/{theirs.pk}/"' not in page
    assert 'id="h-queue"' not in page and "決裁待ち</h2>" not in page
    # the persons shown are logged (invariant 5)
    (entry,) = OperationLogEntry.objects.filter(function="ホーム（異動の一覧）")
    assert entry.operator == clerk.staff
    assert entry.targets == [p["atena_no"] for p in mine.payload["persons"]]


def test_a_reviewer_sees_the_queue_count_and_the_first_drafts(client):
    # std 4.0.8 (j530): 仮登録一覧 for the reviewer
    clerk = f.clerk()
    changes = [draft(clerk) for _ in range(7)]
    reviewer = f.reviewer()
    login(client, reviewer)
    page = client.get("/").content.decode()
    queue = section(page, "h-queue")
    assert "<strong>7件</strong>" in queue
    for change in changes[:5]:
        assert f'href="/changes/{change.pk}/"' in queue
    assert f'href="/changes/{changes[5].pk}/"' not in queue  # the first five only
    assert clerk.staff.name in queue
    assert 'id="h-mine"' not in page  # a reviewer enters no drafts


def test_the_queue_count_leaves_out_the_viewers_own_drafts(client):
    both = StaffFactory(roles=["counter_clerk", "reviewer"])
    actor = f.Actor.of(both, None, "web")
    draft(actor)
    draft(f.clerk())
    login(client, actor)
    page = client.get("/").content.decode()
    queue = section(page, "h-queue")
    assert "<strong>1件</strong>" in queue
    assert "自分が入力した1件は別の職員が決裁します" in queue


def test_a_rejected_draft_shows_as_an_alert_with_the_reason(client):
    # std 4.0.8 (j530): the author learns why their draft was returned
    clerk = f.clerk()
    change = draft(clerk)
    services.reject_change(f.reviewer(), change.pk, reason="世帯主の続柄が違います。")
    login(client, clerk)
    page = client.get("/").content.decode()
    alerts = section(page, "h-alerts")
    assert "却下（差戻し）された異動が1件あります" in alerts
    assert "世帯主の続柄が違います。" in alerts
    assert f'href="/changes/{change.pk}/"' in alerts
    assert "現在アラートはありません" not in page
    assert "（0件）" in section(page, "h-mine")  # no longer waiting


def test_a_role_without_register_permissions_sees_no_register_sections(client):
    client.force_login(StaffFactory(roles=["auditor"]))
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="h-mine"' not in page and 'id="h-queue"' not in page
    assert 'href="/search/"' not in re.search(r'<p class="actions">.*?</p>', page, re.S).group(0)
    assert not OperationLogEntry.objects.filter(function="ホーム（異動の一覧）").exists()
