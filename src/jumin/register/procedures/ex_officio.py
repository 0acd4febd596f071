"""職権 (std 4.2, j750–j860): records entered, removed and amended by the city itself.

Procedures (one ``Input`` model, ``plan_*`` and ``submit_*`` each; see ``SPECS``):

* ``birth`` 出生 (4.2.1.2, j810) — from a 戸籍届出 (出生届) or the 本籍地's notice: the child joins
  an existing household and takes its address; change reason 出生.
* ``death`` 死亡 (4.2.2.1, j820) — change reason 死亡; the record is removed (除票).
* ``disappearance`` 失踪 (4.2.2.2, j830) — on the 本籍地's notice of a 失踪宣告 the record is
  removed with the change reason 職権消除 (j830: 「異動事由として、職権消除等を入力できること」;
  std 1.2.2 j210 has no 失踪 reason of its own), as of the day the person is deemed dead.
* ``ex_officio_entry`` 職権記載 (4.2.1.1, j800 住所設定・未届転入) — a person found living here
  without a notification, new or returning (再転入, the same 宛名番号).
* ``ex_officio_removal`` 職権消除 (4.2.2) — with the reason (職権記録書, j750) required.
* ``ex_officio_amendment`` 職権修正 (4.2.3.1, j840), ``minor_correction`` 軽微な修正
  (4.2.3.2, j850) and ``clerical_error_correction`` 誤記修正 (4.2.3.3, j860) — named items of
  one person's record, from a whitelist per procedure.

Basis and dates (j780, j790): every procedure records what it rests on (``basis``: 戸籍届出,
戸籍通知, 申出 or 職権調査, kept in the change's summary so that "done on request" is visible,
j790) and the 戸籍届出・通知日 or 申出日 in the change's ``notified_on`` — j780/j790 allow that
one data item for 届出日, 戸籍届出・通知日 and 申出日. It defaults to the processing day (j780,
j790: 「処理当日を初期表示」); a 職権調査 has no such date. The 14-day lateness alert of 届出
(std 4.0.3) does not apply: none of these is a 住基法 notification.

Uncertain dates (std 1.1.8, j80) are accepted for the birth date, the date of death and the
day a missing person is deemed dead. The sortable date (``UncertainDate.sort_key``, the
earliest day the text can mean) goes into ``birth_date`` / ``removed_on`` and the change's
``occurred_on``; the text is kept in ``birth_date_text`` for a birth, and for a death or a
失踪 (the model has no ``removed_on_text``) in the record's 備考 (``remarks``), where the 除票
can print it, and in the change's summary.

軽微な修正 (j850): the standard lists it among the 修正の事由 of std 1.2.2 (j210) and every 異動
keeps a full history row (std 1.2.1, j200); what the regulation makes "minor" is the kind of
correction (characters, 字 names, 地番, 住居表示, building names), not the bookkeeping. Here it
always appends a history row like every other change (DESIGN invariant 2); it is limited to
the 氏名 and 住所 items j850 names, and the clerk must pick the j850 ground.

A 職権記載 or 職権消除 done instead of a notification that was due gets the flag
``summary["notice_to_person"]`` for the 職権記載等通知書 (j750), printed elsewhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from pydantic import Field

from jumin.accounts.actor import Actor
from jumin.addresses.dictionary import load_dictionary
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, Findings, alert, error
from jumin.core.names import validate_name_kana
from jumin.core.relationships import HEAD, validate_relationship
from jumin.core.wareki import UncertainDate, format_wareki, parse_any_date, parse_date
from jumin.register import selectors
from jumin.register.models import Change, Resident, ResidentStatus, ResidentType
from jumin.register.procedures.common import (
    AddressInput,
    PersonInput,
    Strict,
    apply_person_input,
    current_member,
    display_name,
    head_leaves,
    head_name,
    resolve_address,
    start_record,
    today,
)
from jumin.register.records import blank_snapshot, snapshot, to_json
from jumin.register.services import (
    DraftPlan,
    PersonPlan,
    new_household_no,
    next_atena_no,
    submit_plan,
)
from jumin.register.validation import check_dates, check_duplicates, check_households, check_person

BIRTH = "birth"
DEATH = "death"
DISAPPEARANCE = "disappearance"
ENTRY = "ex_officio_entry"
REMOVAL = "ex_officio_removal"
AMENDMENT = "ex_officio_amendment"
MINOR = "minor_correction"
CLERICAL = "clerical_error_correction"

KosekiBasis = Literal["koseki_filing", "koseki_notice"]
OfficialBasis = Literal["investigation", "request"]
Basis = Literal["koseki_filing", "koseki_notice", "request", "investigation"]
BASIS_LABELS: dict[str, str] = {
    "koseki_filing": "戸籍届出",
    "koseki_notice": "戸籍通知（法第9条第2項）",
    "request": "申出",
    "investigation": "職権調査",
}
_KOSEKI = frozenset({"koseki_filing", "koseki_notice"})
_NOTIFIED_FIELD = "notified_on"

# --- inputs ----------------------------------------------------------------------------


class BirthInput(Strict):
    """出生: the child joins ``household_no`` (usually the mother's household)."""

    basis: KosekiBasis = "koseki_filing"
    notified_on: dt.date | None = Field(None, description="戸籍届出・通知日（省略時は処理日）")
    household_no: str = Field(..., min_length=1, max_length=10)
    relationship: str = Field("子", min_length=1, max_length=40)
    resident_type: Literal["japanese", "foreign"] = "japanese"
    family_name: str = Field("", max_length=100)
    given_name: str = Field("", max_length=100)
    name_alphabet: str = Field("", max_length=200)
    name_kana: str = Field("", max_length=200)
    name_kana_confirmed: bool = False
    birth_date: str = Field(..., min_length=1, max_length=64, description="和暦・西暦・不詳日")
    sex: Literal["1", "2"]
    honseki: str = Field("", max_length=200)
    koseki_head: str = Field("", max_length=100)
    koseki_from_atena_no: str | None = Field(
        None, max_length=10, description="本籍・筆頭者を引用する世帯員の宛名番号（std 4.2.0.3）"
    )
    nationality: str = Field("", max_length=100, description="外国人住民の国籍・地域")


class DeathInput(Strict):
    basis: KosekiBasis = "koseki_filing"
    notified_on: dt.date | None = Field(None, description="戸籍届出・通知日（省略時は処理日）")
    atena_no: str = Field(..., min_length=1, max_length=10)
    death_date: str = Field(..., min_length=1, max_length=64, description="死亡日（不詳日可）")


class DisappearanceInput(Strict):
    basis: KosekiBasis = "koseki_notice"
    notified_on: dt.date | None = Field(None, description="戸籍通知日（省略時は処理日）")
    atena_no: str = Field(..., min_length=1, max_length=10)
    deemed_dead_on: str = Field(
        ..., min_length=1, max_length=64, description="死亡とみなされる日（不詳日可）"
    )
    judgment_final_on: dt.date = Field(..., description="失踪宣告の裁判確定日")


class ExOfficioEntryInput(Strict):
    """職権記載 (住所設定・未届転入, j800)."""

    basis: OfficialBasis = "investigation"
    notified_on: dt.date | None = Field(None, description="申出日（申出の場合。省略時は処理日）")
    occurred_on: dt.date = Field(..., description="住所を定めた年月日")
    reason: str = Field(..., min_length=1, max_length=500, description="職権記載の理由")
    address: AddressInput
    household_no: str | None = Field(None, description="既存世帯に入る場合の世帯番号")
    previous_address_status: Literal["known", "unknown", "none", "unnotified"] = "known"
    previous_address: str = Field("", max_length=290)
    previous_address_code: str = Field("", max_length=11)
    last_registered_address: str = Field("", max_length=300, description="最終登録住所地")
    persons: list[PersonInput] = Field(..., min_length=1, max_length=30)


class ExOfficioRemovalInput(Strict):
    basis: OfficialBasis = "investigation"
    notified_on: dt.date | None = Field(None, description="申出日（申出の場合。省略時は処理日）")
    occurred_on: dt.date = Field(..., description="消除の事由が生じた年月日")
    reason: str = Field(..., min_length=1, max_length=500, description="職権消除の理由")
    atena_nos: list[str] = Field(..., min_length=1, max_length=30)


class AmendmentInput(Strict):
    """職権修正: ``changes`` maps an item name to its new value."""

    basis: Basis = "koseki_notice"
    notified_on: dt.date | None = Field(None, description="戸籍届出・通知日／申出日")
    occurred_on: dt.date | None = Field(None, description="修正の事由が生じた日（省略時は処理日）")
    atena_no: str = Field(..., min_length=1, max_length=10)
    changes: dict[str, str | bool] = Field(..., min_length=1, max_length=30)
    reason: str = Field("", max_length=500)
    household_follow: bool = Field(
        True, description="世帯共通の項目（世帯主の氏名・住所・方書）を同一世帯員にも反映する"
    )


MinorGround = Literal[
    "common_characters",
    "character_identification",
    "administrative_division",
    "lot_number",
    "residence_indication",
    "building_name",
    "ministerial",
]


class MinorCorrectionInput(AmendmentInput):
    basis: Basis = "investigation"
    ground: MinorGround = Field(..., description="軽微な修正の事由（j850）")


class ClericalErrorCorrectionInput(AmendmentInput):
    basis: Basis = "investigation"
    reason: str = Field(..., min_length=1, max_length=500, description="誤記の内容")


# --- shared helpers ----------------------------------------------------------------------


def _wareki(day: dt.date) -> str:
    try:
        return format_wareki(day)
    except CoreError:
        return day.isoformat()


def _notice_date(basis: str, notified_on: dt.date | None, findings: Findings) -> dt.date | None:
    """j780/j790: the 戸籍届出・通知日 or 申出日, the processing day when not given."""
    if basis == "investigation":
        if notified_on is not None:
            findings.add(
                error(
                    "notified_on.not_applicable",
                    "職権調査による処理には申出日・通知日はありません。",
                    field=_NOTIFIED_FIELD,
                    remedy="申出を受けた場合は根拠（basis）を「申出」にしてください。"
                    "そうでなければ日付を空欄にしてください。",
                )
            )
        return None
    return notified_on or today()


def _parse_event(text: str, field: str, findings: Findings) -> UncertainDate | None:
    """A date that may be uncertain (std 1.1.8, j80)."""
    try:
        return parse_any_date(text)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field=field))
        return None


def _event_dates(
    event: UncertainDate, field: str, label: str, notified: dt.date | None, findings: Findings
) -> None:
    """The event (birth, death, deemed death) not after today; the notice not before it."""
    now = today()
    if event.sort_key > now:
        findings.add(
            error(
                f"{field}.future",
                f"{label}（{event.display(western=False)}）が処理日より後です。",
                field=field,
                remedy=f"戸籍の記載どおりの{label}を入力してください。",
            )
        )
    if notified is None:
        return
    if notified > now:
        findings.add(
            error(
                "notified_on.future",
                "戸籍届出・通知日が処理日より後です。",
                field=_NOTIFIED_FIELD,
                remedy="戸籍届出・通知日を処理日以前の日付にしてください。",
            )
        )
    elif notified < event.sort_key <= now:  # a future event is reported above
        findings.add(
            error(
                "notified_on.before_occurred",
                f"戸籍届出・通知日（{_wareki(notified)}）が{label}（{event.display(western=False)}）より前です。",
                field=_NOTIFIED_FIELD,
                remedy=f"{label}と戸籍届出・通知日を確認してください。",
            )
        )


def _occurred_dates(
    occurred: dt.date, notified: dt.date | None, findings: Findings, *, ordered: bool
) -> None:
    """std 4.0.3 (j480) dates for 職権記載・消除・修正: no lateness alert (no 届出 is due);
    the notice-before-event rule only where the notice follows the event."""
    for finding in check_dates(occurred, notified, today=today(), late_alert=False):
        if finding.code == "notified_on.before_occurred" and (not ordered or occurred > today()):
            continue  # not an ordered pair, or a future date already reported
        findings.add(finding)


def _append_remark(record: dict[str, Any], text: str) -> None:
    existing = record.get("remarks") or ""
    record["remarks"] = f"{existing}\n{text}" if existing else text


def _normalised_relationship(text: str) -> str:
    try:
        return validate_relationship(text).text
    except CoreError:
        return text  # check_person reports it


def _household_findings(
    records: list[dict[str, Any]], planned: set[str], findings: Findings
) -> None:
    """Two heads (error) and a household left without a head (alert), std 1.1.10 / 4.0.4.
    ``head_leaves`` already asks for a 世帯主変更, so its alert replaces check_households'."""
    households = {r["household_no"] for r in records if r.get("household_no")}
    untouched = [
        m
        for hh in sorted(households)
        for m in selectors.household_members(hh)
        if m.atena_no not in planned
    ]
    already = {f.code for f in findings}
    for finding in check_households(records, untouched=untouched):
        if finding.code == "household.no_head" and "household.head_leaves" in already:
            continue
        findings.add(finding)


def _death_before_address(
    resident: Resident, event: UncertainDate, label: str, findings: Findings
) -> None:
    _, last = event.period()
    if last < resident.birth_date:
        findings.add(
            error(
                "occurred_on.before_birth",
                f"{label}（{event.display(western=False)}）が生年月日（{_wareki(resident.birth_date)}）より前です。",
                field="occurred_on",
                remedy=f"{label}と生年月日を戸籍で確認してください。",
            )
        )
    elif resident.address_set_on is not None and last < resident.address_set_on:
        findings.add(
            alert(
                "occurred_on.before_address_set",
                f"{label}（{event.display(western=False)}）が住所を定めた年月日"
                f"（{_wareki(resident.address_set_on)}）より前です。",
                field="occurred_on",
                remedy="住民票の記載（転入日等）に誤りがないか確認してください。",
            )
        )


def _remove(resident: Resident, reason: ChangeReason, on: dt.date) -> dict[str, Any]:
    """消除: the record keeps its household and address as of removal (除票)."""
    record = snapshot(resident)
    record.update(
        {
            "status": ResidentStatus.REMOVED.value,
            "removal_reason": reason.value,
            "removed_on": on,
        }
    )
    return record


def _basis_summary(basis: str) -> dict[str, Any]:
    return {"basis": basis, "basis_label": BASIS_LABELS[basis]}


P = TypeVar("P")


def _submit(
    plan_fn: Callable[[Actor, P], DraftPlan],
    actor: Actor,
    data: P,
    acknowledged: Sequence[str],
    idempotency_key: str | None,
) -> Change:
    return submit_plan(
        plan_fn, actor, data, acknowledged=acknowledged, idempotency_key=idempotency_key
    )


def _refused(
    procedure: str,
    reason: ChangeReason,
    occurred: dt.date | None,
    notified: dt.date | None,
    findings: Findings,
) -> DraftPlan:
    return DraftPlan(procedure, reason, occurred or today(), notified, [], findings)


# --- 出生 (4.2.1.2, j810) -------------------------------------------------------------


def plan_birth(actor: Actor, data: BirthInput) -> DraftPlan:
    """出生: the child's address is the household's; became_resident_on = the birth date."""
    findings = Findings()
    notified = _notice_date(data.basis, data.notified_on, findings)
    members = selectors.household_members(data.household_no)
    if not members:
        findings.add(
            error(
                "household.unknown",
                f"世帯番号 {data.household_no} の世帯（住民のいる世帯）はありません。",
                field="household_no",
                remedy="出生子が入る世帯（通常は母の世帯）の世帯番号を入力してください。",
            )
        )
    born = _parse_event(data.birth_date, "birth_date", findings)
    foreign = data.resident_type == "foreign"
    honseki, koseki_head = data.honseki, data.koseki_head
    if data.koseki_from_atena_no:
        source = next((m for m in members if m.atena_no == data.koseki_from_atena_no), None)
        if source is None:
            findings.add(
                error(
                    "birth.koseki_source_unknown",
                    f"宛名番号 {data.koseki_from_atena_no} はこの世帯の世帯員ではありません。",
                    field="koseki_from_atena_no",
                    remedy="本籍・筆頭者を引用する世帯員（父または母）を選んでください。",
                )
            )
        elif honseki or koseki_head:
            findings.add(
                error(
                    "birth.koseki_twice",
                    "本籍・筆頭者の入力と世帯員からの引用が同時に指定されています。",
                    field="koseki_from_atena_no",
                    remedy="どちらか一方にしてください。",
                )
            )
        else:
            honseki, koseki_head = source.honseki, source.koseki_head
    if foreign:
        if honseki or koseki_head:
            findings.add(
                error(
                    "honseki.foreign",
                    "外国人住民には本籍・筆頭者を記載しません。",
                    field="honseki",
                    remedy="本籍・筆頭者を空欄にしてください。",
                )
            )
        if not data.nationality:
            findings.add(
                error(
                    "nationality.empty",
                    "外国人住民の出生では国籍・地域を入力してください。",
                    field="nationality",
                )
            )
    elif not honseki or not koseki_head:
        findings.add(
            alert(
                "birth.koseki_empty",
                "出生子の本籍・筆頭者が入力されていません。",
                field="honseki",
                remedy="戸籍届出・通知のとおり入力するか、父または母から引用してください。",
            )
        )
    if findings.has_errors or born is None:
        return _refused(BIRTH, ChangeReason.BIRTH, None, notified, findings)

    record = blank_snapshot()
    record.update(
        {
            "resident_type": data.resident_type,
            "status": ResidentStatus.RESIDENT.value,
            "household_no": data.household_no,
            "relationship": _normalised_relationship(data.relationship),
            "family_name": data.family_name,
            "given_name": data.given_name,
            "name_alphabet": data.name_alphabet,
            "name_kana": data.name_kana,
            "name_kana_confirmed": data.name_kana_confirmed,
            "birth_date": born.sort_key,
            "birth_date_text": "" if born.is_exact else born.to_storage(),
            "sex": data.sex,
            "honseki": honseki,
            "koseki_head": koseki_head,
            "nationality": data.nationality,
            # std 4.2.1.1 (j800): no previous address for a birth — left blank
            "previous_address": "",
            "address_set_on": born.sort_key,
            "notified_on": notified,
        }
    )
    if foreign:
        record["foreign_category"] = "transitional"  # 出生による経過滞在者 (法第30条の45)
        record["became_foreign_resident_on"] = born.sort_key
    else:
        record["became_resident_on"] = born.sort_key
    home = next((m for m in members if m.relationship == HEAD), members[0])
    for name in ("address_code", "postal_code", "address", "katagaki"):
        record[name] = getattr(home, name)
    findings.extend(check_person(record, today=today()))
    _event_dates(born, "birth_date", "生年月日", notified, findings)
    _dedupe_future(findings)
    if findings.has_errors:
        return _refused(BIRTH, ChangeReason.BIRTH, born.sort_key, notified, findings)

    atena = next_atena_no()
    record["atena_no"] = atena
    record["head_name"] = head_name([record], data.household_no, members)
    _household_findings([record], {atena}, findings)
    findings.extend(check_duplicates([record]))
    summary = _basis_summary(data.basis) | {
        "household_no": data.household_no,
        "birth_date_text": born.display(western=foreign),
    }
    return DraftPlan(
        procedure=BIRTH,
        change_reason=ChangeReason.BIRTH,
        occurred_on=born.sort_key,
        notified_on=notified,
        persons=[PersonPlan(atena_no=atena, base_history_no=None, after=to_json(record))],
        findings=findings,
        summary=summary,
    )


def _dedupe_future(findings: Findings) -> None:
    """check_person and the event check both report a future birth date: keep one."""
    seen: set[tuple[str, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        key = (finding.code, finding.field)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    findings.items[:] = kept


def submit_birth(
    actor: Actor,
    data: BirthInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 出生 as a draft."""
    return _submit(plan_birth, actor, data, acknowledged, idempotency_key)


# --- 死亡 (4.2.2.1, j820) and 失踪 (4.2.2.2, j830) ----------------------------------------


def _plan_removal_event(
    procedure: str,
    reason: ChangeReason,
    atena_no: str,
    event: UncertainDate | None,
    label: str,
    notified: dt.date | None,
    findings: Findings,
    *,
    remark: Callable[[UncertainDate], str | None],
    summary: dict[str, Any],
) -> DraftPlan:
    resident = current_member(atena_no, findings, "atena_no")
    if resident is None or event is None or findings.has_errors:
        return _refused(procedure, reason, event.sort_key if event else None, notified, findings)
    _death_before_address(resident, event, label, findings)
    if findings.has_errors:
        return _refused(procedure, reason, event.sort_key, notified, findings)
    record = _remove(resident, reason, event.sort_key)
    text = remark(event)
    if text:
        _append_remark(record, text)
    persons = [PersonPlan(resident.atena_no, resident.history_no, record)]
    records = [record]
    for other, other_record in head_leaves(resident.household_no, {resident.atena_no}, findings):
        persons.append(PersonPlan(other.atena_no, other.history_no, other_record))
        records.append(other_record)
    _household_findings(records, {p.atena_no for p in persons}, findings)
    for p in persons:
        p.after = to_json(p.after)
    summary = summary | {
        "occurred_on_text": event.display(western=False),
        "occurred_on_exact": event.is_exact,
    }
    if not event.is_exact:
        summary["occurred_on_storage"] = event.to_storage()
    if len(persons) > 1:
        summary["new_head"] = persons[1].atena_no
    return DraftPlan(
        procedure=procedure,
        change_reason=reason,
        occurred_on=event.sort_key,
        notified_on=notified,
        persons=persons,
        findings=findings,
        summary=summary,
    )


def plan_death(actor: Actor, data: DeathInput) -> DraftPlan:
    """死亡: removed as of the date of death; a head dying is std 4.0.4 (head_leaves)."""
    findings = Findings()
    notified = _notice_date(data.basis, data.notified_on, findings)
    died = _parse_event(data.death_date, "death_date", findings)
    if died is not None:
        _event_dates(died, "death_date", "死亡日", notified, findings)

    def remark(event: UncertainDate) -> str | None:
        return None if event.is_exact else f"死亡日：{event.display(western=False)}"

    return _plan_removal_event(
        DEATH,
        ChangeReason.DEATH,
        data.atena_no,
        died,
        "死亡日",
        notified,
        findings,
        remark=remark,
        summary=_basis_summary(data.basis),
    )


def submit_death(
    actor: Actor,
    data: DeathInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 死亡 as a draft."""
    return _submit(plan_death, actor, data, acknowledged, idempotency_key)


def plan_disappearance(actor: Actor, data: DisappearanceInput) -> DraftPlan:
    """失踪宣告: removed (職権消除) as of the day the person is deemed dead (民法第31条)."""
    findings = Findings()
    notified = _notice_date(data.basis, data.notified_on, findings)
    deemed = _parse_event(data.deemed_dead_on, "deemed_dead_on", findings)
    judgment = data.judgment_final_on
    if judgment > today():
        findings.add(
            error(
                "judgment_final_on.future",
                "失踪宣告の裁判確定日が処理日より後です。",
                field="judgment_final_on",
            )
        )
    if deemed is not None:
        _event_dates(deemed, "deemed_dead_on", "死亡とみなされる日", None, findings)
        if judgment < deemed.sort_key:
            findings.add(
                error(
                    "judgment_final_on.before_deemed",
                    f"失踪宣告の裁判確定日（{_wareki(judgment)}）が死亡とみなされる日"
                    f"（{deemed.display(western=False)}）より前です。",
                    field="judgment_final_on",
                    remedy="戸籍通知の記載を確認してください。",
                )
            )
    if notified is not None and notified < judgment <= today():
        findings.add(
            error(
                "notified_on.before_judgment",
                f"戸籍通知日（{_wareki(notified)}）が失踪宣告の裁判確定日より前です。",
                field=_NOTIFIED_FIELD,
                remedy="戸籍通知日と裁判確定日を確認してください。",
            )
        )
    elif notified is not None and notified > today():
        findings.add(
            error(
                "notified_on.future",
                "戸籍通知日が処理日より後です。",
                field=_NOTIFIED_FIELD,
            )
        )

    def remark(event: UncertainDate) -> str:
        deemed_text = event.display(western=False)
        return f"失踪宣告（{_wareki(judgment)}裁判確定）により死亡とみなされる日：{deemed_text}"

    return _plan_removal_event(
        DISAPPEARANCE,
        ChangeReason.EX_OFFICIO_REMOVAL,
        data.atena_no,
        deemed,
        "死亡とみなされる日",
        notified,
        findings,
        remark=remark,
        summary=_basis_summary(data.basis)
        | {"kind": "disappearance", "judgment_final_on": judgment.isoformat()},
    )


def submit_disappearance(
    actor: Actor,
    data: DisappearanceInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 失踪 (失踪宣告) as a draft."""
    return _submit(plan_disappearance, actor, data, acknowledged, idempotency_key)


# --- 職権記載 (4.2.1.1, j800) -----------------------------------------------------------


def _previous_address(data: ExOfficioEntryInput, findings: Findings) -> tuple[str, str | None]:
    """The 転入前住所 of j800 and, for 未届転入, the 留意事項 text."""
    status, text = data.previous_address_status, data.previous_address
    if status in {"known", "unnotified"} and not text:
        findings.add(
            error(
                "previous_address.empty",
                "転入前住所を入力してください。",
                field="previous_address",
                remedy="不明なときは「不明」、前住所がないときは「なし」を選んでください。",
            )
        )
    if status in {"unknown", "none"} and text:
        findings.add(
            error(
                "previous_address.not_applicable",
                "転入前住所が「不明」または「なし」のときは住所を入力できません。",
                field="previous_address",
                remedy="住所が分かっている場合は「既知」を選んでください。",
            )
        )
    if status == "unknown":
        return "不明", None
    if status == "none":
        return "", None
    if status == "unnotified":
        return f"{text}（未届）", f"未届転入　転入前住所（未届）：{text}"
    return text, None


def plan_ex_officio_entry(actor: Actor, data: ExOfficioEntryInput) -> DraftPlan:
    """職権記載: new persons, or former residents returning under their 宛名番号."""
    findings = Findings()
    reason_text = data.reason.strip()
    notified = _notice_date(data.basis, data.notified_on, findings)
    _occurred_dates(data.occurred_on, notified, findings, ordered=True)
    address = resolve_address(data.address, findings, "address.")
    previous, remark = _previous_address(data, findings)
    existing_members: list[Resident] = []
    if data.household_no:
        existing_members = selectors.household_members(data.household_no)
        if not existing_members:
            findings.add(
                error(
                    "household.unknown",
                    f"世帯番号 {data.household_no} の世帯（住民のいる世帯）はありません。",
                    field="household_no",
                )
            )
    records: list[dict[str, Any]] = []
    persons: list[PersonPlan] = []
    hashes: dict[int, str] = {}
    new_people: list[int] = []
    now = today()
    for i, person in enumerate(data.persons):
        prefix = f"persons.{i}."
        record, base, resident = start_record(person.atena_no, findings, prefix)
        if resident is not None and resident.status == ResidentStatus.RESIDENT:
            findings.add(
                error(
                    "ex_officio_entry.already_resident",
                    f"宛名番号 {resident.atena_no} は現在も住民です。職権記載はできません。",
                    field=f"{prefix}atena_no",
                    remedy="記載の修正には職権修正を使ってください。",
                )
            )
        apply_person_input(record, person, findings, prefix)
        record["relationship"] = _normalised_relationship(person.relationship)
        record.update(address)
        record.update(
            {
                "status": ResidentStatus.RESIDENT.value,
                "address_set_on": data.occurred_on,
                "notified_on": None,  # no 届出: nothing to record in 届出の年月日
                "previous_address": previous,
                "previous_address_code": data.previous_address_code,
                "removal_reason": "",
                "removed_on": None,
                "moved_out_planned_address": "",
                "moved_out_planned_on": None,
                "moved_out_address": "",
                "moved_out_on": None,
                "move_in_notice_on": None,
            }
        )
        if remark:
            _append_remark(record, remark)
        if person.resident_type == "foreign":
            record["became_foreign_resident_on"] = (
                record.get("became_foreign_resident_on") or data.occurred_on
            )
        else:
            record["became_resident_on"] = data.occurred_on
        if person.my_number:
            digest = _protect(person.my_number, record, findings, prefix)
            if digest:
                hashes[i] = digest
        for finding in check_person(record, today=now, prefix=prefix):
            if not (finding.code == "address_code.unknown" and not address):
                findings.add(finding)  # an unknown address code is reported once, above
        records.append(record)
        persons.append(PersonPlan(person.atena_no or "", base, record))
        if resident is None:
            new_people.append(i)
    if findings.has_errors:
        return _refused(ENTRY, ChangeReason.EX_OFFICIO_ENTRY, data.occurred_on, notified, findings)

    new_households: list[str] = []
    household_no = data.household_no
    if not household_no:
        household_no = new_household_no()
        new_households.append(household_no)
    for i in new_people:
        persons[i].atena_no = next_atena_no()
    for p, record in zip(persons, records, strict=True):
        record["atena_no"] = p.atena_no
        record["household_no"] = household_no
    head = head_name(records, household_no, existing_members)
    for record in records:
        record["head_name"] = head
    _household_findings(records, {p.atena_no for p in persons}, findings)
    findings.extend(
        check_duplicates(
            [records[i] for i in new_people],
            my_number_hashes={persons[i].atena_no: h for i, h in hashes.items()},
        )
    )
    if data.previous_address_status == "unnotified":
        findings.add(
            alert(
                "ex_officio_entry.unnotified",
                "未届転入として職権で記載します。",
                field="previous_address_status",
                remedy="職権記載等通知書の送付と、届出の催告・簡易裁判所への通知の要否を"
                "確認してください。",
            )
        )
    for p in persons:
        p.after = to_json(p.after)
    summary = _basis_summary(data.basis) | {
        "reason": reason_text,
        "household_no": household_no,
        "previous_address_status": data.previous_address_status,
        "last_registered_address": data.last_registered_address,
        "notice_to_person": True,
        "returning": [p.atena_no for i, p in enumerate(persons) if i not in new_people],
    }
    return DraftPlan(
        procedure=ENTRY,
        change_reason=ChangeReason.EX_OFFICIO_ENTRY,
        occurred_on=data.occurred_on,
        notified_on=notified,
        persons=persons,
        findings=findings,
        summary=summary,
        new_households=new_households,
    )


def _protect(number: str, record: dict[str, Any], findings: Findings, prefix: str) -> str | None:
    """The 個人番号 is stored encrypted and compared through its keyed hash only."""
    from jumin.register.crypto import my_number_lookup_hash, protect_my_number

    try:
        row = protect_my_number(number)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field=f"{prefix}my_number"))
        return None
    record["my_number_id"] = row.pk
    return my_number_lookup_hash(number)


def submit_ex_officio_entry(
    actor: Actor,
    data: ExOfficioEntryInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 職権記載 as a draft."""
    return _submit(plan_ex_officio_entry, actor, data, acknowledged, idempotency_key)


# --- 職権消除 (4.2.2) -------------------------------------------------------------------


def plan_ex_officio_removal(actor: Actor, data: ExOfficioRemovalInput) -> DraftPlan:
    """職権消除 of one or more persons, with the reason for the 職権記録書 (j750)."""
    findings = Findings()
    reason_text = data.reason.strip()
    if not reason_text:
        findings.add(error("reason.empty", "職権消除の理由を入力してください。", field="reason"))
    notified = _notice_date(data.basis, data.notified_on, findings)
    _occurred_dates(data.occurred_on, notified, findings, ordered=True)
    seen: set[str] = set()
    residents: list[Resident] = []
    for i, atena in enumerate(data.atena_nos):
        field = f"atena_nos.{i}"
        if atena in seen:
            findings.add(
                error(
                    "atena_no.repeated",
                    f"宛名番号 {atena} が重複しています。",
                    field=field,
                    remedy="同じ方は1回だけ指定してください。",
                )
            )
            continue
        seen.add(atena)
        resident = current_member(atena, findings, field)
        if resident is not None:
            residents.append(resident)
    if findings.has_errors:
        return _refused(
            REMOVAL, ChangeReason.EX_OFFICIO_REMOVAL, data.occurred_on, notified, findings
        )
    persons = [
        PersonPlan(
            r.atena_no, r.history_no, _remove(r, ChangeReason.EX_OFFICIO_REMOVAL, data.occurred_on)
        )
        for r in residents
    ]
    records = [p.after for p in persons]
    leaving = {r.atena_no for r in residents}
    for household_no in sorted({r.household_no for r in residents}):
        for other, other_record in head_leaves(household_no, leaving, findings):
            persons.append(PersonPlan(other.atena_no, other.history_no, other_record))
            records.append(other_record)
    _household_findings(records, {p.atena_no for p in persons}, findings)
    for p in persons:
        p.after = to_json(p.after)
    summary = _basis_summary(data.basis) | {
        "reason": reason_text,
        "removed": sorted(leaving),
        "notice_to_person": True,
    }
    return DraftPlan(
        procedure=REMOVAL,
        change_reason=ChangeReason.EX_OFFICIO_REMOVAL,
        occurred_on=data.occurred_on,
        notified_on=notified,
        persons=persons,
        findings=findings,
        summary=summary,
    )


def submit_ex_officio_removal(
    actor: Actor,
    data: ExOfficioRemovalInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 職権消除 as a draft."""
    return _submit(plan_ex_officio_removal, actor, data, acknowledged, idempotency_key)


# --- 職権修正・軽微な修正・誤記修正 (4.2.3) -------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Item:
    """A correctable item: its Japanese label, how its value is read, and its length."""

    label: str
    kind: Literal[
        "text", "kana", "flag", "birth", "sex", "koseki", "relationship", "date", "address"
    ]
    max_length: int = 0
    only: Literal["", "japanese", "foreign", "removed"] = ""


ITEMS: dict[str, Item] = {
    "family_name": Item("氏", "text", 100),
    "given_name": Item("名", "text", 100),
    "name_alphabet": Item("氏名（アルファベット）", "text", 200),
    "name_kana": Item("氏名フリガナ", "kana", 200),
    "name_kana_confirmed": Item("フリガナ確認フラグ", "flag"),
    "birth_date": Item("生年月日", "birth", 64),
    "sex": Item("性別", "sex"),
    "honseki": Item("本籍", "koseki", 200, "japanese"),
    "koseki_head": Item("筆頭者", "koseki", 100, "japanese"),
    "relationship": Item("続柄", "relationship", 40),
    "address_code": Item("住所コード", "address", 11),
    "banchi": Item("番地・号", "address", 100),
    "katagaki": Item("方書", "address", 200),
    "former_family_name": Item("旧氏", "text", 100),
    "former_family_name_kana": Item("旧氏フリガナ", "kana", 100),
    "alias": Item("通称", "text", 200, "foreign"),
    "alias_kana": Item("通称フリガナ", "kana", 200, "foreign"),
    "became_resident_on": Item("住民となった年月日", "date", 0, "japanese"),
    "became_foreign_resident_on": Item("外国人住民となった年月日", "date", 0, "foreign"),
    "address_set_on": Item("住所を定めた年月日", "date"),
    "notified_on": Item("届出の年月日", "date"),
    "previous_address": Item("転入前住所", "text", 300),
    "removed_on": Item("消除の事由が生じた年月日", "date", 0, "removed"),
}
NAME_ITEMS = frozenset({"family_name", "given_name", "name_alphabet"})
ADDRESS_ITEMS = frozenset({"address_code", "banchi", "katagaki"})
AMENDMENT_ITEMS = (
    NAME_ITEMS
    | ADDRESS_ITEMS
    | {
        "name_kana",
        "name_kana_confirmed",
        "birth_date",
        "sex",
        "honseki",
        "koseki_head",
        "relationship",
    }
)
"""職権修正 (j840). 旧氏・通称 have their own change reasons (std 1.2.2), 住民票コード and
個人番号 their own procedures (std 4.3, 4.4), 在留 items std 4.5.6."""
CLERICAL_ITEMS = frozenset(ITEMS)
"""誤記修正 (j860): any item that was entered wrongly, including dates and 除票 items."""
MINOR_GROUNDS: dict[str, tuple[str, frozenset[str]]] = {
    "common_characters": ("常用平易な文字への変更", NAME_ITEMS | ADDRESS_ITEMS),
    "character_identification": ("文字の同定", NAME_ITEMS | ADDRESS_ITEMS),
    "administrative_division": (
        "行政区画・郡・区・町字又はその名称の変更",
        frozenset({"address_code", "banchi"}),
    ),
    "lot_number": ("地番の変更", frozenset({"banchi"})),
    "residence_indication": ("住居表示の実施又は変更", frozenset({"address_code", "banchi"})),
    "building_name": ("建築物の名称又は建物の賃貸人の変更", frozenset({"katagaki"})),
    "ministerial": ("その他総務大臣が適当と認めるもの", NAME_ITEMS | ADDRESS_ITEMS),
}
"""軽微な修正 (j850): only 氏名 or 住所, each ground limited to what it can change."""

_SEX_LABELS = {"1": "男", "2": "女"}


def _item_error(code: str, item: str, message: str, remedy: str = "") -> Finding:
    return error(code, message, field=f"changes.{item}", remedy=remedy)


def _read_value(
    item: str, spec: Item, value: str | bool, findings: Findings
) -> dict[str, Any] | None:
    """The stored items an input value sets, or None (with a finding) when it is unusable."""
    label = spec.label
    if spec.kind == "flag":
        if not isinstance(value, bool):
            findings.add(
                _item_error("amendment.type", item, f"{label}は true か false で指定してください。")
            )
            return None
        return {item: value}
    if isinstance(value, bool):
        findings.add(_item_error("amendment.type", item, f"{label}は文字列で指定してください。"))
        return None
    if spec.max_length and len(value) > spec.max_length:
        findings.add(
            _item_error(
                "amendment.too_long",
                item,
                f"{label}が長すぎます（{len(value)}文字、上限{spec.max_length}文字）。",
            )
        )
        return None
    try:
        if spec.kind == "kana":
            if not value and item != "name_kana":
                return {item: ""}
            return {item: validate_name_kana(value, field=item)}
        if spec.kind == "birth":
            born = parse_any_date(value)
            return {
                "birth_date": born.sort_key,
                "birth_date_text": "" if born.is_exact else born.to_storage(),
            }
        if spec.kind == "date":
            day = parse_date(value)
            if day > today():
                findings.add(
                    _item_error("amendment.future_date", item, f"{label}が処理日より後です。")
                )
                return None
            return {item: day}
        if spec.kind == "relationship":
            return {item: validate_relationship(value).text}
    except CoreError as exc:
        findings.add(_item_error(exc.code, item, exc.message))
        return None
    if spec.kind == "sex" and value not in _SEX_LABELS:
        findings.add(
            _item_error("sex.invalid", item, "性別は 1（男）か 2（女）で指定してください。")
        )
        return None
    return {item: value}


def _address_values(
    changes: dict[str, str | bool], record: dict[str, Any], findings: Findings
) -> dict[str, Any] | None:
    """住所コード・番地・方書 together: the address is the dictionary's text plus the 番地."""
    dictionary = load_dictionary()
    current = dictionary.by_code(record.get("address_code") or "")
    banchi = changes.get("banchi")
    if banchi is None:
        address = record.get("address") or ""
        if current is None or not address.startswith(current.address):
            findings.add(
                _item_error(
                    "amendment.banchi_required",
                    "address_code",
                    "現在の住所から番地・号を切り出せません。",
                    remedy="番地・号（banchi）も指定してください。",
                )
            )
            return None
        banchi = address[len(current.address) :]
    code = changes.get("address_code", record.get("address_code") or "")
    katagaki = changes.get("katagaki", record.get("katagaki") or "")
    for name, value in (("address_code", code), ("banchi", banchi), ("katagaki", katagaki)):
        if not isinstance(value, str):
            findings.add(
                _item_error(
                    "amendment.type", name, f"{ITEMS[name].label}は文字列で指定してください。"
                )
            )
            return None
    assert isinstance(code, str) and isinstance(banchi, str) and isinstance(katagaki, str)
    try:
        data = AddressInput(address_code=code, banchi=banchi, katagaki=katagaki)
    except ValueError:
        findings.add(
            _item_error(
                "address_code.invalid",
                "address_code",
                f"住所コード「{code}」は11桁で、番地・方書は長さの上限以内で指定してください。",
            )
        )
        return None
    resolved = resolve_address(data, findings, "changes.")
    return resolved or None


def _plan_amendment(
    procedure: str, reason: ChangeReason, data: AmendmentInput, allowed: frozenset[str]
) -> DraftPlan:
    findings = Findings()
    notified = _notice_date(data.basis, data.notified_on, findings)
    occurred = data.occurred_on or today()
    ordered = procedure == AMENDMENT and data.basis in _KOSEKI
    _occurred_dates(occurred, notified, findings, ordered=ordered)
    clerical = procedure == CLERICAL
    resident: Resident | None
    if clerical:
        _, _, resident = start_record(data.atena_no, findings, "")
    else:
        resident = current_member(data.atena_no, findings, "atena_no")
    unknown = [item for item in data.changes if item not in allowed]
    remedy = "修正できる項目: " + "、".join(f"{k}（{ITEMS[k].label}）" for k in sorted(allowed))
    for item in unknown:
        if item in ITEMS:
            findings.add(
                _item_error(
                    "amendment.item_not_allowed",
                    item,
                    f"{ITEMS[item].label}（{item}）は{reason.label}では修正できません。",
                    remedy=remedy,
                )
            )
        else:
            findings.add(
                _item_error(
                    "amendment.item_unknown",
                    item,
                    f"修正項目「{item}」はありません。",
                    remedy=remedy,
                )
            )
    if resident is None or unknown:
        return _refused(procedure, reason, occurred, notified, findings)

    before = snapshot(resident)
    after = dict(before)
    removed = resident.status == ResidentStatus.REMOVED
    foreign = resident.resident_type == ResidentType.FOREIGN
    changed_fields: set[str] = set()
    items: dict[str, dict[str, Any]] = {}
    for item, value in data.changes.items():
        spec = ITEMS[item]
        if (spec.only == "japanese" and foreign) or (spec.only == "foreign" and not foreign):
            who = "日本人住民" if spec.only == "japanese" else "外国人住民"
            findings.add(
                _item_error(
                    "amendment.not_applicable",
                    item,
                    f"{spec.label}は{who}の項目です。この方の記録にはありません。",
                )
            )
            continue
        if spec.only == "removed" and not removed:
            findings.add(
                _item_error(
                    "amendment.not_applicable",
                    item,
                    f"{spec.label}は消除された記録（除票）にだけある項目です。",
                )
            )
            continue
        if spec.kind == "address":
            continue  # read together below
        values = _read_value(item, spec, value, findings)
        if values is None:
            continue
        if item == "relationship" and HEAD in {before.get("relationship"), values[item]}:
            findings.add(
                _item_error(
                    "amendment.head_relationship",
                    item,
                    "世帯主の続柄は修正できません。",
                    remedy="世帯主の変更は世帯主変更の手続で行ってください。",
                )
            )
            continue
        json_values = to_json(values)
        confirms = item == "name_kana_confirmed" and "name_kana" in data.changes
        if not confirms and all(before.get(k) == v for k, v in json_values.items()):
            findings.add(_no_change(item, spec, value))
            continue
        after.update(json_values)
        changed_fields.update(values)
        items[item] = {"before": _shown(before, item), "after": value}
    address_items = [i for i in data.changes if ITEMS[i].kind == "address"]
    if address_items:
        resolved = _address_values(data.changes, before, findings)
        if resolved is not None:
            same = _unchanged_address_items(address_items, before, resolved, data.changes)
            for item in same:
                findings.add(_no_change(item, ITEMS[item], data.changes[item]))
            if not same:
                after.update(resolved)
                changed_fields.update(k for k, v in resolved.items() if before.get(k) != v)
                for item in address_items:
                    items[item] = {"before": _shown(before, item), "after": data.changes[item]}
    if (
        "name_kana" in changed_fields
        and "name_kana_confirmed" not in data.changes
        and before.get("name_kana_confirmed")
    ):
        after["name_kana_confirmed"] = False
        changed_fields.add("name_kana_confirmed")
        findings.add(
            alert(
                "name_kana_confirmed.reset",
                "フリガナを修正するため、フリガナ確認フラグを「未確認」にします。",
                field="changes.name_kana_confirmed",
                remedy="本人に確認済みであれば name_kana_confirmed も指定してください。",
            )
        )
    if changed_fields:
        fields = {f"changes.{f}" for f in changed_fields} | {f"changes.{i}" for i in data.changes}
        for finding in check_person(after, today=today(), prefix="changes."):
            if finding.field in fields:
                findings.add(finding)
    if findings.has_errors:
        return _refused(procedure, reason, occurred, notified, findings)

    persons = [PersonPlan(resident.atena_no, resident.history_no, after)]
    followers = _follow(resident, before, after, changed_fields, data.household_follow, findings)
    persons.extend(followers)
    summary = _basis_summary(data.basis) | {
        "atena_no": resident.atena_no,
        "items": items,
        "reason": data.reason.strip(),
        "followers": [p.atena_no for p in followers],
    }
    if isinstance(data, MinorCorrectionInput):
        summary |= {"ground": data.ground, "ground_label": MINOR_GROUNDS[data.ground][0]}
    return DraftPlan(
        procedure=procedure,
        change_reason=reason,
        occurred_on=occurred,
        notified_on=notified,
        persons=[PersonPlan(p.atena_no, p.base_history_no, to_json(p.after)) for p in persons],
        findings=findings,
        summary=summary,
    )


def _unchanged_address_items(
    address_items: list[str],
    before: dict[str, Any],
    resolved: dict[str, Any],
    changes: dict[str, str | bool],
) -> list[str]:
    """The address items whose new value is what is recorded (a changed 住所コード whose
    dictionary text changed, std 4.2.3.2 町字の名称の変更, is a change)."""
    same_address = resolved["address"] == before.get("address")
    out = []
    for item in address_items:
        if item == "katagaki":
            unchanged = resolved["katagaki"] == (before.get("katagaki") or "")
        elif item == "address_code":
            unchanged = resolved["address_code"] == before.get("address_code") and same_address
        else:  # banchi
            entry = load_dictionary().by_code(before.get("address_code") or "")
            old = before.get("address") or ""
            current = old[len(entry.address) :] if entry and old.startswith(entry.address) else None
            unchanged = changes["banchi"] == current
        if unchanged:
            out.append(item)
    return out


def _no_change(item: str, spec: Item, value: str | bool) -> Finding:
    return _item_error(
        "amendment.no_change",
        item,
        f"{spec.label}の修正後の値「{value}」は現在の記載と同じです。",
        remedy="修正しない項目は指定しないでください。",
    )


def _shown(record: dict[str, Any], item: str) -> Any:
    if item == "banchi":
        return record.get("address")
    if item == "birth_date" and record.get("birth_date_text"):
        return str(UncertainDate.from_storage(record["birth_date_text"]))
    return record.get(item)


def _follow(
    resident: Resident,
    before: dict[str, Any],
    after: dict[str, Any],
    changed: set[str],
    follow: bool,
    findings: Findings,
) -> list[PersonPlan]:
    """j840: a head's new name becomes every member's 世帯主の氏名; the address, a household
    item (std 1.2.1: 「世帯ごとに共通のデータも個人ごとに保持する」), follows likewise."""
    if resident.status != ResidentStatus.RESIDENT:
        return []
    members = [
        m
        for m in selectors.household_members(resident.household_no)
        if m.atena_no != resident.atena_no
    ]
    is_head = before.get("relationship") == HEAD
    renamed = is_head and bool(changed & NAME_ITEMS)
    address_fields = {"address_code", "postal_code", "address", "katagaki"} & changed
    if renamed:
        after["head_name"] = display_name(after)
    if not members or not (renamed or address_fields):
        return []
    if not follow:
        if renamed:
            findings.add(
                alert(
                    "amendment.head_name_not_followed",
                    "世帯主の氏名を修正しますが、世帯員の「世帯主の氏名」は修正しません。",
                    field="household_follow",
                    remedy="世帯員の記載も修正する場合は household_follow を指定してください。",
                )
            )
        if address_fields:
            findings.add(
                alert(
                    "amendment.household_address_differs",
                    f"住所を修正しますが、同じ世帯の{len(members)}人の住所は修正しません。",
                    field="household_follow",
                    remedy="世帯員の住所も同じであれば household_follow を指定してください。",
                )
            )
        return []
    out: list[PersonPlan] = []
    for member in members:
        record = snapshot(member)
        if renamed:
            record["head_name"] = after["head_name"]
        for name in address_fields:
            record[name] = after[name]
        if record != snapshot(member):
            out.append(PersonPlan(member.atena_no, member.history_no, record))
    return out


def plan_ex_officio_amendment(actor: Actor, data: AmendmentInput) -> DraftPlan:
    """職権修正 (j840)."""
    return _plan_amendment(AMENDMENT, ChangeReason.EX_OFFICIO_AMENDMENT, data, AMENDMENT_ITEMS)


def plan_minor_correction(actor: Actor, data: MinorCorrectionInput) -> DraftPlan:
    """軽微な修正 (j850): only the items the chosen ground may change."""
    return _plan_amendment(
        MINOR, ChangeReason.MINOR_CORRECTION, data, MINOR_GROUNDS[data.ground][1]
    )


def plan_clerical_error_correction(actor: Actor, data: ClericalErrorCorrectionInput) -> DraftPlan:
    """誤記修正 (j860): appends a row; the erroneous row stays in the history."""
    return _plan_amendment(CLERICAL, ChangeReason.CLERICAL_ERROR_CORRECTION, data, CLERICAL_ITEMS)


def submit_ex_officio_amendment(
    actor: Actor,
    data: AmendmentInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 職権修正 as a draft."""
    return _submit(plan_ex_officio_amendment, actor, data, acknowledged, idempotency_key)


def submit_minor_correction(
    actor: Actor,
    data: MinorCorrectionInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 軽微な修正 as a draft."""
    return _submit(plan_minor_correction, actor, data, acknowledged, idempotency_key)


def submit_clerical_error_correction(
    actor: Actor,
    data: ClericalErrorCorrectionInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 誤記修正 as a draft."""
    return _submit(plan_clerical_error_correction, actor, data, acknowledged, idempotency_key)


from jumin.register.procedures.registry import ProcedureSpec  # noqa: E402

SPECS = [
    ProcedureSpec(BIRTH, "出生", "4.2.1.2", BirthInput, submit_birth),
    ProcedureSpec(DEATH, "死亡", "4.2.2.1", DeathInput, submit_death),
    ProcedureSpec(DISAPPEARANCE, "失踪", "4.2.2.2", DisappearanceInput, submit_disappearance),
    ProcedureSpec(ENTRY, "職権記載", "4.2.1.1", ExOfficioEntryInput, submit_ex_officio_entry),
    ProcedureSpec(REMOVAL, "職権消除", "4.2.2", ExOfficioRemovalInput, submit_ex_officio_removal),
    ProcedureSpec(AMENDMENT, "職権修正", "4.2.3.1", AmendmentInput, submit_ex_officio_amendment),
    ProcedureSpec(MINOR, "軽微な修正", "4.2.3.2", MinorCorrectionInput, submit_minor_correction),
    ProcedureSpec(
        CLERICAL,
        "誤記修正",
        "4.2.3.3",
        ClericalErrorCorrectionInput,
        submit_clerical_error_correction,
    ),
]
