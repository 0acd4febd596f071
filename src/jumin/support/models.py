"""支援措置 (support measures, DV等支援措置): the database of std 1.1.16 (j160).

A support measure protects a person (the applicant, 申出者) and those covered with them
(併せて支援を求める者) from requests by an abuser (加害者): copies of the resident record, the
inspection of the register and — here — any screen of a clerk without the support-measure
permission (std 3.4, j440). Everything is keyed by 宛名番号, which stays with the person after
a removal (除票), so a measure follows the person when they move out.

- ``SupportMeasure``: one application (申出) and its period: provisional (仮支援措置) while
  the need is checked, then active for one year (end = start + 1 year − 1 day), extended by a
  year at a time from one month before the end, ended or terminated.
- ``SupportSubject``: the persons protected by a measure — the applicant and those covered;
  persons outside the register are kept by name and birth date (no 宛名番号).
- ``SupportAbuser``: the abuser's details, searchable (reading + birth date) to refuse their
  requests.
- ``SupportEvent``: the history of every change of a measure; rows are only ever added.
- ``SupportLift``: a release of the protection for exactly one request (個別の解除), given by a
  support-measure officer with a reason, valid for minutes and usable once.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class SupportKind(models.TextChoices):
    """支援措置の区分."""

    DV = "dv", "DV（配偶者からの暴力）"
    STALKER = "stalker", "ストーカー行為等"
    CHILD_ABUSE = "child_abuse", "児童虐待等"
    OTHER = "other", "その他（これらに準ずる行為）"


class SupportStatus(models.TextChoices):
    """The states of a measure. Provisional, active and extended protect; ended and
    terminated do not."""

    PROVISIONAL = "provisional", "仮支援措置"
    ACTIVE = "active", "支援措置中"
    EXTENDED = "extended", "支援措置中（延長）"
    ENDED = "ended", "終了（期間満了）"
    TERMINATED = "terminated", "終了（中途終了）"


PROTECTING = (SupportStatus.PROVISIONAL, SupportStatus.ACTIVE, SupportStatus.EXTENDED)
"""States in which the measure's subjects are protected."""


class EndReason(models.TextChoices):
    """Why a measure ended (std 3.4: 申出による終了・期間経過・必要性がなくなったとき)."""

    EXPIRED = "expired", "期間の経過（延長の申出なし）"
    REQUESTED = "requested", "申出者からの終了の申出"
    NOT_NEEDED = "not_needed", "支援の必要性がないと確認"
    OTHER = "other", "その他"


class SubjectRole(models.TextChoices):
    APPLICANT = "applicant", "申出者"
    COVERED = "covered", "併せて支援を求める者"


class SupportMeasure(models.Model):
    """支援措置 (support measure): one application and its period (std 1.1.16, 3.4)."""

    atena_no = models.CharField("申出者の宛名番号", max_length=10, db_index=True)
    applicant_name = models.CharField("申出者の氏名", max_length=200)
    applicant_name_kana = models.CharField("申出者の氏名フリガナ", max_length=200, blank=True)
    kind = models.CharField("支援措置の区分", max_length=16, choices=SupportKind.choices)
    kind_note = models.CharField("区分の補足", max_length=200, blank=True)
    applied_on = models.DateField("申出年月日")
    contact = models.CharField("申出者の連絡先", max_length=200, blank=True)

    # 申出者より支援を求められている事務 (std 1.1.16)
    restrict_inspection = models.BooleanField("住民基本台帳の一部の写しの閲覧", default=True)
    restrict_copies = models.BooleanField("住民票の写し等の交付", default=True)
    restrict_koseki_attachment = models.BooleanField("戸籍の附票の写しの交付", default=True)

    status = models.CharField(
        "状態", max_length=16, choices=SupportStatus.choices, default=SupportStatus.PROVISIONAL
    )
    provisional_since = models.DateField("仮支援措置の開始年月日", null=True, blank=True)
    start_on = models.DateField("支援措置の開始年月日", null=True, blank=True)
    end_on = models.DateField("支援措置の終了年月日", null=True, blank=True)
    extensions = models.PositiveIntegerField("延長の回数", default=0)
    ended_on = models.DateField("終了処理の年月日", null=True, blank=True)
    end_reason = models.CharField(
        "終了の事由", max_length=16, choices=EndReason.choices, blank=True
    )
    end_note = models.CharField("終了の理由（詳細）", max_length=500, blank=True)

    # 転送情報 (std 1.1.16)
    forwarded_to = models.CharField("転送先市区町村", max_length=100, blank=True)
    forwarded_on = models.DateField("転送年月日", null=True, blank=True)
    received_from = models.CharField("当初受付市区町村", max_length=100, blank=True)
    received_on = models.DateField("転送された申出書の受付年月日", null=True, blank=True)

    memo = models.TextField("備考", blank=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登録者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    version = models.PositiveIntegerField("版", default=1)

    class Meta:
        verbose_name = "支援措置 (support measure)"
        indexes: ClassVar = [
            models.Index(fields=["status", "end_on"], name="support_status_end"),
        ]

    def __str__(self) -> str:
        return f"支援措置 第{self.pk}号（{self.get_status_display()}）"

    @property
    def is_protecting(self) -> bool:
        return self.status in PROTECTING


class SupportSubject(models.Model):
    """支援対象者: the applicant (申出者) or a person covered with them (併せて支援を求める者).

    ``atena_no`` is empty for a person outside the register (kept by name and birth date)."""

    measure = models.ForeignKey(
        SupportMeasure, verbose_name="支援措置", on_delete=models.PROTECT, related_name="subjects"
    )
    role = models.CharField("区分", max_length=16, choices=SubjectRole.choices)
    atena_no = models.CharField("宛名番号", max_length=10, blank=True)
    name = models.CharField("氏名", max_length=200)
    name_kana = models.CharField("氏名フリガナ", max_length=200, blank=True)
    birth_date = models.DateField("生年月日", null=True, blank=True)
    sex = models.CharField("性別", max_length=1, blank=True)
    relationship = models.CharField("申出者との関係", max_length=40, blank=True)
    previous_address = models.CharField("前住所", max_length=300, blank=True)

    class Meta:
        verbose_name = "支援対象者 (support subject)"
        indexes: ClassVar = [models.Index(fields=["atena_no"], name="support_subject_atena")]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["measure", "atena_no"],
                condition=~models.Q(atena_no=""),
                name="support_subject_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.get_role_display()}"


class SupportAbuser(models.Model):
    """加害者: who the measure protects against. ``kana_key`` (the fuzzy key of the reading,
    std 2.1.2) with the birth date is what a request by a third party is checked against."""

    measure = models.ForeignKey(
        SupportMeasure, verbose_name="支援措置", on_delete=models.PROTECT, related_name="abusers"
    )
    name = models.CharField("氏名", max_length=200)
    name_kana = models.CharField("氏名フリガナ", max_length=200, blank=True)
    birth_date = models.DateField("生年月日", null=True, blank=True)
    sex = models.CharField("性別", max_length=1, blank=True)
    address = models.CharField("住所", max_length=300, blank=True)
    atena_no = models.CharField("宛名番号（同一市区町村の場合）", max_length=10, blank=True)
    relationship = models.CharField("申出者との関係", max_length=100, blank=True)
    note = models.TextField("その他", blank=True)
    kana_key = models.CharField(max_length=200, blank=True)
    name_key = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "加害者 (abuser)"
        indexes: ClassVar = [
            models.Index(fields=["kana_key", "birth_date"], name="support_abuser_kana"),
            models.Index(fields=["atena_no"], name="support_abuser_atena"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}:加害者"


class SupportEvent(models.Model):
    """The history of a measure: one row per change (登録・本登録・延長・終了 …). Rows are only
    ever added, by the services."""

    class Action(models.TextChoices):
        REGISTER = "register", "申出の受付（仮支援措置）"
        CONFIRM = "confirm", "支援措置の開始"
        EXTEND = "extend", "期間の延長"
        TERMINATE = "terminate", "支援措置の終了"
        NOTICE = "notice", "期間終了通知の出力"

    measure = models.ForeignKey(
        SupportMeasure, verbose_name="支援措置", on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField("処理", max_length=16, choices=Action.choices)
    occurred_at = models.DateTimeField("処理日時", auto_now_add=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="処理者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    operator_code = models.CharField("処理者コード", max_length=64)
    terminal_name = models.CharField("端末", max_length=64, blank=True)
    status_before = models.CharField("処理前の状態", max_length=16, blank=True)
    status_after = models.CharField("処理後の状態", max_length=16)
    start_on = models.DateField("開始年月日", null=True, blank=True)
    end_on = models.DateField("終了年月日", null=True, blank=True)
    note = models.CharField("理由・備考", max_length=500, blank=True)

    class Meta:
        verbose_name = "支援措置の処理履歴"
        ordering: ClassVar = ["measure_id", "id"]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.get_action_display()}"

    @property
    def status_after_label(self) -> str:
        return dict(SupportStatus.choices).get(self.status_after, self.status_after)


class SupportLift(models.Model):
    """個別の解除: a support-measure officer releases the protection for one request — these
    persons (``targets``, all the persons of the request) and this purpose — with a reason.
    Valid until ``expires_at``, used once (``used_at``)."""

    targets = models.JSONField("対象者の宛名番号", default=list)
    targets_key = models.CharField("対象者（照合用）", max_length=1000)
    purpose = models.CharField("請求の目的・処理", max_length=200)
    purpose_key = models.CharField("目的（照合用）", max_length=200)
    reason = models.CharField("解除の理由", max_length=500)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="解除した支援措置担当者",
        on_delete=models.PROTECT,
        related_name="+",
    )
    for_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="使用できる職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("解除日時", auto_now_add=True)
    expires_at = models.DateTimeField("有効期限")
    used_at = models.DateTimeField("使用日時", null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="使用した職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "支援措置の個別解除 (support lift)"
        indexes: ClassVar = [models.Index(fields=["created_at"], name="support_lift_created")]

    def __str__(self) -> str:
        return f"解除番号 {self.pk}"
