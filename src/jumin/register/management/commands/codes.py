"""jumin codes load FILE | status — the pool of free 住民票コード (空きコード, std 4.3.1 j870).

``load`` reads one code per line (UTF-8; blank lines and lines starting with ``#`` are
skipped), validates every line and loads all of them in one transaction, or none: any bad
line (malformed code, a code twice in the file, a code already on a resident's record) is
reported with its line number and nothing is loaded. Codes already in the pool are skipped
and counted, so loading the same file twice is harmless.

``status`` prints the free, assigned and total counts and warns below the city's minimum
(``settings.JUMIN["JUMINHYO_CODE_POOL_MINIMUM"]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from jumin.accounts.actor import Actor
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.core.errors import CoreError
from jumin.core.identifiers import validate_juminhyo_code
from jumin.register.models import JuminhyoCodePool, Resident
from jumin.register.procedures.identity import free_code_count, pool_minimum

CHUNK = 1000
MAX_REPORTED = 50
LOAD_FUNCTION = "住民票コード（空きコード）の取込"


def _chunks(items: list[str], size: int = CHUNK) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class Command(BaseCommand):
    help = "住民票コードの空きコードの取込・状態表示 (pool of free juminhyo codes)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="空きコードのファイル（1行に1コード）を取り込む")
        load.add_argument("file", metavar="FILE", help="空きコードのファイル（UTF-8）")
        sub.add_parser("status", help="空きコードの件数を表示する")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "load":
            self._load(Path(opts["file"]))
        else:
            self._status()

    # ------------------------------------------------------------------ load

    def _read(self, path: Path) -> list[tuple[int, str]]:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"ファイル {path} がありません。") from None
        except UnicodeDecodeError:
            raise CommandError(
                f"ファイル {path} は UTF-8 のテキストではありません。"
                "CSから取得したファイルを確認してください。"
            ) from None
        except OSError as exc:
            raise CommandError(f"ファイル {path} を読めません（{type(exc).__name__}）。") from None
        lines = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if line and not line.startswith("#"):
                lines.append((number, line))
        return lines

    def _load(self, path: Path) -> None:
        lines = self._read(path)
        bad: list[str] = []
        first_line: dict[str, int] = {}
        for number, line in lines:
            try:
                code = validate_juminhyo_code(line)
            except CoreError as exc:
                bad.append(f"{number}行目: {exc.message}")
                continue
            if code in first_line:
                bad.append(
                    f"{number}行目: 住民票コード {code} は{first_line[code]}行目と重複しています。"
                )
                continue
            first_line[code] = number
        codes = list(first_line)
        for chunk in _chunks(codes):
            used = Resident.objects.filter(juminhyo_code__in=chunk).values_list(
                "juminhyo_code", "atena_no"
            )
            for code, atena_no in sorted(used):
                bad.append(
                    f"{first_line[code]}行目: 住民票コード {code} は宛名番号 {atena_no} に"
                    "記載済みです。"
                )
        if bad:
            for message in bad[:MAX_REPORTED]:
                self.stderr.write(message)
            if len(bad) > MAX_REPORTED:
                self.stderr.write(f"…ほか{len(bad) - MAX_REPORTED}件")
            raise CommandError(
                f"{len(bad)}行に誤りがあるため、1件も取り込みませんでした。"
                "誤りを直したファイルで取り込み直してください。"
            )
        with transaction.atomic():
            known: set[str] = set()
            for chunk in _chunks(codes):
                known.update(
                    JuminhyoCodePool.objects.filter(code__in=chunk).values_list("code", flat=True)
                )
            fresh = [c for c in codes if c not in known]
            for chunk in _chunks(fresh):
                JuminhyoCodePool.objects.bulk_create(JuminhyoCodePool(code=c) for c in chunk)
            audit.record(
                Actor.system("cli"),
                category=Category.BATCH_UPDATE,
                function=LOAD_FUNCTION,
                detail={"file": path.name, "loaded": len(fresh), "skipped": len(known)},
            )
        self.stdout.write(
            f"{len(fresh)}件の空きコードを取り込みました"
            f"（取込済みのため読み飛ばし {len(known)}件）。空きコード: {free_code_count()}件"
        )

    # ------------------------------------------------------------------ status

    def _status(self) -> None:
        free = free_code_count()
        total = JuminhyoCodePool.objects.count()
        assigned = total - free
        unused = (
            JuminhyoCodePool.objects.exclude(assigned_to="")
            .exclude(code__in=Resident.objects.exclude(juminhyo_code="").values("juminhyo_code"))
            .count()
        )
        minimum = pool_minimum()
        self.stdout.write(f"空きコード: {free}件")
        self.stdout.write(
            f"付番済み: {assigned}件（うち住民票に未記載 {unused}件: 仮登録中・差戻し・取下げ）"
        )
        self.stdout.write(f"合計: {total}件")
        self.stdout.write(f"下限: {minimum}件")
        if free < minimum:
            self.stdout.write(
                f"警告: 空きコードが下限（{minimum}件）を下回っています。"
                "CSから空きコードを取得して `jumin codes load` で取り込んでください。"
            )
