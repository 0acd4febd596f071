"""jumin serve [--port P] [--host H]"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "窓口画面と API を提供する (serve the clerk UI and the API)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="localhost")

    def handle(self, *args: Any, **opts: Any) -> None:
        port = opts["port"]
        if not 1 <= port <= 65535:
            raise CommandError(f"ポート番号は 1〜65535 で指定してください: {port}")
        if settings.JUMIN["MODE"] == "production":
            raise CommandError(
                "本番モードでは jumin serve を使わず、WSGI サーバー（例: gunicorn "
                "jumin.config.wsgi）で起動してください。 Use a WSGI server in production."
            )
        self.stdout.write(f"http://{opts['host']}:{port}/ で待ち受けます（Ctrl+C で終了）。")
        call_command("runserver", f"{opts['host']}:{port}", use_reloader=False, skip_checks=False)
