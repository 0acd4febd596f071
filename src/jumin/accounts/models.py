"""Staff (職員), roles (ロール), organisational units (組織) and terminals (端末)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from jumin.accounts.permissions import Perm


class OrgUnit(models.Model):
    """組織: a 課, a 区役所 or a 出張所. Staff and terminals belong to one."""

    class Kind(models.TextChoices):
        DIVISION = "division", "課"
        WARD_OFFICE = "ward_office", "区役所"
        BRANCH = "branch", "出張所"

    code = models.CharField("組織コード", max_length=32, unique=True)
    name = models.CharField("組織名", max_length=100)
    kind = models.CharField("種別", max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上位組織", null=True, blank=True, on_delete=models.PROTECT
    )
    # The ward given to staff registered in this unit (std 10.3: 組織単位で設定);
    # blank = the whole city.
    ward_scope = models.CharField("管轄区（既定）", max_length=16, blank=True, default="")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = "組織 (org unit)"
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"


class Role(models.Model):
    """ロール: a named bundle of permissions from the catalogue."""

    code = models.CharField("ロールコード", max_length=64, unique=True)
    name = models.CharField("ロール名", max_length=100)
    permissions = models.JSONField("権限", default=list)
    on_premises_only = models.BooleanField("庁舎内端末のみ", default=False)
    # Client address ranges (CIDR, e.g. "10.1.0.0/16") this role may be used from; empty = any.
    allowed_networks = models.JSONField("利用可能なアドレス範囲", default=list, blank=True)
    is_builtin = models.BooleanField("標準ロール", default=False)

    class Meta:
        verbose_name = "ロール (role)"
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def perms(self) -> frozenset[Perm]:
        return frozenset(Perm(p) for p in self.permissions)


class Terminal(models.Model):
    """端末: a registered workstation, where operations are entered (std 1.3.1, j230)."""

    name = models.CharField("端末名", max_length=64, unique=True)
    location = models.CharField("設置場所", max_length=200)
    org_unit = models.ForeignKey(OrgUnit, verbose_name="組織", on_delete=models.PROTECT)
    on_premises = models.BooleanField("庁舎内", default=True)
    # Client address ranges (CIDR) this terminal is reached from; empty = any address.
    allowed_networks = models.JSONField("接続元アドレス範囲", default=list, blank=True)
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)

    class Meta:
        verbose_name = "端末 (terminal)"
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffManager(BaseUserManager["Staff"]):
    """Staff are created through ``jumin.accounts.services``, never through this manager."""

    def get_by_natural_key(self, username: str | None) -> Staff:
        return self.get(staff_id=username)


class Staff(AbstractBaseUser):
    """職員: a member of staff who may use the register."""

    staff_id = models.CharField("職員ID", max_length=32, unique=True)
    name = models.CharField("氏名", max_length=100)
    name_kana = models.CharField("氏名フリガナ", max_length=100)
    org_unit = models.ForeignKey(OrgUnit, verbose_name="所属", on_delete=models.PROTECT)
    roles = models.ManyToManyField(Role, verbose_name="ロール", blank=True, related_name="staff")
    valid_from = models.DateField("有効期間（開始）")
    valid_until = models.DateField("有効期間（終了）", null=True, blank=True)
    # The ward (a key of jumin.register.search.WARDS) whose residents this member of staff may
    # see; blank = the whole city (std 10.3, j1380).
    ward_scope = models.CharField("管轄区", max_length=16, blank=True, default="")
    must_change_password = models.BooleanField("次回ログイン時にパスワード変更", default=False)
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)

    USERNAME_FIELD = "staff_id"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name", "name_kana"]

    objects = StaffManager()

    class Meta:
        verbose_name = "職員 (staff)"
        ordering: ClassVar = ["staff_id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.staff_id}）"

    def is_valid_on(self, day: dt.date) -> bool:
        """Active, and ``day`` lies in the validity period."""
        if not self.is_active or day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def permission_set(self) -> frozenset[Perm]:
        cached: frozenset[Perm] | None = getattr(self, "_perm_cache", None)
        if cached is None:
            perms: set[Perm] = set()
            for role in self.roles.all():
                perms |= role.perms
            cached = frozenset(perms)
            self._perm_cache = cached
        return cached

    def has_permission(self, perm: Perm) -> bool:
        """Held through a role, and the account is active and inside its validity period today:
        a session that outlives the period can do nothing more."""
        if not self.is_valid_on(timezone.localdate()):
            return False
        return perm in self.permission_set()

    # Django's auth API, answered from the catalogue.
    def has_perm(self, perm: str, obj: Any = None) -> bool:
        try:
            return self.has_permission(Perm(perm))
        except ValueError:
            return False

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return all(self.has_perm(p) for p in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return any(p.value.startswith(f"{app_label}:") for p in self.permission_set())


class ScheduledStaffChange(models.Model):
    """A change to a member of staff prepared in advance and applied on its date by
    ``jumin staff apply-scheduled`` (std 10.3, j1380: スケジューラーに設定し、事前に準備).
    ``role_codes``/``org_unit`` ``None`` leave the item as it is; ``valid_until`` and
    ``ward_scope`` are applied only when their ``set_…`` flag is on (so that "no end date" and
    "the whole city" can be scheduled too)."""

    class Status(models.TextChoices):
        PENDING = "pending", "予定"
        APPLIED = "applied", "適用済"
        CANCELLED = "cancelled", "取消"

    staff = models.ForeignKey(
        Staff, verbose_name="職員", on_delete=models.PROTECT, related_name="scheduled_changes"
    )
    effective_on = models.DateField("適用日")
    role_codes = models.JSONField("ロール（変更後）", null=True, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="所属（変更後）", null=True, blank=True, on_delete=models.PROTECT
    )
    set_valid_until = models.BooleanField("有効期間の終了を変更", default=False)
    valid_until = models.DateField("有効期間の終了（変更後）", null=True, blank=True)
    set_ward_scope = models.BooleanField("管轄区を変更", default=False)
    ward_scope = models.CharField("管轄区（変更後）", max_length=16, blank=True, default="")
    deactivate = models.BooleanField("無効化", default=False)
    note = models.CharField("備考", max_length=200, blank=True, default="")
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.PENDING)
    created_by = models.CharField("登録者", max_length=64)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    decided_at = models.DateTimeField("適用・取消日時", null=True, blank=True)

    class Meta:
        verbose_name = "職員の予定変更 (scheduled staff change)"
        ordering: ClassVar = ["effective_on", "pk"]
        indexes: ClassVar = [models.Index(fields=["status", "effective_on"])]

    def __str__(self) -> str:
        return f"{self.staff.staff_id} {self.effective_on:%Y-%m-%d}"
