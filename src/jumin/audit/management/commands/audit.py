"""jumin audit verify|tail|keygen|checkpoint|archive|verify-archive"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jumin.audit import checkpoints, events, retention, selectors
from jumin.audit.models import Category
from jumin.audit.services import record


class _CommandActor:
    """An operator-run command on the server (the log cannot import accounts' Actor)."""

    staff = None
    terminal_name = ""
    place = ""

    def __init__(self, label: str) -> None:
        self.operator_code = f"cli:{label}"

    def can(self, perm: Any) -> bool:
        return True


class Command(BaseCommand):
    help = "操作ログの改ざん検査・表示・チェックポイント・アーカイブ (operation log)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="ハッシュチェーンと署名付きチェックポイントを検査する")
        tail = sub.add_parser("tail", help="最新のエントリを表示する")
        tail.add_argument("--last", type=int, default=20)
        keygen = sub.add_parser("keygen", help="チェックポイント・アーカイブの署名鍵を作る")
        keygen.add_argument("--force", action="store_true", help="既存の鍵を作り直す")
        sub.add_parser("checkpoint", help="チェーンの末尾に署名して別の場所に追記する（5分ごと）")
        archive = sub.add_parser("archive", help="保存期間を過ぎたエントリを署名付きファイルに移す")
        archive.add_argument("--dir", type=Path, default=None, help="アーカイブの出力先")
        check = sub.add_parser("verify-archive", help="アーカイブファイルを検査する")
        check.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        try:
            getattr(self, "_" + action.replace("-", "_"))(opts)
        except checkpoints.CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        except retention.ArchiveError as exc:
            raise CommandError(str(exc)) from exc

    def _verify(self, opts: dict[str, Any]) -> None:
        result = events.verify()
        report, cps = result.chain, result.checkpoints
        for problem in report.problems:
            self.stderr.write(f"連番 {problem.seq} [{problem.kind}] {problem.message}")
        for cp_problem in cps.problems:
            self.stderr.write(f"チェックポイント [{cp_problem.kind}] {cp_problem.message}")
        if cps.missing_key:
            self.stderr.write(cps.missing_key)
        if result.ok:
            anchor = (
                f"、アーカイブ済み 連番 {report.archived_through} まで"
                if report.archived_through
                else ""
            )
            self.stdout.write(
                f"操作ログは正常です（{report.checked} 件を検査、改ざんなし{anchor}）。"
                f" チェックポイント {cps.checked} 件を照合しました。"
            )
            return
        raise CommandError(
            f"操作ログの改ざんを検出しました: {len(report.problems) + len(cps.problems)} 件の問題"
            f"（{report.checked} 件・チェックポイント {cps.checked} 件を検査）。"
        )

    def _tail(self, opts: dict[str, Any]) -> None:
        for entry in selectors.latest_entries(opts["last"]):
            self.stdout.write(
                f"{entry.seq}\t{entry.occurred_at:%Y-%m-%d %H:%M:%S}\t{entry.operator_code}\t"
                f"{entry.terminal_name or '-'}\t{entry.get_category_display()}\t{entry.function}\t"
                f"{entry.get_outcome_display()}\t{' '.join(entry.targets)}"
            )

    def _keygen(self, opts: dict[str, Any]) -> None:
        path = checkpoints.generate_key(overwrite=opts["force"])
        public = checkpoints.load_key(path).public_key()
        self.stdout.write(
            f"署名鍵を作成しました: {path}（鍵ID {checkpoints.key_id(public)}）。"
            "データベースとは別の場所に保管してください。"
        )
        actor = _CommandActor("keygen")
        record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="操作ログ署名鍵の作成",
            detail={"key_id": checkpoints.key_id(public), "replaced": bool(opts["force"])},
        )

    def _checkpoint(self, opts: dict[str, Any]) -> None:
        cp = checkpoints.write_checkpoint()
        self.stdout.write(
            f"チェックポイントを記録しました: 連番 {cp.seq} {cp.entry_hash[:16]}… → {cp.file}"
        )

    def _archive(self, opts: dict[str, Any]) -> None:
        result = retention.archive(_CommandActor("archive"), directory=opts["dir"])
        if result is None:
            self.stdout.write("保存期間を過ぎたエントリはありません。")
            return
        self.stdout.write(
            f"連番 {result.from_seq}〜{result.through_seq}（{result.count} 件）を {result.path} に"
            f"アーカイブしました（SHA-256 {result.sha256}）。"
        )

    def _verify_archive(self, opts: dict[str, Any]) -> None:
        bad = 0
        for path in opts["files"]:
            problems = retention.verify_archive(path)
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                bad += 1
            else:
                self.stdout.write(f"{path.name}: 正常です（署名・連鎖・ダイジェストを確認）。")
        if bad:
            raise CommandError(f"{bad} 件のアーカイブファイルに問題があります。")
