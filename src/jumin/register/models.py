"""The register: residents grouped by household, changes, and append-only history.

std 1.1.1 (j10) and 1.1.2 (j20) list the items; std 1.2.1 (j200) the history model: one
full snapshot row per person per committed change, keyed by (atena_no, history_no).
``Resident`` is the current view (always equal to each person's latest history row);
``ResidentHistory`` is append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from jumin.core.change_reasons import ChangeReason

REASONS = [(r.value, r.label) for r in ChangeReason]


class ResidentType(models.TextChoices):
    JAPANESE = "japanese", "日本人住民"
    FOREIGN = "foreign", "外国人住民"


class ResidentStatus(models.TextChoices):
    RESIDENT = "resident", "住民"
    REMOVED = "removed", "消除"


class Sex(models.TextChoices):
    MALE = "1", "男"
    FEMALE = "2", "女"


class ForeignCategory(models.TextChoices):
    MID_LONG_TERM = "mid_long_term", "中長期在留者"
    SPECIAL_PERMANENT = "special_permanent", "特別永住者"
    TEMPORARY_REFUGE = "temporary_refuge", "一時庇護許可者"
    PROVISIONAL_STAY = "provisional_stay", "仮滞在者"
    TRANSITIONAL = "transitional", "経過滞在者"


class EncryptedMyNumber(models.Model):
    """個人番号, encrypted (AES-GCM) with a key id; ``lookup_hash`` is a keyed hash for exact
    search. Rows are shared by snapshots, so key rotation never rewrites history rows."""

    key_id = models.CharField("鍵ID", max_length=32)
    ciphertext = models.BinaryField("暗号文")
    lookup_hash = models.CharField("検索用ハッシュ", max_length=64, db_index=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = "個人番号（暗号化）"

    def __str__(self) -> str:
        return f"my_number#{self.pk} ({self.key_id})"


class ResidentRecord(models.Model):
    """Every item of a resident record; shared by the current view and the history."""

    atena_no = models.CharField("宛名番号", max_length=10)
    household_no = models.CharField("世帯番号", max_length=10)
    resident_type = models.CharField("住民種別", max_length=10, choices=ResidentType.choices)
    status = models.CharField("住民状態", max_length=10, choices=ResidentStatus.choices)
    relationship = models.CharField("続柄", max_length=40)
    head_name = models.CharField("世帯主の氏名", max_length=200, blank=True)

    family_name = models.CharField("氏", max_length=100, blank=True)
    given_name = models.CharField("名", max_length=100, blank=True)
    name_alphabet = models.CharField("氏名（アルファベット）", max_length=200, blank=True)
    name_kana = models.CharField("氏名フリガナ", max_length=200, blank=True)
    name_kana_confirmed = models.BooleanField("フリガナ確認フラグ", default=False)
    former_family_name = models.CharField("旧氏", max_length=100, blank=True)
    former_family_name_kana = models.CharField("旧氏フリガナ", max_length=100, blank=True)
    alias = models.CharField("通称", max_length=200, blank=True)
    alias_kana = models.CharField("通称フリガナ", max_length=200, blank=True)
    alias_entered_on = models.DateField("通称を記載した年月日", null=True, blank=True)
    alias_removed_on = models.DateField("通称を削除した年月日", null=True, blank=True)

    birth_date = models.DateField("生年月日（並べ替え用）")
    birth_date_text = models.CharField("生年月日（不詳日）", max_length=64, blank=True)
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)

    honseki = models.CharField("本籍", max_length=200, blank=True)
    koseki_head = models.CharField("筆頭者", max_length=100, blank=True)
    became_resident_on = models.DateField("住民となった年月日", null=True, blank=True)
    became_foreign_resident_on = models.DateField("外国人住民となった年月日", null=True, blank=True)

    address_code = models.CharField("住所コード", max_length=11)
    postal_code = models.CharField("郵便番号", max_length=7, blank=True)
    address = models.CharField("住所", max_length=300)
    katagaki = models.CharField("方書", max_length=200, blank=True)
    address_set_on = models.DateField("住所を定めた年月日", null=True, blank=True)
    notified_on = models.DateField("届出の年月日", null=True, blank=True)
    previous_address = models.CharField("転入前住所", max_length=300, blank=True)
    previous_address_code = models.CharField("転入前住所コード", max_length=11, blank=True)
    moved_out_planned_address = models.CharField("転出先住所（予定）", max_length=300, blank=True)
    moved_out_planned_on = models.DateField("転出予定年月日", null=True, blank=True)
    moved_out_address = models.CharField("転出先住所（確定）", max_length=300, blank=True)
    moved_out_on = models.DateField("転出年月日（確定）", null=True, blank=True)
    move_in_notice_on = models.DateField("転入通知年月日", null=True, blank=True)

    nationality = models.CharField("国籍・地域", max_length=100, blank=True)
    foreign_category = models.CharField(
        "法第30条の45の区分", max_length=20, choices=ForeignCategory.choices, blank=True
    )
    residence_status = models.CharField("在留資格", max_length=100, blank=True)
    period_of_stay = models.CharField("在留期間", max_length=50, blank=True)
    stay_expires_on = models.DateField("在留期間の満了の日", null=True, blank=True)
    residence_card_no = models.CharField("在留カード等の番号", max_length=12, blank=True)

    juminhyo_code = models.CharField("住民票コード", max_length=11, blank=True)
    my_number = models.ForeignKey(
        EncryptedMyNumber,
        verbose_name="個人番号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    elector = models.BooleanField("選挙人名簿への登録", default=False)
    insurance = models.JSONField("国保・後期高齢・介護・年金・児童手当", default=dict, blank=True)
    remarks = models.TextField("備考", blank=True)

    removal_reason = models.CharField("消除事由", max_length=40, choices=REASONS, blank=True)
    removed_on = models.DateField("消除の事由が生じた年月日", null=True, blank=True)

    # The other items of std 1.1.1 (j10) / 1.1.2 (j20) that later work fills in (card,
    # certificates, 住基ネット, support measures); kept per snapshot like every item.
    former_family_name_kana_confirmed = models.BooleanField("旧氏フリガナ確認フラグ", default=False)
    alias_kana_confirmed = models.BooleanField("通称フリガナ確認フラグ", default=False)
    alias_entered_municipality_code = models.CharField(
        "通称を記載した市区町村コード", max_length=6, blank=True
    )
    alias_removed_municipality_code = models.CharField(
        "通称を削除した市区町村コード", max_length=6, blank=True
    )
    alien_registration_on = models.DateField("旧外登法による登録年月日", null=True, blank=True)
    last_registered_address = models.CharField("最終登録住所地", max_length=300, blank=True)
    residence_place_notified = models.BooleanField("住居地の届出の有無", default=False)
    landing_permit_move_in = models.BooleanField("上陸許可証による転入の旨", default=False)
    card_status = models.CharField(
        "個人番号カード・住基カードの発行状況", max_length=40, blank=True
    )
    adult_guardianship = models.BooleanField("成年被後見人の該当有無", default=False)
    signature_cert_serial = models.CharField(
        "署名用電子証明書シリアル番号", max_length=64, blank=True
    )
    auth_cert_serial = models.CharField(
        "利用者証明用電子証明書シリアル番号", max_length=64, blank=True
    )
    suppressed = models.BooleanField("抑止フラグ", default=False)
    memo = models.TextField("メモ", blank=True)
    display_order = models.PositiveIntegerField("世帯員の並び順（任意設定）", null=True, blank=True)

    # Search keys (derived from the items above with jumin.core; never shown)
    kana_key = models.CharField(max_length=200, blank=True)
    kana_exact = models.CharField(max_length=200, blank=True)
    given_kana_key = models.CharField(max_length=100, blank=True)
    name_key = models.CharField(max_length=200, blank=True)
    former_kana_key = models.CharField(max_length=100, blank=True)
    alias_kana_key = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        """氏名 as printed: family and given name joined by a full-width space."""
        if self.family_name or self.given_name:
            return "　".join(p for p in (self.family_name, self.given_name) if p)
        return self.name_alphabet


class Household(models.Model):
    """世帯: the number is assigned once; members and head come from the residents."""

    household_no = models.CharField("世帯番号", max_length=10, unique=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = "世帯 (household)"

    def __str__(self) -> str:
        return self.household_no


class Resident(ResidentRecord):
    """住民票 — the current view: each person's latest committed snapshot."""

    history_no = models.PositiveIntegerField("履歴番号")
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "住民 (resident)"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["atena_no"], name="resident_atena_no_unique"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["kana_key", "birth_date"], name="resident_kana_birth"),
            models.Index(fields=["given_kana_key", "birth_date"], name="resident_given_birth"),
            models.Index(fields=["birth_date"], name="resident_birth"),
            models.Index(fields=["name_key"], name="resident_name_key"),
            models.Index(fields=["household_no"], name="resident_household"),
            models.Index(fields=["address_code"], name="resident_address_code"),
            models.Index(fields=["juminhyo_code"], name="resident_juminhyo_code"),
            models.Index(fields=["residence_card_no"], name="resident_card_no"),
            models.Index(fields=["status", "removal_reason"], name="resident_status"),
        ]

    def __str__(self) -> str:
        return f"{self.atena_no} {self.name}"


class Change(models.Model):
    """異動: one event affecting one or more persons, entered as a draft and committed by a
    different member of staff (std 4.0.8, j530)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "仮登録"
        COMMITTED = "committed", "本登録"
        REJECTED = "rejected", "差戻し"
        WITHDRAWN = "withdrawn", "取下げ"

    procedure = models.CharField("手続", max_length=64)
    change_reason = models.CharField("異動事由", max_length=40, choices=REASONS)
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.DRAFT)
    occurred_on = models.DateField("異動日")
    notified_on = models.DateField("届出日", null=True, blank=True)
    payload = models.JSONField("異動内容", default=dict)
    findings = models.JSONField("エラー・アラート", default=list)
    acknowledged = models.JSONField("確認済みアラート", default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="入力者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("入力日時", auto_now_add=True)
    terminal = models.ForeignKey(
        "accounts.Terminal",
        verbose_name="入力端末",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="審査者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("審査日時", null=True, blank=True)
    rejection_reason = models.TextField("差戻し理由", blank=True)
    cancels = models.ForeignKey(
        "self",
        verbose_name="取り消す異動",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cancelled_by",
    )
    idempotency_key = models.CharField(
        "冪等キー", max_length=64, null=True, blank=True, unique=True
    )
    version = models.PositiveIntegerField("版", default=1)

    class Meta:
        verbose_name = "異動 (change)"
        indexes: ClassVar = [models.Index(fields=["status", "created_at"], name="change_status")]

    def __str__(self) -> str:
        return f"異動#{self.pk} {self.get_change_reason_display()} ({self.get_status_display()})"


class ChangePerson(models.Model):
    """The persons a change affects (for "drafts touching this person")."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="persons")
    atena_no = models.CharField("宛名番号", max_length=10, db_index=True)
    base_history_no = models.PositiveIntegerField("入力時の履歴番号", null=True, blank=True)

    class Meta:
        verbose_name = "異動対象者"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["change", "atena_no"], name="change_person_unique")
        ]

    def __str__(self) -> str:
        return f"{self.change_id}:{self.atena_no}"


class ResidentHistory(ResidentRecord):
    """異動履歴: one full snapshot per person per committed change. Append-only."""

    history_no = models.PositiveIntegerField("履歴番号")
    change = models.ForeignKey(
        Change, verbose_name="異動", on_delete=models.PROTECT, related_name="+"
    )
    change_reason = models.CharField("異動事由", max_length=40, choices=REASONS)
    occurred_on = models.DateField("異動日")
    history_notified_on = models.DateField("届出日（異動）", null=True, blank=True)
    processed_at = models.DateTimeField("処理日時")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="入力者", on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="審査者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    terminal = models.ForeignKey(
        "accounts.Terminal",
        verbose_name="入力端末",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "異動履歴 (resident history)"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["atena_no", "history_no"], name="history_atena_history_unique"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["kana_key"], name="history_kana"),
            models.Index(fields=["name_key"], name="history_name_key"),
            models.Index(fields=["address_code"], name="history_address_code"),
            models.Index(fields=["change"], name="history_change"),
            models.Index(fields=["household_no", "occurred_on"], name="history_household"),
        ]

    def __str__(self) -> str:
        return f"{self.atena_no}#{self.history_no} {self.get_change_reason_display()}"


class EditLock(models.Model):
    """編集ロック (std 10.3): while one clerk edits a person, others may only read."""

    atena_no = models.CharField("宛名番号", max_length=10, unique=True)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="編集中の職員",
        on_delete=models.CASCADE,
        related_name="+",
    )
    acquired_at = models.DateTimeField("取得日時")
    expires_at = models.DateTimeField("期限")

    class Meta:
        verbose_name = "編集ロック"

    def __str__(self) -> str:
        return f"{self.atena_no} ← {self.holder_id}"


class JuminhyoCodePool(models.Model):
    """空きコード: unused 住民票コード handed to the city by the national side (std 4.3.1)."""

    code = models.CharField("住民票コード", max_length=11, unique=True)
    assigned_to = models.CharField("付番先の宛名番号", max_length=10, blank=True)
    assigned_at = models.DateTimeField("付番日時", null=True, blank=True)

    class Meta:
        verbose_name = "住民票コード（空きコード）"
        indexes: ClassVar = [models.Index(fields=["assigned_to", "id"], name="pool_free")]

    def __str__(self) -> str:
        return self.code


class NumberSequence(models.Model):
    """Sequences for 宛名番号 and 世帯番号 (std 1.1.13, j130)."""

    name = models.CharField(max_length=32, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "採番"

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class SearchHistory(models.Model):
    """Per-user search history (std 2.1.1): criteria only, never results."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    criteria = models.JSONField("検索条件")
    result_count = models.PositiveIntegerField("件数")
    searched_at = models.DateTimeField("検索日時", auto_now_add=True)

    class Meta:
        verbose_name = "検索履歴"
        indexes: ClassVar = [models.Index(fields=["staff", "-searched_at"], name="search_history")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.searched_at}"
