"""Writes of the CS: the manual-mode switch, resends, reconciliation repairs, direct calls.

Each function takes the acting staff member (or a system actor), checks its permission,
runs in one transaction and writes its operation-log entry in it (DESIGN invariant 1).
Messages caused by register changes are never sent from here: they leave through the
outbox and the worker (invariant 7); a resend or a repair only puts a message back in the
outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import FindingsError, error
from jumin.jukinet.builders import TOPIC_LABELS, is_cs_message
from jumin.jukinet.client import CsClient, Exchange, masked
from jumin.jukinet.models import CsSetting, Resend, SentMessage
from jumin.outbox import services as outbox
from jumin.outbox.models import OutboxMessage
from jumin.register.models import Resident, ResidentHistory

MANUAL_FUNCTION = "CS連携の手動切替"
RESEND_FUNCTION = "住基ネット送信の再送"
REPAIR_FUNCTION = "本人確認情報の整合性確認による再送"
CALL_FUNCTION = "住基ネットへの照会・要求"
REPAIR_CHUNK = 500


def _refuse(code: str, message: str, *, field: str = "", remedy: str = "") -> FindingsError:
    return FindingsError([error(code, message, field=field, remedy=remedy)])


def set_manual_mode(actor: Actor, manual: bool, *, reason: str = "") -> CsSetting:
    """一時的に手動連携に切り替える (std 7.1.1.1, j1090): while on, the worker sends nothing
    and messages wait in the outbox, in order; switching off resumes delivery."""
    authorize(actor, Perm.JUKINET_DELIVERY_MANAGE, MANUAL_FUNCTION)
    reason = reason.strip()
    if len(reason) > 200:
        raise _refuse("cs.reason_too_long", "理由は200文字以内で入力してください。", field="reason")
    with transaction.atomic():
        CsSetting.objects.get_or_create(pk=1)
        row = CsSetting.objects.select_for_update().get(pk=1)
        row.manual = manual
        row.reason = reason
        row.changed_by = actor.operator_code
        row.changed_at = timezone.now()
        row.save()
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function=MANUAL_FUNCTION,
            detail={"manual": manual, "reason": reason},
        )
    return row


def resend(actor: Actor, outbox_id: int, *, change_reason: str | None = None) -> OutboxMessage:
    """再送信 (std 7.1.1.1, j1090): put a delivered or failed CS message back in the queue.

    Without ``change_reason`` the same message goes again (a new envelope id, the same
    idempotency key: the national side answers with its first result if it had applied it).
    With one (本人確認情報 only: 異動事由を変更して送信) a new outbox message is added with the
    changed reason and a new idempotency key, so the national side applies it. Returns the
    message that will be sent."""
    authorize(actor, Perm.JUKINET_MESSAGE_RETRY, RESEND_FUNCTION)
    reason = (change_reason or "").strip()
    if reason:
        try:
            ChangeReason(reason)
        except ValueError:
            raise _refuse(
                "resend.reason_unknown",
                f"異動事由 {reason!r} はありません。",
                field="change_reason",
                remedy="異動事由のコード（例: move_within）を指定してください。",
            ) from None
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=outbox_id).first()
        if message is None or not is_cs_message(message.topic, message.destination):
            raise _refuse(
                "resend.unknown",
                f"住基ネットの送信メッセージ {outbox_id} はありません。",
                field="outbox_id",
            )
        if message.status == OutboxMessage.Status.PENDING:
            raise _refuse(
                "resend.pending",
                f"メッセージ {outbox_id} は送信待ちです。再送できるのは送信済みまたは"
                "送信失敗のメッセージです。",
                field="outbox_id",
                remedy="送信を待つか、送信状況（jumin cs status）を確認してください。",
            )
        previous = message.status
        target = message
        if reason:
            if message.topic != "identity_info":
                label = TOPIC_LABELS.get(message.topic, message.topic)
                raise _refuse(
                    "resend.reason_not_applicable",
                    f"{label}は異動事由を変更して再送できません（本人確認情報のみ）。",
                    field="change_reason",
                    remedy="異動事由を指定せずに再送してください。",
                )
            payload = dict(message.payload) | {"change_reason": reason, "resend_of": message.pk}
            target = outbox.enqueue(
                topic=message.topic,
                destination=message.destination,
                ordering_key=message.ordering_key,
                idempotency_key=f"resend:{message.pk}:{reason}:{uuid.uuid4().hex[:12]}",
                payload=payload,
                change_id=message.change_id,
            )
        else:
            message.status = OutboxMessage.Status.PENDING
            message.available_at = timezone.now()
            message.delivered_at = None
            message.last_error = ""
            message.save(update_fields=["status", "available_at", "delivered_at", "last_error"])
        Resend.objects.create(
            outbox=message,
            new_outbox=target if target.pk != message.pk else None,
            previous_status=previous,
            change_reason=reason,
            requested_by=actor.operator_code,
        )
        audit.record(
            actor,
            category=Category.COMMUNICATION,
            function=RESEND_FUNCTION,
            targets=[message.ordering_key],
            detail={
                "outbox_id": message.pk,
                "topic": message.topic,
                "previous_status": previous,
                "change_reason": reason,
                "queued_id": target.pk,
            },
        )
    return target


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def repair_identities(actor: Actor, atena_nos: Sequence[str], *, run_id: str = "") -> int:
    """Reconciliation repair (std 7.1.1.2, j1100): queue an ``identity_info`` message with each
    person's current record (their latest history row) so the CS and the national side catch
    up. One transaction and one operation-log entry per chunk of persons. Returns how many
    messages were queued (persons without a 住民票コード are skipped)."""
    authorize(actor, Perm.JUKINET_MESSAGE_RETRY, REPAIR_FUNCTION)
    run = run_id or timezone.now().strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6]
    queued = 0
    for chunk in _chunks(sorted(set(atena_nos)), REPAIR_CHUNK):
        with transaction.atomic():
            current = dict(
                Resident.objects.filter(atena_no__in=list(chunk))
                .exclude(juminhyo_code="")
                .values_list("atena_no", "history_no")
            )
            if not current:
                continue
            q = Q(pk__in=[])
            for atena, number in current.items():
                q |= Q(atena_no=atena, history_no=number)
            rows = ResidentHistory.objects.filter(q).only(
                "atena_no",
                "history_no",
                "change_id",
                "change_reason",
                "occurred_on",
                "juminhyo_code",
                "my_number_id",
            )
            done = []
            for row in sorted(rows, key=lambda r: r.atena_no):
                outbox.enqueue(
                    topic="identity_info",
                    destination="cs",
                    ordering_key=row.atena_no,
                    idempotency_key=f"reconcile:{run}:{row.atena_no}:{row.history_no}",
                    payload={
                        "atena_no": row.atena_no,
                        "history_no": row.history_no,
                        "change_reason": row.change_reason,
                        "occurred_on": row.occurred_on.isoformat(),
                        "juminhyo_code": row.juminhyo_code,
                        "my_number_ref": row.my_number_id,
                        "reconcile": run,
                    },
                    change_id=row.change_id,
                )
                done.append(row.atena_no)
            audit.record(
                actor,
                category=Category.BATCH_UPDATE,
                function=REPAIR_FUNCTION,
                targets=done,
                detail={"run": run, "queued": len(done)},
            )
            queued += len(done)
    return queued


def call(
    actor: Actor,
    kind: str,
    body: dict[str, Any],
    *,
    purpose: str,
    atena_no: str = "",
    client: CsClient | None = None,
) -> Exchange:
    """Send one query or request that is not a register change (identity.query,
    my_number.generate, mailbox.fetch …) at once and log it; see ``call_many``."""
    return call_many(actor, kind, [(body, atena_no)], purpose=purpose, client=client)[0]


def call_many(
    actor: Actor,
    kind: str,
    items: Sequence[tuple[dict[str, Any], str]],
    *,
    purpose: str,
    client: CsClient | None = None,
    concurrency: int = 1,
) -> list[Exchange]:
    """Send queries or requests (``(body, atena_no)`` each) at once, ``concurrency`` at a
    time, and log them: ``SentMessage`` rows written before sending (so a crash leaves a
    trace) and completed after, and one operation-log entry (通信) with the purpose and the
    persons. The caller checks the permission that fits its screen. Each exchange's
    ``outcome`` says whether it was answered."""
    purpose = purpose.strip()
    if not purpose:
        raise ValueError("a call to the national side needs a purpose")
    if not items:
        return []
    own = client is None
    client = client or CsClient.from_config()
    try:
        return _call_many(actor, kind, items, purpose, client, concurrency)
    finally:
        if own:
            client.close()


def _call_many(
    actor: Actor,
    kind: str,
    items: Sequence[tuple[dict[str, Any], str]],
    purpose: str,
    client: CsClient,
    concurrency: int,
) -> list[Exchange]:
    now = timezone.now()
    envelopes = [
        client.envelope(kind, body, idempotency_key=f"call:{uuid.uuid4()}") for body, _ in items
    ]
    logs = SentMessage.objects.bulk_create(
        SentMessage(
            envelope_id=envelope.id,
            kind=kind,
            recipient=envelope.recipient,
            idempotency_key=envelope.idempotency_key,
            atena_no=atena_no,
            request_body=masked(body),
            purpose=purpose[:200],
            operator_code=actor.operator_code[:64],
            started_at=now,
        )
        for envelope, (body, atena_no) in zip(envelopes, items, strict=True)
    )
    if concurrency > 1 and len(envelopes) > 1:
        with ThreadPoolExecutor(min(concurrency, len(envelopes))) as pool:
            exchanges = list(pool.map(client.send, envelopes))
    else:
        exchanges = [client.send(e) for e in envelopes]
    with transaction.atomic():
        for log, exchange in zip(logs, exchanges, strict=True):
            log.outcome = exchange.outcome
            log.http_status = exchange.http_status
            log.error_code = exchange.error_code[:64]
            log.error_message = exchange.error_message
            log.reply_kind = exchange.reply.kind if exchange.reply else ""
            reply = exchange.reply_body
            log.reply_body = masked(reply) if reply is not None else None
            log.finished_at = exchange.finished_at
        SentMessage.objects.bulk_update(
            logs,
            [
                "outcome",
                "http_status",
                "error_code",
                "error_message",
                "reply_kind",
                "reply_body",
                "finished_at",
            ],
        )
        answered = sum(1 for e in exchanges if e.outcome == "delivered")
        audit.record(
            actor,
            category=Category.COMMUNICATION,
            function=CALL_FUNCTION,
            targets=sorted({a for _, a in items if a}),
            outcome=Outcome.SUCCESS if answered == len(exchanges) else Outcome.FAILED,
            detail={
                "kind": kind,
                "purpose": purpose[:200],
                "sent": len(exchanges),
                "answered": answered,
            },
        )
    return exchanges
