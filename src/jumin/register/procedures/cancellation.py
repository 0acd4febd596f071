"""異動の取消し (std 4.6.0.1, j980) and （申出による）異動の取消し (std 4.6.1.1, j990).

A committed change is cancelled by a new change that APPENDS, for each person of the
cancelled change (all of them, or some: std 4.0.1), the record as it stood before that change
— the history row ``history_no - 1``. A person the change brought into the register (history
row 1) is removed instead (消除事由 異動の取消し（減）). Nothing is deleted or updated in place:
the cancelled change and the cancellation both stay in the history.

The change reason (std 1.2.2, j210) follows what the cancellation does to each person:
cancelling an entry removes (異動の取消し（減）), cancelling a removal restores
(異動の取消し（増）), anything else amends (異動の取消し（修正）). A change has one reason, so a
mixed cancellation takes the reason matching the kind of the cancelled change (or the most
frequent one) and lists every person's own reason in ``summary["person_reasons"]``.

Households (j980): a person whose move is cancelled goes back to the former household at the
former address. If that household is no longer there — every other member left, or it moved
on — the person returns to the former address as a new household. The rules of chapter 4
apply as to any change: a household keeps one head (std 1.1.10), a head leaving is handled as
in std 4.0.4 (j490), and a person who reappears is checked for duplicates.

Only the latest change of a person can be cancelled (the later ones must be cancelled first),
a change is cancelled once, and drafts or rejected changes are never cancelled (a draft is
returned or withdrawn instead). 【実装しない機能】 of j980 — the 虚偽 handling and the alert on
cancelling a 転出 after the move-in notice or the planned date — are deliberately absent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from pydantic import Field

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.core.change_reasons import ChangeKind, ChangeReason
from jumin.core.findings import Finding, Findings, alert, error
from jumin.register import selectors
from jumin.register.models import (
    Change,
    ChangePerson,
    EncryptedMyNumber,
    Resident,
    ResidentHistory,
    ResidentRecord,
    ResidentStatus,
)
from jumin.register.procedures.common import Strict, display_name, head_leaves, head_name, today
from jumin.register.records import SNAPSHOT_FIELDS, snapshot, to_json
from jumin.register.services import DraftPlan, PersonPlan, new_household_no, save_draft
from jumin.register.validation import check_dates, check_duplicates, check_households

PROCEDURE = "change_cancellation"
HEAD = "世帯主"

# What cancelling a change of each kind does (std 4.6.0.1 ①–③).
_BY_KIND = {
    ChangeKind.ENTRY: ChangeReason.CANCELLATION_DECREASE,
    ChangeKind.REMOVAL: ChangeReason.CANCELLATION_INCREASE,
    ChangeKind.AMENDMENT: ChangeReason.CANCELLATION_AMENDMENT,
}


class ChangeCancellationInput(Strict):
    """The change to cancel, why, and (for 申出) the date of the request."""

    change_id: int = Field(..., ge=1, description="取り消す異動の番号")
    reason: str = Field(..., min_length=1, max_length=1000, description="取消しの理由")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")
    notified_on: dt.date | None = Field(
        None, description="申出日（申出による取消しで省略時は処理日、std 4.2.0.5）"
    )
    requested: bool = Field(False, description="申出による取消し（std 4.6.1.1）")
    atena_nos: list[str] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="一部の異動者だけを取り消す場合の宛名番号（省略時は全員）",
    )


@dataclass
class _Person:
    atena_no: str
    current: Resident
    record: dict[str, Any]
    reason: ChangeReason
    extra: bool = False  # not a person of the cancelled change (a head set ex officio)


@dataclass
class _Group:
    """Restored residents who go back to the same former household."""

    household_no: str
    persons: list[_Person] = field(default_factory=list)
    new_household: bool = False
    untouched: list[Resident] = field(default_factory=list)


def history_record(row: ResidentRecord) -> dict[str, Any]:
    """A history row as a snapshot dict (the same items as ``records.snapshot``)."""
    return to_json({name: getattr(row, name) for name in SNAPSHOT_FIELDS})


def plan(actor: Actor, data: ChangeCancellationInput) -> DraftPlan:
    """Validate and build the cancellation draft (no write except household numbers)."""
    findings = Findings()
    now = today()
    occurred_on = data.occurred_on or now
    notified_on = data.notified_on or (now if data.requested else None)
    # A cancellation is not a 届出: no 14-day rule. A request may predate the cancellation.
    findings.extend(check_dates(occurred_on, None, today=now, late_alert=False))
    if notified_on is not None and notified_on > now:
        findings.add(
            error(
                "notified_on.future",
                f"申出日（{notified_on:%Y-%m-%d}）が処理日より後です。",
                field="notified_on",
                remedy="申出日を処理日以前の日付にしてください。",
            )
        )

    def refused() -> DraftPlan:
        return DraftPlan(
            PROCEDURE,
            ChangeReason.CANCELLATION_AMENDMENT,
            occurred_on,
            notified_on,
            [],
            findings,
        )

    target = Change.objects.filter(pk=data.change_id).first()
    if target is None:
        findings.add(
            error(
                "change.unknown",
                f"異動 {data.change_id} はありません。",
                field="change_id",
                remedy="異動履歴から取り消す異動を選択してください。",
            )
        )
        return refused()
    if target.status != Change.Status.COMMITTED:
        remedy = (
            "審査前の異動は差し戻すか取り下げてください。"
            if target.status == Change.Status.DRAFT
            else "本登録されていない異動は住民票に反映されていないため、取消しは不要です。"
        )
        findings.add(
            error(
                "cancellation.not_committed",
                f"異動 {target.pk} は{target.get_status_display()}の状態です。"
                "取り消せるのは本登録された異動だけです。",
                field="change_id",
                remedy=remedy,
            )
        )
        return refused()

    in_change = [p["atena_no"] for p in target.payload["persons"]]
    selected = list(dict.fromkeys(data.atena_nos)) if data.atena_nos else in_change
    for i, atena in enumerate(selected):
        if atena not in in_change:
            findings.add(
                error(
                    "cancellation.person_not_in_change",
                    f"宛名番号 {atena} は異動 {target.pk} の異動者ではありません。",
                    field=f"atena_nos.{i}",
                    remedy="取り消す異動の異動者から選択してください。",
                )
            )
    if findings.has_errors:
        return refused()

    persons = _restore(target, selected, occurred_on, findings)
    if findings.has_errors:
        return refused()

    chosen = {p.atena_no for p in persons}
    groups = _groups(target, persons, chosen, findings)
    extras = _heads_leaving(persons, groups, chosen, findings)
    persons.extend(extras)
    planned = {p.atena_no for p in persons}
    for group in groups:
        if not group.new_household:
            group.untouched = [
                m
                for m in selectors.household_members(group.household_no)
                if m.atena_no not in planned
            ]
    _check_reappearing(persons, findings)
    _check_open_drafts(target, [p.atena_no for p in persons], findings)
    if findings.has_errors:
        return refused()

    new_households: list[str] = []
    for group in groups:
        if group.new_household:
            group.household_no = new_household_no()
            new_households.append(group.household_no)
            for p in group.persons:
                p.record["household_no"] = group.household_no
            if len(group.persons) == 1:
                group.persons[0].record["relationship"] = HEAD
            findings.add(
                alert(
                    "cancellation.new_household",
                    f"{'、'.join(display_name(p.record) for p in group.persons)} の従前の世帯は"
                    f"従前の住所（{group.persons[0].record['address']}）にないため、"
                    f"新たな世帯（世帯番号 {group.household_no}）として復帰します。",
                    field="household_no",
                    remedy="世帯主・続柄を確認してください。",
                )
            )
        records = [
            p.record
            for p in persons
            if p.record["household_no"] == group.household_no
            and p.record["status"] == ResidentStatus.RESIDENT
        ]
        head = head_name(records, group.household_no, group.untouched)
        for p in group.persons:
            p.record["head_name"] = head
    findings.extend(
        check_households(
            [p.record for p in persons],
            untouched=[m for g in groups for m in g.untouched],
        )
    )

    reasons = {p.atena_no: p.reason for p in persons if not p.extra}
    change_reason = _dominant(ChangeReason(target.change_reason), list(reasons.values()))
    person_reasons = {p.atena_no: p.reason.value for p in persons}
    return DraftPlan(
        procedure=PROCEDURE,
        change_reason=change_reason,
        occurred_on=occurred_on,
        notified_on=notified_on,
        persons=[PersonPlan(p.atena_no, p.current.history_no, to_json(p.record)) for p in persons],
        findings=findings,
        summary={
            "cancels": target.pk,
            "cancelled_procedure": target.procedure,
            "cancelled_reason": target.change_reason,
            "reason": data.reason,
            "requested": data.requested,
            "partial": len(selected) < len(in_change),
            "cancelled_persons": [p.atena_no for p in persons if not p.extra],
            "person_reasons": person_reasons,
            "mixed": len(set(person_reasons.values())) > 1,
        },
        new_households=new_households,
    )


def submit(
    actor: Actor,
    data: ChangeCancellationInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a cancellation as a draft; a reviewer commits it like any other change."""
    authorize(actor, Perm.CHANGE_CANCEL, "異動の取消し")
    with transaction.atomic():
        draft = plan(actor, data)
        cancelled = draft.summary.get("cancels")
        target = Change.objects.get(pk=cancelled) if cancelled else None
        return save_draft(
            actor,
            draft,
            acknowledged=acknowledged,
            idempotency_key=idempotency_key,
            cancels=target,
        )


# --- the steps ----------------------------------------------------------------------------


def _restore(
    target: Change, selected: list[str], occurred_on: dt.date, findings: Findings
) -> list[_Person]:
    """Each selected person's record before ``target``, if ``target`` is still their latest."""
    current = {r.atena_no: r for r in Resident.objects.filter(atena_no__in=selected)}
    out: list[_Person] = []
    for i, atena in enumerate(selected):
        resident = current.get(atena)
        if resident is None:  # a committed change always wrote the person's record
            findings.add(
                error(
                    "cancellation.no_history",
                    f"宛名番号 {atena} について異動 {target.pk} の履歴がありません。",
                    field=f"atena_nos.{i}",
                )
            )
            continue
        standing = _standing_cancellation(target, atena)
        found = (
            _Blocked(standing, already_cancelled=True)
            if standing is not None
            else _latest_effective(target, resident)
        )
        if isinstance(found, _Blocked):
            findings.add(found.finding(atena, resident, target, f"atena_nos.{i}"))
            continue
        if found == 1:
            # The change brought this person into the register: the cancellation removes them,
            # keeping the household and address as of removal (除票).
            record = snapshot(resident)
            record.update(
                status=ResidentStatus.REMOVED.value,
                removal_reason=ChangeReason.CANCELLATION_DECREASE.value,
                removed_on=occurred_on.isoformat(),
            )
            reason = ChangeReason.CANCELLATION_DECREASE
        else:
            before = ResidentHistory.objects.get(atena_no=atena, history_no=found - 1)
            record = history_record(before)
            reason = _reason(before.status, resident.status)
        out.append(_Person(atena, resident, record, reason))
    return out


def _restored_persons(change: Change) -> list[str]:
    """The persons a cancellation restored (not a head it set ex officio)."""
    listed = change.payload.get("summary", {}).get("cancelled_persons")
    if listed is not None:
        return list(listed)
    return [p["atena_no"] for p in change.payload.get("persons", [])]


def _standing_cancellation(target: Change, atena: str) -> ResidentHistory | None:
    """The history row of a committed cancellation of ``target`` for this person that has not
    itself been cancelled."""
    committed = Change.Status.COMMITTED
    for cancel in Change.objects.filter(cancels=target, status=committed).order_by("pk"):
        if atena not in _restored_persons(cancel):
            continue
        undone = any(
            atena in _restored_persons(c)
            for c in Change.objects.filter(cancels=cancel, status=committed)
        )
        if not undone:
            return ResidentHistory.objects.filter(change=cancel, atena_no=atena).first()
    return None


@dataclass
class _Blocked:
    """Why ``target`` is not the person's latest change: a later change, or its cancellation."""

    later: ResidentHistory
    already_cancelled: bool = False

    def finding(self, atena: str, resident: Resident, target: Change, field: str) -> Finding:
        later = self.later
        if self.already_cancelled:
            return error(
                "cancellation.already_cancelled",
                f"宛名番号 {atena}（{resident.name}）について、異動 {target.pk} は"
                f"異動 {later.change_id} で既に取り消されています。",
                field=field,
                remedy="取消しを元に戻す場合は、取消しの異動を取り消してください。",
            )
        return error(
            "cancellation.not_latest",
            f"宛名番号 {atena}（{resident.name}）には、この異動より後の異動 "
            f"{later.change_id}（{later.get_change_reason_display()}、"
            f"異動日 {later.occurred_on:%Y-%m-%d}）があります。"
            "取り消せるのは各人の最新の異動だけです。",
            field=field,
            remedy=f"先に異動 {later.change_id} を取り消してください。",
        )


def _latest_effective(target: Change, resident: Resident) -> int | _Blocked:
    """The history number ``target`` wrote for the person when it is their latest change in
    effect — later changes that were themselves cancelled do not count (a change and its
    cancellation cancel out) — or why it is not."""
    rows = {
        r.history_no: r
        for r in ResidentHistory.objects.filter(atena_no=resident.atena_no).select_related("change")
    }
    by_change = {r.change_id: r.history_no for r in rows.values()}
    no = resident.history_no
    while no in rows:
        row = rows[no]
        if row.change_id == target.pk:
            return no
        cancelled = row.change.cancels_id
        skipped = by_change.get(cancelled) if cancelled is not None else None
        restored = row.change.payload.get("summary", {}).get("cancelled_persons")
        if restored is not None and resident.atena_no not in restored:
            skipped = None  # a head set ex officio by the cancellation: a change of its own
        if skipped is None or skipped >= no:
            return _Blocked(row)
        if cancelled == target.pk:
            return _Blocked(row, already_cancelled=True)
        no = skipped - 1  # the cancellation and the change it cancelled cancel out
    return _Blocked(rows[resident.history_no])


def _reason(before: str, after: str) -> ChangeReason:
    resident = ResidentStatus.RESIDENT
    if before == resident and after != resident:
        return ChangeReason.CANCELLATION_INCREASE  # a removal is undone
    if before != resident and after == resident:
        return ChangeReason.CANCELLATION_DECREASE  # an entry is undone
    return ChangeReason.CANCELLATION_AMENDMENT


def _dominant(cancelled: ChangeReason, reasons: list[ChangeReason]) -> ChangeReason:
    """The change's one reason: the one matching the cancelled change's kind when a person
    has it, else the most frequent (ties: 減, 増, 修正 in that order)."""
    preferred = _BY_KIND[cancelled.kind]
    if not reasons or preferred in reasons:
        return preferred
    order = list(_BY_KIND.values())
    counts = Counter(reasons)
    return max(order, key=lambda r: (counts[r], -order.index(r)))


def _place(rec: dict[str, Any] | Resident) -> tuple[str, str, str]:
    if isinstance(rec, Resident):
        return rec.address_code, rec.address, rec.katagaki
    return rec.get("address_code") or "", rec.get("address") or "", rec.get("katagaki") or ""


def _groups(
    target: Change, persons: list[_Person], chosen: set[str], findings: Findings
) -> list[_Group]:
    """Where each restored resident goes back to (j980): the former household at the former
    address, or a new household there when that household has gone or moved on."""
    by_household: dict[str, _Group] = {}
    for p in persons:
        if p.record["status"] == ResidentStatus.RESIDENT:
            group = by_household.setdefault(
                p.record["household_no"], _Group(p.record["household_no"])
            )
            group.persons.append(p)
    in_change = {p["atena_no"] for p in target.payload["persons"]}
    first_row = (
        ResidentHistory.objects.filter(change=target).order_by("pk").values_list("pk", flat=True)
    ).first()
    for group in by_household.values():
        members = [
            m for m in selectors.household_members(group.household_no) if m.atena_no not in chosen
        ]
        place = _place(group.persons[0].record)
        if members:
            if any(_place(m) != place for m in members):
                group.new_household = True  # the former household lives elsewhere now
            else:
                _check_head_changed(group, members, findings)
        elif first_row is not None and _had_other_members(group.household_no, in_change, first_row):
            group.new_household = True  # everyone else of the former household has left
    return list(by_household.values())


def _had_other_members(household_no: str, in_change: set[str], before_pk: int) -> bool:
    """Whether anyone outside the cancelled change lived in the household just before it."""
    candidates = (
        ResidentHistory.objects.filter(household_no=household_no, pk__lt=before_pk)
        .exclude(atena_no__in=in_change)
        .values_list("atena_no", flat=True)
        .distinct()
    )
    for atena in candidates:
        last = (
            ResidentHistory.objects.filter(atena_no=atena, pk__lt=before_pk)
            .order_by("-history_no")
            .first()
        )
        if (
            last is not None
            and last.household_no == household_no
            and last.status == ResidentStatus.RESIDENT
        ):
            return True
    return False


def _check_head_changed(group: _Group, members: list[Resident], findings: Findings) -> None:
    head = next((m for m in members if m.relationship == HEAD), None)
    if head is None:
        return
    for p in group.persons:
        if p.record.get("relationship") != HEAD and p.record.get("head_name") != head.name:
            findings.add(
                alert(
                    "cancellation.head_changed",
                    f"世帯（{group.household_no}）の世帯主は {head.name} に変わっています。"
                    f"{display_name(p.record)} の続柄（{p.record.get('relationship')}）は"
                    "従前の世帯主に対するものです。",
                    field="relationship",
                    remedy="取消しの後、続柄を確認し必要なら修正してください。",
                )
            )


def _heads_leaving(
    persons: list[_Person], groups: list[_Group], chosen: set[str], findings: Findings
) -> list[_Person]:
    """std 4.0.4 (j490): a head who leaves their current household by the cancellation."""
    staying: dict[str, str] = {}
    for group in groups:
        for p in group.persons:
            if not group.new_household:
                staying[p.atena_no] = group.household_no
    leaving: dict[str, set[str]] = defaultdict(set)
    for p in persons:
        cur = p.current
        if cur.status == ResidentStatus.RESIDENT and staying.get(p.atena_no) != cur.household_no:
            leaving[cur.household_no].add(p.atena_no)
    by_atena = {p.atena_no: p for p in persons}
    extras: list[_Person] = []
    for household_no, leavers in sorted(leaving.items()):
        for resident, record in head_leaves(household_no, leavers, findings):
            if resident.atena_no in chosen:
                # a restored person who stays becomes the head ex officio
                by_atena[resident.atena_no].record.update(
                    relationship=HEAD, head_name=record["head_name"]
                )
                continue
            extras.append(
                _Person(
                    resident.atena_no,
                    resident,
                    record,
                    ChangeReason.CANCELLATION_AMENDMENT,
                    extra=True,
                )
            )
    return extras


def _check_reappearing(persons: list[_Person], findings: Findings) -> None:
    """A person restored to the register may have been registered again meanwhile."""
    back = [
        p
        for p in persons
        if p.current.status != ResidentStatus.RESIDENT
        and p.record["status"] == ResidentStatus.RESIDENT
    ]
    if not back:
        return
    hashes: dict[str, str] = {}
    for p in back:
        if p.record.get("my_number_id"):
            row = EncryptedMyNumber.objects.filter(pk=p.record["my_number_id"]).first()
            if row is not None:
                hashes[p.atena_no] = row.lookup_hash
    records = [p.record | {"atena_no": p.atena_no} for p in back]
    findings.extend(check_duplicates(records, my_number_hashes=hashes))


def _check_open_drafts(target: Change, atena_nos: list[str], findings: Findings) -> None:
    drafts = (
        ChangePerson.objects.filter(atena_no__in=atena_nos, change__status=Change.Status.DRAFT)
        .exclude(change=target)
        .values_list("change_id", flat=True)
        .distinct()
        .order_by("change_id")
    )
    ids = list(drafts)
    if ids:
        findings.add(
            alert(
                "cancellation.open_drafts",
                f"取消しの対象者に審査待ちの異動（{'、'.join(str(i) for i in ids)}）があります。"
                "取消しを本登録すると、それらは本登録できなくなります。",
                field="change_id",
                remedy="審査待ちの異動を差し戻し、取消しの後で入力し直してください。",
            )
        )


from jumin.register.procedures.registry import ProcedureSpec  # noqa: E402

SPECS = [
    ProcedureSpec(PROCEDURE, "異動の取消し", "4.6", ChangeCancellationInput, submit),
]
