"""転入 (std 4.1.1): from another municipality, from abroad, card-based (特例転入),
unnotified (未届転入), and a former resident returning (再転入, the same 宛名番号).

The persons join a new household or an existing one. The 転出証明書 (or, for 特例転入, the
転出証明書情報 received over the network — entered by hand until the 住基ネット work lands) gives
the previous address and the planned move date. Committing sends the 転入通知 (Art. 9(1)) to the
previous municipality through the outbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from jumin.accounts.actor import Actor
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Findings, alert, error
from jumin.register import selectors
from jumin.register.models import Change, ResidentStatus
from jumin.register.procedures.common import (
    AddressInput,
    PersonInput,
    Strict,
    apply_person_input,
    head_name,
    resolve_address,
    start_record,
    today,
)
from jumin.register.services import (
    DraftPlan,
    Message,
    PersonPlan,
    new_household_no,
    next_atena_no,
    submit_plan,
)
from jumin.register.validation import check_dates, check_duplicates, check_households, check_person

PROCEDURE = "move_in"


class MoveOutCertificate(Strict):
    """転出証明書 (or its information, for 特例転入)."""

    municipality_code: str = Field("", max_length=6, description="転出元の全国地方公共団体コード")
    planned_on: dt.date | None = None
    issued_on: dt.date | None = None


class MoveInInput(Strict):
    kind: Literal["domestic", "abroad", "card", "unnotified"] = "domestic"
    occurred_on: dt.date
    notified_on: dt.date
    address: AddressInput
    previous_address: str = Field(..., min_length=1, max_length=300)
    previous_address_code: str = Field("", max_length=11)
    certificate: MoveOutCertificate | None = None
    household_no: str | None = Field(None, description="既存世帯に入る場合の世帯番号")
    persons: list[PersonInput] = Field(..., min_length=1, max_length=30)


def plan(actor: Actor, data: MoveInInput) -> DraftPlan:
    """Validate and build the draft (no write except number assignment)."""
    findings = Findings()
    now = today()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=now))
    address = resolve_address(data.address, findings, "address.")
    if data.kind in {"domestic", "card"}:
        cert = data.certificate
        if cert is None or not cert.municipality_code:
            findings.add(
                error(
                    "move_in.certificate_missing",
                    "転出証明書（特例転入では転出証明書情報）の転出元市区町村コードを入力してください。",
                    field="certificate.municipality_code",
                    remedy="転出証明書を確認してください。",
                )
            )
        else:
            _check_certificate(cert, data, findings)
    existing_members = []
    household_no = data.household_no
    if household_no:
        existing_members = selectors.household_members(household_no)
        if not existing_members:
            findings.add(
                error(
                    "household.unknown",
                    f"世帯番号 {household_no} の世帯（住民のいる世帯）はありません。",
                    field="household_no",
                )
            )
    records: list[dict[str, Any]] = []
    persons: list[PersonPlan] = []
    hashes: dict[str, str] = {}
    new_people = []
    for i, person in enumerate(data.persons):
        prefix = f"persons.{i}."
        record, base, resident = start_record(person.atena_no, findings, prefix)
        if resident is not None and resident.status == ResidentStatus.RESIDENT:
            findings.add(
                error(
                    "move_in.already_resident",
                    f"宛名番号 {resident.atena_no} は現在も住民です。転入はできません。",
                    field=f"{prefix}atena_no",
                    remedy="転居の手続を使ってください。",
                )
            )
        apply_person_input(record, person, findings, prefix)
        record.update(address)
        record.update(
            {
                "status": ResidentStatus.RESIDENT.value,
                "address_set_on": data.occurred_on,
                "notified_on": data.notified_on if data.kind != "unnotified" else None,
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
        if person.resident_type == "foreign":
            record["became_foreign_resident_on"] = (
                record.get("became_foreign_resident_on") or data.occurred_on
            )
        else:
            record["became_resident_on"] = data.occurred_on
        if person.my_number:
            _protect(person.my_number, record, hashes, findings, prefix)
        findings.extend(
            f  # an unknown 住所コード is reported once, on the address itself
            for f in check_person(record | {"status": "resident"}, today=now, prefix=prefix)
            if address or f.code != "address_code.unknown"
        )
        records.append(record)
        persons.append(
            PersonPlan(atena_no=person.atena_no or "", base_history_no=base, after=record)
        )
        if resident is None:
            new_people.append(len(persons) - 1)
    if findings.has_errors:
        return DraftPlan(PROCEDURE, _reason(data), data.occurred_on, data.notified_on, [], findings)

    new_households: list[str] = []
    if not household_no:
        household_no = new_household_no()
        new_households.append(household_no)
    for idx in new_people:
        persons[idx].atena_no = next_atena_no()
    for p, record in zip(persons, records, strict=True):
        record["atena_no"] = p.atena_no
        record["household_no"] = household_no
    head = head_name(records, household_no, existing_members)
    for record in records:
        record["head_name"] = head
    findings.extend(check_households(records, untouched=existing_members))
    by_atena = {
        persons[i].atena_no: hashes[f"persons.{i}."]
        for i in range(len(persons))
        if f"persons.{i}." in hashes
    }
    findings.extend(
        check_duplicates(
            [r for i, r in enumerate(records) if i in new_people], my_number_hashes=by_atena
        )
    )
    if data.kind == "unnotified":
        findings.add(
            alert(
                "move_in.unnotified",
                "未届転入として職権で記載します。",
                field="kind",
                remedy="届出の催告と簡易裁判所への通知の要否を確認してください。",
            )
        )
    for p in persons:
        p.after = _json(p.after)
    messages = []
    if (
        data.kind in {"domestic", "card"}
        and data.certificate
        and data.certificate.municipality_code
    ):
        for p in persons:
            messages.append(
                Message(
                    topic="move_in_notice",
                    destination=data.certificate.municipality_code,
                    ordering_key=p.atena_no,
                    payload={
                        "atena_no": p.atena_no,
                        "moved_in_on": data.occurred_on.isoformat(),
                        "new_address": p.after["address"],
                        "name_kana": p.after["name_kana"],
                        "birth_date": p.after["birth_date"],
                    },
                )
            )
    return DraftPlan(
        procedure=PROCEDURE,
        change_reason=_reason(data),
        occurred_on=data.occurred_on,
        notified_on=data.notified_on,
        persons=persons,
        findings=findings,
        summary={"kind": data.kind, "household_no": household_no},
        messages=messages,
        new_households=new_households,
    )


def submit(
    actor: Actor,
    data: MoveInInput,
    *,
    acknowledged: list[str] | tuple[str, ...] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a move-in as a draft."""

    return submit_plan(
        plan, actor, data, acknowledged=acknowledged, idempotency_key=idempotency_key
    )


def _reason(data: MoveInInput) -> ChangeReason:
    return (
        ChangeReason.MOVE_IN_FROM_ABROAD if data.kind == "abroad" else ChangeReason.DOMESTIC_MOVE_IN
    )


def _check_certificate(cert: MoveOutCertificate, data: MoveInInput, findings: Findings) -> None:
    from jumin.core.identifiers import validate_local_government_code

    try:
        validate_local_government_code(cert.municipality_code)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field="certificate.municipality_code"))
    if cert.planned_on and abs((data.occurred_on - cert.planned_on).days) > 30:
        findings.add(
            alert(
                "move_in.date_differs",
                f"転出証明書の転出予定日（{cert.planned_on:%Y-%m-%d}）と転入日が30日以上離れています。",
                field="occurred_on",
                remedy="転入日を確認してください。",
            )
        )


def _protect(
    number: str, record: dict[str, Any], hashes: dict[str, str], findings: Findings, prefix: str
) -> None:
    from jumin.register.crypto import my_number_lookup_hash, protect_my_number

    try:
        row = protect_my_number(number)
    except CoreError as exc:
        # core's message repeats the typed number: never put a 個人番号 in a finding
        findings.add(
            error(
                exc.code,
                "個人番号が正しくありません（12桁の数字で、検査用数字が一致すること）。",
                field=f"{prefix}my_number",
                remedy="個人番号カードまたは通知書の番号を確認して入力し直してください。",
            )
        )
        return
    record["my_number_id"] = row.pk
    hashes[prefix] = my_number_lookup_hash(number)


def _json(record: dict[str, Any]) -> dict[str, Any]:
    from jumin.register.records import to_json

    return to_json(record)


from jumin.register.procedures.registry import ProcedureSpec  # noqa: E402

SPECS = [ProcedureSpec(PROCEDURE, "転入", "4.1.1", MoveInInput, submit)]
