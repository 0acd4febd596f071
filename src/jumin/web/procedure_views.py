"""異動入力: one screen per procedure, generated from its input model (ADR 0006).

Input → 確認 (the planned records and every finding; alerts acknowledged one by one) →
仮登録 (a draft for review). Each step re-validates on the server; the form carries an
idempotency key, so two clicks, the back button or two tabs never make two drafts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from jumin.core.findings import Finding, Findings, FindingsError
from jumin.jukinet import inbound
from jumin.register import reads, services
from jumin.register.procedures import registry
from jumin.register.procedures.registry import ProcedureSpec
from jumin.web import procedure_forms as pf
from jumin.web import sealing
from jumin.web.common import place, staff_view, web_actor
from jumin.web.record_display import person_summaries

# the standard's chapters, for the list of procedures
SECTIONS: tuple[tuple[str, str], ...] = (
    ("4.1", "住所の異動（転入・転居・転出・世帯変更）"),
    ("4.2", "職権による記載・消除・修正"),
    ("4.3", "住民票コード"),
    ("4.4", "個人番号"),
    ("4.5", "外国人住民"),
    ("1.1", "旧氏・通称"),
    ("4.6", "異動の取消"),
)
KEY_FIELD = "_key"
ACTION_FIELD = "_action"
PAYLOAD_FIELD = "_payload"
ACK_FIELD = "_ack"
# 特例転入: the clerk fetches the 転出証明書情報 over the 住基ネット into the 転入 form
CS_CODES_FIELD = "_cs_codes"
CS_FROM_FIELD = "_cs_from"
CS_SOURCE_FIELD = "_cs_source"
FETCH_PROCEDURES = frozenset({"move_in"})


def _section(spec: ProcedureSpec) -> str:
    for prefix, _label in SECTIONS:
        if spec.group == prefix or spec.group.startswith(prefix + "."):
            return prefix
    return "4.6"


@require_http_methods(["GET"])
@staff_view
def index(request: HttpRequest) -> HttpResponse:
    """The procedures, grouped by the standard's chapters; ?atena_no= / ?household_no= are
    passed on to the chosen screen."""
    specs = sorted(registry.all_specs().values(), key=lambda s: (s.group, s.label))
    groups = [(label, [s for s in specs if _section(s) == prefix]) for prefix, label in SECTIONS]
    query = {k: request.GET[k] for k in ("atena_no", "household_no") if request.GET.get(k)}
    suffix = ("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""
    return render(
        request,
        "web/procedures/index.html",
        {"nav": "procedures", "groups": [g for g in groups if g[1]], "suffix": suffix},
    )


def _spec(name: str) -> ProcedureSpec:
    spec = registry.get(name)
    if spec is None:
        raise Http404
    return spec


@require_http_methods(["GET", "POST"])
@staff_view
def form(request: HttpRequest, name: str) -> HttpResponse:
    spec = _spec(name)
    if request.method == "GET":
        values = _prefill(request, spec)
        return _render_form(request, spec, values, Findings(), key=uuid.uuid4().hex, fresh=True)
    post = request.POST
    key = str(post.get(KEY_FIELD) or "")[:64] or uuid.uuid4().hex
    action = str(post.get(ACTION_FIELD) or "check")
    if action in {"save", "back"}:
        try:
            raw = sealing.unseal(str(post.get(PAYLOAD_FIELD) or ""))
        except sealing.SealError:
            messages.error(
                request,
                "確認画面の有効期限が切れたか、内容が正しくありません。もう一度入力してください。",
            )
            return _render_form(request, spec, None, Findings(), key=key, fresh=True)
        values = raw if isinstance(raw, dict) else {}
        if action == "back":
            return _render_form(
                request, spec, values, Findings(), key=key, cs=_carried_source(request)
            )
        return _save(request, spec, values, key, post.getlist(ACK_FIELD))
    values, findings = pf.parse(spec.input_model, post)
    if action == "fetch" and spec.name in FETCH_PROCEDURES:
        return _fetch(request, spec, values, key)
    if action == "redisplay":  # values restored in the browser after a session expiry
        return _render_form(request, spec, values, Findings(), key=key, restored=True)
    if action.startswith("add:") or action.startswith("remove:"):
        values = _edit_rows(values, action)
        focus = _added_row(values, action)
        return _render_form(
            request, spec, values, Findings(), key=key, focus=focus, cs=_carried_source(request)
        )
    return _check(request, spec, values, findings, key)


def _fetch(
    request: HttpRequest, spec: ProcedureSpec, values: dict[str, Any], key: str
) -> HttpResponse:
    """「転出証明書情報を取得」: ask the CS for the 転出証明書情報 of the typed 住民票コード and
    fill the form with it (the clerk's other entries are kept); on a refusal or when the
    national side is down, the form comes back as it was with the explanation."""
    typed = str(request.POST.get(CS_CODES_FIELD) or "")[:400]
    origin = str(request.POST.get(CS_FROM_FIELD) or "").strip()[:6]
    codes = [c for c in re.split(r"[\s,、，]+", typed) if c]
    cs: dict[str, Any] = {"codes": typed, "from": origin}
    try:
        fetched = inbound.fetch_move_out_info(web_actor(request), codes, origin)
    except FindingsError as exc:
        cs["errors"] = [f"{f.message} {f.remedy}".strip() for f in exc.findings]
        return _render_form(request, spec, values, Findings(), key=key, cs=cs, status=422)
    except inbound.FetchUnavailable as exc:
        cs["errors"] = [exc.message]
        return _render_form(request, spec, values, Findings(), key=key, cs=cs, status=503)
    source = fetched.source()
    source["persons"] = [
        f"{p.family_name} {p.given_name}".strip() or p.name_alphabet for _, p in fetched.persons
    ]
    # the 個人番号 travel sealed (encrypted) with the form, never shown in it: the register
    # needs them, the clerk entering the 転入 need not see them
    numbers = {p.juminhyo_code: p.my_number for _, p in fetched.persons if p.my_number}
    cs.update(
        source=source,
        sealed=sealing.seal(source | {"numbers": numbers}),
        fetched=True,
        numbers=numbers,
    )
    filled = _filled(values, fetched, _person_fields(spec))
    return _render_form(request, spec, filled, Findings(), key=key, cs=cs)


def _person_fields(spec: ProcedureSpec) -> set[str]:
    info = spec.input_model.model_fields.get("persons")
    inner = pf.list_item_type(info) if info is not None else None
    return set(inner.model_fields) if inner is not None and pf.is_model(inner) else set()


def _filled(
    values: dict[str, Any], fetched: inbound.FetchedMoveOut, person_fields: set[str]
) -> dict[str, Any]:
    """The 転入 form with the fetched 転出証明書情報: kind 特例転入, the previous address, the
    certificate (origin, planned date) and one person row per person on it; the address in
    this city, the dates and any other rows the clerk typed stay."""
    first = fetched.infos[0]
    out = dict(values)
    out["kind"] = "card"
    out["previous_address"] = first.previous_address
    out["certificate"] = {
        "municipality_code": fetched.from_municipality,
        "planned_on": first.planned_on.isoformat(),
        "issued_on": (out.get("certificate") or {}).get("issued_on"),
    }
    rows = []
    codes = set()
    carries_certificate = "certificate_id" in person_fields
    for info, p in fetched.persons:
        codes.add(p.juminhyo_code)
        rows.append(
            {
                "resident_type": p.resident_type,
                "family_name": p.family_name,
                "given_name": p.given_name,
                "name_alphabet": p.name_alphabet,
                "name_kana": p.name_kana,
                "birth_date": p.birth_date,
                "sex": p.sex,
                "relationship": p.relationship,
                "honseki": p.honseki,
                "koseki_head": p.koseki_head,
                "juminhyo_code": p.juminhyo_code,
                "my_number": "",  # carried sealed (``_with_numbers``)
            }
            # the certificate each person is on, once the 転入 input carries it (the 転入通知
            # then names it, and J-LIS refuses a notice for a certificate it does not know)
            | ({"certificate_id": info.certificate_id} if carries_certificate else {})
        )
    kept = [
        row
        for row in out.get("persons") or []
        if isinstance(row, dict)
        and any(row.get(k) for k in ("family_name", "given_name", "name_alphabet"))
        and row.get("juminhyo_code") not in codes
    ]
    out["persons"] = rows + kept
    return out


def _carried_source(request: HttpRequest) -> dict[str, Any] | None:
    """The record of a CS fetch carried with the form (sealed: the clerk cannot forge it)."""
    token = str(request.POST.get(CS_SOURCE_FIELD) or "")
    if not token:
        return None
    try:
        source = sealing.unseal(token)
    except sealing.SealError:
        return None
    if not isinstance(source, dict):
        return None
    numbers = source.pop("numbers", None)
    return {
        "source": source,
        "sealed": token,
        "fetched": False,
        "numbers": numbers if isinstance(numbers, dict) else {},
    }


def _with_numbers(values: dict[str, Any], cs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values with the fetched 個人番号 put back into the person rows whose 住民票コード
    they belong to and whose 個人番号 the clerk left empty (what the clerk typed wins)."""
    numbers = (cs or {}).get("numbers") or {}
    rows = values.get("persons")
    if not numbers or not isinstance(rows, list):
        return values
    merged = []
    for row in rows:
        if isinstance(row, dict) and not row.get("my_number"):
            number = numbers.get(str(row.get("juminhyo_code") or ""))
            if number:
                row = row | {"my_number": number}
        merged.append(row)
    return values | {"persons": merged}


def _added_row(values: dict[str, Any], action: str) -> str:
    """The path of the row an ``add:`` created (the cursor goes there)."""
    verb, _, path = action.partition(":")
    if verb != "add":
        return ""
    rows = _dig(values, path.split("."))
    if isinstance(rows, list) and rows:
        return f"{path}.{len(rows) - 1}"
    if isinstance(rows, dict) and rows:
        return f"{path}.{len(rows) - 1}"
    return ""


def _check(
    request: HttpRequest, spec: ProcedureSpec, values: dict[str, Any], findings: Findings, key: str
) -> HttpResponse:
    """確認: validate the form, plan without saving, show the confirmation."""
    data, schema_findings = _validate(spec, _with_numbers(values, _carried_source(request)))
    reported = {f.field for f in findings}  # one error per field: the form's own first
    findings.extend(f for f in schema_findings if f.field not in reported)
    if findings.errors or data is None:
        return _render_form(request, spec, values, findings, key=key, cs=_carried_source(request))
    actor = web_actor(request)
    try:
        preview = services.preview(spec.submit, actor, data)
    except FindingsError as exc:
        return _render_form(
            request, spec, values, exc.findings, key=key, cs=_carried_source(request)
        )
    if preview.plan.findings.errors:
        return _render_form(
            request, spec, values, preview.plan.findings, key=key, cs=_carried_source(request)
        )
    return _render_confirm(
        request, spec, values, preview, key, acknowledged=(), cs=_carried_source(request)
    )


def _save(
    request: HttpRequest,
    spec: ProcedureSpec,
    values: dict[str, Any],
    key: str,
    acknowledged: list[str],
) -> HttpResponse:
    """仮登録: the draft, with the alerts the clerk acknowledged."""
    data, findings = _validate(spec, _with_numbers(values, _carried_source(request)))
    if findings.errors or data is None:
        return _render_form(request, spec, values, findings, key=key, cs=_carried_source(request))
    actor = web_actor(request)
    try:
        change = spec.submit(actor, data, acknowledged=acknowledged, idempotency_key=key)
    except FindingsError as exc:
        unacknowledged = [f for f in exc.findings if not f.is_error]
        if unacknowledged and not exc.findings.errors:
            preview = services.preview(spec.submit, actor, data)
            return _render_confirm(
                request,
                spec,
                values,
                preview,
                key,
                acknowledged=acknowledged,
                missing=unacknowledged,
                cs=_carried_source(request),
            )
        return _render_form(
            request, spec, values, exc.findings, key=key, cs=_carried_source(request)
        )
    source = _carried_source(request)
    via = "（住基ネットから取得した転出証明書情報による）" if source else ""
    messages.success(
        request, f"異動 {change.pk}（{spec.label}{via}）を仮登録しました。決裁を待っています。"
    )
    response = redirect(reverse("web:change", args=[change.pk]) + f"?saved={spec.name}")
    return response


def _validate(spec: ProcedureSpec, values: dict[str, Any]) -> tuple[Any, Findings]:
    try:
        return spec.input_model.model_validate(values), Findings()
    except ValidationError as exc:
        return None, pf.translate(exc)


def _edit_rows(values: dict[str, Any], action: str) -> dict[str, Any]:
    """Add a blank row to a list (``add:persons``) or remove one (``remove:persons.2``)."""
    verb, _, path = action.partition(":")
    parts = path.split(".")
    if verb == "remove" and len(parts) >= 2 and parts[-1].isdigit():
        target = _dig(values, parts[:-1])
        index = int(parts[-1])
        if isinstance(target, list) and 0 <= index < len(target):
            target.pop(index)
        elif isinstance(target, dict) and target:
            keys = list(target)
            if 0 <= index < len(keys):
                target.pop(keys[index])
    elif verb == "add":
        parent = _dig(values, parts[:-1]) if len(parts) > 1 else values
        if isinstance(parent, dict):
            current = parent.get(parts[-1])
            if isinstance(current, list):
                current.append(None)
            elif isinstance(current, dict):
                current[""] = ""
            else:
                parent[parts[-1]] = [None, None] if current is None else [current, None]
    return values


def _dig(values: Any, parts: list[str]) -> Any:
    node = values
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _prefill(request: HttpRequest, spec: ProcedureSpec) -> dict[str, Any] | None:
    """Values from the screen the clerk came from (a person or a household)."""
    atena_no = str(request.GET.get("atena_no") or "").strip()[:16]
    household_no = str(request.GET.get("household_no") or "").strip()[:16]
    if not atena_no and not household_no:
        return None
    fields = spec.input_model.model_fields
    values: dict[str, Any] = {}
    if atena_no:
        for name in ("atena_no",):
            if name in fields:
                values[name] = atena_no
        for name in ("persons", "atena_nos"):
            info = fields.get(name)
            if info is None:
                continue
            kind = pf.field_kind(info)
            if kind == "list":
                inner = pf.list_item_type(info)
                inner = inner if pf.is_model(inner) else None
                if inner is None:
                    values[name] = [atena_no]
                elif "atena_no" in inner.model_fields:
                    values[name] = [{"atena_no": atena_no}]
    if household_no:
        for name in ("household_no", "into_household_no"):
            if name in fields and name not in values:
                values[name] = household_no
                break
        for name in ("members",):  # a head change's relationships are re-derived
            if name in fields:
                values[name] = _household_rows(request, household_no)
                break
    return _with_defaults(spec, values)


def _household_rows(request: HttpRequest, household_no: str) -> list[dict[str, Any]]:
    try:
        view = reads.get_household(web_actor(request), household_no)
    except FindingsError:
        return []
    return [{"atena_no": m.atena_no, "relationship": m.relationship} for m in view.members]


def _with_defaults(spec: ProcedureSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Start from the model's defaults (a fresh form) and overlay the prefilled values."""
    base = _defaults(spec.input_model)
    for name in pf.TODAY_BY_DEFAULT & set(spec.input_model.model_fields):
        base[name] = timezone.localdate().isoformat()
    base.update(values)
    return base


def _defaults(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            continue
        default = info.get_default(call_default_factory=True)
        if default is not None and not isinstance(default, list | dict):
            out[name] = default
    return out


def _render_form(
    request: HttpRequest,
    spec: ProcedureSpec,
    values: Mapping[str, Any] | None,
    findings: Findings,
    *,
    key: str,
    fresh: bool = False,
    restored: bool = False,
    focus: str = "",
    cs: dict[str, Any] | None = None,
    status: int | None = None,
) -> HttpResponse:
    nodes = pf.build(spec.input_model, values)
    placed = place(findings, pf.field_paths(nodes))
    nodes = pf.build(spec.input_model, values, placed)
    focus_path = pf.first_input(nodes, focus) if focus else ""
    person = _person_header(request, values)
    if status is None:
        status = 200 if not findings.errors else 422
    return render(
        request,
        "web/procedures/form.html",
        {
            "nav": "procedures",
            "spec": spec,
            "nodes": nodes,
            "placed": placed,
            "key": key,
            "fresh": fresh,
            "restored": restored,
            "focus_path": focus_path,
            "person": person,
            "lock": services.active_lock(person.atena_no) if person is not None else None,
            "cs_fetch": spec.name in FETCH_PROCEDURES,
            "cs": cs or {},
        },
        status=status,
    )


def _target_atena(values: Mapping[str, Any] | None) -> str:
    """The person the form is about: its 宛名番号 field, or the first person listed."""
    values = values or {}
    if values.get("atena_no"):
        return str(values["atena_no"])
    for name in ("persons", "atena_nos", "members"):
        rows = values.get(name)
        if isinstance(rows, list) and rows:
            first = rows[0]
            if isinstance(first, Mapping):
                first = first.get("atena_no")
            if first:
                return str(first)
    return ""


def _person_header(request: HttpRequest, values: Mapping[str, Any] | None) -> Any:
    atena_no = _target_atena(values)
    if not atena_no:
        return None
    try:
        return reads.get_resident(web_actor(request), atena_no).record
    except FindingsError:
        return None


def _render_confirm(
    request: HttpRequest,
    spec: ProcedureSpec,
    values: Mapping[str, Any],
    preview: services.Preview,
    key: str,
    *,
    acknowledged: Any,
    missing: list[Finding] | None = None,
    cs: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        "web/procedures/confirm.html",
        {
            "nav": "procedures",
            "spec": spec,
            "plan": preview.plan,
            "persons": person_summaries(
                preview.plan.persons,
                preview.before,
                preview.plan.new_households or ["-"],
                hidden=reads.hidden_items(web_actor(request)),  # std 10.4 (j1390)
            ),
            "alerts": preview.plan.findings.alerts,
            "acknowledged": set(acknowledged),
            "missing": missing or [],
            "payload": sealing.seal(values),
            "key": key,
            "cs": cs or {},
        },
        status=200 if not missing else 422,
    )


@require_POST
@staff_view
def lock(request: HttpRequest, atena_no: str) -> HttpResponse:
    """編集開始 / 編集終了 (std 10.3): take or release the edit lock on a person."""
    actor = web_actor(request)
    target = reverse("web:person", args=[atena_no])
    if request.POST.get(ACTION_FIELD) == "release":
        services.release_lock(actor, atena_no)
        messages.success(request, f"宛名番号 {atena_no} の編集を終了しました。")
        return redirect(target)
    try:
        held = services.acquire_lock(actor, atena_no)
    except FindingsError as exc:
        for finding in exc.findings:
            messages.error(request, finding.message)
        return redirect(target)
    messages.success(
        request,
        f"宛名番号 {atena_no} の編集を開始しました"
        f"（{timezone.localtime(held.expires_at):%H:%M} まで他の職員は照会のみ）。",
    )
    return redirect(target)
