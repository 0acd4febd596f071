"""The operation log (操作ログ): append-only, hash-chained. std 10.2 (j1370)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models


class Category(models.TextChoices):
    """The kinds of log std 10.2 (j1370) asks for."""

    INQUIRY = "inquiry", "照会"
    DOCUMENT_ISSUE = "document_issue", "帳票発行"
    CHANGE_ADD = "change_add", "異動入力（履歴追加）"
    CHANGE_AMEND = "change_amend", "異動入力（履歴修正）"
    CHANGE_DELETE = "change_delete", "異動入力（履歴削除）"
    BATCH_DOCUMENT = "batch_document", "バッチ処理（帳票作成）"
    BATCH_UPDATE = "batch_update", "バッチ処理（データ更新）"
    SCREEN_COPY = "screen_copy", "画面ハードコピー"
    DATA_EXTRACT = "data_extract", "データ抽出（EUC）"
    AUTHENTICATION = "authentication", "認証"
    EVENT = "event", "イベント"
    COMMUNICATION = "communication", "通信"
    PRINT = "print", "印刷"
    SETTINGS_CHANGE = "settings_change", "設定変更"
    ERROR = "error", "エラー"


class Outcome(models.TextChoices):
    SUCCESS = "success", "成功"
    DENIED = "denied", "拒否"
    FAILED = "failed", "失敗"
    ERROR = "error", "エラー"


class OperationLogEntry(models.Model):
    """One operation. Rows are never updated or deleted: database triggers refuse it."""

    seq = models.BigIntegerField("連番", primary_key=True)
    occurred_at = models.DateTimeField("日時", db_index=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=True,
    )
    operator_code = models.CharField("操作者ID", max_length=64, db_index=True)
    terminal_name = models.CharField("端末名", max_length=64, blank=True)
    place = models.CharField("処理場所", max_length=32, blank=True)
    category = models.CharField("区分", max_length=32, choices=Category.choices, db_index=True)
    function = models.CharField("機能名", max_length=100)
    screen = models.CharField("画面名・エンドポイント", max_length=200, blank=True)
    targets = models.JSONField("対象者（宛名番号）", default=list)
    my_number_accessed = models.BooleanField("個人番号へのアクセス", default=False)
    outcome = models.CharField("結果", max_length=16, choices=Outcome.choices)
    detail = models.JSONField("詳細", default=dict)
    prev_hash = models.CharField("前エントリのハッシュ", max_length=64)
    entry_hash = models.CharField("ハッシュ", max_length=64)

    class Meta:
        verbose_name = "操作ログ (operation log entry)"
        ordering: ClassVar = ["seq"]
        indexes: ClassVar = [
            # the auditors' search and the analysis reports (std 10.2): by kind or by
            # operator over a period
            models.Index(fields=["category", "occurred_at"], name="audit_entry_cat_time"),
            models.Index(fields=["operator_code", "occurred_at"], name="audit_entry_op_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.operator_code} {self.function}"


class OperationLogTarget(models.Model):
    """Index of the persons an entry touched, for "who looked at this person?"."""

    entry = models.ForeignKey(OperationLogEntry, on_delete=models.PROTECT, related_name="+")
    atena_no = models.CharField("宛名番号", max_length=16)

    class Meta:
        verbose_name = "操作ログ対象者"
        indexes: ClassVar = [models.Index(fields=["atena_no", "entry"])]

    def __str__(self) -> str:
        return f"#{self.entry_id} {self.atena_no}"


class OperationLogHead(models.Model):
    """The single row that holds the end of the chain; appends lock it to serialise."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "操作ログ末尾"

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"


class AuditSettings(models.Model):
    """The city's settings for its operation log (one row), changed only through
    ``services.change_settings`` (logged as 設定変更)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    retention_years = models.PositiveSmallIntegerField("オンライン保存期間（年）", default=7)
    night_start = models.TimeField("深夜の開始時刻", default=dt.time(22, 0))
    night_end = models.TimeField("深夜の終了時刻", default=dt.time(7, 0))
    mass_search_threshold = models.PositiveIntegerField(
        "大量検索のしきい値（1時間あたりの検索回数）", default=100
    )
    updated_at = models.DateTimeField("更新日時", null=True, blank=True)
    updated_by = models.CharField("更新者ID", max_length=64, blank=True)

    class Meta:
        verbose_name = "操作ログの設定"

    def __str__(self) -> str:
        return f"保存期間 {self.retention_years} 年"


class ArchiveState(models.Model):
    """How far the log has been archived (one row). Entries with ``seq <= archived_through``
    have been written to a signed archive file; only they may be deleted (the triggers read
    this row), and the row may only move forward. ``anchor_hash`` is the hash of entry
    ``archived_through``: the online chain continues from it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    archived_through = models.BigIntegerField("アーカイブ済みの連番", default=0)
    anchor_hash = models.CharField(
        "アンカー（最後にアーカイブしたエントリのハッシュ）", max_length=64
    )
    archived_at = models.DateTimeField("アーカイブ日時", null=True, blank=True)
    archive_file = models.CharField("アーカイブファイル", max_length=255, blank=True)
    archive_sha256 = models.CharField("アーカイブファイルのSHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = "操作ログのアーカイブ状態"

    def __str__(self) -> str:
        return f"#{self.archived_through} {self.anchor_hash[:12]}"
