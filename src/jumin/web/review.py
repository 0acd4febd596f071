"""Review screens: the list of drafts, bulk commit, a change's detail (before/after) with
commit, reject and withdraw — std 4.0.8 (j530) 審査・決裁; and what the home page shows of
the caller's own changes and the review queue.

Every write is a call to ``jumin.register.services`` (the same functions the API calls);
refusals (``FindingsError``) are shown on the page they came from, never as a traceback.
Reads that show persons are written to the operation log with the same function names the
API uses (``仮登録一覧の照会``, ``異動の照会``).

The read helpers in the "reads" section below mirror ``jumin.register.api.drafts`` and
``change_detail``, whose logic lives inline in the API module; they belong in
``jumin.register.reads`` so that both callers share one function.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import Finding, FindingsError, error
from jumin.core.wareki import format_wareki, format_western
from jumin.outbox import selectors as outbox_selectors
from jumin.register import reads, reviews, selectors, services
from jumin.register.procedures import registry
from jumin.register.records import SNAPSHOT_FIELDS, blank_snapshot, to_json
from jumin.web.common import place, staff_view, web_actor
from jumin.web.record_display import summarise

# --- labels ----------------------------------------------------------------------------------

DRAFT, COMMITTED, REJECTED, WITHDRAWN = "draft", "committed", "rejected", "withdrawn"
Change = Any  # jumin.register.models.Change: screens import no models (import contract)

# The model's labels are the glossary's (仮登録 / 本登録 / 差戻し / 取下げ); the screens add the
# words a reviewer uses (決裁待ち, 決裁済, 却下). 取下げ stays distinct from 異動の取消し (std 4.6).
STATUS_TEXT: dict[str, str] = {
    DRAFT: "仮登録（決裁待ち）",
    COMMITTED: "本登録（決裁済）",
    REJECTED: "差戻し（却下）",
    WITHDRAWN: "取下げ",
}
STATUS_BADGE: dict[str, str] = {
    DRAFT: "draft",
    COMMITTED: "",
    REJECTED: "lock",
    WITHDRAWN: "removed",
}
MESSAGE_TOPICS = {
    "identity_info": "本人確認情報の通知（都道府県サーバ）",
    "move_in_notice": "転入通知（転出元市区町村）",
    "move_out_info": "転出証明書情報",
    "juminhyo_code_notice": "住民票コードの通知",
    "immigration_notice": "出入国在留管理庁への通知",
}
MESSAGE_STATUS = {"pending": "送信待ち", "delivered": "送信済み", "failed": "送信失敗"}
DESTINATIONS = {"cs": "住基ネット（CS）"}

DRAFTS_FUNCTION = reviews.DRAFTS_FUNCTION
CHANGE_FUNCTION = reviews.CHANGE_FUNCTION
HOME_FUNCTION = "ホーム（異動の一覧）"
BULK_FUNCTION = "異動の一括本登録"
DRAFT_READERS = reviews.DRAFT_READERS
LIST_LIMIT = 1000
HOME_LIMIT = 10
HOME_QUEUE_PREVIEW = 5
REJECTED_ALERT_DAYS = 30
BULK_RESULT_KEY = "jumin_review_bulk_result"


def bulk_cap() -> int:
    """The most drafts one bulk commit may take (std 4.0.8: 全部本登録には件数に上限) —
    the service's cap, read at call time."""
    return services.DEFAULT_BULK_CAP


def status_text(status: str) -> str:
    return STATUS_TEXT.get(status, status)


def procedure_label(name: str) -> str:
    spec = registry.get(name)
    return spec.label if spec is not None else name


def reason_label(value: str) -> str:
    try:
        return ChangeReason(value).label
    except ValueError:
        return value


def date_text(day: dt.date | None, *, western: bool = False) -> str:
    """A date as screens print it: 和暦 (std 1.1.9, j90), or the Western calendar for a
    foreign resident's birth date and expiry of stay."""
    if day is None:
        return ""
    if western:
        return format_western(day)
    try:
        return format_wareki(day)
    except ValueError:  # before the Meiji era
        return format_western(day)


def _name(record: dict[str, Any]) -> str:
    family, given = record.get("family_name") or "", record.get("given_name") or ""
    if family or given:
        return "　".join(p for p in (family, given) if p)
    return str(record.get("name_alphabet") or "")


# --- reads (logged; see the module docstring) ------------------------------------------------


def _authorize_drafts(actor: Actor, function: str) -> None:
    reviews.authorize_drafts(actor, function)


def _change_targets(change: Change) -> list[str]:
    return [p["atena_no"] for p in change.payload.get("persons", [])]


def _unit_of(change: Change) -> tuple[str, str]:
    """Where the draft was entered (入力支所): the terminal's org unit, else the author's."""
    unit = change.terminal.org_unit if change.terminal is not None else change.created_by.org_unit
    return unit.code, unit.name


def list_drafts(actor: Actor) -> list[Change]:
    """仮登録一覧 (std 4.0.8, j530), oldest first; the read is logged."""
    return reviews.list_drafts(actor, limit=LIST_LIMIT)


@dataclass
class ItemRow:
    label: str
    before: str
    after: str
    changed: bool


@dataclass
class PersonDiff:
    atena_no: str
    name: str
    is_new: bool
    base_history_no: int | None
    reason: str  # this person's own 異動事由 when it differs from the change's
    rows: list[ItemRow]
    lock: Any = None  # the EditLock held on the person, if any


@dataclass
class MessageKind:
    topic: str
    destination: str
    status: str
    count: int


@dataclass
class ChangeView:
    change: Change
    status_text: str
    badge: str
    procedure_label: str
    reason_label: str
    occurred_on: str
    notified_on: str
    persons: list[PersonDiff]
    acknowledged: list[dict[str, Any]]
    messages: list[MessageKind]
    unit_name: str


def _rows(
    before: dict[str, Any] | None,
    after: dict[str, Any],
    atena_no: str,
    hidden: frozenset[str] = frozenset(),
) -> list[ItemRow]:
    """Every item the change sets or alters, as the confirmation screen shows them
    (``jumin.web.record_display``); the 個人番号 only as 変更あり / 記録あり, never its value;
    the items of std 10.4 the reader may not see (``hidden``) not at all."""
    summary = summarise(atena_no, after, before, hidden=hidden)
    rows = []
    for item in summary.items:
        if item.name == "atena_no":
            continue  # the key itself, shown in the heading
        # a new person's items are all new: nothing to highlight against
        rows.append(ItemRow(item.label, item.before, item.after, changed=before is not None))
    return rows


def _person_diff(person: reviews.PersonChange, hidden: frozenset[str] = frozenset()) -> PersonDiff:
    atena = person.atena_no
    base = person.base_history_no
    after = blank_snapshot() | person.after
    before: dict[str, Any] | None = None
    if person.before is not None:
        row = person.before
        before = to_json({name: getattr(row, name) for name in SNAPSHOT_FIELDS})
    own_reason = person.reason
    return PersonDiff(
        atena_no=atena,
        name=_name(after) or (_name(before) if before else ""),
        is_new=base is None,
        base_history_no=base,
        reason=reason_label(own_reason) if own_reason else "",
        rows=_rows(before, after, atena, hidden),
        lock=services.active_lock(atena),
    )


def _destination(code: str) -> str:
    if code in DESTINATIONS:
        return DESTINATIONS[code]
    if len(code) == 6 and code.isdigit():
        return f"市区町村（団体コード {code}）"
    return code


def _message_kinds(change_id: int) -> list[MessageKind]:
    counts = Counter(
        (m.topic, m.destination, m.status)
        for m in outbox_selectors.messages_for_change(change_id).only(
            "topic", "destination", "status"
        )
    )
    return [
        MessageKind(
            MESSAGE_TOPICS.get(topic, topic),
            _destination(destination),
            MESSAGE_STATUS.get(status, status),
            count,
        )
        for (topic, destination, status), count in counts.items()
    ]


def change_detail(actor: Actor, change_id: int) -> ChangeView:
    """One change with, per person, the record at ``base_history_no`` and after; logged."""
    read = reviews.get_change(actor, change_id)
    if read is None:
        raise Http404(f"異動 {change_id} はありません。")
    change = read.change
    hidden = reads.hidden_items(actor)  # std 10.4 (j1390)
    persons = [_person_diff(p, hidden) for p in read.persons]
    acknowledged = read.acknowledged_findings
    return ChangeView(
        change=change,
        status_text=status_text(change.status),
        badge=STATUS_BADGE.get(change.status, ""),
        procedure_label=procedure_label(change.procedure),
        reason_label=reason_label(change.change_reason),
        occurred_on=date_text(change.occurred_on),
        notified_on=date_text(change.notified_on),
        persons=persons,
        acknowledged=acknowledged,
        messages=(_message_kinds(change.pk) if change.status == COMMITTED else []),
        unit_name=_unit_of(change)[1] if change.created_by_id else "",
    )


# --- the list of drafts ----------------------------------------------------------------------


@dataclass
class DraftRow:
    change: Change
    procedure_label: str
    reason_label: str
    names: list[str]
    occurred_on: str
    unit_code: str
    unit_name: str
    acknowledged: list[str]
    own: bool


def _draft_row(change: Change, actor: Actor) -> DraftRow:
    code, name = _unit_of(change)
    acknowledged = set(change.acknowledged or ())
    return DraftRow(
        change=change,
        procedure_label=procedure_label(change.procedure),
        reason_label=reason_label(change.change_reason),
        names=[_name(p.get("after") or {}) for p in change.payload.get("persons", [])],
        occurred_on=date_text(change.occurred_on),
        unit_code=code,
        unit_name=name,
        acknowledged=[f["message"] for f in change.findings if f.get("code") in acknowledged],
        own=actor.staff is not None and change.created_by_id == actor.staff.pk,
    )


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _queue_response(
    request: HttpRequest,
    *,
    unit: str = "",
    procedure: str = "",
    selected: set[int] | None = None,
    select_all: bool = False,
    errors: list[Finding] | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = web_actor(request)
    rows = [_draft_row(c, actor) for c in list_drafts(actor)]
    units = sorted({(r.unit_code, r.unit_name) for r in rows}, key=lambda u: u[1])
    procedures = sorted({(r.change.procedure, r.procedure_label) for r in rows})
    shown = [
        r
        for r in rows
        if (not unit or r.unit_code == unit) and (not procedure or r.change.procedure == procedure)
    ]
    can_bulk = actor.can(Perm.CHANGE_BULK_COMMIT)
    cap = bulk_cap()
    selectable = [r.change.pk for r in shown if not r.own]
    if select_all:
        selected = set(selectable[:cap])
    result = request.session.pop(BULK_RESULT_KEY, None) if request.method == "GET" else None
    return render(
        request,
        "web/review/queue.html",
        {
            "nav": "review",
            "rows": shown,
            "total": len(rows),
            "units": units,
            "procedures": procedures,
            "unit": unit,
            "procedure": procedure,
            "can_bulk": can_bulk,
            "can_review": actor.can(Perm.CHANGE_REVIEW),
            "cap": cap,
            "selected": selected or set(),
            "selectable_count": len(selectable),
            "select_all_capped": select_all and len(selectable) > cap,
            "errors": errors or [],
            "result": result,
            "truncated": len(rows) >= LIST_LIMIT,
        },
        status=status,
    )


@require_GET
@staff_view
def queue(request: HttpRequest) -> HttpResponse:
    """決裁: the drafts waiting for review, filtered by where they were entered (入力支所) or
    by procedure, with checkboxes for a bulk commit (std 4.0.8, j530)."""
    return _queue_response(
        request,
        unit=request.GET.get("unit", ""),
        procedure=request.GET.get("procedure", ""),
        select_all=request.GET.get("select") == "all",
    )


def _queue_url(unit: str, procedure: str) -> str:
    url = reverse("web:review")
    query = urlencode([(k, v) for k, v in (("unit", unit), ("procedure", procedure)) if v])
    return f"{url}?{query}" if query else url


@require_POST
@staff_view
def bulk_commit(request: HttpRequest) -> HttpResponse:
    """一括決裁 of the selected drafts within the cap; each commits or is refused on its own.
    The result is shown on the list after a redirect (POST/redirect/GET)."""
    actor = web_actor(request)
    authorize(actor, Perm.CHANGE_BULK_COMMIT, BULK_FUNCTION)
    unit = request.POST.get("unit", "")
    procedure = request.POST.get("procedure", "")
    ids: list[int] = []
    for raw in request.POST.getlist("change_ids"):
        value = _int(raw)
        if value is not None and value not in ids:
            ids.append(value)
    if not ids:
        return _queue_response(
            request,
            unit=unit,
            procedure=procedure,
            errors=[
                error(
                    "review.bulk_empty",
                    "決裁する異動が選択されていません。",
                    field="change_ids",
                    remedy="一覧の「選択」欄で決裁する異動にチェックを入れてください。",
                )
            ],
            status=422,
        )
    try:
        result = services.bulk_commit(actor, ids, cap=bulk_cap())
    except FindingsError as exc:
        return _queue_response(
            request,
            unit=unit,
            procedure=procedure,
            selected=set(ids),
            errors=list(exc.findings),
            status=422,
        )
    request.session[BULK_RESULT_KEY] = {
        "committed": result.committed,
        "failed": [
            {
                "id": change_id,
                "messages": [f.message for f in findings],
                "remedies": [f.remedy for f in findings if f.remedy],
            }
            for change_id, findings in result.failed.items()
        ],
    }
    if result.committed:
        messages.success(request, f"{len(result.committed)}件の異動を本登録（決裁）しました。")
    if result.failed:
        messages.warning(request, f"{len(result.failed)}件は決裁できませんでした（理由は下記）。")
    return redirect(_queue_url(unit, procedure))


# --- one change ------------------------------------------------------------------------------


def _detail_response(
    request: HttpRequest,
    change_id: int,
    *,
    refusal: list[Finding] | None = None,
    reject_reason: str = "",
    status: int = 200,
) -> HttpResponse:
    actor = web_actor(request)
    view = change_detail(actor, change_id)
    change = view.change
    is_draft = change.status == DRAFT
    is_author = actor.staff is not None and change.created_by_id == actor.staff.pk
    can_review = actor.can(Perm.CHANGE_REVIEW)
    placed = place(refusal or [], ["reason"])
    return render(
        request,
        "web/review/detail.html",
        {
            "nav": "review",
            "view": view,
            "change": change,
            "is_draft": is_draft,
            "is_author": is_author,
            "can_review": can_review,
            "can_decide": is_draft and can_review and not is_author,
            "can_withdraw": is_draft and is_author and actor.can(Perm.CHANGE_DRAFT),
            "refusal": placed.general,
            "reason_errors": placed.for_field("reason"),
            "reject_reason": reject_reason,
        },
        status=status,
    )


@require_GET
@staff_view
def detail(request: HttpRequest, change_id: int) -> HttpResponse:
    """異動詳細: who entered it, what it changes per person, the alerts acknowledged, and the
    reviewer's actions."""
    return _detail_response(request, change_id)


def _refused(request: HttpRequest, change_id: int, exc: FindingsError, **kw: Any) -> HttpResponse:
    return _detail_response(request, change_id, refusal=list(exc.findings), status=409, **kw)


@require_POST
@staff_view
def commit(request: HttpRequest, change_id: int) -> HttpResponse:
    """決裁（本登録）with the version shown: a second post, or a draft changed since it was
    shown, is refused by the service and the reason shown on the detail page."""
    actor = web_actor(request)
    version = _int(request.POST.get("version"))
    try:
        services.commit_change(actor, change_id, version=version)
    except FindingsError as exc:
        return _refused(request, change_id, exc)
    messages.success(request, f"異動 {change_id} を本登録（決裁）しました。")
    return redirect("web:change", change_id=change_id)


@require_POST
@staff_view
def reject(request: HttpRequest, change_id: int) -> HttpResponse:
    """却下（差戻し）with a reason; without one the form comes back with the error beside it."""
    actor = web_actor(request)
    reason = request.POST.get("reason", "")
    try:
        services.reject_change(actor, change_id, reason=reason)
    except FindingsError as exc:
        field_error = any(f.field == "reason" for f in exc.findings)
        return _detail_response(
            request,
            change_id,
            refusal=list(exc.findings),
            reject_reason=reason,
            status=422 if field_error else 409,
        )
    messages.success(
        request, f"異動 {change_id} を却下（差戻し）しました。入力者のホームに理由が表示されます。"
    )
    return redirect("web:change", change_id=change_id)


@require_POST
@staff_view
def withdraw(request: HttpRequest, change_id: int) -> HttpResponse:
    """取下げ by the author of the draft."""
    actor = web_actor(request)
    try:
        services.withdraw_change(actor, change_id)
    except FindingsError as exc:
        return _refused(request, change_id, exc)
    messages.success(request, f"異動 {change_id} を取り下げました。")
    return redirect("web:change", change_id=change_id)


# --- the home page ---------------------------------------------------------------------------


@dataclass
class HomeRow:
    change: Change
    procedure_label: str
    names: list[str]
    status_text: str
    badge: str


@dataclass
class HomeData:
    roles: list[str]
    my_drafts: list[HomeRow] = field(default_factory=list)
    my_drafts_count: int = 0
    rejected: list[HomeRow] = field(default_factory=list)
    queue: list[HomeRow] = field(default_factory=list)
    queue_count: int = 0
    queue_own_count: int = 0
    queue_preview: int = HOME_QUEUE_PREVIEW
    show_drafts: bool = False
    show_queue: bool = False
    can_search: bool = False
    can_enter: bool = False


def _rejected_since(staff: Any, since: dt.datetime) -> Any:
    """The staff member's drafts rejected since ``since``, newest first."""
    return reviews.changes_entered_by(staff, [REJECTED], reviewed_since=since)


def _home_row(change: Change) -> HomeRow:
    return HomeRow(
        change=change,
        procedure_label=procedure_label(change.procedure),
        names=[_name(p.get("after") or {}) for p in change.payload.get("persons", [])],
        status_text=status_text(change.status),
        badge=STATUS_BADGE.get(change.status, ""),
    )


def home_data(actor: Actor) -> HomeData:
    """What the home page shows: the caller's drafts, their drafts rejected lately (with the
    reason), and — for a reviewer — the review queue. Logged when persons are shown."""
    staff = actor.staff
    data = HomeData(roles=[r.name for r in staff.roles.all()] if staff is not None else [])
    if staff is None:
        return data
    data.can_search = actor.can(Perm.RESIDENT_SEARCH)
    data.can_enter = actor.can(Perm.CHANGE_DRAFT)
    reads_drafts = actor.can(Perm.RESIDENT_READ)
    shown: list[Change] = []
    if reads_drafts and data.can_enter:
        data.show_drafts = True
        mine = selectors.drafts().filter(created_by=staff)
        data.my_drafts_count = mine.count()
        drafts = list(mine.order_by("-created_at", "-id")[:HOME_LIMIT])
        since = timezone.now() - dt.timedelta(days=REJECTED_ALERT_DAYS)
        rejected = list(_rejected_since(staff, since)[:HOME_LIMIT])
        data.my_drafts = [_home_row(c) for c in drafts]
        data.rejected = [_home_row(c) for c in rejected]
        shown += drafts + rejected
    if reads_drafts and actor.can(Perm.CHANGE_REVIEW):
        data.show_queue = True
        others = selectors.drafts().exclude(created_by=staff)
        data.queue_count = others.count()
        data.queue_own_count = selectors.drafts().filter(created_by=staff).count()
        first = list(others.select_related("created_by")[:HOME_QUEUE_PREVIEW])
        data.queue = [_home_row(c) for c in first]
        shown += first
    targets = [a for c in shown for a in _change_targets(c)]
    if targets:
        audit.record(
            actor,
            category="inquiry",
            function=HOME_FUNCTION,
            targets=targets,
            detail={"change_ids": sorted({c.pk for c in shown})},
        )
    return data
