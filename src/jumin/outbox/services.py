"""Writing to the outbox. Delivery comes with the 住基ネット work; this module only enqueues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from jumin.outbox.models import OutboxMessage


def enqueue(
    *,
    topic: str,
    destination: str,
    ordering_key: str,
    idempotency_key: str,
    payload: Mapping[str, Any],
    change_id: int | None = None,
) -> OutboxMessage:
    """Add a message in the caller's transaction. Must be called inside one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox messages are written inside the change's transaction")
    return OutboxMessage.objects.create(
        topic=topic,
        destination=destination,
        ordering_key=ordering_key,
        idempotency_key=idempotency_key,
        payload=dict(payload),
        change_id=change_id,
    )
