"""Certificate requests (交付請求), the issue log (交付履歴, std 1.3.8 j300) and issued files.

- ``CertificateRequest``: one request at the counter or through the API — the certificate
  kind, the persons, who asked (requester kind and details), the purpose, the identity
  document checked (kind and a masked number), the options, copies and fee, the receipt
  number, and the decision: issued, or refused with the reason.
- ``IssuedCertificate``: one issued certificate (one document of one copy) — the items std
  1.3.8 lists: 交付年月日時, 交付場所, 交付対象者, 証明書の種別, 記載事項, 枚数, 発行番号,
  端末名・ユーザID and 処分情報 (revocation of a certificate issued in error: when, by whom, why).
- ``CertificateFile``: the signed PDF, kept only for the download window
  (``JUMIN_CERT_DOWNLOAD_MINUTES``) and then deleted; the log keeps its SHA-256.
- ``IssueCounter``: per-day sequences (the 連番 of the issue number per terminal, the receipt
  numbers).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class CertificateKind(models.TextChoices):
    """証明書の種別 (std 1.3.8 j300, 5.1 j1000, 4.1.3.0.3 j660, 4.3.3 j890)."""

    RECORD_COPY = "record_copy", "住民票の写し"
    REMOVED_RECORD_COPY = "removed_record_copy", "住民票の除票の写し"
    RECORD_STATEMENT = "record_statement", "住民票記載事項証明書"
    REMOVED_RECORD_STATEMENT = "removed_record_statement", "除票記載事項証明書"
    MOVE_OUT_CERTIFICATE = "move_out_certificate", "転出証明書"
    EQUIVALENT_CERTIFICATE = "equivalent_certificate", "転出証明書に準ずる証明書"
    JUMINHYO_CODE_NOTICE = "juminhyo_code_notice", "住民票コード通知票"


class RequesterKind(models.TextChoices):
    """Who asks (住基法 Art. 12, 12-2, 12-3)."""

    SELF = "self", "本人・同一世帯員（法第12条）"
    PUBLIC_BODY = "public_body", "国・地方公共団体の機関（法第12条の2）"
    THIRD_PARTY = "third_party", "第三者（法第12条の3）"
    AGENT = "agent", "代理人（委任状）"
    PROFESSIONAL = "professional", "特定事務受任者（職務上請求書）"


class Decision(models.TextChoices):
    ISSUED = "issued", "交付"
    REFUSED = "refused", "拒否"


class CertificateRequest(models.Model):
    """交付請求: one request and its decision."""

    kind = models.CharField("証明書の種別", max_length=32, choices=CertificateKind.choices)
    household_no = models.CharField("世帯番号", max_length=10, blank=True)
    atena_nos = models.JSONField("対象者（宛名番号）", default=list)
    requester_kind = models.CharField("請求者の区分", max_length=16, choices=RequesterKind.choices)
    requester_name = models.CharField("請求者の氏名・名称", max_length=200)
    requester = models.JSONField("請求者の詳細", default=dict)
    purpose = models.CharField("利用目的", max_length=200)
    identity_document_kind = models.CharField("確認した本人確認書類", max_length=32)
    identity_document_number = models.CharField(
        "本人確認書類の番号（末尾以外は伏せ字）", max_length=24, blank=True
    )
    options = models.JSONField("記載事項の指定", default=dict)
    copies = models.PositiveSmallIntegerField("通数", default=1)
    documents_per_copy = models.PositiveSmallIntegerField("1通あたりの証明書数", default=1)
    official_use = models.BooleanField("公用", default=False)
    fee_per_copy = models.PositiveIntegerField("手数料（1通）", default=0)
    fee_total = models.PositiveIntegerField("手数料（合計）", default=0)
    receipt_no = models.CharField("受付番号", max_length=20, null=True, blank=True, unique=True)
    decision = models.CharField("決定", max_length=8, choices=Decision.choices)
    refusal_reason = models.TextField("拒否の理由", blank=True)
    refusal_codes = models.JSONField("拒否の理由（コード）", default=list)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受付職員",
        on_delete=models.PROTECT,
        related_name="+",
    )
    staff_code = models.CharField("ユーザID", max_length=64)
    terminal_name = models.CharField("端末名", max_length=64, blank=True)
    place = models.CharField("交付場所", max_length=32, blank=True)
    created_at = models.DateTimeField("受付日時", auto_now_add=True, db_index=True)
    idempotency_key = models.CharField(
        "冪等キー", max_length=64, null=True, blank=True, unique=True
    )

    class Meta:
        verbose_name = "交付請求 (certificate request)"
        indexes: ClassVar = [
            models.Index(fields=["kind", "created_at"], name="cert_request_kind"),
            models.Index(fields=["requester_kind", "created_at"], name="cert_request_requester"),
            models.Index(fields=["staff_code", "created_at"], name="cert_request_staff"),
            models.Index(fields=["requester_name"], name="cert_request_requester_name"),
        ]

    def __str__(self) -> str:
        return f"請求#{self.pk} {self.get_kind_display()} {self.get_decision_display()}"


class CertificateRequestTarget(models.Model):
    """Index of the persons of a request: the issue log searched by person (std 2.2.2 j360)."""

    request = models.ForeignKey(
        CertificateRequest, on_delete=models.CASCADE, related_name="targets"
    )
    atena_no = models.CharField("宛名番号", max_length=10)

    class Meta:
        verbose_name = "交付請求の対象者"
        indexes: ClassVar = [models.Index(fields=["atena_no", "request"], name="cert_target")]

    def __str__(self) -> str:
        return f"{self.request_id}:{self.atena_no}"


class IssuedCertificate(models.Model):
    """交付履歴 (std 1.3.8 j300): one issued certificate."""

    issue_id = models.CharField("交付ID", max_length=16, unique=True)
    request = models.ForeignKey(
        CertificateRequest, verbose_name="交付請求", on_delete=models.PROTECT, related_name="issues"
    )
    kind = models.CharField("証明書の種別", max_length=32, choices=CertificateKind.choices)
    issued_at = models.DateTimeField("交付年月日時", db_index=True)
    place = models.CharField("交付場所", max_length=32, blank=True)
    atena_nos = models.JSONField("交付対象者（宛名番号）", default=list)
    history_nos = models.JSONField("印字した履歴番号", default=dict)
    items = models.JSONField("記載事項", default=list)
    pages = models.PositiveSmallIntegerField("枚数")
    issue_number = models.CharField("発行番号", max_length=120)
    serial = models.PositiveIntegerField("連番")
    copy_no = models.PositiveSmallIntegerField("通番", default=1)
    official_use = models.BooleanField("公用", default=False)
    reissue = models.BooleanField("再交付", default=False)
    my_number_printed = models.BooleanField("個人番号の記載", default=False)
    terminal_name = models.CharField("端末名", max_length=64, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="交付職員",
        on_delete=models.PROTECT,
        related_name="+",
    )
    staff_code = models.CharField("ユーザID", max_length=64)
    pdf_sha256 = models.CharField("PDFのSHA-256", max_length=64)
    revoked_at = models.DateTimeField("処分日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="処分した職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revocation_reason = models.TextField("処分の理由", blank=True)

    class Meta:
        verbose_name = "交付履歴 (issued certificate)"
        indexes: ClassVar = [
            models.Index(fields=["kind", "issued_at"], name="cert_issue_kind"),
            models.Index(fields=["staff_code", "issued_at"], name="cert_issue_staff"),
            models.Index(fields=["issue_number"], name="cert_issue_number"),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.get_kind_display()} {self.issue_number}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class CertificateFile(models.Model):
    """The signed PDF of an issued certificate, kept for the download window only."""

    issue = models.OneToOneField(
        IssuedCertificate, primary_key=True, on_delete=models.CASCADE, related_name="file"
    )
    pdf = models.BinaryField("PDF")
    created_at = models.DateTimeField("作成日時", db_index=True)

    class Meta:
        verbose_name = "交付した証明書のPDF（一時保管）"

    def __str__(self) -> str:
        return f"file {self.issue_id}"


class IssueCounter(models.Model):
    """Per-day sequences: ``serial:<terminal>`` (連番, std 5.5) and ``receipt`` (受付番号)."""

    day = models.DateField("日付")
    scope = models.CharField("区分", max_length=80)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "発行番号・受付番号の採番"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["day", "scope"], name="cert_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.scope}={self.last_value}"
