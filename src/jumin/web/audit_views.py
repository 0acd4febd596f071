"""操作ログの画面 for auditors (std 10.2, j1370): search with filters, entry detail, CSV export,
the analysis reports (screen + CSV), the verification of the chain and its checkpoints, the
settings; and the small endpoint that logs a clerk printing a screen (画面ハードコピー).

Views call the log's selectors and services only (``jumin.audit.reports``, ``events``,
``retention``); they check the permissions and log every read.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, cast
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jumin.accounts.permissions import Perm
from jumin.audit import access, events, reports, retention
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, FindingsError, error
from jumin.web.common import staff_view, web_actor
from jumin.web.procedure_forms import read_date

PAGE = 50
BOM = "\ufeff"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterable[list[str]], filename: str) -> HttpResponse:
    """UTF-8 with BOM (Excel opens it as UTF-8), streamed row by row."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield BOM
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return cast(HttpResponse, response)  # staff_view's type; Django serves either


def _date(
    request: HttpRequest, name: str, label: str, errors: dict[str, Finding]
) -> dt.date | None:
    text = str(request.GET.get(name, "")).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(read_date(text))
    except (CoreError, ValueError):
        errors[name] = error(
            "audit.date",
            f"{label}「{text}」を日付として読めません。",
            field=name,
            remedy="R8.11.26 または 2026-11-26 のように入力してください。",
        )
        return None


def _filter(request: HttpRequest) -> tuple[reports.LogFilter, dict[str, Finding]]:
    errors: dict[str, Finding] = {}
    get = request.GET
    category = str(get.get("category", "")).strip()
    if category and category not in reports.CATEGORY_VALUES:
        errors["category"] = error(
            "audit.category", "区分は一覧から選んでください。", field="category"
        )
        category = ""
    outcome = str(get.get("outcome", "")).strip()
    if outcome and outcome not in reports.OUTCOME_VALUES:
        errors["outcome"] = error(
            "audit.outcome", "結果は一覧から選んでください。", field="outcome"
        )
        outcome = ""
    my_number = {"1": True, "0": False}.get(str(get.get("my_number", "")))
    date_from = _date(request, "date_from", "期間（から）", errors)
    date_to = _date(request, "date_to", "期間（まで）", errors)
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = error(
            "audit.period",
            "期間（まで）が期間（から）より前です。",
            field="date_to",
            remedy="期間の終わりには始めと同じか後の日付を入力してください。",
        )
    f = reports.LogFilter(
        date_from=date_from,
        date_to=date_to,
        operator_code=str(get.get("operator", "")).strip()[:64],
        terminal_name=str(get.get("terminal", "")).strip()[:64],
        category=category,
        outcome=outcome,
        function=str(get.get("function", "")).strip()[:100],
        atena_no=str(get.get("atena_no", "")).strip()[:16],
        my_number_accessed=my_number,
    )
    return f, errors


def _labels() -> dict[str, Any]:
    return {
        "categories": reports.CATEGORIES,
        "outcomes": reports.OUTCOMES,
    }


@require_GET
@staff_view
def search(request: HttpRequest) -> HttpResponse:
    """操作ログの検索 (AUDIT_LOG_READ)."""
    actor = web_actor(request)
    access.require(actor, access.LOG_READ, reports.SEARCH_FUNCTION)
    f, errors = _filter(request)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    page = None if errors else reports.search(actor, f, offset=offset, limit=PAGE)
    query = request.GET.copy()
    query.pop("offset", None)
    return render(
        request,
        "web/audit/search.html",
        {
            "nav": "audit",
            "sub": "search",
            "page": page,
            "errors": errors,
            "values": request.GET,
            "query": query.urlencode(),
            "last_shown": (page.offset + len(page.items)) if page else 0,
            "next_offset": offset + PAGE if page and offset + PAGE < page.total else None,
            "prev_offset": max(0, offset - PAGE) if offset else None,
            "can_export": actor.can(Perm.DATA_EXTRACT),
            **_labels(),
        },
        status=422 if errors else 200,
    )


@require_GET
@staff_view
def entry(request: HttpRequest, seq: int) -> HttpResponse:
    found = reports.entry(web_actor(request), seq)
    if found is None:
        raise Http404
    return render(
        request,
        "web/audit/entry.html",
        {
            "nav": "audit",
            "sub": "search",
            "e": found,
            "detail": sorted(found.detail.items()),
            **_labels(),
        },
    )


@require_GET
@staff_view
def export(request: HttpRequest) -> HttpResponse:
    """CSV of the filtered log (データ抽出, logged with the filter)."""
    f, errors = _filter(request)
    if errors:
        return redirect(f"{reverse('web:audit_search')}?{request.GET.urlencode()}")
    rows = reports.export(web_actor(request), f)
    return _csv_response(rows, f"operation-log-{timezone.localdate():%Y%m%d}.csv")


def _report_period(request: HttpRequest, errors: dict[str, Finding]) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    date_from = _date(request, "date_from", "期間（から）", errors) or today - dt.timedelta(days=30)
    date_to = _date(request, "date_to", "期間（まで）", errors) or today
    if date_from > date_to:
        errors["date_to"] = error(
            "audit.period", "期間（まで）が期間（から）より前です。", field="date_to"
        )
    return date_from, date_to


@require_GET
@staff_view
def report_index(request: HttpRequest) -> HttpResponse:
    access.require(web_actor(request), access.LOG_ANALYSE, reports.REPORT_FUNCTION)
    return render(
        request,
        "web/audit/reports.html",
        {"nav": "audit", "sub": "reports", "reports": list(reports.REPORTS.items())},
    )


@require_GET
@staff_view
def report(request: HttpRequest, key: str) -> HttpResponse:
    """One analysis report of std 10.2; ``?format=csv`` for the file."""
    if key not in reports.REPORTS:
        raise Http404
    errors: dict[str, Finding] = {}
    date_from, date_to = _report_period(request, errors)
    actor = web_actor(request)
    as_csv = request.GET.get("format") == "csv"
    if errors:
        access.require(actor, access.LOG_ANALYSE, reports.REPORT_FUNCTION)
        built = None
    else:
        built = reports.report(actor, key, date_from=date_from, date_to=date_to, csv=as_csv)
        if as_csv:
            return _csv_response(
                [built.columns, *built.rows], f"{key}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv"
            )
    query = request.GET.copy()
    query["format"] = "csv"
    query.setdefault("date_from", date_from.isoformat())
    query.setdefault("date_to", date_to.isoformat())
    return render(
        request,
        "web/audit/report.html",
        {
            "nav": "audit",
            "sub": "reports",
            "key": key,
            "title": reports.REPORTS[key],
            "report": built,
            "errors": errors,
            "date_from": request.GET.get("date_from") or date_from.isoformat(),
            "date_to": request.GET.get("date_to") or date_to.isoformat(),
            "csv_query": query.urlencode(),
            "row_limit": reports.REPORT_ROW_LIMIT,
            "can_export": actor.can(Perm.DATA_EXTRACT),
            "printed_at": timezone.localtime(),
        },
        status=422 if errors else 200,
    )


@require_GET
@staff_view
def verify(request: HttpRequest) -> HttpResponse:
    """改ざん検査 (AUDIT_LOG_VERIFY): the chain and every signed checkpoint."""
    result = events.verify(web_actor(request))
    return render(
        request,
        "web/audit/verify.html",
        {"nav": "audit", "sub": "verify", "result": result, "checked_at": timezone.localtime()},
    )


def _time(text: str, label: str, name: str, errors: dict[str, Finding]) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text.strip())
    except ValueError:
        errors[name] = error(
            "audit.time",
            f"{label}「{text}」を時刻として読めません。",
            field=name,
            remedy="22:00 のように入力してください。",
        )
        return None


def _int(text: str, label: str, name: str, errors: dict[str, Finding]) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        errors[name] = error(
            "audit.number",
            f"{label}「{text}」を数値として読めません。",
            field=name,
            remedy="半角数字で入力してください。",
        )
        return None


@require_http_methods(["GET", "POST"])
@staff_view
def settings_view(request: HttpRequest) -> HttpResponse:
    """保存期間・深夜の時間帯・大量検索のしきい値 (AUDIT_SETTINGS_MANAGE, logged 設定変更)."""
    actor = web_actor(request)
    access.require(actor, access.SETTINGS_MANAGE, retention.SETTINGS_FUNCTION)
    current = retention.current_settings()
    errors: dict[str, Finding] = {}
    values: dict[str, str] = {
        "retention_years": str(current.retention_years),
        "night_start": current.night_start.strftime("%H:%M"),
        "night_end": current.night_end.strftime("%H:%M"),
        "mass_search_threshold": str(current.mass_search_threshold),
    }
    status = 200
    if request.method == "POST":
        values = {k: str(request.POST.get(k, "")) for k in values}
        years = _int(values["retention_years"], "保存期間", "retention_years", errors)
        start = _time(values["night_start"], "深夜の開始時刻", "night_start", errors)
        end = _time(values["night_end"], "深夜の終了時刻", "night_end", errors)
        threshold = _int(
            values["mass_search_threshold"], "大量検索のしきい値", "mass_search_threshold", errors
        )
        if not errors and years is not None and start and end and threshold is not None:
            try:
                retention.change_settings(
                    actor,
                    retention_years=years,
                    night_start=start,
                    night_end=end,
                    mass_search_threshold=threshold,
                )
            except FindingsError as exc:
                errors = {f.field or "retention_years": f for f in exc.findings}
            else:
                messages.success(
                    request, "操作ログの設定を変更しました（設定変更として記録しました）。"
                )
                return redirect("web:audit_settings")
        status = 422
    return render(
        request,
        "web/audit/settings.html",
        {"nav": "audit", "sub": "settings", "values": values, "errors": errors, "current": current},
        status=status,
    )


@require_POST
@staff_view
def print_log(request: HttpRequest) -> HttpResponse:
    """画面ハードコピー: ``print-log.js`` posts here when a clerk prints a screen (or opens the
    print preview). The persons are read from the screen's own URL (its ``atena_no``)."""
    parts = urlsplit(str(request.POST.get("path", "")))
    path = parts.path[:200]
    title = str(request.POST.get("title", "")).strip()[:200]
    if parts.scheme or parts.netloc or not path.startswith("/"):
        return HttpResponse(
            "path が必要です。", status=400, content_type="text/plain; charset=utf-8"
        )
    targets: list[str] = []
    screen = path
    try:
        match = resolve(path)
    except Resolver404:
        return HttpResponse(
            "この画面は記録できません。", status=400, content_type="text/plain; charset=utf-8"
        )
    screen = match.view_name or path
    atena_no = match.kwargs.get("atena_no")
    if atena_no:
        targets.append(str(atena_no)[:16])
    events.record_screen_copy(
        web_actor(request),
        screen=f"{screen} {path}" if targets else screen,
        title=title,
        targets=targets,
        output="印刷（プレビューを含む）",
        my_number_shown=request.POST.get("my_number") == "1",
    )
    return HttpResponse(status=204)
