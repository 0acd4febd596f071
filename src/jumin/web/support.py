"""支援措置の管理 (support-measure administration): the list with status and end dates, the
application (仮支援措置), a measure's details with confirm / extend / terminate, the
end-of-period notice PDF (std 20.5.1), and the release of the protection for one request
(個別の解除) — std 1.1.16 (j160), 2.2.4 (j380), 3.4 (j440).

Views call only :mod:`jumin.support.services` and :mod:`jumin.support.selectors` — the same
functions the API calls; the services authorize and log. Every form re-renders with what was
typed and the error beside its field, nothing saved. A form carries a one-time token: sending
it again (reload, double click) shows the first result instead of writing twice.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import BaseModel, ValidationError

from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, Findings, FindingsError, error
from jumin.core.wareki import format_wareki, parse_date
from jumin.support import period, selectors, services
from jumin.support.schemas import ConfirmIn, ExtendIn, LiftIn, MeasureIn, TerminateIn
from jumin.web.common import PlacedFindings, place, staff_view, web_actor

NAV = "support"
COVERED_ROWS = 3
ABUSER_ROWS = 2
TOKENS = "support_form_tokens"
TOKENS_KEPT = 30
DATE_HINT = "和暦・西暦（例：R7.4.1、令和7年4月1日、2025-04-01）"
SEXES = [("", "—"), ("1", "男"), ("2", "女")]
STATUS_FILTERS = [("protecting", "保護中（仮支援措置・支援措置中・延長中）"), ("", "すべて")] + [
    (v, label) for v, label in selectors.STATUS_CHOICES
]


@dataclass
class Field:
    """One control (the shape ``web/inquiry/_field.html`` draws)."""

    name: str
    label: str
    kind: str = "text"  # text | select | checkbox
    hint: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    wide: bool = False
    inputmode: str = ""
    maxlength: int | None = None
    value: str = ""
    checked: bool = False
    autofocus: bool = False
    errors: list[Finding] = field(default_factory=list)
    form: str = ""  # the form's name when a page has several (unique ids)

    @property
    def id(self) -> str:
        return (
            "f-"
            + (f"{self.form}-" if self.form else "")
            + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)
        )


# (name, label, kind, extra) of the application form.
_MEASURE: list[dict[str, Any]] = [
    {
        "name": "atena_no",
        "label": "申出者の宛名番号",
        "hint": "住民検索で確かめた宛名番号（転出した人は除票の宛名番号）",
        "inputmode": "numeric",
        "maxlength": 10,
    },
    {"name": "applied_on", "label": "申出年月日", "hint": DATE_HINT, "date": True},
    {
        "name": "kind",
        "label": "支援措置の区分",
        "kind": "select",
        "options": selectors.KIND_CHOICES,
    },
    {
        "name": "kind_note",
        "label": "区分の補足",
        "hint": "「その他」のときの内容など",
        "maxlength": 200,
    },
    {
        "name": "provisional_since",
        "label": "仮支援措置の開始年月日",
        "hint": "空欄なら今日。受付と同時に対象者を保護します",
        "date": True,
    },
    {
        "name": "contact",
        "label": "申出者の連絡先",
        "hint": "電話番号・メールアドレス等（住所は書かないでください）",
        "maxlength": 200,
    },
]
_RESTRICT: list[dict[str, Any]] = [
    {"name": "restrict_inspection", "label": "住民基本台帳の一部の写しの閲覧", "kind": "checkbox"},
    {"name": "restrict_copies", "label": "住民票の写し等の交付", "kind": "checkbox"},
    {"name": "restrict_koseki_attachment", "label": "戸籍の附票の写しの交付", "kind": "checkbox"},
]
_TRANSFER: list[dict[str, Any]] = [
    {"name": "forwarded_to", "label": "転送先市区町村", "maxlength": 100},
    {"name": "forwarded_on", "label": "転送年月日", "hint": DATE_HINT, "date": True},
    {"name": "received_from", "label": "当初受付市区町村", "maxlength": 100},
    {
        "name": "received_on",
        "label": "転送された申出書の受付年月日",
        "hint": DATE_HINT,
        "date": True,
    },
    {"name": "memo", "label": "備考", "wide": True, "maxlength": 2000},
]
_COVERED: list[dict[str, Any]] = [
    {"name": "atena_no", "label": "宛名番号", "inputmode": "numeric", "maxlength": 10},
    {"name": "name", "label": "氏名（住民記録にない人）", "maxlength": 200},
    {"name": "name_kana", "label": "フリガナ", "maxlength": 200},
    {
        "name": "birth_date",
        "label": "生年月日（住民記録にない人）",
        "hint": DATE_HINT,
        "date": True,
    },
    {"name": "sex", "label": "性別", "kind": "select", "options": SEXES},
    {"name": "relationship", "label": "申出者との関係", "hint": "例：子", "maxlength": 40},
]
_ABUSER: list[dict[str, Any]] = [
    {"name": "name", "label": "氏名", "maxlength": 200},
    {
        "name": "name_kana",
        "label": "フリガナ",
        "hint": "交付請求の照合に使います",
        "maxlength": 200,
    },
    {"name": "birth_date", "label": "生年月日", "hint": DATE_HINT, "date": True},
    {"name": "sex", "label": "性別", "kind": "select", "options": SEXES},
    {"name": "relationship", "label": "申出者との関係", "hint": "例：元配偶者", "maxlength": 100},
    {
        "name": "atena_no",
        "label": "宛名番号",
        "hint": "同じ市区町村の住民なら",
        "inputmode": "numeric",
        "maxlength": 10,
    },
    {"name": "address", "label": "住所", "wide": True, "maxlength": 300},
    {"name": "note", "label": "その他", "wide": True, "maxlength": 1000},
]
_CONFIRM: list[dict[str, Any]] = [
    {"name": "start_on", "label": "支援措置の開始年月日", "hint": "空欄なら今日", "date": True},
    {
        "name": "end_on",
        "label": "終了年月日（修正するときだけ）",
        "hint": "空欄なら開始年月日の1年後の前日を自動設定",
        "date": True,
    },
    {"name": "note", "label": "備考（終了年月日を修正する理由）", "wide": True, "maxlength": 500},
]
_EXTEND: list[dict[str, Any]] = [
    {
        "name": "end_on",
        "label": "延長後の終了年月日（修正するときだけ）",
        "hint": "空欄なら終了日の翌日から1年間を自動設定",
        "date": True,
    },
    {"name": "note", "label": "備考", "wide": True, "maxlength": 500},
]
_TERMINATE: list[dict[str, Any]] = [
    {
        "name": "reason",
        "label": "終了の事由",
        "kind": "select",
        "options": [("", "選んでください"), *selectors.END_REASON_CHOICES],
    },
    {
        "name": "note",
        "label": "理由の詳細",
        "hint": "「その他」では必須",
        "wide": True,
        "maxlength": 500,
    },
]
_LIFT: list[dict[str, Any]] = [
    {
        "name": "atena_nos",
        "label": "請求の対象者の宛名番号（全員）",
        "hint": "請求に含まれる全員を空白または読点で区切って入力（支援対象者以外も含めて）",
        "wide": True,
        "inputmode": "numeric",
        "maxlength": 600,
    },
    {
        "name": "purpose",
        "label": "解除する請求（交付する証明書・閲覧）",
        "kind": "select",
        "options": [],  # services.lift_purposes(), filled per request
        "wide": True,
    },
    {
        "name": "reason",
        "label": "解除の理由（審査の結果）",
        "hint": "例：申出者本人からの請求であることを確認した",
        "wide": True,
        "maxlength": 500,
    },
    {
        "name": "for_staff_id",
        "label": "使用できる職員の職員ID",
        "hint": "空欄なら誰でも使用できます",
        "maxlength": 32,
    },
]
_DATES = {spec["name"] for spec in [*_MEASURE, *_TRANSFER, *_CONFIRM, *_EXTEND] if spec.get("date")}
_LABELS: dict[str, str] = {
    spec["name"]: spec["label"]
    for spec in [*_MEASURE, *_RESTRICT, *_TRANSFER, *_CONFIRM, *_EXTEND, *_TERMINATE, *_LIFT]
}
_ROW_LABELS = {
    "covered": ({s["name"]: s["label"] for s in _COVERED}, "併せて支援を求める者"),
    "abusers": ({s["name"]: s["label"] for s in _ABUSER}, "加害者"),
}


def _fields(
    specs: list[dict[str, Any]],
    values: dict[str, Any],
    placed: PlacedFindings,
    prefix: str = "",
    form: str = "",
) -> list[Field]:
    out = []
    for spec in specs:
        name = prefix + spec["name"]
        kind = spec.get("kind", "text")
        f = Field(
            name=name,
            label=spec["label"],
            kind=kind,
            hint=spec.get("hint", ""),
            options=list(spec.get("options", [])),
            wide=bool(spec.get("wide")),
            inputmode=spec.get("inputmode", ""),
            maxlength=spec.get("maxlength"),
            errors=placed.for_field(name),
            form=form,
        )
        if kind == "checkbox":
            f.checked = bool(values.get(name))
        else:
            f.value = str(values.get(name) or "")
        out.append(f)
    return out


def _focus_first_error(groups: list[list[Field]]) -> None:
    for group in groups:
        for f in group:
            if f.errors:
                f.autofocus = True
                return


# --------------------------------------------------------------------------- input


def _date(findings: Findings, field_name: str, label: str, text: str) -> str | None:
    """A 和暦/西暦 date as ISO (the schema's format), a finding when unreadable."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_date(text).isoformat()
    except CoreError as exc:
        findings.add(
            error(
                exc.code,
                exc.message.replace("年月日", label, 1),
                field=field_name,
                remedy=f"{label}を「R7.4.1」「令和7年4月1日」「2025-04-01」などの形式で入力して"
                "ください。",
            )
        )
        return None


def _label(path: str) -> str:
    parts = path.split(".")
    if len(parts) == 3 and parts[0] in _ROW_LABELS:
        labels, group = _ROW_LABELS[parts[0]]
        return f"{group}{int(parts[1]) + 1}の{labels.get(parts[2], parts[2])}"
    return _LABELS.get(path, path or "入力")


def _schema_findings(exc: ValidationError, taken: set[str]) -> Findings:
    """pydantic's complaints in Japanese, each on its field (fields already reported skip)."""
    findings = Findings()
    for item in exc.errors():
        path = ".".join(str(p) for p in item.get("loc") or ())
        if path in taken:
            continue
        label = _label(path)
        kind = str(item.get("type", ""))
        ctx = item.get("ctx") or {}
        if kind == "missing":
            message = f"{label}を入力してください。"
        elif kind == "string_too_long":
            message = f"{label}は{ctx.get('max_length')}文字以内で入力してください。"
        elif kind in ("enum", "literal_error"):
            message = f"{label}を一覧から選んでください。"
        else:
            message = f"{label}の入力が正しくありません。"
        findings.add(error(f"support.{kind or 'invalid'}", message, field=path))
    return findings


def _build(model: type[BaseModel], data: dict[str, Any], findings: Findings) -> Any | None:
    """Validate ``data`` into ``model``; findings (date errors first, then the schema's)."""
    try:
        built = model.model_validate(data)
    except ValidationError as exc:
        findings.extend(_schema_findings(exc, {f.field for f in findings}))
        return None
    return None if findings else built


def _text_values(post: QueryDict, specs: list[dict[str, Any]], prefix: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in specs:
        name = prefix + spec["name"]
        if spec.get("kind") == "checkbox":
            sent = post.getlist(name)
            values[name] = bool(sent) and sent[-1] == "1"
        else:
            values[name] = post.get(name, "").strip()
    return values


def _data(
    values: dict[str, Any], specs: list[dict[str, Any]], findings: Findings, prefix: str = ""
) -> dict[str, Any]:
    """Form values → the schema's input: dates parsed, empty optional text left out."""
    data: dict[str, Any] = {}
    for spec in specs:
        name = spec["name"]
        value = values.get(prefix + name)
        if spec.get("date"):
            parsed = _date(findings, prefix + name, _label(prefix + name), str(value or ""))
            if parsed is not None:
                data[name] = parsed
        elif spec.get("kind") == "checkbox":
            data[name] = bool(value)
        elif value not in (None, ""):
            data[name] = value
    return data


# --------------------------------------------------------------------------- one-time tokens


def _new_token(request: HttpRequest) -> str:
    token = secrets.token_urlsafe(16)
    tokens = dict(request.session.get(TOKENS, {}))
    tokens[token] = None
    if len(tokens) > TOKENS_KEPT:
        tokens = dict(list(tokens.items())[-TOKENS_KEPT:])
    request.session[TOKENS] = tokens
    return token


def _token_result(request: HttpRequest, token: str) -> str | None:
    """The page a token's first submission went to (None if not used yet)."""
    result = request.session.get(TOKENS, {}).get(token)
    return str(result) if result else None


def _token_done(request: HttpRequest, token: str, url: str) -> None:
    tokens = dict(request.session.get(TOKENS, {}))
    tokens[token] = url
    request.session[TOKENS] = tokens


# --------------------------------------------------------------------------- list


@dataclass(frozen=True)
class ListRow:
    measure: Any
    state: selectors.PeriodState


@staff_view
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """支援措置の一覧: status, period and where each stands; the alerts above."""
    actor = web_actor(request)
    status = request.GET.get("status", "protecting")
    kind = request.GET.get("kind", "")
    atena_no = request.GET.get("atena_no", "").strip()
    if status not in dict(STATUS_FILTERS):
        status = "protecting"
    if kind not in dict(selectors.KIND_CHOICES):
        kind = ""
    if atena_no and not atena_no.isdigit():
        atena_no = ""
    rows = services.list_measures(actor, status=status, kind=kind, atena_no=atena_no)
    context = {
        "nav": NAV,
        "rows": [ListRow(m, selectors.period_state(m)) for m in rows],
        "alerts": services.alerts_for(actor),
        "status": status,
        "kind": kind,
        "atena_no": atena_no,
        "status_filters": STATUS_FILTERS,
        "kinds": [("", "すべて"), *selectors.KIND_CHOICES],
        "can_manage": actor.can(Perm.SUPPORT_MEASURE_MANAGE),
        "alert_days": selectors.alert_days(),
    }
    return render(request, "web/support/list.html", context)


# --------------------------------------------------------------------------- application


def _measure_form(
    request: HttpRequest,
    values: dict[str, Any],
    findings: Findings | None = None,
    *,
    token: str,
    status: int = 200,
) -> HttpResponse:
    known = (
        [s["name"] for s in [*_MEASURE, *_RESTRICT, *_TRANSFER]]
        + [f"covered.{i}.{s['name']}" for i in range(COVERED_ROWS) for s in _COVERED]
        + [f"abusers.{i}.{s['name']}" for i in range(ABUSER_ROWS) for s in _ABUSER]
    )
    placed = place(findings or [], known)
    main = _fields(_MEASURE, values, placed)
    restrict = _fields(_RESTRICT, values, placed)
    transfer = _fields(_TRANSFER, values, placed)
    covered = [_fields(_COVERED, values, placed, f"covered.{i}.") for i in range(COVERED_ROWS)]
    abusers = [_fields(_ABUSER, values, placed, f"abusers.{i}.") for i in range(ABUSER_ROWS)]
    groups = [main, restrict, *covered, *abusers, transfer]
    _focus_first_error(groups)
    if not placed.any:
        main[0].autofocus = True
    context = {
        "nav": NAV,
        "main": main,
        "restrict": restrict,
        "transfer": transfer,
        "covered": covered,
        "abusers": abusers,
        "placed": placed,
        "token": token,
        "transfer_open": any(f.value or f.errors for f in transfer),
    }
    return render(request, "web/support/new.html", context, status=status)


def _measure_values(post: QueryDict) -> dict[str, Any]:
    values = _text_values(post, [*_MEASURE, *_RESTRICT, *_TRANSFER])
    for i in range(COVERED_ROWS):
        values.update(_text_values(post, _COVERED, f"covered.{i}."))
    for i in range(ABUSER_ROWS):
        values.update(_text_values(post, _ABUSER, f"abusers.{i}."))
    return values


@staff_view
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """支援措置の申出の受付: recorded as 仮支援措置 — the persons are protected at once."""
    actor = web_actor(request)
    authorize(actor, Perm.SUPPORT_MEASURE_MANAGE, services.FUNCTION_REGISTER)
    if request.method == "GET":
        today = selectors.today()
        values: dict[str, Any] = {
            "applied_on": format_wareki(today),
            "kind": "dv",
            "restrict_inspection": True,
            "restrict_copies": True,
            "restrict_koseki_attachment": True,
            "atena_no": request.GET.get("atena_no", "").strip(),
        }
        return _measure_form(request, values, token=_new_token(request))
    token = request.POST.get("token", "")
    if (done := _token_result(request, token)) is not None:
        return redirect(done)
    values = _measure_values(request.POST)
    findings = Findings()
    data = _data(values, [*_MEASURE, *_RESTRICT, *_TRANSFER], findings)
    data["covered"] = [
        _data(values, _COVERED, findings, f"covered.{i}.") for i in range(COVERED_ROWS)
    ]
    data["abusers"] = [
        _data(values, _ABUSER, findings, f"abusers.{i}.") | {"name": values[f"abusers.{i}.name"]}
        for i in range(ABUSER_ROWS)
    ]
    built = _build(MeasureIn, data, findings)
    if built is not None:
        try:
            measure = services.register(actor, built)
        except FindingsError as exc:
            findings = exc.findings
        else:
            url = reverse("web:support_detail", args=[measure.pk])
            _token_done(request, token, url)
            messages.success(
                request,
                f"支援措置 第{measure.pk}号を仮支援措置として登録しました。対象者の住民票の写し等の"
                "交付・閲覧は、この時点から制限されます。",
            )
            return redirect(url)
    return _measure_form(request, values, findings, token=token, status=422)


# --------------------------------------------------------------------------- a measure


def _detail(
    request: HttpRequest,
    measure_id: int,
    *,
    form: str = "",
    values: dict[str, Any] | None = None,
    findings: Findings | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = web_actor(request)
    try:
        measure = services.read_measure(actor, measure_id)
    except FindingsError as exc:
        return render(
            request,
            "web/inquiry/unknown.html",
            {"nav": NAV, "findings": list(exc.findings), "title": "支援措置がありません"},
            status=404,
        )
    state = selectors.period_state(measure)
    values = values or {}
    placed = {name: place([], []) for name in ("confirm", "extend", "terminate")}
    if form in placed:
        specs = {"confirm": _CONFIRM, "extend": _EXTEND, "terminate": _TERMINATE}[form]
        placed[form] = place(findings or [], [s["name"] for s in specs])
    general = list(findings or []) if form not in placed else []
    specs_of = {"confirm": _CONFIRM, "extend": _EXTEND, "terminate": _TERMINATE}
    forms = {
        name: _fields(specs, values if form == name else {}, placed[name], form=name)
        for name, specs in specs_of.items()
    }
    if form in forms:
        _focus_first_error([forms[form]])
    subjects = list(measure.subjects.all())
    today = selectors.today()
    auto_end = period.period_end(today)
    context = {
        "nav": NAV,
        "m": measure,
        "state": state,
        "subjects": subjects,
        "abusers": list(measure.abusers.all()),
        "events": list(measure.events.all()),
        "applicant_state": selectors.applicant_record_state(measure.atena_no),
        "forms": forms,
        "placed": placed,
        "form": form,
        "general": general,
        "can_manage": actor.can(Perm.SUPPORT_MEASURE_MANAGE),
        "is_protecting": measure.is_protecting,
        "auto_end": auto_end,
        "extended_end": period.extended_end(measure.end_on) if measure.end_on else None,
        "lifts": selectors.lifts_for([s.atena_no for s in subjects if s.atena_no]),
        "protected_atenas": " ".join(s.atena_no for s in subjects if s.atena_no),
    }
    return render(request, "web/support/detail.html", context, status=status)


@staff_view
@require_GET
def detail(request: HttpRequest, measure_id: int) -> HttpResponse:
    """支援措置の照会: the database of std 1.1.16 for one measure (logged)."""
    return _detail(request, measure_id)


def _action(
    request: HttpRequest,
    measure_id: int,
    form: str,
    specs: list[dict[str, Any]],
    model: type[BaseModel],
    run: Any,
    done: str,
) -> HttpResponse:
    actor = web_actor(request)
    values = _text_values(request.POST, specs)
    findings = Findings()
    built = _build(model, _data(values, specs, findings), findings)
    if built is not None:
        try:
            measure = run(actor, measure_id, built)
        except FindingsError as exc:
            findings = exc.findings
        else:
            messages.success(request, done.format(m=measure, end=_w(measure.end_on)))
            return redirect("web:support_detail", measure_id=measure_id)
    return _detail(request, measure_id, form=form, values=values, findings=findings, status=422)


def _w(day: dt.date | None) -> str:
    return format_wareki(day) if day else "—"


@staff_view
@require_POST
def confirm(request: HttpRequest, measure_id: int) -> HttpResponse:
    """支援措置の開始 (the period: start + 1 year − 1 day)."""
    return _action(
        request,
        measure_id,
        "confirm",
        _CONFIRM,
        ConfirmIn,
        services.confirm,
        "支援措置 第{m.pk}号を開始しました。期間の終了日は{end}です。",
    )


@staff_view
@require_POST
def extend(request: HttpRequest, measure_id: int) -> HttpResponse:
    """期間の延長 (from one month before the end)."""
    return _action(
        request,
        measure_id,
        "extend",
        _EXTEND,
        ExtendIn,
        services.extend,
        "支援措置 第{m.pk}号の期間を延長しました。新しい終了日は{end}です。",
    )


@staff_view
@require_POST
def terminate(request: HttpRequest, measure_id: int) -> HttpResponse:
    """支援措置の終了."""
    return _action(
        request,
        measure_id,
        "terminate",
        _TERMINATE,
        TerminateIn,
        services.terminate,
        "支援措置 第{m.pk}号を終了しました。対象者の制限は解除されています。",
    )


@staff_view
@never_cache
@require_GET
def notice(request: HttpRequest, measure_id: int) -> HttpResponse:
    """支援措置期間終了通知 (std 20.5.1) as a PDF download (logged as a document issue)."""
    try:
        content = services.notice_pdf(web_actor(request), measure_id)
    except FindingsError as exc:
        return _detail(request, measure_id, findings=exc.findings, form="notice", status=422)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="support-end-notice-{measure_id}.pdf"'
    return response


# --------------------------------------------------------------------------- lifts


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def lifts(request: HttpRequest) -> HttpResponse:
    """個別の解除: release the protection for one request (its persons and purpose), with the
    reason; the page lists the latest releases and whether they were used."""
    actor = web_actor(request)
    authorize(actor, Perm.SUPPORT_MEASURE_LIFT, services.FUNCTION_LIFT)
    findings = Findings()
    created = None
    if request.method == "POST":
        token = request.POST.get("token", "")
        if (done := _token_result(request, token)) is not None:
            return redirect(done)
        values = _text_values(request.POST, _LIFT)
        data = {
            "atena_nos": [a for a in re.split(r"[\s,、，]+", values["atena_nos"]) if a],
            "purpose": values["purpose"],
            "reason": values["reason"],
            "for_staff_id": values["for_staff_id"],
        }
        built = _build(LiftIn, data, findings)
        if built is not None:
            try:
                created = services.create_lift(actor, built)
            except FindingsError as exc:
                findings = exc.findings
            else:
                _token_done(request, token, reverse("web:support_lifts") + f"?shown={created.pk}")
    else:
        token = ""
        values = {
            "atena_nos": request.GET.get("atena_no", "").strip(),
            "purpose": services.lift_purposes()[0],
        }
    shown = request.GET.get("shown", "")
    recent = services.list_lifts(actor)
    if created is None and shown.isdigit():
        created = next((x for x in recent if x.pk == int(shown)), None)
    placed = place(findings, [s["name"] for s in _LIFT])
    purposes = services.lift_purposes()
    form_fields = _fields(_LIFT, {"purpose": purposes[0]} if created else values, placed)
    form_fields[1].options = [(p, p) for p in purposes]
    _focus_first_error([form_fields])
    if not placed.any and created is None:
        form_fields[0].autofocus = True
    context = {
        "nav": NAV,
        "fields": form_fields,
        "placed": placed,
        "created": created,
        "recent": recent,
        "purposes": purposes,
        "token": _new_token(request) if created or request.method == "GET" else token,
        "minutes": services.lift_minutes(),
    }
    status = 422 if findings else (201 if request.method == "POST" else 200)
    return render(request, "web/support/lifts.html", context, status=status)
