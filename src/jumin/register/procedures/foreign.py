"""外国人住民 (std 4.5: j910 法第30条の46転入, j920 法第30条の47届出, j930 帰化, j940 国籍取得,
j950 国籍喪失, j960 出入国在留管理庁長官通知に基づく修正及び消除, j970 市町村通知; items of
std 1.1.2 j20; 通称 of std 1.1.7 j70).

Two records for one person (帰化・国籍取得・国籍喪失)
----------------------------------------------------
The standard removes the old record (外国人住民票 / 日本人住民票) and enters a new one of the
other kind, carrying over address, katagaki, birth date, sex, relationship, dates, 住民票コード,
個人番号 and previous address — and the 宛名番号 (j930–j950). In this model a 除票 is a
``Resident`` row with status "removed" and one 宛名番号 has exactly one current row, so the
removed record and the new one cannot share a 宛名番号: the new record gets a **new** 宛名番号
and everything else is carried over. The link is kept in the change's
``summary["successors"] = {old: new}``. Both persons are written by one change (one review);
the model's single ``change_reason`` is the entry reason, and ``summary["person_reasons"]``
gives each person's own reason (removal / entry / amendment of the head's name).

Messages
--------
A 市町村通知 to 出入国在留管理庁 (法第30条の50; std 4.5.7 j970) is queued through the outbox
(topic ``immigration_notice``, destination ``isa``) for 法第30条の46/47 entries (basis
"住基法・入管法" for 中長期在留者 and 特別永住者, whose notification doubles as the 住居地届出,
"住基法" otherwise) and for the removals and entries of 帰化・国籍取得・国籍喪失. Changes made on
the agency's own notice (std 4.5.6) send nothing back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from django.conf import settings
from pydantic import Field

from jumin.accounts.actor import Actor
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Findings, alert, error
from jumin.core.identifiers import validate_local_government_code, validate_residence_card_no
from jumin.core.names import validate_name, validate_name_kana
from jumin.register import selectors
from jumin.register.models import ForeignCategory, Resident, ResidentStatus, ResidentType
from jumin.register.procedures.common import (
    AddressInput,
    Strict,
    current_member,
    display_name,
    head_leaves,
    head_name,
    parse_birth,
    resolve_address,
    start_record,
    today,
)
from jumin.register.procedures.identity import (
    assign_code,
    core_check,
    make_submit,
    one_person_plan,
    request_dates,
    target,
)
from jumin.register.procedures.registry import ProcedureSpec
from jumin.register.records import snapshot, to_json
from jumin.register.services import (
    DraftPlan,
    Message,
    PersonPlan,
    new_household_no,
    next_atena_no,
)
from jumin.register.validation import check_dates, check_duplicates, check_households, check_person

ISA_TOPIC = "immigration_notice"
ISA_DESTINATION = "isa"

CATEGORY_LABELS = dict(ForeignCategory.choices)
ENTRY_CATEGORIES = (
    ForeignCategory.MID_LONG_TERM,
    ForeignCategory.SPECIAL_PERMANENT,
    ForeignCategory.TEMPORARY_REFUGE,
    ForeignCategory.PROVISIONAL_STAY,
)
ALL_CATEGORIES = (*ENTRY_CATEGORIES, ForeignCategory.TRANSITIONAL)
FOREIGN_ITEMS = (
    "nationality",
    "foreign_category",
    "residence_status",
    "period_of_stay",
    "stay_expires_on",
    "residence_card_no",
)
_STAY_ITEMS = ("residence_status", "period_of_stay", "stay_expires_on")

# 法第30条の45の表: the items each category carries (required) and never carries.
_REQUIRED: dict[str, tuple[str, ...]] = {
    ForeignCategory.MID_LONG_TERM: _STAY_ITEMS,
    ForeignCategory.SPECIAL_PERMANENT: ("residence_card_no",),
    ForeignCategory.TEMPORARY_REFUGE: ("period_of_stay",),
    ForeignCategory.PROVISIONAL_STAY: ("period_of_stay",),
    ForeignCategory.TRANSITIONAL: (),
}
_NOT_APPLICABLE: dict[str, tuple[str, ...]] = {
    ForeignCategory.MID_LONG_TERM: (),
    ForeignCategory.SPECIAL_PERMANENT: _STAY_ITEMS,
    ForeignCategory.TEMPORARY_REFUGE: ("residence_status", "residence_card_no"),
    ForeignCategory.PROVISIONAL_STAY: ("residence_status", "residence_card_no"),
    ForeignCategory.TRANSITIONAL: (*_STAY_ITEMS, "residence_card_no"),
}


def _item_label(item: str, category: str) -> str:
    if item == "period_of_stay":
        periods: dict[str, str] = {
            ForeignCategory.TEMPORARY_REFUGE: "上陸期間",
            ForeignCategory.PROVISIONAL_STAY: "仮滞在期間",
        }
        return periods.get(category, "在留期間")
    if item == "residence_card_no":
        if category == ForeignCategory.SPECIAL_PERMANENT:
            return "特別永住者証明書の番号"
        return "在留カードの番号"
    return {
        "nationality": "国籍・地域",
        "foreign_category": "法第30条の45の区分",
        "residence_status": "在留資格",
        "stay_expires_on": "在留期間の満了の日",
    }[item]


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value)
    return None


def check_foreign_items(
    record: dict[str, Any],
    findings: Findings,
    *,
    prefix: str = "",
    on: dt.date,
    allowed: Sequence[str] = ENTRY_CATEGORIES,
    check_expiry: bool = True,
) -> None:
    """The items of 法第30条の45 for the record's category (std 1.1.2, j20). Normalises the
    card number in place. Expiry dates are Western-calendar dates (j20 ※)."""
    p = prefix
    if not record.get("nationality"):
        findings.add(
            error(
                "nationality.empty",
                "国籍・地域を入力してください。",
                field=f"{p}nationality",
                remedy="在留カード等で国籍・地域を確認して入力してください。",
            )
        )
    category = str(record.get("foreign_category") or "")
    if category not in allowed:
        names = "・".join(CATEGORY_LABELS[c] for c in allowed)
        findings.add(
            error(
                "foreign_category.invalid",
                f"法第30条の45の区分「{CATEGORY_LABELS.get(category, category) or '（空欄）'}」は"
                f"この手続では使えません。{names}のいずれかを選んでください。",
                field=f"{p}foreign_category",
                remedy="在留カード等で区分を確認してください。",
            )
        )
        return
    cat_label = CATEGORY_LABELS[category]
    for item in _REQUIRED[category]:
        if not record.get(item):
            findings.add(
                error(
                    f"{item}.empty",
                    f"{cat_label}の{_item_label(item, category)}を入力してください。",
                    field=f"{p}{item}",
                    remedy="在留カード等で確認して入力してください。",
                )
            )
    for item in _NOT_APPLICABLE[category]:
        if record.get(item):
            findings.add(
                error(
                    "foreign.item_not_applicable",
                    f"{cat_label}の住民票には{_item_label(item, category)}を記載しません。",
                    field=f"{p}{item}",
                    remedy=f"{_item_label(item, category)}を空欄にするか、区分を確認してください。",
                )
            )
    card = record.get("residence_card_no") or ""
    if card:
        try:
            record["residence_card_no"] = validate_residence_card_no(card)
        except CoreError as exc:
            findings.add(error(exc.code, exc.message, field=f"{p}residence_card_no"))
    elif category == ForeignCategory.MID_LONG_TERM:
        findings.add(
            alert(
                "residence_card_no.later_issue",
                "在留カードの番号が空欄です（在留カード後日交付の場合）。",
                field=f"{p}residence_card_no",
                remedy="旅券の上陸許可証印で「在留カード後日交付」を確認し、交付後に職権修正してください。",
            )
        )
    expires = _as_date(record.get("stay_expires_on"))
    if check_expiry and expires is not None and expires < on:
        findings.add(
            error(
                "stay_expires_on.past",
                f"在留期間の満了の日（{expires:%Y-%m-%d}）が異動日（{on:%Y-%m-%d}）より前です。",
                field=f"{p}stay_expires_on",
                remedy="在留カード等で在留期間の満了の日（西暦）を確認してください。",
            )
        )


def check_card_duplicates(records: Iterable[dict[str, Any]], findings: Findings) -> None:
    """A 在留カード等の番号 belongs to one person: an error if a current resident has it, an
    alert if a removed record has it (the same person returning?)."""
    for rec in records:
        card = rec.get("residence_card_no")
        if not card:
            continue
        others = Resident.objects.exclude(atena_no=rec["atena_no"]).filter(residence_card_no=card)
        current = others.filter(status=ResidentStatus.RESIDENT).order_by("atena_no").first()
        if current is not None:
            findings.add(
                error(
                    "duplicate.residence_card_no",
                    f"在留カード等の番号 {card} は宛名番号 {current.atena_no}（住民）に"
                    "記載済みです。",
                    field="residence_card_no",
                    remedy="番号を在留カード等と照合してください。",
                )
            )
            continue
        removed = others.order_by("atena_no").first()
        if removed is not None:
            findings.add(
                alert(
                    "duplicate.residence_card_no_removed",
                    f"在留カード等の番号 {card} は消除済みの宛名番号 {removed.atena_no} に"
                    "記載されています。",
                    field="residence_card_no",
                    remedy="同一人であれば、その宛名番号を指定して再転入として入力してください。",
                )
            )


def _isa_notice(record: dict[str, Any], event: str, occurred_on: dt.date) -> Message:
    """市町村通知 to 出入国在留管理庁 (法第30条の50; std 4.5.7, j970)."""
    both = event in {"move_in_30_46", "notification_30_47"} and record.get("foreign_category") in {
        ForeignCategory.MID_LONG_TERM,
        ForeignCategory.SPECIAL_PERMANENT,
    }
    return Message(
        topic=ISA_TOPIC,
        destination=ISA_DESTINATION,
        ordering_key=record["atena_no"],
        payload={
            "atena_no": record["atena_no"],
            "event": event,
            "basis": "jumin_and_immigration" if both else "jumin",
            "occurred_on": occurred_on.isoformat(),
            "nationality": record.get("nationality") or "",
            "foreign_category": record.get("foreign_category") or "",
            "residence_card_no": record.get("residence_card_no") or "",
            "address": record.get("address") or "",
            "status": record.get("status"),
        },
    )


def _settle_households(
    records: list[dict[str, Any]], excluded: set[str], findings: Findings
) -> list[tuple[Resident, dict[str, Any]]]:
    """Set head_name on the change's current records; return the untouched members whose
    head_name follows (the head's name changed), and check each household's head."""
    followers: list[tuple[Resident, dict[str, Any]]] = []
    by_household: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        if rec.get("status") == ResidentStatus.RESIDENT:
            by_household[rec["household_no"]].append(rec)
    for household_no, recs in sorted(by_household.items()):
        untouched = [
            m for m in selectors.household_members(household_no) if m.atena_no not in excluded
        ]
        head = head_name(recs, household_no, untouched)
        for rec in recs:
            rec["head_name"] = head
        for member in untouched:
            if member.head_name != head:
                rec = snapshot(member)
                rec["head_name"] = head
                followers.append((member, rec))
        findings.extend(check_households(recs, untouched=untouched))
    return followers


def _check_optional_name(findings: Findings, prefix: str, record: dict[str, Any]) -> None:
    """A foreign resident's kanji name is optional (氏名（漢字）); validate it when given."""
    for item in ("family_name", "given_name"):
        if record.get(item):
            core_check(findings, f"{prefix}{item}", validate_name, record[item])


# --------------------------------------------------------------------------- 30-46 / 30-47


class ForeignPersonInput(Strict):
    """A foreign resident as entered from the 在留カード等 (std 1.1.2, j20)."""

    atena_no: str | None = Field(None, description="再転入: 消除済みの宛名番号")
    family_name: str = Field("", max_length=100, description="氏名（漢字）の氏")
    given_name: str = Field("", max_length=100, description="氏名（漢字）の名")
    name_alphabet: str = Field("", max_length=200, description="氏名（アルファベット）")
    name_kana: str = Field("", max_length=200)
    name_kana_confirmed: bool = False
    birth_date: str = Field(..., max_length=64, description="生年月日（西暦）")
    sex: Literal["1", "2"]
    relationship: str = Field(..., max_length=40)
    nationality: str = Field("", max_length=100)
    foreign_category: str = Field("", max_length=20, description="法第30条の45の区分")
    residence_status: str = Field("", max_length=100)
    period_of_stay: str = Field("", max_length=50)
    stay_expires_on: dt.date | None = Field(None, description="在留期間の満了の日（西暦）")
    residence_card_no: str = Field("", max_length=20, description="在留カード等の番号")
    keep_alias: bool = Field(True, description="国外転出前に記載していた通称を引き継ぐ (std 1.1.7)")


class ForeignMoveInInput(Strict):
    """法第30条の46の届出 (std 4.5.1, j910): a 中長期在留者等 sets up an address coming from
    abroad. The previous address may be blank."""

    occurred_on: dt.date = Field(..., description="住所を定めた日")
    notified_on: dt.date
    address: AddressInput
    previous_address: str = Field("", max_length=300, description="転入前住所（国外。空欄可）")
    previous_address_code: str = Field("", max_length=11)
    household_no: str | None = Field(None, description="既存世帯に入る場合の世帯番号")
    persons: list[ForeignPersonInput] = Field(..., min_length=1, max_length=30)


class Foreign3047Input(ForeignMoveInInput):
    """法第30条の47の届出 (std 4.5.2, j920): a person with an address here (not on the register)
    becomes a 中長期在留者等. ``occurred_on`` is the day they became one."""

    occurred_on: dt.date = Field(..., description="中長期在留者等となった日")
    address_set_on: dt.date = Field(..., description="住所を定めた日")


def _apply_foreign_person(
    record: dict[str, Any], person: ForeignPersonInput, findings: Findings, prefix: str
) -> None:
    for name in (
        "family_name",
        "given_name",
        "name_alphabet",
        "name_kana",
        "name_kana_confirmed",
        "sex",
        "relationship",
        "nationality",
        "foreign_category",
        "residence_status",
        "period_of_stay",
        "residence_card_no",
    ):
        record[name] = getattr(person, name)
    record["resident_type"] = ResidentType.FOREIGN.value
    record["stay_expires_on"] = person.stay_expires_on
    birth, birth_text = parse_birth(person.birth_date, f"{prefix}birth_date", findings)
    record["birth_date"] = birth
    record["birth_date_text"] = birth_text
    # items a foreign resident's record does not carry (std 1.1.2, j20)
    record.update(
        {
            "honseki": "",
            "koseki_head": "",
            "former_family_name": "",
            "former_family_name_kana": "",
            "became_resident_on": None,
            "elector": False,
        }
    )


def _keep_or_clear_alias(
    record: dict[str, Any], resident: Resident | None, person: ForeignPersonInput
) -> bool:
    """std 1.1.7 (j70): the first move-in from abroad after a move-out abroad from this city
    carries over the 通称 recorded then; otherwise there is no 通称."""
    keep = (
        resident is not None
        and resident.removal_reason == ChangeReason.MOVE_OUT_ABROAD
        and bool(resident.alias)
        and person.keep_alias
    )
    if not keep:
        record.update(
            {"alias": "", "alias_kana": "", "alias_entered_on": None, "alias_removed_on": None}
        )
    return keep


def _plan_foreign_entry(
    procedure: str,
    event: str,
    data: ForeignMoveInInput,
    address_set_on: dt.date,
) -> DraftPlan:
    reason = ChangeReason.MOVE_IN_FROM_ABROAD
    findings = Findings()
    now = today()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=now))
    if address_set_on > data.occurred_on:
        findings.add(
            error(
                "address_set_on.after_occurred",
                f"住所を定めた日（{address_set_on:%Y-%m-%d}）が中長期在留者等となった日より後です。",
                field="address_set_on",
                remedy="法第30条の47の届出は、住所を有する者が中長期在留者等となった場合です。"
                "住所を定めたのが後であれば法第30条の46の転入として入力してください。",
            )
        )
    address = resolve_address(data.address, findings, "address.")
    existing: list[Resident] = []
    household_no = data.household_no
    if household_no:
        existing = selectors.household_members(household_no)
        if not existing:
            findings.add(
                error(
                    "household.unknown",
                    f"世帯番号 {household_no} の世帯（住民のいる世帯）はありません。",
                    field="household_no",
                )
            )
    records: list[dict[str, Any]] = []
    persons: list[PersonPlan] = []
    new_people: list[int] = []
    kept_alias: list[int] = []
    for i, person in enumerate(data.persons):
        prefix = f"persons.{i}."
        record, base, resident = start_record(person.atena_no, findings, prefix)
        if resident is not None and resident.status == ResidentStatus.RESIDENT:
            findings.add(
                error(
                    "move_in.already_resident",
                    f"宛名番号 {resident.atena_no} は現在も住民です。",
                    field=f"{prefix}atena_no",
                    remedy="在留資格等の変更は出入国在留管理庁長官通知に基づく修正で処理してください。",
                )
            )
        _apply_foreign_person(record, person, findings, prefix)
        if _keep_or_clear_alias(record, resident, person):
            kept_alias.append(i)
        record.update(address)
        record.update(
            {
                "status": ResidentStatus.RESIDENT.value,
                "address_set_on": address_set_on,
                "became_foreign_resident_on": data.occurred_on,
                "notified_on": data.notified_on,
                "previous_address": data.previous_address,
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
        findings.extend(check_person(record, today=now, prefix=prefix))
        _check_optional_name(findings, prefix, record)
        check_foreign_items(record, findings, prefix=prefix, on=data.occurred_on)
        records.append(record)
        persons.append(PersonPlan(person.atena_no or "", base, record))
        if resident is None:
            new_people.append(i)
    if findings.has_errors:
        return DraftPlan(procedure, reason, data.occurred_on, data.notified_on, [], findings)

    new_households: list[str] = []
    if not household_no:
        household_no = new_household_no()
        new_households.append(household_no)
    for idx in new_people:
        persons[idx].atena_no = next_atena_no()
    for p, record in zip(persons, records, strict=True):
        record["atena_no"] = p.atena_no
        record["household_no"] = household_no
    head = head_name(records, household_no, existing)
    for record in records:
        record["head_name"] = head
    findings.extend(check_households(records, untouched=existing))
    findings.extend(check_duplicates([records[i] for i in new_people]))
    check_card_duplicates(records, findings)
    # std 4.3.1 (j870): a person without a 住民票コード gets one from the pool
    for i, record in enumerate(records):
        if not record.get("juminhyo_code"):
            code = assign_code(
                record["atena_no"],
                findings,
                field=f"persons.{i}.juminhyo_code",
                required=False,
            )
            record["juminhyo_code"] = code or ""
    for p in persons:
        p.after = to_json(p.after)
    return DraftPlan(
        procedure=procedure,
        change_reason=reason,
        occurred_on=data.occurred_on,
        notified_on=data.notified_on,
        persons=persons,
        findings=findings,
        summary={
            "kind": event,
            "household_no": household_no,
            "alias_carried_over": [persons[i].atena_no for i in kept_alias],
        },
        messages=[_isa_notice(r, event, data.occurred_on) for r in records],
        new_households=new_households,
    )


def plan_foreign_move_in_30_46(actor: Actor, data: ForeignMoveInInput) -> DraftPlan:
    return _plan_foreign_entry("foreign_move_in_30_46", "move_in_30_46", data, data.occurred_on)


def plan_foreign_30_47(actor: Actor, data: Foreign3047Input) -> DraftPlan:
    return _plan_foreign_entry("foreign_30_47", "notification_30_47", data, data.address_set_on)


# --------------------------------------------------------------------------- 帰化・国籍取得


class NaturalisedPersonInput(Strict):
    """One foreign resident who becomes Japanese; the name and 本籍 come from the 戸籍."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="外国人住民の宛名番号")
    family_name: str = Field("", max_length=100)
    given_name: str = Field("", max_length=100)
    name_kana: str = Field("", max_length=200, description="氏名の振り仮名")
    name_kana_confirmed: bool = False
    honseki: str = Field("", max_length=200)
    koseki_head: str = Field("", max_length=100)
    relationship: str | None = Field(None, max_length=40, description="続柄を改める場合のみ")


class NaturalisationInput(Strict):
    """帰化 (std 4.5.3, j930) / 国籍取得 (std 4.5.4, j940), entered ex officio from the 戸籍
    届出・通知 (std 4.2.0.4, j780)."""

    occurred_on: dt.date = Field(..., description="帰化の告示日・国籍取得の日")
    notified_on: dt.date | None = Field(None, description="戸籍届出・通知日（省略時は処理日）")
    persons: list[NaturalisedPersonInput] = Field(..., min_length=1, max_length=30)


def _duplicate_atena(atena_nos: list[str], findings: Findings) -> None:
    seen: set[str] = set()
    for i, atena in enumerate(atena_nos):
        if atena in seen:
            findings.add(
                error(
                    "persons.duplicate",
                    f"宛名番号 {atena} が2回入力されています。",
                    field=f"persons.{i}.atena_no",
                )
            )
        seen.add(atena)


def _two_record_plan(
    procedure: str,
    kind: str,
    reasons: tuple[ChangeReason, ChangeReason],
    occurred_on: dt.date,
    notified_on: dt.date,
    pairs: list[tuple[Resident, dict[str, Any], dict[str, Any]]],
    findings: Findings,
) -> DraftPlan:
    """Remove each old record and enter its successor under a new 宛名番号 (module doc)."""
    removal, entry = reasons
    if findings.has_errors:
        return DraftPlan(procedure, entry, occurred_on, notified_on, [], findings)
    successors: dict[str, str] = {}
    person_reasons: dict[str, str] = {}
    new_records: list[dict[str, Any]] = []
    for resident, _removed, new in pairs:
        new["atena_no"] = next_atena_no()
        successors[resident.atena_no] = new["atena_no"]
        person_reasons[resident.atena_no] = removal.value
        person_reasons[new["atena_no"]] = entry.value
        new_records.append(new)
    followers = _settle_households(new_records, set(successors), findings)
    persons: list[PersonPlan] = []
    messages: list[Message] = []
    foreign_after = entry is ChangeReason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS
    amendment = ChangeReason.EX_OFFICIO_AMENDMENT
    for resident, removed, new in pairs:
        persons.append(
            PersonPlan(resident.atena_no, resident.history_no, to_json(removed), reason=removal)
        )
        persons.append(PersonPlan(new["atena_no"], None, to_json(new), reason=entry))
        messages.append(_isa_notice(new if foreign_after else removed, kind, occurred_on))
    for member, rec in followers:
        persons.append(
            PersonPlan(member.atena_no, member.history_no, to_json(rec), reason=amendment)
        )
        person_reasons[member.atena_no] = amendment.value
    return DraftPlan(
        procedure=procedure,
        change_reason=entry,
        occurred_on=occurred_on,
        notified_on=notified_on,
        persons=persons,
        findings=findings,
        summary={"kind": kind, "successors": successors, "person_reasons": person_reasons},
        messages=messages,
    )


def _removed(old: dict[str, Any], reason: ChangeReason, on: dt.date) -> dict[str, Any]:
    removed = dict(old)
    removed.update(
        {"status": ResidentStatus.REMOVED.value, "removal_reason": reason.value, "removed_on": on}
    )
    return removed


def _plan_to_japanese(procedure: str, kind: str, data: NaturalisationInput) -> DraftPlan:
    removal = ChangeReason.EX_OFFICIO_REMOVAL_NATURALISATION
    entry = ChangeReason.EX_OFFICIO_ENTRY_NATURALISATION
    findings = Findings()
    now = today()
    notified = data.notified_on or now
    findings.extend(check_dates(data.occurred_on, notified, today=now, late_alert=False))
    _duplicate_atena([p.atena_no for p in data.persons], findings)
    pairs: list[tuple[Resident, dict[str, Any], dict[str, Any]]] = []
    for i, person in enumerate(data.persons):
        prefix = f"persons.{i}."
        resident = current_member(person.atena_no, findings, f"{prefix}atena_no")
        if resident is None:
            continue
        if resident.resident_type != ResidentType.FOREIGN:
            findings.add(
                error(
                    "naturalisation.not_foreign",
                    f"宛名番号 {resident.atena_no} は日本人住民です。",
                    field=f"{prefix}atena_no",
                    remedy="帰化・国籍取得は外国人住民について入力してください。",
                )
            )
            continue
        old = snapshot(resident)
        new = dict(old)
        # std 4.5.3 (j930): address, birth date, sex, relationship, dates, 住民票コード,
        # 個人番号 and previous address carry over;
        # 外国人住民となった年月日 becomes 住民となった年月日
        new.update(
            {
                "resident_type": ResidentType.JAPANESE.value,
                "family_name": person.family_name,
                "given_name": person.given_name,
                "name_alphabet": "",
                "name_kana": person.name_kana,
                "name_kana_confirmed": person.name_kana_confirmed,
                "honseki": person.honseki,
                "koseki_head": person.koseki_head,
                "relationship": person.relationship or old["relationship"],
                "became_resident_on": old["became_foreign_resident_on"],
                "became_foreign_resident_on": None,
                "notified_on": notified,
                "alias": "",
                "alias_kana": "",
                "alias_entered_on": None,
                "alias_removed_on": None,
                **{item: "" for item in FOREIGN_ITEMS},
                "stay_expires_on": None,
            }
        )
        if person.name_kana:
            kana = core_check(findings, f"{prefix}name_kana", validate_name_kana, person.name_kana)
            new["name_kana"] = kana or person.name_kana
        else:
            findings.add(
                error(
                    "name_kana.empty",
                    "氏名の振り仮名を入力してください（戸籍に記載された振り仮名）。",
                    field=f"{prefix}name_kana",
                )
            )
        for item, label in (("honseki", "本籍"), ("koseki_head", "筆頭者")):
            if not new[item]:
                findings.add(
                    error(
                        f"{item}.empty",
                        f"{label}を入力してください（帰化・国籍取得の戸籍の表示）。",
                        field=f"{prefix}{item}",
                    )
                )
        findings.extend(check_person(new, today=now, prefix=prefix))
        pairs.append((resident, _removed(old, removal, data.occurred_on), new))
    return _two_record_plan(
        procedure, kind, (removal, entry), data.occurred_on, notified, pairs, findings
    )


def plan_naturalisation(actor: Actor, data: NaturalisationInput) -> DraftPlan:
    return _plan_to_japanese("naturalisation", "naturalisation", data)


def plan_nationality_acquisition(actor: Actor, data: NaturalisationInput) -> DraftPlan:
    return _plan_to_japanese("nationality_acquisition", "nationality_acquisition", data)


# --------------------------------------------------------------------------- 国籍喪失


class NationalityLossPersonInput(Strict):
    """One Japanese resident who loses Japanese nationality (std 4.5.5, j950)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="日本人住民の宛名番号")
    name_alphabet: str = Field("", max_length=200, description="氏名（アルファベット）")
    family_name: str | None = Field(
        None, max_length=100, description="氏名（漢字）: 省略時は引継ぎ"
    )
    given_name: str | None = Field(None, max_length=100)
    name_kana: str | None = Field(None, max_length=200, description="省略時は引継ぎ")
    nationality: str = Field("", max_length=100)
    foreign_category: str = Field(ForeignCategory.TRANSITIONAL.value, max_length=20)
    residence_status: str = Field("", max_length=100)
    period_of_stay: str = Field("", max_length=50)
    stay_expires_on: dt.date | None = None
    residence_card_no: str = Field("", max_length=20)


class NationalityLossInput(Strict):
    occurred_on: dt.date = Field(..., description="国籍を失った日")
    notified_on: dt.date | None = Field(None, description="戸籍届出・通知日（省略時は処理日）")
    persons: list[NationalityLossPersonInput] = Field(..., min_length=1, max_length=30)


def plan_nationality_loss(actor: Actor, data: NationalityLossInput) -> DraftPlan:
    removal = ChangeReason.EX_OFFICIO_REMOVAL_NATIONALITY_LOSS
    entry = ChangeReason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS
    findings = Findings()
    now = today()
    notified = data.notified_on or now
    findings.extend(check_dates(data.occurred_on, notified, today=now, late_alert=False))
    _duplicate_atena([p.atena_no for p in data.persons], findings)
    pairs: list[tuple[Resident, dict[str, Any], dict[str, Any]]] = []
    for i, person in enumerate(data.persons):
        prefix = f"persons.{i}."
        resident = current_member(person.atena_no, findings, f"{prefix}atena_no")
        if resident is None:
            continue
        if resident.resident_type != ResidentType.JAPANESE:
            findings.add(
                error(
                    "nationality_loss.not_japanese",
                    f"宛名番号 {resident.atena_no} は外国人住民です。",
                    field=f"{prefix}atena_no",
                    remedy="国籍喪失は日本人住民について入力してください。",
                )
            )
            continue
        old = snapshot(resident)
        new = dict(old)
        became_resident = _as_date(old.get("became_resident_on"))
        # std 4.5.5 (j950): the later of the loss and 住民となった年月日
        became_foreign = max(data.occurred_on, became_resident or data.occurred_on)
        new.update(
            {
                "resident_type": ResidentType.FOREIGN.value,
                "name_alphabet": person.name_alphabet,
                "honseki": "",
                "koseki_head": "",
                "former_family_name": "",
                "former_family_name_kana": "",
                "became_resident_on": None,
                "became_foreign_resident_on": became_foreign,
                "notified_on": notified,
                "elector": False,
                "nationality": person.nationality,
                "foreign_category": person.foreign_category,
                "residence_status": person.residence_status,
                "period_of_stay": person.period_of_stay,
                "stay_expires_on": person.stay_expires_on,
                "residence_card_no": person.residence_card_no,
            }
        )
        for item in ("family_name", "given_name", "name_kana"):
            value = getattr(person, item)
            if value is not None:
                new[item] = value
        if new.get("name_kana"):
            kana = core_check(findings, f"{prefix}name_kana", validate_name_kana, new["name_kana"])
            new["name_kana"] = kana or new["name_kana"]
        findings.extend(check_person(new, today=now, prefix=prefix))
        _check_optional_name(findings, prefix, new)
        check_foreign_items(
            new, findings, prefix=prefix, on=data.occurred_on, allowed=ALL_CATEGORIES
        )
        pairs.append((resident, _removed(old, removal, data.occurred_on), new))
    if not findings.has_errors:
        check_card_duplicates([new for _, _, new in pairs], findings)
    return _two_record_plan(
        "nationality_loss",
        "nationality_loss",
        (removal, entry),
        data.occurred_on,
        notified,
        pairs,
        findings,
    )


# --------------------------------------------------------------------------- 長官通知 (4.5.6)


class ImmigrationAmendmentInput(Strict):
    """出入国在留管理庁長官通知に基づく修正 (std 4.5.6, j960; 入管法第61条の8の2). Only the
    items the notice changes are given; omitted items stay."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    occurred_on: dt.date = Field(..., description="変更の生じた日（許可日等）")
    notified_on: dt.date = Field(..., description="長官通知を受けた日")
    family_name: str | None = Field(None, max_length=100)
    given_name: str | None = Field(None, max_length=100)
    name_alphabet: str | None = Field(None, max_length=200)
    birth_date: str | None = Field(None, max_length=64, description="生年月日（西暦）")
    sex: Literal["1", "2"] | None = None
    nationality: str | None = Field(None, max_length=100)
    foreign_category: str | None = Field(None, max_length=20)
    residence_status: str | None = Field(None, max_length=100)
    period_of_stay: str | None = Field(None, max_length=50)
    stay_expires_on: dt.date | None = Field(None, description="在留期間の満了の日（西暦）")
    residence_card_no: str | None = Field(None, max_length=20)


_AMENDABLE = (
    "family_name",
    "given_name",
    "name_alphabet",
    "sex",
    *FOREIGN_ITEMS,
)


def plan_immigration_amendment(actor: Actor, data: ImmigrationAmendmentInput) -> DraftPlan:
    reason = ChangeReason.EX_OFFICIO_AMENDMENT
    findings = Findings()
    now = today()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=now, late_alert=False))
    resident = _foreign_target(data.atena_no, findings)
    record: dict[str, Any] = {}
    changes: dict[str, dict[str, Any]] = {}
    others: list[tuple[Resident, dict[str, Any]]] = []
    if resident is not None:
        record = snapshot(resident)
        before = dict(record)
        for item in _AMENDABLE:
            value = getattr(data, item)
            if value is not None:
                record[item] = value
        if data.birth_date is not None:
            birth, text = parse_birth(data.birth_date, "birth_date", findings)
            record["birth_date"], record["birth_date_text"] = birth, text
        category = record.get("foreign_category")
        if category != before.get("foreign_category") and category in _NOT_APPLICABLE:
            for item in _NOT_APPLICABLE[category]:
                if getattr(data, item) is None:  # items the new category does not carry
                    record[item] = None if item == "stay_expires_on" else ""
        check_foreign_items(
            record,
            findings,
            on=data.occurred_on,
            allowed=ALL_CATEGORIES,
            check_expiry=data.stay_expires_on is not None,
        )
        after = to_json(record)
        for item in (*_AMENDABLE, "birth_date", "birth_date_text"):
            if after.get(item) != before.get(item):
                changes[item] = {"before": before.get(item), "after": after.get(item)}
        if not changes:
            findings.add(
                error(
                    "immigration.nothing_changed",
                    "長官通知の内容が現在の記載と同じです。修正する項目がありません。",
                    field="atena_no",
                    remedy="通知の内容と対象者を確認してください。",
                )
            )
        findings.extend(check_person(record, today=now))
        _check_optional_name(findings, "", record)
        if "residence_card_no" in changes:
            check_card_duplicates([record], findings)
        if not findings.has_errors:
            others = _settle_households([record], {resident.atena_no}, findings)
    return one_person_plan(
        "immigration_amendment",
        reason,
        occurred_on=data.occurred_on,
        notified_on=data.notified_on,
        resident=resident,
        record=record,
        findings=findings,
        summary={"source": "出入国在留管理庁長官通知", "changes": changes},
        others=others,
    )


RemovalKind = Literal[
    "status_revoked", "out_of_scope", "departure", "deportation", "stay_expired", "other"
]
REMOVAL_KINDS: dict[str, str] = {
    "status_revoked": "在留資格の取消し",
    "out_of_scope": "在留資格の変更等による住民基本台帳法の適用対象外",
    "departure": "出国",
    "deportation": "退去強制",
    "stay_expired": "在留期間の経過",
    "other": "その他",
}


class ImmigrationRemovalInput(Strict):
    """出入国在留管理庁長官通知に基づく消除 (std 4.5.6, j960)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    occurred_on: dt.date = Field(..., description="消除の事由が生じた日")
    notified_on: dt.date = Field(..., description="長官通知を受けた日")
    kind: RemovalKind
    note: str = Field("", max_length=200, description="通知の内容（その他の場合は必須）")


def _foreign_target(atena_no: str, findings: Findings) -> Resident | None:
    resident = current_member(atena_no, findings, "atena_no")
    if resident is not None and resident.resident_type != ResidentType.FOREIGN:
        findings.add(
            error(
                "immigration.not_foreign",
                f"宛名番号 {resident.atena_no} は日本人住民です。長官通知の対象ではありません。",
                field="atena_no",
                remedy="通知の対象者を確認してください。",
            )
        )
        return None
    return resident


def plan_immigration_removal(actor: Actor, data: ImmigrationRemovalInput) -> DraftPlan:
    reason = ChangeReason.EX_OFFICIO_REMOVAL
    findings = Findings()
    now = today()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=now, late_alert=False))
    if data.kind == "other" and not data.note:
        findings.add(
            error(
                "note.empty",
                "消除の事由が「その他」のときは通知の内容を入力してください。",
                field="note",
            )
        )
    resident = _foreign_target(data.atena_no, findings)
    record: dict[str, Any] = {}
    others: list[tuple[Resident, dict[str, Any]]] = []
    if resident is not None:
        record = _removed(snapshot(resident), reason, data.occurred_on)
        if not findings.has_errors:
            others = head_leaves(resident.household_no, {resident.atena_no}, findings)
    return one_person_plan(
        "immigration_removal",
        reason,
        occurred_on=data.occurred_on,
        notified_on=data.notified_on,
        resident=resident,
        record=record,
        findings=findings,
        summary={
            "source": "出入国在留管理庁長官通知",
            "kind": data.kind,
            "label": REMOVAL_KINDS[data.kind],
            "note": data.note,
        },
        others=others,
        others_reason=ChangeReason.EX_OFFICIO_AMENDMENT,  # the member made head (j490)
    )


# --------------------------------------------------------------------------- 通称 (1.1.7)


class AliasEntryInput(Strict):
    """通称の記載 (std 1.1.7, j70; 令第30条の26), on a foreign resident's 申出."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    alias: str = Field("", max_length=200, description="通称")
    alias_kana: str = Field("", max_length=200, description="通称の振り仮名")
    notified_on: dt.date | None = Field(None, description="申出日（省略時は処理日）")
    entered_on: dt.date | None = Field(None, description="通称を記載した年月日（省略時は処理日）")
    municipality_code: str = Field("", max_length=6, description="通称を記載した市区町村コード")


class AliasRemovalInput(Strict):
    """通称の削除 (std 1.1.7, j70), on a foreign resident's 申出."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    notified_on: dt.date | None = Field(None, description="申出日（省略時は処理日）")
    removed_on: dt.date | None = Field(None, description="通称を削除した年月日（省略時は処理日）")
    municipality_code: str = Field("", max_length=6, description="通称を削除した市区町村コード")


def _municipality(code: str, findings: Findings) -> str:
    own = str(settings.JUMIN.get("MUNICIPALITY_CODE", ""))
    if not code:
        return own
    try:
        return validate_local_government_code(code)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field="municipality_code"))
        return ""


def _remark(remarks: str, what: str, on: dt.date, code: str) -> str:
    """The municipality has no model field yet: it goes into 備考 as one line per event."""
    own = str(settings.JUMIN.get("MUNICIPALITY_CODE", ""))
    place = f"{settings.JUMIN.get('MUNICIPALITY_NAME', '')}（{code}）" if code == own else code
    line = f"通称を{what}した年月日 {on:%Y-%m-%d}　通称を{what}した市区町村 {place}"
    return f"{remarks}\n{line}" if remarks else line


def plan_alias_entry(actor: Actor, data: AliasEntryInput) -> DraftPlan:
    reason = ChangeReason.ALIAS_ENTRY
    findings = Findings()
    now = today()
    occurred, notified = request_dates(
        data.entered_on, data.notified_on, findings, now=now, notified_label="申出日"
    )
    code = _municipality(data.municipality_code, findings)
    resident = target(data.atena_no, findings, reason)
    record: dict[str, Any] = {}
    if resident is not None:
        record = snapshot(resident)
        if resident.alias:
            findings.add(
                error(
                    "alias.exists",
                    f"宛名番号 {resident.atena_no} には通称「{resident.alias}」が記載済みです。",
                    field="atena_no",
                    remedy="通称を改めるときは、先に「通称の削除」をしてから記載してください。",
                )
            )
        alias = core_check(findings, "alias", validate_name, data.alias)
        kana = core_check(findings, "alias_kana", validate_name_kana, data.alias_kana)
        if alias is not None and alias in (display_name(record), record.get("name_alphabet")):
            findings.add(
                error(
                    "alias.same_as_name",
                    "通称が氏名と同じです。",
                    field="alias",
                    remedy="通称は氏名以外の呼称です。申出の内容を確認してください。",
                )
            )
        record.update(
            {
                "alias": alias or "",
                "alias_kana": kana or "",
                "alias_entered_on": occurred,
                "alias_removed_on": None,
                "remarks": _remark(record.get("remarks") or "", "記載", occurred, code),
            }
        )
    return one_person_plan(
        "alias_entry",
        reason,
        occurred_on=occurred,
        notified_on=notified,
        resident=resident,
        record=record,
        findings=findings,
        summary={"alias_entered_on": occurred.isoformat(), "alias_municipality_code": code},
    )


def plan_alias_removal(actor: Actor, data: AliasRemovalInput) -> DraftPlan:
    reason = ChangeReason.ALIAS_REMOVAL
    findings = Findings()
    now = today()
    occurred, notified = request_dates(
        data.removed_on, data.notified_on, findings, now=now, notified_label="申出日"
    )
    code = _municipality(data.municipality_code, findings)
    resident = target(data.atena_no, findings, reason)
    record: dict[str, Any] = {}
    previous = ""
    if resident is not None:
        record = snapshot(resident)
        previous = resident.alias
        if not resident.alias:
            findings.add(
                error(
                    "alias.none",
                    f"宛名番号 {resident.atena_no} には通称が記載されていません。",
                    field="atena_no",
                    remedy="対象者を確認してください。",
                )
            )
        record.update(
            {
                "alias": "",
                "alias_kana": "",
                "alias_entered_on": None,
                "alias_removed_on": occurred,
                "remarks": _remark(record.get("remarks") or "", "削除", occurred, code),
            }
        )
    return one_person_plan(
        "alias_removal",
        reason,
        occurred_on=occurred,
        notified_on=notified,
        resident=resident,
        record=record,
        findings=findings,
        summary={
            "previous_alias": previous,
            "alias_removed_on": occurred.isoformat(),
            "alias_municipality_code": code,
        },
    )


# --------------------------------------------------------------------------- submit


submit_foreign_move_in_30_46 = make_submit(plan_foreign_move_in_30_46)
submit_foreign_30_47 = make_submit(plan_foreign_30_47)
submit_naturalisation = make_submit(plan_naturalisation)
submit_nationality_acquisition = make_submit(plan_nationality_acquisition)
submit_nationality_loss = make_submit(plan_nationality_loss)
submit_immigration_amendment = make_submit(plan_immigration_amendment)
submit_immigration_removal = make_submit(plan_immigration_removal)
submit_alias_entry = make_submit(plan_alias_entry)
submit_alias_removal = make_submit(plan_alias_removal)

SPECS = [
    ProcedureSpec(
        "foreign_move_in_30_46",
        "法第30条の46の転入",
        "4.5.1",
        ForeignMoveInInput,
        submit_foreign_move_in_30_46,
    ),
    ProcedureSpec(
        "foreign_30_47", "法第30条の47の届出", "4.5.2", Foreign3047Input, submit_foreign_30_47
    ),
    ProcedureSpec("naturalisation", "帰化", "4.5.3", NaturalisationInput, submit_naturalisation),
    ProcedureSpec(
        "nationality_acquisition",
        "国籍取得",
        "4.5.4",
        NaturalisationInput,
        submit_nationality_acquisition,
    ),
    ProcedureSpec(
        "nationality_loss", "国籍喪失", "4.5.5", NationalityLossInput, submit_nationality_loss
    ),
    ProcedureSpec(
        "immigration_amendment",
        "出入国在留管理庁長官通知に基づく修正",
        "4.5.6",
        ImmigrationAmendmentInput,
        submit_immigration_amendment,
    ),
    ProcedureSpec(
        "immigration_removal",
        "出入国在留管理庁長官通知に基づく消除",
        "4.5.6",
        ImmigrationRemovalInput,
        submit_immigration_removal,
    ),
    ProcedureSpec("alias_entry", "通称の記載", "1.1.7", AliasEntryInput, submit_alias_entry),
    ProcedureSpec("alias_removal", "通称の削除", "1.1.7", AliasRemovalInput, submit_alias_removal),
]
