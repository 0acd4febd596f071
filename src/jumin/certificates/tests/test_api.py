"""The certificates API: issue, preview, refusal, log, revocation, the public verification,
permissions, and the support-measure gate."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from jumin.accounts.tests.factories import StaffFactory, TerminalFactory
from jumin.audit.models import OperationLogEntry
from jumin.certificates import services, verification
from jumin.certificates.models import CertificateRequest, IssuedCertificate
from jumin.certificates.tests.helpers import pdf_text, request, squeeze
from jumin.config.api import SESSION_TERMINAL_KEY
from jumin.core.findings import FindingsError
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

BASE = "/api/certificates"


def login(client, *roles):
    staff = StaffFactory(roles=list(roles))
    terminal = TerminalFactory(org_unit=staff.org_unit)
    client.force_login(staff)
    session = client.session
    session[SESSION_TERMINAL_KEY] = terminal.pk
    session.save()
    client.staff = staff
    client.terminal = terminal
    return client


def body(kind: str, *atena_nos: str, **extra):
    return request(kind, *atena_nos, **extra).model_dump(mode="json")


def post(client: Client, path: str, data, **headers):
    return client.post(
        f"{BASE}{path}", data=json.dumps(data), content_type="application/json", **headers
    )


@pytest.fixture
def family():
    return f.family()[1]


def test_issue_through_the_api_and_verify_publicly(client, family):
    head = family[0]
    login(client, "counter_clerk")
    response = post(
        client, "/requests", body("record_copy", head.atena_no), HTTP_IDEMPOTENCY_KEY="a1"
    )
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["decision"] == "issued" and out["fee_total"] == 300 and out["receipt_no"]
    (issue,) = out["issues"]
    assert issue["pdf_url"] and issue["verify_url"].startswith("http://testserver/verify/")
    again = post(client, "/requests", body("record_copy", head.atena_no), HTTP_IDEMPOTENCY_KEY="a1")
    assert again.json()["id"] == out["id"] and IssuedCertificate.objects.count() == 1
    pdf = client.get(issue["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "相模太郎" in squeeze(pdf_text(pdf.content))
    # the public check: no login, no personal data
    anonymous = Client()
    check = verification.check_code(issue["issue_id"])
    answer = anonymous.get(f"{BASE}/verify/{issue['issue_id']}", {"check": check})
    assert answer.status_code == 200
    data = answer.json()
    assert data["status"] == "valid" and data["kind_label"] == "住民票の写し" and data["pages"] == 1
    assert set(data) == {
        "status",
        "status_label",
        "kind",
        "kind_label",
        "issued_on",
        "municipality",
        "pages",
    }
    assert head.atena_no not in answer.content.decode() and "相模" not in answer.content.decode()
    wrong = anonymous.get(f"{BASE}/verify/{issue['issue_id']}", {"check": "AAAAAAAA"}).json()
    unknown = anonymous.get(f"{BASE}/verify/0000000000AA", {"check": check}).json()
    assert (
        wrong
        == unknown
        == {
            "status": "unknown",
            "status_label": "確認できません",
            "kind": None,
            "kind_label": None,
            "issued_on": None,
            "municipality": None,
            "pages": None,
        }
    )
    # revocation (CERTIFICATE_ISSUE for now)
    login(client, "supervisor")  # 処分 needs CERTIFICATE_REVOKE
    revoked = post(client, f"/issues/{issue['issue_id']}/revoke", {"reason": "誤交付"})
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    data = anonymous.get(f"{BASE}/verify/{issue['issue_id']}", {"check": check}).json()
    assert data["status"] == "revoked" and data["status_label"] == "無効（処分済み）"


def test_refusals_are_problem_documents_in_japanese(client, family):
    login(client, "counter_clerk")
    response = post(client, "/requests", body("record_copy", family[0].atena_no, purpose=""))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["findings"][0]["code"] == "certificate.purpose_required"
    assert problem["findings"][0]["field"] == "purpose"
    assert "利用目的" in problem["findings"][0]["message"]
    unknown = post(
        client, "/requests", body("record_copy", family[0].atena_no, options={"stamp": True})
    )
    assert unknown.json()["findings"][0]["code"] == "options.unknown"
    assert not CertificateRequest.objects.exists()
    refusal = post(
        client,
        "/refusals",
        {"request": body("record_copy", family[0].atena_no), "reason": "委任状なし"},
    )
    assert refusal.status_code == 201 and refusal.json()["decision"] == "refused"


def test_preview_returns_an_unsigned_sample(client, family):
    login(client, "counter_clerk")
    response = post(client, "/preview", body("record_copy", family[0].atena_no))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"/ByteRange" not in response.content  # not signed
    assert "見本" in pdf_text(response.content)
    assert response["X-Jumin-Pages"] == "1"


def test_permissions(client, family):
    login(client, "auditor")  # reads the log, does not issue
    response = post(client, "/requests", body("record_copy", family[0].atena_no))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client.get(f"{BASE}/log", {"atena_no": family[0].atena_no}).status_code == 200
    other = Client()
    login(other, "counter_clerk")  # issues, does not read the log
    assert other.get(f"{BASE}/log", {"atena_no": family[0].atena_no}).status_code == 403
    assert Client().get(f"{BASE}/catalogue").status_code == 401


def test_log_search_through_the_api(client, family):
    clerk = f.clerk()
    services.issue(clerk, request("record_copy", family[0].atena_no))
    login(client, "supervisor")
    page = client.get(f"{BASE}/log", {"atena_no": family[0].atena_no}).json()
    assert page["total"] == 1 and page["rows"][0]["issues"][0]["issue_number"]
    bad = client.get(f"{BASE}/log")
    assert bad.status_code == 422 and bad.json()["findings"][0]["code"] == "log.no_criteria"
    entry = OperationLogEntry.objects.filter(function="交付履歴照会").latest("seq")
    assert entry.targets == [family[0].atena_no]


def test_a_protected_person_is_a_hard_error_unless_lifted_for_this_request(family):
    # std 3.4 (j440), 1.1.16 (j160)
    from jumin.support import services as support
    from jumin.support.schemas import LiftIn
    from jumin.support.tests import factories as sf

    head, wife = family[0], family[1]
    sf.active(wife)
    clerk = f.clerk()
    data = request("record_copy", head.atena_no, wife.atena_no, options={"household_form": True})
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, data)
    assert "support.protected" in {x.code for x in exc.value.findings}
    with pytest.raises(FindingsError):  # all members: the protected wife is among them
        services.issue(clerk, request("record_copy", head.atena_no, options={"all_members": True}))
    assert not IssuedCertificate.objects.exists()
    # the officer lifts it for exactly this request
    lift = support.create_lift(
        sf.officer(),
        LiftIn(
            atena_nos=[head.atena_no, wife.atena_no],
            purpose="住民票の写しの交付",
            reason="本人からの請求であることを確認",
        ),
    )
    data = data.model_copy(update={"lift_id": lift.pk})
    req = services.issue(clerk, data)
    assert req.decision == "issued"
    with pytest.raises(FindingsError):  # used once
        services.issue(clerk, data.model_copy(update={"copies": 1}))
