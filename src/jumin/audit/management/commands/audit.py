"""jumin audit verify|tail"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.audit import selectors


class Command(BaseCommand):
    help = "操作ログの改ざん検査・表示 (operation log)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="ハッシュチェーンを検査する")
        tail = sub.add_parser("tail", help="最新のエントリを表示する")
        tail.add_argument("--last", type=int, default=20)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "verify":
            report = selectors.verify_chain()
            if report.ok:
                self.stdout.write(f"操作ログは正常です（{report.checked} 件を検査、改ざんなし）。")
                return
            for problem in report.problems:
                self.stderr.write(f"連番 {problem.seq} [{problem.kind}] {problem.message}")
            raise CommandError(
                f"操作ログの改ざんを検出しました: {len(report.problems)} 件の問題"
                f"（{report.checked} 件を検査）。"
            )
        for entry in selectors.latest_entries(opts["last"]):
            self.stdout.write(
                f"{entry.seq}\t{entry.occurred_at:%Y-%m-%d %H:%M:%S}\t{entry.operator_code}\t"
                f"{entry.terminal_name or '-'}\t{entry.get_category_display()}\t{entry.function}\t"
                f"{entry.get_outcome_display()}\t{' '.join(entry.targets)}"
            )
