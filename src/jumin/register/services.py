"""Writes to the register: drafts, review (commit / reject), edit locks, numbering.

Invariants (DESIGN): every write takes the acting staff member and runs in one transaction
that writes the domain rows, the history rows, the operation-log entry and the outbox
messages (1); history is append-only (2); a draft is committed by a different member of
staff with the review permission and is invisible until then (3, std 4.0.8 j530); errors
block and alerts need a recorded acknowledgement (4, std 11.1 j1440).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from jumin.accounts import services as account_services
from jumin.accounts.actor import Actor
from jumin.accounts.models import Staff
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import Finding, Findings, FindingsError, error
from jumin.core.identifiers import make_atena_no, make_household_no
from jumin.outbox import services as outbox
from jumin.register.models import (
    Change,
    ChangePerson,
    EditLock,
    Household,
    NumberSequence,
    Resident,
    ResidentHistory,
)
from jumin.register.procedures.registry import system_enterable
from jumin.register.records import from_json, search_keys, snapshot

LOCK_MINUTES = 15
DEFAULT_BULK_CAP = 100


@dataclass
class PersonPlan:
    """One person's full record after the change; ``base_history_no`` is the history number
    the draft was built on (None for a person new to the register)."""

    atena_no: str
    base_history_no: int | None
    after: dict[str, Any]
    reason: ChangeReason | None = None  # when this person's reason differs from the change's


@dataclass
class Message:
    topic: str
    destination: str
    ordering_key: str
    payload: dict[str, Any]


@dataclass
class DraftPlan:
    """What a procedure produces: the persons after the change, and what it found."""

    procedure: str
    change_reason: ChangeReason
    occurred_on: dt.date
    notified_on: dt.date | None
    persons: list[PersonPlan]
    findings: Findings = field(default_factory=Findings)
    summary: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    new_households: list[str] = field(default_factory=list)


# std 10.2 (j1370) 異動入力: 履歴追加 / 履歴修正 / 履歴削除, for the draft (仮登録) and the
# commit (本登録) alike. Corrections amend a history; a cancellation takes one back.
AMEND_PROCEDURES = frozenset(
    {"ex_officio_amendment", "minor_correction", "clerical_error_correction"}
)
DELETE_PROCEDURES = frozenset({"change_cancellation"})


def change_category(procedure: str) -> Category:
    if procedure in DELETE_PROCEDURES:
        return Category.CHANGE_DELETE
    if procedure in AMEND_PROCEDURES:
        return Category.CHANGE_AMEND
    return Category.CHANGE_ADD


def _household_fingerprint(plan_persons: Sequence[PersonPlan]) -> dict[str, list[list[Any]]]:
    """The committed members (宛名番号, 履歴番号) of every household the change touches, so
    that a commit can tell whether another change reached one of them since the draft."""
    atenas = [p.atena_no for p in plan_persons]
    households = {
        str(p.after.get("household_no")) for p in plan_persons if p.after.get("household_no")
    }
    households |= set(
        Resident.objects.filter(atena_no__in=atenas).values_list("household_no", flat=True)
    )
    out: dict[str, list[list[Any]]] = {h: [] for h in sorted(households)}
    rows = (
        Resident.objects.filter(household_no__in=households, status="resident")
        .order_by("household_no", "atena_no")
        .values_list("household_no", "atena_no", "history_no")
    )
    for household_no, atena_no, history_no in rows:
        out[household_no].append([atena_no, history_no])
    return out


def _refuse(code: str, message: str, *, field_name: str = "", remedy: str = "") -> FindingsError:
    return FindingsError([error(code, message, field=field_name, remedy=remedy)])


# --- numbering (std 1.1.13, j130) -----------------------------------------------------


def _next(name: str) -> int:
    with transaction.atomic():
        seq = NumberSequence.objects.select_for_update().filter(name=name).first()
        if seq is None:
            NumberSequence.objects.bulk_create(
                [NumberSequence(name=name, last_value=0)], ignore_conflicts=True
            )
            seq = NumberSequence.objects.select_for_update().get(name=name)
        seq.last_value += 1
        seq.save(update_fields=["last_value"])
        return seq.last_value


def next_atena_no() -> str:
    return make_atena_no(_next("atena_no"))


def new_household_no() -> str:
    """Assign a fresh 世帯番号 and create its household row."""
    number = make_household_no(_next("household_no"))
    Household.objects.create(household_no=number)
    return number


def reserve_numbers(name: str, count: int) -> int:
    """Reserve ``count`` numbers at once (import); returns the first sequence value."""
    with transaction.atomic():
        seq = NumberSequence.objects.select_for_update().filter(name=name).first()
        if seq is None:
            seq = NumberSequence.objects.create(name=name, last_value=0)
        first = seq.last_value + 1
        seq.last_value += count
        seq.save(update_fields=["last_value"])
    return first


# --- edit locks (std 10.3) -------------------------------------------------------------


def acquire_lock(actor: Actor, atena_no: str, *, minutes: int = LOCK_MINUTES) -> EditLock:
    """Take the edit lock on a person, or refuse naming who holds it."""
    if actor.staff is None:
        raise PermissionDenied("編集ロックは職員のみ取得できます。")
    now = timezone.now()
    with transaction.atomic():
        lock = EditLock.objects.select_for_update().filter(atena_no=atena_no).first()
        if lock is not None and lock.holder_id != actor.staff.pk and lock.expires_at > now:
            holder = lock.holder
            raise _refuse(
                "lock.held",
                f"宛名番号 {atena_no} は {holder.name}（{holder.staff_id}）が編集中です"
                f"（{timezone.localtime(lock.expires_at):%H:%M} まで）。照会のみできます。",
                field_name="atena_no",
                remedy="編集が終わるのを待つか、編集中の職員に連絡してください。",
            )
        expires = now + dt.timedelta(minutes=minutes)
        if lock is None:
            try:
                with transaction.atomic():
                    lock = EditLock.objects.create(
                        atena_no=atena_no, holder=actor.staff, acquired_at=now, expires_at=expires
                    )
            except IntegrityError as exc:
                raise _refuse(
                    "lock.held",
                    f"宛名番号 {atena_no} は他の職員が編集を始めました。照会のみできます。",
                    field_name="atena_no",
                ) from exc
        else:
            lock.holder = actor.staff
            lock.acquired_at = now
            lock.expires_at = expires
            lock.save(update_fields=["holder", "acquired_at", "expires_at"])
    return lock


def release_lock(actor: Actor, atena_no: str) -> None:
    if actor.staff is None:
        return
    EditLock.objects.filter(atena_no=atena_no, holder=actor.staff).delete()


def active_lock(atena_no: str) -> EditLock | None:
    """Who is editing a person now (an unexpired lock), for the screens to show."""
    return (
        EditLock.objects.select_related("holder")
        .filter(atena_no=atena_no, expires_at__gt=timezone.now())
        .first()
    )


def _check_locks(actor: Actor, atena_nos: Iterable[str]) -> None:
    now = timezone.now()
    held = (
        EditLock.objects.filter(atena_no__in=list(atena_nos), expires_at__gt=now)
        .exclude(holder=actor.staff)
        .select_related("holder")
        .first()
    )
    if held is not None:
        raise _refuse(
            "lock.held",
            f"宛名番号 {held.atena_no} は {held.holder.name}"
            f"（{held.holder.staff_id}）が編集中です。",
            field_name="atena_no",
            remedy="編集が終わるのを待ってください。",
        )


# --- drafts ----------------------------------------------------------------------------


SYSTEM_OPERATOR_ID = "batch:cs"


def system_operator() -> Staff:
    """The account recorded as 入力者 of a draft the system actor enters (only procedures
    flagged ``system_enterable`` in the registry: the CS's 転入通知の受理 and 個人番号の記録).
    It cannot log in, so the reviewer who commits such a draft is always someone else
    (invariant 3)."""
    return account_services.system_account(
        SYSTEM_OPERATOR_ID, name="住基ネットCS（自動入力）", name_kana="ジュウキネットシーエス"
    )


def save_draft(
    actor: Actor,
    plan: DraftPlan,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
    cancels: Change | None = None,
) -> Change:
    """Record a procedure's result as a draft (仮登録). Refuses, writing nothing, when the
    plan has an error or an alert the clerk has not acknowledged."""
    authorize(actor, Perm.CHANGE_DRAFT, "異動の入力")
    if actor.staff is None and not system_enterable(plan.procedure):
        raise PermissionDenied("異動は職員として入力してください。")
    if idempotency_key:
        existing = Change.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing  # a resubmitted form: the same draft, not a second one
    findings = plan.findings
    if findings.blocks(acknowledged):
        raise FindingsError(Findings(findings.errors + findings.unacknowledged(acknowledged)))
    _check_locks(actor, [p.atena_no for p in plan.persons])
    try:
        with transaction.atomic():
            change = Change.objects.create(
                procedure=plan.procedure,
                change_reason=plan.change_reason.value,
                occurred_on=plan.occurred_on,
                notified_on=plan.notified_on,
                payload={
                    "persons": [
                        {
                            "atena_no": p.atena_no,
                            "base_history_no": p.base_history_no,
                            "after": p.after,
                        }
                        for p in plan.persons
                    ],
                    "summary": plan.summary,
                    "messages": [m.__dict__ for m in plan.messages],
                    "new_households": plan.new_households,
                    "households": _household_fingerprint(plan.persons),
                },
                findings=findings.as_list(),
                acknowledged=sorted(set(acknowledged) & {f.code for f in findings.alerts}),
                created_by=actor.staff or system_operator(),
                terminal=actor.terminal,
                idempotency_key=idempotency_key,
                cancels=cancels,
            )
            ChangePerson.objects.bulk_create(
                ChangePerson(change=change, atena_no=p.atena_no, base_history_no=p.base_history_no)
                for p in plan.persons
            )
            audit.record(
                actor,
                category=change_category(plan.procedure),
                function=f"異動の仮登録（{plan.change_reason.label}）",
                screen=plan.procedure,
                targets=[p.atena_no for p in plan.persons],
                detail={"change_id": change.pk, "acknowledged": change.acknowledged},
            )
    except IntegrityError:
        if idempotency_key:
            existing = Change.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return change


class _PreviewDone(Exception):
    """Raised inside ``submit_plan`` to roll back a preview's planning."""


_preview: ContextVar[list[DraftPlan] | None] = ContextVar("jumin_preview", default=None)


@dataclass
class Preview:
    """A planned change not saved: the plan, and each existing person's record before it."""

    plan: DraftPlan
    before: dict[str, dict[str, Any]]


PREVIEW_FUNCTION = "異動入力の確認"


def preview(submit: Callable[..., Any], actor: Actor, data: Any) -> Preview:
    """Plan a procedure without saving anything: what the confirmation screen shows.

    ``submit`` is a procedure's submit function (a ``ProcedureSpec.submit``); it runs as
    usual up to the planner, whose result is returned, and everything the planner wrote
    (numbers taken, codes reserved, an encrypted 個人番号) is rolled back. A planner that
    refuses outright raises ``FindingsError`` as it would on submit. Locks held by someone
    else are reported as an error finding, as saving would refuse them.
    """
    holder: list[DraftPlan] = []
    token = _preview.set(holder)
    try:
        submit(actor, data)
    except _PreviewDone:
        pass
    finally:
        _preview.reset(token)
    if not holder:  # pragma: no cover - every procedure submits through submit_plan
        raise RuntimeError("the procedure did not plan through submit_plan")
    plan = holder[0]
    atenas = [p.atena_no for p in plan.persons]
    try:
        _check_locks(actor, atenas)
    except FindingsError as exc:
        plan.findings.extend(exc.findings)
    before = {
        r.atena_no: snapshot(r)
        for r in Resident.objects.filter(
            atena_no__in=[p.atena_no for p in plan.persons if p.base_history_no]
        )
    }
    if before:  # the confirmation shows these persons' records: a read (invariant 5)
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=PREVIEW_FUNCTION,
            screen=plan.procedure,
            targets=sorted(before),
        )
    return Preview(plan, before)


def submit_plan(
    planner: Callable[[Actor, Any], DraftPlan],
    actor: Actor,
    data: Any,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
    cancels: Change | None = None,
    also_needs: Perm | None = None,
) -> Change:
    """Plan a procedure and save its draft in one transaction — how every procedure submits.

    The permission (and ``also_needs``, for a function with a permission of its own) is
    checked before the transaction, so a refusal stays in the operation log; a resubmitted
    form (same idempotency key) returns its draft before planning, so it takes no second
    number or code and encrypts nothing; anything the planner wrote (numbers, an encrypted
    個人番号) rolls back with a refused draft.
    """
    authorize(actor, Perm.CHANGE_DRAFT, "異動の入力")
    if also_needs is not None:  # a function the catalogue controls on its own (std 10.3)
        authorize(actor, also_needs, also_needs.label)
    previewing = _preview.get()
    if idempotency_key and previewing is None:
        existing = Change.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    with transaction.atomic():
        draft = planner(actor, data)
        if previewing is not None:
            previewing.append(draft)
            raise _PreviewDone  # roll back whatever planning wrote
        return save_draft(
            actor,
            draft,
            acknowledged=acknowledged,
            idempotency_key=idempotency_key,
            cancels=cancels,
        )


def _draft_for_update(change_id: int) -> Change:
    change = Change.objects.select_for_update().filter(pk=change_id).first()
    if change is None:
        raise _refuse("change.unknown", f"異動 {change_id} はありません。", field_name="change")
    if change.status != Change.Status.DRAFT:
        raise _refuse(
            "change.not_draft",
            f"異動 {change_id} は既に{change.get_status_display()}されています。",
            field_name="change",
            remedy="画面を更新して最新の状態を確認してください。",
        )
    return change


def commit_change(actor: Actor, change_id: int, *, version: int | None = None) -> Change:
    """本登録: a reviewer other than the author commits the draft. Appends a history row per
    person, updates the current view, logs and enqueues messages — in one transaction."""
    authorize(actor, Perm.CHANGE_REVIEW, "異動の本登録")
    assert actor.staff is not None or actor.is_system
    with transaction.atomic():
        change = _draft_for_update(change_id)
        if version is not None and change.version != version:
            raise _refuse(
                "change.stale",
                "この異動は表示後に変更されています。",
                field_name="change",
                remedy="画面を更新してから審査してください。",
            )
        if actor.staff is None and change.created_by.staff_id == SYSTEM_OPERATOR_ID:
            raise _refuse(
                "review.system_draft",
                "システムが入力した異動は、システム（コマンド）では本登録できません。",
                field_name="change",
                remedy="審査権限を持つ職員が画面または API で審査してください。",
            )
        if actor.staff is not None and change.created_by_id == actor.staff.pk:
            raise _refuse(
                "review.same_person",
                "自分で入力した異動は本登録できません。",
                field_name="change",
                remedy="審査権限を持つ別の職員に審査を依頼してください。",
            )
        _apply(actor, change)
        change.status = Change.Status.COMMITTED
        change.reviewed_by = actor.staff
        change.reviewed_at = timezone.now()
        change.version += 1
        change.save(update_fields=["status", "reviewed_by", "reviewed_at", "version"])
    return change


def _apply(actor: Actor, change: Change) -> None:
    persons = change.payload["persons"]
    atena_nos = [p["atena_no"] for p in persons]
    current = {
        r.atena_no: r for r in Resident.objects.select_for_update().filter(atena_no__in=atena_nos)
    }
    expected = change.payload.get("households")
    if expected is not None:
        plans = [PersonPlan(p["atena_no"], p["base_history_no"], p["after"]) for p in persons]
        now_members = _household_fingerprint(plans)
        for household_no, members in expected.items():
            if now_members.get(household_no, []) != members:
                raise _refuse(
                    "change.stale",
                    f"世帯（{household_no}）の構成または記録が、この異動の入力後に変更されています。",
                    field_name="change",
                    remedy="差し戻して、最新の世帯の状態から入力し直してください。",
                )
    now = timezone.now()
    histories = []
    person_reasons = change.payload.get("summary", {}).get("person_reasons", {})
    for person in persons:
        atena = person["atena_no"]
        existing = current.get(atena)
        base = person["base_history_no"]
        if (existing.history_no if existing else None) != base:
            raise _refuse(
                "change.stale",
                f"宛名番号 {atena} の記録は、この異動の入力後に変更されています。",
                field_name="change",
                remedy="差し戻して、最新の記録から入力し直してください。",
            )
        fields = from_json(person["after"])
        fields.update(search_keys(person["after"]))
        fields["atena_no"] = atena
        history_no = (base or 0) + 1
        histories.append(
            ResidentHistory(
                **fields,
                history_no=history_no,
                change=change,
                change_reason=(
                    person.get("reason") or person_reasons.get(atena) or change.change_reason
                ),
                occurred_on=change.occurred_on,
                history_notified_on=change.notified_on,
                processed_at=now,
                operator=change.created_by,
                reviewer=actor.staff,
                terminal=change.terminal,
            )
        )
        if existing is None:
            Resident.objects.create(**fields, history_no=history_no)
        else:
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.history_no = history_no
            existing.save()
    ResidentHistory.objects.bulk_create(histories)
    reason = ChangeReason(change.change_reason)
    for person, history in zip(persons, histories, strict=True):
        outbox.enqueue(
            topic="identity_info",
            destination="cs",
            ordering_key=person["atena_no"],
            idempotency_key=f"change:{change.pk}:{person['atena_no']}:identity_info",
            payload={
                "atena_no": person["atena_no"],
                "history_no": history.history_no,
                "change_reason": history.change_reason,
                "occurred_on": change.occurred_on.isoformat(),
                "juminhyo_code": history.juminhyo_code,
                "my_number_ref": history.my_number_id,
            },
            change_id=change.pk,
        )
    for i, message in enumerate(change.payload.get("messages", [])):
        outbox.enqueue(
            topic=message["topic"],
            destination=message["destination"],
            ordering_key=message["ordering_key"],
            idempotency_key=f"change:{change.pk}:{i}:{message['topic']}",
            payload=message["payload"],
            change_id=change.pk,
        )
    audit.record(
        actor,
        category=change_category(change.procedure),
        function=f"異動の本登録（{reason.label}）",
        screen=change.procedure,
        targets=atena_nos,
        detail={"change_id": change.pk},
    )
    EditLock.objects.filter(atena_no__in=atena_nos).delete()


def reject_change(actor: Actor, change_id: int, *, reason: str) -> Change:
    """差戻し: the reviewer returns the draft with a reason; nothing reaches the register."""
    authorize(actor, Perm.CHANGE_REVIEW, "異動の差戻し")
    reason = reason.strip()
    if not reason:
        raise _refuse("review.reason_empty", "差戻し理由を入力してください。", field_name="reason")
    if len(reason) > 1000:
        raise _refuse(
            "review.reason_too_long",
            "差戻し理由は1000文字以内で入力してください。",
            field_name="reason",
        )
    with transaction.atomic():
        change = _draft_for_update(change_id)
        change.status = Change.Status.REJECTED
        change.reviewed_by = actor.staff
        change.reviewed_at = timezone.now()
        change.rejection_reason = reason
        change.version += 1
        change.save(
            update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason", "version"]
        )
        audit.record(
            actor,
            category=Category.CHANGE_DELETE,
            function="異動の差戻し",
            screen=change.procedure,
            targets=[p["atena_no"] for p in change.payload["persons"]],
            detail={"change_id": change.pk},
        )
    return change


def withdraw_change(actor: Actor, change_id: int) -> Change:
    """取下げ: the author withdraws their own draft."""
    authorize(actor, Perm.CHANGE_DRAFT, "異動の取下げ")
    with transaction.atomic():
        change = _draft_for_update(change_id)
        if actor.staff is None or change.created_by_id != actor.staff.pk:
            raise _refuse(
                "change.not_author", "取下げは入力した職員のみできます。", field_name="change"
            )
        change.status = Change.Status.WITHDRAWN
        change.version += 1
        change.save(update_fields=["status", "version"])
        audit.record(
            actor,
            category=Category.CHANGE_DELETE,
            function="異動の取下げ",
            screen=change.procedure,
            targets=[p["atena_no"] for p in change.payload["persons"]],
            detail={"change_id": change.pk},
        )
    return change


@dataclass
class BulkResult:
    committed: list[int] = field(default_factory=list)
    failed: dict[int, list[Finding]] = field(default_factory=dict)


def bulk_commit(
    actor: Actor, change_ids: Sequence[int], *, cap: int = DEFAULT_BULK_CAP
) -> BulkResult:
    """一括本登録 within a cap; each change commits (or fails) on its own."""
    authorize(actor, Perm.CHANGE_BULK_COMMIT, "異動の一括本登録")
    if len(change_ids) > cap:
        raise _refuse(
            "review.bulk_cap",
            f"一括本登録は{cap}件までです（{len(change_ids)}件が選択されています）。",
            field_name="change_ids",
            remedy=f"{cap}件以下に分けてください。",
        )
    result = BulkResult()
    for change_id in change_ids:
        try:
            commit_change(actor, change_id)
        except FindingsError as exc:
            result.failed[change_id] = list(exc.findings)
            audit.record(
                actor,
                category=Category.CHANGE_ADD,
                function="異動の一括本登録",
                outcome=Outcome.FAILED,
                detail={"change_id": change_id, "codes": [f.code for f in exc.findings]},
            )
        else:
            result.committed.append(change_id)
    return result
