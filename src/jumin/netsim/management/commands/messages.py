"""jumin netsim messages [--sender C] [--kind K] [--outcome O] [--limit N] — the message log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jumin.netsim import selectors
from jumin.netsim.models import MessageLog


class Command(BaseCommand):
    help = "netsim が受信・中継した電文のログを新しい順に表示する（個人番号は伏字）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sender", default="", help="送信元ノードコード")
        parser.add_argument("--kind", default="", help="電文種別（例: identity.update）")
        parser.add_argument(
            "--outcome",
            default="",
            choices=["", *MessageLog.Outcome.values],
            help="結果（applied, stale, refused, rejected, duplicate, repeated, relayed）",
        )
        parser.add_argument("--limit", type=int, default=50, help="表示件数（既定 50）")

    def handle(self, *args: Any, **opts: Any) -> None:
        rows = selectors.messages(
            sender=opts["sender"], kind=opts["kind"], outcome=opts["outcome"], limit=opts["limit"]
        )
        if not rows:
            self.stdout.write("該当する電文はありません。")
            return
        for row in rows:
            error = f" {row.error_code}" if row.error_code else ""
            self.stdout.write(
                f"{row.received_at:%Y-%m-%d %H:%M:%S} {MessageLog.Direction(row.direction).label}"
                f" {row.kind or '-'} {row.sender or '-'}→{row.recipient or '-'}"
                f" {MessageLog.Outcome(row.outcome).label} [{row.http_status}]{error}"
                f" id={row.message_id or '-'}"
            )
