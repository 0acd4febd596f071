"""個人番号の生成から送付先情報まで (std 7.1.2.1, j1130; std 4.4, j900; 番号法第7条第1項).

Driven by the delivery worker, inside its record transaction, from what was just delivered:

1. an ``identity.update`` marked ``needs_number`` (a person given a 住民票コード by 出生,
   国外転入, 職権記載 or 住民票コードの職権記載, with no 個人番号): a ``MyNumberRequest`` and
   an outbox message ``my_number_generate`` (the person's next message, in per-person order);
2. the answered ``my_number.generate``: the number J-LIS designated is entered as a system
   draft of 個人番号の職権記載 (``my_number_record``); a reviewer commits it from the review
   queue like any change (invariant 3: the system enters, a member of staff commits). The
   register encrypts the number in the draft; it is in clear only in the reply, in memory.
   When the register refuses the draft (a clerk holds the record, a number was recorded
   meanwhile …) the request is ``needs_clerk`` with the register's reason;
3. the ``identity.update`` of that committed change: an outbox message ``mailing_info``
   (送付先情報, the items the 個人番号通知書 needs) built from that change's history row;
4. the delivered ``mailing.info``: the request is ``mailed``.

Why a reviewed draft and not an automatic entry: j1130 asks that the generated number can be
taken in (取込); the register's rule is that every change is entered and then committed by a
different person (DESIGN invariant 3), and the registry allows the system actor to enter
only this procedure and 転入通知の受理 (``register.procedures.registry.SYSTEM_ENTERABLE``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from pydantic import SecretStr

from jumin.accounts.actor import Actor
from jumin.core.findings import FindingsError
from jumin.jukinet.builders import Built
from jumin.jukinet.client import Exchange
from jumin.jukinet.models import MyNumberRequest
from jumin.outbox import services as outbox
from jumin.outbox.models import OutboxMessage
from jumin.register.procedures import identity as procedures

logger = logging.getLogger(__name__)

State = MyNumberRequest.State


def _actor() -> Actor:
    return Actor.system("batch", "cs-worker")


def after_delivery(
    items: Sequence[tuple[Built, OutboxMessage, Exchange]], now: dt.datetime
) -> None:
    """Steps 1–4 for the delivered messages of one batch (in the caller's transaction)."""
    wanted = [(b, m) for b, m, _ in items if b.needs_number]
    answered = [(b, m, e) for b, m, e in items if b.generate]
    changes = {b.change_id for b, _, _ in items if b.kind == "identity.update" and b.change_id}
    mailed = [m.pk for b, m, _ in items if b.kind == "mailing.info"]
    if wanted:
        _request(wanted, now)
    for built, message, exchange in answered:
        _draft(built, message, exchange, now)
    if changes:
        _mailing(changes, items, now)
    if mailed:
        MyNumberRequest.objects.filter(mailing_id__in=mailed, state=State.MAILING).update(
            state=State.MAILED, updated_at=now
        )


def _request(wanted: list[tuple[Built, OutboxMessage]], now: dt.datetime) -> None:
    known = set(
        MyNumberRequest.objects.filter(atena_no__in=[b.atena_no for b, _ in wanted]).values_list(
            "atena_no", "juminhyo_code"
        )
    )
    for built, message in wanted:
        code = str((built.identity or {}).get("juminhyo_code") or "")
        if not code or (built.atena_no, code) in known:
            continue
        known.add((built.atena_no, code))
        request = outbox.enqueue(
            topic="my_number_generate",
            destination="cs",
            ordering_key=built.atena_no,
            idempotency_key=f"my_number:generate:{built.atena_no}:{code}",
            payload={"atena_no": built.atena_no, "juminhyo_code": code},
            change_id=message.change_id,
        )
        MyNumberRequest.objects.create(
            atena_no=built.atena_no,
            juminhyo_code=code,
            state=State.REQUESTED,
            trigger_change_id=message.change_id,
            request=request,
            created_at=now,
            updated_at=now,
        )


def _draft(built: Built, message: OutboxMessage, exchange: Exchange, now: dt.datetime) -> None:
    request = MyNumberRequest.objects.filter(
        atena_no=built.atena_no, juminhyo_code=built.generate
    ).first()
    if request is None:  # a request queued by hand (or before this table): keep track of it
        request = MyNumberRequest.objects.create(
            atena_no=built.atena_no,
            juminhyo_code=built.generate,
            state=State.REQUESTED,
            request=message,
            created_at=now,
            updated_at=now,
        )
    if request.state not in {State.REQUESTED, State.NEEDS_CLERK}:
        return  # a resend answered again: the draft exists already
    number = str((exchange.result or {}).get("my_number") or "")
    data = procedures.MyNumberRecordInput(
        atena_no=built.atena_no, my_number=SecretStr(number), occurred_on=None
    )
    try:
        with transaction.atomic():
            change = procedures.submit_my_number_record(
                _actor(),
                data,
                idempotency_key=f"cs:my_number_record:{built.atena_no}:{built.generate}",
            )
    except FindingsError as exc:
        request.state = State.NEEDS_CLERK
        request.note = (
            "個人番号の職権記載を仮登録できませんでした: "
            + " ".join(f.message for f in (exc.findings.errors or list(exc.findings)))
            + " 個人番号の生成要求を再送すると、同じ個人番号が回答されます。"
        )
    except PermissionDenied as exc:
        request.state = State.NEEDS_CLERK
        request.note = f"個人番号の職権記載を仮登録できませんでした: {exc}"
    except Exception as exc:  # a bug: this person waits for a clerk, the batch is recorded
        logger.exception("CS: the 個人番号 draft for %s failed", built.atena_no)
        request.state = State.NEEDS_CLERK
        request.note = (
            f"個人番号の職権記載を仮登録できませんでした（内部エラー {type(exc).__name__}）。"
            "システム管理者に連絡し、解決後に個人番号の生成要求を再送してください。"
        )
    else:
        request.state = State.DRAFTED
        request.change = change
        request.note = f"異動#{change.pk}（個人番号の職権記載）を仮登録しました。審査してください。"
    request.updated_at = now
    request.save(update_fields=["state", "change", "note", "updated_at"])


def _mailing(
    changes: set[int], items: Sequence[tuple[Built, OutboxMessage, Exchange]], now: dt.datetime
) -> None:
    requests = {
        (r.change_id, r.atena_no): r
        for r in MyNumberRequest.objects.filter(change_id__in=changes, state=State.DRAFTED)
    }
    if not requests:
        return
    for built, message, _ in items:
        request = requests.pop((built.change_id, built.atena_no), None)
        if request is None or built.kind != "identity.update":
            continue
        payload: dict[str, Any] = {
            "atena_no": built.atena_no,
            "history_no": int((built.identity or {}).get("sequence") or 0),
        }
        mailing = outbox.enqueue(
            topic="mailing_info",
            destination="cs",
            ordering_key=built.atena_no,
            idempotency_key=f"my_number:mailing:{built.atena_no}:{request.juminhyo_code}",
            payload=payload,
            change_id=message.change_id,
        )
        request.state = State.MAILING
        request.mailing = mailing
        request.note = "個人番号を記載しました。送付先情報を送信します。"
        request.updated_at = now
        request.save(update_fields=["state", "mailing", "note", "updated_at"])
