"""Staff authentication state: WebAuthn authenticators (the biometric second factor),
one-time enrolment links and the login-failure counter per staff id (std 10.3, j1380)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class WebAuthnCredential(models.Model):
    """認証器: one authenticator (a platform biometric) registered by a member of staff.

    Revoked credentials stay (the operation log refers to them) but never verify again."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="職員",
        on_delete=models.PROTECT,
        related_name="webauthn_credentials",
    )
    label = models.CharField("名前", max_length=64)
    credential_id = models.CharField("認証器ID（base64url）", max_length=1400, unique=True)
    public_key = models.BinaryField("公開鍵（COSE）")
    sign_count = models.BigIntegerField("署名カウンタ", default=0)
    transports = models.JSONField("通信方式", default=list)
    aaguid = models.CharField("AAGUID", max_length=36, blank=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    last_used_at = models.DateTimeField("最終使用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("失効日時", null=True, blank=True)
    revoked_by = models.CharField("失効させた者", max_length=64, blank=True)

    class Meta:
        verbose_name = "WebAuthn認証器 (credential)"
        ordering: ClassVar = ["staff_id", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.label}（{self.staff_id}）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class EnrolmentLink(models.Model):
    """登録用リンク: issued by an administrator, used once, expires. Only the SHA-256 of the
    token is stored; the URL is shown once to the administrator who issued it."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="職員",
        on_delete=models.PROTECT,
        related_name="webauthn_enrolment_links",
    )
    token_hash = models.CharField("トークンのハッシュ", max_length=64, unique=True)
    issued_by = models.CharField("発行者", max_length=64)
    created_at = models.DateTimeField("発行日時", auto_now_add=True)
    expires_at = models.DateTimeField("有効期限")
    used_at = models.DateTimeField("使用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)

    class Meta:
        verbose_name = "認証器登録用リンク (enrolment link)"
        ordering: ClassVar = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"登録用リンク（{self.staff_id}, {self.created_at:%Y-%m-%d %H:%M}）"


class LoginFailureState(models.Model):
    """ログイン失敗の記録 per attempted staff id (also for ids that do not exist, so that a
    lock says nothing about whether the id is real)."""

    staff_id = models.CharField("職員ID", max_length=64, unique=True)
    failures = models.PositiveIntegerField("連続失敗回数", default=0)
    last_failure_at = models.DateTimeField("最終失敗日時", null=True, blank=True)
    locked_until = models.DateTimeField("ロック期限", null=True, blank=True)

    class Meta:
        verbose_name = "ログイン失敗状態 (login failures)"
        ordering: ClassVar = ["staff_id"]

    def __str__(self) -> str:
        return f"{self.staff_id}: {self.failures}"
