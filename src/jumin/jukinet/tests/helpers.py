"""Test helpers: residents made through the register's procedures, the worker driven by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from jumin.jukinet.tests.conftest import new_code, new_my_number
from jumin.jukinet.worker import BatchResult, Worker
from jumin.outbox.models import OutboxMessage
from jumin.register.models import Change, Resident
from jumin.register.tests import factories as f


def person(**overrides: Any) -> dict[str, Any]:
    data = {"juminhyo_code": new_code(), "my_number": new_my_number()}
    data.update(overrides)
    return f.person(**data)


def move_in(*people: dict[str, Any], **overrides: Any) -> tuple[Change, list[Resident]]:
    """A committed 転入 (one household) of ``people`` (each with a code and a number)."""
    return f.committed_move_in(*(people or (person(),)), **overrides)


def worker(**kwargs: Any) -> Worker:
    kwargs.setdefault("concurrency", 1)
    return Worker(**kwargs)


def batch(**kwargs: Any) -> BatchResult:
    """One batch by a fresh worker (closed afterwards)."""
    w = worker(**kwargs)
    try:
        return w.deliver_batch()
    finally:
        w.close()


def drain(w: Worker | None = None, *, rounds: int = 20) -> BatchResult:
    """Run batches until nothing is claimed (or ``rounds`` batches)."""
    w = w or worker()
    total = BatchResult()
    for _ in range(rounds):
        result = w.deliver_batch()
        total.add(result)
        if result.claimed == 0 or result.manual:
            break
    w.close()
    return total


def make_due() -> int:
    """Time passes: every pending message's backoff is over."""
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(
        available_at=timezone.now() - dt.timedelta(seconds=1)
    )


def cs_outbox(atena_no: str) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(ordering_key=atena_no)
        .exclude(topic__in=["juminhyo_code_notice", "immigration_notice"])
        .order_by("pk")
    )


_banchi = iter(range(1, 10_000))


def commit_move_within(resident: Resident) -> Change:
    """A committed 転居 of ``resident`` to a new address (one more history row)."""
    from jumin.register import services
    from jumin.register.procedures import moves
    from jumin.register.procedures.common import today

    data = moves.MoveWithinInput.model_validate(
        {
            "occurred_on": today() - dt.timedelta(days=1),
            "notified_on": today(),
            "address": {"address_code": f.OTHER_ADDRESS_CODE, "banchi": f"{next(_banchi)}番地"},
            "persons": [{"atena_no": resident.atena_no}],
        }
    )
    change = moves.submit_move_within(f.clerk(), data)
    return services.commit_change(f.reviewer(), change.pk)


def commit_move_out(*residents: Resident, card: bool = True, to: str = "131016") -> Change:
    """A committed 転出 (特例転出 with ``card``) of ``residents`` to ``to``."""
    from jumin.register import services
    from jumin.register.procedures import moves
    from jumin.register.procedures.common import today

    data = moves.MoveOutInput.model_validate(
        {
            "planned_on": today() + dt.timedelta(days=7),
            "notified_on": today(),
            "destination": {
                "kind": "domestic",
                "municipality_code": to,
                "address": "東京都千代田区霞が関一丁目1番1号",
            },
            "persons": [r.atena_no for r in residents],
            "card_move_out": card,
        }
    )
    change = moves.submit_move_out(f.clerk(), data)
    return services.commit_change(f.reviewer(), change.pk)
