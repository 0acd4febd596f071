"""The permission catalogue and the built-in roles.

Every permission is named ``<area>:<resource>:<action>``. The catalogue is closed: a role can
only hold permissions listed here, and every API route and screen declares which one it needs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Perm(enum.StrEnum):
    """One permission of the catalogue; ``label`` is what an administrator reads."""

    # register
    RESIDENT_READ = "register:resident:read"
    RESIDENT_SEARCH = "register:resident:search"
    MY_NUMBER_READ = "register:my_number:read"
    # field visibility (std 10.4, j1390): without these the items are hidden everywhere
    HONSEKI_READ = "register:honseki:read"
    JUMINHYO_CODE_READ = "register:juminhyo_code:read"
    RESIDENCE_STATUS_READ = "register:residence_status:read"
    JUMINHYO_CODE_ASSIGN = "register:juminhyo_code:assign"
    DATA_EXTRACT = "register:data:extract"
    CHANGE_DRAFT = "register:change:draft"
    CHANGE_REVIEW = "register:change:review"
    CHANGE_BULK_COMMIT = "register:change:bulk_commit"
    CHANGE_CANCEL = "register:change:cancel"
    REGISTER_IMPORT = "register:import:run"
    REGISTER_VERIFY = "register:verify:run"
    BATCH_RUN = "batch:job:run"
    # certificates
    CERTIFICATE_ISSUE = "certificates:certificate:issue"
    CERTIFICATE_READ_LOG = "certificates:issue_log:read"
    CERTIFICATE_REVOKE = "certificates:certificate:revoke"
    SUPPORT_MEASURE_READ = "certificates:support_measure:read"
    SUPPORT_MEASURE_MANAGE = "certificates:support_measure:manage"
    SUPPORT_MEASURE_LIFT = "certificates:support_measure:lift"
    # jukinet
    JUKINET_MESSAGE_READ = "jukinet:message:read"
    JUKINET_MESSAGE_RETRY = "jukinet:message:retry"
    JUKINET_IDENTITY_QUERY = "jukinet:identity:query"
    JUKINET_DELIVERY_MANAGE = "jukinet:delivery:manage"
    # audit
    AUDIT_LOG_READ = "audit:log:read"
    AUDIT_LOG_ANALYSE = "audit:log:analyse"
    AUDIT_LOG_VERIFY = "audit:log:verify"
    AUDIT_SETTINGS_MANAGE = "audit:settings:manage"
    # accounts
    STAFF_MANAGE = "accounts:staff:manage"
    ROLE_MANAGE = "accounts:role:manage"
    TERMINAL_MANAGE = "accounts:terminal:manage"
    ORG_UNIT_MANAGE = "accounts:org_unit:manage"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[Perm, str] = {
    Perm.RESIDENT_READ: "住民記録の照会",
    Perm.RESIDENT_SEARCH: "住民の検索",
    Perm.MY_NUMBER_READ: "個人番号の表示",
    Perm.HONSEKI_READ: "戸籍の表示（本籍・筆頭者）",
    Perm.JUMINHYO_CODE_READ: "住民票コードの表示",
    Perm.RESIDENCE_STATUS_READ: "在留資格等の表示",
    Perm.JUMINHYO_CODE_ASSIGN: "住民票コードの付番",
    Perm.DATA_EXTRACT: "データ抽出（EUC）",
    Perm.CHANGE_DRAFT: "異動の入力（仮登録）",
    Perm.CHANGE_REVIEW: "異動の審査・本登録",
    Perm.CHANGE_BULK_COMMIT: "異動の一括本登録",
    Perm.CHANGE_CANCEL: "異動の取消し",
    Perm.REGISTER_IMPORT: "住民データの取込",
    Perm.REGISTER_VERIFY: "住民記録の整合性検査",
    Perm.BATCH_RUN: "バッチ処理の実行",
    Perm.CERTIFICATE_ISSUE: "証明書の交付",
    Perm.CERTIFICATE_READ_LOG: "交付履歴の照会",
    Perm.CERTIFICATE_REVOKE: "交付した証明書の処分（取消し）",
    Perm.SUPPORT_MEASURE_READ: "支援措置の照会",
    Perm.SUPPORT_MEASURE_MANAGE: "支援措置の登録・変更",
    Perm.SUPPORT_MEASURE_LIFT: "支援措置の個別解除",
    Perm.JUKINET_MESSAGE_READ: "住基ネット送受信の照会",
    Perm.JUKINET_MESSAGE_RETRY: "住基ネット送信の再送",
    Perm.JUKINET_IDENTITY_QUERY: "住基ネット本人確認情報の照会",
    Perm.JUKINET_DELIVERY_MANAGE: "住基ネット送信の切替（手動・自動）",
    Perm.AUDIT_LOG_READ: "操作ログの照会",
    Perm.AUDIT_LOG_ANALYSE: "操作ログの分析",
    Perm.AUDIT_LOG_VERIFY: "操作ログの改ざん検査",
    Perm.AUDIT_SETTINGS_MANAGE: "操作ログの保存期間等の設定",
    Perm.STAFF_MANAGE: "職員の管理",
    Perm.ROLE_MANAGE: "ロールの管理",
    Perm.TERMINAL_MANAGE: "端末の管理",
    Perm.ORG_UNIT_MANAGE: "組織の管理",
}


@dataclass(frozen=True)
class BuiltinRole:
    code: str
    name: str
    permissions: frozenset[Perm]
    on_premises_only: bool = False


_READ = frozenset({Perm.RESIDENT_READ, Perm.RESIDENT_SEARCH})
# The items of std 10.4 (j1390) a counter needs to see; the certificate contractor does not.
_FIELDS = frozenset({Perm.HONSEKI_READ, Perm.JUMINHYO_CODE_READ, Perm.RESIDENCE_STATUS_READ})

BUILTIN_ROLES: tuple[BuiltinRole, ...] = (
    BuiltinRole(
        "counter_clerk",
        "窓口担当",
        _READ
        | _FIELDS
        | {
            Perm.CHANGE_DRAFT,
            Perm.CHANGE_CANCEL,
            Perm.CERTIFICATE_ISSUE,
            Perm.JUMINHYO_CODE_ASSIGN,
        },
    ),
    BuiltinRole(
        "reviewer",
        "審査担当",
        _READ | _FIELDS | {Perm.CHANGE_REVIEW, Perm.CHANGE_CANCEL, Perm.CERTIFICATE_READ_LOG},
    ),
    BuiltinRole(
        "certificate_contractor",
        "証明書交付委託事業者",
        _READ | {Perm.CERTIFICATE_ISSUE},
        on_premises_only=True,
    ),
    BuiltinRole(
        "supervisor",
        "係長・課長（監督者）",
        _READ
        | _FIELDS
        | {
            Perm.CHANGE_REVIEW,
            Perm.CHANGE_BULK_COMMIT,
            Perm.CHANGE_CANCEL,
            Perm.MY_NUMBER_READ,
            Perm.CERTIFICATE_READ_LOG,
            Perm.CERTIFICATE_REVOKE,
            Perm.JUKINET_MESSAGE_READ,
            Perm.JUKINET_MESSAGE_RETRY,
            Perm.JUKINET_IDENTITY_QUERY,
            Perm.JUKINET_DELIVERY_MANAGE,
            Perm.JUMINHYO_CODE_ASSIGN,
            Perm.REGISTER_VERIFY,
        },
    ),
    BuiltinRole(
        "support_measure_officer",
        "支援措置担当",
        _READ
        | _FIELDS
        | {Perm.SUPPORT_MEASURE_READ, Perm.SUPPORT_MEASURE_MANAGE, Perm.SUPPORT_MEASURE_LIFT},
    ),
    BuiltinRole(
        "auditor",
        "監査担当",
        frozenset(
            {
                Perm.AUDIT_LOG_READ,
                Perm.AUDIT_LOG_ANALYSE,
                Perm.AUDIT_LOG_VERIFY,
                Perm.AUDIT_SETTINGS_MANAGE,
                Perm.DATA_EXTRACT,
                Perm.CERTIFICATE_READ_LOG,
            }
        ),
    ),
    BuiltinRole(
        "administrator",
        "システム管理者",
        frozenset(
            {
                Perm.STAFF_MANAGE,
                Perm.ROLE_MANAGE,
                Perm.TERMINAL_MANAGE,
                Perm.ORG_UNIT_MANAGE,
                Perm.REGISTER_IMPORT,
                Perm.REGISTER_VERIFY,
                Perm.BATCH_RUN,
                Perm.AUDIT_LOG_VERIFY,
            }
        ),
    ),
)
