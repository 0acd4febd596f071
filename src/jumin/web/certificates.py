"""証明書交付 screens: the issuance wizard (person → requester, purpose and identity document →
options → preview → issue, with the receipt), the issue log (std 2.2.2 j360), the detail of
an issued certificate with its revocation, and the public verification page.

Views call only ``jumin.certificates.services`` / ``selectors``, the register's logged reads
and search; the services check permissions, log every read, preview and issuance, and answer
refusals with findings placed beside their fields. The form keeps every value on a refusal,
and a hidden idempotency key makes a double submission issue once.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from jumin.accounts.permissions import Perm
from jumin.certificates import conf, selectors, services, verification
from jumin.certificates.models import CertificateKind, RequesterKind
from jumin.certificates.options import ACCEPTED, OPTION_LABELS, STATEMENT_ITEMS, STATEMENTS
from jumin.certificates.render import PreviewUnavailable, to_png_pages
from jumin.certificates.schemas import (
    IDENTITY_DOCUMENTS,
    QUALIFICATIONS,
    REASON_KINDS,
    CertificateRequestIn,
)
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, Findings, FindingsError, error
from jumin.core.wareki import parse_date
from jumin.register import reads
from jumin.register import search as register_search
from jumin.web.common import forbidden, place, staff_view, web_actor
from jumin.web.templatetags.jumin_format import birth_text

PRESERVE = "certificate"
BOOL_OPTIONS = [
    "all_members",
    "household_form",
    "history",
    "head_and_relationship",
    "honseki",
    "juminhyo_code",
    "my_number",
    "foreign_items",
    "alias",
    "furigana",
    "katagaki",
    "statement_checked",
]
SCREEN_LABELS = {
    "foreign_items": "国籍・在留資格等の記載（外国人住民）",
    "alias": "通称とその記載・削除の記載",
    "katagaki": "方書の記載（記載事項証明書のみ省略可）",
}
DEFAULT_ON = {"head_and_relationship", "foreign_items", "alias", "furigana", "katagaki"}
REQUESTER_FIELDS = [
    "name",
    "address",
    "atena_no",
    "organisation",
    "qualification",
    "registration_no",
    "form_no",
    "client_name",
    "reason_kind",
    "reason",
    "extra_items_reason",
]
FIELDS = (
    ["kind", "atena_nos", "purpose", "copies", "lift_id", "reason"]
    + [f"identity_document.{n}" for n in ("kind", "number")]
    + [f"requester.{n}" for n in ["kind", *REQUESTER_FIELDS, "mandate_checked"]]
    + [f"options.{n}" for n in [*BOOL_OPTIONS, "statement_items", "statement_text"]]
    + ["options"]
)


def _require(request: HttpRequest, *perms: Perm) -> HttpResponse | None:
    actor = web_actor(request)
    if not any(actor.can(p) for p in perms):
        names = "」または「".join(p.label for p in perms)
        return forbidden(request, PermissionDenied(f"この画面には「{names}」の権限が必要です。"))
    return None


# --------------------------------------------------------------------------- start: the person


@staff_view
@require_GET
@never_cache
def start(request: HttpRequest) -> HttpResponse:
    """Step 1: find the person (宛名番号, or 振り仮名 and birth date through the search)."""
    refused = _require(request, Perm.CERTIFICATE_ISSUE)
    if refused is not None:
        return refused
    q = request.GET
    atena_no = q.get("atena_no", "").strip()
    if atena_no and "search" not in q:
        return redirect(f"{reverse('web:certificate_new')}?{urlencode({'atena_no': atena_no})}")
    name_kana, birth = q.get("name_kana", "").strip(), q.get("birth_date", "").strip()
    rows: list[Any] = []
    findings: list[Finding] = []
    searched = bool(name_kana or birth or atena_no)
    if searched:
        try:
            criteria = register_search.SearchCriteria.model_validate(
                {
                    "name_kana": name_kana or None,
                    "birth_date": birth or None,
                    "atena_no": atena_no or None,
                    "limit": 50,
                }
            )
            rows = list(register_search.search_residents(web_actor(request), criteria).rows)
        except FindingsError as exc:
            findings = list(exc.findings)
        except ValidationError:
            findings = [error("search.invalid", "検索条件の形式が正しくありません。")]
    placed = place(findings, ["name_kana", "birth_date", "atena_no"])
    return render(
        request,
        "web/certificates/start.html",
        {
            "nav": "",
            "q": {"name_kana": name_kana, "birth_date": birth, "atena_no": atena_no},
            "rows": rows,
            "searched": searched,
            "placed": placed,
            "birth_text": birth_text,
        },
    )


# --------------------------------------------------------------------------- the request form


def _form_values(post: QueryDict) -> dict[str, Any]:
    """What the clerk entered, as the template shows it back."""
    values: dict[str, Any] = {
        "kind": post.get("kind", "record_copy"),
        "atena_nos": post.getlist("atena_nos"),
        "purpose": post.get("purpose", ""),
        "copies": post.get("copies", "1"),
        "lift_id": post.get("lift_id", ""),
        "reason": post.get("reason", ""),
        "identity_kind": post.get("identity_document.kind", ""),
        "identity_number": post.get("identity_document.number", ""),
        "requester_kind": post.get("requester.kind", "self"),
        "mandate_checked": post.get("requester.mandate_checked") == "1",
        "options": {n: post.get(f"options.{n}") == "1" for n in BOOL_OPTIONS},
        "statement_items": post.getlist("options.statement_items"),
        "statement_text": post.get("options.statement_text", ""),
        "idempotency_key": post.get("idempotency_key", ""),
    }
    values["requester"] = {n: post.get(f"requester.{n}", "") for n in REQUESTER_FIELDS}
    return values


def _initial_values(atena_no: str) -> dict[str, Any]:
    return {
        "kind": "record_copy",
        "atena_nos": [atena_no],
        "purpose": "",
        "copies": "1",
        "lift_id": "",
        "reason": "",
        "identity_kind": "",
        "identity_number": "",
        "requester_kind": "self",
        "mandate_checked": False,
        "options": {n: n in DEFAULT_ON for n in BOOL_OPTIONS},
        "statement_items": [],
        "statement_text": "",
        "requester": {n: "" for n in REQUESTER_FIELDS} | {"atena_no": atena_no},
        "idempotency_key": "",
    }


def _request_data(post: QueryDict) -> tuple[CertificateRequestIn | None, list[Finding]]:
    """The form as the service's input; schema problems as findings on their fields."""
    kind = post.get("kind", "")
    accepted = ACCEPTED.get(kind, frozenset())
    options: dict[str, Any] = {}
    for name in BOOL_OPTIONS:
        if name not in accepted:
            continue
        if kind in STATEMENTS and name in {"head_and_relationship", "honseki"}:
            continue  # a 記載事項証明書 names its items in statement_items
        options[name] = post.get(f"options.{name}") == "1"
    if "statement_items" in accepted:
        options["statement_items"] = post.getlist("options.statement_items")
        options["statement_text"] = post.get("options.statement_text", "")
    lift = post.get("lift_id", "").strip()
    copies = post.get("copies", "1").strip() or "1"
    raw: dict[str, Any] = {
        "kind": kind,
        "atena_nos": [a for a in post.getlist("atena_nos") if a.strip()],
        "purpose": post.get("purpose", ""),
        "copies": copies,
        "lift_id": lift or None,
        "options": options,
        "identity_document": {
            "kind": post.get("identity_document.kind", ""),
            "number": post.get("identity_document.number", ""),
        },
        "requester": {"kind": post.get("requester.kind", "self")}
        | {n: post.get(f"requester.{n}", "") for n in REQUESTER_FIELDS}
        | {"mandate_checked": post.get("requester.mandate_checked") == "1"},
    }
    try:
        return CertificateRequestIn.model_validate(raw), []
    except ValidationError as exc:
        findings = []
        for e in exc.errors():
            path = ".".join(str(p) for p in e["loc"])
            label = {
                "kind": "証明書の種別",
                "atena_nos": "対象者",
                "copies": "通数",
                "lift_id": "解除番号",
            }.get(path.split(".")[0], "入力")
            message = {
                "atena_nos": "対象者を1人以上選んでください。",
                "copies": "通数は1以上の整数で入力してください。",
                "lift_id": "解除番号は数字で入力してください。",
            }.get(path.split(".")[0], f"{label}の値が正しくありません。")
            findings.append(error(f"form.{e['type']}", message, field=path))
        return None, findings


def _members(request: HttpRequest, atena_no: str) -> tuple[Any, Any]:
    """The person and their household (current members and removed records), logged reads."""
    actor = web_actor(request)
    person = reads.get_resident(actor, atena_no)
    household = reads.get_household(actor, person.record.household_no, include_removed=True)
    return person, household


def _gate_screen(request: HttpRequest, atena_no: str, lift_id: str) -> FindingsError | None:
    """std 3.4 (j440): a screen touching a protected person is a hard error; with a release
    number (解除番号) the form opens and the release is checked and used at issuance."""
    if lift_id:
        return None
    try:
        services.check_protection(
            web_actor(request), [atena_no], purpose="証明書交付画面", lift_id=None
        )
    except FindingsError as exc:
        return exc
    return None


def _context(
    request: HttpRequest,
    atena_no: str,
    values: dict[str, Any],
    findings: list[Finding] | Findings | None = None,
    **extra: Any,
) -> dict[str, Any]:
    members = []
    if values.get("lift_id"):
        # 支援措置の解除番号: the release is used by the issuance and covers its reads only;
        # the screen reads nobody and shows the chosen number alone.
        person_name, household_no = "（支援措置の対象者を含む請求）", ""
        members = [
            {
                "atena_no": a,
                "name": "（表示しません）",
                "relationship": "",
                "birth": "",
                "removed": False,
                "moving": None,
            }
            for a in dict.fromkeys([atena_no, *values.get("atena_nos", [])])
        ]
    else:
        person, household = _members(request, atena_no)
        person_name, household_no = person.record.name, person.record.household_no
        for m in household.members:
            members.append(
                {
                    "atena_no": m.atena_no,
                    "name": m.name,
                    "relationship": m.relationship,
                    "birth": birth_text(m),
                    "removed": m.atena_no in household.removed,
                    "moving": household.moving_out.get(m.atena_no),
                }
            )
    if not values.get("idempotency_key"):
        values["idempotency_key"] = secrets.token_urlsafe(24)
    placed = place(findings or [], FIELDS)
    return {
        "nav": "",
        "atena_no": atena_no,
        "person_name": person_name,
        "household_no": household_no,
        "members": members,
        "v": values,
        "placed": placed,
        "errs": {k.replace(".", "__"): v for k, v in placed.by_field.items()},
        "kinds": CertificateKind.choices,
        "requester_kinds": RequesterKind.choices,
        "identity_documents": list(IDENTITY_DOCUMENTS.items()),
        "reason_kinds": list(REASON_KINDS.items()),
        "qualifications": list(QUALIFICATIONS.items()),
        "bool_options": [
            (n, SCREEN_LABELS.get(n, OPTION_LABELS[n]))
            for n in BOOL_OPTIONS
            if n != "statement_checked"
        ],
        "statement_items": list(STATEMENT_ITEMS.items()),
        "fee": conf.fee_per_copy(),
        "max_copies": conf.max_copies(),
        **extra,
    }


@staff_view
@require_http_methods(["GET", "POST"])
@never_cache
def new(request: HttpRequest) -> HttpResponse:
    """Steps 2–5 on one screen: requester, purpose and identity document; options; preview
    (見本 images); issue (→ the receipt) or record a refusal."""
    refused = _require(request, Perm.CERTIFICATE_ISSUE)
    if refused is not None:
        return refused
    source = request.POST if request.method == "POST" else request.GET
    atena_no = (source.get("person") or source.get("atena_no") or "").strip()
    if not atena_no:
        return redirect("web:certificates")
    blocked = _gate_screen(request, atena_no, source.get("lift_id", "").strip())
    if blocked is not None:
        return render(
            request,
            "web/certificates/blocked.html",
            {"nav": "", "atena_no": atena_no, "findings": list(blocked.findings)},
            status=403,
        )
    try:
        if request.method == "GET":
            values = _initial_values(atena_no)
            values["lift_id"] = request.GET.get("lift_id", "")
            return render(
                request, "web/certificates/form.html", _context(request, atena_no, values)
            )
        return _post(request, atena_no)
    except FindingsError as exc:  # the person is unknown (or only in a draft)
        return render(
            request,
            "web/certificates/blocked.html",
            {"nav": "", "atena_no": atena_no, "findings": list(exc.findings)},
            status=404,
        )


def _post(request: HttpRequest, atena_no: str) -> HttpResponse:
    post = request.POST
    values = _form_values(post)
    action = post.get("action", "preview")
    data, schema_findings = _request_data(post)
    if data is None:
        return render(
            request,
            "web/certificates/form.html",
            _context(request, atena_no, values, schema_findings),
            status=422,
        )
    actor = web_actor(request)
    if action == "refuse":
        try:
            row = services.refuse(actor, data, reason=post.get("reason", ""))
        except FindingsError as exc:
            ctx = _context(request, atena_no, values, exc.findings, show_refusal=True)
            return render(request, "web/certificates/form.html", ctx, status=422)
        return redirect(f"{reverse('web:certificate_result', args=[row.pk])}?saved={PRESERVE}")
    if action == "issue":
        try:
            row = services.issue(actor, data, idempotency_key=values["idempotency_key"] or None)
        except FindingsError as exc:
            ctx = _context(request, atena_no, values, exc.findings, show_refusal=True)
            return render(request, "web/certificates/form.html", ctx, status=422)
        return redirect(f"{reverse('web:certificate_result', args=[row.pk])}?saved={PRESERVE}")
    try:
        result = services.preview(actor, data)
    except FindingsError as exc:
        ctx = _context(request, atena_no, values, exc.findings, show_refusal=True)
        return render(request, "web/certificates/form.html", ctx, status=422)
    if action == "preview_pdf":
        response = HttpResponse(result.pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{services.PREVIEW_FILE_NAME}"'
        response["Cache-Control"] = "no-store"
        return response
    images: list[str] = []
    preview_error = ""
    try:
        images = [
            "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            for png in to_png_pages(result.pdf, dpi=80)
        ]
    except (PreviewUnavailable, OSError) as exc:
        preview_error = str(exc) or "プレビュー画像を作成できませんでした。"
    ctx = _context(
        request,
        atena_no,
        values,
        preview={
            "images": images,
            "error": preview_error,
            "pages": result.pages,
            "documents": result.documents,
            "overflows": result.overflows,
            "missing": "".join(sorted(result.missing_characters)),
            "fee_total": result.fee_total,
            "fee_per_copy": result.plan.fee_per_copy,
            "official": result.plan.official_use,
            "reissue": result.plan.reissue,
        },
    )
    return render(request, "web/certificates/form.html", ctx)


# --------------------------------------------------------------------------- result / receipt


@staff_view
@require_GET
@never_cache
def result(request: HttpRequest, request_id: int) -> HttpResponse:
    """The receipt: 受付番号, fee, the certificates with their issue numbers and PDFs."""
    row = selectors.get_request(web_actor(request), request_id)
    if row is None:
        return render(request, "404.html", {}, status=404)
    issues = [{"row": i, "available": selectors.file_available(i)} for i in row.issues.all()]
    return render(
        request,
        "web/certificates/result.html",
        {"nav": "", "r": row, "issues": issues, "download_minutes": conf.download_minutes()},
    )


@staff_view
@require_GET
@never_cache
def issue_pdf(request: HttpRequest, issue_id: str) -> HttpResponse:
    try:
        pdf = services.issued_pdf(web_actor(request), issue_id)
    except FindingsError as exc:
        return render(
            request,
            "web/certificates/blocked.html",
            {"nav": "", "atena_no": "", "findings": list(exc.findings)},
            status=410,
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issue_id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@staff_view
@require_GET
@never_cache
def issue_detail(request: HttpRequest, issue_id: str) -> HttpResponse:
    row = selectors.get_issue(web_actor(request), issue_id)
    if row is None:
        return render(request, "404.html", {}, status=404)
    return _issue_page(request, row)


def _issue_page(
    request: HttpRequest, row: Any, findings: list[Finding] | None = None, reason: str = ""
) -> HttpResponse:
    actor = web_actor(request)
    return render(
        request,
        "web/certificates/issue.html",
        {
            "nav": "",
            "i": row,
            "can_revoke": actor.can(Perm.CERTIFICATE_REVOKE) and row.revoked_at is None,
            "available": selectors.file_available(row),
            "placed": place(findings or [], ["reason"]),
            "reason": reason,
            "verify_url": verification.verify_url(row.issue_id),
        },
        status=422 if findings else 200,
    )


@staff_view
@require_POST
def revoke(request: HttpRequest, issue_id: str) -> HttpResponse:
    reason = request.POST.get("reason", "")
    try:
        services.revoke(web_actor(request), issue_id, reason=reason)
    except FindingsError as exc:
        row = selectors.get_issue(web_actor(request), issue_id)
        if row is None:
            return render(request, "404.html", {}, status=404)
        return _issue_page(request, row, list(exc.findings), reason)
    return redirect(f"{reverse('web:certificate_issue', args=[issue_id])}?revoked=1")


# --------------------------------------------------------------------------- issue log


_LOG_FIELDS = [
    "atena_no",
    "date_from",
    "date_to",
    "kind",
    "requester_kind",
    "requester_name",
    "staff_code",
    "issue_number",
    "receipt_no",
    "decision",
]


@staff_view
@require_GET
@never_cache
def log(request: HttpRequest) -> HttpResponse:
    """交付履歴照会 (std 2.2.2 j360)."""
    refused = _require(request, Perm.CERTIFICATE_READ_LOG)
    if refused is not None:
        return refused
    q = {n: request.GET.get(n, "").strip() for n in _LOG_FIELDS}
    findings: list[Finding] = []
    page = None
    if any(q.values()):
        criteria: dict[str, Any] = {k: v for k, v in q.items() if v}
        for name in ("date_from", "date_to"):
            if name in criteria:
                try:
                    criteria[name] = parse_date(criteria[name])
                except (CoreError, ValueError):  # shown to the clerk as a finding
                    findings.append(
                        error(
                            "log.date",
                            "日付を和暦・西暦で入力してください（例：R8.4.1、2026-04-01）。",
                            field=name,
                        )
                    )
        if not findings:
            try:
                page = selectors.search_log(
                    web_actor(request), selectors.LogCriteria.model_validate(criteria)
                )
            except FindingsError as exc:
                findings = list(exc.findings)
            except ValidationError:
                findings = [
                    error("log.invalid", "検索条件の形式が正しくありません。", field="kind")
                ]
    return render(
        request,
        "web/certificates/log.html",
        {
            "nav": "",
            "q": q,
            "page": page,
            "placed": place(findings, _LOG_FIELDS),
            "kinds": CertificateKind.choices,
            "requester_kinds": RequesterKind.choices,
        },
        status=422 if findings else 200,
    )


# --------------------------------------------------------------------------- public verification


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """The public page where a person types the issue id and check code."""
    issue_id = request.GET.get("issue_id", "").strip()
    code = request.GET.get("c", "").strip()
    if issue_id:
        target = reverse("web:verify", args=[verification.normalise(issue_id)[:16]])
        return redirect(f"{target}?{urlencode({'c': code})}")
    return render(
        request, "web/certificates/verify.html", {"result": None, "issue_id": "", "c": ""}
    )


@require_GET
@never_cache
def verify_page(request: HttpRequest, issue_id: str) -> HttpResponse:
    """Public: valid / revoked / unknown, the kind, the issue date, the city and the page
    count — nothing about the persons."""
    code = request.GET.get("c", "")
    result = services.verify(issue_id, code)
    return render(
        request,
        "web/certificates/verify.html",
        {"result": result, "issue_id": issue_id, "c": code, "today": dt.date.today()},
    )
