"""jumin netsim keys show|init — netsim's own signing keys (J-LIS and the prefectures)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.netsim import conf, keyfile, services


class Command(BaseCommand):
    help = "netsim 自身の署名鍵（機構 jlis、都道府県 pref-NN）の作成と公開鍵の表示"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="公開鍵を表示する（秘密鍵は表示しない）")
        show.add_argument("--code", help="このノードだけ表示する（例: jlis, pref-14）")
        init = sub.add_parser("init", help="鍵ファイルを作成する（本番モードでは必須）")
        init.add_argument(
            "--add", action="store_true", help="既存の鍵ファイルに足りないノードの鍵だけ追加する"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = conf.key_file()
        codes = services.own_codes()
        try:
            if opts["action"] == "init":
                if opts["add"]:
                    added = keyfile.add_missing(path, codes)
                    self.stdout.write(f"{len(added)} 件の鍵を追加しました: {path}")
                else:
                    keyfile.create(path, codes)
                    self.stdout.write(f"鍵ファイルを作成しました（{len(codes)} ノード）: {path}")
                return
            keys = services.keys()
        except (keyfile.KeyFileError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
        wanted = [opts["code"]] if opts.get("code") else codes
        for code in wanted:
            if code not in keys.nodes:
                raise CommandError(f"ノード {code} は netsim が担当していません。")
            self.stdout.write(
                f"{code:<8} {keys.node(code).public_b64}  {services.own_node_name(code)}"
            )
