"""Input and output schemas of the support-measure services and API (``jumin.support.api``).

The inputs are what the services take (the screens build the same objects), so a rule is
checked once. Outputs never carry the abuser's details to a caller without the read permission
(the routes need it) and never an address in a list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from jumin.support.models import EndReason, SupportKind

Sex = Literal["", "1", "2"]


class _In(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CoveredIn(_In):
    """併せて支援を求める者: a person of the register (``atena_no``), or a person outside it by
    name and birth date."""

    atena_no: str = Field("", max_length=10, description="宛名番号（住民記録にある場合）")
    name: str = Field("", max_length=200, description="氏名（住民記録にない場合は必須）")
    name_kana: str = Field("", max_length=200, description="氏名フリガナ")
    birth_date: dt.date | None = Field(None, description="生年月日（住民記録にない場合は必須）")
    sex: Sex = Field("", description="性別（1 男・2 女）")
    relationship: str = Field("", max_length=40, description="申出者との関係（例：子）")
    previous_address: str = Field("", max_length=300, description="前住所")


class AbuserIn(_In):
    """加害者."""

    name: str = Field(..., max_length=200, description="氏名")
    name_kana: str = Field("", max_length=200, description="氏名フリガナ（照合に使います）")
    birth_date: dt.date | None = Field(None, description="生年月日")
    sex: Sex = Field("", description="性別（1 男・2 女）")
    address: str = Field("", max_length=300, description="住所")
    atena_no: str = Field("", max_length=10, description="宛名番号（同一市区町村の場合）")
    relationship: str = Field("", max_length=100, description="申出者との関係（例：元配偶者）")
    note: str = Field("", max_length=1000, description="その他")


class MeasureIn(_In):
    """支援措置の申出の受付（仮支援措置として登録）."""

    atena_no: str = Field(..., max_length=10, description="申出者の宛名番号")
    applied_on: dt.date = Field(..., description="申出年月日")
    kind: SupportKind = Field(..., description="区分")
    kind_note: str = Field("", max_length=200, description="区分の補足")
    provisional_since: dt.date | None = Field(
        None, description="仮支援措置の開始年月日（省略時は今日）"
    )
    contact: str = Field("", max_length=200, description="申出者の連絡先")
    restrict_inspection: bool = Field(True, description="住民基本台帳の一部の写しの閲覧")
    restrict_copies: bool = Field(True, description="住民票の写し等の交付")
    restrict_koseki_attachment: bool = Field(True, description="戸籍の附票の写しの交付")
    covered: list[CoveredIn] = Field(default_factory=list, max_length=20)
    abusers: list[AbuserIn] = Field(default_factory=list, max_length=10)
    forwarded_to: str = Field("", max_length=100, description="転送先市区町村")
    forwarded_on: dt.date | None = Field(None, description="転送年月日")
    received_from: str = Field("", max_length=100, description="当初受付市区町村")
    received_on: dt.date | None = Field(None, description="転送された申出書の受付年月日")
    memo: str = Field("", max_length=2000, description="備考")


class ConfirmIn(_In):
    """支援措置の開始: the period is set from the start date (end = start + 1 year − 1 day) unless
    an end date is given (修正)."""

    start_on: dt.date | None = Field(None, description="開始年月日（省略時は今日）")
    end_on: dt.date | None = Field(None, description="終了年月日（省略時は自動設定）")
    note: str = Field("", max_length=500, description="備考")


class ExtendIn(_In):
    """期間の延長: from one month before the end; one year from the day after the old end."""

    end_on: dt.date | None = Field(None, description="延長後の終了年月日（省略時は自動設定）")
    note: str = Field("", max_length=500, description="備考")


class TerminateIn(_In):
    reason: EndReason = Field(..., description="終了の事由")
    note: str = Field("", max_length=500, description="理由の詳細（「その他」では必須）")


class LiftIn(_In):
    """個別の解除: one request — all its persons and its purpose — with the reason."""

    atena_nos: list[str] = Field(..., max_length=50, description="請求の対象者（全員）")
    purpose: str = Field(
        ..., max_length=200, description="請求の目的・処理（例：住民票の写しの交付）"
    )
    reason: str = Field(..., max_length=500, description="解除の理由（審査の結果）")
    for_staff_id: str = Field("", max_length=32, description="使用できる職員の職員ID（任意）")


class AbuserCheckIn(_In):
    name_kana: str = Field(..., max_length=200)
    birth_date: dt.date | None = None


# --------------------------------------------------------------------------- outputs


class SubjectOut(Schema):
    role: str
    role_label: str
    atena_no: str
    name: str
    name_kana: str
    birth_date: dt.date | None
    relationship: str


class AbuserOut(Schema):
    name: str
    name_kana: str
    birth_date: dt.date | None
    sex: str
    address: str
    atena_no: str
    relationship: str
    note: str


class EventOut(Schema):
    action: str
    action_label: str
    occurred_at: dt.datetime
    operator_code: str
    status_before: str
    status_after: str
    start_on: dt.date | None
    end_on: dt.date | None
    note: str


class MeasureSummaryOut(Schema):
    id: int
    atena_no: str
    applicant_name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    applied_on: dt.date
    provisional_since: dt.date | None
    start_on: dt.date | None
    end_on: dt.date | None
    extensions: int
    state: str = Field(..., description="provisional / active / ending / expired / ended")
    days_left: int | None
    can_extend: bool
    extension_opens: dt.date | None


class MeasureOut(MeasureSummaryOut):
    applicant_name_kana: str
    kind_note: str
    contact: str
    restrict_inspection: bool
    restrict_copies: bool
    restrict_koseki_attachment: bool
    ended_on: dt.date | None
    end_reason: str
    end_note: str
    forwarded_to: str
    forwarded_on: dt.date | None
    received_from: str
    received_on: dt.date | None
    memo: str
    subjects: list[SubjectOut]
    abusers: list[AbuserOut]
    events: list[EventOut]


class LiftOut(Schema):
    id: int = Field(..., description="解除番号（この請求の処理で指定します）")
    atena_nos: list[str]
    purpose: str
    officer: str
    for_staff: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None


class AlertOut(Schema):
    code: str
    measure_id: int
    message: str
    end_on: dt.date | None
    days_left: int | None


class AbuserCheckOut(Schema):
    matches: bool = Field(..., description="支援措置の加害者として登録された者と一致する")


def summary_out(measure: Any, state: Any) -> dict[str, Any]:
    return {
        "id": measure.pk,
        "atena_no": measure.atena_no,
        "applicant_name": measure.applicant_name,
        "kind": measure.kind,
        "kind_label": measure.get_kind_display(),
        "status": measure.status,
        "status_label": measure.get_status_display(),
        "applied_on": measure.applied_on,
        "provisional_since": measure.provisional_since,
        "start_on": measure.start_on,
        "end_on": measure.end_on,
        "extensions": measure.extensions,
        "state": state.code,
        "days_left": state.days_left,
        "can_extend": state.can_extend,
        "extension_opens": state.extension_opens,
    }


def measure_out(measure: Any, state: Any) -> dict[str, Any]:
    out = summary_out(measure, state)
    out.update(
        {
            field: getattr(measure, field)
            for field in (
                "applicant_name_kana",
                "kind_note",
                "contact",
                "restrict_inspection",
                "restrict_copies",
                "restrict_koseki_attachment",
                "ended_on",
                "end_reason",
                "end_note",
                "forwarded_to",
                "forwarded_on",
                "received_from",
                "received_on",
                "memo",
            )
        }
    )
    out["subjects"] = [
        {
            "role": s.role,
            "role_label": s.get_role_display(),
            "atena_no": s.atena_no,
            "name": s.name,
            "name_kana": s.name_kana,
            "birth_date": s.birth_date,
            "relationship": s.relationship,
        }
        for s in measure.subjects.all()
    ]
    out["abusers"] = [
        {
            "name": a.name,
            "name_kana": a.name_kana,
            "birth_date": a.birth_date,
            "sex": a.sex,
            "address": a.address,
            "atena_no": a.atena_no,
            "relationship": a.relationship,
            "note": a.note,
        }
        for a in measure.abusers.all()
    ]
    out["events"] = [
        {
            "action": e.action,
            "action_label": e.get_action_display(),
            "occurred_at": e.occurred_at,
            "operator_code": e.operator_code,
            "status_before": e.status_before,
            "status_after": e.status_after,
            "start_on": e.start_on,
            "end_on": e.end_on,
            "note": e.note,
        }
        for e in measure.events.all()
    ]
    return out


def lift_out(lift: Any) -> dict[str, Any]:
    return {
        "id": lift.pk,
        "atena_nos": list(lift.targets),
        "purpose": lift.purpose,
        "officer": lift.officer.staff_id,
        "for_staff": lift.for_staff.staff_id if lift.for_staff_id else None,
        "created_at": lift.created_at,
        "expires_at": lift.expires_at,
        "used_at": lift.used_at,
    }
