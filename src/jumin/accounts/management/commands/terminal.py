"""jumin terminal add|list"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jumin.accounts import selectors, services
from jumin.accounts.actor import Actor
from jumin.accounts.management.commands._util import run_service


class Command(BaseCommand):
    help = "端末の登録・一覧"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("--name", required=True)
        add.add_argument("--location", required=True)
        add.add_argument("--org-unit", required=True)
        add.add_argument("--off-premises", action="store_true", help="庁舎外の端末")
        add.add_argument(
            "--network",
            action="append",
            default=[],
            help="接続元アドレス範囲（CIDR、複数可。省略時は制限なし）",
        )
        sub.add_parser("list")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "add":
            terminal = run_service(
                lambda: services.create_terminal(
                    Actor.system("cli"),
                    name=opts["name"],
                    location=opts["location"],
                    org_unit_code=opts["org_unit"],
                    on_premises=not opts["off_premises"],
                    allowed_networks=opts["network"],
                )
            )
            self.stdout.write(f"端末を登録しました: {terminal.name}")
        else:
            for t in selectors.terminal_list():
                where = "庁舎内" if t.on_premises else "庁舎外"
                networks = ",".join(t.allowed_networks) or "制限なし"
                state = "" if t.is_active else "\t使用停止"
                self.stdout.write(
                    f"{t.name}\t{t.location}\t{t.org_unit.code}\t{where}\t{networks}{state}"
                )
