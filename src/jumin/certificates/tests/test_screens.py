"""The clerk screens of 証明書交付: the wizard (person → request → preview → issue → receipt),
bad input kept beside its field, refusal, the issue log, revocation, and the public
verification page through the test client (std 10.5 j1400: help on every screen)."""

from __future__ import annotations

import re
import shutil

import pytest
from django.test import Client

from jumin.accounts.tests.factories import StaffFactory, TerminalFactory
from jumin.audit.models import OperationLogEntry
from jumin.certificates import verification
from jumin.certificates.models import CertificateRequest, IssuedCertificate
from jumin.certificates.tests.helpers import pdf_text, squeeze
from jumin.config.api import SESSION_TERMINAL_KEY
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db
HELP = "この画面の使い方（F1）"


def login(client, *roles):
    staff = StaffFactory(roles=list(roles))
    terminal = TerminalFactory(org_unit=staff.org_unit)
    client.force_login(staff)
    session = client.session
    session[SESSION_TERMINAL_KEY] = terminal.pk
    session.save()
    client.staff = staff
    return client


def form(atena: str, **extra) -> dict[str, object]:
    data: dict[str, object] = {
        "person": atena,
        "kind": "record_copy",
        "atena_nos": [atena],
        "copies": "1",
        "requester.kind": "self",
        "requester.name": "相模　太郎",
        "requester.atena_no": atena,
        "purpose": "勤務先への提出",
        "identity_document.kind": "driver_license",
        "identity_document.number": "AB12345678",
        "options.head_and_relationship": "1",
        "options.furigana": "1",
        "idempotency_key": "key-1",
    }
    data.update(extra)
    return data


@pytest.fixture
def family():
    return f.family()[1]


@pytest.fixture
def clerk_client(client):
    return login(client, "counter_clerk")


def test_the_wizard_from_person_to_receipt(clerk_client, family):
    head, wife = family[0], family[1]
    start = clerk_client.get("/certificates/")
    assert start.status_code == 200 and HELP in start.content.decode()
    found = clerk_client.get("/certificates/", {"name_kana": "サガミ", "search": "1"})
    assert "この人で請求" in found.content.decode()
    assert clerk_client.get("/certificates/", {"atena_no": head.atena_no}).status_code == 302
    page = clerk_client.get("/certificates/new/", {"atena_no": head.atena_no})
    html = page.content.decode()
    assert page.status_code == 200 and HELP in html
    assert 'id="f-member-' + wife.atena_no + '"' in html and "相模　花子" in html
    assert 'accesskey="p"' in html and 'accesskey="k"' in html
    # preview: images (or a note without pdftoppm), the fee, nothing issued
    preview = clerk_client.post("/certificates/new/", form(head.atena_no, action="preview"))
    html = preview.content.decode()
    assert preview.status_code == 200 and "プレビュー（見本・署名なし）" in html
    if shutil.which("pdftoppm"):
        assert 'src="data:image/png;base64,' in html
    assert "300円" in html
    assert not CertificateRequest.objects.exists()
    assert OperationLogEntry.objects.filter(function="証明書プレビュー").count() == 1
    # issue → the receipt
    issued = clerk_client.post("/certificates/new/", form(head.atena_no, action="issue"))
    assert issued.status_code == 302
    receipt = clerk_client.get(issued["Location"])
    html = receipt.content.decode()
    req = CertificateRequest.objects.get()
    assert req.receipt_no in html and "300円" in html and HELP in html
    issue = IssuedCertificate.objects.get()
    assert issue.issue_number in html
    pdf = clerk_client.get(f"/certificates/issues/{issue.issue_id}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "相模太郎" in squeeze(pdf_text(pdf.content))
    # a second click on 交付する (same form, same key) issues nothing more
    again = clerk_client.post("/certificates/new/", form(head.atena_no, action="issue"))
    assert again.status_code == 302 and IssuedCertificate.objects.count() == 1


def test_bad_input_stays_on_the_form_beside_its_field(clerk_client, family):
    head = family[0]
    response = clerk_client.post(
        "/certificates/new/",
        form(head.atena_no, action="issue", purpose="", **{"requester.name": "相模　花子"}),
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'id="f-purpose"[^>]*aria-invalid="true"', html)
    assert 'id="f-purpose-error"' in html and "利用目的を入力してください" in html
    assert 'value="相模　花子"' in html  # kept
    assert not CertificateRequest.objects.exists()
    # the clerk records the refusal with its reason
    refused = clerk_client.post(
        "/certificates/new/",
        form(head.atena_no, action="refuse", purpose="", reason="利用目的が述べられないため"),
    )
    assert refused.status_code == 302
    page = clerk_client.get(refused["Location"]).content.decode()
    assert "交付の拒否を記録しました" in page and "利用目的が述べられないため" in page
    assert CertificateRequest.objects.get().decision == "refused"


def test_an_unknown_person_and_the_permissions(client, family):
    login(client, "counter_clerk")
    response = client.get("/certificates/new/", {"atena_no": "9999999999"})
    assert response.status_code == 404 and "住民記録" in response.content.decode()
    assert client.get("/certificates/log/").status_code == 403  # issues, does not read the log
    auditor = login(Client(), "auditor")
    assert auditor.get("/certificates/").status_code == 403
    assert auditor.get("/certificates/log/").status_code == 200


def test_issue_log_search_and_revocation_on_screen(client, family):
    head = family[0]
    clerk = login(Client(), "counter_clerk")
    clerk.post("/certificates/new/", form(head.atena_no, action="issue"))
    issue = IssuedCertificate.objects.get()
    reader = login(client, "supervisor")
    page = reader.get("/certificates/log/", {"atena_no": head.atena_no})
    html = page.content.decode()
    assert page.status_code == 200 and issue.issue_id in html and HELP in html
    bad = reader.get("/certificates/log/", {"date_from": "あした"})
    assert bad.status_code == 422 and 'id="f-from-error"' in bad.content.decode()
    detail = reader.get(f"/certificates/issues/{issue.issue_id}/")
    assert detail.status_code == 200 and "処分（取消し）する" in detail.content.decode()
    # 処分 is the supervisor's (CERTIFICATE_REVOKE), not the counter clerk's
    assert (
        clerk.post(f"/certificates/issues/{issue.issue_id}/revoke/", {"reason": "x"}).status_code
        == 403
    )
    clerk = reader
    missing = clerk.post(f"/certificates/issues/{issue.issue_id}/revoke/", {"reason": ""})
    assert (
        missing.status_code == 422
        and "処分（取消し）の理由を入力してください" in missing.content.decode()
    )
    done = clerk.post(f"/certificates/issues/{issue.issue_id}/revoke/", {"reason": "誤交付"})
    assert done.status_code == 302
    issue.refresh_from_db()
    assert issue.revoked_at is not None


def test_public_verification_page(client, family):
    head = family[0]
    clerk = login(Client(), "counter_clerk")
    clerk.post("/certificates/new/", form(head.atena_no, action="issue"))
    issue = IssuedCertificate.objects.get()
    check = verification.check_code(issue.issue_id)
    anonymous = Client()
    page = anonymous.get(f"/verify/{issue.issue_id}", {"c": check})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="verify-status">有効<' in html and "住民票の写し" in html
    assert "相模" not in html.replace("相模原市", "") and head.atena_no not in html
    typed = anonymous.get("/verify/", {"issue_id": issue.issue_id.lower(), "c": check})
    assert typed.status_code == 302 and typed["Location"].startswith(f"/verify/{issue.issue_id}")
    wrong = anonymous.get(f"/verify/{issue.issue_id}", {"c": "00000000"}).content.decode()
    assert 'id="verify-status">確認できません<' in wrong and 'id="verify-kind"' not in wrong
    supervisor = login(Client(), "supervisor")
    supervisor.post(f"/certificates/issues/{issue.issue_id}/revoke/", {"reason": "誤交付"})
    revoked = anonymous.get(f"/verify/{issue.issue_id}", {"c": check}).content.decode()
    assert 'id="verify-status">無効（処分済み）<' in revoked
