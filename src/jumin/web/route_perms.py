"""What every screen of the clerk UI needs: public, login only, or permissions (std 10.3,
j1380: 操作権限一覧表での管理及びそれらに基づく利用者別の各種制御).

``ROUTES`` maps each URL name of the ``web`` namespace to its :class:`Rule`.
``jumin.web.middleware.RoutePermissionMiddleware`` enforces it before the view runs; the
services still check (defence in depth). A route missing here is refused to everyone (and
``jumin.web.tests.test_authorization_matrix`` fails), so adding a screen is one line::

    "web:audit_log": needs(Perm.AUDIT_LOG_READ),

The API declares its routes on the operations themselves (``jumin.config.api.requires``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from jumin.accounts.permissions import Perm


class Access(enum.StrEnum):
    PUBLIC = "public"  # no login (login page, the public certificate verification)
    LOGIN = "login"  # any signed-in member of staff
    PERMISSION = "permission"  # signed in and holding the permissions


@dataclass(frozen=True)
class Rule:
    """``all_of``: every one is needed; ``any_of``: at least one of them as well."""

    access: Access
    all_of: tuple[Perm, ...] = ()
    any_of: tuple[Perm, ...] = ()

    def allows(self, held: frozenset[Perm] | set[Perm]) -> bool:
        """Whether a member of staff holding ``held`` may open the route (anonymous: only a
        public one)."""
        if self.access is not Access.PERMISSION:
            return True
        if not all(p in held for p in self.all_of):
            return False
        return not self.any_of or any(p in held for p in self.any_of)

    @property
    def label(self) -> str:
        """The rule as an administrator reads it (権限一覧表)."""
        if self.access is Access.PUBLIC:
            return "公開（ログイン不要）"
        if self.access is Access.LOGIN:
            return "ログインのみ"
        text = "・".join(f"「{p.label}」" for p in self.all_of)
        if self.any_of:
            extra = "または".join(f"「{p.label}」" for p in self.any_of)
            text = f"{text}、および{extra}" if text else extra
        return text


PUBLIC = Rule(Access.PUBLIC)
LOGIN = Rule(Access.LOGIN)


def needs(*perms: Perm, any_of: tuple[Perm, ...] = ()) -> Rule:
    """A route for staff holding every one of ``perms`` (and one of ``any_of`` if given)."""
    if not perms and not any_of:
        raise ValueError("needs() takes at least one permission; use LOGIN or PUBLIC")
    return Rule(Access.PERMISSION, tuple(perms), tuple(any_of))


# Drafts are read by those who enter or review changes (std 4.0.8; jumin.register.reviews).
_DRAFT_READERS = (Perm.CHANGE_DRAFT, Perm.CHANGE_REVIEW)

# An issued certificate is read by the clerk who issues and by readers of the issue log.
_CERTIFICATE_READERS = (Perm.CERTIFICATE_ISSUE, Perm.CERTIFICATE_READ_LOG)

ROUTES: dict[str, Rule] = {
    # sign-in
    "web:home": LOGIN,
    "web:login": PUBLIC,
    "web:logout": PUBLIC,  # signing out needs nothing (and reveals nothing)
    # search and inquiry (std 2.1, 2.2)
    "web:search": needs(Perm.RESIDENT_SEARCH),
    "web:person": needs(Perm.RESIDENT_READ),
    "web:reveal_my_number": needs(Perm.RESIDENT_READ, Perm.MY_NUMBER_READ),
    "web:household": needs(Perm.RESIDENT_READ),
    # procedures (std 4)
    "web:procedures": needs(Perm.CHANGE_DRAFT),
    "web:procedure": needs(Perm.CHANGE_DRAFT),
    "web:lock": needs(Perm.CHANGE_DRAFT),
    "web:address_lookup": LOGIN,  # the address dictionary: no personal data
    # review (std 4.0.8)
    "web:review": needs(Perm.RESIDENT_READ, any_of=_DRAFT_READERS),
    "web:bulk_commit": needs(Perm.CHANGE_BULK_COMMIT),
    "web:change": needs(Perm.RESIDENT_READ, any_of=_DRAFT_READERS),
    "web:commit": needs(Perm.CHANGE_REVIEW),
    "web:reject": needs(Perm.CHANGE_REVIEW),
    "web:withdraw": needs(Perm.CHANGE_DRAFT),
    # 支援措置 (std 3.4, 1.1.16, 2.2.4)
    "web:support_list": needs(Perm.SUPPORT_MEASURE_READ),
    "web:support_new": needs(Perm.SUPPORT_MEASURE_MANAGE),
    "web:support_lifts": needs(Perm.SUPPORT_MEASURE_LIFT),
    "web:support_detail": needs(Perm.SUPPORT_MEASURE_READ),
    "web:support_confirm": needs(Perm.SUPPORT_MEASURE_MANAGE),
    "web:support_extend": needs(Perm.SUPPORT_MEASURE_MANAGE),
    "web:support_terminate": needs(Perm.SUPPORT_MEASURE_MANAGE),
    "web:support_notice": needs(Perm.SUPPORT_MEASURE_MANAGE),
    # 住基ネット（CS） (std 7.1.1)
    "web:cs_status": needs(Perm.JUKINET_MESSAGE_READ),
    # 送信の切替（手動・自動） is its own function (std 10.3): JUKINET_DELIVERY_MANAGE as well
    "web:cs_manual": needs(Perm.JUKINET_DELIVERY_MANAGE),
    "web:cs_sent": needs(Perm.JUKINET_MESSAGE_READ),
    "web:cs_failures": needs(Perm.JUKINET_MESSAGE_READ),
    "web:cs_message": needs(Perm.JUKINET_MESSAGE_READ),
    "web:cs_resend": needs(Perm.JUKINET_MESSAGE_RETRY),
    # 本人確認情報の照会 is its own function (std 10.3): JUKINET_IDENTITY_QUERY as well
    "web:cs_query": needs(Perm.JUKINET_IDENTITY_QUERY),
    "web:cs_inbound": needs(Perm.JUKINET_MESSAGE_READ),
    "web:cs_unarrived": needs(Perm.JUKINET_MESSAGE_READ),  # its CSV: see the selector
    "web:cs_numbers": needs(Perm.JUKINET_MESSAGE_READ),
    # 証明書 (std 5)
    "web:certificates": needs(Perm.CERTIFICATE_ISSUE),
    "web:certificate_new": needs(Perm.CERTIFICATE_ISSUE),
    "web:certificate_result": needs(any_of=_CERTIFICATE_READERS),
    "web:certificate_issue": needs(any_of=_CERTIFICATE_READERS),
    "web:certificate_pdf": needs(Perm.CERTIFICATE_ISSUE),
    "web:certificate_revoke": needs(Perm.CERTIFICATE_REVOKE),
    "web:certificate_log": needs(Perm.CERTIFICATE_READ_LOG),
    # 操作ログ (std 10.2, j1370)
    "web:audit_search": needs(Perm.AUDIT_LOG_READ),
    "web:audit_entry": needs(Perm.AUDIT_LOG_READ),
    "web:audit_export": needs(Perm.AUDIT_LOG_READ, Perm.DATA_EXTRACT),
    "web:audit_reports": needs(Perm.AUDIT_LOG_ANALYSE),
    "web:audit_report": needs(Perm.AUDIT_LOG_ANALYSE),  # its CSV also DATA_EXTRACT (service)
    "web:audit_verify": needs(Perm.AUDIT_LOG_VERIFY),
    "web:audit_settings": needs(Perm.AUDIT_SETTINGS_MANAGE),
    "web:audit_print_log": LOGIN,  # any screen printed is logged, whoever prints it
    # 職員認証 (std 10.3): the second factor and enrolment come before a login
    "web:auth_verify": PUBLIC,
    "web:auth_verify_options": PUBLIC,
    "web:auth_enrol": PUBLIC,  # a one-time link an administrator issued
    "web:auth_register_options": PUBLIC,
    "web:auth_register": PUBLIC,
    "web:auth_authenticators": LOGIN,  # one's own authenticators
    "web:auth_enrol_links": needs(Perm.STAFF_MANAGE),
    # 職員・権限の管理 (std 10.3, j1380)
    "web:admin_staff_list": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_new": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_import": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_detail": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_edit": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_deactivate": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_reactivate": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_reset_password": needs(Perm.STAFF_MANAGE),
    "web:admin_staff_schedule": needs(Perm.STAFF_MANAGE),
    "web:admin_schedule_cancel": needs(Perm.STAFF_MANAGE),
    "web:admin_role_list": needs(Perm.ROLE_MANAGE),
    "web:admin_role_new": needs(Perm.ROLE_MANAGE),
    "web:admin_role_matrix": needs(Perm.ROLE_MANAGE),
    "web:admin_role_matrix_csv": needs(Perm.ROLE_MANAGE),
    "web:admin_role_edit": needs(Perm.ROLE_MANAGE),
    "web:admin_terminal_list": needs(Perm.TERMINAL_MANAGE),
    "web:admin_terminal_new": needs(Perm.TERMINAL_MANAGE),
    "web:admin_terminal_edit": needs(Perm.TERMINAL_MANAGE),
    "web:admin_org_units": needs(Perm.ORG_UNIT_MANAGE),
    "web:password_change": LOGIN,  # one's own password
    # 証明書の検証（公開: the QR code on a certificate leads here)
    "web:verify_form": PUBLIC,
    "web:verify": PUBLIC,
}


def rule_for(view_name: str) -> Rule | None:
    """The rule of a namespaced URL name (``web:search``); None when undeclared."""
    return ROUTES.get(view_name)


__all__ = ["LOGIN", "PUBLIC", "ROUTES", "Access", "Rule", "needs", "rule_for"]
