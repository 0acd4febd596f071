"""住民票コード (std 4.3: j870 付番, j880 変更・修正, j890 通知票), 個人番号 (std 4.4, j900) and
旧氏 (std 1.1.7, j70).

住民票コード and the pool of free codes (空きコード, std 4.3.1 j870)
----------------------------------------------------------------------
The national side hands the city a pool of unused codes (``JuminhyoCodePool``, loaded with
``jumin codes load FILE``). A procedure that needs a code takes one **at random** from the free
rows (j870: 無作為で選択) and marks it ``assigned_to`` = the person's 宛名番号 **while building
the draft, inside the draft's transaction**:

- if the draft is refused (an error, an unacknowledged alert) the transaction rolls back and
  the code is free again;
- once the draft is saved the code is never handed out again — not to a second draft either;
- a draft that is later rejected or withdrawn does **not** return its code: the code stays
  marked (``jumin codes status`` counts such codes as "記録に未反映"). Codes are plentiful, the
  national side issues them once, and a code that appeared on a draft's check sheet must not
  turn up on another person's record. (Returning them would need a hook in
  ``services.reject_change`` / ``withdraw_change``.)

Taking a row uses ``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL)
and, everywhere, a conditional ``UPDATE … WHERE assigned_to = ''`` whose row count proves that
this transaction, and no other, took the code. When fewer free codes than
``settings.JUMIN["JUMINHYO_CODE_POOL_MINIMUM"]`` remain, the draft carries an alert (j870).

個人番号 (std 4.4, j900)
-----------------------
The number is validated (core), checked against every resident, current or removed, by its
keyed lookup hash (the finding names the other person's 宛名番号, never the number) and against
open drafts, and stored only encrypted (``crypto.protect_my_number``). It never appears in a
finding, a summary, a log entry or a message: the input field is a ``SecretStr`` and core
messages that would echo the input are replaced by our own.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from pydantic import BaseModel, Field, SecretStr

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Findings, alert, error
from jumin.core.identifiers import validate_juminhyo_code
from jumin.core.names import validate_name, validate_name_kana
from jumin.register import services
from jumin.register.models import (
    Change,
    EncryptedMyNumber,
    JuminhyoCodePool,
    Resident,
    ResidentStatus,
    ResidentType,
)
from jumin.register.procedures.common import Strict, current_member, today
from jumin.register.procedures.registry import ProcedureSpec
from jumin.register.records import snapshot, to_json
from jumin.register.services import DraftPlan, Message, PersonPlan
from jumin.register.validation import check_dates

DEFAULT_POOL_MINIMUM = 100
"""Free codes below which a draft taking a code alerts (j870); override with
``settings.JUMIN["JUMINHYO_CODE_POOL_MINIMUM"]``."""

NOTICE_TOPIC = "juminhyo_code_notice"
NOTICE_DESTINATION = "print"

InputT = TypeVar("InputT", bound=BaseModel)


# --------------------------------------------------------------------------- shared helpers


def submit_plan(
    planner: Callable[[Actor, InputT], DraftPlan],
    actor: Actor,
    data: InputT,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
    also_needs: Perm | None = None,
) -> Change:
    """Run ``planner`` and save its draft in one transaction.

    Permission is checked before the transaction (so that a refusal stays in the operation
    log), and a resubmitted form (same idempotency key) returns its draft *before* planning,
    so that it takes no second 住民票コード and encrypts nothing.
    """
    return services.submit_plan(
        planner,
        actor,
        data,
        acknowledged=acknowledged,
        idempotency_key=idempotency_key,
        also_needs=also_needs,
    )


def target(atena_no: str, findings: Findings, reason: ChangeReason) -> Resident | None:
    """The current resident a one-person change applies to, or None (with an error)."""
    resident = current_member(atena_no, findings, "atena_no")
    if resident is None:
        return None
    foreign = resident.resident_type == ResidentType.FOREIGN
    if not reason.allowed_for(foreign=foreign):
        allowed = "外国人住民" if not foreign else "日本人住民"
        findings.add(
            error(
                "resident_type.not_allowed",
                f"「{reason.label}」は{allowed}のみが対象です。宛名番号 {resident.atena_no} は"
                f"{resident.get_resident_type_display()}です。",
                field="atena_no",
                remedy="対象者と手続を確認してください。",
            )
        )
        return None
    return resident


def one_person_plan(
    procedure: str,
    reason: ChangeReason,
    *,
    occurred_on: dt.date,
    notified_on: dt.date | None,
    resident: Resident | None,
    record: dict[str, Any],
    findings: Findings,
    summary: dict[str, Any] | None = None,
    messages: Iterable[Message] = (),
    others: Iterable[tuple[Resident, dict[str, Any]]] = (),
    others_reason: ChangeReason | None = None,
) -> DraftPlan:
    """A draft changing one person (plus ``others`` whose record follows, e.g. head_name).

    With ``others_reason``, those persons' history rows carry that reason instead of the
    change's (``summary["person_reasons"]`` and ``PersonPlan.reason``)."""
    persons: list[PersonPlan] = []
    summary = dict(summary or {})
    if resident is not None and not findings.has_errors:
        persons.append(PersonPlan(resident.atena_no, resident.history_no, to_json(record)))
        for other, rec in others:
            persons.append(
                PersonPlan(other.atena_no, other.history_no, to_json(rec), reason=others_reason)
            )
            if others_reason is not None and others_reason is not reason:
                summary.setdefault("person_reasons", {})[other.atena_no] = others_reason.value
    return DraftPlan(
        procedure=procedure,
        change_reason=reason,
        occurred_on=occurred_on,
        notified_on=notified_on,
        persons=persons,
        findings=findings,
        summary=summary,
        messages=list(messages) if persons else [],
    )


def request_dates(
    occurred_on: dt.date | None,
    notified_on: dt.date | None,
    findings: Findings,
    *,
    now: dt.date,
    notified_label: str = "請求日",
) -> tuple[dt.date, dt.date]:
    """Dates of a change made on a request (請求・申出, std 4.2.0.5 j790): both default to the
    processing date; request date ≤ 異動日 ≤ processing date. No 14-day rule applies."""
    occurred = occurred_on or now
    notified = notified_on or occurred
    findings.extend(check_dates(occurred, None, today=now))
    if notified > now:
        findings.add(
            error(
                "notified_on.future",
                f"{notified_label}（{notified:%Y-%m-%d}）が処理日より後です。",
                field="notified_on",
                remedy=f"{notified_label}を処理日以前の日付にしてください。",
            )
        )
    elif notified > occurred:
        findings.add(
            error(
                "notified_on.after_occurred",
                f"{notified_label}（{notified:%Y-%m-%d}）が異動日（{occurred:%Y-%m-%d}）より後です。",
                field="notified_on",
                remedy=f"{notified_label}と異動日を確認してください。",
            )
        )
    return occurred, notified


def core_check(findings: Findings, field: str, func: Callable[..., str], value: str) -> str | None:
    """Run a core name check; its message names the item, the finding carries the field."""
    try:
        return func(value, field=field)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field=field))
        return None


# --------------------------------------------------------------------------- the code pool


def pool_minimum() -> int:
    return int(str(settings.JUMIN.get("JUMINHYO_CODE_POOL_MINIMUM", DEFAULT_POOL_MINIMUM)))


def free_code_count() -> int:
    return JuminhyoCodePool.objects.filter(assigned_to="").count()


def take_juminhyo_code(atena_no: str) -> str | None:
    """Take a free 住民票コード at random and mark it assigned to ``atena_no``.

    Must run inside the draft's transaction (the mark is undone if it rolls back). Returns
    None when the pool has no free code.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a 住民票コード is taken inside the draft's transaction")
    free = JuminhyoCodePool.objects.filter(assigned_to="")
    for _ in range(8):
        bounds = free.aggregate(lo=Min("id"), hi=Max("id"))
        lo, hi = bounds["lo"], bounds["hi"]
        if lo is None or hi is None:
            return None
        pivot = lo + secrets.randbelow(hi - lo + 1)
        row = (
            free.filter(id__gte=pivot).order_by("id").select_for_update(skip_locked=True).first()
            or free.filter(id__lt=pivot).order_by("-id").select_for_update(skip_locked=True).first()
        )
        if row is None:
            continue  # every free row is locked by another transaction right now
        taken = JuminhyoCodePool.objects.filter(pk=row.pk, assigned_to="").update(
            assigned_to=atena_no, assigned_at=timezone.now()
        )
        if taken == 1:
            return row.code
    return None


_LATER = "後で住民票コードの職権記載をしてください。"


def assign_code(
    atena_no: str, findings: Findings, *, field: str = "juminhyo_code", required: bool = True
) -> str | None:
    """Take a code for ``atena_no`` and add the pool findings of j870: an error (``required``)
    or an alert when the pool is empty, an alert when it runs low. For other procedures too
    (出生, 国外転入 of a person who has no code)."""
    code = take_juminhyo_code(atena_no)
    if code is None:
        make = error if required else alert
        findings.add(
            make(
                "juminhyo_code.pool_empty",
                "住民票コードの空きコードがありません。"
                + ("" if required else "住民票コードを記載せずに登録します。"),
                field=field,
                remedy="CSから空きコードを取得して `jumin codes load` で取り込み、"
                + (
                    "やり直してください。"
                    if required
                    else "後で住民票コードの職権記載をしてください。"
                ),
            )
        )
        return None
    remaining = free_code_count()
    minimum = pool_minimum()
    if remaining < minimum:
        findings.add(
            alert(
                "juminhyo_code.pool_low",
                f"住民票コードの空きコードが残り{remaining}件です（下限{minimum}件）。",
                field=field,
                remedy="CSから空きコードを取得して `jumin codes load` で取り込んでください。",
            )
        )
    return code


def code_notice(atena_no: str, kind: str, code: str) -> Message:
    """住民票コード通知票 / 変更通知票 / 修正通知票 (std 4.3.3, j890), printed after commit."""
    return Message(
        topic=NOTICE_TOPIC,
        destination=NOTICE_DESTINATION,
        ordering_key=atena_no,
        payload={"atena_no": atena_no, "kind": kind, "juminhyo_code": code},
    )


# --------------------------------------------------------------------------- 住民票コード


class JuminhyoCodeAssignInput(Strict):
    """住民票コードの職権記載 (std 4.3.1, j870): a code from the pool for a person without one."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")


class JuminhyoCodeChangeInput(Strict):
    """住民票コードの変更請求 (std 4.3.2, j880; 法第30条の4): a new code from the pool."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    notified_on: dt.date | None = Field(None, description="請求日（省略時は処理日）")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")


class JuminhyoCodeCorrectionInput(Strict):
    """住民票コードの修正 (std 4.3.2, j880): record the right code (confirmed with the CS)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    juminhyo_code: str = Field(..., max_length=20, description="正しい住民票コード（11桁）")
    reason: str = Field(..., min_length=1, max_length=200, description="修正の理由")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")


def plan_juminhyo_code_assign(actor: Actor, data: JuminhyoCodeAssignInput) -> DraftPlan:
    reason = ChangeReason.JUMINHYO_CODE_EX_OFFICIO_ENTRY
    findings = Findings()
    now = today()
    occurred = data.occurred_on or now
    findings.extend(check_dates(occurred, None, today=now))
    resident = target(data.atena_no, findings, reason)
    record: dict[str, Any] = {}
    code = None
    if resident is not None:
        record = snapshot(resident)
        if resident.juminhyo_code:
            findings.add(
                error(
                    "juminhyo_code.already_assigned",
                    f"宛名番号 {resident.atena_no} には住民票コードが記載済みです。",
                    field="atena_no",
                    remedy="住民票コードを変えるときは「住民票コードの変更請求」を、誤りを正すときは"
                    "「住民票コードの修正」を使ってください。",
                )
            )
        elif not findings.has_errors:
            code = assign_code(resident.atena_no, findings)
            record["juminhyo_code"] = code or ""
    return one_person_plan(
        "juminhyo_code_assign",
        reason,
        occurred_on=occurred,
        notified_on=None,
        resident=resident,
        record=record,
        findings=findings,
        summary={"juminhyo_code": code},
        messages=[code_notice(resident.atena_no, "assigned", code)] if resident and code else [],
    )


def plan_juminhyo_code_change(actor: Actor, data: JuminhyoCodeChangeInput) -> DraftPlan:
    reason = ChangeReason.JUMINHYO_CODE_CHANGE_REQUEST
    findings = Findings()
    occurred, notified = request_dates(data.occurred_on, data.notified_on, findings, now=today())
    resident = target(data.atena_no, findings, reason)
    record: dict[str, Any] = {}
    code = None
    previous = ""
    if resident is not None:
        record = snapshot(resident)  # keeps my_number_id: the 個人番号 stays (法第30条の4)
        previous = resident.juminhyo_code
        if not previous:
            findings.add(
                error(
                    "juminhyo_code.not_assigned",
                    f"宛名番号 {resident.atena_no} には住民票コードが記載されていません。",
                    field="atena_no",
                    remedy="「住民票コードの職権記載」で付番してください。",
                )
            )
        elif not findings.has_errors:
            code = assign_code(resident.atena_no, findings)
            record["juminhyo_code"] = code or ""
    return one_person_plan(
        "juminhyo_code_change",
        reason,
        occurred_on=occurred,
        notified_on=notified,
        resident=resident,
        record=record,
        findings=findings,
        summary={"juminhyo_code": code, "previous_juminhyo_code": previous},
        messages=[code_notice(resident.atena_no, "changed", code)] if resident and code else [],
    )


def plan_juminhyo_code_correction(actor: Actor, data: JuminhyoCodeCorrectionInput) -> DraftPlan:
    reason = ChangeReason.EX_OFFICIO_AMENDMENT
    findings = Findings()
    now = today()
    occurred = data.occurred_on or now
    findings.extend(check_dates(occurred, None, today=now))
    resident = target(data.atena_no, findings, reason)
    try:
        code = validate_juminhyo_code(data.juminhyo_code)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field="juminhyo_code"))
        code = ""
    record: dict[str, Any] = {}
    previous = ""
    pool_row = None
    if resident is not None and code:
        record = snapshot(resident)
        previous = resident.juminhyo_code
        if code == previous:
            findings.add(
                error(
                    "juminhyo_code.unchanged",
                    f"住民票コード {code} は既に記載されている住民票コードと同じです。",
                    field="juminhyo_code",
                    remedy="正しい住民票コードを入力してください。",
                )
            )
        other = Resident.objects.exclude(atena_no=resident.atena_no).filter(juminhyo_code=code)
        dup = other.first()
        if dup is not None:
            findings.add(
                error(
                    "duplicate.juminhyo_code",
                    f"住民票コード {code} は宛名番号 {dup.atena_no} に記載済みです。",
                    field="juminhyo_code",
                    remedy="CSで住民票コードを確認してください。",
                )
            )
        pool_row = JuminhyoCodePool.objects.filter(code=code).first()
        if pool_row is not None and pool_row.assigned_to not in ("", resident.atena_no):
            findings.add(
                error(
                    "juminhyo_code.pool_assigned",
                    f"住民票コード {code} は空きコードから宛名番号 {pool_row.assigned_to} に"
                    "付番済みです。",
                    field="juminhyo_code",
                    remedy="CSで住民票コードを確認してください。",
                )
            )
        record["juminhyo_code"] = code
    if (
        resident is not None
        and pool_row is not None
        and not pool_row.assigned_to
        and not findings.has_errors
    ):
        # the right code was still in the pool: take it so no one else is given it
        JuminhyoCodePool.objects.filter(pk=pool_row.pk, assigned_to="").update(
            assigned_to=resident.atena_no, assigned_at=timezone.now()
        )
    return one_person_plan(
        "juminhyo_code_correction",
        reason,
        occurred_on=occurred,
        notified_on=None,
        resident=resident,
        record=record,
        findings=findings,
        summary={
            "kind": "juminhyo_code_correction",
            "juminhyo_code": code,
            "previous_juminhyo_code": previous,
            "reason": data.reason,
        },
        messages=[code_notice(resident.atena_no, "corrected", code)] if resident and code else [],
    )


# --------------------------------------------------------------------------- 個人番号

_MY_NUMBER_MESSAGES = {
    "my_number.empty": "個人番号が入力されていません。12桁の数字で入力してください。",
    "my_number.digits": "個人番号に数字以外の文字が含まれています。12桁の数字で入力してください。",
    "my_number.length": "個人番号は12桁の数字です。桁数を確認して入力し直してください。",
    "my_number.check_digit": "個人番号のチェックデジット（検査数字）が一致しません。",
}


class MyNumberRecordInput(Strict):
    """個人番号の職権記載 (std 4.4, j900): the number designated by J-LIS for a person who has
    none yet (番号法第7条第1項)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    my_number: SecretStr = Field(..., description="個人番号（12桁）")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")


class MyNumberChangeInput(Strict):
    """個人番号の変更・修正 (std 4.4, j900)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    my_number: SecretStr = Field(..., description="新しい（正しい）個人番号（12桁）")
    kind: Literal["request", "ex_officio_change", "correction"] = Field(
        ...,
        description="request: 請求に基づく変更（番号法第7条第2項）／ ex_officio_change: "
        "職権に基づく変更（番号法施行令第4条第1項）／ correction: 誤記の職権修正（令第12条第3項）",
    )
    notified_on: dt.date | None = Field(None, description="請求日（請求に基づく変更のみ）")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")


_CHANGE_KINDS: dict[str, tuple[ChangeReason, str]] = {
    "request": (ChangeReason.MY_NUMBER_CHANGE_REQUEST, "請求に基づく個人番号の変更"),
    "ex_officio_change": (
        ChangeReason.MY_NUMBER_EX_OFFICIO_AMENDMENT,
        "職権に基づく個人番号の変更",
    ),
    "correction": (ChangeReason.MY_NUMBER_EX_OFFICIO_AMENDMENT, "個人番号の職権修正（誤記）"),
}


def _lookup(number: SecretStr, findings: Findings) -> str | None:
    """The keyed hash of the entered number, or None with an error that never echoes it."""
    from jumin.register.crypto import my_number_lookup_hash

    try:
        return my_number_lookup_hash(number.get_secret_value())
    except CoreError as exc:
        findings.add(
            error(
                exc.code,
                _MY_NUMBER_MESSAGES.get(exc.code, "個人番号が正しくありません。"),
                field="my_number",
                remedy="個人番号通知書等の書類と照合して入力し直してください。",
            )
        )
        return None


def _my_number_conflicts(digest: str, atena_no: str, findings: Findings) -> None:
    """Another resident (current or removed), or an open draft, already has this number."""
    dup = (
        Resident.objects.exclude(atena_no=atena_no)
        .filter(my_number__lookup_hash=digest)
        .order_by("atena_no")
        .first()
    )
    if dup is not None:
        state = "消除済み" if dup.status == ResidentStatus.REMOVED else "住民"
        findings.add(
            error(
                "duplicate.my_number",
                f"この個人番号は宛名番号 {dup.atena_no}（{state}）に記載済みです。",
                field="my_number",
                remedy="同一人でないか、入力した個人番号に誤りがないか確認してください。",
            )
        )
        return
    rows = set(EncryptedMyNumber.objects.filter(lookup_hash=digest).values_list("pk", flat=True))
    if not rows:
        return
    drafts = Change.objects.filter(status=Change.Status.DRAFT).order_by("pk")
    for change_id, payload in drafts.values_list("pk", "payload"):
        for person in payload.get("persons", []):
            if person.get("after", {}).get("my_number_id") in rows:
                findings.add(
                    error(
                        "duplicate.my_number_draft",
                        f"この個人番号は仮登録中の異動#{change_id}（宛名番号 "
                        f"{person.get('atena_no')}）で記載しようとしています。",
                        field="my_number",
                        remedy="その異動の審査が終わってから処理してください。",
                    )
                )
                return


def _protect(number: SecretStr, record: dict[str, Any]) -> None:
    from jumin.register.crypto import protect_my_number

    record["my_number_id"] = protect_my_number(number.get_secret_value()).pk


def plan_my_number_record(actor: Actor, data: MyNumberRecordInput) -> DraftPlan:
    reason = ChangeReason.MY_NUMBER_EX_OFFICIO_ENTRY
    findings = Findings()
    now = today()
    occurred = data.occurred_on or now
    findings.extend(check_dates(occurred, None, today=now))
    resident = target(data.atena_no, findings, reason)
    digest = _lookup(data.my_number, findings)
    record: dict[str, Any] = {}
    if resident is not None:
        record = snapshot(resident)
        if resident.my_number_id is not None:
            findings.add(
                error(
                    "my_number.already_recorded",
                    f"宛名番号 {resident.atena_no} には個人番号が記載済みです。",
                    field="atena_no",
                    remedy="個人番号を変えるときは「個人番号の変更・修正」を使ってください。",
                )
            )
        elif digest is not None:
            _my_number_conflicts(digest, resident.atena_no, findings)
    if resident is not None and not findings.has_errors:
        _protect(data.my_number, record)
    return one_person_plan(
        "my_number_record",
        reason,
        occurred_on=occurred,
        notified_on=None,
        resident=resident,
        record=record,
        findings=findings,
        summary={"kind": "my_number_record"},
    )


def plan_my_number_change(actor: Actor, data: MyNumberChangeInput) -> DraftPlan:
    reason, label = _CHANGE_KINDS[data.kind]
    findings = Findings()
    now = today()
    if data.kind == "request":
        occurred, notified = request_dates(data.occurred_on, data.notified_on, findings, now=now)
        notified_on: dt.date | None = notified
    else:
        occurred = data.occurred_on or now
        findings.extend(check_dates(occurred, None, today=now))
        notified_on = None
        if data.notified_on is not None:
            findings.add(
                error(
                    "notified_on.not_applicable",
                    "請求日は請求に基づく変更のときだけ入力します。",
                    field="notified_on",
                    remedy="請求日を空欄にするか、種別を「請求に基づく変更」にしてください。",
                )
            )
    resident = target(data.atena_no, findings, reason)
    digest = _lookup(data.my_number, findings)
    record: dict[str, Any] = {}
    if resident is not None:
        record = snapshot(resident)
        current = resident.my_number
        if current is None:
            findings.add(
                error(
                    "my_number.not_recorded",
                    f"宛名番号 {resident.atena_no} には個人番号が記載されていません。",
                    field="atena_no",
                    remedy="「個人番号の職権記載」を使ってください。",
                )
            )
        elif digest is not None and current.lookup_hash == digest:
            findings.add(
                error(
                    "my_number.unchanged",
                    "入力した個人番号は記載されている個人番号と同じです。",
                    field="my_number",
                    remedy="新しい（正しい）個人番号を入力してください。",
                )
            )
        elif digest is not None:
            _my_number_conflicts(digest, resident.atena_no, findings)
    if resident is not None and not findings.has_errors:
        _protect(data.my_number, record)
    return one_person_plan(
        "my_number_change",
        reason,
        occurred_on=occurred,
        notified_on=notified_on,
        resident=resident,
        record=record,
        findings=findings,
        summary={"kind": data.kind, "label": label},
    )


# --------------------------------------------------------------------------- 旧氏


class FormerFamilyNameInput(Strict):
    """旧氏の記載・変更 (std 1.1.7, j70), on request (請求)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    former_family_name: str = Field("", max_length=100, description="旧氏")
    former_family_name_kana: str = Field("", max_length=100, description="旧氏の振り仮名")
    notified_on: dt.date | None = Field(None, description="請求日（省略時は処理日）")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")


class FormerFamilyNameRemovalInput(Strict):
    """旧氏の削除 (std 1.1.7, j70), on request (請求)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    notified_on: dt.date | None = Field(None, description="請求日（省略時は処理日）")
    occurred_on: dt.date | None = Field(None, description="異動日（省略時は処理日）")


def _former_target(
    data: FormerFamilyNameInput | FormerFamilyNameRemovalInput,
    reason: ChangeReason,
    findings: Findings,
) -> tuple[Resident | None, dict[str, Any], dt.date, dt.date]:
    occurred, notified = request_dates(data.occurred_on, data.notified_on, findings, now=today())
    resident = target(data.atena_no, findings, reason)
    if resident is not None and resident.resident_type == ResidentType.FOREIGN:
        # std 1.1.2 (j20) lists no 旧氏 for foreign residents: they have the 通称
        findings.add(
            error(
                "former_family_name.foreign",
                f"宛名番号 {resident.atena_no} は外国人住民です。"
                "旧氏は日本人住民のみ記載できます。",
                field="atena_no",
                remedy="外国人住民の呼称は「通称の記載」で記載してください。",
            )
        )
        resident = None
    return resident, (snapshot(resident) if resident else {}), occurred, notified


def _former_items(data: FormerFamilyNameInput, record: dict[str, Any], findings: Findings) -> None:
    name = core_check(findings, "former_family_name", validate_name, data.former_family_name)
    kana = core_check(
        findings, "former_family_name_kana", validate_name_kana, data.former_family_name_kana
    )
    if name is None or kana is None:
        return
    if name == record.get("family_name"):
        findings.add(
            alert(
                "former_family_name.same_as_current",
                f"旧氏「{name}」が現在の氏と同じです。",
                field="former_family_name",
                remedy="戸籍で旧氏を確認してください。",
            )
        )
    record["former_family_name"] = name
    record["former_family_name_kana"] = kana


def _no_former(resident: Resident, findings: Findings, use: str) -> None:
    findings.add(
        error(
            "former_family_name.none",
            f"宛名番号 {resident.atena_no} には旧氏が記載されていません。",
            field="atena_no",
            remedy=f"「{use}」を使ってください。",
        )
    )


def plan_former_family_name_entry(actor: Actor, data: FormerFamilyNameInput) -> DraftPlan:
    reason = ChangeReason.FORMER_FAMILY_NAME_ENTRY
    findings = Findings()
    resident, record, occurred, notified = _former_target(data, reason, findings)
    if resident is not None:
        if resident.former_family_name:
            findings.add(
                error(
                    "former_family_name.exists",
                    f"宛名番号 {resident.atena_no} には旧氏「{resident.former_family_name}」が"
                    "記載済みです。",
                    field="atena_no",
                    remedy="旧氏を改めるときは「旧氏の変更」を使ってください。",
                )
            )
        _former_items(data, record, findings)
    return one_person_plan(
        "former_family_name_entry",
        reason,
        occurred_on=occurred,
        notified_on=notified,
        resident=resident,
        record=record,
        findings=findings,
    )


def plan_former_family_name_change(actor: Actor, data: FormerFamilyNameInput) -> DraftPlan:
    reason = ChangeReason.FORMER_FAMILY_NAME_CHANGE
    findings = Findings()
    resident, record, occurred, notified = _former_target(data, reason, findings)
    summary: dict[str, Any] = {}
    if resident is not None:
        if not resident.former_family_name:
            _no_former(resident, findings, "旧氏の記載")
        else:
            _former_items(data, record, findings)
            before = (resident.former_family_name, resident.former_family_name_kana)
            if (record["former_family_name"], record["former_family_name_kana"]) == before:
                findings.add(
                    error(
                        "former_family_name.unchanged",
                        "旧氏と振り仮名が記載されているものと同じです。",
                        field="former_family_name",
                        remedy="変更後の旧氏を入力してください。",
                    )
                )
            summary["previous_former_family_name"] = resident.former_family_name
    return one_person_plan(
        "former_family_name_change",
        reason,
        occurred_on=occurred,
        notified_on=notified,
        resident=resident,
        record=record,
        findings=findings,
        summary=summary,
    )


def plan_former_family_name_removal(actor: Actor, data: FormerFamilyNameRemovalInput) -> DraftPlan:
    reason = ChangeReason.FORMER_FAMILY_NAME_REMOVAL
    findings = Findings()
    resident, record, occurred, notified = _former_target(data, reason, findings)
    summary: dict[str, Any] = {}
    if resident is not None:
        if not resident.former_family_name:
            _no_former(resident, findings, "旧氏の記載")
        summary["previous_former_family_name"] = resident.former_family_name
        record["former_family_name"] = ""
        record["former_family_name_kana"] = ""
    return one_person_plan(
        "former_family_name_removal",
        reason,
        occurred_on=occurred,
        notified_on=notified,
        resident=resident,
        record=record,
        findings=findings,
        summary=summary,
    )


# --------------------------------------------------------------------------- submit


def make_submit(
    planner: Callable[[Actor, InputT], DraftPlan], *, also_needs: Perm | None = None
) -> Callable[..., Change]:
    def submit(
        actor: Actor,
        data: InputT,
        *,
        acknowledged: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> Change:
        return submit_plan(
            planner,
            actor,
            data,
            acknowledged=acknowledged,
            idempotency_key=idempotency_key,
            also_needs=also_needs,
        )

    submit.__doc__ = f"Enter as a draft: {planner.__name__.removeprefix('plan_')}."
    return submit


# 住民票コードの付番 is a function of its own in the permission catalogue (std 10.3, j1380)
_CODE = Perm.JUMINHYO_CODE_ASSIGN
submit_juminhyo_code_assign = make_submit(plan_juminhyo_code_assign, also_needs=_CODE)
submit_juminhyo_code_change = make_submit(plan_juminhyo_code_change, also_needs=_CODE)
submit_juminhyo_code_correction = make_submit(plan_juminhyo_code_correction, also_needs=_CODE)
submit_my_number_record = make_submit(plan_my_number_record)
submit_my_number_change = make_submit(plan_my_number_change)
submit_former_family_name_entry = make_submit(plan_former_family_name_entry)
submit_former_family_name_change = make_submit(plan_former_family_name_change)
submit_former_family_name_removal = make_submit(plan_former_family_name_removal)

SPECS = [
    ProcedureSpec(
        "juminhyo_code_assign",
        "住民票コードの職権記載",
        "4.3.1",
        JuminhyoCodeAssignInput,
        submit_juminhyo_code_assign,
    ),
    ProcedureSpec(
        "juminhyo_code_change",
        "住民票コードの変更請求",
        "4.3.2",
        JuminhyoCodeChangeInput,
        submit_juminhyo_code_change,
    ),
    ProcedureSpec(
        "juminhyo_code_correction",
        "住民票コードの修正",
        "4.3.2",
        JuminhyoCodeCorrectionInput,
        submit_juminhyo_code_correction,
    ),
    ProcedureSpec(
        "my_number_record",
        "個人番号の職権記載",
        "4.4",
        MyNumberRecordInput,
        submit_my_number_record,
    ),
    ProcedureSpec(
        "my_number_change",
        "個人番号の変更・修正",
        "4.4",
        MyNumberChangeInput,
        submit_my_number_change,
    ),
    ProcedureSpec(
        "former_family_name_entry",
        "旧氏の記載",
        "1.1.7",
        FormerFamilyNameInput,
        submit_former_family_name_entry,
    ),
    ProcedureSpec(
        "former_family_name_change",
        "旧氏の変更",
        "1.1.7",
        FormerFamilyNameInput,
        submit_former_family_name_change,
    ),
    ProcedureSpec(
        "former_family_name_removal",
        "旧氏の削除",
        "1.1.7",
        FormerFamilyNameRemovalInput,
        submit_former_family_name_removal,
    ),
]
