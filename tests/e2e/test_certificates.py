"""A clerk issues a household copy of the 住民票 and anyone verifies it on the public page;
after a supervisor revokes it, the same check says revoked (issue 6; std 5.1 j1000, 1.3.8
j300)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.steps import navigation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_issue_a_household_copy_and_verify_it_publicly(
    browser_page: Any, new_page: Any, counter: Any, login: Any, look: Any
) -> None:
    from jumin.certificates.models import IssuedCertificate
    from jumin.register.tests import factories as f

    _, members = f.family()
    head = members[0]
    page = browser_page
    login(page, counter.clerk, counter.terminal)
    page.goto(f"/certificates/new/?atena_no={head.atena_no}")
    look(page, "request")
    for member in members[1:]:
        page.check(f"#f-member-{member.atena_no}")
    page.check("#f-opt-household_form")
    page.fill("#f-requester-name", "相模　太郎")
    page.select_option("#f-requester-atena", head.atena_no)
    page.select_option("#f-id-kind", "driver_license")
    page.fill("#f-id-number", "AB1234")
    with navigation(page):
        page.press("#f-id-number", "Enter")  # the purpose is missing: refused, nothing issued
    assert page.locator("[aria-invalid=true]").count() >= 1
    assert not IssuedCertificate.objects.exists()
    look(page, "request-refused")
    page.fill("#f-purpose", "勤務先への提出")
    with navigation(page):
        page.press("#f-purpose", "Enter")
    look(page, "preview")
    with navigation(page):
        page.locator("#btn-issue").click()
    look(page, "receipt")
    issue = IssuedCertificate.objects.get()
    assert issue.pages >= 1
    page.goto(page.locator("table.issues a").first.get_attribute("href"))
    link = page.locator("a[href*='/verify/']").first.get_attribute("href")
    assert link
    # the printed URL is the city's public address (configuration); here, its path on the
    # test server
    parts = urlsplit(link)
    verify = f"{parts.path}?{parts.query}"

    anonymous = new_page()
    anonymous.goto(verify)
    look(anonymous, "verify-valid")
    assert "有効" in anonymous.inner_text("#verify-status")
    assert "相模" not in anonymous.inner_text("main").replace("相模原市", "")  # no personal data

    supervisor = new_page()
    login(supervisor, counter.supervisor, counter.back_office)
    supervisor.goto(f"/certificates/issues/{issue.issue_id}/")
    supervisor.fill("#f-revoke-reason", "対象者の誤りにより回収")
    with navigation(supervisor):
        supervisor.click("#btn-revoke")
    look(supervisor, "revoked")
    anonymous.goto(verify)
    assert "無効" in anonymous.inner_text("#verify-status")
    look(anonymous, "verify-revoked")
