"""The CS (住基ネット, the city's node): its files, its message log and its settings.

- ``IdentityRecord`` — 本人確認情報ファイル: one row per person, the items of
  ``netproto.messages.Identity`` as last delivered to the prefecture, with ``sequence`` =
  the register's 履歴番号 and the delivery state. The 個人番号 is kept as a reference to the
  register's encrypted row, never in clear.
- ``MailingRecord`` — 送付先情報ファイル: one row per person, the mailing information last
  delivered to J-LIS.
- ``SentMessage`` — every envelope sent and its reply (std 7.1.1.1, j1090: 送信した…の照会及び
  一覧表への印字); bodies are stored with the 個人番号 masked.
- ``CsSetting`` — the manual-mode switch (一時的に手動連携に切り替える, j1090).
- ``Resend`` — every resend request (再送信, optionally with a changed 異動事由).
- ``CityKey`` — other cities' public keys, fetched from netsim on first use and pinned.
- ``MailboxCursor`` / ``InboundMessage`` — the mailbox pulled from J-LIS (受信): the last seq
  fetched, and each relayed item with its origin-signature check and what was done with it.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from jumin.outbox.models import OutboxMessage
from jumin.register.models import Change, EncryptedMyNumber


class IdentityRecord(models.Model):
    """本人確認情報ファイル (identity-information file): one row per person, as last sent."""

    atena_no = models.CharField("宛名番号", max_length=10, unique=True)
    juminhyo_code = models.CharField("住民票コード", max_length=11, db_index=True)
    my_number = models.ForeignKey(
        EncryptedMyNumber,
        verbose_name="個人番号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    family_name = models.CharField("氏", max_length=100, blank=True)
    given_name = models.CharField("名", max_length=100, blank=True)
    name_alphabet = models.CharField("氏名（アルファベット）", max_length=200, blank=True)
    name_kana = models.CharField("氏名フリガナ", max_length=200, blank=True)
    birth_date = models.CharField("生年月日", max_length=64)
    sex = models.CharField("性別", max_length=1)
    address = models.CharField("住所", max_length=300, blank=True)
    municipality_code = models.CharField("市町村コード", max_length=6)
    status = models.CharField("状態", max_length=10)
    change_reason = models.CharField("異動事由", max_length=40)
    occurred_on = models.DateField("異動日")
    sequence = models.PositiveIntegerField("履歴番号")
    items_hash = models.CharField("項目のハッシュ", max_length=64)
    national_status = models.CharField("全国側の処理結果", max_length=16, blank=True)
    delivered_at = models.DateTimeField("送信日時")
    envelope_id = models.CharField("メッセージID", max_length=64)

    class Meta:
        verbose_name = "本人確認情報 (identity record)"

    def __str__(self) -> str:
        return f"{self.atena_no} #{self.sequence}"


class MailingRecord(models.Model):
    """送付先情報ファイル (mailing-information file): one row per person, as last sent."""

    atena_no = models.CharField("宛名番号", max_length=10, unique=True)
    juminhyo_code = models.CharField("住民票コード", max_length=11, db_index=True)
    name = models.CharField("氏名", max_length=200)
    name_kana = models.CharField("氏名フリガナ", max_length=200, blank=True)
    postal_code = models.CharField("郵便番号", max_length=7, blank=True)
    address = models.CharField("送付先住所", max_length=300)
    household_head = models.CharField("世帯主の氏名", max_length=200, blank=True)
    katagaki = models.CharField("方書", max_length=200, blank=True)
    birth_date = models.CharField("生年月日", max_length=64, blank=True)
    sex = models.CharField("性別", max_length=1, blank=True)
    my_number = models.ForeignKey(
        EncryptedMyNumber,
        verbose_name="個人番号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delivered_at = models.DateTimeField("送信日時")
    envelope_id = models.CharField("メッセージID", max_length=64)

    class Meta:
        verbose_name = "送付先情報 (mailing record)"

    def __str__(self) -> str:
        return self.atena_no


class MyNumberRequest(models.Model):
    """個人番号の生成要求 (std 7.1.2.1, j1130): one per person and 住民票コード, from the
    request to J-LIS to the 送付先情報 that follows the recorded number.

    requested → (J-LIS answers) drafted: a system draft of 個人番号の職権記載 waits for a
    reviewer → (committed, its 本人確認情報 sent) mailing: the 送付先情報 is queued → mailed.
    ``needs_clerk``: the register refused the system draft (the note says why). The number
    itself is never kept here: it is in the draft (encrypted) and then in the register."""

    class State(models.TextChoices):
        REQUESTED = "requested", "生成要求中"
        DRAFTED = "drafted", "記載の仮登録済み（審査待ち）"
        NEEDS_CLERK = "needs_clerk", "職員の対応が必要"
        MAILING = "mailing", "送付先情報の送信待ち"
        MAILED = "mailed", "送付先情報の送信済み"
        FAILED = "failed", "生成要求の失敗"

    atena_no = models.CharField("宛名番号", max_length=10)
    juminhyo_code = models.CharField("住民票コード", max_length=11)
    state = models.CharField("状態", max_length=16, choices=State.choices)
    trigger_change = models.ForeignKey(
        Change,
        verbose_name="契機となった異動",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    request = models.ForeignKey(
        OutboxMessage,
        verbose_name="生成要求のメッセージ",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    change = models.ForeignKey(
        Change,
        verbose_name="個人番号を記載する異動",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    mailing = models.ForeignKey(
        OutboxMessage,
        verbose_name="送付先情報のメッセージ",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField("説明", blank=True)
    created_at = models.DateTimeField("要求日時")
    updated_at = models.DateTimeField("更新日時")

    class Meta:
        verbose_name = "個人番号の生成要求 (my-number request)"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["atena_no", "juminhyo_code"], name="cs_my_number_request_once"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["state", "id"], name="cs_mnr_state")]

    def __str__(self) -> str:
        return f"{self.atena_no} ({self.get_state_display()})"


class SentMessage(models.Model):
    """送信メッセージの記録: one envelope sent and what came back (or did not)."""

    class Outcome(models.TextChoices):
        SENDING = "sending", "送信中"
        DELIVERED = "delivered", "送信済み（受理）"
        REFUSED = "refused", "拒否"
        RETRY = "retry", "通信エラー（再送待ち）"
        ABANDONED = "abandoned", "結果不明（処理中断）"

    envelope_id = models.CharField("メッセージID", max_length=64, unique=True)
    kind = models.CharField("電文種別", max_length=40)
    recipient = models.CharField("送信先", max_length=32)
    idempotency_key = models.CharField("冪等キー", max_length=200, db_index=True)
    outbox = models.ForeignKey(
        OutboxMessage,
        verbose_name="送信待ちメッセージ",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    topic = models.CharField("種別（outbox）", max_length=64, blank=True)
    atena_no = models.CharField("宛名番号", max_length=10, blank=True)
    attempt = models.PositiveIntegerField("試行回数", default=1)
    outcome = models.CharField(
        "結果", max_length=16, choices=Outcome.choices, default=Outcome.SENDING
    )
    http_status = models.PositiveIntegerField("HTTPステータス", null=True, blank=True)
    error_code = models.CharField("エラーコード", max_length=64, blank=True)
    error_message = models.TextField("エラー内容", blank=True)
    request_body = models.JSONField("送信内容（個人番号はマスク）", default=dict)
    reply_kind = models.CharField("応答の種別", max_length=48, blank=True)
    reply_body = models.JSONField("応答内容（個人番号はマスク）", null=True, blank=True)
    purpose = models.CharField("照会の目的", max_length=200, blank=True)
    operator_code = models.CharField("操作者", max_length=64, blank=True)
    worker = models.CharField("送信処理", max_length=100, blank=True)
    started_at = models.DateTimeField("送信日時")
    finished_at = models.DateTimeField("応答日時", null=True, blank=True)
    lease_until = models.DateTimeField("送信中の期限", null=True, blank=True)

    class Meta:
        verbose_name = "送信メッセージ (sent message)"
        ordering: ClassVar = ["-started_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["atena_no", "started_at"], name="cs_sent_person"),
            models.Index(fields=["kind", "started_at"], name="cs_sent_kind"),
            models.Index(fields=["outcome", "started_at"], name="cs_sent_outcome"),
            models.Index(fields=["started_at"], name="cs_sent_started"),
            models.Index(fields=["outbox", "outcome"], name="cs_sent_outbox"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.get_outcome_display()})"


class CsSetting(models.Model):
    """CSの設定: one row (pk=1). ``manual``: 手動連携中 — the worker sends nothing."""

    manual = models.BooleanField("手動連携", default=False)
    reason = models.CharField("理由", max_length=200, blank=True)
    changed_by = models.CharField("変更者", max_length=64, blank=True)
    changed_at = models.DateTimeField("変更日時", null=True, blank=True)

    class Meta:
        verbose_name = "CSの設定"

    def __str__(self) -> str:
        return "手動連携中" if self.manual else "自動送信"


class Resend(models.Model):
    """再送信の記録: who asked to resend which message, and with which 異動事由."""

    outbox = models.ForeignKey(
        OutboxMessage, verbose_name="再送したメッセージ", on_delete=models.PROTECT, related_name="+"
    )
    new_outbox = models.ForeignKey(
        OutboxMessage,
        verbose_name="新しいメッセージ（異動事由を変更した場合）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    previous_status = models.CharField("再送前の状態", max_length=16)
    change_reason = models.CharField("変更後の異動事由", max_length=40, blank=True)
    requested_by = models.CharField("依頼者", max_length=64)
    requested_at = models.DateTimeField("依頼日時", auto_now_add=True)

    class Meta:
        verbose_name = "再送信 (resend)"

    def __str__(self) -> str:
        return f"resend of {self.outbox_id}"


class MailboxCursor(models.Model):
    """受信の位置: one row (pk=1), the last mailbox seq fetched from J-LIS."""

    last_seq = models.PositiveBigIntegerField("取得済みの最終番号", default=0)
    fetched_at = models.DateTimeField("最終取得日時", null=True, blank=True)

    class Meta:
        verbose_name = "受信の位置 (mailbox cursor)"

    def __str__(self) -> str:
        return f"mailbox after {self.last_seq}"


class CityKey(models.Model):
    """他市区町村の公開鍵: an origin city's Ed25519 public key, fetched from netsim
    (``GET /v1/nodes/<code>``) on first use and pinned: a different key published later is
    not taken (items signed with it are refused until the row is corrected)."""

    code = models.CharField("団体コード", max_length=6, unique=True)
    public_key = models.CharField("公開鍵（base64）", max_length=64)
    pinned_at = models.DateTimeField("登録日時")

    class Meta:
        verbose_name = "他市区町村の公開鍵 (city key)"

    def __str__(self) -> str:
        return self.code


class InboundMessage(models.Model):
    """受信メッセージ: one item relayed by J-LIS to this city's mailbox (転入通知, 転出証明書
    情報), with the origin city's signature check and what was done with it."""

    class State(models.TextChoices):
        RECEIVED = "received", "受信（未処理）"
        DRAFTED = "drafted", "仮登録済み（審査待ち）"
        NEEDS_CLERK = "needs_clerk", "職員の入力が必要"
        UNMATCHED = "unmatched", "該当者なし"
        REFUSED = "refused", "署名不正のため拒否"
        NOT_HANDLED = "not_handled", "自動処理の対象外"

    seq = models.PositiveBigIntegerField("受信番号", unique=True)
    kind = models.CharField("電文種別", max_length=40)
    origin = models.CharField("送信元", max_length=32)
    envelope_id = models.CharField("メッセージID", max_length=64, blank=True)
    juminhyo_code = models.CharField("住民票コード", max_length=11, blank=True, db_index=True)
    atena_no = models.CharField("宛名番号", max_length=10, blank=True)
    body = models.JSONField("内容（個人番号はマスク）", default=dict)
    verified = models.BooleanField("署名確認済み", default=False)
    state = models.CharField("状態", max_length=16, choices=State.choices)
    note = models.TextField("処理の説明", blank=True)
    change = models.ForeignKey(
        Change,
        verbose_name="仮登録した異動",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField("受信日時")
    processed_at = models.DateTimeField("処理日時", null=True, blank=True)

    class Meta:
        verbose_name = "受信メッセージ (inbound message)"
        ordering: ClassVar = ["-seq"]
        indexes: ClassVar = [models.Index(fields=["state", "seq"], name="cs_inbound_state")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} from {self.origin} ({self.get_state_display()})"
