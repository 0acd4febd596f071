"""The certificates API, mounted at ``/api/certificates/``.

- ``GET /catalogue`` — kinds, requester kinds, identity documents, options and the fee;
- ``POST /preview`` — an unsigned 見本 PDF of a request (logged as a preview);
- ``POST /requests`` — issue: the request with its certificates (issue ids, issue numbers,
  receipt number, fee) — ``Idempotency-Key`` makes a resubmission return the same request;
- ``POST /refusals`` — record a refused request with the reason;
- ``GET /requests/{id}`` — one request; ``GET /log`` — the issue log search (std 2.2.2);
- ``GET /issues/{issue_id}`` and ``GET /issues/{issue_id}/pdf`` (the signed PDF, within the
  download window); ``POST /issues/{issue_id}/revoke`` — 処分 with a reason;
- ``GET /verify/{issue_id}?check=`` — **public**: valid / revoked / unknown with the kind,
  issue date, issuing city and page count only.

Refusals are problem documents (``validation_failed`` with findings, as everywhere).
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.params import functions as param

from jumin.accounts.permissions import Perm
from jumin.certificates import conf, selectors, services, verification
from jumin.certificates.models import CertificateRequest, IssuedCertificate, RequesterKind
from jumin.certificates.options import OPTION_LABELS, STATEMENT_ITEMS
from jumin.certificates.schemas import (
    IDENTITY_DOCUMENTS,
    QUALIFICATIONS,
    REASON_KINDS,
    CatalogueOut,
    CertificateRequestIn,
    IssueOut,
    LogPageOut,
    RefusalIn,
    RequestOut,
    RevokeIn,
    VerifyOut,
)
from jumin.config.api import actor_from_request, public, requires

router = Router(tags=["証明書 (certificates)"])
PREFIX = "/api/certificates"


def issue_out(issue: IssuedCertificate, *, with_links: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "issue_id": issue.issue_id,
        "kind": issue.kind,
        "kind_label": issue.get_kind_display(),
        "issue_number": issue.issue_number,
        "pages": issue.pages,
        "copy_no": issue.copy_no,
        "issued_at": issue.issued_at,
        "reissue": issue.reissue,
        "official_use": issue.official_use,
        "revoked": issue.revoked_at is not None,
        "revoked_at": issue.revoked_at,
        "revocation_reason": issue.revocation_reason,
        "pdf_url": None,
        "verify_url": None,
    }
    if with_links:
        if selectors.file_available(issue):
            out["pdf_url"] = f"{PREFIX}/issues/{issue.issue_id}/pdf"
        out["verify_url"] = verification.verify_url(issue.issue_id)
    return out


def request_out(row: CertificateRequest, *, with_links: bool = False) -> dict[str, Any]:
    return {
        "id": row.pk,
        "kind": row.kind,
        "kind_label": row.get_kind_display(),
        "decision": row.decision,
        "atena_nos": list(row.atena_nos),
        "household_no": row.household_no,
        "requester_kind": row.requester_kind,
        "requester_name": row.requester_name,
        "purpose": row.purpose,
        "copies": row.copies,
        "official_use": row.official_use,
        "fee_per_copy": row.fee_per_copy,
        "fee_total": row.fee_total,
        "receipt_no": row.receipt_no,
        "refusal_reason": row.refusal_reason,
        "staff_code": row.staff_code,
        "terminal_name": row.terminal_name,
        "created_at": row.created_at,
        "issues": [issue_out(i, with_links=with_links) for i in row.issues.all()],
    }


@router.get(
    "/catalogue",
    response=CatalogueOut,
    summary="証明書の種類と指定項目",
    operation_id="cert_catalogue",
)
@requires(Perm.CERTIFICATE_ISSUE)
def catalogue(request: HttpRequest) -> dict[str, Any]:
    """What a request may contain: the kinds, who may ask, the identity documents, the options
    (std 5.1) and the items of a 記載事項証明書, and the fee per certificate."""
    return {
        "kinds": dict(services.KIND_LABELS),
        "requester_kinds": dict(RequesterKind.choices),
        "identity_documents": IDENTITY_DOCUMENTS,
        "reason_kinds": REASON_KINDS,
        "qualifications": QUALIFICATIONS,
        "options": OPTION_LABELS,
        "statement_items": STATEMENT_ITEMS,
        "fee_per_copy": conf.fee_per_copy(),
        "free_kinds": sorted(conf.free_kinds()),
    }


@router.post(
    "/preview",
    response={200: None},
    summary="証明書のプレビュー（見本PDF）",
    operation_id="cert_preview",
)
@requires(Perm.CERTIFICATE_ISSUE)
def preview(request: HttpRequest, payload: CertificateRequestIn) -> HttpResponse:
    """The request rendered as an unsigned 見本 (every page marked, the 個人番号 masked, no issue
    number); nothing is issued or charged. Logged as a preview (std 10.2 印刷ログ)."""
    result = services.preview(actor_from_request(request), payload)
    response = HttpResponse(result.pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="preview.pdf"'
    response["Cache-Control"] = "no-store"
    response["X-Jumin-Pages"] = str(result.pages)
    response["X-Jumin-Overflows"] = str(len(result.overflows))  # items shrunk past the limit
    return response


@router.post(
    "/requests",
    response={201: RequestOut},
    summary="証明書の交付",
    operation_id="cert_issue",
)
@requires(Perm.CERTIFICATE_ISSUE)
def issue(
    request: HttpRequest,
    payload: CertificateRequestIn,
    idempotency_key: Annotated[
        str | None,
        param.Header(
            alias="Idempotency-Key",
            max_length=64,
            description="再送しても二重に交付しないためのキー",
        ),
    ] = None,
) -> Any:
    """Issue the certificates of a request: signed PDFs (PAdES), issue numbers, QR codes, the
    fee and a receipt number. A refusal is a 422 with the rule in Japanese; nothing is issued
    or charged then."""
    row = services.issue(actor_from_request(request), payload, idempotency_key=idempotency_key)
    return request_out(row, with_links=True)


@router.post(
    "/refusals",
    response={201: RequestOut},
    summary="交付の拒否の記録",
    operation_id="cert_refuse",
)
@requires(Perm.CERTIFICATE_ISSUE)
def refuse(request: HttpRequest, payload: RefusalIn) -> Any:
    """Record that a request was refused and why (it appears in the issue log)."""
    row = services.refuse(actor_from_request(request), payload.request, reason=payload.reason)
    return request_out(row)


@router.get(
    "/requests/{int:request_id}",
    response=RequestOut,
    summary="交付請求の照会",
    operation_id="cert_request",
)
@requires(Perm.CERTIFICATE_READ_LOG)
def get_request(request: HttpRequest, request_id: int) -> Any:
    """One request with its certificates (logged)."""
    row = selectors.get_request(actor_from_request(request), request_id)
    if row is None:
        raise Http404(f"交付請求 {request_id} はありません。")
    return request_out(row, with_links=True)


@router.get("/log", response=LogPageOut, summary="交付履歴照会", operation_id="cert_log")
@requires(Perm.CERTIFICATE_READ_LOG)
def log(request: HttpRequest, criteria: Query[selectors.LogCriteria]) -> Any:
    """The issue log (std 2.2.2 j360) by person, date, kind, requester, staff, issue number,
    receipt number or decision; newest first. The search is logged."""
    page = selectors.search_log(actor_from_request(request), criteria)
    return {
        "rows": [request_out(r) for r in page.rows],
        "total": page.total,
        "truncated": page.truncated,
    }


@router.get(
    "/issues/{issue_id}",
    response=IssueOut,
    summary="交付履歴の詳細",
    operation_id="cert_issue_detail",
)
@requires(Perm.CERTIFICATE_READ_LOG)
def issue_detail(request: HttpRequest, issue_id: str) -> Any:
    row = selectors.get_issue(actor_from_request(request), issue_id)
    if row is None:
        raise Http404(f"交付ID {issue_id} の交付履歴はありません。")
    return issue_out(row)


@router.get(
    "/issues/{issue_id}/pdf",
    response={200: None},
    summary="交付した証明書のPDF",
    operation_id="cert_issue_pdf",
)
@requires(Perm.CERTIFICATE_ISSUE)
def issue_pdf(request: HttpRequest, issue_id: str) -> HttpResponse:
    """The signed PDF, within the download window (``JUMIN_CERT_DOWNLOAD_MINUTES``); logged."""
    pdf = services.issued_pdf(actor_from_request(request), issue_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issue_id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@router.post(
    "/issues/{issue_id}/revoke",
    response=IssueOut,
    summary="交付した証明書の処分（取消し）",
    operation_id="cert_revoke",
)
@requires(Perm.CERTIFICATE_REVOKE)
def revoke(request: HttpRequest, issue_id: str, payload: RevokeIn) -> Any:
    """Revoke a certificate issued in error, with the reason (std 1.3.8 処分情報)."""
    return issue_out(services.revoke(actor_from_request(request), issue_id, reason=payload.reason))


@router.get(
    "/verify/{issue_id}",
    auth=None,
    response=VerifyOut,
    summary="証明書の真正性の確認（公開）",
    operation_id="cert_verify",
)
@public
def verify(
    request: HttpRequest,
    issue_id: str,
    check: Annotated[str, param.Query(max_length=32, description="確認コード")] = "",
) -> Any:
    """Public: whether a certificate with this issue id and check code was issued by the city
    and is still valid. Only the kind, the issue date, the issuing city and the page count —
    no personal data; an unknown id and a wrong code get the same answer."""
    result = services.verify(issue_id, check)
    response: dict[str, Any] = {"status": result.status, "status_label": result.status_label}
    if result.status != "unknown":
        response.update(
            kind=result.kind,
            kind_label=result.kind_label,
            issued_on=result.issued_on,
            municipality=result.municipality,
            pages=result.pages,
        )
    return response
