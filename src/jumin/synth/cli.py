"""``jumin seed``: write a synthetic city as CSV files (no database).

    jumin seed --residents N [--seed S] --out DIR [--force] [--quiet] [--as-of YYYY-MM-DD]

Bad input (a non-positive or non-numeric count, an output directory that cannot be written,
an existing non-empty directory without ``--force``) gets one clear line on stderr and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import NoReturn

from jumin.synth.generator import DEFAULT_AS_OF, MAX_AS_OF, MIN_AS_OF, OUTPUT_FILES, generate

__all__ = ["main"]

MAX_RESIDENTS = 99_999_999  # 宛名番号 has a 9-digit sequence


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: エラー / error: {message}")


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"住民数は正の整数で指定してください / must be a positive integer: {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"住民数は1以上で指定してください / must be at least 1: {value}"
        )
    if value > MAX_RESIDENTS:
        raise argparse.ArgumentTypeError(
            f"住民数は{MAX_RESIDENTS:,}以下で指定してください / at most {MAX_RESIDENTS:,}: {value}"
        )
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"シードは整数で指定してください / must be an integer: {text!r}"
        ) from None


def _date(text: str) -> dt.date:
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日付は YYYY-MM-DD で指定してください / expected YYYY-MM-DD: {text!r}"
        ) from None
    if not MIN_AS_OF <= value <= MAX_AS_OF:
        raise argparse.ArgumentTypeError(
            f"基準日は{MIN_AS_OF}から{MAX_AS_OF}の間で指定してください"
            f" / must lie between {MIN_AS_OF} and {MAX_AS_OF}: {value}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jumin seed",
        description="合成の市（世帯・住民・異動履歴）をCSVに書き出す"
        " / write a synthetic city as CSV",
    )
    parser.add_argument(
        "--residents", type=_count, required=True, help="number of persons (rows of residents.csv)"
    )
    parser.add_argument(
        "--seed", type=_seed, default=1, help="random seed (default 1); same seed, same files"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--force", action="store_true", help="overwrite a non-empty output directory"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--as-of",
        type=_date,
        default=DEFAULT_AS_OF,
        help=f"the register's date; no event after it (default {DEFAULT_AS_OF.isoformat()})",
    )
    return parser


def _check_out(out: Path, force: bool) -> str | None:
    """An error message when ``out`` cannot take the files, else None."""
    if out.exists() and not out.is_dir():
        return f"出力先がディレクトリではありません / not a directory: {out}"
    if out.is_dir():
        if any(out.iterdir()) and not force:
            return (
                f"出力先が空ではありません。上書きするには --force を指定してください"
                f" / output directory is not empty (use --force to overwrite): {out}"
            )
        if not os.access(out, os.W_OK | os.X_OK):
            return f"出力先に書き込めません / cannot write to: {out}"
        return None
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"出力先を作成できません / cannot create: {out} ({parent} is not a directory)"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"出力先を作成できません / cannot create: {out} (no permission on {parent})"
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    out: Path = args.out
    problem = _check_out(out, args.force)
    if problem:
        print(f"jumin seed: {problem}", file=sys.stderr)
        return 1
    show = not args.quiet and sys.stderr.isatty()
    from tqdm import tqdm

    bar = tqdm(
        total=args.residents,
        unit="人",
        unit_scale=True,
        disable=not show,
        file=sys.stderr,
        desc="seed",
    )

    def progress(count: int) -> None:
        bar.update(count)

    try:
        with bar:
            stats = generate(out, args.residents, args.seed, as_of=args.as_of, progress=progress)
    except OSError as exc:
        print(f"jumin seed: 書き込みに失敗しました / write failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("jumin seed: 中断しました / interrupted", file=sys.stderr)
        return 130
    if not args.quiet:
        print(
            f"{out}: {stats.residents:,} residents ({stats.removed:,} removed, "
            f"{stats.foreign:,} foreign) in {stats.households:,} households, "
            f"{stats.history_rows:,} history rows; files: {', '.join(OUTPUT_FILES)}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
