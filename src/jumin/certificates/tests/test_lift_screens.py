"""The clerk screen with a support-measure release (std 3.4 j440): a protected person stops the
screen; with the officer's release number the clerk previews (the release is checked, not
used) and then issues (the release is used) — one release for both; a second issue is
refused beside the release field."""

from __future__ import annotations

import pytest

from jumin.certificates.models import CertificateRequest, IssuedCertificate
from jumin.certificates.tests.test_screens import form, login
from jumin.register.tests import factories as f
from jumin.support import services as support
from jumin.support.models import SupportLift
from jumin.support.schemas import LiftIn
from jumin.support.tests import factories as sf

pytestmark = pytest.mark.django_db


def test_preview_then_issue_on_one_release(client):
    # std 3.4 (j440), std 10.7 (j1420: プレビュー)
    wife = f.family()[1][1]
    sf.active(wife)
    clerk = login(client, "counter_clerk")
    blocked = clerk.get("/certificates/new/", {"atena_no": wife.atena_no})
    assert blocked.status_code == 403
    lift = support.create_lift(
        sf.officer(),
        LiftIn(
            atena_nos=[wife.atena_no],
            purpose="住民票の写しの交付",
            reason="本人からの請求であることを確認",
        ),
    )
    data = form(
        wife.atena_no,
        lift_id=str(lift.pk),
        **{"requester.name": "相模　花子", "options.head_and_relationship": ""},
    )
    preview = clerk.post("/certificates/new/", {**data, "action": "preview"})
    assert preview.status_code == 200, preview.content.decode()[-2000:]
    assert "プレビュー（見本・署名なし）" in preview.content.decode()
    assert SupportLift.objects.get(pk=lift.pk).used_at is None
    issued = clerk.post("/certificates/new/", {**data, "action": "issue"})
    assert issued.status_code == 302
    assert IssuedCertificate.objects.count() == 1
    used = SupportLift.objects.get(pk=lift.pk)
    assert used.used_at is not None and used.used_by == clerk.staff
    again = clerk.post("/certificates/new/", {**data, "action": "issue", "idempotency_key": "k2"})
    assert again.status_code == 422
    assert "すでに使用されています" in again.content.decode()
    assert CertificateRequest.objects.count() == 1
