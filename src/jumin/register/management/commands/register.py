"""jumin register verify — 住民記録の整合性検査 (the current view against history).

Exits with status 1 when the current view and history differ. Never prints a 個人番号
(the encrypted row's id only).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.accounts import services as account_services
from jumin.accounts.permissions import Perm
from jumin.core.findings import FindingsError
from jumin.register.verify import DEFAULT_LIMIT, FUNCTION, verify_register


class Command(BaseCommand):
    help = "住民記録の保守 (register maintenance): verify"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="異動履歴から現在の住民票を作り直し、全項目を比較する"
        )
        verify.add_argument(
            "--limit",
            type=int,
            default=DEFAULT_LIMIT,
            help=f"表示する不一致の件数の上限（既定 {DEFAULT_LIMIT}）",
        )
        verify.add_argument(
            "--operator",
            default="",
            help="実行する職員ID（「住民記録の整合性検査」の権限が必要。省略時はOSの利用者）",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "verify":
            self._verify(opts)

    def _verify(self, opts: dict[str, Any]) -> None:
        if opts["limit"] < 0:
            raise CommandError("--limit は0以上で指定してください。")
        try:
            actor = account_services.batch_operator(
                opts["operator"], Perm.REGISTER_VERIFY, FUNCTION
            )
        except FindingsError as exc:
            raise CommandError(" ".join(f.message for f in exc.findings)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        report = verify_register(actor, limit=opts["limit"])
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                f"住民票と異動履歴に {report.difference_count:,} 件の不一致があります。"
            )
