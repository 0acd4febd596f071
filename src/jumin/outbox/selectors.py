from __future__ import annotations

from django.db.models import QuerySet

from jumin.outbox.models import OutboxMessage


def messages_for_change(change_id: int) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(change_id=change_id).order_by("id")


def pending() -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).order_by("id")
