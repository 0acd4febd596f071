"""Writes of the support-measure database and the gate (std 1.1.16 j160, 3.4 j440).

Every write takes the acting staff member, runs in one transaction and writes, in it, the
measure, its history row (``SupportEvent``) and the operation-log entry (DESIGN invariant 1).
The log names the persons concerned (``targets``: the protected persons' 宛名番号) and the
measure's number; never the abuser's details, an address or a free-text reason.

The life of a measure:

- :func:`register` — the application is received: 仮支援措置 (provisional protection) at once,
  while the need is checked (std 3.4: 申出から支援措置開始までの期間も…エラーとすることができる);
- :func:`confirm` — the need is confirmed: the period starts, end = start + 1 year − 1 day
  (:mod:`jumin.support.period`), correctable with a reason (必要に応じて修正);
- :func:`extend` — from one month before the end: one more year from the day after the end;
- :func:`terminate` — on the applicant's request, when the period passed without an extension,
  or when the need is gone.

The gate, :func:`check_access`, is called by every read or issue that would show a person: the
register's reads (for staff without ``SUPPORT_MEASURE_READ``) and the certificates. It refuses
with the finding ``support.protected`` unless a support-measure officer released the
protection for exactly that request (:func:`create_lift`: the persons and the purpose, with a
reason); the release is used once, within minutes. Refusals and uses are logged.

A preview or confirmation screen checks the release without using it
(``check_access(..., consume=False)``: a *pending* :class:`Clearance`); the action itself uses
it up in its own transaction (:func:`lift_used_with`), so that a release is used if and only
if the issue it was given for is committed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.models import Staff
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, Findings, FindingsError, error
from jumin.core.names import kana_search_key, validate_name_kana
from jumin.core.variants import name_search_key
from jumin.core.wareki import format_wareki
from jumin.register.models import Resident
from jumin.support import conf, period, selectors
from jumin.support.models import (
    PROTECTING,
    EndReason,
    SubjectRole,
    SupportAbuser,
    SupportEvent,
    SupportLift,
    SupportMeasure,
    SupportStatus,
    SupportSubject,
)
from jumin.support.schemas import (
    AbuserIn,
    ConfirmIn,
    CoveredIn,
    ExtendIn,
    LiftIn,
    MeasureIn,
    TerminateIn,
)

FUNCTION_REGISTER = "支援措置の受付"
FUNCTION_CONFIRM = "支援措置の開始"
FUNCTION_EXTEND = "支援措置の延長"
FUNCTION_TERMINATE = "支援措置の終了"
FUNCTION_READ = "支援措置の照会"
FUNCTION_LIST = "支援措置の一覧"
FUNCTION_LIFT = "支援措置の個別解除"
FUNCTION_LIFT_LIST = "支援措置の個別解除の一覧"
FUNCTION_GATE = "支援措置対象者の確認"
FUNCTION_NOTICE = "支援措置期間終了通知"
FUNCTION_ABUSER_CHECK = "加害者の照合"

NOTICE_TITLE = "支援措置期間終了通知"


class Purpose:
    """Purposes the system's own callers pass to :func:`check_access`; a release names the
    purpose of the request it is for, compared as text (:func:`purpose_key`). The certificates
    pass ``"<kind>の交付"`` (``住民票の写しの交付`` …)."""

    CERTIFICATE = "住民票の写しの交付"
    INSPECTION = "住民基本台帳の一部の写しの閲覧"
    INQUIRY = "住民照会"
    HOUSEHOLD = "世帯照会"
    HISTORY = "異動履歴照会"


def lift_purposes() -> list[str]:
    """The purposes a release is usually given for (the screen's choices): the issue of each
    certificate kind, and the inspection of the register."""
    try:
        from jumin.certificates.models import CertificateKind
    except ImportError:  # pragma: no cover - the certificates app is part of the project
        kinds: list[str] = [Purpose.CERTIFICATE]
    else:
        kinds = [f"{label}の交付" for _, label in CertificateKind.choices]
    return [*kinds, Purpose.INSPECTION]


_ATENA = re.compile(r"^\d{1,10}$")


def today() -> dt.date:
    return timezone.localdate()


def lift_minutes() -> int:
    return conf.lift_minutes()


# --------------------------------------------------------------------------- helpers


def _wareki(day: dt.date | None) -> str:
    return format_wareki(day) if day is not None else "—"


def _resident(atena_no: str) -> Resident | None:
    if not atena_no or not _ATENA.match(atena_no):
        return None
    return Resident.objects.filter(atena_no=atena_no).first()


def _unknown_measure(measure_id: int) -> FindingsError:
    return FindingsError(
        [
            error(
                "support.unknown",
                f"支援措置 第{measure_id}号はありません。",
                field="measure_id",
                remedy="支援措置の一覧から選んでください。",
            )
        ]
    )


def _locked(measure_id: int) -> SupportMeasure:
    measure = SupportMeasure.objects.select_for_update().filter(pk=measure_id).first()
    if measure is None:
        raise _unknown_measure(measure_id)
    return measure


def _subject_atenas(measure: SupportMeasure) -> list[str]:
    return sorted(
        {a for a in measure.subjects.values_list("atena_no", flat=True) if a} | {measure.atena_no}
    )


def _event(
    actor: Actor,
    measure: SupportMeasure,
    action: SupportEvent.Action,
    before: str,
    *,
    category: Category,
    function: str,
    detail: dict[str, Any],
    start_on: dt.date | None = None,
    end_on: dt.date | None = None,
    note: str = "",
) -> SupportEvent:
    """One step of a measure's life: its event row (the measure's own history) and the
    operation-log entry naming the persons it protects, in the caller's transaction."""
    event = SupportEvent.objects.create(
        measure=measure,
        action=action,
        staff=actor.staff,
        operator_code=actor.operator_code,
        terminal_name=actor.terminal_name,
        status_before=before,
        status_after=measure.status,
        start_on=start_on,
        end_on=end_on,
        note=note[:500],
    )
    audit.record(
        actor,
        category=category,
        function=function,
        targets=_subject_atenas(measure),
        detail={"measure_id": measure.pk, **detail},
    )
    return event


def _kana(findings: Findings, value: str, field: str) -> str:
    if not value:
        return ""
    try:
        return validate_name_kana(value, field=field)
    except CoreError as exc:
        findings.add(
            error(exc.code, exc.message, field=field, remedy="カタカナで入力してください。")
        )
        return value


def _required(findings: Findings, value: str, field: str, label: str) -> None:
    if not value:
        findings.add(
            error(
                f"support.{field.rsplit('.', 1)[-1]}_required",
                f"{label}を入力してください。",
                field=field,
            )
        )


def _not_future(findings: Findings, value: dt.date | None, field: str, label: str) -> None:
    if value is not None and value > today():
        findings.add(
            error(
                "support.future_date",
                f"{label}（{_wareki(value)}）が今日より後の日付です。",
                field=field,
                remedy=f"{label}は今日以前の日付を入力してください。",
            )
        )


# --------------------------------------------------------------------------- register


def register(actor: Actor, data: MeasureIn) -> SupportMeasure:
    """支援措置の申出の受付: the measure is recorded as 仮支援措置 and protects at once."""
    authorize(actor, Perm.SUPPORT_MEASURE_MANAGE, FUNCTION_REGISTER)
    findings = Findings()
    day = today()
    applicant = _resident(data.atena_no)
    if applicant is None:
        findings.add(
            error(
                "support.applicant_unknown",
                f"申出者の宛名番号 {data.atena_no} の住民記録はありません。",
                field="atena_no",
                remedy="宛名番号を確認してください（転出した人は除票の宛名番号で登録できます）。",
            )
        )
    _not_future(findings, data.applied_on, "applied_on", "申出年月日")
    since = data.provisional_since or day
    _not_future(findings, data.provisional_since, "provisional_since", "仮支援措置の開始年月日")
    if since < data.applied_on:
        findings.add(
            error(
                "support.provisional_before_application",
                "仮支援措置の開始年月日が申出年月日より前です。",
                field="provisional_since",
                remedy="申出年月日以後の日付を入力してください。",
            )
        )
    _not_future(findings, data.forwarded_on, "forwarded_on", "転送年月日")
    _not_future(findings, data.received_on, "received_on", "転送された申出書の受付年月日")

    covered: list[tuple[Resident | None, str, CoveredIn]] = []
    seen = {data.atena_no}
    for i, c in enumerate(data.covered):
        base = f"covered.{i}"
        if not (c.atena_no or c.name or c.name_kana or c.birth_date):
            continue  # an empty row of the form
        if c.atena_no:
            resident = _resident(c.atena_no)
            if resident is None:
                findings.add(
                    error(
                        "support.covered_unknown",
                        f"併せて支援を求める者の宛名番号 {c.atena_no} の住民記録はありません。",
                        field=f"{base}.atena_no",
                        remedy="宛名番号を確認するか、住民記録にない人は宛名番号を空欄にして"
                        "氏名と生年月日を入力してください。",
                    )
                )
            elif c.atena_no in seen:
                findings.add(
                    error(
                        "support.covered_duplicate",
                        f"宛名番号 {c.atena_no} の人が重ねて入力されています。",
                        field=f"{base}.atena_no",
                        remedy="申出者本人や同じ人を重ねて入力しないでください。",
                    )
                )
            seen.add(c.atena_no)
            kana = _kana(findings, c.name_kana, f"{base}.name_kana")
            covered.append((resident, kana, c))
        else:
            _required(findings, c.name, f"{base}.name", "住民記録にない人の氏名")
            if c.birth_date is None:
                findings.add(
                    error(
                        "support.birth_date_required",
                        "住民記録にない人の生年月日を入力してください。",
                        field=f"{base}.birth_date",
                    )
                )
            kana = _kana(findings, c.name_kana, f"{base}.name_kana")
            covered.append((None, kana, c))

    abusers: list[tuple[str, AbuserIn]] = []
    for i, a in enumerate(data.abusers):
        base = f"abusers.{i}"
        if not (a.name or a.name_kana or a.birth_date or a.address or a.atena_no):
            continue
        _required(findings, a.name, f"{base}.name", "加害者の氏名")
        kana = _kana(findings, a.name_kana, f"{base}.name_kana")
        if a.atena_no and _resident(a.atena_no) is None:
            findings.add(
                error(
                    "support.abuser_unknown",
                    f"加害者の宛名番号 {a.atena_no} の住民記録はありません。",
                    field=f"{base}.atena_no",
                    remedy="同じ市区町村の住民でなければ宛名番号は空欄にしてください。",
                )
            )
        elif a.atena_no and a.atena_no in seen:
            findings.add(
                error(
                    "support.abuser_is_subject",
                    "加害者に支援対象者と同じ宛名番号が入力されています。",
                    field=f"{base}.atena_no",
                    remedy="加害者の宛名番号を確認してください。",
                )
            )
        abusers.append((kana, a))
    if findings:
        raise FindingsError(findings)
    assert applicant is not None

    with transaction.atomic():
        measure = SupportMeasure.objects.create(
            atena_no=data.atena_no,
            applicant_name=applicant.name,
            applicant_name_kana=applicant.name_kana,
            kind=data.kind,
            kind_note=data.kind_note,
            applied_on=data.applied_on,
            contact=data.contact,
            restrict_inspection=data.restrict_inspection,
            restrict_copies=data.restrict_copies,
            restrict_koseki_attachment=data.restrict_koseki_attachment,
            status=SupportStatus.PROVISIONAL,
            provisional_since=since,
            forwarded_to=data.forwarded_to,
            forwarded_on=data.forwarded_on,
            received_from=data.received_from,
            received_on=data.received_on,
            memo=data.memo,
            created_by=actor.staff,
        )
        SupportSubject.objects.create(
            measure=measure,
            role=SubjectRole.APPLICANT,
            atena_no=applicant.atena_no,
            name=applicant.name,
            name_kana=applicant.name_kana,
            birth_date=applicant.birth_date,
            sex=applicant.sex,
            previous_address=applicant.previous_address,
        )
        for resident, kana, c in covered:
            SupportSubject.objects.create(
                measure=measure,
                role=SubjectRole.COVERED,
                atena_no=resident.atena_no if resident else "",
                name=resident.name if resident else c.name,
                name_kana=resident.name_kana if resident else kana,
                birth_date=resident.birth_date if resident else c.birth_date,
                sex=resident.sex if resident else c.sex,
                relationship=c.relationship,
                previous_address=c.previous_address,
            )
        for kana, a in abusers:
            SupportAbuser.objects.create(
                measure=measure,
                name=a.name,
                name_kana=kana,
                birth_date=a.birth_date,
                sex=a.sex,
                address=a.address,
                atena_no=a.atena_no,
                relationship=a.relationship,
                note=a.note,
                kana_key=_safe_kana_key(kana),
                name_key=name_search_key(a.name),
            )
        _event(
            actor,
            measure,
            SupportEvent.Action.REGISTER,
            "",
            start_on=since,
            category=Category.CHANGE_ADD,
            function=FUNCTION_REGISTER,
            detail={
                "kind": measure.kind,
                "status": measure.status,
                "covered": len(covered),
                "abusers": len(abusers),
            },
        )
    return measure


def _safe_kana_key(kana: str) -> str:
    try:
        return kana_search_key(kana) if kana else ""
    except CoreError:
        return ""


# --------------------------------------------------------------------------- period


def _adjusted_note(findings: Findings, adjusted: bool, note: str) -> None:
    if adjusted and not note:
        findings.add(
            error(
                "support.adjustment_reason_required",
                "終了年月日を自動設定の日付から修正するときは、備考に理由を入力してください。",
                field="note",
                remedy="修正の理由を入力するか、終了年月日を空欄にして自動設定にしてください。",
            )
        )


def confirm(actor: Actor, measure_id: int, data: ConfirmIn) -> SupportMeasure:
    """支援措置の開始: the need is confirmed; the one-year period starts (std 3.4)."""
    authorize(actor, Perm.SUPPORT_MEASURE_MANAGE, FUNCTION_CONFIRM)
    with transaction.atomic():
        measure = _locked(measure_id)
        findings = Findings()
        if measure.status != SupportStatus.PROVISIONAL:
            raise FindingsError(
                [
                    error(
                        "support.not_provisional",
                        f"支援措置 第{measure.pk}号は仮支援措置ではありません"
                        f"（現在：{measure.get_status_display()}）。",
                        remedy="開始の処理は仮支援措置の間だけできます。",
                    )
                ]
            )
        start = data.start_on or today()
        if start < measure.applied_on:
            findings.add(
                error(
                    "support.start_before_application",
                    f"開始年月日（{_wareki(start)}）が申出年月日"
                    f"（{_wareki(measure.applied_on)}）より前です。",
                    field="start_on",
                    remedy="申出年月日以後の日付を入力してください。",
                )
            )
        _not_future(findings, data.start_on, "start_on", "開始年月日")
        automatic = period.period_end(start)
        end = data.end_on or automatic
        if end < start:
            findings.add(
                error(
                    "support.end_before_start",
                    f"終了年月日（{_wareki(end)}）が開始年月日（{_wareki(start)}）より前です。",
                    field="end_on",
                    remedy=f"空欄にすると1年後の前日（{_wareki(automatic)}）が設定されます。",
                )
            )
        _adjusted_note(findings, end != automatic, data.note)
        if findings:
            raise FindingsError(findings)
        before = measure.status
        measure.status = SupportStatus.ACTIVE
        measure.start_on = start
        measure.end_on = end
        measure.version += 1
        measure.save()
        _event(
            actor,
            measure,
            SupportEvent.Action.CONFIRM,
            before,
            start_on=start,
            end_on=end,
            note=data.note,
            category=Category.CHANGE_AMEND,
            function=FUNCTION_CONFIRM,
            detail={
                "status": measure.status,
                "start_on": start.isoformat(),
                "end_on": end.isoformat(),
                "end_adjusted": end != automatic,
            },
        )
    return measure


def extend(actor: Actor, measure_id: int, data: ExtendIn) -> SupportMeasure:
    """期間の延長: possible from one month before the end; the new period is one year from the
    day after the old end (std 3.4)."""
    authorize(actor, Perm.SUPPORT_MEASURE_MANAGE, FUNCTION_EXTEND)
    with transaction.atomic():
        measure = _locked(measure_id)
        if measure.status not in (SupportStatus.ACTIVE, SupportStatus.EXTENDED):
            raise FindingsError(
                [
                    error(
                        "support.not_active",
                        f"支援措置 第{measure.pk}号は延長できません"
                        f"（現在：{measure.get_status_display()}）。",
                        remedy="仮支援措置は先に開始の処理を、終了した支援措置は新たな申出として"
                        "受け付けてください。",
                    )
                ]
            )
        assert measure.end_on is not None
        old_end = measure.end_on
        opens = period.extension_opens(old_end)
        if today() < opens:
            raise FindingsError(
                [
                    error(
                        "support.extend_too_early",
                        f"延長の処理は、期間の終了日（{_wareki(old_end)}）の1か月前"
                        f"（{_wareki(opens)}）からできます。",
                        remedy=f"{_wareki(opens)}以後に延長の処理をしてください。",
                    )
                ]
            )
        findings = Findings()
        automatic = period.extended_end(old_end)
        new_end = data.end_on or automatic
        if new_end <= old_end:
            findings.add(
                error(
                    "support.extension_not_later",
                    f"延長後の終了年月日（{_wareki(new_end)}）が現在の終了年月日"
                    f"（{_wareki(old_end)}）より後になっていません。",
                    field="end_on",
                    remedy=f"空欄にすると{_wareki(automatic)}が設定されます。",
                )
            )
        _adjusted_note(findings, new_end != automatic, data.note)
        if findings:
            raise FindingsError(findings)
        before = measure.status
        measure.status = SupportStatus.EXTENDED
        measure.end_on = new_end
        measure.extensions += 1
        measure.version += 1
        measure.save()
        new_start = old_end + dt.timedelta(days=1)
        _event(
            actor,
            measure,
            SupportEvent.Action.EXTEND,
            before,
            start_on=new_start,
            end_on=new_end,
            note=data.note,
            category=Category.CHANGE_AMEND,
            function=FUNCTION_EXTEND,
            detail={
                "status": measure.status,
                "previous_end_on": old_end.isoformat(),
                "end_on": new_end.isoformat(),
                "extensions": measure.extensions,
                "end_adjusted": new_end != automatic,
            },
        )
    return measure


def terminate(actor: Actor, measure_id: int, data: TerminateIn) -> SupportMeasure:
    """支援措置の終了: on request, after the period passed without an extension, or when the
    need is gone (std 3.4). The protection stops today."""
    authorize(actor, Perm.SUPPORT_MEASURE_MANAGE, FUNCTION_TERMINATE)
    with transaction.atomic():
        measure = _locked(measure_id)
        if measure.status not in PROTECTING:
            raise FindingsError(
                [
                    error(
                        "support.already_ended",
                        f"支援措置 第{measure.pk}号はすでに終了しています"
                        f"（{measure.get_status_display()}）。",
                        remedy="改めて支援が必要なときは、新たな申出として受け付けてください。",
                    )
                ]
            )
        day = today()
        findings = Findings()
        if data.reason == EndReason.EXPIRED and (measure.end_on is None or day <= measure.end_on):
            findings.add(
                error(
                    "support.not_expired",
                    "支援措置の期間はまだ終了していません"
                    + (f"（終了日：{_wareki(measure.end_on)}）。" if measure.end_on else "。"),
                    field="reason",
                    remedy="期間の経過による終了は終了日の翌日以後にできます。"
                    "それ以外の終了は該当する事由を選んでください。",
                )
            )
        if data.reason == EndReason.OTHER and not data.note:
            findings.add(
                error(
                    "support.note_required",
                    "終了の事由が「その他」のときは、理由の詳細を入力してください。",
                    field="note",
                )
            )
        if findings:
            raise FindingsError(findings)
        before = measure.status
        measure.status = (
            SupportStatus.ENDED if data.reason == EndReason.EXPIRED else SupportStatus.TERMINATED
        )
        measure.ended_on = day
        measure.end_reason = data.reason
        measure.end_note = data.note
        measure.version += 1
        measure.save()
        _event(
            actor,
            measure,
            SupportEvent.Action.TERMINATE,
            before,
            end_on=day,
            note=f"{EndReason(data.reason).label}{('：' + data.note) if data.note else ''}",
            category=Category.CHANGE_AMEND,
            function=FUNCTION_TERMINATE,
            detail={
                "status": measure.status,
                "reason": str(data.reason),
            },
        )
    return measure


# --------------------------------------------------------------------------- reads (logged)


def read_measure(actor: Actor, measure_id: int) -> SupportMeasure:
    """支援対象者の詳細 (std 1.1.16, 2.2.4): the measure with its subjects, abusers and
    history, to staff with ``SUPPORT_MEASURE_READ``. Logged."""
    authorize(actor, Perm.SUPPORT_MEASURE_READ, FUNCTION_READ)
    measure = selectors.measure_detail(measure_id)
    if measure is None:
        raise _unknown_measure(measure_id)
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=FUNCTION_READ,
            targets=_subject_atenas(measure),
            detail={"measure_id": measure.pk},
        )
    return measure


def list_measures(
    actor: Actor, *, status: str = "", kind: str = "", atena_no: str = "", limit: int = 500
) -> list[SupportMeasure]:
    """The measures, soonest end first, filtered. Logged with the applicants listed."""
    authorize(actor, Perm.SUPPORT_MEASURE_READ, FUNCTION_LIST)
    rows = list(selectors.measure_list(status=status, kind=kind, atena_no=atena_no)[:limit])
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=FUNCTION_LIST,
            targets=sorted({m.atena_no for m in rows}),
            detail={
                "filters": [
                    k for k, v in (("status", status), ("kind", kind), ("atena_no", atena_no)) if v
                ],
                "count": len(rows),
            },
        )
    return rows


def alerts_for(actor: Actor) -> list[selectors.SupportAlert]:
    """The home page's lines for a support-measure officer: measures ending within the set
    number of days (``JUMIN["SUPPORT_ALERT_DAYS"]``, default 30) and measures whose period is
    over without an extension (std 3.4). Empty for staff without ``SUPPORT_MEASURE_READ``.
    The lines carry no personal data (number, kind, dates), so nothing is logged."""
    if not actor.can(Perm.SUPPORT_MEASURE_READ):
        return []
    return selectors.alerts()


# --------------------------------------------------------------------------- the gate


def _targets(atena_nos: Iterable[str]) -> list[str]:
    return sorted({str(a).strip() for a in atena_nos if a and str(a).strip()})


def purpose_key(purpose: str) -> str:
    """A purpose compared as text: width-folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", purpose or "")
    return " ".join(text.split())


def _protected_error() -> Finding:
    return error(
        "support.protected",
        "請求の対象者に支援措置（DV等支援措置）の対象者が含まれるため、この処理はできません。",
        remedy="支援措置担当者に連絡してください。支援措置担当者が審査のうえ、この請求に限って"
        "理由を記録して制限を解除したときは、その解除番号を指定して処理できます。",
    )


@dataclass(frozen=True)
class _LiftProblem:
    code: str
    message: str
    remedy: str


def _lift_problem(
    lift: SupportLift | None,
    lift_id: int,
    wanted: list[str],
    purpose: str,
    actor: Actor,
    now: dt.datetime,
) -> _LiftProblem | None:
    if lift is None:
        return _LiftProblem(
            "support.lift_unknown",
            f"解除番号 {lift_id} の個別解除はありません。",
            "支援措置担当者から伝えられた解除番号を確認してください。",
        )
    if lift.used_at is not None:
        return _LiftProblem(
            "support.lift_used",
            f"解除番号 {lift_id} はすでに使用されています（個別解除は1回の請求に限り有効です）。",
            "改めて支援措置担当者に解除を依頼してください。",
        )
    if lift.expires_at <= now:
        local = timezone.localtime(lift.expires_at)
        return _LiftProblem(
            "support.lift_expired",
            f"解除番号 {lift_id} の有効期限（{local:%H:%M}）が過ぎています。",
            "改めて支援措置担当者に解除を依頼してください。",
        )
    if sorted(lift.targets) != wanted or lift.purpose_key != purpose_key(purpose):
        return _LiftProblem(
            "support.lift_mismatch",
            f"解除番号 {lift_id} は別の請求（対象者または目的が異なるもの）のための解除です。",
            "解除を受けた請求と同じ対象者・目的で処理するか、この請求について改めて"
            "解除を依頼してください。",
        )
    if lift.for_staff_id is not None and (
        actor.staff is None or actor.staff.pk != lift.for_staff_id
    ):
        return _LiftProblem(
            "support.lift_other_staff",
            f"解除番号 {lift_id} は別の職員が使用するための解除です。",
            "解除を依頼した職員が処理してください。",
        )
    return None


def _log_refusal(actor: Actor, protected: Iterable[str], purpose: str, code: str) -> None:
    audit.record(
        actor,
        category=Category.EVENT,
        function=FUNCTION_GATE,
        targets=sorted(protected),
        outcome=Outcome.DENIED,
        detail={"purpose": purpose_key(purpose)[:200], "code": code},
    )


def _refuse(
    actor: Actor, protected: frozenset[str], purpose: str, findings: list[Finding], code: str
) -> FindingsError:
    _log_refusal(actor, protected, purpose, code)
    return FindingsError(findings)


def _lift_used_problem(lift_id: int) -> _LiftProblem:
    return _LiftProblem(
        "support.lift_used",
        f"解除番号 {lift_id} はすでに使用されています（個別解除は1回の請求に限り有効です）。",
        "改めて支援措置担当者に解除を依頼してください。",
    )


def _lift_findings(problem: _LiftProblem) -> list[Finding]:
    finding = error(problem.code, problem.message, field="lift_id", remedy=problem.remedy)
    return [_protected_error(), finding]


@dataclass(frozen=True)
class Clearance:
    """What :func:`check_access` answers when it lets a request through: these persons, for
    this member of staff and purpose. The caller hands it to the reads of the same request
    (``jumin.register.reads``: ``clearance=``) so that a release, used up by the gate, covers
    every read of that one request — and nothing else."""

    staff_id: int | None
    atena_nos: frozenset[str]
    purpose: str
    lift_id: int | None = None
    # checked but not used up yet (a preview): the action uses it with lift_used_with
    pending: bool = False

    def covers(self, actor: Actor, protected: Iterable[str]) -> bool:
        """True when ``actor`` is the one cleared and every protected person is cleared."""
        staff_id = actor.staff.pk if actor.staff is not None else None
        return staff_id == self.staff_id and set(protected) <= self.atena_nos


def check_access(
    actor: Actor,
    atena_nos: Iterable[str],
    *,
    purpose: str,
    lift_id: int | None = None,
    consume: bool = True,
) -> Clearance:
    """The hard gate (std 3.4, j440): refuse with ``support.protected`` when any of the persons
    is protected (applicant or covered, provisional, active or extended measure), unless
    ``lift_id`` names a valid, unused release for exactly this request — the same persons and
    purpose, not expired, for this member of staff if it names one. A valid release is used
    up here; with ``consume=False`` (a preview, a confirmation screen) it is only checked and
    the :class:`Clearance` is *pending*: the action that follows uses it up in its own
    transaction with :func:`lift_used_with`. Refusals (outcome "denied"), checks and the use
    are logged; the message never shows where the person lives. Returns the
    :class:`Clearance` of the request, for its reads."""
    wanted = _targets(atena_nos)
    protected = selectors.protected_among(wanted)
    staff_id = actor.staff.pk if actor.staff is not None else None
    cleared = Clearance(staff_id, frozenset(wanted), purpose_key(purpose))
    if not protected:
        return cleared
    if lift_id is None:
        raise _refuse(actor, protected, purpose, [_protected_error()], "support.protected")
    now = timezone.now()
    if not consume:
        lift = SupportLift.objects.filter(pk=lift_id).first()
        problem = _lift_problem(lift, lift_id, wanted, purpose, actor, now)
        if problem is None:
            assert lift is not None
            with transaction.atomic():
                audit.record(
                    actor,
                    category=Category.EVENT,
                    function=FUNCTION_GATE,
                    targets=sorted(protected),
                    detail={
                        "purpose": purpose_key(purpose)[:200],
                        "lift_id": lift.pk,
                        "lifted": True,
                        "used": False,
                    },
                )
            return dataclasses.replace(cleared, lift_id=lift.pk, pending=True)
        raise _refuse(actor, protected, purpose, _lift_findings(problem), problem.code)
    with transaction.atomic():
        problem = _use(actor, lift_id, wanted, purpose, protected, now)
        if problem is None:
            return dataclasses.replace(cleared, lift_id=lift_id)
    raise _refuse(actor, protected, purpose, _lift_findings(problem), problem.code)


def _use(
    actor: Actor,
    lift_id: int,
    wanted: list[str],
    purpose: str,
    protected: Iterable[str],
    now: dt.datetime,
) -> _LiftProblem | None:
    """Use up the release (inside the caller's transaction) and log the use; or the problem."""
    lift = SupportLift.objects.select_for_update().filter(pk=lift_id).first()
    problem = _lift_problem(lift, lift_id, wanted, purpose, actor, now)
    if problem is not None:
        return problem
    assert lift is not None
    used = SupportLift.objects.filter(pk=lift.pk, used_at__isnull=True).update(
        used_at=now, used_by=actor.staff
    )
    if used != 1:
        return _lift_used_problem(lift_id)
    audit.record(
        actor,
        category=Category.EVENT,
        function=FUNCTION_GATE,
        targets=sorted(protected),
        detail={"purpose": purpose_key(purpose)[:200], "lift_id": lift.pk, "lifted": True},
    )
    return None


class LiftRefused(FindingsError):
    """A pending release could not be used at the action (used by another request meanwhile,
    expired, or another member of staff): the action's transaction rolls back, and
    :func:`lift_used_with` logs the refusal after it."""

    def __init__(self, findings: list[Finding], *, protected: list[str], purpose: str, code: str):
        super().__init__(findings)
        self.protected = protected
        self.purpose = purpose
        self.code = code


def use_lift(actor: Actor, clearance: Clearance) -> Clearance:
    """Use up the release of a pending :class:`Clearance` (from ``check_access(...,
    consume=False)``) — inside the transaction of the action it permits; prefer
    :func:`lift_used_with`, which also logs a refusal. The release is checked again (unused,
    not expired, the same persons, purpose and member of staff) under a row lock. A clearance
    without a pending release is returned unchanged. Raises :class:`LiftRefused`."""
    if clearance.lift_id is None or not clearance.pending:
        return clearance
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("use_lift belongs inside the transaction of the action")
    wanted = sorted(clearance.atena_nos)
    protected = sorted(selectors.protected_among(wanted)) or wanted
    staff_id = actor.staff.pk if actor.staff is not None else None
    now = timezone.now()
    if staff_id != clearance.staff_id:
        problem: _LiftProblem | None = _LiftProblem(
            "support.lift_other_staff",
            f"解除番号 {clearance.lift_id} の確認は別の職員が行いました。",
            "確認を行った職員が処理してください。",
        )
    else:
        problem = _use(actor, clearance.lift_id, wanted, clearance.purpose, protected, now)
    if problem is not None:
        raise LiftRefused(
            _lift_findings(problem),
            protected=protected,
            purpose=clearance.purpose,
            code=problem.code,
        )
    return dataclasses.replace(clearance, pending=False)


@contextlib.contextmanager
def lift_used_with(actor: Actor, clearance: Clearance | None) -> Iterator[Clearance | None]:
    """One transaction for an action and the release it was checked against::

        with support.lift_used_with(actor, plan.clearance):
            ...  # the issue: its rows and its log entries

    The pending release is used up first (:func:`use_lift`) and is used only if the action
    commits; when it can no longer be used, nothing of the action is written, the refusal is
    logged (outcome "denied") and :class:`LiftRefused` is raised. Without a pending release
    this is just ``transaction.atomic()``."""
    try:
        with transaction.atomic():
            yield use_lift(actor, clearance) if clearance is not None else None
    except LiftRefused as exc:
        with transaction.atomic():
            _log_refusal(actor, exc.protected, exc.purpose, exc.code)
        raise


def create_lift(actor: Actor, data: LiftIn) -> SupportLift:
    """個別の解除 (std 3.4: 審査の結果…交付を行う場合には、エラーを解除できること): a
    support-measure officer releases the protection for one request — all its persons and its
    purpose — with the reason of the decision. Valid for ``JUMIN["SUPPORT_LIFT_MINUTES"]``
    minutes (default 30), used once. Needs ``SUPPORT_MEASURE_MANAGE`` (a separate lift
    permission is proposed)."""
    authorize(actor, Perm.SUPPORT_MEASURE_LIFT, FUNCTION_LIFT)
    officer = actor.staff
    if officer is None:
        raise FindingsError(
            [
                error(
                    "support.lift_officer_required",
                    "個別の解除は、支援措置担当者がログインして行います。",
                    remedy="画面または API から、担当者の職員としてログインして行ってください。",
                )
            ]
        )
    findings = Findings()
    targets = _targets(data.atena_nos)
    bad = [a for a in targets if not _ATENA.match(a)]
    if bad or not targets:
        findings.add(
            error(
                "support.lift_targets_invalid",
                "請求の対象者の宛名番号を数字で入力してください"
                + (f"（誤り：{'、'.join(bad)}）。" if bad else "。"),
                field="atena_nos",
                remedy="請求に含まれる全員の宛名番号を、空白または読点で区切って入力してください。",
            )
        )
    key = purpose_key(data.purpose)
    if not key:
        findings.add(
            error(
                "support.lift_purpose_required",
                "解除する請求の目的・処理を入力してください。",
                field="purpose",
                remedy="例：住民票の写しの交付（処理する請求と同じ文言）",
            )
        )
    if not data.reason.strip():
        findings.add(
            error(
                "support.lift_reason_required",
                "解除の理由（審査の結果）を入力してください。",
                field="reason",
            )
        )
    for_staff = None
    if data.for_staff_id:
        for_staff = Staff.objects.filter(staff_id=data.for_staff_id, is_active=True).first()
        if for_staff is None:
            findings.add(
                error(
                    "support.lift_staff_unknown",
                    f"職員ID {data.for_staff_id} の職員はいません。",
                    field="for_staff_id",
                    remedy="職員IDを確認するか、空欄にしてください（空欄なら誰でも使用できます）。",
                )
            )
    if not bad and targets and not selectors.protected_among(targets):
        findings.add(
            error(
                "support.lift_not_needed",
                "請求の対象者に支援措置の対象者はいません。解除は不要です。",
                field="atena_nos",
                remedy="宛名番号を確認してください。",
            )
        )
    if findings:
        raise FindingsError(findings)
    with transaction.atomic():
        lift = SupportLift.objects.create(
            targets=targets,
            targets_key=",".join(targets)[:1000],
            purpose=data.purpose.strip(),
            purpose_key=key,
            reason=data.reason.strip(),
            officer=officer,
            for_staff=for_staff,
            expires_at=timezone.now() + dt.timedelta(minutes=lift_minutes()),
        )
        audit.record(
            actor,
            category=Category.EVENT,
            function=FUNCTION_LIFT,
            targets=targets,
            detail={
                "lift_id": lift.pk,
                "purpose": key[:200],
                "expires_at": lift.expires_at.isoformat(),
                "for_staff": for_staff.staff_id if for_staff else "",
            },
        )
    return lift


def list_lifts(actor: Actor, limit: int = 30) -> list[SupportLift]:
    """The latest releases, newest first (with who gave and who used them). Logged."""
    authorize(actor, Perm.SUPPORT_MEASURE_READ, FUNCTION_LIFT_LIST)
    rows = selectors.recent_lifts(limit)
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=FUNCTION_LIFT_LIST,
            targets=sorted({a for lift in rows for a in lift.targets}),
            detail={"count": len(rows)},
        )
    return rows


def check_abuser(actor: Actor, name_kana: str, birth_date: dt.date | None) -> bool:
    """加害者の照合 for a request by a third party: whether the requester matches an abuser of
    a protecting measure (:func:`selectors.matches_abuser`). Logged without the reading."""
    authorize(actor, Perm.RESIDENT_READ, FUNCTION_ABUSER_CHECK)
    matched = selectors.matches_abuser(name_kana, birth_date)
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=FUNCTION_ABUSER_CHECK,
            detail={"matched": matched},
        )
    return matched


# --------------------------------------------------------------------------- the notice


def notice_pdf(actor: Actor, measure_id: int) -> bytes:
    """支援措置期間終了通知 (std 20.5.1, referred to by 3.4): a PDF for the applicant of an
    active or extended measure. Logged as a document issue with the print-log items of
    std 10.2 (title, pages, format, seal, 個人番号)."""
    from jumin.support import notice

    authorize(actor, Perm.SUPPORT_MEASURE_MANAGE, FUNCTION_NOTICE)
    measure = selectors.measure_detail(measure_id)
    if measure is None:
        raise _unknown_measure(measure_id)
    if measure.status not in (SupportStatus.ACTIVE, SupportStatus.EXTENDED):
        raise FindingsError(
            [
                error(
                    "support.notice_not_applicable",
                    f"支援措置 第{measure.pk}号は期間終了通知の対象ではありません"
                    f"（現在：{measure.get_status_display()}）。",
                    remedy="期間終了通知は、期間が設定された支援措置（開始後・延長後）について"
                    "出力できます。",
                )
            ]
        )
    rendered = notice.render_end_notice(measure, issued_on=today())
    with transaction.atomic():
        before = measure.status
        _event(
            actor,
            measure,
            SupportEvent.Action.NOTICE,
            before,
            end_on=measure.end_on,
            category=Category.DOCUMENT_ISSUE,
            function=FUNCTION_NOTICE,
            detail={
                "title": NOTICE_TITLE,
                "file_name": rendered.file_name,
                "pages": rendered.pages,
                "format": "file",
                "official_seal": False,
                "my_number_printed": False,
            },
        )
    return rendered.content


__all__ = [
    "Clearance",
    "LiftRefused",
    "Purpose",
    "alerts_for",
    "check_abuser",
    "check_access",
    "confirm",
    "create_lift",
    "extend",
    "lift_purposes",
    "lift_used_with",
    "list_lifts",
    "list_measures",
    "notice_pdf",
    "purpose_key",
    "read_measure",
    "register",
    "terminate",
    "use_lift",
]
