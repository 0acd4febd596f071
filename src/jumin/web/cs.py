"""住基ネット（CS）の画面 (std 7.1.1.1, j1090): the sending status and backlog, the manual-mode
switch, failures with resend, and the searchable, printable list of sent messages.

Views call the CS's selectors and services only; each read is logged by them.
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, FindingsError, error
from jumin.jukinet import inbound, queries, selectors, services
from jumin.netproto.messages import KINDS
from jumin.register import reads
from jumin.web.common import staff_view, web_actor
from jumin.web.procedure_forms import read_date

OUTCOMES = {
    "delivered": "送信済み（受理）",
    "refused": "拒否",
    "retry": "通信エラー（再送待ち）",
    "abandoned": "結果不明（処理中断）",
    "sending": "送信中",
}
PAGE = 50


@require_GET
@staff_view
def status(request: HttpRequest) -> HttpResponse:
    """送信状況: backlog per kind, oldest waiting, manual mode."""
    backlog = selectors.backlog_summary(web_actor(request))
    return render(request, "web/cs/status.html", {"nav": "cs", "backlog": backlog})


@require_POST
@staff_view
def manual(request: HttpRequest) -> HttpResponse:
    """手動連携の切替 (std 7.1.1): while on, nothing is sent automatically."""
    on = request.POST.get("manual") == "1"
    reason = str(request.POST.get("reason", "")).strip()
    try:
        services.set_manual_mode(web_actor(request), on, reason=reason)
    except FindingsError as exc:
        for finding in exc.findings:
            messages.error(request, finding.message)
        return redirect("web:cs_status")
    messages.success(
        request,
        "手動連携に切り替えました。自動送信は止まっています。"
        if on
        else "自動送信に戻しました。送信待ちのメッセージを順に送信します。",
    )
    return redirect("web:cs_status")


def _date(request: HttpRequest, name: str, label: str, errors: dict[str, Finding]) -> Any:
    text = str(request.GET.get(name, "")).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(read_date(text))
    except CoreError:
        errors[name] = error(
            "cs.date",
            f"{label}「{text}」を日付として読めません。",
            field=name,
            remedy="R8.11.26 または 2026-11-26 のように入力してください。",
        )
        return None


@require_GET
@staff_view
def sent(request: HttpRequest) -> HttpResponse:
    """送信履歴: search by kind, person, dates and outcome; printable (std 7.1.1.1)."""
    errors: dict[str, Finding] = {}
    kind = str(request.GET.get("kind", "")).strip()
    if kind and kind not in KINDS:
        errors["kind"] = error("cs.kind", "電文種別は一覧から選んでください。", field="kind")
        kind = ""
    outcome = str(request.GET.get("outcome", "")).strip()
    if outcome and outcome not in OUTCOMES:
        errors["outcome"] = error("cs.outcome", "結果は一覧から選んでください。", field="outcome")
        outcome = ""
    atena_no = str(request.GET.get("atena_no", "")).strip()[:10]
    date_from = _date(request, "date_from", "送信日（から）", errors)
    date_to = _date(request, "date_to", "送信日（まで）", errors)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    page = selectors.sent_messages(
        web_actor(request),
        kind=kind or None,
        atena_no=atena_no or None,
        date_from=date_from,
        date_to=date_to,
        outcome=outcome or None,
        limit=PAGE,
        offset=offset,
    )
    query = request.GET.copy()
    query.pop("offset", None)
    return render(
        request,
        "web/cs/sent.html",
        {
            "nav": "cs",
            "page": page,
            "errors": errors,
            "values": request.GET,
            "kinds": [(k.name, k.label) for k in KINDS.values()],
            "outcomes": list(OUTCOMES.items()),
            "outcome_labels": OUTCOMES,
            "kind_labels": {k.name: k.label for k in KINDS.values()},
            "query": query.urlencode(),
            "last_shown": page.offset + len(page.items),
            "next_offset": offset + PAGE if offset + PAGE < page.total else None,
            "prev_offset": max(0, offset - PAGE) if offset else None,
            "printed_at": dt.datetime.now().astimezone(),
        },
        status=422 if errors else 200,
    )


@require_GET
@staff_view
def failures(request: HttpRequest) -> HttpResponse:
    """送信エラー: refused or not yet delivered, each with its reason; resend from here."""
    rows = selectors.failures(web_actor(request))
    return render(request, "web/cs/failures.html", {"nav": "cs", "rows": rows})


@require_GET
@staff_view
def message(request: HttpRequest, outbox_id: int) -> HttpResponse:
    found = selectors.outbox_message(web_actor(request), outbox_id)
    if found is None:
        raise Http404
    outbox, sent_rows = found
    return render(
        request,
        "web/cs/message.html",
        {
            "nav": "cs",
            "message": outbox,
            "sent": sent_rows,
            "outcome_labels": OUTCOMES,
            "kind_labels": {k.name: k.label for k in KINDS.values()},
        },
    )


@require_POST
@staff_view
def resend(request: HttpRequest, outbox_id: int) -> HttpResponse:
    """再送 (std 7.1.1.1), optionally with a changed 異動事由 code."""
    reason = str(request.POST.get("change_reason", "")).strip() or None
    try:
        services.resend(web_actor(request), outbox_id, change_reason=reason)
    except FindingsError as exc:
        for finding in exc.findings:
            messages.error(request, finding.message)
    else:
        messages.success(request, f"メッセージ {outbox_id} を再送の対象にしました。")
    return redirect(reverse("web:cs_message", args=[outbox_id]))


@require_http_methods(["GET", "POST"])
@staff_view
def query(request: HttpRequest) -> HttpResponse:
    """本人確認情報の照会（J-LIS）: purpose (required) and 住民票コード (prefilled from
    ``?juminhyo_code=``); the query is sent on POST and shows the matches."""
    actor = web_actor(request)
    authorize(actor, Perm.JUKINET_IDENTITY_QUERY, queries.QUERY_FUNCTION)
    source = request.POST if request.method == "POST" else request.GET
    values = {
        "purpose": str(source.get("purpose", "")).strip()[:200],
        "juminhyo_code": str(source.get("juminhyo_code", "")).strip()[:20],
    }
    errors: dict[str, Finding] = {}
    result = None
    status_code = 200
    if request.method == "POST":
        try:
            result = queries.query_identity(
                actor, purpose=values["purpose"], juminhyo_code=values["juminhyo_code"] or None
            )
        except FindingsError as exc:
            errors = {f.field or "juminhyo_code": f for f in exc.findings}
            status_code = 422
    return render(
        request,
        "web/cs/query.html",
        {
            "nav": "cs",
            "values": values,
            "errors": errors,
            "result": result,
            # std 10.4 (j1390): the 個人番号 only to staff allowed to see it, the 住民票コード
            # column only to those who may see it
            "can_see_number": actor.can(Perm.MY_NUMBER_READ),
            "hidden": reads.hidden_items(actor),
        },
        status=status_code,
    )


@require_GET
@staff_view
def inbound_list(request: HttpRequest) -> HttpResponse:
    """受信メッセージ: relayed 転入通知 and 転出証明書情報 with their state; links to the draft
    or to the person and the 転入通知の受理 form when a clerk must enter it."""
    state = str(request.GET.get("state", "")).strip()
    states = dict(inbound.State.choices)
    if state not in states:
        state = ""
    actor = web_actor(request)
    rows = inbound.inbound_messages(actor, state=state or None)
    return render(
        request,
        "web/cs/inbound.html",
        {
            "nav": "cs",
            "hidden": reads.hidden_items(actor),  # std 10.4 (j1390): the 住民票コード column
            "rows": rows,
            "state": state,
            "states": list(states.items()),
            "kind_labels": {k.name: k.label for k in KINDS.values()},
        },
    )


@require_GET
@staff_view
def unarrived(request: HttpRequest) -> HttpResponse:
    """転入通知未着者一覧 (std 4.1.3.1.4, j710): persons removed by a 転出 (or ex officio) at
    least N days ago whose 転入通知 has not come; printable, and as CSV (``?format=csv``)."""
    errors: dict[str, Finding] = {}
    raw_days = str(request.GET.get("days", "")).strip()
    days: int | None = None
    if raw_days:
        if raw_days.isdigit() and int(raw_days) <= 3650:
            days = int(raw_days)
        else:
            errors["days"] = error(
                "cs.days",
                f"経過日数「{raw_days}」は0〜3650の整数で入力してください。",
                field="days",
                remedy="例: 14",
            )
    as_of = _date(request, "as_of", "基準日", errors)
    export = request.GET.get("format") == "csv" and not errors
    actor = web_actor(request)
    hidden = reads.hidden_items(actor)  # std 10.4 (j1390): the 住民票コード column
    result = selectors.unarrived(actor, days=days, as_of=as_of, export=export)
    if export:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"unarrived-{result.as_of:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")  # BOM: spreadsheet software reads the file as UTF-8
        csv.writer(response).writerows(selectors.unarrived_rows(result, hidden=hidden))
        return response
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "web/cs/unarrived.html",
        {
            "nav": "cs",
            "hidden": hidden,
            "result": result,
            "errors": errors,
            "values": request.GET,
            "query": query.urlencode(),
            "printed_at": dt.datetime.now().astimezone(),
        },
        status=422 if errors else 200,
    )


@require_GET
@staff_view
def numbers(request: HttpRequest) -> HttpResponse:
    """個人番号の生成要求 (std 7.1.2.1, j1130): each request and where it stands."""
    states = selectors.MY_NUMBER_STATES
    state = str(request.GET.get("state", "")).strip()
    if state not in states:
        state = ""
    rows = selectors.my_number_requests(web_actor(request), state=state or None)
    return render(
        request,
        "web/cs/numbers.html",
        {"nav": "cs", "rows": rows, "state": state, "states": list(states.items())},
    )
