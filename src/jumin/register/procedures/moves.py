"""転居 (std 4.1.2), 転出 (std 4.1.3) and 転入通知の受理 (std 4.1.3.1).

- ``move_within`` (転居): one person, part of a household or a whole household moves to
  another address in the city. A whole household keeps its 世帯番号 and relationships; part of
  a household leaves it, either into an existing household or into a new one with one of the
  movers as head (std 4.0.2, j470). Moving to the same 地番 (another building on the lot) is a
  転居 like any other (std 4.1.2.1, j630); nothing is written to the remarks for it.
- ``move_out`` (転出): the persons are removed (除票) on the planned date, which may lie in the
  future (std 4.1.3.0.1, j640), with the planned destination, in Japan or abroad (j650). The
  plan's summary carries what the 転出証明書 needs (j660) and which document is due: a notice
  more than 14 days after the move is recorded ex officio and gets a 転出証明書に準ずる証明書
  (j640, j660); a card holder's move-out (特例転入を利用した転出, j670) gets no automatic
  certificate, its 転出証明書情報 goes to the CS instead.
- ``move_in_notice_receipt`` (転入通知の受理): the new city's 転入通知 (Art. 9(1)) records the
  confirmed destination and date and the notice date beside the planned ones (j680, j700).

A 転出 is committed at once; until the planned date the person is a 転出予定者, read as a
resident (``jumin.register.status``), but no longer a member of the household as committed, so
a 転居 or a further 転出 of theirs is refused until the 転出 is cancelled (異動の取消し). A
転入通知 may be received before the planned date (j680) and then moves the removal to the
notified move-in date if that is earlier (j50).

When the head leaves a household, a single remaining member becomes head ex officio within
the same change; two or more get an alert asking for a 世帯主変更 (std 4.0.4, j490).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import Field

from jumin.accounts.actor import Actor
from jumin.addresses.dictionary import load_dictionary
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Findings, alert, error
from jumin.core.identifiers import validate_local_government_code
from jumin.core.relationships import HEAD, validate_relationship
from jumin.register import selectors, status
from jumin.register.models import Change, Resident, ResidentStatus
from jumin.register.procedures.common import (
    AddressInput,
    Strict,
    current_member,
    display_name,
    head_leaves,
    head_name,
    resolve_address,
    today,
)
from jumin.register.procedures.registry import ProcedureSpec
from jumin.register.records import snapshot, to_json
from jumin.register.services import (
    DraftPlan,
    Message,
    PersonPlan,
    new_household_no,
    submit_plan,
)
from jumin.register.validation import LATE_DAYS, check_dates, check_households

MOVE_WITHIN = "move_within"
MOVE_OUT = "move_out"
MOVE_IN_NOTICE_RECEIPT = "move_in_notice_receipt"

AtenaNo = Annotated[str, Field(min_length=1, max_length=10)]


# --- inputs ------------------------------------------------------------------------------


class MovingPerson(Strict):
    """One person who moves; ``relationship`` is the 続柄 in the household they move into."""

    atena_no: AtenaNo
    relationship: str | None = Field(
        None,
        max_length=40,
        description="異動先世帯での続柄（世帯の一部が転居する場合は必須）",
    )


class MoveWithinInput(Strict):
    occurred_on: dt.date = Field(..., description="異動日（転居した日）")
    notified_on: dt.date = Field(..., description="届出日")
    address: AddressInput
    persons: list[MovingPerson] = Field(..., min_length=1, max_length=30)
    household_no: str | None = Field(
        None, min_length=1, max_length=10, description="既存の世帯に入る場合の世帯番号"
    )


class Destination(Strict):
    """転出先（予定）: a municipality in Japan (its address, or only its name) or a country."""

    kind: Literal["domestic", "abroad"] = "domestic"
    municipality_code: str = Field(
        "", max_length=6, description="転出先の全国地方公共団体コード（国内、任意）"
    )
    address: str = Field("", max_length=300, description="転出先住所（市区町村のみも可）")
    country: str = Field("", max_length=100, description="国外転出の国・地域")


class MoveOutInput(Strict):
    planned_on: dt.date = Field(..., description="転出予定年月日（異動日。未来の日付も可）")
    notified_on: dt.date = Field(..., description="届出日")
    destination: Destination
    persons: list[AtenaNo] = Field(..., min_length=1, max_length=30)
    card_move_out: bool = Field(False, description="特例転入を利用した転出（カード所持者）")


class MoveInNoticeInput(Strict):
    atena_no: AtenaNo
    move_in_notice_on: dt.date = Field(..., description="転入通知年月日")
    moved_out_on: dt.date = Field(..., description="転出年月日（確定）: 転入通知に記載された転入日")
    moved_out_address: str = Field(
        ..., min_length=1, max_length=300, description="転出先住所（確定）"
    )
    municipality_code: str = Field("", max_length=6, description="転入通知を送った市区町村のコード")


# --- shared helpers ------------------------------------------------------------------------


def _refused(
    procedure: str, reason: ChangeReason, occurred_on: dt.date, findings: Findings
) -> DraftPlan:
    return DraftPlan(procedure, reason, occurred_on, None, [], findings)


def _relationship(text: str, findings: Findings, field: str) -> str | None:
    try:
        return validate_relationship(text).text
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field=field))
        return None


def _movers(atena_nos: list[str], findings: Findings) -> list[tuple[int, Resident]]:
    """The current residents who move, in input order; one household per change (std 4.0.1,
    j460: a whole household or part of one is selected)."""
    out: list[tuple[int, Resident]] = []
    seen: set[str] = set()
    for i, atena in enumerate(atena_nos):
        field = f"persons.{i}.atena_no"
        if atena in seen:
            findings.add(
                error(
                    "persons.duplicate",
                    f"宛名番号 {atena} が2回入力されています。",
                    field=field,
                    remedy="異動者は1人1回だけ入力してください。",
                )
            )
            continue
        seen.add(atena)
        current = selectors.resident_for_update_check(atena)
        refusal = status.moving_out_error(current, field) if current is not None else None
        if refusal is not None:
            # a 転出予定者 (std 1.1.5 j50): the committed 転出 is cancelled first
            findings.add(refusal)
            continue
        resident = current_member(atena, findings, field)
        if resident is not None:
            out.append((i, resident))
    households = sorted({r.household_no for _, r in out})
    if len(households) > 1:
        findings.add(
            error(
                "persons.several_households",
                f"異動者が複数の世帯（{'、'.join(households)}）にまたがっています。",
                field="persons",
                remedy="世帯ごとに分けて入力してください。",
            )
        )
    return out


def _ex_officio_heads(household_no: str, leaving: set[str], findings: Findings) -> list[PersonPlan]:
    """std 4.0.4 (j490): a single remaining member becomes head within the same change."""
    return [
        PersonPlan(atena_no=r.atena_no, base_history_no=r.history_no, after=to_json(record))
        for r, record in head_leaves(household_no, leaving, findings)
    ]


def _save(
    actor: Actor,
    build: Callable[[], DraftPlan],
    acknowledged: Sequence[str],
    idempotency_key: str | None,
) -> Change:
    return submit_plan(
        lambda _actor, _data: build(),
        actor,
        None,
        acknowledged=acknowledged,
        idempotency_key=idempotency_key,
    )


# --- 転居 (std 4.1.2) -------------------------------------------------------------------------


def plan_move_within(actor: Actor, data: MoveWithinInput) -> DraftPlan:
    """Validate and build a 転居 draft (no write except a new 世帯番号)."""
    reason = ChangeReason.MOVE_WITHIN
    findings = Findings()
    now = today()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=now))
    address = resolve_address(data.address, findings, "address.")
    movers = _movers([p.atena_no for p in data.persons], findings)
    if findings.has_errors:
        return _refused(MOVE_WITHIN, reason, data.occurred_on, findings)

    source = movers[0][1].household_no
    source_members = selectors.household_members(source)
    moving = {r.atena_no for _, r in movers}
    whole = {m.atena_no for m in source_members} <= moving
    target = data.household_no
    if target == source:
        if not whole:
            findings.add(
                error(
                    "move_within.stays_in_household",
                    f"世帯（{source}）の一部だけが転居して同じ世帯に残ることはできません。",
                    field="household_no",
                    remedy="転居する方の新しい世帯を作るか、入る世帯の世帯番号を入力してください。",
                )
            )
        target = None
    target_members: list[Resident] = []
    if target:
        target_members = selectors.household_members(target)
        if not target_members:
            findings.add(
                error(
                    "household.unknown",
                    f"世帯番号 {target} の世帯（住民のいる世帯）はありません。",
                    field="household_no",
                    remedy="入る世帯の世帯番号を確認してください。",
                )
            )
        elif address and any(
            m.address_code != address["address_code"] or m.address != address["address"]
            for m in target_members
        ):
            findings.add(
                alert(
                    "move_within.household_address_differs",
                    f"転居先の住所が、入る世帯（{target}）の住所「{target_members[0].address}」と"
                    "異なります。",
                    field="address",
                    remedy="同じ世帯の方は同じ住所です。住所と世帯番号を確認してください。",
                )
            )
    keep_relationships = whole and not target

    records: list[dict[str, Any]] = []
    plans: list[PersonPlan] = []
    same_address = bool(address)
    for i, resident in movers:
        prefix = f"persons.{i}."
        given = data.persons[i].relationship
        record = snapshot(resident)
        if keep_relationships:
            if given:
                text = _relationship(given, findings, f"{prefix}relationship")
                if text is not None and text != resident.relationship:
                    findings.add(
                        error(
                            "move_within.relationship_changed",
                            f"世帯全員の転居では続柄は変わりません（{resident.name}: "
                            f"{resident.relationship} → {text}）。",
                            field=f"{prefix}relationship",
                            remedy="続柄の変更は世帯主変更などの手続で行ってください。",
                        )
                    )
        elif not given:
            findings.add(
                error(
                    "move_within.relationship_required",
                    f"{resident.name} の異動先世帯での続柄を入力してください。",
                    field=f"{prefix}relationship",
                    remedy="世帯の一部が転居するときは、異動先世帯での続柄（世帯主を含む）が必要です。",
                )
            )
        else:
            text = _relationship(given, findings, f"{prefix}relationship")
            if text is not None:
                record["relationship"] = text
        if address:
            # std 4.1.2.1 (j630): the same 地番 is a valid 転居 (another building on the lot)
            same_address = same_address and (
                resident.address_code == address["address_code"]
                and resident.address == address["address"]
                and resident.katagaki == address["katagaki"]
            )
            record.update(address)
        record["address_set_on"] = data.occurred_on
        record["notified_on"] = data.notified_on
        records.append(record)
        plans.append(PersonPlan(resident.atena_no, resident.history_no, record))
    if same_address:
        findings.add(
            alert(
                "move_within.same_address",
                "転居先の住所・方書が現在の住所と同じです。",
                field="address",
                remedy="同じ地番の別の家屋への転居であれば、そのまま登録できます。"
                "同じ家屋の中での移動は転居ではありません。",
            )
        )
    if not keep_relationships and not target and not findings.has_errors:
        heads = sum(1 for r in records if r["relationship"] == HEAD)
        if heads != 1:
            findings.add(
                error(
                    "move_within.new_household_head",
                    f"新しい世帯の世帯主は1人です（入力では{heads}人）。",
                    field="persons",
                    remedy="転居する方のうち1人の続柄を「世帯主」、他の方を世帯主からみた続柄にしてください。",
                )
            )
    if target and not findings.has_errors:
        findings.extend(
            check_households(
                [r | {"household_no": target} for r in records], untouched=target_members
            )
        )
    if findings.has_errors:
        return _refused(MOVE_WITHIN, reason, data.occurred_on, findings)

    extra = [] if whole else _ex_officio_heads(source, moving, findings)
    new_households: list[str] = []
    if target:
        household_no = target
    elif whole:
        household_no = source
    else:
        household_no = new_household_no()
        new_households.append(household_no)
    for record in records:
        record["household_no"] = household_no
    if not keep_relationships:
        head = head_name(records, household_no, target_members)
        for record in records:
            record["head_name"] = head
    for p in plans:
        p.after = to_json(p.after)
    return DraftPlan(
        procedure=MOVE_WITHIN,
        change_reason=reason,
        occurred_on=data.occurred_on,
        notified_on=data.notified_on,
        persons=plans + extra,
        findings=findings,
        summary={
            "household_no": household_no,
            "from_household_no": source,
            "whole_household": whole,
            "new_household": bool(new_households),
            "ex_officio_head": [p.atena_no for p in extra],
        },
        new_households=new_households,
    )


# --- 転出 (std 4.1.3) ------------------------------------------------------------------------

CERTIFICATE = "move_out_certificate"  # 転出証明書 (j660)
EQUIVALENT_CERTIFICATE = "equivalent_certificate"  # 転出証明書に準ずる証明書 (j640, j660)
CARD_MOVE_OUT_INFO = "card_move_out_info"  # 転出証明書情報 to the CS, no paper (j670)
NO_CERTIFICATE = "none"  # 国外転出: no 転入 follows, no 転出証明書


def _own_codes() -> set[str]:
    codes = {e.local_government_code for e in load_dictionary()}
    codes.add(str(settings.JUMIN["MUNICIPALITY_CODE"]))
    return codes


def _destination(dest: Destination, findings: Findings) -> str:
    """std 4.1.3.0.2 (j650): the planned destination as recorded; checks the input."""
    if dest.kind == "abroad":
        if not dest.country:
            findings.add(
                error(
                    "move_out.country_required",
                    "国外転出では転出先の国・地域を入力してください。",
                    field="destination.country",
                )
            )
        if dest.municipality_code:
            findings.add(
                error(
                    "move_out.municipality_for_abroad",
                    "国外転出では転出先の市区町村コードは入力しません。",
                    field="destination.municipality_code",
                    remedy="国内への転出であれば区分を「国内」にしてください。",
                )
            )
        text = "　".join(p for p in (dest.country, dest.address) if p)
        if len(text) > 300:
            findings.add(
                error(
                    "move_out.destination_too_long",
                    "転出先（国・地域と住所）は合わせて300文字以内で入力してください。",
                    field="destination.address",
                )
            )
        return text
    if dest.country:
        findings.add(
            error(
                "move_out.country_for_domestic",
                "国内転出では国・地域は入力しません。",
                field="destination.country",
                remedy="国外への転出であれば区分を「国外」にしてください。",
            )
        )
    if not dest.address:
        findings.add(
            error(
                "move_out.destination_required",
                "転出先住所（予定）を入力してください（市区町村名だけでも構いません）。",
                field="destination.address",
            )
        )
    if dest.municipality_code:
        try:
            code = validate_local_government_code(dest.municipality_code)
        except CoreError as exc:
            findings.add(error(exc.code, exc.message, field="destination.municipality_code"))
        else:
            if code in _own_codes():
                findings.add(
                    error(
                        "move_out.destination_is_this_city",
                        f"転出先の市区町村コード {code} はこの市です。",
                        field="destination.municipality_code",
                        remedy="市内での住所の変更は転居として入力してください。",
                    )
                )
    return dest.address


def _certificate_entry(record: dict[str, Any]) -> dict[str, Any]:
    """What the 転出証明書 prints for one person (std 4.1.3.0.3, j660)."""
    names = (
        "atena_no",
        "resident_type",
        "family_name",
        "given_name",
        "name_alphabet",
        "name_kana",
        "alias",
        "birth_date",
        "birth_date_text",
        "sex",
        "relationship",
        "head_name",
        "honseki",
        "koseki_head",
        "nationality",
        "juminhyo_code",
        "address",
        "katagaki",
        "address_set_on",
        "elector",
        "insurance",
    )
    return {name: record.get(name) for name in names} | {"name": display_name(record)}


def plan_move_out(actor: Actor, data: MoveOutInput) -> DraftPlan:
    """Validate and build a 転出 draft (no write)."""
    abroad = data.destination.kind == "abroad"
    reason = ChangeReason.MOVE_OUT_ABROAD if abroad else ChangeReason.DOMESTIC_MOVE_OUT
    findings = Findings()
    now = today()
    # std 4.1.3.0.1 (j640): the move date may lie after the notification (a future date)
    findings.extend(
        check_dates(
            data.planned_on, data.notified_on, today=now, future_allowed=True, late_alert=False
        )
    )
    late_days = (data.notified_on - data.planned_on).days
    late = late_days > LATE_DAYS
    if late:
        findings.add(
            alert(
                "move_out.late",
                f"転出予定年月日から{late_days}日後の届出です（14日を経過）。届出ではなく職権で"
                "消除し、転出証明書に代えて転出証明書に準ずる証明書を交付します。",
                field="notified_on",
                remedy="届出期間経過の理由を確認し、必要に応じて簡易裁判所への通知を行ってください。",
            )
        )
    planned_address = _destination(data.destination, findings)
    if data.card_move_out and abroad:
        findings.add(
            error(
                "move_out.card_abroad",
                "国外転出では特例転入を利用した転出はできません。",
                field="card_move_out",
                remedy="特例転入を利用した転出の指定を外してください。",
            )
        )
    elif data.card_move_out and late:
        findings.add(
            error(
                "move_out.card_late",
                "転出から14日を経過した転出は職権で記載するため、特例転入を利用した転出はできません。",
                field="card_move_out",
                remedy="特例転入を利用した転出の指定を外し、転出証明書に準ずる証明書を交付してください。",
            )
        )
    movers = _movers(list(data.persons), findings)
    if findings.has_errors:
        return _refused(MOVE_OUT, reason, data.planned_on, findings)

    household_no = movers[0][1].household_no
    leaving = {r.atena_no for _, r in movers}
    extra = _ex_officio_heads(household_no, leaving, findings)
    plans: list[PersonPlan] = []
    certificate_persons = []
    for _, resident in movers:
        record = snapshot(resident)
        # 除票 (std 1.1.5, j50): the household and address stay as they were at removal
        record.update(
            {
                "status": ResidentStatus.REMOVED.value,
                "removal_reason": reason.value,
                "removed_on": data.planned_on.isoformat(),
                "moved_out_planned_address": planned_address,
                "moved_out_planned_on": data.planned_on.isoformat(),
                "moved_out_address": "",
                "moved_out_on": None,
                "move_in_notice_on": None,
                "notified_on": data.notified_on.isoformat(),
            }
        )
        plans.append(PersonPlan(resident.atena_no, resident.history_no, record))
        certificate_persons.append(_certificate_entry(record))
    if abroad:
        certificate = NO_CERTIFICATE
    elif late:
        certificate = EQUIVALENT_CERTIFICATE
    elif data.card_move_out:
        certificate = CARD_MOVE_OUT_INFO
    else:
        certificate = CERTIFICATE
    destination = data.destination.model_dump() | {"planned_address": planned_address}
    messages = []
    if data.card_move_out:
        # std 4.1.3.0.4 (j670): the 転出証明書情報 goes to the CS, person by person
        for p, entry in zip(plans, certificate_persons, strict=True):
            messages.append(
                Message(
                    topic="move_out_info",
                    destination="cs",
                    ordering_key=p.atena_no,
                    payload=entry
                    | {
                        "household_no": household_no,
                        "planned_on": data.planned_on.isoformat(),
                        "notified_on": data.notified_on.isoformat(),
                        "destination": destination,
                        "my_number_ref": p.after.get("my_number_id"),
                    },
                )
            )
    return DraftPlan(
        procedure=MOVE_OUT,
        change_reason=reason,
        occurred_on=data.planned_on,
        notified_on=data.notified_on,
        persons=plans + extra,
        findings=findings,
        summary={
            "household_no": household_no,
            "destination": destination,
            "planned_on": data.planned_on.isoformat(),
            "notified_on": data.notified_on.isoformat(),
            "card_move_out": data.card_move_out,
            "ex_officio": late,
            "certificate": certificate,
            "certificate_data": {
                "municipality_code": str(settings.JUMIN["MUNICIPALITY_CODE"]),
                "municipality_name": str(settings.JUMIN["MUNICIPALITY_NAME"]),
                "household_no": household_no,
                "head_name": movers[0][1].head_name,
                "address": movers[0][1].address,
                "katagaki": movers[0][1].katagaki,
                "planned_address": planned_address,
                "planned_on": data.planned_on.isoformat(),
                "notified_on": data.notified_on.isoformat(),
                "card_move_out": data.card_move_out,
                "persons": certificate_persons,
            },
            "ex_officio_head": [p.atena_no for p in extra],
        },
        messages=messages,
    )


# --- 転入通知の受理 (std 4.1.3.1) ---------------------------------------------------------------

# j680: a person removed by 転出, or removed ex officio (e.g. after a 実態調査)
_NOTICE_REASONS = {
    ChangeReason.DOMESTIC_MOVE_OUT.value,
    ChangeReason.MOVE_OUT_ABROAD.value,
    ChangeReason.EX_OFFICIO_REMOVAL.value,
}


def plan_move_in_notice_receipt(actor: Actor, data: MoveInNoticeInput) -> DraftPlan:
    """Validate and build the record of a received 転入通知 (no write).

    The change reason is 職権修正: std 1.2.2 (j210) has no reason for a 転入通知, and the
    items are amended on the new city's notice, not on a notification by the person."""
    reason = ChangeReason.EX_OFFICIO_AMENDMENT
    findings = Findings()
    now = today()
    notice_on = data.move_in_notice_on
    for value, field, label in (
        (notice_on, "move_in_notice_on", "転入通知年月日"),
        (data.moved_out_on, "moved_out_on", "転出年月日（確定）"),
    ):
        if value > now:
            findings.add(
                error(
                    f"{field}.future",
                    f"{label}（{value:%Y-%m-%d}）が処理日より後です。",
                    field=field,
                    remedy="転入通知の記載を確認してください。",
                )
            )
    if data.moved_out_on > notice_on:
        findings.add(
            error(
                "move_in_notice.before_move",
                "転入通知年月日が転出年月日（確定）より前です。",
                field="move_in_notice_on",
                remedy="転入通知の日付と転入日を確認してください。",
            )
        )
    if data.municipality_code:
        try:
            validate_local_government_code(data.municipality_code)
        except CoreError as exc:
            findings.add(error(exc.code, exc.message, field="municipality_code"))
    resident = selectors.resident_for_update_check(data.atena_no)
    if resident is None:
        findings.add(
            error(
                "atena_no.unknown",
                f"宛名番号 {data.atena_no} の記録はありません。",
                field="atena_no",
            )
        )
    elif (
        resident.status != ResidentStatus.REMOVED or resident.removal_reason not in _NOTICE_REASONS
    ):
        state = (
            "現在の住民です"
            if resident.status == ResidentStatus.RESIDENT
            else f"消除事由が「{resident.get_removal_reason_display()}」です"
        )
        findings.add(
            error(
                "move_in_notice.not_moved_out",
                f"宛名番号 {data.atena_no}（{resident.name}）は{state}。転入通知は転出または"
                "職権消除により消除された方についてのみ受理できます。",
                field="atena_no",
                remedy="転入通知の宛名番号・氏名を確認してください。",
            )
        )
    if findings.has_errors or resident is None:
        return _refused(MOVE_IN_NOTICE_RECEIPT, reason, notice_on, findings)

    planned_on = resident.moved_out_planned_on
    if resident.removal_reason == ChangeReason.MOVE_OUT_ABROAD:
        findings.add(
            alert(
                "move_in_notice.moved_abroad",
                f"{resident.name} は国外転出として消除されています。",
                field="atena_no",
                remedy="国内の市区町村からの転入通知であることと、消除事由を確認してください。",
            )
        )
    if resident.move_in_notice_on is not None:
        findings.add(
            alert(
                "move_in_notice.already_received",
                f"{resident.name} の転入通知は"
                f"{resident.move_in_notice_on:%Y-%m-%d}に受理済みです。",
                field="atena_no",
                remedy="再送された通知であれば、確定した転出先・転出年月日をこの内容で修正します。",
            )
        )
    if planned_on is not None and planned_on != data.moved_out_on:
        findings.add(
            alert(
                "move_in_notice.date_differs",
                f"転出年月日（確定）{data.moved_out_on:%Y-%m-%d} が転出予定年月日 "
                f"{planned_on:%Y-%m-%d} と異なります。",
                field="moved_out_on",
                remedy="転入通知の転入日を確認してください。転出予定年月日は上書きされません。",
            )
        )
    planned_code = _planned_municipality(data.atena_no)
    if data.municipality_code and planned_code and planned_code != data.municipality_code:
        findings.add(
            alert(
                "move_in_notice.other_municipality",
                f"転入通知を送った市区町村（{data.municipality_code}）が転出予定先"
                f"（{planned_code}）と異なります。",
                field="municipality_code",
                remedy="転入通知の送付元と転出先住所（確定）を確認してください。",
            )
        )
    record = snapshot(resident)
    # j680: beside the planned items, never over them
    record["moved_out_address"] = data.moved_out_address
    record["moved_out_on"] = data.moved_out_on.isoformat()
    record["move_in_notice_on"] = notice_on.isoformat()
    if planned_on is not None and resident.removal_reason in status.MOVE_OUT_REASONS:
        # std 1.1.5 (j50): removed on the planned date or the notified move-in date,
        # whichever is earlier — also for a 国外転出 (acknowledged above) that turns out to
        # have been a move within Japan, so that a 転出予定者 is not a resident here any
        # more once another city has recorded them
        record["removed_on"] = min(planned_on, data.moved_out_on).isoformat()
    return DraftPlan(
        procedure=MOVE_IN_NOTICE_RECEIPT,
        change_reason=reason,
        occurred_on=notice_on,
        notified_on=None,
        persons=[PersonPlan(resident.atena_no, resident.history_no, record)],
        findings=findings,
        summary={
            "municipality_code": data.municipality_code,
            "moved_out_address": data.moved_out_address,
            "moved_out_on": data.moved_out_on.isoformat(),
            "move_in_notice_on": notice_on.isoformat(),
            "planned_on": planned_on.isoformat() if planned_on else None,
        },
    )


def _planned_municipality(atena_no: str) -> str:
    """The destination municipality code entered at the person's last 転出, if any."""
    row = (
        selectors.history_of(atena_no)
        .filter(change__procedure=MOVE_OUT)
        .select_related("change")
        .last()
    )
    if row is None:
        return ""
    summary = row.change.payload.get("summary", {})
    return str(summary.get("destination", {}).get("municipality_code") or "")


def submit_move_within(
    actor: Actor,
    data: MoveWithinInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 転居 as a draft."""
    return _save(actor, lambda: plan_move_within(actor, data), acknowledged, idempotency_key)


def submit_move_out(
    actor: Actor,
    data: MoveOutInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 転出 as a draft."""
    return _save(actor, lambda: plan_move_out(actor, data), acknowledged, idempotency_key)


def submit_move_in_notice_receipt(
    actor: Actor,
    data: MoveInNoticeInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a received 転入通知 as a draft."""
    return _save(
        actor, lambda: plan_move_in_notice_receipt(actor, data), acknowledged, idempotency_key
    )


SPECS = [
    ProcedureSpec(MOVE_WITHIN, "転居", "4.1.2", MoveWithinInput, submit_move_within),
    ProcedureSpec(MOVE_OUT, "転出", "4.1.3", MoveOutInput, submit_move_out),
    ProcedureSpec(
        MOVE_IN_NOTICE_RECEIPT,
        "転入通知の受理",
        "4.1.3.1",
        MoveInNoticeInput,
        submit_move_in_notice_receipt,
    ),
]
