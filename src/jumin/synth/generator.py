"""The synthetic city: households, residents and their history, streamed to CSV.

Model (all numbers are documented in ``docs/guide/csv-layout.md``):

* A household is drawn from a composition table (single, couple, couple with children,
  single parent, three generations, other) shaped like the 2020 census of a Kanagawa city;
  ages come from per-type distributions tuned so that the resulting population matches
  ``TARGET_AGE_SHARES`` (Japan's population structure, c. 2025) closely enough.
* Relationships are those of std 1.1.11 (j110) only: 世帯主, 妻, 夫, 妻(未届), 子, 父, 母,
  兄, 姉, 弟, 妹, 子の妻, 子の子, 妻の母, 妻の父, 妻の子, 縁故者, 同居人.
* Each household has a timeline: it arrives (国内転入 / 国外転入) on a date, may move within
  the city (転居), children are born (出生), spouses, daughters-in-law, parents and others join
  later (国内転入), 旧氏 and 通称 are recorded, foreign residents' permissions are renewed
  (職権修正), and some persons leave (国内転出, 国外転出, 死亡), sometimes followed by a
  世帯主変更. Every event is one history row per person with the full state after it.
* Identifiers: 宛名番号 and 世帯番号 are sequential with the M11W2-7 check digit; 個人番号 and
  住民票コード are affine bijections of the person's sequence number (so they are unique
  without any set in memory) completed with their check digits.

Everything is drawn from one ``random.Random(seed)``: the same seed and the same number of
residents give byte-identical files. Memory is flat: one household at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import zlib
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, TypeVar

from jumin.addresses.dictionary import AddressDictionary, AddressEntry, load_dictionary
from jumin.core.change_reasons import ChangeReason
from jumin.core.identifiers import (
    generate_residence_card_no,
    juminhyo_code_check_digit,
    make_atena_no,
    make_household_no,
    my_number_check_digit,
)
from jumin.synth import names_data, places_data

__all__ = [
    "DEFAULT_AS_OF",
    "HISTORY_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "RESIDENT_COLUMNS",
    "TARGET_AGE_SHARES",
    "VALID_RELATIONSHIPS",
    "CityGenerator",
    "GenerationStats",
    "generate",
]

T = TypeVar("T")

DEFAULT_AS_OF = dt.date(2026, 4, 1)
"""The day the synthetic register is "as of": no event happens after it."""

MIN_AS_OF = dt.date(2013, 1, 1)  # after the foreign-resident register began (2012-07-09)
MAX_AS_OF = dt.date(2099, 12, 31)
YEAR = 365.2425
_EPOCH = dt.date(1900, 1, 1).toordinal()
_FOREIGN_REGISTER_START = dt.date(2012, 7, 9).toordinal()  # 外国人住民票 (改正住基法 施行日)
_FORMER_NAME_START = dt.date(2019, 11, 5).toordinal()  # 旧氏の記載 possible from this day
_ERA_STARTS = [dt.date(y, 1, 1).toordinal() for y in (1946, 1965, 1985, 2005)]

# Japan's population by 5-year age band, % of the total, c. 2025 (総務省統計局「人口推計」,
# rounded; 相模原市 is close to the national structure). Used to tune and to test the output.
TARGET_AGE_SHARES: tuple[tuple[int, int, float], ...] = (
    (0, 5, 3.2),
    (5, 10, 3.7),
    (10, 15, 4.1),
    (15, 20, 4.3),
    (20, 25, 4.8),
    (25, 30, 5.0),
    (30, 35, 4.9),
    (35, 40, 5.3),
    (40, 45, 5.9),
    (45, 50, 6.8),
    (50, 55, 7.9),
    (55, 60, 6.7),
    (60, 65, 6.2),
    (65, 70, 5.9),
    (70, 75, 7.1),
    (75, 80, 6.7),
    (80, 85, 5.0),
    (85, 90, 3.5),
    (90, 95, 1.8),
    (95, 100, 0.6),
    (100, 106, 0.1),
)

VALID_RELATIONSHIPS = frozenset(
    {
        "世帯主",
        "妻",
        "夫",
        "妻（未届）",
        "夫（未届）",
        "子",
        "父",
        "母",
        "兄",
        "姉",
        "弟",
        "妹",
        "子の妻",
        "子の子",
        "妻の父",
        "妻の母",
        "妻の子",
        "縁故者",
        "同居人",
    }
)

HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "household_no",
    "status",
    "head_atena_no",
    "head_name",
    "member_count",
    "address_code",
    "postal_code",
    "prefecture",
    "city",
    "ward",
    "town",
    "banchi",
    "katagaki",
    "formed_on",
    "removed_on",
)

# The items of a person that can change over time: each history row carries all of them
# as they were after the event; residents.csv carries their final values.
STATE_COLUMNS: tuple[str, ...] = (
    "household_no",
    "relationship",
    "head_name",
    "status",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "former_family_name",
    "former_family_name_kana",
    "alias",
    "alias_kana",
    "address_code",
    "postal_code",
    "ward",
    "town",
    "banchi",
    "katagaki",
    "previous_address_code",
    "previous_postal_code",
    "previous_address",
    "moved_out_to_postal_code",
    "moved_out_to_address",
    "residence_status",
    "period_of_stay",
    "stay_expires_on",
    "residence_card_no",
)
_S_HEAD = STATE_COLUMNS.index("head_name")
_S_REL = STATE_COLUMNS.index("relationship")
_S_STATUS = STATE_COLUMNS.index("status")
_S_FORMER = STATE_COLUMNS.index("former_family_name")
_S_FORMER_KANA = STATE_COLUMNS.index("former_family_name_kana")
_S_ALIAS = STATE_COLUMNS.index("alias")
_S_ALIAS_KANA = STATE_COLUMNS.index("alias_kana")
_S_ADDR = STATE_COLUMNS.index("address_code")  # 6 items: code, postal, ward, town, banchi, 方書
_S_PREV = STATE_COLUMNS.index("previous_address_code")  # 3 items: code, postal, text
_S_DEST = STATE_COLUMNS.index("moved_out_to_postal_code")  # 2 items: postal, text
_S_RES = STATE_COLUMNS.index("residence_status")  # 4 items: status, period, expiry, card

HISTORY_COLUMNS: tuple[str, ...] = (
    "atena_no",
    "history_no",
    "change_reason",
    "occurred_on",
    "notified_on",
    "processed_on",
    *STATE_COLUMNS,
    "moved_from_address_code",
    "moved_from_postal_code",
    "moved_from_address",
)

RESIDENT_COLUMNS: tuple[str, ...] = (
    "atena_no",
    "history_no",
    "resident_type",
    *STATE_COLUMNS,
    "name_kana_confirmed",
    "name_alphabet",
    "alias_entered_on",
    "alias_entered_municipality_code",
    "birth_date",
    "sex",
    "honseki",
    "koseki_head",
    "became_resident_on",
    "became_foreign_resident_on",
    "alien_registration_on",
    "prefecture",
    "city",
    "address_set_on",
    "notified_on",
    "my_number",
    "juminhyo_code",
    "nationality_code",
    "nationality",
    "foreign_resident_category",
    "removal_reason",
    "removed_on",
    "removal_notified_on",
)

PREFECTURE = "神奈川県"
CITY = "相模原市"
CITY_PREFIX = PREFECTURE + CITY
MALE, FEMALE = "1", "2"  # ISO 5218, as 住基ネット

# Change-reason codes as plain strings (hot loop).
_BIRTH = ChangeReason.BIRTH.value
_MOVE_IN = ChangeReason.DOMESTIC_MOVE_IN.value
_FROM_ABROAD = ChangeReason.MOVE_IN_FROM_ABROAD.value
_EX_OFFICIO_ENTRY = ChangeReason.EX_OFFICIO_ENTRY.value
_MOVE_WITHIN = ChangeReason.MOVE_WITHIN.value
_MOVE_OUT = ChangeReason.DOMESTIC_MOVE_OUT.value
_TO_ABROAD = ChangeReason.MOVE_OUT_ABROAD.value
_DEATH = ChangeReason.DEATH.value
_HEAD_CHANGE = ChangeReason.HEAD_CHANGE.value
_FORMER_ENTRY = ChangeReason.FORMER_FAMILY_NAME_ENTRY.value
_ALIAS_ENTRY = ChangeReason.ALIAS_ENTRY.value
_AMEND = ChangeReason.EX_OFFICIO_AMENDMENT.value
ENTRY_REASONS = frozenset({_BIRTH, _MOVE_IN, _FROM_ABROAD, _EX_OFFICIO_ENTRY})
REMOVAL_REASONS = frozenset({_MOVE_OUT, _TO_ABROAD, _DEATH})

# Event priorities on the same day: entries first, then changes, removals last.
_P_ENTRY, _P_MOVE, _P_CHANGE, _P_REMOVE, _P_AFTER = 0, 1, 2, 3, 4

# Residence statuses: (status, period choices, foreign_resident_category)
_PERIODS = {
    "永住者": ("",),
    "特別永住者": ("",),
    "技能実習": ("1年", "2年"),
    "留学": ("1年3月", "2年3月", "4年3月"),
    "技術・人文知識・国際業務": ("1年", "3年", "5年"),
    "特定技能": ("1年",),
    "家族滞在": ("1年", "3年", "5年"),
    "定住者": ("1年", "3年", "5年"),
    "日本人の配偶者等": ("1年", "3年", "5年"),
    "永住者の配偶者等": ("1年", "3年", "5年"),
    "技能": ("1年", "3年", "5年"),
    "経営・管理": ("1年", "3年", "5年"),
}
MID_LONG_TERM = "mid_long_term"  # 中長期在留者
SPECIAL_PERMANENT = "special_permanent"  # 特別永住者


def _period_days(period: str) -> int:
    years, _, rest = period.partition("年")
    months = rest.removesuffix("月") if rest else "0"
    if "月" in years:  # "6月"
        return int(years.removesuffix("月")) * 30
    return int(years) * 365 + int(months or 0) * 30


class _Picker:
    """Weighted choice by bisection over precomputed cumulative weights."""

    __slots__ = ("cum", "items", "rnd", "total")

    def __init__(self, items: Sequence[Any], weights: Sequence[float], rnd: Callable[[], float]):
        if not items or len(items) != len(weights):
            raise ValueError("a picker needs items with one weight each")
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]
        self.rnd = rnd

    def __call__(self) -> Any:
        return self.items[bisect(self.cum, self.rnd() * self.total)]


@dataclass(slots=True)
class GenerationStats:
    """Counts written, for the manifest and the tests."""

    residents: int = 0
    households: int = 0
    history_rows: int = 0
    removed: int = 0
    foreign: int = 0
    households_by_type: dict[str, int] = field(default_factory=dict)


class _Person:
    """A member while its household is being made (not kept afterwards)."""

    __slots__ = (
        "alias",
        "alias_kana",
        "alias_on",
        "alpha",
        "birth",
        "category",
        "country",
        "family",
        "family_kana",
        "former",
        "former_kana",
        "given",
        "given_kana",
        "honseki",
        "join_after",
        "joiner",
        "koseki_head",
        "maiden",
        "maiden_kana",
        "married_in",
        "mother",
        "period",
        "rel",
        "res_status",
        "sex",
    )

    def __init__(self, rel: str, sex: str, birth: int) -> None:
        self.rel = rel
        self.sex = sex
        self.birth = birth
        self.family = self.family_kana = self.given = self.given_kana = ""
        self.alpha = ""
        self.former = self.former_kana = ""
        self.maiden = self.maiden_kana = ""  # birth family name when married into the name
        self.married_in = False
        self.alias = self.alias_kana = ""
        self.alias_on = 0
        self.honseki = self.koseki_head = ""
        self.country = ""  # ISO code for foreign residents, "" for Japanese
        self.category = self.res_status = self.period = ""
        self.mother: _Person | None = None
        self.joiner = False
        self.join_after = 0  # earliest day this person can join the household

    @property
    def display_name(self) -> str:
        if self.country and not _has_kanji(self.family + self.given):
            return self.alpha
        if not self.family:
            return self.given
        return f"{self.family}\u3000{self.given}"


def _has_kanji(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or ch > "\uffff" for ch in text)


class CityGenerator:
    """Generates households one at a time (``household``, ``households``).

    :func:`generate` streams them to the CSV files. All randomness comes from
    ``random.Random(seed)``; nothing is kept between households but a few counters.
    """

    def __init__(
        self,
        seed: int,
        *,
        as_of: dt.date = DEFAULT_AS_OF,
        dictionary: AddressDictionary | None = None,
    ) -> None:
        if not MIN_AS_OF <= as_of <= MAX_AS_OF:
            raise ValueError(f"as_of must lie between {MIN_AS_OF} and {MAX_AS_OF}: {as_of}")
        self.rng = rng = random.Random(seed)
        self.rnd = rnd = rng.random
        self.as_of = as_of.toordinal()
        self.dictionary = dictionary or load_dictionary()
        self._iso = [dt.date.fromordinal(o).isoformat() for o in range(_EPOCH, self.as_of + 3700)]
        # Affine bijections seq -> body: a odd and not a multiple of 5 is invertible mod 10^k.
        self._mn_a = self._unit(10**11)
        self._mn_b = rng.randrange(10**11)
        self._jc_a = self._unit(10**10)
        self._jc_b = rng.randrange(10**10)

        def picker(rows: Sequence[Any], weights: Sequence[float]) -> _Picker:
            return _Picker(rows, weights, rnd)

        self.picker = picker
        surnames = names_data.parse_weighted(names_data.SURNAMES)
        self.surname = picker([(n, k) for n, k, _ in surnames], [w for *_, w in surnames])
        self.given_by: dict[tuple[str, int], _Picker] = {}
        for sex, text in (
            (MALE, names_data.GIVEN_NAMES_MALE),
            (FEMALE, names_data.GIVEN_NAMES_FEMALE),
        ):
            rows = names_data.parse_given(text)
            for era in range(1, 6):
                era_rows = [(n, k) for e, n, k, _ in rows if e == era]
                weights = [w for e, *_, w in rows if e == era]
                self.given_by[(sex, era)] = picker(era_rows, weights)
        foreign = names_data.parse_foreign(names_data.FOREIGN_NAMES)
        self.foreign_names: dict[tuple[str, str], _Picker | None] = {
            key: picker([r[:3] for r in rows], [r[3] for r in rows]) if rows else None
            for key, rows in foreign.items()
        }
        countries = places_data.parse_countries(places_data.COUNTRIES)
        self.country_info = {code: (name, formal) for code, name, formal, _ in countries}
        self.country = picker([c[0] for c in countries], [c[3] for c in countries])
        self.abroad_for_japanese = picker(
            [
                "アメリカ合衆国",
                "中華人民共和国",
                "大韓民国",
                "タイ王国",
                "英国",
                "シンガポール共和国",
                "オーストラリア連邦",
                "ドイツ連邦共和国",
            ],
            [30, 12, 8, 8, 8, 8, 6, 5],
        )
        places = places_data.parse_places(places_data.DOMESTIC_PLACES)
        self.place = picker(places, [p[-1] for p in places])

        entries = self.dictionary.current()
        # Towns are weighted by ward population (緑区 ~170k, 中央区 ~270k, 南区 ~280k) and,
        # within a ward, urban towns (divided into 丁目) three times the rural ones.
        ward_pop = {"141518": 170, "141526": 270, "141534": 280}
        ward_weight: dict[str, float] = {}
        for e in entries:
            ward_weight[e.local_government_code] = ward_weight.get(e.local_government_code, 0) + (
                3 if e.has_chome else 1
            )
        self.town = picker(
            entries,
            [
                ward_pop.get(e.local_government_code, 100)
                * (3 if e.has_chome else 1)
                / ward_weight[e.local_government_code]
                for e in entries
            ],
        )
        self._types = picker(
            ["single", "couple", "couple_children", "single_parent", "three_generation", "other"],
            [0.36, 0.225, 0.235, 0.09, 0.05, 0.04],
        )
        self._children_count = picker([1, 2, 3, 4], [0.40, 0.45, 0.13, 0.02])
        self.stats = GenerationStats()
        self._person_seq = 0
        self._household_seq = 0

    # ------------------------------------------------------------------ small helpers

    def _unit(self, modulus: int) -> int:
        """A multiplier invertible modulo ``modulus`` (a power of ten): odd, not 0 mod 5."""
        while True:
            a = self.rng.randrange(modulus // 10, modulus) | 1
            if a % 5:
                return a

    def iso(self, ordinal: int) -> str:
        return self._iso[ordinal - _EPOCH] if ordinal else ""

    def _birth(self, age: float) -> int:
        return self.as_of - int(age * YEAR) - 1

    def _age(self, birth: int, on: int | None = None) -> float:
        return ((on or self.as_of) - birth) / YEAR

    def _uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.rnd()

    def _bands(self, bands: Sequence[tuple[float, float, float]]) -> float:
        total = sum(w for *_, w in bands)
        x = self.rnd() * total
        for lo, hi, w in bands:
            if x < w:
                return lo + (hi - lo) * self.rnd()
            x -= w
        lo, hi, _ = bands[-1]
        return lo + (hi - lo) * self.rnd()

    def _era(self, birth: int) -> int:
        return bisect(_ERA_STARTS, birth) + 1

    def _japanese(
        self, rel: str, sex: str, birth: int, family: tuple[str, str] | None = None
    ) -> _Person:
        p = _Person(rel, sex, birth)
        p.family, p.family_kana = family or self.surname()
        p.given, p.given_kana = self.given_by[(sex, self._era(birth))]()
        return p

    def _marry_into(self, p: _Person, family: tuple[str, str]) -> None:
        """``p`` took the family name ``family`` on marriage; keep the birth name."""
        if p.family == family[0]:
            return
        p.maiden, p.maiden_kana = p.family, p.family_kana
        p.family, p.family_kana = family
        p.married_in = True

    def _married_name(self, p: _Person) -> None:
        """``p`` bears the family name of a spouse: draw a different birth family name."""
        maiden = self.surname()
        while maiden[0] == p.family:
            maiden = self.surname()
        p.maiden, p.maiden_kana = maiden
        p.married_in = True

    def _husband_of(self, p: _Person) -> str:
        """The name of a (possibly late) husband bearing ``p``'s family name: a 筆頭者."""
        given, _ = self.given_by[(MALE, self._era(p.birth - 800))]()
        return f"{p.family}\u3000{given}"

    def _notify(self, occurred: int, *, late: float = 0.04, max_delay: int = 14) -> int:
        r = self.rnd()
        if r < late:
            delay = 15 + int(self.rnd() * 90)
        else:
            delay = int(self.rnd() * (max_delay + 1) * self.rnd())
        return min(occurred + delay, self.as_of)

    # ------------------------------------------------------------------ addresses

    def _city_address(self, apartment: float) -> tuple[str, str, str, str, str, str]:
        e: AddressEntry = self.town()
        rnd = self.rnd
        if e.has_chome:
            banchi = f"{1 + int(rnd() * 3)}丁目{1 + int(rnd() * 28)}番{1 + int(rnd() * 24)}号"
        else:
            n = 1 + int(rnd() * rnd() * 4000)
            r = rnd()
            if r < 0.5:
                banchi = f"{n}番地"
            elif r < 0.8:
                banchi = f"{n}番地{1 + int(rnd() * 20)}"
            else:
                banchi = f"{n}番地の{1 + int(rnd() * 20)}"
        katagaki = self._katagaki(e, banchi) if rnd() < apartment else ""
        return (e.address_code, e.postal_code, e.ward, e.town, banchi, katagaki)

    def _katagaki(self, e: AddressEntry, banchi: str) -> str:
        # The building depends on the address only, so households at one address share it.
        h = zlib.crc32(f"{e.address_code}{banchi}".encode())
        pattern = places_data.BUILDING_PATTERNS[h % len(places_data.BUILDING_PATTERNS)]
        word = places_data.BUILDING_WORDS[(h >> 8) % len(places_data.BUILDING_WORDS)]
        name = pattern.format(w=word, t=e.town)
        tall = "マンション" in pattern or "{t}" in pattern
        floors = 2 + (h >> 16) % (12 if tall else 2)
        room = f"{1 + int(self.rnd() * floors)}{1 + int(self.rnd() * 8):02d}"
        if (h >> 24) % 7 == 0:
            return f"{name} {'ABC'[(h >> 4) % 3]}棟{room}号室"
        return f"{name} {room}号室"

    @staticmethod
    def _address_text(addr: Sequence[str]) -> str:
        text = f"{CITY_PREFIX}{addr[2]}{addr[3]}{addr[4]}"
        return f"{text}\u3000{addr[5]}" if addr[5] else text

    def _domestic_elsewhere(self) -> tuple[str, str, str]:
        """(address_code, postal_code, text) of an address outside the city."""
        postal, _jis, pref, city, town, chome, _w = self.place()
        rnd = self.rnd
        if chome:
            banchi = f"{1 + int(rnd() * 4)}丁目{1 + int(rnd() * 25)}番{1 + int(rnd() * 20)}号"
        else:
            banchi = f"{1 + int(rnd() * 2500)}番地"
        return ("", postal, f"{pref}{city}{town}{banchi}")

    def _honseki(self) -> str:
        rnd = self.rnd
        if rnd() < 0.4:
            e = self.town()
            place = f"{CITY_PREFIX}{e.ward}{e.town}"
            chome = e.has_chome
        else:
            _p, _j, pref, city, town, chome, _w = self.place()
            if town == "千代田":
                return "東京都千代田区千代田1番"
            place = f"{pref}{city}{town}"
        if chome:
            return f"{place}{1 + int(rnd() * 4)}丁目{1 + int(rnd() * 40)}番"
        return f"{place}{1 + int(rnd() * 3000)}番地"

    # ------------------------------------------------------------------ foreign residents

    def _foreign(self, rel: str, sex: str, birth: int, country: str, family: Any = None) -> _Person:
        p = _Person(rel, sex, birth)
        p.country = country
        fam_picker = self.foreign_names.get((country, "family"))
        if family is None:
            family = fam_picker() if fam_picker else ("", "", "")
        given_picker = self.foreign_names[(country, "male" if sex == MALE else "female")]
        assert given_picker is not None
        g_latin, g_kana, g_kanji = given_picker()
        f_latin, f_kana, f_kanji = family
        p.alpha = f"{f_latin} {g_latin}".strip()
        if f_kanji and g_kanji:  # 漢字氏名 (中国, 台湾, 韓国)
            p.family, p.given = f_kanji, g_kanji
        else:
            p.family, p.given = f_latin, g_latin
        p.family_kana, p.given_kana = f_kana, g_kana
        p.maiden = p.maiden_kana = ""
        return p

    def _foreign_family(self, country: str) -> Any:
        picker = self.foreign_names.get((country, "family"))
        return picker() if picker else ("", "", "")

    def _status(self, p: _Person, status: str) -> None:
        p.res_status = status
        p.category = SPECIAL_PERMANENT if status == "特別永住者" else MID_LONG_TERM
        choices = _PERIODS[status]
        p.period = choices[int(self.rnd() * len(choices))]

    def _alias(self, p: _Person, family: tuple[str, str] | None = None) -> None:
        """通称: a Japanese name (or the spouse's family name with the own given name)."""
        if family is not None:
            given = p.given_kana.split()[-1]  # the name used day to day: THI NGA -> ガー
            p.alias = f"{family[0]}\u3000{given}"
            p.alias_kana = f"{family[1]} {given}"
        else:
            fam, fam_kana = self.surname()
            given, given_kana = self.given_by[(p.sex, self._era(p.birth))]()
            p.alias = f"{fam}\u3000{given}"
            p.alias_kana = f"{fam_kana} {given_kana}"

    # ------------------------------------------------------------------ compositions

    def _household_members(self, kind: str) -> tuple[list[_Person], str]:
        """Members of one household (head first) and its nationality mode."""
        rnd = self.rnd
        r = rnd()
        if r < 0.034:
            return self._foreign_household(), "foreign"
        if r < 0.042:
            return self._mixed_household(), "mixed"
        return getattr(self, "_h_" + kind)(), "japanese"

    def _h_single(self) -> list[_Person]:
        age = self._bands(
            [
                (18, 25, 9),
                (25, 35, 12),
                (35, 50, 12),
                (50, 65, 16),
                (65, 80, 26),
                (80, 90, 19),
                (90, 100, 6),
            ]
        )
        # Women outlive men: the older the person living alone, the likelier a woman.
        female = 0.40 if age < 65 else (0.62 if age < 75 else (0.72 if age < 85 else 0.84))
        sex = FEMALE if self.rnd() < female else MALE
        p = self._japanese("世帯主", sex, self._birth(age))
        # Older women living alone are mostly widows who took their husband's name.
        if sex == FEMALE and age > 40 and self.rnd() < 0.75:
            self._married_name(p)
        self._single_koseki(p)
        return [p]

    def _single_koseki(self, p: _Person) -> None:
        age = self._age(p.birth)
        p.honseki = self._honseki()
        if p.married_in:  # widow or divorcee: the (late) husband's koseki
            husband, _ = self.given_by[(MALE, self._era(p.birth - 1000))]()
            p.koseki_head = f"{p.family}\u3000{husband}"
        elif age < 35 or self.rnd() < 0.5:  # still in the parents' koseki
            father, _ = self.given_by[(MALE, self._era(p.birth - int(30 * YEAR)))]()
            p.koseki_head = f"{p.family}\u3000{father}"
        else:
            p.koseki_head = p.display_name

    def _couple(self, head_age: float, *, unmarried: bool = False) -> list[_Person]:
        rnd = self.rnd
        female_head = rnd() < 0.07
        gap = max(-8.0, min(15.0, rnd() * 4.5 + (rnd() - 0.5) * 6))  # husband older by ~2
        if female_head:
            wife_age, husband_age = head_age, head_age + gap
        else:
            husband_age, wife_age = head_age, head_age - gap
        wife_age = max(wife_age, 18.0)
        husband_age = max(husband_age, 18.0)
        husband = self._japanese("", MALE, self._birth(husband_age))
        wife = self._japanese("", FEMALE, self._birth(wife_age))
        if female_head:
            head, spouse = wife, husband
            spouse.rel = "夫（未届）" if unmarried else "夫"
        else:
            head, spouse = husband, wife
            spouse.rel = "妻（未届）" if unmarried else "妻"
        head.rel = "世帯主"
        if unmarried:
            for p in (head, spouse):
                self._single_koseki(p)
            return [head, spouse]
        # About 95 % of couples take the husband's name.
        name = (husband.family, husband.family_kana)
        if rnd() < 0.05:
            name = (wife.family, wife.family_kana)
        self._marry_into(husband, name)
        self._marry_into(wife, name)
        honseki = self._honseki()
        koseki_head = (husband if not husband.married_in else wife).display_name
        for p in (husband, wife):
            p.honseki, p.koseki_head = honseki, koseki_head
        return [head, spouse]

    def _children(
        self, mother: _Person, father: _Person | None, count: int, family: tuple[str, str]
    ) -> list[_Person]:
        rnd = self.rnd
        kids = []
        first_age = self._bands([(22, 27, 25), (27, 32, 40), (32, 37, 25), (37, 42, 10)])
        at = first_age
        for _ in range(count):
            birth = mother.birth + int(at * YEAR)
            if birth >= self.as_of - 1 or at > 45:
                break
            sex = MALE if rnd() < 0.512 else FEMALE
            kid = self._japanese("子", sex, birth, family)
            kid.mother = mother
            kid.honseki, kid.koseki_head = mother.honseki, mother.koseki_head
            kids.append(kid)
            at += 1.2 + rnd() * 4
        return kids

    def _h_couple(self) -> list[_Person]:
        age = self._bands(
            [(22, 35, 7), (35, 50, 6), (50, 65, 17), (65, 80, 48), (80, 90, 19), (90, 98, 3)]
        )
        unmarried = self.rnd() < (0.07 if age < 50 else 0.01)
        return self._couple(age, unmarried=unmarried)

    def _h_couple_children(self) -> list[_Person]:
        mother_age = self._bands([(24, 35, 12), (35, 45, 28), (45, 55, 36), (55, 66, 24)])
        members = self._couple(mother_age + 2.0)
        mother = next(p for p in members if p.sex == FEMALE)
        father = next(p for p in members if p.sex == MALE)
        family = (members[0].family, members[0].family_kana)
        kids = self._children(mother, father, self._children_count(), family)
        if not kids:
            kids = self._children(mother, father, 1, family)
        # a share of the older children have left: keep those under ~32
        kids = [k for k in kids if self._age(k.birth) < 24 + self.rnd() * 10] or kids[-1:]
        return members + kids

    def _h_single_parent(self) -> list[_Person]:
        rnd = self.rnd
        if rnd() < 0.62:
            age = self._bands([(24, 35, 15), (35, 45, 40), (45, 58, 45)])
            sex = FEMALE if rnd() < 0.86 else MALE
            parent = self._japanese("世帯主", sex, self._birth(age))
            if sex == FEMALE and rnd() < 0.6:  # divorced, kept the married name
                self._married_name(parent)
            parent.honseki, parent.koseki_head = self._honseki(), parent.display_name
            mother = parent if sex == FEMALE else self._japanese("", FEMALE, parent.birth + 700)
            kids = self._children(
                mother, None, min(3, self._children_count()), (parent.family, parent.family_kana)
            )
            for kid in kids:
                kid.mother = parent if sex == FEMALE else None
                kid.honseki, kid.koseki_head = parent.honseki, parent.koseki_head
            if not kids:
                return [parent]
            return [parent, *kids]
        # an elderly parent and an adult child
        child_age = self._bands([(30, 45, 30), (45, 55, 40), (55, 68, 30)])
        parent_age = min(104.0, child_age + self._uniform(24, 38))
        psex = FEMALE if rnd() < 0.8 else MALE
        child = self._japanese("", MALE if rnd() < 0.55 else FEMALE, self._birth(child_age))
        parent = self._japanese(
            "", psex, self._birth(parent_age), (child.family, child.family_kana)
        )
        if psex == FEMALE:
            self._married_name(parent)
        parent.honseki = child.honseki = self._honseki()
        father_name = (
            parent.display_name
            if psex == MALE
            else (
                f"{parent.family}\u3000{self.given_by[(MALE, self._era(parent.birth - 800))]()[0]}"
            )
        )
        parent.koseki_head = child.koseki_head = father_name
        if rnd() < 0.5:
            child.rel, parent.rel = "世帯主", "母" if psex == FEMALE else "父"
            return [child, parent]
        parent.rel, child.rel = "世帯主", "子"
        return [parent, child]

    def _h_three_generation(self) -> list[_Person]:
        rnd = self.rnd
        r = rnd()
        if r < 0.45:  # head's family with the head's parent(s)
            members = self._h_couple_children_aged(self._bands([(33, 45, 50), (45, 58, 50)]))
            head = members[0]
            name = (
                (head.maiden, head.maiden_kana)
                if head.married_in
                else (head.family, head.family_kana)
            )
            parents_age = self._age(head.birth) + self._uniform(24, 36)
            which = rnd()
            elders = []
            if which < 0.3 or which >= 0.8:
                father = self._japanese("父", MALE, self._birth(min(parents_age + 2, 102)), name)
                elders.append(father)
            if which >= 0.3:
                mother = self._japanese("母", FEMALE, self._birth(min(parents_age, 104)), name)
                self._married_name(mother)
                elders.append(mother)
            honseki = head.honseki if rnd() < 0.5 else self._honseki()
            fathers = [p for p in elders if p.sex == MALE]
            koseki_head = (
                fathers[0].display_name
                if fathers
                else (
                    f"{name[0]}\u3000{self.given_by[(MALE, self._era(elders[0].birth - 800))]()[0]}"
                )
            )
            for p in elders:
                p.honseki, p.koseki_head = honseki, koseki_head
                p.joiner = rnd() < 0.7
            return members + elders
        if r < 0.8:  # an older couple, their son, his wife and their children
            members = self._couple(self._bands([(58, 70, 50), (70, 86, 50)]))
            head, spouse = members
            mother = head if head.sex == FEMALE else spouse
            family = (head.family, head.family_kana)
            son_age = self._age(mother.birth) - self._uniform(23, 36)
            if son_age < 22:
                son_age = 22.0
            son = self._japanese("子", MALE, self._birth(son_age), family)
            son.mother = mother
            wife = self._japanese(
                "子の妻", FEMALE, self._birth(max(20.0, son_age - self._uniform(-2, 6)))
            )
            self._marry_into(wife, family)
            wife.joiner = True
            wife.join_after = max(son.birth, wife.birth) + int(20 * YEAR)
            son.honseki = wife.honseki = self._honseki()
            son.koseki_head = wife.koseki_head = son.display_name
            grandkids = self._children(wife, son, self._children_count() - 1, family)
            for kid in grandkids:
                kid.rel = "子の子"
                kid.honseki, kid.koseki_head = son.honseki, son.koseki_head
            return [*members, son, wife, *grandkids]
        members = self._h_couple_children_aged(self._bands([(33, 45, 50), (45, 58, 50)]))
        partner = next((p for p in members if p.rel == "妻"), None)
        if partner is None:
            return members
        name = (
            (partner.maiden, partner.maiden_kana)
            if partner.married_in
            else (partner.family, partner.family_kana)
        )
        sex = FEMALE if rnd() < 0.8 else MALE
        age = min(self._age(partner.birth) + self._uniform(24, 36), 103)
        elder = self._japanese("妻の母" if sex == FEMALE else "妻の父", sex, self._birth(age), name)
        if sex == FEMALE:
            self._married_name(elder)
        elder.honseki = self._honseki()
        elder.koseki_head = (
            elder.display_name
            if sex == MALE
            else (f"{name[0]}\u3000{self.given_by[(MALE, self._era(elder.birth - 800))]()[0]}")
        )
        elder.joiner = True
        return [*members, elder]

    def _h_couple_children_aged(self, head_age: float) -> list[_Person]:
        members = self._couple(head_age)
        mother = next(p for p in members if p.sex == FEMALE)
        father = next(p for p in members if p.sex == MALE)
        family = (members[0].family, members[0].family_kana)
        kids = self._children(mother, father, self._children_count(), family)
        kids = [k for k in kids if self._age(k.birth) < 30] or kids[-1:]
        return members + kids

    def _h_other(self) -> list[_Person]:
        rnd = self.rnd
        r = rnd()
        if r < 0.35:  # siblings
            age = self._bands([(30, 50, 30), (50, 70, 40), (70, 90, 30)])
            head = self._japanese("世帯主", MALE if rnd() < 0.5 else FEMALE, self._birth(age))
            self._single_koseki(head)
            diff = self._uniform(1, 10) * (1 if rnd() < 0.5 else -1)
            sex = MALE if rnd() < 0.5 else FEMALE
            rel = ("兄" if sex == MALE else "姉") if diff > 0 else ("弟" if sex == MALE else "妹")
            sib = self._japanese(
                rel, sex, self._birth(max(18.0, age + diff)), (head.family, head.family_kana)
            )
            sib.honseki, sib.koseki_head = head.honseki, head.koseki_head
            sib.joiner = rnd() < 0.5
            return [head, sib]
        if r < 0.65:  # house share
            age = self._uniform(20, 40)
            head = self._japanese("世帯主", MALE if rnd() < 0.5 else FEMALE, self._birth(age))
            self._single_koseki(head)
            others = []
            for _ in range(1 + (rnd() < 0.3)):
                o = self._japanese(
                    "同居人",
                    MALE if rnd() < 0.5 else FEMALE,
                    self._birth(max(18.0, age + self._uniform(-5, 5))),
                )
                self._single_koseki(o)
                o.joiner = rnd() < 0.6
                others.append(o)
            return [head, *others]
        if r < 0.85:  # a relative beyond the grammar's reach (nephew, cousin): 縁故者
            age = self._uniform(40, 80)
            head = self._japanese("世帯主", MALE if rnd() < 0.6 else FEMALE, self._birth(age))
            self._single_koseki(head)
            same = rnd() < 0.5
            relative = self._japanese(
                "縁故者",
                MALE if rnd() < 0.5 else FEMALE,
                self._birth(self._uniform(15, 40)),
                (head.family, head.family_kana) if same else None,
            )
            self._single_koseki(relative)
            relative.joiner = True
            return [head, relative]
        # head with mother and a sibling
        age = self._uniform(30, 60)
        head = self._japanese("世帯主", MALE if rnd() < 0.5 else FEMALE, self._birth(age))
        self._single_koseki(head)
        family = (head.family, head.family_kana)
        mother = self._japanese(
            "母", FEMALE, self._birth(min(age + self._uniform(24, 36), 103)), family
        )
        self._married_name(mother)
        mother.honseki, mother.koseki_head = self._honseki(), self._husband_of(mother)
        diff = self._uniform(1, 8) * (1 if rnd() < 0.5 else -1)
        sex = MALE if rnd() < 0.5 else FEMALE
        rel = ("兄" if sex == MALE else "姉") if diff > 0 else ("弟" if sex == MALE else "妹")
        sib = self._japanese(rel, sex, self._birth(max(18.0, age + diff)), family)
        sib.honseki, sib.koseki_head = head.honseki, head.koseki_head
        return [head, mother, sib]

    def _foreign_household(self) -> list[_Person]:
        rnd = self.rnd
        country = self.country()
        r = rnd()
        if country == "KR" and rnd() < 0.45:
            # 特別永住者: born in Japan, often with a 通称
            age = self._bands([(25, 50, 30), (50, 75, 40), (75, 95, 30)])
            head = self._foreign("世帯主", MALE if rnd() < 0.6 else FEMALE, self._birth(age), "KR")
            members = [head]
            if rnd() < 0.5 and age > 28:
                spouse_sex = FEMALE if head.sex == MALE else MALE
                spouse = self._foreign(
                    "妻" if spouse_sex == FEMALE else "夫",
                    spouse_sex,
                    self._birth(max(20.0, age - self._uniform(-3, 5))),
                    "KR",
                )
                members.append(spouse)
            for p in members:
                self._status(p, "特別永住者")
                if rnd() < 0.6:
                    self._alias(p)
            return members
        if r < 0.62 or (country in ("MM",) and r < 0.8):
            # a worker or a student living alone
            age = self._bands([(18, 25, 40), (25, 32, 40), (32, 45, 20)])
            sex = MALE if rnd() < 0.58 else FEMALE
            head = self._foreign("世帯主", sex, self._birth(age), country)
            if age < 30 and country in ("VN", "ID", "PH", "MM", "TH", "CN") and rnd() < 0.45:
                status = "技能実習" if rnd() < 0.6 else "特定技能"
            elif age < 28 and country in ("CN", "VN", "NP", "MM", "LK", "TW", "KR") and rnd() < 0.5:
                status = "留学"
            elif country in ("BR", "PE") and rnd() < 0.6:
                status = "定住者"
            elif age > 30 and rnd() < 0.35:
                status = "永住者"
            else:
                status = "技術・人文知識・国際業務"
            self._status(head, status)
            return [head]
        # a family
        age = self._bands([(27, 38, 50), (38, 50, 40), (50, 65, 10)])
        husband_family = self._foreign_family(country)
        head = self._foreign("世帯主", MALE, self._birth(age), country, husband_family)
        shares = country in ("PH", "BR", "PE", "US", "NP", "IN", "LK")
        wife = self._foreign(
            "妻",
            FEMALE,
            self._birth(max(20.0, age - self._uniform(-1, 6))),
            country,
            husband_family if shares else None,
        )
        head_status = {
            "BR": "定住者",
            "PE": "定住者",
            "NP": "技能",
        }.get(country, "技術・人文知識・国際業務" if rnd() < 0.55 else "永住者")
        if country == "CN" and rnd() < 0.1:
            head_status = "経営・管理"
        self._status(head, head_status)
        spouse_status = {
            "永住者": "永住者" if rnd() < 0.5 else "永住者の配偶者等",
            "定住者": "定住者",
        }.get(head_status, "家族滞在")
        self._status(wife, spouse_status)
        wife.joiner = rnd() < 0.4
        members = [head, wife]
        n = int(rnd() * 3)
        at = self._uniform(24, 33)
        for _ in range(n):
            birth = wife.birth + int(at * YEAR)
            if birth >= self.as_of - 1:
                break
            kid = self._foreign(
                "子", MALE if rnd() < 0.51 else FEMALE, birth, country, husband_family
            )
            kid.mother = wife
            kid_status = {"永住者": "永住者の配偶者等", "定住者": "定住者"}.get(
                head_status, "家族滞在"
            )
            self._status(kid, kid_status)
            members.append(kid)
            at += 1.5 + rnd() * 4
        return members

    def _mixed_household(self) -> list[_Person]:
        """A Japanese husband (head) and a foreign wife; the children are Japanese."""
        rnd = self.rnd
        age = self._bands([(28, 40, 40), (40, 55, 40), (55, 70, 20)])
        head = self._japanese("世帯主", MALE, self._birth(age))
        head.honseki, head.koseki_head = self._honseki(), head.display_name
        country = self.country()
        while country in ("KR",) and rnd() < 0.5:
            country = self.country()
        wife = self._foreign(
            "妻", FEMALE, self._birth(max(20.0, age - self._uniform(0, 12))), country
        )
        self._status(wife, "日本人の配偶者等" if rnd() < 0.6 else "永住者")
        if rnd() < 0.4:
            self._alias(wife, (head.family, head.family_kana))
        wife.joiner = rnd() < 0.5
        family = (head.family, head.family_kana)
        kids = []
        at = self._uniform(24, 34)
        for _ in range(int(rnd() * 3)):
            birth = wife.birth + int(at * YEAR)
            if birth >= self.as_of - 1:
                break
            kid = self._japanese("子", MALE if rnd() < 0.51 else FEMALE, birth, family)
            kid.mother = wife
            kid.honseki, kid.koseki_head = head.honseki, head.koseki_head
            kids.append(kid)
            at += 1.5 + rnd() * 4
        return [head, wife, *kids]

    # ------------------------------------------------------------------ one household

    def household(self, limit: int) -> tuple[list[str], list[list[str]], list[list[str]]]:
        """Generate one household of at most ``limit`` persons.

        Returns (household row, resident rows, history rows).
        """
        rnd = self.rnd
        kind = self._types()
        members, mode = self._household_members(kind)
        if len(members) > limit:
            kind = "single"
            members, mode = self._h_single(), "japanese"
        if mode != "japanese":
            kind = mode  # "foreign" or "mixed"
        stats = self.stats
        stats.households_by_type[kind] = stats.households_by_type.get(kind, 0) + 1
        self._household_seq += 1
        household_no = make_household_no(self._household_seq)
        as_of = self.as_of
        head = members[0]

        # 旧氏 for a share of those who changed their name on marriage (mostly women).
        for p in members:
            if p.married_in and p.maiden and not p.country and rnd() < 0.09:
                p.former, p.former_kana = p.maiden, p.maiden_kana

        apartment = 0.78 if mode == "foreign" else (0.62 if len(members) == 1 else 0.36)
        address = self._city_address(apartment)

        # --- the timeline -------------------------------------------------------------
        spouse_rels = ("妻", "夫", "妻（未届）", "夫（未届）")
        core = [p for p in members if not p.joiner and (p is head or p.rel in spouse_rels)]
        earliest = max(max(p.birth for p in core) + int(18 * YEAR), as_of - int(60 * YEAR))
        latest = as_of - 20
        if mode == "foreign" and head.category != SPECIAL_PERMANENT:
            earliest = max(earliest, as_of - int(25 * YEAR))
        if earliest > latest - 1:
            earliest = latest - 1
        arrival = latest - int((latest - earliest) * rnd() ** 1.6)
        # Most 特別永住者 were born in the city.
        born_here = head.category == SPECIAL_PERMANENT and rnd() < 0.7
        # Joiners (spouses, daughters-in-law, parents, lodgers) come later, each on a day
        # between their earliest possible one and the end.
        for p in members:
            if p.joiner:
                lo = max(arrival + 1, p.join_after, p.birth + int(18 * YEAR))
                if lo >= latest:
                    p.joiner = False
                else:
                    p.join_after = lo + int((latest - lo) * rnd() ** 1.3)
        # A move within the city (転居) for a share of households.
        moved_on = 0
        previous_address = address
        if rnd() < 0.3 and latest - arrival > 60:
            moved_on = arrival + 30 + int((latest - arrival - 30) * rnd())
            previous_address = self._city_address(apartment)

        # How the household came: from elsewhere in Japan or from abroad.
        abroad = rnd() < (0.65 if mode == "foreign" else 0.025)
        country_name = (
            self.country_info[head.country][1] if head.country else self.abroad_for_japanese()
        )
        common: tuple[str, tuple[str, str, str], int] = (
            (_FROM_ABROAD, ("", "", country_name), self._notify(arrival))
            if abroad
            else (_MOVE_IN, self._domestic_elsewhere(), self._notify(arrival))
        )

        # Each joiner's own move-in: reason, previous address, notification day. Children
        # who come with a joining mother share hers.
        join_info: dict[int, tuple[str, tuple[str, str, str], int]] = {}
        for p in members:
            if p.joiner:
                if p.country and rnd() < 0.5:
                    prev = ("", "", self.country_info[p.country][1])
                    join_info[id(p)] = (_FROM_ABROAD, prev, self._notify(p.join_after))
                else:
                    prev = self._domestic_elsewhere()
                    join_info[id(p)] = (_MOVE_IN, prev, self._notify(p.join_after))

        events: list[tuple[int, int, int, int, str, Any]] = []
        # (occurred, priority, member index, notified, reason, payload)
        entry_of = [0] * len(members)
        for i, p in enumerate(members):
            info = common
            if p.joiner:
                arrive = p.join_after
                info = join_info[id(p)]
            elif p.mother is not None and p.mother.joiner and p.mother.join_after > arrival:
                arrive = p.mother.join_after
                info = join_info[id(p.mother)]
            else:
                arrive = arrival
            if born_here and p.country:
                arrive = min(arrive, p.birth)
            if p.birth >= arrive:  # born into the household
                if p.country and p.birth < _FOREIGN_REGISTER_START:
                    day = _FOREIGN_REGISTER_START
                    events.append((day, _P_ENTRY, i, day, _EX_OFFICIO_ENTRY, p.birth + 7))
                else:
                    day = p.birth
                    events.append((day, _P_ENTRY, i, self._notify(day), _BIRTH, None))
            elif p.country and arrive < _FOREIGN_REGISTER_START:
                # registered under the old 外国人登録法; 住民票 made on 2012-07-09
                day = _FOREIGN_REGISTER_START
                events.append((day, _P_ENTRY, i, day, _EX_OFFICIO_ENTRY, arrive))
            else:
                day = arrive
                reason, prev, notified = info
                events.append((day, _P_ENTRY, i, notified, reason, prev))
            entry_of[i] = day
        if moved_on:
            notified = self._notify(moved_on)
            for i in range(len(members)):
                if entry_of[i] < moved_on:
                    events.append((moved_on, _P_MOVE, i, notified, _MOVE_WITHIN, previous_address))
        residence: list[tuple[int, str]] = [(0, "")] * len(members)
        for i, p in enumerate(members):
            if p.former:
                lo = max(entry_of[i], _FORMER_NAME_START)
                if lo < latest:
                    day = lo + int((latest - lo) * rnd())
                    events.append((day, _P_CHANGE, i, day, _FORMER_ENTRY, None))
                else:
                    p.former = p.former_kana = ""
            if p.alias:
                day = min(latest, entry_of[i] + int(rnd() * rnd() * 400))
                p.alias_on = day
                events.append((day, _P_CHANGE, i, day, _ALIAS_ENTRY, None))
            if p.res_status:
                card = generate_residence_card_no(self.rng)
                if not p.period:  # 永住者, 特別永住者: no period of stay
                    residence[i] = (0, card)
                    continue
                # The current permission was granted within one period before as_of; when
                # that is after the entry, the renewal is an ex officio amendment (職権修正,
                # on the notice of the Immigration Services Agency, 住基法30条の50).
                days = _period_days(p.period)
                granted = max(entry_of[i], as_of + 1 - days + int((days - 2) * rnd()))
                if granted > entry_of[i] + 30:
                    new_card = generate_residence_card_no(self.rng)
                    events.append(
                        (granted, _P_CHANGE, i, granted, _AMEND, (granted + days, new_card))
                    )
                    residence[i] = (granted, card)
                else:
                    residence[i] = (granted + days, card)

        # --- removals -------------------------------------------------------------------
        last_event = max(e[0] for e in events)
        lo = last_event + 1
        span = as_of - 1 - lo
        if span > 0:
            r = rnd()
            if kind == "single" and mode == "japanese" and self._age(head.birth) > 70 and r < 0.09:
                day = lo + int(span * rnd())
                events.append((day, _P_REMOVE, 0, self._death_notified(day), _DEATH, None))
            elif r < 0.045 or (mode == "foreign" and r < 0.10):
                # the whole household leaves
                day = lo + int(span * rnd())
                if (mode == "foreign" and head.category != SPECIAL_PERMANENT) or rnd() < 0.06:
                    reason = _TO_ABROAD
                    dest = ("", country_name)
                else:
                    reason = _MOVE_OUT
                    _code, postal, text = self._domestic_elsewhere()
                    dest = (postal, text)
                notified = self._move_out_notified(day, last_event)
                for i in range(len(members)):
                    events.append((day, _P_REMOVE, i, notified, reason, dest))
            elif len(members) >= 2:
                old_head = self._age(head.birth) > 72 and members[1].rel in ("妻", "夫")
                if old_head and r < 0.16:
                    # the head dies; the spouse becomes head (世帯主変更)
                    day = lo + int(span * rnd())
                    events.append((day, _P_REMOVE, 0, self._death_notified(day), _DEATH, None))
                    notified = self._notify(day)
                    for i in range(1, len(members)):
                        events.append((day, _P_AFTER, i, notified, _HEAD_CHANGE, 1))
                else:
                    for i, p in enumerate(members[1:], start=1):
                        age = self._age(p.birth)
                        if p.rel in ("子", "同居人", "縁故者") and 19 < age < 40 and rnd() < 0.10:
                            day = lo + int(span * rnd())
                            _code, postal, text = self._domestic_elsewhere()
                            notified = self._move_out_notified(day, last_event)
                            events.append((day, _P_REMOVE, i, notified, _MOVE_OUT, (postal, text)))
                        elif (
                            p.rel in ("父", "母", "妻の父", "妻の母") and age > 75 and rnd() < 0.15
                        ):
                            day = lo + int(span * rnd())
                            notified = self._death_notified(day)
                            events.append((day, _P_REMOVE, i, notified, _DEATH, None))

        return self._realise(
            members, household_no, address, previous_address, moved_on, events, residence, arrival
        )

    def _death_notified(self, day: int) -> int:
        """死亡届: within 7 days."""
        return min(day + int(self.rnd() * 8), self.as_of)

    def _move_out_notified(self, day: int, not_before: int) -> int:
        """転出届: mostly in advance (up to 14 days before), sometimes within 14 days after."""
        if self.rnd() < 0.85:
            return max(not_before, day - int(self.rnd() * 15))
        return min(day + int(self.rnd() * 15), self.as_of)

    def _realise(
        self,
        members: list[_Person],
        household_no: str,
        address: tuple[str, str, str, str, str, str],
        previous_address: tuple[str, str, str, str, str, str],
        moved_on: int,
        events: list[tuple[int, int, int, int, str, Any]],
        residence: list[tuple[int, str]],
        formed_on: int,
    ) -> tuple[list[str], list[list[str]], list[list[str]]]:
        iso = self.iso
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        n = len(members)
        first_seq = self._person_seq + 1
        self._person_seq += n
        atena = [make_atena_no(first_seq + i) for i in range(n)]
        head_name = members[0].display_name
        states: list[list[str]] = [
            [
                household_no,
                p.rel,
                head_name,
                "resident",
                p.family,
                p.given,
                p.family_kana,
                p.given_kana,
                "",
                "",
                "",
                "",
                *address,
                "",
                "",
                "",
                "",
                "",
                p.res_status,
                p.period,
                "",
                "",
            ]
            for p in members
        ]
        history_no = [0] * n
        entered = [0] * n
        address_set = [0] * n
        address_notified = [0] * n
        alien_registration = [0] * n
        removal: list[tuple[str, int, int] | None] = [None] * n
        history: list[list[str]] = []
        current_head = 0
        no_move: tuple[str, str, str] = ("", "", "")
        for occurred, _prio, i, notified, reason, payload in events:
            s = states[i]
            moved_from = no_move
            if reason in ENTRY_REASONS:
                entered[i] = occurred
                address_set[i] = occurred
                address_notified[i] = notified
                s[_S_ADDR : _S_ADDR + 6] = (
                    previous_address if moved_on and occurred < moved_on else address
                )
                if reason == _EX_OFFICIO_ENTRY:
                    alien_registration[i] = payload
                elif payload:
                    s[_S_PREV : _S_PREV + 3] = payload
                expires, card = residence[i]
                if card:
                    s[_S_RES + 2] = iso(expires)
                    s[_S_RES + 3] = card
            elif reason == _MOVE_WITHIN:
                moved_from = (payload[0], payload[1], self._address_text(payload))
                s[_S_ADDR : _S_ADDR + 6] = address
                address_set[i] = occurred
                address_notified[i] = notified
            elif reason == _FORMER_ENTRY:
                p = members[i]
                s[_S_FORMER] = p.former
                s[_S_FORMER_KANA] = p.former_kana
            elif reason == _ALIAS_ENTRY:
                p = members[i]
                s[_S_ALIAS] = p.alias
                s[_S_ALIAS_KANA] = p.alias_kana
            elif reason == _AMEND:
                expires, card = payload
                s[_S_RES + 2] = iso(expires)
                s[_S_RES + 3] = card
            elif reason == _HEAD_CHANGE:
                current_head = payload
                name = members[current_head].display_name
                for j in range(n):
                    if removal[j] is None:
                        states[j][_S_HEAD] = name
                if i == current_head:
                    s[_S_REL] = "世帯主"
            else:  # a removal
                s[_S_STATUS] = "removed"
                if payload:
                    s[_S_DEST], s[_S_DEST + 1] = payload
                removal[i] = (reason, occurred, notified)
            history_no[i] += 1
            history.append(
                [
                    atena[i],
                    str(history_no[i]),
                    reason,
                    iso(occurred),
                    iso(notified),
                    iso(notified),
                    *s,
                    *moved_from,
                ]
            )

        stats = self.stats
        rnd = self.rnd
        ward_code = self._ward_code(address)
        residents: list[list[str]] = []
        for i, p in enumerate(members):
            seq = first_seq + i
            foreign = bool(p.country)
            removed = removal[i]
            if removed is not None:
                stats.removed += 1
            if foreign:
                stats.foreign += 1
            mn_body = str((self._mn_a * seq + self._mn_b) % 10**11).zfill(11)
            jc_body = str((self._jc_a * seq + self._jc_b) % 10**10).zfill(10)
            residents.append(
                [
                    atena[i],
                    str(history_no[i]),
                    "foreign" if foreign else "japanese",
                    *states[i],
                    "1" if rnd() < 0.85 else "0",
                    p.alpha,
                    iso(p.alias_on) if p.alias else "",
                    ward_code if p.alias else "",
                    iso(p.birth),
                    p.sex,
                    "" if foreign else p.honseki,
                    "" if foreign else p.koseki_head,
                    "" if foreign else iso(entered[i]),
                    iso(entered[i]) if foreign else "",
                    iso(alien_registration[i]),
                    PREFECTURE,
                    CITY,
                    iso(address_set[i]),
                    iso(address_notified[i]),
                    mn_body + my_number_check_digit(mn_body),
                    jc_body + juminhyo_code_check_digit(jc_body),
                    p.country,
                    self.country_info[p.country][0] if foreign else "",
                    p.category,
                    removed[0] if removed else "",
                    iso(removed[1]) if removed else "",
                    iso(removed[2]) if removed else "",
                ]
            )
        current = [i for i in range(n) if removal[i] is None]
        removed_on = max((r[1] for r in removal if r is not None), default=0)
        household_row = [
            household_no,
            "active" if current else "removed",
            atena[current_head],
            members[current_head].display_name,
            str(len(current)),
            address[0],
            address[1],
            PREFECTURE,
            CITY,
            address[2],
            address[3],
            address[4],
            address[5],
            iso(formed_on),
            "" if current else iso(removed_on),
        ]
        stats.households += 1
        stats.residents += n
        stats.history_rows += len(history)
        return household_row, residents, history

    def _ward_code(self, address: Sequence[str]) -> str:
        entry = self.dictionary.by_code(address[0])
        return entry.local_government_code if entry else ""

    # ------------------------------------------------------------------ streaming

    def households(
        self, residents: int
    ) -> Iterator[tuple[list[str], list[list[str]], list[list[str]]]]:
        """Households until exactly ``residents`` persons have been generated."""
        while self.stats.residents < residents:
            yield self.household(residents - self.stats.residents)


def _open(path: Path) -> IO[str]:
    return path.open("w", encoding="utf-8", newline="", buffering=1 << 20)


OUTPUT_FILES = ("households.csv", "residents.csv", "history.csv", "manifest.json")


def generate(
    out_dir: Path,
    residents: int,
    seed: int,
    *,
    as_of: dt.date = DEFAULT_AS_OF,
    progress: Callable[[int], None] | None = None,
) -> GenerationStats:
    """Write the synthetic city for ``residents`` persons and ``seed`` into ``out_dir``.

    Files are written under temporary names and renamed at the end, so an interrupted run
    leaves no file that looks complete. ``progress`` is called with the number of persons
    added since the last call.
    """
    if residents < 1:
        raise ValueError("residents must be at least 1")
    gen = CityGenerator(seed, as_of=as_of)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = {name: out_dir / f".{name}.part" for name in OUTPUT_FILES}
    try:
        with (
            _open(parts["households.csv"]) as hf,
            _open(parts["residents.csv"]) as rf,
            _open(parts["history.csv"]) as yf,
        ):
            hw = csv.writer(hf, lineterminator="\n")
            rw = csv.writer(rf, lineterminator="\n")
            yw = csv.writer(yf, lineterminator="\n")
            hw.writerow(HOUSEHOLD_COLUMNS)
            rw.writerow(RESIDENT_COLUMNS)
            yw.writerow(HISTORY_COLUMNS)
            h_row, r_rows, y_rows = hw.writerow, rw.writerows, yw.writerows
            pending = 0
            for household, people, history in gen.households(residents):
                h_row(household)
                r_rows(people)
                y_rows(history)
                if progress is not None:
                    pending += len(people)
                    if pending >= 2000:
                        progress(pending)
                        pending = 0
            if progress is not None and pending:
                progress(pending)
        counts: dict[str, Any] = asdict(gen.stats)
        counts["households_by_type"] = dict(sorted(gen.stats.households_by_type.items()))
        manifest: dict[str, Any] = {
            "generator": "jumin.synth",
            "format_version": 1,
            "seed": seed,
            "residents": residents,
            "as_of": as_of.isoformat(),
            "counts": counts,
            "files": {
                "households.csv": list(HOUSEHOLD_COLUMNS),
                "residents.csv": list(RESIDENT_COLUMNS),
                "history.csv": list(HISTORY_COLUMNS),
            },
        }
        with parts["manifest.json"].open("w", encoding="utf-8", newline="\n") as mf:
            json.dump(manifest, mf, ensure_ascii=False, indent=2)
            mf.write("\n")
        for name, part in parts.items():
            os.replace(part, out_dir / name)
    finally:
        for part in parts.values():
            if part.exists():
                part.unlink()
    return gen.stats
