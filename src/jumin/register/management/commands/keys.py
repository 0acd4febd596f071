"""jumin keys init|rotate|status|retire — the 個人番号 encryption keys (ADR 0004).

Never prints key material or numbers: only key ids and row counts.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.accounts.actor import Actor
from jumin.register import crypto


class Command(BaseCommand):
    help = "個人番号の暗号鍵の作成・更新・状態表示・廃棄 (My Number encryption keys)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="鍵ファイルを作成する (JUMIN_KEY_FILE)")
        init.add_argument(
            "--force",
            action="store_true",
            help="既存の鍵ファイルを上書きする（暗号化済みの個人番号が1件もない場合のみ）",
        )
        rotate = sub.add_parser("rotate", help="新しい鍵を作成し、全件を再暗号化する")
        rotate.add_argument("--batch-size", type=int, default=1000, help="1トランザクションの件数")
        rotate.add_argument(
            "--retire", action="store_true", help="再暗号化の後、使われなくなった旧鍵を廃棄する"
        )
        sub.add_parser("status", help="有効な鍵と鍵ごとの件数を表示する")
        retire = sub.add_parser("retire", help="どの個人番号にも使われていない旧鍵を廃棄する")
        retire.add_argument(
            "key_ids",
            nargs="*",
            metavar="KEY_ID",
            help="廃棄する鍵ID（省略時は未使用の旧鍵すべて）",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except (
            crypto.KeyManagementError,
            crypto.DecryptionError,
            ImproperlyConfigured,
        ) as exc:
            raise CommandError(str(exc)) from exc

    def _init(self, opts: dict[str, Any]) -> None:
        path = crypto.init_keys(force=opts["force"])
        ring = crypto.load_keyring()
        self.stdout.write(f"鍵ファイルを作成しました: {path}（有効な鍵ID: {ring.active_id}）")
        self.stdout.write(
            "鍵ファイルは安全な場所にバックアップしてください。失うと復号できません。"
        )

    def _rotate(self, opts: dict[str, Any]) -> None:
        if opts["batch_size"] < 1:
            raise CommandError("--batch-size は1以上で指定してください。")
        actor = Actor.system("cli")
        count = crypto.rotate_keys(
            actor,
            batch_size=opts["batch_size"],
            progress=lambda n: self.stdout.write(f"  再暗号化 {n} 件…"),
        )
        ring = crypto.load_keyring()
        self.stdout.write(
            f"新しい鍵 {ring.active_id} を有効にし、{count} 件の個人番号を再暗号化しました。"
        )
        if opts["retire"]:
            self._report_retired(crypto.retire_unused_keys(actor=actor))

    def _status(self, opts: dict[str, Any]) -> None:
        ring = crypto.load_keyring()
        usage = crypto.key_usage()
        self.stdout.write(f"鍵ファイル: {crypto.key_file_path()}")
        self.stdout.write(f"有効な鍵ID: {ring.active_id}")
        self.stdout.write(f"鍵ID: {', '.join(sorted(ring.keys))}")
        self.stdout.write("鍵ID\t件数\t状態")
        for key_id in sorted(ring.keys):
            n = usage.get(key_id, 0)
            if key_id == ring.active_id:
                state = "有効"
            elif n:
                state = "旧鍵（再暗号化待ち）"
            else:
                state = "旧鍵（未使用・廃棄可）"
            self.stdout.write(f"{key_id}\t{n}\t{state}")
        missing = {k: n for k, n in usage.items() if k not in ring.keys}
        for key_id, n in sorted(missing.items()):
            self.stdout.write(f"{key_id}\t{n}\t鍵ファイルにない（復号できません）")
        if missing:
            raise CommandError(
                "鍵ファイルにない鍵IDで暗号化された個人番号があります: "
                f"{', '.join(sorted(missing))}。"
                "鍵ファイルをバックアップから復元してください。"
            )

    def _retire(self, opts: dict[str, Any]) -> None:
        key_ids = opts["key_ids"] or None
        self._report_retired(crypto.retire_unused_keys(key_ids, actor=Actor.system("cli")))

    def _report_retired(self, retired: list[str]) -> None:
        if retired:
            self.stdout.write(f"旧鍵を廃棄しました: {', '.join(retired)}")
        else:
            self.stdout.write("廃棄できる旧鍵はありません。")
