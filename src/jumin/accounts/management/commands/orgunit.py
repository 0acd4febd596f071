"""jumin orgunit add|list"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jumin.accounts import selectors, services
from jumin.accounts.actor import Actor
from jumin.accounts.management.commands._util import run_service


class Command(BaseCommand):
    help = "組織（課・区役所・出張所）の登録・一覧"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("--code", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--kind", required=True, choices=["division", "ward_office", "branch"])
        add.add_argument("--parent")
        sub.add_parser("list")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "add":
            unit = run_service(
                lambda: services.create_org_unit(
                    Actor.system("cli"),
                    code=opts["code"],
                    name=opts["name"],
                    kind=opts["kind"],
                    parent_code=opts["parent"],
                )
            )
            self.stdout.write(f"組織を登録しました: {unit.code} {unit}")
        else:
            for unit in selectors.org_unit_list():
                self.stdout.write(f"{unit.code}\t{unit.name}\t{unit.get_kind_display()}")
