"""The 住所辞書 of 相模原市 (std 1.3.3, j250): load the committed CSV and look addresses up.

One row of ``data/sagamihara.csv`` is one (住所コード, 郵便番号) pair. The 住所コード is
11 digits: 都道府県 2 + 市区町村 3 + 大字 3 + 小字 3; here 大字 is the 町字 (town) of the
postal data and 小字 is ``000`` for the town itself (see ``data/SOURCE.md`` and
``build.py`` for how codes are assigned and kept stable).

Rows whose ``status`` is ``retired`` are towns that no longer appear in the postal data.
They stay in the file so that their code is never given to another town and so that old
records (and 本籍 with an old town name) still resolve; look-ups by postal code, by kana and
per ward return only ``current`` rows, a look-up by code returns either.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jaconv

__all__ = [
    "CSV_COLUMNS",
    "AddressDictionary",
    "AddressEntry",
    "default_csv_path",
    "load_dictionary",
    "normalise_kana_query",
    "normalise_postal_code",
    "read_csv",
]

STATUS_CURRENT = "current"
STATUS_RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class AddressEntry:
    """One row of the 住所辞書: a 町字 (or 小字) with one of its 郵便番号.

    Column names are the CSV header; ``has_chome`` is the postal data's flag that the town
    is divided into 丁目 (the dictionary itself does not list 丁目: see ``data/SOURCE.md``).
    """

    address_code: str  # 住所コード (11 digits)
    local_government_code: str  # 全国地方公共団体コード of the ward (6 digits)
    prefecture: str  # 都道府県
    prefecture_kana: str
    city: str  # 市
    city_kana: str
    ward: str  # 区
    ward_kana: str
    town: str  # 町字 (大字)
    town_kana: str
    koaza: str  # 小字 ("" for the town itself)
    koaza_kana: str
    postal_code: str  # 郵便番号 (7 digits)
    has_chome: bool  # 丁目を有する町域
    status: str  # "current" or "retired"

    @property
    def is_current(self) -> bool:
        return self.status == STATUS_CURRENT

    @property
    def address(self) -> str:
        """The address as printed, without 丁目・番地: 神奈川県相模原市緑区橋本."""
        return f"{self.prefecture}{self.city}{self.ward}{self.town}{self.koaza}"

    @property
    def address_kana(self) -> str:
        return "".join(
            (self.prefecture_kana, self.city_kana, self.ward_kana, self.town_kana, self.koaza_kana)
        )

    @property
    def postal_code_display(self) -> str:
        """``252-0143``."""
        return f"{self.postal_code[:3]}-{self.postal_code[3:]}"

    def as_row(self) -> list[str]:
        return [
            ("1" if value else "0") if isinstance(value, bool) else value
            for value in (getattr(self, name) for name in CSV_COLUMNS)
        ]


CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(AddressEntry))


def default_csv_path() -> Path:
    """The committed dictionary inside the package."""
    return Path(str(resources.files("jumin.addresses").joinpath("data", "sagamihara.csv")))


def read_csv(path: Path) -> list[AddressEntry]:
    """Read a dictionary CSV written by ``build.write_csv``; raise ValueError if malformed."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(header) != CSV_COLUMNS:
            raise ValueError(f"{path}: unexpected header {header!r}; expected {CSV_COLUMNS!r}")
        entries = []
        for lineno, row in enumerate(reader, start=2):
            if len(row) != len(CSV_COLUMNS):
                raise ValueError(f"{path}:{lineno}: expected {len(CSV_COLUMNS)} columns")
            values: dict[str, str | bool] = dict(zip(CSV_COLUMNS, row, strict=True))
            values["has_chome"] = row[CSV_COLUMNS.index("has_chome")] == "1"
            entries.append(AddressEntry(**values))  # type: ignore[arg-type]
    return entries


_POSTAL_STRIP = re.compile(r"[\s〒\-‐‑‒–—―−ー－]")


def normalise_postal_code(value: str) -> str:
    """``〒２５２－０１４３`` → ``2520143`` (full-width digits, 〒, hyphens and spaces)."""
    text = jaconv.z2h(value, kana=False, ascii=True, digit=True)
    return _POSTAL_STRIP.sub("", text)


_KANA_DROP = re.compile(r"[・･\.\-ー－]")


def normalise_kana_query(value: str) -> list[str]:
    """Split a 住所カナ入力 into its parts, as full-width katakana.

    Accepts hiragana, half-width katakana and either kind of space between parts:
    ``"と ひ し"`` → ``["ト", "ヒ", "シ"]``. Middle dots and long-vowel marks are dropped
    from both the query and the dictionary's kana before matching.
    """
    text = jaconv.h2z(value, kana=True, ascii=False, digit=False)
    text = jaconv.hira2kata(text)
    return [_KANA_DROP.sub("", part) for part in text.split() if _KANA_DROP.sub("", part)]


def _fold(kana: str) -> str:
    return _KANA_DROP.sub("", kana)


class AddressDictionary:
    """In-memory 住所辞書 with the look-ups of std 1.3.3 (j250)."""

    def __init__(self, entries: Iterable[AddressEntry]) -> None:
        self._entries: tuple[AddressEntry, ...] = tuple(entries)
        self._by_code: dict[str, AddressEntry] = {}
        self._by_postal: dict[str, list[AddressEntry]] = {}
        for entry in self._entries:
            known = self._by_code.get(entry.address_code)
            # One code may have several postal codes; prefer a current row.
            if known is None or (entry.is_current and not known.is_current):
                self._by_code[entry.address_code] = entry
            if entry.is_current:
                self._by_postal.setdefault(entry.postal_code, []).append(entry)

    @classmethod
    def from_csv(cls, path: Path) -> AddressDictionary:
        return cls(read_csv(path))

    def __iter__(self) -> Iterator[AddressEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> tuple[AddressEntry, ...]:
        """Every row, current and retired, in file order (by code, then postal code)."""
        return self._entries

    def current(self) -> list[AddressEntry]:
        return [e for e in self._entries if e.is_current]

    def by_code(self, address_code: str) -> AddressEntry | None:
        """The town of a 住所コード (current or retired), or None."""
        return self._by_code.get(address_code.strip())

    def by_postal_code(self, postal_code: str) -> list[AddressEntry]:
        """郵便番号を入力することで住所が自動で入力される (j250): the towns of a postal code."""
        return list(self._by_postal.get(normalise_postal_code(postal_code), ()))

    def wards(self) -> list[tuple[str, str]]:
        """(local_government_code, ward) pairs in code order."""
        seen = {(e.local_government_code, e.ward) for e in self._entries}
        return sorted(seen)

    def _ward_code(self, ward: str) -> str:
        for code, name in self.wards():
            if ward in (code, name, name.removesuffix("区")):
                return code
        raise KeyError(f"区「{ward}」は住所辞書にありません（緑区・中央区・南区のいずれか）。")

    def towns(self, ward: str) -> list[AddressEntry]:
        """The current 町字 of a ward (name ``緑区`` or code ``141518``), by 住所コード.

        A town with several postal codes appears once per postal code.
        """
        code = self._ward_code(ward)
        return [e for e in self._entries if e.is_current and e.local_government_code == code]

    def search_kana(self, query: str, *, ward: str | None = None) -> list[AddressEntry]:
        """住所カナ入力 (j250): the first kana of each level of the address, in order.

        The last part is a prefix of the 町字's reading; the parts before it must be
        prefixes of the readings of higher levels (都道府県, 市, 区), in order, each level
        used at most once and levels may be skipped: ``"カ サ ミ ハシ"``, ``"サ ハシ"``,
        ``"ミ ハ"`` and ``"ハシモ"`` all find 緑区橋本. ``ward`` restricts the search to one
        ward (指定都市の検索範囲の制限). Results are ordered by reading, then code.
        """
        parts = normalise_kana_query(query)
        if not parts:
            return []
        ward_code = self._ward_code(ward) if ward else None
        *upper, last = parts
        found = []
        for entry in self._entries:
            if not entry.is_current:
                continue
            if ward_code is not None and entry.local_government_code != ward_code:
                continue
            if not _fold(entry.town_kana).startswith(last):
                continue
            levels = [_fold(k) for k in (entry.prefecture_kana, entry.city_kana, entry.ward_kana)]
            if _matches_in_order(upper, levels):
                found.append(entry)
        found.sort(key=lambda e: (e.town_kana, e.address_code, e.postal_code))
        return found


def _matches_in_order(parts: list[str], levels: list[str]) -> bool:
    """True when each part prefixes a distinct level, keeping their order."""
    index = 0
    for part in parts:
        while index < len(levels) and not levels[index].startswith(part):
            index += 1
        if index == len(levels):
            return False
        index += 1
    return True


@lru_cache(maxsize=1)
def load_dictionary() -> AddressDictionary:
    """The committed dictionary of 相模原市 (cached)."""
    return AddressDictionary.from_csv(default_csv_path())
