"""住民検索 and 照会: the clerk's search (std 2.1.1–2.1.3, j320–j340), person and household
screens with the change history (std 2.2.1, j350) and the character codes of a name
(std 2.2.3, j370).

Views call only :mod:`jumin.register.search`, :mod:`jumin.register.reads` and
:mod:`jumin.register.services`; those authorize and log every read (DESIGN invariant 5), so a
page shows exactly what was logged. The 個人番号 is shown only through
``reads.reveal_my_number`` (invariant 6), in the response to that POST and nowhere else; a
search by 個人番号 is a POST too, so the number never reaches an address bar, the browser
history or a server's access log, and it is never written back into a page.

A person whose 転出 takes effect later (転出予定者) is a resident until the planned day
(``jumin.register.status``): the reads and the search mark them with ``moving_out_on`` and
``moving_out_to``, which these screens show beside the person.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from jumin.accounts.permissions import Perm
from jumin.core.change_reasons import ChangeKind, ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, Findings, FindingsError, error
from jumin.core.wareki import parse_date
from jumin.register import reads, services
from jumin.register import search as register_search
from jumin.register.search import SearchCriteria, SearchRow
from jumin.register.status import MovingOut
from jumin.support import selectors as support_selectors
from jumin.web.common import PlacedFindings, place, staff_view, web_actor
from jumin.web.templatetags.jumin_format import birth_text, reason_text, wareki_plain

REMOVED = "removed"
FOREIGN = "foreign"
PAGE_SIZE = 100
HISTORY_SHOWN = 15

# --------------------------------------------------------------------------- the search form


@dataclass
class FormField:
    """One control of the search form, with what the clerk typed and its findings."""

    name: str
    label: str
    kind: str = "text"  # text | select | checkbox
    hint: str = ""
    options: Sequence[tuple[str, str]] = ()
    wide: bool = False
    inputmode: str = ""
    maxlength: int | None = None
    value: str = ""
    checked: bool = False
    autofocus: bool = False
    errors: list[Finding] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"f-{self.name}"


_KANA_MODES = [
    ("fuzzy", "あいまい（前方一致）"),
    ("exact", "完全一致"),
    ("prefix", "前方一致"),
    ("partial", "部分一致"),
]
_NAME_MODES = [("partial", "部分一致"), ("prefix", "前方一致"), ("exact", "完全一致")]
_STATUSES = [("all", "住民と除票"), ("resident", "住民のみ"), ("removed", "除票のみ")]
_SEXES = [("", "指定なし"), ("1", "男"), ("2", "女")]
_WARDS = [("", "全区"), *[(w, w) for w in register_search.WARDS]]
_REMOVAL_REASONS = [("", "指定なし")] + [
    (r.value, r.label) for r in ChangeReason if r.kind is ChangeKind.REMOVAL
]
EMPTY_FIELDS: list[tuple[str, str]] = [
    ("name", "氏名"),
    ("name_alphabet", "氏名（アルファベット）"),
    ("name_kana", "氏名の振り仮名"),
    ("former_family_name", "旧氏"),
    ("former_family_name_kana", "旧氏の振り仮名"),
    ("alias", "通称"),
    ("alias_kana", "通称の振り仮名"),
    ("katagaki", "方書"),
    ("juminhyo_code", "住民票コード"),
    ("my_number", "個人番号"),
    ("residence_card_no", "在留カード等の番号"),
]
_DATE_HINT = "和暦・西暦（例：S50.4.1、昭和50年4月1日、1975-04-01）"


def _maxlength(name: str) -> int | None:
    for meta in SearchCriteria.model_fields[name].metadata:
        value = getattr(meta, "max_length", None)
        if value is not None:
            return int(value)
    return None


# (name, label, kind, hint, options, extra) of the form, in screen order. The first group is
# always open; the others sit in "詳細な条件", opened when one of them holds a value.
_MAIN: list[dict[str, Any]] = [
    {
        "name": "name_kana",
        "label": "氏名の振り仮名",
        "hint": "ひらがな可。濁点・小さい字・長音・空白は区別しない",
    },
    {"name": "kana_mode", "label": "振り仮名の一致方法", "kind": "select", "options": _KANA_MODES},
    {"name": "name", "label": "氏名（漢字・アルファベット）", "hint": "異体字（辺・邊 等）も検索"},
    {"name": "name_mode", "label": "氏名の一致方法", "kind": "select", "options": _NAME_MODES},
    {
        "name": "birth_date",
        "label": "生年月日",
        "hint": "和暦・西暦。年だけ・年月だけも可（例：S50、1975年4月、R2.5.1）",
    },
    {"name": "sex", "label": "性別", "kind": "select", "options": _SEXES},
    {"name": "address", "label": "住所", "hint": "一部分でも可。過去の住所も検索"},
    {"name": "atena_no", "label": "宛名番号", "inputmode": "numeric"},
    {"name": "status", "label": "対象", "kind": "select", "options": _STATUSES},
    {"name": "ward", "label": "区", "kind": "select", "options": _WARDS},
]
_MORE: list[dict[str, Any]] = [
    {"name": "given_name_kana", "label": "名の振り仮名のみ", "hint": "名だけで検索"},
    {"name": "former_family_name", "label": "旧氏"},
    {"name": "former_family_name_kana", "label": "旧氏の振り仮名"},
    {"name": "alias", "label": "通称"},
    {"name": "alias_kana", "label": "通称の振り仮名"},
    {"name": "birth_from", "label": "生年月日（から）", "hint": _DATE_HINT},
    {"name": "birth_to", "label": "生年月日（まで）", "hint": _DATE_HINT},
    {"name": "relationship", "label": "続柄", "hint": "例：世帯主、妻、子"},
    {"name": "katagaki", "label": "方書", "hint": "一部分でも可"},
    {
        "name": "address_code",
        "label": "住所コード",
        "hint": "11桁まで、前方一致",
        "inputmode": "numeric",
    },
    {"name": "household_no", "label": "世帯番号", "inputmode": "numeric"},
    {"name": "juminhyo_code", "label": "住民票コード", "inputmode": "numeric"},
    {
        "name": "residence_card_no",
        "label": "在留カード等の番号",
        "hint": "在留カード・特別永住者証明書",
    },
    {
        "name": "removal_reason",
        "label": "消除事由",
        "kind": "select",
        "options": _REMOVAL_REASONS,
    },
    {
        "name": "include_history",
        "label": "氏名・住所は過去の履歴も検索する",
        "kind": "checkbox",
    },
]
_TEXT_NAMES = [d["name"] for d in [*_MAIN, *_MORE] if d.get("kind", "text") == "text"]
_SELECT_NAMES = [d["name"] for d in [*_MAIN, *_MORE] if d.get("kind") == "select"]
_LABELS: dict[str, str] = {d["name"]: d["label"] for d in [*_MAIN, *_MORE]} | {
    "my_number": "個人番号",
    "empty_fields": "未入力の項目",
    "limit": "表示件数",
    "offset": "表示開始位置",
}
# Findings on these are shown beside their control; the rest (limit, offset) at the top.
KNOWN_FIELDS = [name for name in _LABELS if name not in ("limit", "offset")]


# Criteria subject to std 10.4 (j1390), also offered as "empty" boxes.
_ITEM_CRITERIA = frozenset({"juminhyo_code", "residence_card_no"})


def _visible_specs(
    specs: list[dict[str, Any]], allowed: frozenset[str], scope: str
) -> list[dict[str, Any]]:
    """The form as this member of staff may use it: std 10.4 (j1390) items they may not see
    are no criteria (``register_search.allowed_criteria``); a ward-limited member of staff
    chooses only their ward (``ward_scope``)."""
    out = []
    for spec in specs:
        if spec["name"] in _ITEM_CRITERIA and spec["name"] not in allowed:
            continue
        if spec["name"] == "ward" and scope:
            spec = {**spec, "options": [(scope, scope)]}
        out.append(spec)
    return out


def _fields(
    specs: list[dict[str, Any]], values: dict[str, Any], placed: PlacedFindings
) -> list[FormField]:
    out = []
    for spec in specs:
        name = spec["name"]
        kind = spec.get("kind", "text")
        ff = FormField(
            name=name,
            label=spec["label"],
            kind=kind,
            hint=spec.get("hint", ""),
            options=spec.get("options", ()),
            inputmode=spec.get("inputmode", ""),
            maxlength=_maxlength(name) if kind == "text" else None,
            errors=placed.for_field(name),
        )
        if kind == "checkbox":
            ff.checked = bool(values.get(name))
        else:
            ff.value = str(values.get(name) or "")
        out.append(ff)
    return out


def _form_values(params: QueryDict, *, submitted: bool, default_ward: str | None) -> dict[str, Any]:
    """What the form holds: the typed text as typed (kept on errors), the modes, the boxes."""
    values: dict[str, Any] = {name: params.get(name, "") for name in _TEXT_NAMES}
    for name in _SELECT_NAMES:
        values[name] = params.get(name, "")
    values["kana_mode"] = values["kana_mode"] or "fuzzy"
    values["name_mode"] = values["name_mode"] or "partial"
    values["status"] = values["status"] or "all"
    # The checkbox follows a hidden "0": unticked sends "0", ticked "0" and "1" (the last
    # counts), and a URL without it (typed, or from the search history) means the default.
    sent = params.getlist("include_history")
    values["include_history"] = sent[-1] == "1" if sent else True
    if not submitted:
        values["ward"] = values["ward"] or (default_ward or "")
    values["empty_fields"] = [v for v in params.getlist("empty_fields") if v]
    values["offset"] = params.get("offset", "")
    return values


def _criteria_data(values: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _TEXT_NAMES + _SELECT_NAMES:
        value = values.get(name)
        if value not in (None, ""):
            data[name] = value
    data["include_history"] = bool(values.get("include_history"))
    if values.get("empty_fields"):
        data["empty_fields"] = values["empty_fields"]
    if values.get("offset"):
        data["offset"] = values["offset"]
    data["limit"] = PAGE_SIZE
    return data


def _validation_findings(exc: ValidationError) -> Findings:
    """pydantic's complaints about the criteria, in Japanese, each on its field."""
    findings = Findings()
    for item in exc.errors():
        loc = item.get("loc") or ()
        name = str(loc[0]) if loc else ""
        label = _LABELS.get(name, "検索条件")
        kind = item.get("type", "")
        ctx = item.get("ctx") or {}
        if kind == "string_too_long":
            message = f"{label}は{ctx.get('max_length')}文字以内で入力してください。"
            remedy = f"{label}を短くしてください。"
        elif kind in ("literal_error", "enum"):
            message = f"{label}の指定が正しくありません。"
            remedy = "一覧の中から選んでください。"
        elif kind.startswith("int") or kind.startswith("greater") or kind.startswith("less"):
            message = f"{label}の指定が正しくありません（0以上の数字）。"
            remedy = "検索をやり直してください。"
        elif kind == "too_long":
            message = f"{label}の指定が多すぎます。"
            remedy = "指定を減らしてください。"
        else:
            message = f"{label}の入力が正しくありません。"
            remedy = f"{label}を確認して入力し直してください。"
        findings.add(error(f"search.{kind or 'invalid'}", message, field=name, remedy=remedy))
    return findings


@dataclass(frozen=True)
class ResultRow:
    row: SearchRow
    status: str  # resident | removed | moving
    removed_on: dt.date | None
    moving_out_on: dt.date | None


def _result_rows(rows: Iterable[SearchRow]) -> list[ResultRow]:
    out = []
    for row in rows:
        moving = row.moving_out_on
        removed = row.status == REMOVED and moving is None
        out.append(
            ResultRow(
                row=row,
                status="moving" if moving else ("removed" if removed else "resident"),
                # the search rows carry no removal date yet; shown once they do
                removed_on=getattr(row, "removed_on", None),
                moving_out_on=moving,
            )
        )
    return out


@dataclass(frozen=True)
class PastSearch:
    url: str
    summary: str
    count: int
    searched_at: dt.datetime
    needs_my_number: bool


_HISTORY_VALUE_LABELS: dict[str, dict[str, str]] = {
    "kana_mode": dict(_KANA_MODES),
    "name_mode": dict(_NAME_MODES),
    "status": dict(_STATUSES),
    "sex": dict(_SEXES),
    "removal_reason": dict(_REMOVAL_REASONS),
}


def _past_searches(rows: Iterable[Any]) -> list[PastSearch]:
    """std 2.1.1 (j320): the clerk's own searches as links that run them again; a masked
    個人番号 (``***``) is not in the link — it must be typed again."""
    out: list[PastSearch] = []
    seen: set[str] = set()
    for row in rows:
        criteria = dict(row.criteria or {})
        key = repr(sorted(criteria.items()))
        if key in seen:  # the same search again: the newest is listed
            continue
        seen.add(key)
        masked = "my_number" in criteria
        criteria.pop("my_number", None)
        # a search that needs the number again only fills the form; the others run at once
        params: list[tuple[str, str]] = [] if masked else [("s", "1")]
        parts = []
        for key, value in criteria.items():
            if key in ("limit",):
                continue
            if isinstance(value, list):
                params += [(key, str(v)) for v in value]
                shown = "・".join(dict(EMPTY_FIELDS).get(str(v), str(v)) for v in value)
            elif isinstance(value, bool):
                params.append((key, "1" if value else "0"))
                shown = "含める" if value else "含めない"
            else:
                params.append((key, str(value)))
                shown = _HISTORY_VALUE_LABELS.get(key, {}).get(str(value), str(value))
            if key not in ("offset",):
                parts.append(f"{_LABELS.get(key, key)}：{shown}")
        if masked:
            parts.append("個人番号：***（再入力が必要）")
        out.append(
            PastSearch(
                url="?" + urlencode(params),
                summary="／".join(parts) or "（条件なし）",
                count=row.result_count,
                searched_at=row.searched_at,
                needs_my_number=masked,
            )
        )
    return out


def _page_url(params: QueryDict, offset: int) -> str:
    query = params.copy()
    query.setlist("offset", [str(offset)] if offset else [])
    query["s"] = "1"
    return "?" + query.urlencode()


@staff_view
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """住民検索 (std 2.1.3, j340). GET runs the form's search (``s=1``) so Back and the
    search history work; POST searches by 個人番号 only (kept out of URLs)."""
    actor = web_actor(request)
    by_number = request.method == "POST"
    params = request.GET
    submitted = by_number or params.get("s") == "1"
    values = _form_values(
        params,
        submitted=submitted,
        default_ward=None if submitted else register_search.default_ward(actor),
    )
    findings = Findings()
    result = None
    criteria = None
    data: dict[str, Any] = {}
    if by_number:
        data = {
            "my_number": request.POST.get("my_number", ""),
            "status": request.POST.get("number_status", "all") or "all",
            "limit": PAGE_SIZE,
        }
        values = _form_values(QueryDict(), submitted=False, default_ward=None)
        values["ward"] = ""
        values["number_status"] = data["status"]
    elif submitted:
        data = _criteria_data(values)
    if submitted:
        try:
            criteria = SearchCriteria.model_validate(data)
        except ValidationError as exc:
            findings = _validation_findings(exc)
        else:
            try:
                result = register_search.search_residents(actor, criteria)
            except FindingsError as exc:
                findings = exc.findings
    placed = place(findings, KNOWN_FIELDS)
    allowed = register_search.allowed_criteria(actor)
    scope = register_search.ward_scope(actor)
    main_fields = _fields(_visible_specs(_MAIN, allowed, scope), values, placed)
    more_fields = _fields(_visible_specs(_MORE, allowed, scope), values, placed)
    more_open = any(
        f.errors or f.value or (f.kind == "checkbox" and not f.checked) for f in more_fields
    )
    more_open = more_open or bool(values["empty_fields"]) or bool(placed.for_field("empty_fields"))
    rows = _result_rows(result.rows) if result is not None else []
    # Focus (jumin.js on a page load, htmx after a partial swap): the first field in error,
    # else the first result, else the first field.
    invalid = next((f for f in [*main_fields, *more_fields] if f.errors), None)
    if invalid is not None:
        invalid.autofocus = True
    elif not rows and not placed.for_field("my_number"):
        main_fields[0].autofocus = True
    offset = criteria.offset if criteria is not None else 0
    context: dict[str, Any] = {
        "nav": "search",
        "main_fields": main_fields,
        "more_fields": more_fields,
        "more_open": more_open,
        "empty_fields": [
            (value, label, value in values["empty_fields"])
            for value, label in EMPTY_FIELDS
            if value not in _ITEM_CRITERIA or value in allowed
        ],
        "empty_errors": placed.for_field("empty_fields"),
        "placed": placed,
        "submitted": submitted,
        "by_number": by_number,
        "number_errors": placed.for_field("my_number"),
        "number_status": values.get("number_status", "all"),
        "statuses": _STATUSES,
        "result": result,
        "rows": rows,
        "first_shown": offset + 1,
        "last_shown": offset + len(rows),
        "at_cap": result is not None and result.total >= register_search.COUNT_CAP,
        "prev_url": _page_url(params, max(0, offset - PAGE_SIZE))
        if (result is not None and not by_number and offset > 0)
        else "",
        "next_url": _page_url(params, offset + PAGE_SIZE)
        if (result is not None and not by_number and result.truncated)
        else "",
        "page_size": PAGE_SIZE,
        "past": _past_searches(register_search.search_history(actor, limit=HISTORY_SHOWN)),
    }
    response = render(request, "web/inquiry/search.html", context)
    if by_number:
        response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- a person


@dataclass(frozen=True)
class ItemChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryLine:
    row: Any  # ResidentHistory
    reason: str
    changes: list[ItemChange]
    shown: bool
    first: bool = False


# Items of a snapshot that are not record items, or not compared item by item.
_NOT_ITEMS = frozenset(
    {
        "id",
        "history_no",
        "updated_at",
        "change",
        "change_reason",
        "occurred_on",
        "history_notified_on",
        "processed_at",
        "operator",
        "reviewer",
        "terminal",
        "birth_date_text",
        "kana_key",
        "kana_exact",
        "given_kana_key",
        "name_key",
        "former_kana_key",
        "alias_kana_key",
    }
)


def _items(record: Any) -> list[Any]:
    """The record items of a snapshot (model fields, in the model's order)."""
    return [f for f in type(record)._meta.concrete_fields if f.name not in _NOT_ITEMS]


def _shown_value(record: Any, item: Any) -> str:
    """An item as a clerk reads it in the change list; the 個人番号 never (only whether)."""
    name = item.name
    if name == "my_number":
        return "記載あり" if record.my_number_id is not None else "記載なし"
    if name == "birth_date":
        return birth_text(record)
    value = getattr(record, item.attname)
    if name == "postal_code" and value and len(value) == 7:
        return f"〒{value[:3]}-{value[3:]}"
    if name in ("removal_reason",):
        return reason_text(value)
    if item.choices and value:
        return str(dict(item.choices).get(value, value))
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.date):
        return wareki_plain(value)
    if isinstance(value, dict):
        return "、".join(f"{k}：{v}" for k, v in value.items())
    return "" if value is None else str(value)


def _diff(
    before: Any, after: Any, hidden: frozenset[str] = frozenset()
) -> tuple[list[ItemChange], set[str]]:
    """What changed from ``before`` to ``after``; ``hidden`` items (std 10.4) are left out —
    not even "changed" is said of them."""
    changes: list[ItemChange] = []
    names: set[str] = set()
    for item in _items(after):
        if item.name in hidden:
            continue
        if getattr(before, item.attname) == getattr(after, item.attname) and (
            item.name != "birth_date" or before.birth_date_text == after.birth_date_text
        ):
            continue
        names.add(item.name)
        changes.append(
            ItemChange(
                label=str(item.verbose_name),
                before=_shown_value(before, item) or "（なし）",
                after=_shown_value(after, item) or "（なし）",
            )
        )
    return changes, names


def _history_lines(
    rows: list[Any], shown_no: int, hidden: frozenset[str] = frozenset()
) -> tuple[list[HistoryLine], set[str]]:
    """Each history row with what changed against the row before it; and the items the
    displayed row changed (highlighted in the record)."""
    lines: list[HistoryLine] = []
    changed_now: set[str] = set()
    previous = None
    for row in rows:
        changes: list[ItemChange] = []
        names: set[str] = set()
        if previous is not None:
            changes, names = _diff(previous, row, hidden)
        if row.history_no == shown_no:
            changed_now = names
        lines.append(
            HistoryLine(
                row=row,
                reason=reason_text(row.change_reason),
                changes=changes,
                shown=row.history_no == shown_no,
                first=previous is None,
            )
        )
        previous = row
    return lines, changed_now


def _chars(text: str) -> list[tuple[str, str, str]]:
    """std 2.2.3 (j370): each character of a name with its code point and Unicode name."""
    out = []
    for ch in text:
        if ch.isspace():
            continue
        out.append((ch, f"U+{ord(ch):04X}", unicodedata.name(ch, "")))
    return out


def _parse_as_of(text: str, label: str) -> tuple[dt.date | None, list[Finding]]:
    if not text:
        return None, []
    try:
        return parse_date(text), []
    except CoreError as exc:
        return None, [
            error(
                exc.code,
                exc.message.replace("年月日", label, 1),
                field="as_of",
                remedy=f"{label}を「R7.4.1」「令和7年4月1日」「2025-04-01」などの形式で"
                "入力してください。空欄なら現在の記載を表示します。",
            )
        ]


def _unknown(request: HttpRequest, findings: Findings, title: str) -> HttpResponse:
    return render(
        request,
        "web/inquiry/unknown.html",
        {"nav": "search", "findings": list(findings), "title": title},
        status=404,
    )


def _support_refusal(request: HttpRequest, findings: Findings) -> HttpResponse | None:
    """支援措置 (std 3.4): the gate's refusal as its own page (403), not as "no record"."""
    if not any(f.code == "support.protected" for f in findings):
        return None
    return render(
        request,
        "web/inquiry/unknown.html",
        {
            "nav": "search",
            "findings": list(findings),
            "title": "支援措置の対象者のため表示できません",
        },
        status=403,
    )


def _person_page(
    request: HttpRequest,
    atena_no: str,
    *,
    as_of_text: str = "",
    reveal_findings: Findings | None = None,
    reason: str = "",
    revealed: str = "",
) -> HttpResponse:
    actor = web_actor(request)
    as_of, as_of_errors = _parse_as_of(as_of_text, "基準日")
    try:
        view = reads.get_resident(actor, atena_no, as_of=as_of)
    except FindingsError as exc:
        if (refused := _support_refusal(request, exc.findings)) is not None:
            return refused
        dated = [f for f in exc.findings if f.field == "as_of"]
        if not dated:
            return _unknown(request, exc.findings, "住民記録がありません")
        as_of_errors += dated
        as_of = None
        try:
            view = reads.get_resident(actor, atena_no)
        except FindingsError as again:  # pragma: no cover - known a moment ago
            return _unknown(request, again.findings, "住民記録がありません")
    history = reads.get_history(actor, atena_no)
    record = view.record
    lines, changed = _history_lines(history, view.history_no, view.hidden)
    placed = place(reveal_findings or [], ["reason"])
    reason_errors = placed.for_field("reason")
    keep_reason = not any(f.code == "my_number.reason_contains_number" for f in reason_errors)
    shown_line = next((line for line in lines if line.shown), None)
    context = {
        "nav": "search",
        "view": view,
        "r": record,
        "atena_no": atena_no,
        "foreign": record.resident_type == FOREIGN,
        "removed": view.is_removed,
        "moving_out_on": view.moving_out_on,
        "moving_out_to": view.moving_out_to,
        "as_of": as_of,
        "as_of_text": as_of_text,
        "as_of_errors": as_of_errors,
        "history": list(reversed(lines)),
        "history_count": len(lines),
        "shown_line": shown_line,
        "changed": changed,
        "hidden": view.hidden,
        "lock": services.active_lock(atena_no),
        "can_reveal": actor.can(Perm.MY_NUMBER_READ),
        "reason": reason if keep_reason else "",
        "reason_errors": reason_errors,
        "reveal_general": placed.general,
        "revealed": _group_digits(revealed),
        "name_chars": _chars(record.name),
        "kana_chars": _chars(record.name_kana),
        "removal_label": reason_text(record.removal_reason),
        "support": support_selectors.banner(atena_no) if view.support_protected else None,
    }
    response = render(request, "web/inquiry/person.html", context)
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


def _group_digits(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4)) if number else ""


@staff_view
@require_GET
def person(request: HttpRequest, atena_no: str) -> HttpResponse:
    """個人照会: the record now or ``?as_of=`` a day (和暦 or 西暦), and its history."""
    return _person_page(request, atena_no, as_of_text=request.GET.get("as_of", "").strip())


@staff_view
@never_cache
@require_POST
def reveal_my_number(request: HttpRequest, atena_no: str) -> HttpResponse:
    """個人番号の表示 (invariant 6): with a reason, to staff with the permission; shown in
    this response only (never cached), the access logged by the read."""
    actor = web_actor(request)
    reason = request.POST.get("reason", "")
    try:
        number = reads.reveal_my_number(actor, atena_no, reason=reason)
    except FindingsError as exc:
        if any(f.code == "resident.unknown" for f in exc.findings):
            return _unknown(request, exc.findings, "住民記録がありません")
        return _person_page(request, atena_no, reveal_findings=exc.findings, reason=reason)
    return _person_page(request, atena_no, revealed=number)


# --------------------------------------------------------------------------- a household


@dataclass(frozen=True)
class MemberLine:
    record: Any  # Resident or ResidentHistory
    moving_out: MovingOut | None
    support_protected: bool = False  # 支援措置対象 (shown to staff allowed to see them)


@staff_view
@require_GET
def household(request: HttpRequest, household_no: str) -> HttpResponse:
    """世帯照会: the members in the order of std 5.2 (j1010), head first; removed members
    (除票) listed apart; ``?as_of=`` a day shows the household as it was."""
    actor = web_actor(request)
    as_of_text = request.GET.get("as_of", "").strip()
    as_of, as_of_errors = _parse_as_of(as_of_text, "基準日")
    try:
        view = reads.get_household(actor, household_no, as_of=as_of, include_removed=True)
    except FindingsError as exc:
        if (refused := _support_refusal(request, exc.findings)) is not None:
            return refused
        if as_of is None:
            return _unknown(request, exc.findings, "世帯がありません")
        as_of_errors += [
            error(f.code, f.message, field="as_of", remedy="基準日を確認してください。")
            for f in exc.findings
        ]
        as_of = None
        try:
            view = reads.get_household(actor, household_no, include_removed=True)
        except FindingsError as again:
            refused = _support_refusal(request, again.findings)
            return refused or _unknown(request, again.findings, "世帯がありません")
    members: list[MemberLine] = []
    removed: list[MemberLine] = []
    for record in view.members:
        marker = view.moving_out.get(record.atena_no)
        line = MemberLine(
            record=record,
            moving_out=marker,
            support_protected=record.atena_no in view.support_protected,
        )
        (removed if record.atena_no in view.removed else members).append(line)
    head = view.head
    first = members[0].record if members else (removed[0].record if removed else None)
    context = {
        "nav": "search",
        "view": view,
        "household_no": household_no,
        "members": members,
        "removed_members": removed,
        "head": head,
        "first": first,
        "as_of": as_of,
        "as_of_text": as_of_text,
        "as_of_errors": as_of_errors,
    }
    return render(request, "web/inquiry/household.html", context)
