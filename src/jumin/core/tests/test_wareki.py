"""和暦: era boundaries, formatting, clerk-typed parsing, uncertain dates and their storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jumin.core.errors import WarekiError
from jumin.core.wareki import (
    DateKind,
    Era,
    Season,
    UncertainDate,
    WarekiDate,
    format_wareki,
    format_wareki_code,
    format_wareki_short,
    format_western,
    from_wareki,
    parse_any_date,
    parse_date,
    to_wareki,
)

FAST = settings(max_examples=200, deadline=None, database=None)
DATES = st.dates(min_value=date(1868, 1, 25), max_value=date(2100, 12, 31))


def _code(fn: Callable[[], object]) -> str:
    with pytest.raises(WarekiError) as info:
        fn()
    assert info.value.message
    assert info.value.code in str(info.value)
    return info.value.code


# --- the era master (std 1.3.6, j280) -----------------------------------------------------


@pytest.mark.parametrize(
    ("era", "kanji", "letter", "code", "start", "end", "last_year"),
    [
        (Era.MEIJI, "明治", "M", 1, date(1868, 1, 25), date(1912, 7, 30), 45),
        (Era.TAISHO, "大正", "T", 2, date(1912, 7, 30), date(1926, 12, 25), 15),
        (Era.SHOWA, "昭和", "S", 3, date(1926, 12, 25), date(1989, 1, 7), 64),
        (Era.HEISEI, "平成", "H", 4, date(1989, 1, 8), date(2019, 4, 30), 31),
        (Era.REIWA, "令和", "R", 5, date(2019, 5, 1), None, None),
    ],
)
def test_era_table(era, kanji, letter, code, start, end, last_year):
    # std 1.3.6 (j280): the era master; std 1.1.8 (j80): 明治/大正 end on the next era's first day
    assert (era.kanji, era.letter, era.code, era.start) == (kanji, letter, code, start)
    assert era.end == end
    assert era.last_year == last_year


def test_era_next_and_order():
    assert Era.MEIJI.next is Era.TAISHO
    assert Era.REIWA.next is None
    assert [e.code for e in Era] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("label", ["令和", "令", "R", "r", "Ｒ", "5", "５", " 令和 "])
def test_era_from_label(label):
    assert Era.from_label(label) is Era.REIWA


@pytest.mark.parametrize("label", ["X", "慶応", "6", "", "令和和"])
def test_era_from_label_unknown(label):
    assert _code(lambda: Era.from_label(label)) == "wareki.unknown_era"


# --- conversion and boundaries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "era", "year"),
    [
        (date(1868, 1, 25), Era.MEIJI, 1),
        (date(1912, 7, 29), Era.MEIJI, 45),
        (date(1912, 7, 30), Era.TAISHO, 1),  # the overlapping day answers with the new era
        (date(1926, 12, 24), Era.TAISHO, 15),
        (date(1926, 12, 25), Era.SHOWA, 1),
        (date(1989, 1, 7), Era.SHOWA, 64),
        (date(1989, 1, 8), Era.HEISEI, 1),
        (date(2019, 4, 30), Era.HEISEI, 31),
        (date(2019, 5, 1), Era.REIWA, 1),
        (date(2026, 11, 26), Era.REIWA, 8),
    ],
)
def test_to_wareki_boundaries(d, era, year):
    w = to_wareki(d)
    assert (w.era, w.year, w.month, w.day) == (era, year, d.month, d.day)
    assert w.to_date() == d
    assert Era.for_date(d) is era


def test_before_meiji():
    assert _code(lambda: to_wareki(date(1868, 1, 24))) == "wareki.before_meiji"
    assert _code(lambda: format_wareki(date(1800, 1, 1))) == "wareki.before_meiji"


@pytest.mark.parametrize(
    ("era", "year", "month", "day", "expected"),
    [
        (Era.MEIJI, 1, 1, 25, date(1868, 1, 25)),
        (Era.MEIJI, 5, 12, 2, date(1872, 12, 2)),  # lunar-calendar era, taken as Gregorian
        (Era.MEIJI, 45, 7, 30, date(1912, 7, 30)),  # std 1.1.8 (j80): explicitly allowed
        (Era.TAISHO, 1, 7, 30, date(1912, 7, 30)),
        (Era.TAISHO, 15, 12, 25, date(1926, 12, 25)),  # std 1.1.8 (j80): explicitly allowed
        (Era.SHOWA, 1, 12, 25, date(1926, 12, 25)),
        (Era.SHOWA, 64, 1, 7, date(1989, 1, 7)),
        (Era.HEISEI, 1, 1, 8, date(1989, 1, 8)),
        (Era.HEISEI, 4, 2, 29, date(1992, 2, 29)),
        (Era.HEISEI, 31, 4, 30, date(2019, 4, 30)),
        (Era.REIWA, 1, 5, 1, date(2019, 5, 1)),
    ],
)
def test_from_wareki_valid_boundaries(era, year, month, day, expected):
    assert from_wareki(era, year, month, day) == expected
    assert WarekiDate(era, year, month, day).to_date() == expected


@pytest.mark.parametrize(
    ("era", "year", "month", "day", "code"),
    [
        (Era.REIWA, 0, 5, 1, "wareki.year_range"),
        (Era.REIWA, -1, 5, 1, "wareki.year_range"),
        (Era.SHOWA, 65, 1, 1, "wareki.year_range"),
        (Era.HEISEI, 32, 1, 1, "wareki.year_range"),
        (Era.MEIJI, 46, 1, 1, "wareki.year_range"),
        (Era.REIWA, 7982, 1, 1, "wareki.year_range"),  # beyond 9999
        (Era.REIWA, 2, 2, 30, "wareki.invalid_date"),
        (Era.REIWA, 3, 2, 29, "wareki.invalid_date"),
        (Era.REIWA, 2, 13, 1, "wareki.invalid_date"),
        (Era.REIWA, 2, 4, 0, "wareki.invalid_date"),
        (Era.SHOWA, 64, 1, 8, "wareki.era_range"),
        (Era.HEISEI, 31, 5, 1, "wareki.era_range"),
        (Era.HEISEI, 1, 1, 7, "wareki.era_range"),
        (Era.REIWA, 1, 4, 30, "wareki.era_range"),
        (Era.MEIJI, 45, 7, 31, "wareki.era_range"),
        (Era.TAISHO, 1, 7, 29, "wareki.era_range"),
        (Era.TAISHO, 15, 12, 26, "wareki.era_range"),
        (Era.SHOWA, 1, 12, 24, "wareki.era_range"),
        (Era.MEIJI, 1, 1, 24, "wareki.era_range"),
    ],
)
def test_from_wareki_rejects(era, year, month, day, code):
    assert _code(lambda: from_wareki(era, year, month, day)) == code
    assert _code(lambda: WarekiDate(era, year, month, day)) == code


def test_era_range_message_names_the_era_span_and_the_fix():
    with pytest.raises(WarekiError) as info:
        from_wareki(Era.SHOWA, 64, 1, 8)
    assert "昭和元年12月25日～昭和64年1月7日" in info.value.message
    assert "平成元年1月8日" in info.value.message


@FAST
@given(DATES)
def test_to_wareki_from_wareki_round_trip(d):
    w = to_wareki(d)
    assert from_wareki(w.era, w.year, w.month, w.day) == d
    assert w.year >= 1


# --- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1912, 7, 30), "大正元年7月30日"),
    ],
)
def test_format_wareki(d, text):
    # std 1.1.9 (j90): dates print in 和暦
    assert format_wareki(d) == text
    assert str(to_wareki(d)) == text


def test_format_wareki_options():
    # std 1.1.9 (j90)
    assert format_wareki(date(2019, 5, 1), gannen=False) == "令和1年5月1日"
    assert format_wareki(date(2019, 5, 1), kanji_numerals=True) == "令和元年五月一日"
    assert format_wareki(date(2019, 4, 30), kanji_numerals=True) == "平成三十一年四月三十日"
    assert format_wareki(date(2019, 5, 1), gannen=False, kanji_numerals=True) == "令和一年五月一日"
    assert format_wareki(date(1985, 12, 20), kanji_numerals=True) == "昭和六十年十二月二十日"
    assert format_wareki(date(2118, 1, 1), kanji_numerals=True) == "令和百年一月一日"
    assert format_wareki(date(2229, 1, 1), kanji_numerals=True) == "令和二百十一年一月一日"
    assert format_wareki(date(9999, 12, 31), kanji_numerals=True) == "令和七九八一年十二月三十一日"


def test_format_wareki_short_and_code():
    assert format_wareki_short(date(2019, 5, 1)) == "R1.5.1"
    assert format_wareki_short(date(1989, 1, 7)) == "S64.1.7"
    assert format_wareki_code(date(2019, 5, 1)) == "R010501"
    assert format_wareki_code(date(2019, 5, 1), numeric=True) == "5010501"
    assert format_wareki_code(date(1912, 7, 29)) == "M450729"
    assert _code(lambda: format_wareki_code(date(2118, 1, 1))) == "wareki.year_range"


def test_format_western():
    # std 1.1.9 (j90): a foreign resident's birth date and expiry of stay print in 西暦
    assert format_western(date(2019, 5, 1)) == "2019年5月1日"
    assert format_western(date(1850, 12, 31)) == "1850年12月31日"


# --- parsing exact dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R1.5.1", date(2019, 5, 1)),
        ("r1.5.1", date(2019, 5, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("令和元年五月一日", date(2019, 5, 1)),
        ("令和 元年 5月 1日", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("H31/4/30", date(2019, 4, 30)),
        ("H31-04-30", date(2019, 4, 30)),
        ("S64.1.7", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("平成三十一年四月三十日", date(2019, 4, 30)),
        ("平成元.1.8", date(1989, 1, 8)),
        ("2019-05-01", date(2019, 5, 1)),
        ("2019/5/1", date(2019, 5, 1)),
        ("2019.5.1", date(2019, 5, 1)),
        ("20190501", date(2019, 5, 1)),
        ("2019年5月1日", date(2019, 5, 1)),
        ("R010501", date(2019, 5, 1)),
        ("r010501", date(2019, 5, 1)),
        ("5010501", date(2019, 5, 1)),
        ("3640107", date(1989, 1, 7)),
        ("２０１９０５０１", date(2019, 5, 1)),
        ("２０１９－０５－０１", date(2019, 5, 1)),
        ("Ｒ１．５．１", date(2019, 5, 1)),
        ("ｒ１．５．１", date(2019, 5, 1)),
        ("令和元年５月１日", date(2019, 5, 1)),
        ("  R1.5.1\t", date(2019, 5, 1)),
        ("　R1.5.1　", date(2019, 5, 1)),
        ("㋿1.5.1", date(2019, 5, 1)),
        ("㍻31年4月30日", date(2019, 4, 30)),
        ("令1.5.1", date(2019, 5, 1)),
        ("昭50.3.1", date(1975, 3, 1)),
        ("H31‐4‐30", date(2019, 4, 30)),
        ("2019−05−01", date(2019, 5, 1)),
        ("明治45年7月30日", date(1912, 7, 30)),  # std 1.1.8 (j80)
        ("大正15年12月25日", date(1926, 12, 25)),  # std 1.1.8 (j80)
        ("二〇一九年五月一日", None),  # a Western year needs Arabic digits
        ("令和七九八一年十二月三十一日", date(9999, 12, 31)),  # positional kanji digits
        ("令和一二年一月一日", date(2030, 1, 1)),
    ],
)
def test_parse_date_examples(text, expected):
    if expected is None:
        assert _code(lambda: parse_date(text)) == "wareki.unparseable"
    else:
        assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "wareki.empty"),
        ("   ", "wareki.empty"),
        ("　", "wareki.empty"),
        ("abc", "wareki.unparseable"),
        ("2019-05", "wareki.unparseable"),
        ("19.5.1", "wareki.unparseable"),
        ("190501", "wareki.unparseable"),
        ("R1.5", "wareki.unparseable"),
        ("令和十十年5月1日", "wareki.unparseable"),
        ("令和2年頃", "wareki.unparseable"),
        ("元年5月1日", "wareki.unparseable"),
        ("X1.5.1", "wareki.unknown_era"),
        ("8010501", "wareki.unknown_era"),
        ("0010501", "wareki.unknown_era"),
        ("慶応3年1月1日", "wareki.unknown_era"),
        ("令和0年5月1日", "wareki.year_range"),
        ("令和〇年5月1日", "wareki.year_range"),
        ("R0.5.1", "wareki.year_range"),
        ("昭和65年1月1日", "wareki.year_range"),
        ("M46.1.1", "wareki.year_range"),
        ("令和2年2月30日", "wareki.invalid_date"),
        ("2019-02-29", "wareki.invalid_date"),
        ("R2.13.1", "wareki.invalid_date"),
        ("2019-00-10", "wareki.invalid_date"),
        ("00000101", "wareki.invalid_date"),
        ("昭和64年1月8日", "wareki.era_range"),
        ("平成31年5月1日", "wareki.era_range"),
        ("H31.5.1", "wareki.era_range"),
        ("明治45年7月31日", "wareki.era_range"),
        ("大正15年12月26日", "wareki.era_range"),
        ("T1.7.29", "wareki.era_range"),
        ("明治元年1月24日", "wareki.era_range"),
    ],
)
def test_parse_date_errors(text, code):
    assert _code(lambda: parse_date(text)) == code


@FAST
@given(DATES)
def test_format_then_parse_round_trips(d):
    assert parse_date(format_wareki(d)) == d
    assert parse_date(format_wareki(d, gannen=False)) == d
    assert parse_date(format_wareki(d, kanji_numerals=True)) == d
    assert parse_date(format_wareki_short(d)) == d
    assert parse_date(format_wareki_short(d).lower()) == d
    assert parse_date(format_western(d)) == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(d.strftime("%Y%m%d")) == d
    assert parse_date(format_wareki_code(d)) == d
    assert parse_date(format_wareki_code(d, numeric=True)) == d


@FAST
@given(DATES)
def test_full_width_input_round_trips(d):
    full_width = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789.MTSHR"})
    assert parse_date(format_wareki_short(d).translate(full_width)) == d
    assert parse_date(format_wareki(d).translate(full_width)) == d


# --- uncertain dates (std 1.1.8, j80) ------------------------------------------------------

# Every pattern of the 不詳日入力一覧, with the kind, the printed text and the sort key.
J80_PATTERNS = [
    ("令和2年頃", DateKind.ABOUT, "令和2年頃", date(2020, 1, 1)),
    ("令和2年5月頃", DateKind.ABOUT, "令和2年5月頃", date(2020, 5, 1)),
    ("令和2年5月1日頃", DateKind.ABOUT, "令和2年5月1日頃", date(2020, 5, 1)),
    ("推定令和2年5月10日", DateKind.ESTIMATED, "推定令和2年5月10日", date(2020, 5, 10)),
    ("推定令和2年5月", DateKind.ESTIMATED, "推定令和2年5月", date(2020, 5, 1)),
    ("推定令和2年", DateKind.ESTIMATED, "推定令和2年", date(2020, 1, 1)),
    ("令和2年春", DateKind.SEASON, "令和2年春", date(2020, 3, 1)),
    ("令和2年夏", DateKind.SEASON, "令和2年夏", date(2020, 6, 1)),
    ("令和2年秋", DateKind.SEASON, "令和2年秋", date(2020, 9, 1)),
    ("令和2年冬", DateKind.SEASON, "令和2年冬", date(2020, 12, 1)),
    ("昭和50年3月上旬", DateKind.EARLY, "昭和50年3月上旬", date(1975, 3, 1)),
    ("令和2年5月中旬頃", DateKind.MID, "令和2年5月中旬頃", date(2020, 5, 11)),
    ("令和2年5月中旬", DateKind.MID, "令和2年5月中旬", date(2020, 5, 11)),
    ("令和2年5月下旬", DateKind.LATE, "令和2年5月下旬", date(2020, 5, 21)),
    ("年月日不詳", DateKind.UNKNOWN_ALL, "年月日不詳", date.min),
    ("令和2年 月日不詳", DateKind.UNKNOWN_MONTH_DAY, "令和2年 月日不詳", date(2020, 1, 1)),
    ("令和2年12月 日不詳", DateKind.UNKNOWN_DAY, "令和2年12月 日不詳", date(2020, 12, 1)),
    (
        "令和2年5月1日から6月3日頃までの間",
        DateKind.RANGE,
        "令和2年5月1日から6月3日頃までの間",
        date(2020, 5, 1),
    ),
    (
        "令和2年5月推定1日から3日までの間",
        DateKind.RANGE,
        "令和2年5月推定1日から3日までの間",
        date(2020, 5, 1),
    ),
    (
        "令和2年5月1日頃から3日頃までの間",
        DateKind.RANGE,
        "令和2年5月1日頃から3日頃までの間",
        date(2020, 5, 1),
    ),
    ("平成3年2月30日", DateKind.IMPOSSIBLE_CALENDAR, "平成3年2月30日", date(1991, 2, 28)),
    ("令和3年2月29日", DateKind.IMPOSSIBLE_CALENDAR, "令和3年2月29日", date(2021, 2, 28)),
    ("平成4年2月30日", DateKind.IMPOSSIBLE_CALENDAR, "平成4年2月30日", date(1992, 2, 29)),
    ("令和2年4月31日", DateKind.IMPOSSIBLE_CALENDAR, "令和2年4月31日", date(2020, 4, 30)),
    ("1999年2月29日", DateKind.IMPOSSIBLE_CALENDAR, "1999年2月29日", date(1999, 2, 28)),
    ("明治45年7月30日", DateKind.EXACT, "明治45年7月30日", date(1912, 7, 30)),
    ("大正15年12月25日", DateKind.EXACT, "大正15年12月25日", date(1926, 12, 25)),
    ("令和元年5月1日", DateKind.EXACT, "令和元年5月1日", date(2019, 5, 1)),
    ("令和元年頃", DateKind.ABOUT, "令和元年頃", date(2019, 5, 1)),  # clamped to the era
    ("平成元年1月上旬", DateKind.EARLY, "平成元年1月上旬", date(1989, 1, 8)),
    ("1980年頃", DateKind.ABOUT, "1980年頃", date(1980, 1, 1)),
]


@pytest.mark.parametrize(("text", "kind", "printed", "key"), J80_PATTERNS)
def test_j80_patterns(text, kind, printed, key):
    # std 1.1.8 (j80): every 不詳日 is storable with an internal date
    value = parse_any_date(text)
    assert value.kind is kind
    assert value.display() == printed
    assert str(value) == printed
    assert value.sort_key == key
    assert UncertainDate.from_storage(value.to_storage()) == value
    assert parse_any_date(printed) == value


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("令和２年５月中旬頃", "令和2年5月中旬頃"),
        ("令和2年月日不詳", "令和2年 月日不詳"),
        ("令和2年　月　日不詳", "令和2年 月日不詳"),
        ("令和2年12月日不詳", "令和2年12月 日不詳"),
        ("令和二年頃", "令和2年頃"),
        ("不詳", "年月日不詳"),
        (" 年 月 日 不 詳 ", "年月日不詳"),
        ("令和2年5月1日から6月3日頃まで", "令和2年5月1日から6月3日頃までの間"),
        ("R2.5.1", "令和2年5月1日"),
        ("2020-05-01", "2020年5月1日"),
        ("R3.2.29", "令和3年2月29日"),
    ],
)
def test_parse_any_date_variants(text, printed):
    # std 1.1.8 (j80)
    assert parse_any_date(text).display() == printed


def test_storage_examples():
    # std 1.1.8 (j80): one compact column plus the sort date
    assert parse_any_date("令和2年5月1日").to_storage() == "exact|R|2|5|1|"
    assert parse_any_date("昭和50年頃").to_storage() == "about|S|50|||"
    assert parse_any_date("昭和50年3月中旬頃").to_storage() == "mid|S|50|3||about=1"
    assert parse_any_date("年月日不詳").to_storage() == "unknown_all|||||"
    assert parse_any_date("令和2年春").to_storage() == "season|R|2|||season=spring"
    assert parse_any_date("1999年2月29日").to_storage() == "impossible_calendar|AD|1999|2|29|"
    assert (
        parse_any_date("令和2年5月1日から6月3日頃までの間").to_storage()
        == "range|R|2|5|1|end_month=6,end_day=3,end_about=1"
    )
    assert (
        parse_any_date("令和2年5月推定1日から3日までの間").to_storage()
        == "range|R|2|5|1|estimated=1,end_day=3"
    )


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "exact|R|2|5|1",
        "exact|R|2|5|1||",
        "nonsense|R|2|5|1|",
        "exact|X|2|5|1|",
        "exact|R|02|5|1|",
        "exact|R|2|5|1|about=1",
        "exact|R|2|5|1|colour=red",
        "exact|R|2|5|1|about",
        "mid|S|50|3||about=2",
        "exact|R|0|5|1|",
        "exact|R|-2|5|1|",
        "exact|R|2|2|30|",
        "about||2|||",
        "unknown_all|AD||||",
        "season|R|2|||season=monsoon",
        "exact|R|2|5|1|season=spring",
    ],
)
def test_from_storage_rejects_non_canonical_or_corrupt(stored):
    assert _code(lambda: UncertainDate.from_storage(stored)) == "wareki.storage"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "wareki.empty"),
        ("令和2年夏頃", "wareki.unparseable"),
        ("80年頃", "wareki.unparseable"),
        ("令和2年5月1日頃から", "wareki.unparseable"),
        ("慶応3年頃", "wareki.unknown_era"),
        ("令和0年頃", "wareki.year_range"),
        ("昭和65年春", "wareki.year_range"),
        ("令和2年13月頃", "wareki.invalid_date"),
        ("令和2年13月 日不詳", "wareki.invalid_date"),
        ("令和2年13月上旬", "wareki.invalid_date"),
        ("令和2年2月30日頃", "wareki.invalid_date"),
        ("令和2年2月32日", "wareki.invalid_date"),
        ("令和2年13月1日", "wareki.invalid_date"),
        ("令和2年2月0日", "wareki.invalid_date"),
        ("令和2年5月1日から2月30日までの間", "wareki.invalid_date"),
        ("令和2年2月30日から3月1日までの間", "wareki.invalid_date"),
        ("令和2年5月3日から1日までの間", "wareki.range_order"),
        ("令和2年5月3日から5月3日までの間", "wareki.range_order"),
        ("令和元年4月頃", "wareki.era_range"),
        ("令和元年4月31日", "wareki.era_range"),
        ("平成31年冬", "wareki.era_range"),
        ("昭和64年2月 日不詳", "wareki.era_range"),
        ("令和元年4月29日から5月2日頃までの間", "wareki.era_range"),
        ("昭和64年1月8日", "wareki.era_range"),
    ],
)
def test_parse_any_date_errors(text, code):
    # std 1.1.8 (j80)
    assert _code(lambda: parse_any_date(text)) == code


def test_range_across_the_year_end():
    # std 1.1.8 (j80)
    value = parse_any_date("令和2年12月28日から1月3日頃までの間")
    assert value.period() == (date(2020, 12, 28), date(2021, 1, 3))
    assert value.sort_key == date(2020, 12, 28)


def test_periods():
    # std 1.1.8 (j80): the sort key is the first day of the period
    assert parse_any_date("令和2年冬").period() == (date(2020, 12, 1), date(2021, 2, 28))
    assert parse_any_date("令和5年冬").period() == (date(2023, 12, 1), date(2024, 2, 29))
    assert parse_any_date("令和2年春").period() == (date(2020, 3, 1), date(2020, 5, 31))
    assert parse_any_date("令和2年秋").period() == (date(2020, 9, 1), date(2020, 11, 30))
    assert parse_any_date("令和2年2月下旬").period() == (date(2020, 2, 21), date(2020, 2, 29))
    assert parse_any_date("令和2年2月上旬").period() == (date(2020, 2, 1), date(2020, 2, 10))
    assert parse_any_date("令和2年頃").period() == (date(2020, 1, 1), date(2020, 12, 31))
    assert parse_any_date("年月日不詳").period() == (date.min, date.max)
    winter_9999 = UncertainDate(DateKind.SEASON, None, 9999, season=Season.WINTER)
    assert winter_9999.period() == (date(9999, 12, 1), date.max)


def test_exact_and_not_exact():
    # std 1.1.8 (j80)
    exact = parse_any_date("令和元年5月1日")
    assert exact.is_exact
    assert exact.as_date() == date(2019, 5, 1)
    for text in ("令和2年頃", "年月日不詳", "平成3年2月30日"):
        value = parse_any_date(text)
        assert not value.is_exact
        assert _code(value.as_date) == "wareki.not_exact"


def test_constructors():
    # std 1.1.8 (j80)
    assert UncertainDate.from_date(date(2019, 5, 1)) == parse_any_date("令和元年5月1日")
    western = UncertainDate.from_date(date(2019, 5, 1), western=True)
    assert western.display() == "2019年5月1日"
    assert western.as_date() == date(2019, 5, 1)
    assert UncertainDate.unknown() == parse_any_date("年月日不詳")
    assert UncertainDate.unknown().display(western=True) == "年月日不詳"


def test_display_calendars():
    # std 1.1.9 (j90): a foreign resident's birth date prints in 西暦, everything else in 和暦
    assert parse_any_date("令和2年5月中旬頃").display(western=True) == "2020年5月中旬頃"
    assert parse_any_date("平成3年2月30日").display(western=True) == "1991年2月30日"
    assert parse_any_date("令和2年春").display(western=False) == "令和2年春"
    assert parse_any_date("2020-05-01").display(western=False) == "令和2年5月1日"
    assert parse_any_date("1989年頃").display(western=False) == "昭和64年頃"
    assert parse_any_date("1989年2月30日").display(western=False) == "平成元年2月30日"
    assert parse_any_date("1850年頃").display(western=False) == "1850年頃"
    assert parse_any_date("1850年頃").display(western=True) == "1850年頃"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": DateKind.UNKNOWN_ALL, "year": 2020},
        {"kind": DateKind.UNKNOWN_ALL, "era": Era.REIWA},
        {"kind": DateKind.EXACT, "era": Era.REIWA},
        {"kind": DateKind.EXACT, "era": Era.REIWA, "year": 2, "month": 5},
        {"kind": DateKind.EXACT, "era": Era.REIWA, "year": 2, "day": 5},
        {"kind": DateKind.ABOUT, "era": Era.REIWA, "year": 2, "day": 5},
        {"kind": DateKind.SEASON, "era": Era.REIWA, "year": 2},
        {"kind": DateKind.SEASON, "era": Era.REIWA, "year": 2, "month": 3, "season": Season.SPRING},
        {"kind": DateKind.ABOUT, "era": Era.REIWA, "year": 2, "season": Season.SPRING},
        {"kind": DateKind.UNKNOWN_MONTH_DAY, "era": Era.REIWA, "year": 2, "month": 3},
        {"kind": DateKind.ABOUT, "era": Era.REIWA, "year": 2, "about": True},
        {
            "kind": DateKind.EXACT,
            "era": Era.REIWA,
            "year": 2,
            "month": 5,
            "day": 1,
            "estimated": True,
        },
        {
            "kind": DateKind.EXACT,
            "era": Era.REIWA,
            "year": 2,
            "month": 5,
            "day": 1,
            "end_about": True,
        },
        {"kind": DateKind.EXACT, "era": Era.REIWA, "year": 2, "month": 5, "day": 1, "end_month": 6},
        {"kind": DateKind.EXACT, "era": Era.REIWA, "year": 2, "month": 5, "day": 1, "end_day": 6},
        {"kind": DateKind.RANGE, "era": Era.REIWA, "year": 2, "month": 5, "day": 1},
        {
            "kind": DateKind.RANGE,
            "era": Era.REIWA,
            "year": 2,
            "month": 5,
            "day": 1,
            "end_day": 3,
            "about": True,
            "estimated": True,
        },
        {"kind": DateKind.IMPOSSIBLE_CALENDAR, "era": Era.REIWA, "year": 2, "month": 5, "day": 1},
    ],
)
def test_uncertain_shape_errors(kwargs):
    # std 1.1.8 (j80): each kind has a fixed shape
    assert _code(lambda: UncertainDate(**kwargs)) == "wareki.uncertain_shape"


def test_uncertain_range_errors_on_construction():
    # std 1.1.8 (j80)
    assert _code(lambda: UncertainDate(DateKind.EXACT, None, 10000, 1, 1)) == "wareki.year_range"
    assert (
        _code(lambda: UncertainDate(DateKind.IMPOSSIBLE_CALENDAR, Era.REIWA, 2, 2, 32))
        == "wareki.invalid_date"
    )
    assert (
        _code(lambda: UncertainDate(DateKind.IMPOSSIBLE_CALENDAR, Era.REIWA, 2, 13, 30))
        == "wareki.invalid_date"
    )


# Kinds that can be built from any real day d, as the clerk would record it.
KINDS_FROM_A_DAY = [
    "exact",
    "about_y",
    "about_ym",
    "about_ymd",
    "estimated_y",
    "estimated_ym",
    "estimated_ymd",
    "season",
    "ten_days",
    "ten_days_about",
    "unknown_month_day",
    "unknown_day",
    "range",
]


def _recorded(d: date, how: str, western: bool) -> UncertainDate:
    """An UncertainDate whose period contains ``d``."""
    w = to_wareki(d)
    era, year = (None, d.year) if western else (w.era, w.year)
    m, day = d.month, d.day
    if how == "exact":
        return UncertainDate(DateKind.EXACT, era, year, m, day)
    if how.startswith(("about", "estimated")):
        kind = DateKind.ABOUT if how.startswith("about") else DateKind.ESTIMATED
        suffix = how.split("_")[1]
        return UncertainDate(
            kind, era, year, m if "m" in suffix else None, day if "d" in suffix else None
        )
    if how == "season":
        season = {3: Season.SPRING, 6: Season.SUMMER, 9: Season.AUTUMN}.get((m // 3) * 3)
        start = date(d.year if m >= 3 else d.year - 1, season.first_month if season else 12, 1)
        assume(start >= Era.MEIJI.start)
        ws = to_wareki(start)
        s_era, s_year = (None, start.year) if western else (ws.era, ws.year)
        return UncertainDate(DateKind.SEASON, s_era, s_year, season=season or Season.WINTER)
    if how.startswith("ten_days"):
        kind = DateKind.EARLY if day <= 10 else DateKind.MID if day <= 20 else DateKind.LATE
        return UncertainDate(kind, era, year, m, about=how.endswith("about"))
    if how == "unknown_month_day":
        return UncertainDate(DateKind.UNKNOWN_MONTH_DAY, era, year)
    if how == "unknown_day":
        return UncertainDate(DateKind.UNKNOWN_DAY, era, year, m)
    end = d + timedelta(days=3)
    end_month = end.month if end.month != m else None
    return UncertainDate(DateKind.RANGE, era, year, m, day, end_month=end_month, end_day=end.day)


@FAST
@given(
    st.dates(min_value=date(1868, 1, 25), max_value=date(2100, 12, 28)),
    st.sampled_from(KINDS_FROM_A_DAY),
    st.booleans(),
)
def test_uncertain_round_trips_and_sort_key_is_the_earliest_day(d, how, western):
    # std 1.1.8 (j80)
    value = _recorded(d, how, western)
    first, last = value.period()
    assert first <= d <= last
    assert value.sort_key <= d
    if value.era is not None:
        assert value.era.start <= value.sort_key
    assert UncertainDate.from_storage(value.to_storage()) == value
    assert parse_any_date(value.display()) == value


@FAST
@given(
    st.dates(min_value=date(1868, 1, 25), max_value=date(2100, 12, 28)),
    st.dates(min_value=date(1868, 1, 25), max_value=date(2100, 12, 28)),
    st.sampled_from(KINDS_FROM_A_DAY),
    st.booleans(),
)
def test_sort_keys_are_monotonic(d1, d2, how, western):
    # std 1.1.8 (j80): recording the same way, a later day never sorts earlier
    d1, d2 = sorted((d1, d2))
    assert _recorded(d1, how, western).sort_key <= _recorded(d2, how, western).sort_key


def test_qualifiers_sort_within_a_month():
    # std 1.1.8 (j80)
    texts = [
        "令和2年 月日不詳",
        "令和2年春",
        "令和2年5月 日不詳",
        "令和2年5月1日",
        "令和2年5月上旬",
        "令和2年5月10日頃",
        "令和2年5月中旬頃",
        "令和2年5月下旬",
        "令和2年5月31日",
        "令和2年夏",
        "令和2年冬",
    ]
    keys = [parse_any_date(t).sort_key for t in texts]
    assert keys == sorted(keys)
    assert parse_any_date("年月日不詳").sort_key < min(keys)


@FAST
@given(DATES)
def test_exact_dates_through_parse_any_date(d):
    # std 1.1.8 (j80): an exact day is kind EXACT and gives back the same date
    for text in (format_wareki(d), format_wareki_short(d), d.isoformat()):
        value = parse_any_date(text)
        assert value.kind is DateKind.EXACT
        assert value.as_date() == d
        assert UncertainDate.from_storage(value.to_storage()) == value
