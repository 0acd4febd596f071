"""Shared pieces of the procedures: input of a person, dates, addresses, households."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from jumin.addresses.dictionary import load_dictionary
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, Findings, alert, error
from jumin.core.wareki import parse_any_date
from jumin.register import selectors, status
from jumin.register.models import Resident, ResidentStatus
from jumin.register.records import blank_snapshot, snapshot, to_json


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonInput(Strict):
    """A person as entered at the counter (new, or returning with ``atena_no``)."""

    atena_no: str | None = Field(None, description="再転入: 消除済みの宛名番号")
    resident_type: Literal["japanese", "foreign"] = "japanese"
    family_name: str = Field("", max_length=100)
    given_name: str = Field("", max_length=100)
    name_alphabet: str = Field("", max_length=200)
    name_kana: str = Field("", max_length=200)
    name_kana_confirmed: bool = False
    former_family_name: str = Field("", max_length=100)
    former_family_name_kana: str = Field("", max_length=100)
    alias: str = Field("", max_length=200)
    alias_kana: str = Field("", max_length=200)
    birth_date: str = Field(..., max_length=64, description="和暦・西暦・不詳日")
    sex: Literal["1", "2"]
    relationship: str = Field(..., max_length=40)
    honseki: str = Field("", max_length=200)
    koseki_head: str = Field("", max_length=100)
    juminhyo_code: str = Field("", max_length=11)
    my_number: str = Field("", max_length=14)
    nationality: str = Field("", max_length=100)
    foreign_category: str = Field("", max_length=20)
    residence_status: str = Field("", max_length=100)
    period_of_stay: str = Field("", max_length=50)
    stay_expires_on: dt.date | None = None
    residence_card_no: str = Field("", max_length=12)


class AddressInput(Strict):
    address_code: str = Field(..., min_length=11, max_length=11)
    banchi: str = Field("", max_length=100, description="番地・号（例: 3丁目12番5号）")
    katagaki: str = Field("", max_length=200)


def today() -> dt.date:
    return timezone.localdate()


def parse_birth(text: str, field: str, findings: Findings) -> tuple[dt.date | None, str]:
    """Birth date as typed (和暦, 西暦, or an uncertain date of std 1.1.8)."""
    try:
        value = parse_any_date(text)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field=field))
        return None, ""
    return value.sort_key, ("" if value.is_exact else value.to_storage())


def resolve_address(data: AddressInput, findings: Findings, prefix: str = "") -> dict[str, Any]:
    entry = load_dictionary().by_code(data.address_code)
    if entry is None:
        findings.add(
            error(
                "address_code.unknown",
                f"住所コード「{data.address_code}」は住所辞書にありません。",
                field=f"{prefix}address_code",
                remedy="住所辞書から住所を選択してください。",
            )
        )
        return {}
    return {
        "address_code": entry.address_code,
        "postal_code": entry.postal_code,
        "address": f"{entry.address}{data.banchi}",
        "katagaki": data.katagaki,
    }


def apply_person_input(
    record: dict[str, Any], person: PersonInput, findings: Findings, prefix: str
) -> None:
    """Copy the entered items onto a snapshot (never the 個人番号: see ``protect``)."""
    for name in (
        "resident_type",
        "family_name",
        "given_name",
        "name_alphabet",
        "name_kana",
        "name_kana_confirmed",
        "former_family_name",
        "former_family_name_kana",
        "alias",
        "alias_kana",
        "sex",
        "relationship",
        "honseki",
        "koseki_head",
        "juminhyo_code",
        "nationality",
        "foreign_category",
        "residence_status",
        "period_of_stay",
        "residence_card_no",
    ):
        record[name] = getattr(person, name)
    record["stay_expires_on"] = person.stay_expires_on
    birth, birth_text = parse_birth(person.birth_date, f"{prefix}birth_date", findings)
    record["birth_date"] = birth
    record["birth_date_text"] = birth_text


def start_record(
    atena_no: str | None, findings: Findings, prefix: str
) -> tuple[dict[str, Any], int | None, Resident | None]:
    """A fresh snapshot for a new person, or the snapshot of a known one."""
    if not atena_no:
        return blank_snapshot(), None, None
    resident = selectors.resident_for_update_check(atena_no)
    if resident is None:
        findings.add(
            error(
                "atena_no.unknown",
                f"宛名番号 {atena_no} の記録はありません。",
                field=f"{prefix}atena_no",
            )
        )
        return blank_snapshot(), None, None
    return snapshot(resident), resident.history_no, resident


def head_name(records: list[dict[str, Any]], household_no: str, others: list[Resident]) -> str:
    for rec in records:
        if rec.get("household_no") == household_no and rec.get("relationship") == "世帯主":
            return display_name(rec)
    for r in others:
        if r.relationship == "世帯主":
            return r.name
    return ""


def display_name(rec: dict[str, Any]) -> str:
    parts = [p for p in (rec.get("family_name"), rec.get("given_name")) if p]
    return "　".join(parts) if parts else str(rec.get("name_alphabet") or "")


def current_member(atena_no: str, findings: Findings, field: str) -> Resident | None:
    resident = selectors.resident_for_update_check(atena_no)
    if resident is not None:
        pending = status.moving_out_error(resident, field)
        if pending is not None:  # a 転出予定者: cancel the 転出 first (std 4.6)
            findings.add(pending)
            return None
    if resident is None or resident.status != ResidentStatus.RESIDENT:
        findings.add(
            error(
                "atena_no.not_resident",
                f"宛名番号 {atena_no} は現在の住民ではありません。",
                field=field,
                remedy="消除された方には再転入等の手続を使ってください。",
            )
        )
        return None
    return resident


def json_record(record: dict[str, Any]) -> dict[str, Any]:
    return to_json(record)


__all__ = [
    "AddressInput",
    "Finding",
    "PersonInput",
    "Strict",
    "apply_person_input",
    "current_member",
    "display_name",
    "head_leaves",
    "head_name",
    "json_record",
    "parse_birth",
    "resolve_address",
    "start_record",
    "today",
]


def head_leaves(
    household_no: str, leaving: set[str], findings: Findings
) -> list[tuple[Resident, dict[str, Any]]]:
    """std 4.0.4 (j490): when the head leaves a household, a single remaining member becomes
    head ex officio (returned as (resident, new record) to include in the change); two or more
    remaining members get an alert asking for a 世帯主変更."""
    members = selectors.household_members(household_no)
    head = next((m for m in members if m.relationship == "世帯主"), None)
    if head is None or head.atena_no not in leaving:
        return []
    remaining = [m for m in members if m.atena_no not in leaving]
    if len(remaining) == 1:
        only = remaining[0]
        record = snapshot(only)
        record["relationship"] = "世帯主"
        record["head_name"] = only.name
        findings.add(
            alert(
                "household.single_member_becomes_head",
                f"世帯主が世帯を離れるため、残る世帯員 {only.name} を職権で世帯主とします。",
                field="relationship",
                remedy="世帯主変更通知書の送付要否を確認してください。",
            )
        )
        return [(only, record)]
    if len(remaining) >= 2:
        findings.add(
            alert(
                "household.head_leaves",
                f"世帯主が世帯を離れ、{len(remaining)}人の世帯員が残ります。",
                field="relationship",
                remedy="この異動の後、世帯主変更の届出を受けてください（世帯主変更依頼通知書）。",
            )
        )
    return []
