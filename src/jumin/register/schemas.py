"""Request and response schemas of the register API (``jumin.register.api``).

A resident record leaves the API through ``RecordOut``: every item of the 住民票 except the
個人番号 (invariant 6 — only ``POST /residents/{atena_no}/my-number`` shows it, to staff with
the permission, with a reason, logged) and the internal search keys. The items of std 10.4
(j1390) — 本籍・筆頭者, 住民票コード, 在留資格等 — are ``null`` for staff without the
permission to see them (``jumin.register.reads.ITEM_PERMISSIONS``; :func:`redact`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from ninja import ModelSchema, Schema
from pydantic import Field

from jumin.core.change_reasons import ChangeReason
from jumin.register.models import (
    Change,
    Resident,
    ResidentHistory,
    ResidentStatus,
    ResidentType,
    Sex,
)
from jumin.register.records import SEARCH_KEY_FIELDS, blank_snapshot

_HIDDEN = ["id", "my_number", *SEARCH_KEY_FIELDS]

_NULL_WITHOUT = "（「{perm}」の権限がない職員には null）"
_HONSEKI = "戸籍の表示"
_CODE = "住民票コードの表示"
_STAY = "在留資格等の表示"


class RestrictedItems(Schema):
    """The items of a record shown per user (std 10.4, j1390): ``null`` when the caller may
    not see them, whatever the record holds."""

    honseki: str | None = Field(None, description="本籍" + _NULL_WITHOUT.format(perm=_HONSEKI))
    koseki_head: str | None = Field(
        None, description="筆頭者" + _NULL_WITHOUT.format(perm=_HONSEKI)
    )
    juminhyo_code: str | None = Field(
        None, description="住民票コード" + _NULL_WITHOUT.format(perm=_CODE)
    )
    nationality: str | None = Field(
        None, description="国籍・地域" + _NULL_WITHOUT.format(perm=_STAY)
    )
    foreign_category: str | None = Field(
        None, description="法第30条の45の区分" + _NULL_WITHOUT.format(perm=_STAY)
    )
    residence_status: str | None = Field(
        None, description="在留資格" + _NULL_WITHOUT.format(perm=_STAY)
    )
    period_of_stay: str | None = Field(
        None, description="在留期間" + _NULL_WITHOUT.format(perm=_STAY)
    )
    stay_expires_on: dt.date | None = Field(
        None, description="在留期間の満了の日" + _NULL_WITHOUT.format(perm=_STAY)
    )
    residence_card_no: str | None = Field(
        None, description="在留カード等の番号" + _NULL_WITHOUT.format(perm=_STAY)
    )


_RESTRICTED = list(RestrictedItems.model_fields)


class Redacted:
    """A record read by a schema with the items ``hidden`` from the reader as ``None``."""

    def __init__(self, record: Any, hidden: frozenset[str]):
        self._record = record
        self._hidden = hidden

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            return None
        return getattr(self._record, name)


def redact(record: Any, hidden: frozenset[str]) -> Any:
    """``record`` (a model, a ``MarkedRecord`` or a snapshot dict) with the ``hidden`` items
    (std 10.4) as ``None``."""
    if not hidden or record is None:
        return record
    if isinstance(record, dict):
        return {k: (None if k in hidden else v) for k, v in record.items()}
    return Redacted(record, hidden)


_SEX = dict(Sex.choices)
_STATUS = dict(ResidentStatus.choices)
_TYPE = dict(ResidentType.choices)


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _reason_label(value: str) -> str:
    if not value:
        return ""
    try:
        return ChangeReason(value).label
    except ValueError:
        return value


def _name(obj: Any) -> str:
    family, given = _get(obj, "family_name") or "", _get(obj, "given_name") or ""
    if family or given:
        return "　".join(p for p in (family, given) if p)
    return str(_get(obj, "name_alphabet") or "")


class RecordOut(RestrictedItems, ModelSchema):
    """住民票の記載事項（個人番号は含みません。``my_number_recorded`` は記載の有無のみ）。
    本籍・筆頭者、住民票コード、在留資格等は、表示の権限がない職員には null です（std 10.4）。"""

    name: str = Field("", description="氏名（表示用）")
    sex_label: str = Field("", description="性別（表示用）")
    status_label: str = Field("", description="住民状態（表示用）")
    resident_type_label: str = Field("", description="住民種別（表示用）")
    removal_reason_label: str = Field("", description="消除事由（表示用）")
    my_number_recorded: bool = Field(False, description="個人番号が記載されているか")

    class Meta:
        model = Resident
        exclude: ClassVar[list[str]] = [*_HIDDEN, *_RESTRICTED, "updated_at", "history_no"]

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return _name(obj)

    @staticmethod
    def resolve_sex_label(obj: Any) -> str:
        return _SEX.get(_get(obj, "sex") or "", "")

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return _STATUS.get(_get(obj, "status") or "", "")

    @staticmethod
    def resolve_resident_type_label(obj: Any) -> str:
        return _TYPE.get(_get(obj, "resident_type") or "", "")

    @staticmethod
    def resolve_removal_reason_label(obj: Any) -> str:
        return _reason_label(_get(obj, "removal_reason") or "")

    @staticmethod
    def resolve_my_number_recorded(obj: Any) -> bool:
        return _get(obj, "my_number_id") is not None


def snapshot_out(after: dict[str, Any]) -> dict[str, Any]:
    """A draft's snapshot (JSON) completed with empty items, for ``RecordOut``."""
    return blank_snapshot() | after


class StaffRef(Schema):
    staff_id: str
    name: str


def staff_ref(staff: Any) -> dict[str, str] | None:
    if staff is None:
        return None
    return {"staff_id": staff.staff_id, "name": staff.name}


class HistoryOut(RestrictedItems, ModelSchema):
    """異動履歴の1行（std 1.2.1 j200）: その異動の後の記載事項全体と、異動の記録。
    本籍・筆頭者、住民票コード、在留資格等は、表示の権限がない職員には null です（std 10.4）。"""

    name: str = ""
    change_reason_label: str = ""
    change_id: int
    operator: StaffRef
    reviewer: StaffRef | None = None
    terminal: str | None = None
    my_number_recorded: bool = False

    class Meta:
        model = ResidentHistory
        exclude: ClassVar[list[str]] = [
            *_HIDDEN,
            *_RESTRICTED,
            "change",
            "operator",
            "reviewer",
            "terminal",
        ]

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return _name(obj)

    @staticmethod
    def resolve_change_reason_label(obj: Any) -> str:
        return _reason_label(obj.change_reason)

    @staticmethod
    def resolve_operator(obj: Any) -> dict[str, str] | None:
        return staff_ref(obj.operator)

    @staticmethod
    def resolve_reviewer(obj: Any) -> dict[str, str] | None:
        return staff_ref(obj.reviewer)

    @staticmethod
    def resolve_terminal(obj: Any) -> str | None:
        return obj.terminal.name if obj.terminal_id is not None else None

    @staticmethod
    def resolve_my_number_recorded(obj: Any) -> bool:
        return obj.my_number_id is not None


_MOVING_OUT_ON = "転出予定者の転出予定年月日（この日の前日までは住民。転出予定者でなければ null）"
_MOVING_OUT_TO = "転出予定者の転出先住所（予定）（転出予定者でなければ null）"


class ResidentOut(Schema):
    """住民票の照会結果: ``as_of`` の日の記載（指定がなければ現在）。転出予定年月日の前は、
    転出予定者も住民として転出前の記載を表示し、``moving_out_on`` / ``moving_out_to`` に
    転出予定を示します（std 1.1.5 j50）。"""

    atena_no: str
    as_of: dt.date | None = Field(None, description="基準日（指定した場合）")
    history_no: int = Field(..., description="表示している記載の履歴番号")
    is_removed: bool = Field(..., description="消除されているか（除票）")
    moving_out_on: dt.date | None = Field(None, description=_MOVING_OUT_ON)
    moving_out_to: str | None = Field(None, description=_MOVING_OUT_TO)
    support_protected: bool = Field(False, description="支援措置の対象者")
    record: RecordOut


class HouseholdMemberOut(RecordOut):
    """世帯員の記載と、転出予定者であればその転出予定。"""

    moving_out_on: dt.date | None = Field(None, description=_MOVING_OUT_ON)
    moving_out_to: str | None = Field(None, description=_MOVING_OUT_TO)

    class Meta:
        model = Resident
        exclude: ClassVar[list[str]] = [*_HIDDEN, *_RESTRICTED, "updated_at", "history_no"]


class MarkedRecord:
    """A record read by ``HouseholdMemberOut``: its items, and the 転出予定 marker beside it."""

    def __init__(self, record: Any, moving_out_on: dt.date | None, moving_out_to: str | None):
        self._record = record
        self.moving_out_on = moving_out_on
        self.moving_out_to = moving_out_to

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record, name)


class HouseholdOut(Schema):
    """世帯の照会結果: 世帯員を表示順（std 5.2 j1010）で。転出予定者は転出予定年月日の前日
    まで世帯員として、``moving_out_on`` / ``moving_out_to`` 付きで含まれます。"""

    household_no: str
    as_of: dt.date | None = None
    members: list[HouseholdMemberOut]


# --- procedures and changes ----------------------------------------------------------------


class ProcedureOut(Schema):
    name: str = Field(..., description="手続名（URL に使う英字）")
    label: str = Field(..., description="手続の名称")
    group: str = Field(..., description="標準仕様書の機能ID（例: 4.1.1）")
    input_schema: dict[str, Any] = Field(..., description="入力（data）の JSON Schema")
    draft_url: str = Field(..., description="仮登録の URL")


class FindingOut(Schema):
    code: str
    severity: str = Field(..., description="error（エラー）または alert（アラート）")
    message: str
    field: str = ""
    remedy: str = ""


class ChangePersonOut(Schema):
    atena_no: str
    base_history_no: int | None = Field(None, description="入力時の履歴番号（新規はなし）")
    name: str = ""


class ChangeOut(Schema):
    """異動（仮登録・本登録・差戻し・取下げ）。"""

    id: int
    procedure: str
    procedure_label: str
    change_reason: str
    change_reason_label: str
    status: str
    status_label: str
    occurred_on: dt.date
    notified_on: dt.date | None
    persons: list[ChangePersonOut]
    summary: dict[str, Any]
    findings: list[FindingOut]
    acknowledged: list[str]
    created_by: StaffRef
    created_at: dt.datetime
    terminal: str | None
    reviewed_by: StaffRef | None
    reviewed_at: dt.datetime | None
    rejection_reason: str
    cancels: int | None
    version: int = Field(..., description="版（本登録時の version に指定すると競合を検出します）")


class ChangePersonDetailOut(ChangePersonOut):
    before: RecordOut | None = Field(None, description="入力時の記載（新規の人はなし）")
    after: RecordOut = Field(..., description="異動後の記載")


class ChangeDetailOut(ChangeOut):
    persons: list[ChangePersonDetailOut]  # type: ignore[assignment]


def procedure_label(name: str) -> str:
    from jumin.register.procedures import registry

    spec = registry.get(name)
    return spec.label if spec is not None else name


def _summary(summary: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """A change's summary with the before/after of ``hidden`` items (std 10.4) as None."""
    items = summary.get("items")
    if not hidden or not isinstance(items, dict) or not hidden.intersection(items):
        return summary
    return summary | {"items": {k: (None if k in hidden else v) for k, v in items.items()}}


def change_out(change: Change, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A change as ``ChangeOut`` reads it; ``hidden``: the items of std 10.4 the reader may
    not see (their before/after in ``summary.items`` are null)."""
    persons = change.payload.get("persons", [])
    return {
        "id": change.pk,
        "procedure": change.procedure,
        "procedure_label": procedure_label(change.procedure),
        "change_reason": change.change_reason,
        "change_reason_label": _reason_label(change.change_reason),
        "status": change.status,
        "status_label": change.get_status_display(),
        "occurred_on": change.occurred_on,
        "notified_on": change.notified_on,
        "persons": [
            {
                "atena_no": p["atena_no"],
                "base_history_no": p.get("base_history_no"),
                "name": _name(p.get("after") or {}),
            }
            for p in persons
        ],
        "summary": _summary(change.payload.get("summary", {}), hidden),
        "findings": change.findings,
        "acknowledged": change.acknowledged,
        "created_by": staff_ref(change.created_by),
        "created_at": change.created_at,
        "terminal": change.terminal.name if change.terminal is not None else None,
        "reviewed_by": staff_ref(change.reviewed_by),
        "reviewed_at": change.reviewed_at,
        "rejection_reason": change.rejection_reason,
        "cancels": change.cancels_id,
        "version": change.version,
    }


# --- request bodies ----------------------------------------------------------------------


class DraftEnvelope(Schema):
    """Fields shared by every procedure's draft request; ``data`` is the procedure's input."""

    acknowledged: list[str] = Field(
        default_factory=list,
        description=(
            "確認したアラートのコード（422 の findings の code）。確認しないと登録できません。"
        ),
        max_length=100,
    )


class CommitIn(Schema):
    version: int | None = Field(
        None,
        description="審査画面に表示した異動の版。表示後に変更されていればエラー（change.stale）",
    )


class RejectIn(Schema):
    reason: str = Field(..., max_length=1000, description="差戻し理由")


class BulkCommitIn(Schema):
    change_ids: list[int] = Field(..., min_length=1, max_length=1000)


class BulkFailureOut(Schema):
    change_id: int
    findings: list[FindingOut]


class BulkCommitOut(Schema):
    committed: list[int]
    failed: list[BulkFailureOut]


class RevealIn(Schema):
    reason: str = Field(..., max_length=200, description="個人番号を表示する理由（操作ログに記録）")


class MyNumberOut(Schema):
    atena_no: str
    my_number: str


class LockOut(Schema):
    atena_no: str
    holder: StaffRef
    acquired_at: dt.datetime
    expires_at: dt.datetime
