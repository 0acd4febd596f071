"""The transactional outbox: messages written in the same transaction as the change that
causes them, delivered after commit (DESIGN invariant 7)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "送信待ち"
        DELIVERED = "delivered", "送信済み"
        FAILED = "failed", "送信失敗"

    topic = models.CharField("種別", max_length=64)
    destination = models.CharField("送信先", max_length=64)
    ordering_key = models.CharField("順序キー（宛名番号）", max_length=32, db_index=True)
    idempotency_key = models.CharField("冪等キー", max_length=128, unique=True)
    payload = models.JSONField("内容")
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("送信試行回数", default=0)
    last_error = models.TextField("最後のエラー", blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    available_at = models.DateTimeField("送信可能日時", auto_now_add=True)
    delivered_at = models.DateTimeField("送信日時", null=True, blank=True)
    change_id = models.BigIntegerField("異動ID", null=True, blank=True)

    class Meta:
        verbose_name = "送信待ちメッセージ (outbox message)"
        ordering: ClassVar = ["id"]
        indexes: ClassVar = [
            models.Index(fields=["status", "available_at", "id"]),
            # "is there an older pending message of this person?" — asked for every message
            # the CS worker claims (jumin.jukinet.worker.eligible)
            models.Index(
                fields=["ordering_key", "id"],
                condition=models.Q(status="pending"),
                name="outbox_pending_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.destination} ({self.ordering_key})"
