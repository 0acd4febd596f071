"""jumin authn enrol-link|list|revoke|reset|unlock — staff authenticators (std 10.3, j1380).

Run by the system administrator on the server; every action is in the operation log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from jumin.accounts.actor import Actor
from jumin.authn import selectors, services
from jumin.core.findings import FindingsError

T = TypeVar("T")


def _run(call: Callable[[], T]) -> T:
    try:
        return call()
    except FindingsError as exc:
        raise CommandError("\n".join(f.message for f in exc.findings)) from exc
    except PermissionDenied as exc:
        raise CommandError(str(exc)) from exc


def _base_url(given: str | None) -> str:
    if given:
        return given.rstrip("/")
    origins = settings.JUMIN.get("WEBAUTHN_ORIGINS") or []
    if isinstance(origins, list) and origins:
        return str(origins[0]).rstrip("/")
    return "http://localhost:8000"


class Command(BaseCommand):
    help = "職員の認証器（WebAuthn）: 登録用リンクの発行・一覧・削除・リセット・ロック解除"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        link = sub.add_parser("enrol-link", help="認証器登録用リンクを発行する（24時間・1回限り）")
        link.add_argument("staff_id")
        link.add_argument("--base-url", help="画面のURL（省略時は JUMIN_WEBAUTHN_ORIGINS の先頭）")
        lst = sub.add_parser("list", help="認証器の一覧")
        lst.add_argument("staff_id", nargs="?")
        lst.add_argument("--all", action="store_true", help="削除済みも表示する")
        rev = sub.add_parser("revoke", help="認証器を1つ削除する（list の番号）")
        rev.add_argument("credential", type=int)
        reset = sub.add_parser("reset", help="職員の認証器をすべて削除し、登録用リンクを発行する")
        reset.add_argument("staff_id")
        reset.add_argument("--base-url")
        unlock = sub.add_parser("unlock", help="ログインのロックを解除する")
        unlock.add_argument("staff_id")
        sub.add_parser("locks", help="ロック中・失敗記録のある職員IDの一覧")

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = Actor.system("cli")
        action = opts["action"]
        if action in {"enrol-link", "reset"}:
            staff_id = opts["staff_id"]
            if action == "reset":
                issued = _run(lambda: services.reset_authenticators(actor, staff_id=staff_id))
            else:
                issued = _run(lambda: services.issue_enrolment_link(actor, staff_id=staff_id))
            path = reverse("web:auth_enrol", kwargs={"token": issued.token})
            self.stdout.write(f"{_base_url(opts.get('base_url'))}{path}")
            self.stderr.write(
                f"{staff_id} の登録用リンクです（{issued.link.expires_at:%Y-%m-%d %H:%M} まで・"
                "1回限り）。本人に直接渡してください。再表示はできません。"
            )
        elif action == "list":
            qs = selectors.credential_list(opts.get("staff_id"))
            if not opts["all"]:
                qs = qs.filter(revoked_at__isnull=True)
            for c in qs:
                state = "有効" if c.revoked_at is None else f"削除 {c.revoked_at:%Y-%m-%d}"
                used = f"{c.last_used_at:%Y-%m-%d %H:%M}" if c.last_used_at else "未使用"
                self.stdout.write(
                    f"{c.pk}\t{c.staff.staff_id}\t{c.label}\t{c.created_at:%Y-%m-%d}\t{used}\t{state}"
                )
        elif action == "revoke":
            removed = _run(
                lambda: services.revoke_credential(actor, credential_pk=opts["credential"])
            )
            self.stdout.write(
                f"{removed.staff.staff_id} の認証器「{removed.label}」を削除しました。"
            )
        elif action == "unlock":
            was = _run(lambda: services.unlock(actor, staff_id=opts["staff_id"]))
            self.stdout.write(
                f"{opts['staff_id']} のロックを解除しました。"
                if was
                else f"{opts['staff_id']} はロックされていませんでした（失敗回数を0に戻しました）。"
            )
        elif action == "locks":
            for lock in selectors.lock_states():
                until = f"{lock.locked_until:%Y-%m-%d %H:%M}" if lock.locked_until else "-"
                self.stdout.write(f"{lock.staff_id}\t失敗{lock.failures}回\tロック期限 {until}")
