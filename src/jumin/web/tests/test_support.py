"""支援措置の管理 screens (std 1.1.16 j160, 2.2.4 j380, 3.4 j440) and the 支援措置対象 banner /
refusal on the person and household screens: what the officer and the clerk see, bad input
kept beside its field with nothing saved, one-time forms, permissions, logging."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from django.utils import timezone

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry, Outcome
from jumin.register.tests import factories as f
from jumin.support import services
from jumin.support.models import SupportLift, SupportMeasure
from jumin.support.schemas import ConfirmIn
from jumin.support.tests import factories as sf

pytestmark = pytest.mark.django_db


def page(response, status: int = 200) -> str:
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def field_block(html: str, name: str, attr: str = "name") -> str:
    """The markup of one form field (its .field div), found by the control's name (or id)."""
    match = re.search(
        r'<div class="field[^"]*">(?:(?!<div class="field).)*?'
        + attr
        + '="'
        + re.escape(name)
        + r'".*?</div>',
        html,
        re.S,
    )
    assert match, f"no field {name}"
    return match.group(0)


def last_entry():
    return OperationLogEntry.objects.order_by("-seq").first()


@pytest.fixture
def officer_client(client):
    staff = StaffFactory(roles=["support_measure_officer"])
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def family():
    _, members = f.family()
    return members


def _login(client, *roles):
    staff = StaffFactory(roles=list(roles))
    client.force_login(staff)
    client.staff = staff
    return client


# --------------------------------------------------------------------------- person screens


def test_the_clerk_gets_the_hard_error_on_a_protected_person(client, family):
    # std 3.4 (j440): エラーとすることができる — and nothing of the record is shown
    head, wife, son, _ = family
    sf.provisional(wife, covered=[{"atena_no": son.atena_no}])
    _login(client, "counter_clerk")
    html = page(client.get(f"/residents/{wife.atena_no}/"), 403)
    assert "支援措置の対象者のため表示できません" in html
    assert "支援措置担当者" in html
    assert wife.address not in html and wife.name not in html
    assert last_entry().outcome == Outcome.DENIED
    html = page(client.get(f"/households/{head.household_no}/"), 403)
    assert head.address not in html
    page(client.get(f"/residents/{head.atena_no}/"))  # the others as before


def test_the_officer_sees_the_record_with_the_banner(officer_client, family, monkeypatch):
    # std 2.2.4 (j380): 支援措置期間中又は仮支援措置期間中である旨が明示的に確認でき…詳細情報
    head, wife, _, _ = family
    measure = sf.provisional(wife)
    html = page(officer_client.get(f"/residents/{wife.atena_no}/"))
    assert 'id="support-banner"' in html
    assert "支援措置対象" in html and "仮支援措置" in html
    assert f'href="/support/{measure.pk}/"' in html
    assert wife.address in html
    services.confirm(sf.officer(), measure.pk, ConfirmIn())
    end = SupportMeasure.objects.get(pk=measure.pk).end_on
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: end - dt.timedelta(days=5))
    html = page(officer_client.get(f"/residents/{wife.atena_no}/"))
    assert "1か月以内（あと5日）" in html  # std 3.4: the alert when viewing the record
    html = page(officer_client.get(f"/residents/{head.atena_no}/"))
    assert 'id="support-banner"' not in html


# --------------------------------------------------------------------------- administration


def test_registering_through_the_screen(officer_client, family):
    _, wife, son, _ = family
    html = page(officer_client.get("/support/new/"))
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    form = {
        "token": token,
        "atena_no": wife.atena_no,
        "applied_on": "R7.4.1" if timezone.localdate() >= dt.date(2025, 4, 1) else "2020-01-01",
        "kind": "dv",
        "contact": "090-1111-2222",
        "restrict_inspection": ["0", "1"],
        "restrict_copies": ["0", "1"],
        "restrict_koseki_attachment": "0",
        "covered.0.atena_no": son.atena_no,
        "covered.0.relationship": "子",
        "abusers.0.name": "加害 次郎",
        "abusers.0.name_kana": "カガイ ジロウ",
        "abusers.0.birth_date": "昭和50年5月5日",
    }
    response = officer_client.post("/support/new/", form)
    assert response.status_code == 302
    measure = SupportMeasure.objects.get()
    assert response["Location"] == f"/support/{measure.pk}/"
    assert measure.restrict_copies and not measure.restrict_koseki_attachment
    assert measure.abusers.get().birth_date == dt.date(1975, 5, 5)
    # the same form again (reload, double click) shows the first result, writes nothing
    again = officer_client.post("/support/new/", form)
    assert again["Location"] == f"/support/{measure.pk}/"
    assert SupportMeasure.objects.count() == 1
    html = page(officer_client.get(response["Location"]))
    assert "仮支援措置として登録しました" in html
    assert "加害 次郎" in html and wife.name in html and son.name in html
    assert 'id="confirm-form"' in html
    assert last_entry().function == services.FUNCTION_READ


def test_bad_input_is_kept_with_the_error_beside_the_field(officer_client, family):
    html = page(officer_client.get("/support/new/"))
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    form = {
        "token": token,
        "atena_no": "999999",
        "applied_on": "あした",
        "kind": "dv",
        "covered.1.name": "外部 花子",
        "abusers.0.name_kana": "kagai",
    }
    html = page(officer_client.post("/support/new/", form), 422)
    assert "登録できませんでした" in html
    block = field_block(html, "applied_on")
    assert 'aria-invalid="true"' in block and "申出年月日「あした」" in block
    assert 'value="あした"' in block  # kept as typed
    assert 'value="外部 花子"' in field_block(html, "covered.1.name")
    assert 'value="kagai"' in field_block(html, "abusers.0.name_kana")
    assert not SupportMeasure.objects.exists()
    # the date readable: the service's findings, each beside its field
    form["applied_on"] = "2020-01-01"
    html = page(officer_client.post("/support/new/", form), 422)
    assert "申出者の宛名番号 999999 の住民記録はありません" in field_block(html, "atena_no")
    assert 'aria-invalid="true"' in field_block(html, "covered.1.birth_date")
    assert 'aria-invalid="true"' in field_block(html, "abusers.0.name")
    assert 'aria-invalid="true"' in field_block(html, "abusers.0.name_kana")
    assert 'value="外部 花子"' in field_block(html, "covered.1.name")
    assert not SupportMeasure.objects.exists()


def test_confirm_extend_and_terminate_on_the_detail_screen(officer_client, family, monkeypatch):
    # std 3.4 (j440)
    wife = family[1]
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2025, 4, 1))
    measure = sf.provisional(wife, applied_on=dt.date(2025, 3, 30))
    response = officer_client.post(f"/support/{measure.pk}/confirm/", {"start_on": "R7.4.1"})
    assert response.status_code == 302
    html = page(officer_client.get(f"/support/{measure.pk}/"))
    assert "令和8年3月31日" in html  # end set automatically
    assert "延長の処理は 令和8年2月28日 からできます" in html
    html = page(officer_client.post(f"/support/{measure.pk}/extend/", {}), 422)
    assert "1か月前" in html and "令和8年2月28日" in html
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 3, 1))
    assert officer_client.post(f"/support/{measure.pk}/extend/", {}).status_code == 302
    assert SupportMeasure.objects.get(pk=measure.pk).end_on == dt.date(2027, 3, 31)
    html = page(officer_client.post(f"/support/{measure.pk}/terminate/", {"reason": "other"}), 422)
    assert 'aria-invalid="true"' in field_block(html, "f-terminate-note", "id")
    assert (
        officer_client.post(
            f"/support/{measure.pk}/terminate/", {"reason": "requested", "note": "本人の申出"}
        ).status_code
        == 302
    )
    assert SupportMeasure.objects.get(pk=measure.pk).status == "terminated"


def test_the_list_shows_status_end_dates_and_alerts(officer_client, family, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2025, 4, 1))
    ending = sf.active(family[1], start_on=dt.date(2025, 4, 1))
    waiting = sf.provisional(family[0], applied_on=dt.date(2025, 3, 31))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 3, 20))
    html = page(officer_client.get("/support/"))
    assert f'id="measure-{ending.pk}"' in html and f'id="measure-{waiting.pk}"' in html
    assert "令和8年3月31日" in html and "期間終了まで11日" in html
    assert 'id="support-alerts"' in html
    entry = last_entry()
    assert entry.function == services.FUNCTION_LIST
    assert sorted(entry.targets) == sorted([family[0].atena_no, family[1].atena_no])


def test_the_end_notice_downloads_as_a_pdf(officer_client, family, tmp_path):
    # std 20.5.1: 支援措置期間終了通知
    measure = sf.active(family[1])
    response = officer_client.get(f"/support/{measure.pk}/end-notice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "支援措置の期間終了について（通知）" in flat
    assert re.sub(r"\s+", "", family[1].name) + "様" in flat
    entry = last_entry()
    assert entry.function == services.FUNCTION_NOTICE and entry.category == "document_issue"


def test_a_lift_through_the_screen_shows_its_number_once(officer_client, family):
    wife = family[1]
    sf.provisional(wife)
    html = page(officer_client.get(f"/support/lifts/?atena_no={wife.atena_no}"))
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    form = {
        "token": token,
        "atena_nos": f"{wife.atena_no}、{family[0].atena_no}",
        "purpose": services.Purpose.CERTIFICATE,
        "reason": "申出者本人の請求と確認",
    }
    html = page(officer_client.post("/support/lifts/", form), 201)
    lift = SupportLift.objects.get()
    assert f'<span class="lift-number" id="lift-number">{lift.pk}</span>' in html
    assert sorted(lift.targets) == sorted([wife.atena_no, family[0].atena_no])
    again = officer_client.post("/support/lifts/", form)
    assert again.status_code == 302 and SupportLift.objects.count() == 1
    html = page(
        officer_client.post(
            "/support/lifts/", {"token": "x", "atena_nos": "", "purpose": "", "reason": ""}
        ),
        422,
    )
    assert 'aria-invalid="true"' in field_block(html, "reason")


@pytest.mark.parametrize("role", ["counter_clerk", "reviewer", "auditor"])
def test_other_roles_may_not_open_the_administration(client, family, role):
    measure = sf.provisional(family[1])
    _login(client, role)
    for url in ("/support/", "/support/new/", f"/support/{measure.pk}/", "/support/lifts/"):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(f"/support/{measure.pk}/terminate/", {"reason": "requested"}).status_code == 403
    )
    assert SupportMeasure.objects.get(pk=measure.pk).status == "provisional"
