"""Who may read, analyse, verify and configure the operation log.

The log depends on nothing but core (import contract), so it names the permissions of the
catalogue (``jumin.accounts.permissions.Perm``) by their values and checks them through the
actor, exactly like ``jumin.accounts.services.authorize``: a refusal is logged, then raised.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import PermissionDenied

from jumin.audit.models import Category, Outcome
from jumin.audit.services import ActorLike, record

LOG_READ = "audit:log:read"
LOG_ANALYSE = "audit:log:analyse"
LOG_VERIFY = "audit:log:verify"
SETTINGS_MANAGE = "audit:settings:manage"
DATA_EXTRACT = "register:data:extract"

LABELS = {
    LOG_READ: "操作ログの照会",
    LOG_ANALYSE: "操作ログの分析",
    LOG_VERIFY: "操作ログの改ざん検査",
    SETTINGS_MANAGE: "操作ログの保存期間等の設定",
    DATA_EXTRACT: "データ抽出（EUC）",
}


class Actor(ActorLike, Protocol):
    """An actor whose permissions can be asked (``jumin.accounts.actor.Actor``)."""

    def can(self, perm: Any) -> bool: ...


def require(actor: Actor, perm: str, function: str) -> None:
    """Refuse, and log the refusal, when ``actor`` lacks ``perm``."""
    if actor.can(perm):
        return
    record(
        actor,
        category=Category.EVENT,
        function=function,
        outcome=Outcome.DENIED,
        detail={"missing_permission": perm},
    )
    raise PermissionDenied(f"この操作には「{LABELS[perm]}」の権限が必要です（{perm}）。")
