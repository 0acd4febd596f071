"""The register's HTTP API: procedures (drafts), review, reads, search, edit locks.

Mounted at ``/api/register/`` by ``jumin.config.api``. Every route declares its permission
(``@requires``) and calls a service, a read function or the search — never a model. Errors are
problem documents (``application/problem+json``) with a stable ``code``:

- ``validation_failed`` (422): the service refused; ``findings`` lists the errors and the alerts
  still to acknowledge, each with ``code``, ``severity``, ``field``, ``message``, ``remedy``;
- ``schema_invalid`` (422): the request does not match the schema (``errors`` per field);
- ``unauthenticated`` (401), ``csrf_failed`` / ``permission_denied`` (403), ``not_found`` (404).

A draft is entered with ``POST /procedures/{name}/drafts`` and a body
``{"data": <the procedure's input>, "acknowledged": ["<alert code>", ...]}``: the first call
without acknowledgements answers 422 listing the alerts; the clerk confirms them and sends the
same body with their codes in ``acknowledged`` (std 11.1, j1440). An optional
``Idempotency-Key`` header makes a resubmission return the same draft instead of a second one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.params import functions as param
from pydantic import Field, create_model

from jumin.accounts.permissions import Perm
from jumin.config.api import actor_from_request, requires
from jumin.register import reads, reviews, search, selectors, services
from jumin.register.procedures import registry
from jumin.register.procedures.registry import ProcedureSpec
from jumin.register.schemas import (
    BulkCommitIn,
    BulkCommitOut,
    ChangeDetailOut,
    ChangeOut,
    CommitIn,
    DraftEnvelope,
    HistoryOut,
    HouseholdOut,
    LockOut,
    MarkedRecord,
    MyNumberOut,
    ProcedureOut,
    RejectIn,
    ResidentOut,
    RevealIn,
    change_out,
    redact,
    snapshot_out,
    staff_ref,
)

router = Router(tags=["住民記録 (register)"])

PREFIX = "/api/register"


# --- procedures and drafts (std 4.0.8 j530, 11.1 j1440) ----------------------------------


@router.get(
    "/procedures",
    response=list[ProcedureOut],
    summary="手続の一覧",
    operation_id="register_procedures",
)
@requires(Perm.CHANGE_DRAFT)
def procedures(request: HttpRequest) -> list[dict[str, Any]]:
    """Every procedure the register offers, with the JSON Schema of its input (``data``)."""
    return [
        {
            "name": spec.name,
            "label": spec.label,
            "group": spec.group,
            "input_schema": spec.input_model.model_json_schema(),
            "draft_url": f"{PREFIX}/procedures/{spec.name}/drafts",
        }
        for spec in registry.all_specs().values()
    ]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _idempotency_key() -> Any:
    return param.Header(
        alias="Idempotency-Key",
        max_length=64,
        description="再送しても二重に登録しないためのキー（同じキーなら同じ異動を返します）",
    )


def _add_draft_route(spec: ProcedureSpec) -> None:
    """One typed operation per procedure: ``POST /procedures/<name>/drafts``."""
    body = create_model(
        f"{_camel(spec.name)}DraftIn",
        __base__=DraftEnvelope,
        __doc__=f"{spec.label}（std {spec.group}）の仮登録",
        data=(spec.input_model, Field(..., description=f"{spec.label}の入力")),
    )

    def view(request: Any, payload: Any, idempotency_key: Any = None) -> Any:
        actor = actor_from_request(request)
        change = spec.submit(
            actor,
            payload.data,
            acknowledged=list(payload.acknowledged),
            idempotency_key=idempotency_key or None,
        )
        return change_out(change, reads.hidden_items(actor))  # the only response model: 201

    # Annotations set here, not in the signature: the body type is made per procedure.
    view.__annotations__ = {
        "request": HttpRequest,
        "payload": body,
        "idempotency_key": Annotated[str | None, _idempotency_key()],
        "return": Any,
    }
    view.__name__ = view.__qualname__ = f"draft_{spec.name}"
    view.__doc__ = (
        f"{spec.label}（std {spec.group}）を仮登録します。本登録は別の職員が審査して行います"
        "（std 4.0.8）。アラートは acknowledged にコードを入れて確認してください（std 11.1）。"
    )
    router.post(
        f"/procedures/{spec.name}/drafts",
        response={201: ChangeOut},
        summary=f"{spec.label}の仮登録",
        operation_id=f"register_draft_{spec.name}",
        url_name=f"register-draft-{spec.name}",
    )(requires(Perm.CHANGE_DRAFT)(view))


for _spec in registry.all_specs().values():
    _add_draft_route(_spec)


# Drafts are seen only by those who enter or review changes (std 4.0.8: 他課から仮登録中の
# データの参照ができないようにする).
_DRAFT_READERS = reviews.DRAFT_READERS


@router.get(
    "/drafts", response=list[ChangeOut], summary="仮登録の一覧", operation_id="register_drafts"
)
@requires(Perm.RESIDENT_READ, any_of=_DRAFT_READERS)
def drafts(request: HttpRequest) -> list[dict[str, Any]]:
    """Drafts waiting for review (仮登録一覧, std 4.0.8 j530), oldest first."""
    actor = actor_from_request(request)
    hidden = reads.hidden_items(actor)
    return [change_out(c, hidden) for c in reviews.list_drafts(actor)]


def _change(change_id: int) -> Any:
    change = selectors.change(change_id)
    if change is None:
        raise Http404(f"異動 {change_id} はありません。")
    return change


@router.get(
    "/changes/{int:change_id}",
    response=ChangeDetailOut,
    summary="異動の詳細（審査用）",
    operation_id="register_change",
)
@requires(Perm.RESIDENT_READ, any_of=_DRAFT_READERS)
def change_detail(request: HttpRequest, change_id: int) -> dict[str, Any]:
    """The change with, per person, the record before (at ``base_history_no``) and after."""
    actor = actor_from_request(request)
    read = reviews.get_change(actor, change_id)
    if read is None:
        raise Http404(f"異動 {change_id} はありません。")
    hidden = reads.hidden_items(actor)  # std 10.4 (j1390): before and after alike
    out = change_out(read.change, hidden)
    out["persons"] = [
        summary
        | {
            "before": redact(person.before, hidden),
            "after": redact(snapshot_out(person.after), hidden),
        }
        for person, summary in zip(read.persons, out["persons"], strict=True)
    ]
    return out


@router.post(
    "/changes/{int:change_id}/commit",
    response=ChangeOut,
    summary="本登録（審査・決裁）",
    operation_id="register_commit",
)
@requires(Perm.CHANGE_REVIEW)
def commit(request: HttpRequest, change_id: int, payload: CommitIn | None = None) -> Any:
    """Commit a draft (本登録, std 4.0.8 j530): a reviewer other than its author."""
    version = payload.version if payload is not None else None
    change = services.commit_change(actor_from_request(request), change_id, version=version)
    return change_out(change, reads.hidden_items(actor_from_request(request)))


@router.post(
    "/changes/{int:change_id}/reject",
    response=ChangeOut,
    summary="差戻し",
    operation_id="register_reject",
)
@requires(Perm.CHANGE_REVIEW)
def reject(request: HttpRequest, change_id: int, payload: RejectIn) -> Any:
    """Return a draft to its author with a reason; nothing reaches the register."""
    change = services.reject_change(actor_from_request(request), change_id, reason=payload.reason)
    return change_out(change, reads.hidden_items(actor_from_request(request)))


@router.post(
    "/changes/{int:change_id}/withdraw",
    response=ChangeOut,
    summary="取下げ",
    operation_id="register_withdraw",
)
@requires(Perm.CHANGE_DRAFT)
def withdraw(request: HttpRequest, change_id: int) -> Any:
    """The author withdraws their own draft."""
    change = services.withdraw_change(actor_from_request(request), change_id)
    return change_out(change, reads.hidden_items(actor_from_request(request)))


@router.post(
    "/changes/bulk-commit",
    response=BulkCommitOut,
    summary="一括本登録",
    operation_id="register_bulk_commit",
)
@requires(Perm.CHANGE_BULK_COMMIT)
def bulk_commit(request: HttpRequest, payload: BulkCommitIn) -> dict[str, Any]:
    """Commit several drafts, each on its own, within the cap (std 4.0.8 j530: 全部本登録には
    件数に上限)."""
    result = services.bulk_commit(actor_from_request(request), payload.change_ids)
    return {
        "committed": result.committed,
        "failed": [
            {"change_id": change_id, "findings": [f.as_dict() for f in findings]}
            for change_id, findings in result.failed.items()
        ],
    }


# --- reads (invariant 5: every read of a person is logged by jumin.register.reads) --------


@router.get(
    "/residents/{atena_no}",
    response=ResidentOut,
    summary="住民票の照会",
    operation_id="register_resident",
)
@requires(Perm.RESIDENT_READ)
def resident(request: HttpRequest, atena_no: str, as_of: dt.date | None = None) -> Any:
    """The record of one person now, or as it stood on ``as_of`` (std 1.2.1 j200); a removed
    person's 除票 too. Never the 個人番号 (see ``/my-number``). A 転出予定者 is a resident until
    the planned date, with ``moving_out_on`` and ``moving_out_to`` (std 1.1.5 j50)."""
    view = reads.get_resident(actor_from_request(request), atena_no, as_of=as_of)
    return {
        "atena_no": atena_no,
        "as_of": view.as_of,
        "history_no": view.history_no,
        "is_removed": view.is_removed,
        "moving_out_on": view.moving_out_on,
        "moving_out_to": view.moving_out_to,
        "support_protected": view.support_protected,
        "record": redact(view.record, view.hidden),
    }


@router.get(
    "/residents/{atena_no}/history",
    response=list[HistoryOut],
    summary="異動履歴の照会",
    operation_id="register_resident_history",
)
@requires(Perm.RESIDENT_READ)
def resident_history(request: HttpRequest, atena_no: str) -> Any:
    """Every history row of the person, oldest first (std 2.2.1 j350, 1.2.1 j200). The items
    of std 10.4 the caller may not see are null in every row."""
    actor = actor_from_request(request)
    hidden = reads.hidden_items(actor)
    return [redact(row, hidden) for row in reads.get_history(actor, atena_no)]


@router.get(
    "/households/{household_no}",
    response=HouseholdOut,
    summary="世帯の照会",
    operation_id="register_household",
)
@requires(Perm.RESIDENT_READ)
def household(request: HttpRequest, household_no: str, as_of: dt.date | None = None) -> Any:
    """The members of a household in display order, now or on ``as_of``; a 転出予定者 among
    them until the planned date, with ``moving_out_on`` and ``moving_out_to``."""
    view = reads.get_household(actor_from_request(request), household_no, as_of=as_of)
    members = []
    for record in view.members:
        marker = view.moving_out.get(record.atena_no)
        marked = MarkedRecord(record, marker.on if marker else None, marker.to if marker else None)
        members.append(redact(marked, view.hidden))
    return {"household_no": view.household_no, "as_of": view.as_of, "members": members}


@router.post(
    "/residents/{atena_no}/my-number",
    response=MyNumberOut,
    summary="個人番号の表示",
    operation_id="register_reveal_my_number",
)
@requires(Perm.MY_NUMBER_READ)
def reveal_my_number(request: HttpRequest, atena_no: str, payload: RevealIn) -> Any:
    """Show one person's 個人番号, on request and with a reason, to staff with the permission
    (invariant 6); the access is logged. A POST so that it is never cached or prefetched."""
    number = reads.reveal_my_number(actor_from_request(request), atena_no, reason=payload.reason)
    return {"atena_no": atena_no, "my_number": number}


# --- search (std 2.1.1 j320, 2.1.2 j330, 2.1.3 j340) -----------------------------------------


class SearchRowOut(Schema):
    """One person found. A 転出予定者 is a resident (``status`` resident) until the planned
    date, with ``moving_out_on`` and ``moving_out_to``."""

    atena_no: str
    household_no: str
    name: str
    name_kana: str
    birth_date: dt.date
    birth_date_text: str
    sex: str
    address: str
    katagaki: str
    status: str
    removal_reason: str
    relationship: str
    matched_on_history: bool = Field(..., description="過去の履歴の氏名・住所で一致した")
    moving_out_on: dt.date | None = Field(None, description="転出予定者の転出予定年月日")
    moving_out_to: str | None = Field(None, description="転出予定者の転出先住所（予定）")
    removed_on: dt.date | None = Field(None, description="消除の事由が生じた年月日（除票）")
    support_protected: bool = Field(
        False, description="支援措置の対象者（権限のない職員には住所を返しません）"
    )


class SearchOut(Schema):
    rows: list[SearchRowOut]
    total: int = Field(..., description="一致した件数（上限まで）")
    truncated: bool = Field(..., description="このページに入りきらない一致がある")


class SearchHistoryOut(Schema):
    id: int
    criteria: dict[str, Any] = Field(..., description="検索条件（個人番号は *** で保存）")
    result_count: int
    searched_at: dt.datetime


@router.get("/search", response=SearchOut, summary="住民検索", operation_id="register_search")
@requires(Perm.RESIDENT_SEARCH)
def search_residents(request: HttpRequest, criteria: Query[search.SearchCriteria]) -> Any:
    """Find persons by any item of the record; lists (``empty_fields``) repeat the parameter.
    The search and its criteria (never the 個人番号) are logged."""
    return search.search_residents(actor_from_request(request), criteria)


@router.get(
    "/search/history",
    response=list[SearchHistoryOut],
    summary="検索履歴",
    operation_id="register_search_history",
)
@requires(Perm.RESIDENT_SEARCH)
def search_history(
    request: HttpRequest, limit: Annotated[int, param.Query(ge=1, le=50)] = 20
) -> Any:
    """The caller's own recent searches, newest first (std 2.1.1 j320)."""
    return search.search_history(actor_from_request(request), limit)


# --- edit locks (std 10.3) ---------------------------------------------------------------


@router.post(
    "/residents/{atena_no}/lock",
    response=LockOut,
    summary="編集ロックの取得",
    operation_id="register_lock",
)
@requires(Perm.CHANGE_DRAFT)
def lock(request: HttpRequest, atena_no: str) -> Any:
    """Take (or renew) the edit lock on a person; refused naming the holder (lock.held)."""
    held = services.acquire_lock(actor_from_request(request), atena_no)
    return {
        "atena_no": held.atena_no,
        "holder": staff_ref(held.holder),
        "acquired_at": held.acquired_at,
        "expires_at": held.expires_at,
    }


@router.delete(
    "/residents/{atena_no}/lock",
    response={204: None},
    summary="編集ロックの解除",
    operation_id="register_unlock",
)
@requires(Perm.CHANGE_DRAFT)
def unlock(request: HttpRequest, atena_no: str) -> Any:
    """Release the caller's own lock on a person (nothing happens if they hold none)."""
    services.release_lock(actor_from_request(request), atena_no)
    return None  # the only response model: 204, no body
