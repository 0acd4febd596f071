"""jumin netsim node add|list|deactivate|activate — the registry of nodes and their keys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.netsim import keyfile, selectors, services
from jumin.netsim.models import Node


class Command(BaseCommand):
    help = "住基ネットのノード（市区町村のCS）の登録・一覧・無効化"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="市区町村のCSを公開鍵とともに登録する")
        add.add_argument("--code", required=True, help="全国地方公共団体コード（6桁）")
        add.add_argument("--name", required=True, help="名称（例: 相模原市）")
        add.add_argument("--public-key", required=True, help="Ed25519 公開鍵（base64）")
        add.add_argument("--replace-key", action="store_true", help="登録済みの公開鍵を置き換える")
        sub.add_parser("list", help="登録済みのノードを表示する")
        for action, text in (("deactivate", "無効にする"), ("activate", "有効に戻す")):
            parser_ = sub.add_parser(action, help=f"市区町村のノードを{text}")
            parser_.add_argument("code", help="全国地方公共団体コード（6桁）")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        try:
            if action == "add":
                services.ensure_own_nodes()
                node = services.register_city(
                    opts["code"], opts["name"], opts["public_key"], replace_key=opts["replace_key"]
                )
                self.stdout.write(f"登録しました: {node.code} {node.name}")
            elif action == "list":
                self._list()
            else:
                node = services.set_active(opts["code"], action == "activate")
                state = "有効" if node.active else "無効"
                self.stdout.write(f"{node.code} {node.name}: {state}にしました。")
        except services.NodeError as exc:
            raise CommandError(exc.message) from None
        except keyfile.KeyFileError as exc:
            raise CommandError(str(exc)) from None

    def _list(self) -> None:
        rows = list(selectors.nodes())
        if not rows:
            self.stdout.write(
                "登録済みのノードはありません（`jumin netsim serve` で自ノードを登録）。"
            )
            return
        for node in rows:
            state = "有効" if node.active else "無効"
            self.stdout.write(
                f"{node.code:<10} {Node.Kind(node.kind).label:<4} {state}"
                f" {node.public_key}  {node.name}"
            )
