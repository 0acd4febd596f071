"""jumin import FILE|DIR — 住民データの取込 (data migration, docs/guide/data-migration.md).

Validates the CSV layout of docs/guide/csv-layout.md and loads it all or nothing. Prints the
report in Japanese; exits with status 1 (no traceback) when the files have problems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.accounts.actor import Actor
from jumin.accounts.models import Staff
from jumin.register.importer import (
    DEFAULT_BATCH,
    DEFAULT_MAX_PROBLEMS,
    ImportReport,
    import_register,
)

PROGRESS_EVERY = 50_000


class Command(BaseCommand):
    help = "住民データ（移行用CSV）を検査して取り込む (import the register from CSV)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source",
            metavar="FILE|DIR",
            help="households.csv・residents.csv・history.csv・manifest.json のあるディレクトリ"
            "（またはそのうち1つのファイル）",
        )
        parser.add_argument(
            "--operator",
            required=True,
            metavar="STAFF_ID",
            help="取込の入力者として履歴に記録する職員ID（住民データの取込の権限が必要）",
        )
        parser.add_argument("--dry-run", action="store_true", help="検査だけ行い、何も取り込まない")
        parser.add_argument(
            "--max-problems",
            type=int,
            default=DEFAULT_MAX_PROBLEMS,
            help=f"表示する問題の件数の上限（既定 {DEFAULT_MAX_PROBLEMS}）",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH,
            help=f"一度に書き込む人数（既定 {DEFAULT_BATCH}）",
        )
        parser.add_argument("--quiet", action="store_true", help="途中経過を表示しない")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["max_problems"] < 1 or opts["batch_size"] < 1:
            raise CommandError("--max-problems と --batch-size は1以上で指定してください。")
        staff = Staff.objects.filter(staff_id=opts["operator"]).first()
        if staff is None:
            raise CommandError(f"職員ID「{opts['operator']}」の職員はいません。")
        source = Path(opts["source"])
        if not source.exists():
            raise CommandError(f"取込元 {source} がありません。")
        shown = [0]

        def progress(report: ImportReport) -> None:
            if opts["quiet"] or report.residents - shown[0] < PROGRESS_EVERY:
                return
            shown[0] = report.residents
            self.stdout.write(
                f"  … 住民 {report.residents:,} 件・異動履歴 {report.history_rows:,} 件を処理"
            )
            self.stdout.flush()

        try:
            report = import_register(
                Actor.system("cli"),
                source,
                operator=staff,
                dry_run=opts["dry_run"],
                max_problems=opts["max_problems"],
                batch_size=opts["batch_size"],
                progress=progress,
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                f"取込元のファイルに {report.problem_count:,} 件の問題があります。"
                "何も取り込んでいません。"
            )
