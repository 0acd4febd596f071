"""The national side's files: nodes, the message log, the nationwide identity-information
file, 住民票コード handed out, 個人番号 assignments, mailing information, move-out
certificates and the per-city mailboxes.

netsim stands in for J-LIS and the prefecture servers, which hold the 個人番号 of everyone:
the national files keep it in clear (synthetic data only); the message log masks it.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Node(models.Model):
    """住基ネットのノード (a city's CS, a prefecture server or J-LIS) and its public key."""

    objects: ClassVar[models.Manager[Node]] = models.Manager()

    class Kind(models.TextChoices):
        CITY = "city", "市区町村"
        PREFECTURE = "prefecture", "都道府県"
        JLIS = "jlis", "機構"

    code = models.CharField("ノードコード", max_length=32, primary_key=True)
    name = models.CharField("名称", max_length=100)
    public_key = models.CharField("公開鍵（Ed25519, base64）", max_length=64)
    kind = models.CharField("種別", max_length=16, choices=Kind.choices)
    active = models.BooleanField("有効", default=True)
    registered_at = models.DateTimeField("登録日時", default=timezone.now)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "ノード (node)"
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MessageLog(models.Model):
    """電文ログ: every message received (with the reply sent) and every message relayed.

    ``direction="in"``: one row per received message, refused ones included, with the reply
    envelope sent back (``reply``, and its exact bytes and signature so that a byte-identical
    resend gets a byte-identical answer). ``direction="out"``: a message relayed into a
    city's mailbox. 個人番号 values in ``body``/``reply`` are masked.
    """

    objects: ClassVar[models.Manager[MessageLog]] = models.Manager()

    class Direction(models.TextChoices):
        IN = "in", "受信"
        OUT = "out", "中継"

    class Outcome(models.TextChoices):
        APPLIED = "applied", "反映"
        STALE = "stale", "反映せず（より新しい更新を反映済み）"
        REFUSED = "refused", "業務エラー"
        REJECTED = "rejected", "受付拒否"
        DUPLICATE = "duplicate", "同一電文の再送"
        REPEATED = "repeated", "冪等キーによる再送"
        RELAYED = "relayed", "中継"

    direction = models.CharField("方向", max_length=3, choices=Direction.choices)
    kind = models.CharField("電文種別", max_length=64, blank=True)
    sender = models.CharField("送信元", max_length=32, blank=True)
    recipient = models.CharField("宛先", max_length=32, blank=True)
    message_id = models.CharField("電文ID", max_length=200, blank=True)
    idempotency_key = models.CharField("冪等キー", max_length=200, blank=True)
    sent_at = models.CharField("送信日時（電文）", max_length=40, blank=True)
    outcome = models.CharField("結果", max_length=16, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField("HTTPステータス", default=200)
    error_code = models.CharField("エラーコード", max_length=64, blank=True)
    error_message = models.TextField("エラー内容", blank=True)
    body = models.JSONField("本文（個人番号は伏字）", null=True, blank=True)
    raw_excerpt = models.TextField("受信データ（解釈できない電文の先頭）", blank=True)
    digest = models.CharField("受信データのSHA-256", max_length=64, blank=True)
    reply_id = models.CharField("応答電文ID", max_length=64, blank=True)
    reply = models.JSONField("応答電文（個人番号は伏字）", null=True, blank=True)
    reply_bytes = models.TextField("応答電文（送信したとおり）", blank=True)
    reply_signature = models.CharField("応答電文の署名", max_length=128, blank=True)
    first = models.ForeignKey(
        "self",
        verbose_name="最初の受信（再送の場合）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField("受信日時", default=timezone.now)

    ACCEPTED: ClassVar = ("applied", "stale", "refused", "repeated")  # the id is used up
    EFFECTIVE: ClassVar = ("applied", "stale")  # the idempotency key is used up

    class Meta:
        verbose_name = "電文ログ (message log)"
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["sender", "message_id"],
                condition=Q(
                    direction="in", outcome__in=("applied", "stale", "refused", "repeated")
                ),
                name="netsim_log_id_once_per_sender",
            ),
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                condition=Q(direction="in", outcome__in=("applied", "stale")),
                name="netsim_log_key_once_per_sender",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["received_at"], name="netsim_log_received"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.sender}→{self.recipient} {self.outcome}"


class IdentityRecord(models.Model):
    """全国の本人確認情報ファイル: the current identity information per 住民票コード."""

    objects: ClassVar[models.Manager[IdentityRecord]] = models.Manager()

    juminhyo_code = models.CharField("住民票コード", max_length=11, unique=True)
    my_number = models.CharField("個人番号", max_length=12, blank=True, db_index=True)
    family_name = models.CharField("氏", max_length=100, blank=True)
    given_name = models.CharField("名", max_length=100, blank=True)
    name_alphabet = models.CharField("氏名（アルファベット）", max_length=200, blank=True)
    name_kana = models.CharField("氏名の振り仮名", max_length=200, blank=True)
    birth_date = models.CharField("生年月日", max_length=64)
    sex = models.CharField("性別", max_length=1)
    address = models.CharField("住所", max_length=300, blank=True)
    municipality_code = models.CharField("市区町村コード", max_length=6, db_index=True)
    status = models.CharField("状態", max_length=16)
    change_reason = models.CharField("異動事由", max_length=40)
    occurred_on = models.DateField("異動日")
    sequence = models.PositiveIntegerField("履歴番号（送信元市区町村）")
    name_key = models.CharField("氏名の検索キー", max_length=300, blank=True)
    kana_key = models.CharField("振り仮名の検索キー", max_length=300, blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "本人確認情報 (identity record)"
        indexes: ClassVar = [
            models.Index(fields=["birth_date", "kana_key"], name="netsim_identity_kana"),
            models.Index(fields=["birth_date", "name_key"], name="netsim_identity_name"),
        ]

    def __str__(self) -> str:
        return self.juminhyo_code


class IdentitySequence(models.Model):
    """The last 履歴番号 applied per (city, person): the per-person order of updates."""

    objects: ClassVar[models.Manager[IdentitySequence]] = models.Manager()

    municipality_code = models.CharField("市区町村コード", max_length=6)
    juminhyo_code = models.CharField("住民票コード", max_length=11)
    last_sequence = models.PositiveIntegerField("反映済みの履歴番号")
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "本人確認情報の反映順序 (identity sequence)"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["municipality_code", "juminhyo_code"], name="netsim_sequence_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality_code}:{self.juminhyo_code}={self.last_sequence}"


class IdentityHistory(models.Model):
    """本人確認情報の履歴: every update applied, append-only."""

    objects: ClassVar[models.Manager[IdentityHistory]] = models.Manager()

    juminhyo_code = models.CharField("住民票コード", max_length=11, db_index=True)
    municipality_code = models.CharField("市区町村コード", max_length=6)
    sequence = models.PositiveIntegerField("履歴番号（送信元市区町村）")
    identity = models.JSONField("本人確認情報")
    became_current = models.BooleanField("現在の情報として反映")
    message_id = models.CharField("電文ID", max_length=64)
    applied_at = models.DateTimeField("反映日時", default=timezone.now)

    class Meta:
        verbose_name = "本人確認情報の履歴 (identity history)"
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.juminhyo_code} {self.municipality_code}#{self.sequence}"


class IssuedCode(models.Model):
    """住民票コード handed to a city (空きコード): unique nationwide."""

    objects: ClassVar[models.Manager[IssuedCode]] = models.Manager()

    code = models.CharField("住民票コード", max_length=11, unique=True)
    municipality_code = models.CharField("交付先市区町村コード", max_length=6, db_index=True)
    message_id = models.CharField("電文ID", max_length=64)
    issued_at = models.DateTimeField("交付日時", default=timezone.now)

    class Meta:
        verbose_name = "交付した住民票コード (issued code)"

    def __str__(self) -> str:
        return f"{self.code} → {self.municipality_code}"


class MyNumberAssignment(models.Model):
    """個人番号 of a 住民票コード: one active row per code; changed numbers stay, inactive."""

    objects: ClassVar[models.Manager[MyNumberAssignment]] = models.Manager()

    class Reason(models.TextChoices):
        GENERATE = "generate", "生成"
        ADOPTED = "adopted", "既存の番号を引継ぎ"
        REQUEST = "request", "請求による変更"
        EX_OFFICIO = "ex_officio", "職権による変更"

    juminhyo_code = models.CharField("住民票コード", max_length=11, db_index=True)
    my_number = models.CharField("個人番号", max_length=12, unique=True)
    counter = models.IntegerField("生成カウンタ")
    reason = models.CharField("理由", max_length=16, choices=Reason.choices)
    active = models.BooleanField("有効", default=True)
    requested_by = models.CharField("要求元市区町村コード", max_length=6)
    message_id = models.CharField("電文ID", max_length=64)
    created_at = models.DateTimeField("生成日時", default=timezone.now)
    deactivated_at = models.DateTimeField("無効化日時", null=True, blank=True)

    class Meta:
        verbose_name = "個人番号の指定 (my number assignment)"
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["juminhyo_code"], condition=Q(active=True), name="netsim_one_active_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.juminhyo_code} ({'有効' if self.active else '無効'})"


class MailingRecord(models.Model):
    """送付先情報: where J-LIS sends the 個人番号通知書."""

    objects: ClassVar[models.Manager[MailingRecord]] = models.Manager()

    juminhyo_code = models.CharField("住民票コード", max_length=11, db_index=True)
    municipality_code = models.CharField("送信元市区町村コード", max_length=6)
    name = models.CharField("氏名", max_length=200)
    name_kana = models.CharField("氏名の振り仮名", max_length=200, blank=True)
    postal_code = models.CharField("郵便番号", max_length=7, blank=True)
    address = models.CharField("送付先住所", max_length=300)
    household_head = models.CharField("世帯主", max_length=200, blank=True)
    katagaki = models.CharField("方書", max_length=200, blank=True)
    birth_date = models.CharField("生年月日", max_length=64, blank=True)
    sex = models.CharField("性別", max_length=1, blank=True)
    # the number the notice announces (J-LIS prints it on the 個人番号通知書)
    my_number = models.CharField("個人番号", max_length=12, blank=True)
    message_id = models.CharField("電文ID", max_length=64)
    received_at = models.DateTimeField("受信日時", default=timezone.now)

    class Meta:
        verbose_name = "送付先情報 (mailing record)"
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.juminhyo_code} {self.municipality_code}"


class MoveOutCertificate(models.Model):
    """転出証明書情報 (特例転出): kept for the new city, by certificate and by person."""

    objects: ClassVar[models.Manager[MoveOutCertificate]] = models.Manager()

    from_municipality = models.CharField("転出元市区町村コード", max_length=6)
    certificate_id = models.CharField("証明書番号", max_length=64)
    to_municipality = models.CharField("転出先市区町村コード", max_length=6, blank=True)
    planned_on = models.DateField("転出予定日")
    info = models.JSONField("転出証明書情報")
    message_id = models.CharField("電文ID", max_length=64)
    received_at = models.DateTimeField("受信日時", default=timezone.now)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)
    consumed_by = models.CharField("転入通知の送信元", max_length=6, blank=True)
    consumed_at = models.DateTimeField("転入通知の受信日時", null=True, blank=True)

    class Meta:
        verbose_name = "転出証明書情報 (move-out certificate)"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["from_municipality", "certificate_id"], name="netsim_certificate_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_municipality}/{self.certificate_id}"


class MoveOutPerson(models.Model):
    """A person on a move-out certificate: the key of ``move_out.fetch``."""

    objects: ClassVar[models.Manager[MoveOutPerson]] = models.Manager()

    certificate = models.ForeignKey(
        MoveOutCertificate, on_delete=models.CASCADE, related_name="persons"
    )
    juminhyo_code = models.CharField("住民票コード", max_length=11, db_index=True)

    class Meta:
        verbose_name = "転出証明書情報の対象者 (move-out person)"

    def __str__(self) -> str:
        return self.juminhyo_code


class MailboxCounter(models.Model):
    """The last mailbox seq per recipient city (locked while a message is appended)."""

    objects: ClassVar[models.Manager[MailboxCounter]] = models.Manager()

    recipient = models.CharField("宛先市区町村コード", max_length=32, primary_key=True)
    last_seq = models.BigIntegerField("最終番号", default=0)

    class Meta:
        verbose_name = "受信箱の番号 (mailbox counter)"

    def __str__(self) -> str:
        return f"{self.recipient}={self.last_seq}"


class MailboxEntry(models.Model):
    """A relayed message waiting in a city's mailbox (転入通知, 転出証明書情報)."""

    objects: ClassVar[models.Manager[MailboxEntry]] = models.Manager()

    recipient = models.CharField("宛先市区町村コード", max_length=32)
    seq = models.BigIntegerField("番号")
    kind = models.CharField("電文種別", max_length=64)
    origin = models.CharField("送信元", max_length=32)
    envelope = models.TextField("電文（送信元が署名したとおり）")
    signature = models.CharField("送信元の署名", max_length=128)
    message_id = models.CharField("電文ID", max_length=64)
    created_at = models.DateTimeField("受付日時", default=timezone.now)

    class Meta:
        verbose_name = "受信箱 (mailbox entry)"
        ordering: ClassVar = ["recipient", "seq"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["recipient", "seq"], name="netsim_mailbox_seq_once")
        ]

    def __str__(self) -> str:
        return f"{self.recipient}#{self.seq} {self.kind}"
