"""jumin netsim serve [--host localhost] [--port 8100] — run the national side."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from jumin.netsim import conf, keyfile, server, services


class Command(BaseCommand):
    help = (
        "住基ネットの全国側（都道府県サーバ・機構）の模擬サービスを起動する。"
        "SIGTERM または Ctrl+C で、処理中の電文を終えてから停止する。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="localhost", help="待ち受けるホスト（既定 localhost）"
        )
        parser.add_argument(
            "--port", type=int, default=8100, help="待ち受けるポート（既定 8100、0 で空きポート）"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        self._migrations()
        try:
            own = services.ensure_own_nodes()
        except keyfile.KeyFileError as exc:
            raise CommandError(str(exc)) from None
        host = opts["host"]

        def announce(bound_host: str, port: int) -> None:
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            self.stdout.write(
                f"netsim: http://{shown}:{port}/ で待ち受けています"
                f"（ノード {len(own)} 件、停止は Ctrl+C または SIGTERM）"
            )
            self.stdout.write(f"NETSIM_LISTENING port={port}")
            self.stdout.flush()

        try:
            server.serve(host, opts["port"], on_bind=announce)
        except OSError as exc:
            raise CommandError(f"{host}:{opts['port']} で待ち受けできません: {exc}") from None
        self.stdout.write("netsim: 停止しました。")
        sys.stdout.flush()

    def _migrations(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if not pending:
            return
        if conf.production():
            raise CommandError(
                "netsim のデータベースに未適用のマイグレーションがあります。"
                "`jumin netsim migrate` を実行してから起動してください。"
            )
        call_command("migrate", verbosity=0, interactive=False)
