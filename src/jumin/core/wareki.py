"""和暦 (Japanese-era dates): conversion, formatting, parsing and uncertain dates.

Eras and boundaries (std 1.3.6, j280 — the era master; DOMAIN-NOTES §3)
-----------------------------------------------------------------------
明治 1868-01-25, 大正 1912-07-30, 昭和 1926-12-25, 平成 1989-01-08, 令和 2019-05-01. The first
year prints as 元年. An era's last day is the day before the next era's first day, except that
std 1.1.8 (j80) allows 明治45年7月30日 and 大正15年12月25日: on those days the era changed
during the day, so the day may be written in either era. Those two are the only overlaps;
昭和64年1月8日 and 平成31年5月1日 are rejected. :func:`to_wareki` always answers with the new
era (1912-07-30 → 大正元年7月30日).

明治1–5年 (before 1873-01-01) were lunisolar-calendar dates in the documents of the time. We
accept them and treat them day-for-day as Gregorian (明治5年12月2日 → 1872-12-02, historically
1872-12-31): order within the era is kept, the offset to a real Western date can be about a
month, and 明治元年1月1日–1月24日 fall before the era's Gregorian first day and are rejected.

A new era (std 1.3.6 asks for a parameter change) is one new :class:`Era` member plus one row
in ``_ERA_INFO``; nothing else in this module names a particular era.

Parsing (:func:`parse_date`) accepts what clerks type: ``R1.5.1``, ``r1.5.1``, ``令和元年5月1日``,
``令和1年5月1日``, ``令和元年五月一日``, ``令1.5.1``, ``H31/4/30``, ``R010501`` (era letter +
yymmdd), ``5010501`` (era digit 1=明治 … 5=令和 + yymmdd), ``2019-05-01``, ``2019/5/1``,
``20190501``, ``2019年5月1日``, full-width digits and letters, the square era signs (㋿, ㍻) and
surrounding or inner whitespace. Error codes (``WarekiError.code``): ``wareki.empty``,
``wareki.unparseable``, ``wareki.unknown_era``, ``wareki.year_range`` (year outside the era:
令和0年, 昭和65年), ``wareki.invalid_date`` (not a calendar day: 2月30日, 13月),
``wareki.era_range`` (a real day outside the era: 昭和64年1月8日), ``wareki.before_meiji``.

Uncertain dates (std 1.1.8, j80): see :class:`UncertainDate` and :func:`parse_any_date`.
"""

from __future__ import annotations

import calendar
import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from jumin.core.errors import WarekiError

__all__ = [
    "DateKind",
    "Era",
    "Season",
    "UncertainDate",
    "WarekiDate",
    "format_wareki",
    "format_wareki_code",
    "format_wareki_short",
    "format_western",
    "from_wareki",
    "parse_any_date",
    "parse_date",
    "to_wareki",
]

_FIELD = "年月日"
_EXAMPLES = "「R1.5.1」「令和元年5月1日」「2019-05-01」「20190501」"


# --------------------------------------------------------------------------- eras


class Era(enum.Enum):
    """A Japanese era. The value is the era digit used by Japanese systems (1=明治 … 5=令和)."""

    MEIJI = 1
    TAISHO = 2
    SHOWA = 3
    HEISEI = 4
    REIWA = 5

    @property
    def code(self) -> int:
        """The era digit (1=明治, 2=大正, 3=昭和, 4=平成, 5=令和)."""
        return self.value

    @property
    def kanji(self) -> str:
        return _ERA_INFO[self].kanji

    @property
    def letter(self) -> str:
        """The one-letter abbreviation (M, T, S, H, R)."""
        return _ERA_INFO[self].letter

    @property
    def start(self) -> date:
        """The era's first day."""
        return _ERA_INFO[self].start

    @property
    def next(self) -> Era | None:
        members = list(Era)
        index = members.index(self)
        return members[index + 1] if index + 1 < len(members) else None

    @property
    def end(self) -> date | None:
        """The last day that may be written in this era (``None`` for the current era).

        For 明治 and 大正 this is the next era's first day (std 1.1.8, j80).
        """
        nxt = self.next
        if nxt is None:
            return None
        return nxt.start if _ERA_INFO[self].shares_last_day else nxt.start - timedelta(days=1)

    @property
    def last_year(self) -> int | None:
        """The highest year number of the era (昭和 → 64), ``None`` for the current era."""
        end = self.end
        return None if end is None else end.year - self.start.year + 1

    @classmethod
    def for_date(cls, d: date) -> Era:
        """The era of ``d`` (the new era on an overlapping day); raises before 明治."""
        for era in reversed(list(cls)):
            if d >= era.start:
                return era
        raise WarekiError(
            "wareki.before_meiji",
            f"{_FIELD}「{d.year}年{d.month}月{d.day}日」は明治元年1月25日（1868年1月25日）より前の"
            "ため和暦で表せません。西暦で記録してください。",
        )

    @classmethod
    def from_label(cls, text: str) -> Era:
        """Era from its kanji (令和), one-kanji form (令), letter (R/r) or digit (5)."""
        label = unicodedata.normalize("NFKC", text).strip().upper()
        for era, info in _ERA_INFO.items():
            if label in (info.kanji, info.kanji[0], info.letter, str(era.value)):
                return era
        raise WarekiError(
            "wareki.unknown_era",
            f"{_FIELD}の元号「{text}」は使えません。明治・大正・昭和・平成・令和"
            "（M・T・S・H・R、または1～5）のいずれかで入力してください。",
        )


class _EraInfo(NamedTuple):
    kanji: str
    letter: str
    start: date
    shares_last_day: bool  # the next era's first day may also be written in this era


_ERA_INFO: dict[Era, _EraInfo] = {
    Era.MEIJI: _EraInfo("明治", "M", date(1868, 1, 25), True),
    Era.TAISHO: _EraInfo("大正", "T", date(1912, 7, 30), True),
    Era.SHOWA: _EraInfo("昭和", "S", date(1926, 12, 25), False),
    Era.HEISEI: _EraInfo("平成", "H", date(1989, 1, 8), False),
    Era.REIWA: _EraInfo("令和", "R", date(2019, 5, 1), False),
}


# --------------------------------------------------------------------------- conversion


@dataclass(frozen=True, slots=True)
class WarekiDate:
    """A calendar day written in an era. Construction validates it like :func:`from_wareki`."""

    era: Era
    year: int
    month: int
    day: int

    def __post_init__(self) -> None:
        from_wareki(self.era, self.year, self.month, self.day)

    def to_date(self) -> date:
        return from_wareki(self.era, self.year, self.month, self.day)

    def __str__(self) -> str:
        return _compose(self.era, self.year, self.month, self.day, gannen=True, kanji=False)


def to_wareki(d: date) -> WarekiDate:
    """The era date of ``d``; raises ``wareki.before_meiji`` before 1868-01-25."""
    era = Era.for_date(d)
    return WarekiDate(era, d.year - era.start.year + 1, d.month, d.day)


def _gregorian_year(era: Era | None, year: int, written: str) -> int:
    """The Western year of ``year`` in ``era`` (``None`` = already Western), range-checked."""
    if era is None:
        if not 1 <= year <= 9999:
            raise WarekiError(
                "wareki.year_range",
                f"{_FIELD}「{written}」の年が範囲外です。西暦の年は1～9999で入力してください。",
            )
        return year
    last = era.last_year
    if year < 1 or (last is not None and year > last) or era.start.year + year - 1 > 9999:
        span = f"元年から{last}年まで" if last is not None else "元年（1年）から"
        raise WarekiError(
            "wareki.year_range",
            f"{_FIELD}「{written}」の年が元号の範囲外です。{era.kanji}は{span}です。"
            "元号と年を確認して入力し直してください。",
        )
    return era.start.year + year - 1


def _invalid_date(written: str) -> WarekiError:
    return WarekiError(
        "wareki.invalid_date",
        f"{_FIELD}「{written}」は暦にない日付です。月は1～12、日はその月の日数以内"
        "で入力してください。",
    )


def _calendar_date(gyear: int, month: int, day: int, written: str) -> date:
    try:
        return date(gyear, month, day)
    except ValueError:
        raise _invalid_date(written) from None


def _era_range_error(era: Era, written: str) -> WarekiError:
    end = era.end
    last = "" if end is None else _compose(era, end.year - era.start.year + 1, end.month, end.day)
    first = _compose(era, 1, era.start.month, era.start.day)
    return WarekiError(
        "wareki.era_range",
        f"{_FIELD}「{written}」は{era.kanji}の期間（{first}～{last}）の外です。"
        "その日の元号で入力してください（例：昭和64年1月8日ではなく平成元年1月8日）。",
    )


def _in_era(era: Era, first: date, last: date) -> bool:
    """True when the days [first, last] overlap the days that may be written in ``era``."""
    end = era.end
    return last >= era.start and (end is None or first <= end)


def from_wareki(era: Era, year: int, month: int, day: int) -> date:
    """The Western date of an era date, with era-boundary validation.

    Raises ``wareki.year_range`` (令和0年, 昭和65年), ``wareki.invalid_date`` (2月30日) and
    ``wareki.era_range`` (昭和64年1月8日, 平成31年5月1日). 明治45年7月30日 and
    大正15年12月25日 are accepted (std 1.1.8, j80).
    """
    written = _compose(era, year, month, day, gannen=False)
    d = _calendar_date(_gregorian_year(era, year, written), month, day, written)
    if not _in_era(era, d, d):
        raise _era_range_error(era, written)
    return d


# --------------------------------------------------------------------------- formatting

_KANJI_DIGITS = "〇一二三四五六七八九"


def _kanji_number(n: int) -> str:
    """1–999 with 十/百 (三十一, 百二); larger numbers digit by digit (二〇一九)."""
    if n >= 1000:
        return "".join(_KANJI_DIGITS[int(c)] for c in str(n))
    hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
    text = ""
    if hundreds:
        text += ("" if hundreds == 1 else _KANJI_DIGITS[hundreds]) + "百"
    if tens:
        text += ("" if tens == 1 else _KANJI_DIGITS[tens]) + "十"
    if ones:
        text += _KANJI_DIGITS[ones]
    return text


def _num(n: int, kanji: bool) -> str:
    return _kanji_number(n) if kanji else str(n)


def _year_text(era: Era | None, year: int, *, gannen: bool = True, kanji: bool = False) -> str:
    if era is None:
        return f"{year}年"
    return f"{era.kanji}{'元' if gannen and year == 1 else _num(year, kanji)}年"


def _compose(
    era: Era | None, year: int, month: int, day: int, *, gannen: bool = True, kanji: bool = False
) -> str:
    year_text = _year_text(era, year, gannen=gannen, kanji=kanji)
    return f"{year_text}{_num(month, kanji)}月{_num(day, kanji)}日"


def format_wareki(d: date, *, gannen: bool = True, kanji_numerals: bool = False) -> str:
    """``令和元年5月1日`` (``令和1年5月1日`` without gannen; ``令和元年五月一日`` in kanji).

    std 1.1.9 (j90): the form for certificates and screens, except a foreign resident's birth
    date and period-of-stay expiry (use :func:`format_western`).
    """
    w = to_wareki(d)
    return _compose(w.era, w.year, w.month, w.day, gannen=gannen, kanji=kanji_numerals)


def format_wareki_short(d: date) -> str:
    """``R1.5.1``: era letter, year, month, day without padding."""
    w = to_wareki(d)
    return f"{w.era.letter}{w.year}.{w.month}.{w.day}"


def format_wareki_code(d: date, *, numeric: bool = False) -> str:
    """Seven-character era code: ``R010501`` (or ``5010501`` with ``numeric=True``).

    Raises ``wareki.year_range`` when the era year needs more than two digits.
    """
    w = to_wareki(d)
    if w.year > 99:
        raise WarekiError(
            "wareki.year_range",
            f"{_FIELD}「{format_wareki(d)}」は元号の年が3桁のため7桁の元号コード形式で"
            "表せません。西暦8桁（YYYYMMDD）の形式を使ってください。",
        )
    head = str(w.era.code) if numeric else w.era.letter
    return f"{head}{w.year:02d}{w.month:02d}{w.day:02d}"


def format_western(d: date) -> str:
    """``2019年5月1日``: std 1.1.9 (j90) — a foreign resident's birth date and expiry of stay."""
    return f"{d.year}年{d.month}月{d.day}日"


# --------------------------------------------------------------------------- parsing

_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70]")
_NUM = r"[0-9]+|元|[〇一二三四五六七八九十百]+"
# Characters that may make up an era label: anything but numbers and the date grammar's words.
_ERA_LABEL = r"[^0-9元〇一二三四五六七八九十百年月日頃旬春夏秋冬推定からまでの間不詳./\-]{0,4}"
_KANJI_NUMBER = re.compile(
    r"(?:([一二三四五六七八九])?(百))?(?:([一二三四五六七八九])?(十))?([一二三四五六七八九])?"
)

_WESTERN_COMPACT = re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")
_ERA_COMPACT = re.compile(r"(?P<era>[A-Z0-9])(?P<y>[0-9]{2})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")
_WESTERN_DOTTED = re.compile(r"(?P<y>[0-9]{4})[./-](?P<m>[0-9]{1,2})[./-](?P<d>[0-9]{1,2})")
_ERA_DOTTED = re.compile(
    rf"(?P<era>[A-Z]|{_ERA_LABEL})(?P<y>[0-9]{{1,4}}|元)[./-](?P<m>[0-9]{{1,2}})[./-](?P<d>[0-9]{{1,2}})"
)
_E = rf"(?P<era>{_ERA_LABEL})"
_Y = rf"(?P<y>{_NUM})年"
_M = rf"(?P<m>{_NUM})月"
_D = rf"(?P<d>{_NUM})日"
_KANJI_FORM = re.compile(rf"{_E}{_Y}{_M}{_D}")

# std 1.1.8 (j80) 不詳日入力一覧, after whitespace is removed.
_UNKNOWN_ALL = re.compile(r"(?:年月日)?不詳")
_ESTIMATED = re.compile(rf"推定{_E}{_Y}(?:{_M}(?:{_D})?)?")
_UNKNOWN_MONTH_DAY = re.compile(rf"{_E}{_Y}月日不詳")
_UNKNOWN_DAY = re.compile(rf"{_E}{_Y}{_M}日不詳")
_TEN_DAYS = re.compile(rf"{_E}{_Y}{_M}(?P<part>[上中下])旬(?P<about>頃)?")
_SEASON = re.compile(rf"{_E}{_Y}(?P<season>[春夏秋冬])")
_ABOUT = re.compile(rf"{_E}{_Y}(?:{_M}(?:{_D})?)?頃")
_RANGE = re.compile(
    rf"{_E}{_Y}{_M}(?P<estimated>推定)?{_D}(?P<about>頃)?から"
    rf"(?:(?P<m2>{_NUM})月)?(?P<d2>{_NUM})日(?P<end_about>頃)?まで(?:の間)?"
)


def _clean(text: str) -> str:
    """NFKC (full-width → half-width, ㋿ → 令和), unify dashes, drop all whitespace, upper-case."""
    return re.sub(r"\s+", "", _DASHES.sub("-", unicodedata.normalize("NFKC", text))).upper()


def _unparseable(text: str) -> WarekiError:
    return WarekiError(
        "wareki.unparseable",
        f"{_FIELD}「{text}」を日付として読み取れません。{_EXAMPLES}などの形式で入力してください。",
    )


def _to_int(numeral: str, text: str) -> int:
    if numeral == "元":
        return 1
    if numeral.isascii():
        return int(numeral)
    match = _KANJI_NUMBER.fullmatch(numeral)
    if match and any(match.groups()):
        h, hundred, t, ten, o = match.groups()
        value = (_KANJI_DIGITS.index(h) if h else 1) * 100 if hundred else 0
        value += (_KANJI_DIGITS.index(t) if t else 1) * 10 if ten else 0
        return value + (_KANJI_DIGITS.index(o) if o else 0)
    if all(c in _KANJI_DIGITS for c in numeral):  # positional: 二〇一九
        return int("".join(str(_KANJI_DIGITS.index(c)) for c in numeral))
    raise _unparseable(text)


class _Parts(NamedTuple):
    era: Era | None
    year: int
    month: int | None
    day: int | None


def _parts(match: re.Match[str], text: str) -> _Parts:
    """Era, year, month and day of a match; ``era=None`` is a Western year (4 digits)."""
    groups = match.groupdict()
    label = groups.get("era") or ""
    era = Era.from_label(label) if label else None
    if era is None and not re.fullmatch(r"[0-9]{4}", groups["y"]):
        raise _unparseable(text)
    month, day = groups.get("m"), groups.get("d")
    return _Parts(
        era,
        _to_int(groups["y"], text),
        None if month is None else _to_int(month, text),
        None if day is None else _to_int(day, text),
    )


def _exact_parts(cleaned: str, text: str) -> _Parts:
    """Parts of an exact-date form (any of the forms clerks type), or ``wareki.unparseable``."""
    for pattern in (_WESTERN_COMPACT, _ERA_COMPACT, _WESTERN_DOTTED, _ERA_DOTTED, _KANJI_FORM):
        match = pattern.fullmatch(cleaned)
        if match:
            return _parts(match, text)
    raise _unparseable(text)


def _require_text(text: str) -> tuple[str, str]:
    original = text.strip()
    cleaned = _clean(text)
    if not cleaned:
        raise WarekiError(
            "wareki.empty",
            f"{_FIELD}が入力されていません。{_EXAMPLES}などの形式で入力してください。",
        )
    return original, cleaned


def parse_date(text: str) -> date:
    """Parse an exact date as clerks type it (see the module docstring for the forms)."""
    original, cleaned = _require_text(text)
    era, year, month, day = _exact_parts(cleaned, original)
    assert month is not None and day is not None
    if era is None:
        return _calendar_date(year, month, day, original)
    return from_wareki(era, year, month, day)


# --------------------------------------------------------------------------- uncertain dates


class DateKind(enum.StrEnum):
    """How much of a date is known (std 1.1.8, j80 不詳日入力一覧). Values are stored."""

    EXACT = "exact"  # 令和2年5月1日
    ABOUT = "about"  # 令和2年頃 / 令和2年5月頃 / 令和2年5月1日頃
    ESTIMATED = "estimated"  # 推定令和2年5月1日 / 推定令和2年5月 / 推定令和2年
    SEASON = "season"  # 令和2年春
    EARLY = "early"  # 令和2年5月上旬(頃)
    MID = "mid"  # 令和2年5月中旬(頃)
    LATE = "late"  # 令和2年5月下旬(頃)
    UNKNOWN_ALL = "unknown_all"  # 年月日不詳
    UNKNOWN_MONTH_DAY = "unknown_month_day"  # 令和2年 月日不詳
    UNKNOWN_DAY = "unknown_day"  # 令和2年5月 日不詳
    RANGE = "range"  # 令和2年5月1日から6月3日頃までの間, …
    IMPOSSIBLE_CALENDAR = "impossible_calendar"  # 平成3年2月30日 (not a calendar day)


class Season(enum.StrEnum):
    """春夏秋冬 as meteorological seasons: 春 3–5月, 夏 6–8月, 秋 9–11月, 冬 12月–翌2月."""

    SPRING = "spring"
    SUMMER = "summer"
    AUTUMN = "autumn"
    WINTER = "winter"

    @property
    def kanji(self) -> str:
        return {"spring": "春", "summer": "夏", "autumn": "秋", "winter": "冬"}[self.value]

    @property
    def first_month(self) -> int:
        return {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}[self.value]

    @classmethod
    def from_kanji(cls, kanji: str) -> Season:
        return next(season for season in cls if season.kanji == kanji)


_TEN_DAY_KINDS = {"上": DateKind.EARLY, "中": DateKind.MID, "下": DateKind.LATE}
_TEN_DAY_TEXT = {DateKind.EARLY: "上旬", DateKind.MID: "中旬", DateKind.LATE: "下旬"}
_TEN_DAY_SPAN = {DateKind.EARLY: (1, 10), DateKind.MID: (11, 20), DateKind.LATE: (21, 31)}
_PARTIAL_KINDS = frozenset({DateKind.ABOUT, DateKind.ESTIMATED})
_NEEDS_MONTH = frozenset(
    {
        DateKind.EXACT,
        DateKind.IMPOSSIBLE_CALENDAR,
        DateKind.EARLY,
        DateKind.MID,
        DateKind.LATE,
        DateKind.UNKNOWN_DAY,
        DateKind.RANGE,
    }
)
_NEEDS_DAY = frozenset({DateKind.EXACT, DateKind.IMPOSSIBLE_CALENDAR, DateKind.RANGE})
_CALENDAR_WESTERN = "AD"


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass(frozen=True, slots=True)
class UncertainDate:
    """A date as recorded, possibly uncertain (std 1.1.8, j80).

    Holds the parts as written — ``era`` (``None`` for a Western year), ``year`` (era year or
    Western year), ``month``, ``day`` — and the qualifier ``kind``. Extra parts: ``season``
    (SEASON); ``about`` (頃 after 上旬/中旬/下旬, or after a RANGE's start day); ``estimated``
    (推定 before a RANGE's start day); ``end_month`` (written month of a RANGE's end, ``None``
    when the end is in the start's month, or the next one if that is earlier), ``end_day`` and
    ``end_about`` (頃 after the end day).

    Construction validates everything, raising :class:`WarekiError`: the shape for the kind
    (``wareki.uncertain_shape``), ``wareki.year_range``, ``wareki.invalid_date``,
    ``wareki.era_range`` (the period must overlap the era; a RANGE must start in it) and
    ``wareki.range_order``.

    ``sort_key`` (a real date for sorting and age calculation) is the EARLIEST day the value
    can mean, clamped up to the era's first day: unknown month → 1月1日, unknown day → 1日,
    上旬/中旬/下旬 → 1日/11日/21日, 春/夏/秋/冬 → 3月1日/6月1日/9月1日/12月1日, RANGE → its start;
    頃 and 推定 do not move it. IMPOSSIBLE_CALENDAR → the last real day of that month
    (平成3年2月30日 → 1991-02-28). UNKNOWN_ALL → ``date.min`` (0001-01-01): callers computing an
    age must check ``kind`` first.
    """

    kind: DateKind
    era: Era | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    season: Season | None = None
    about: bool = False
    estimated: bool = False
    end_month: int | None = None
    end_day: int | None = None
    end_about: bool = False

    # ------------------------------------------------------------------ construction

    def __post_init__(self) -> None:
        self._check_shape()
        if self.kind is DateKind.UNKNOWN_ALL:
            return
        first, last = self._window()
        if self.era is not None and not _in_era(self.era, first, last):
            raise _era_range_error(self.era, self.display())

    @classmethod
    def from_date(cls, d: date, *, western: bool = False) -> UncertainDate:
        """An EXACT value for ``d``, written in its era (or the Western calendar)."""
        if western:
            return cls(DateKind.EXACT, None, d.year, d.month, d.day)
        w = to_wareki(d)
        return cls(DateKind.EXACT, w.era, w.year, w.month, w.day)

    @classmethod
    def unknown(cls) -> UncertainDate:
        """年月日不詳."""
        return cls(DateKind.UNKNOWN_ALL)

    def _shape_error(self, rule: str) -> WarekiError:
        return WarekiError(
            "wareki.uncertain_shape",
            f"{_FIELD}（不詳日「{self.kind.value}」）の構成が正しくありません：{rule}。"
            "不詳日入力一覧の形式に合わせて指定してください。",
        )

    def _check_shape(self) -> None:
        kind = self.kind
        if kind is DateKind.UNKNOWN_ALL:
            if any(v is not None for v in (self.era, self.year, self.month, self.day)):
                raise self._shape_error("年月日不詳には年・月・日を指定できません")
        elif self.year is None:
            raise self._shape_error("年が必要です")
        if (kind in _NEEDS_MONTH) != (self.month is not None) and kind not in _PARTIAL_KINDS:
            raise self._shape_error("月の有無がこの種類と合いません")
        if (kind in _NEEDS_DAY) != (self.day is not None) and kind not in _PARTIAL_KINDS:
            raise self._shape_error("日の有無がこの種類と合いません")
        if self.day is not None and self.month is None:
            raise self._shape_error("日を指定するときは月も必要です")
        if (kind is DateKind.SEASON) != (self.season is not None):
            raise self._shape_error("季節（春夏秋冬）は季節の不詳日にだけ指定します")
        if self.about and kind not in (DateKind.EARLY, DateKind.MID, DateKind.LATE, DateKind.RANGE):
            raise self._shape_error("「頃」の指定は上旬・中旬・下旬と期間にだけ使えます")
        if kind is not DateKind.RANGE and (
            self.estimated or self.end_about or self.end_month is not None
        ):
            raise self._shape_error("期間の終わりと「推定」の指定は期間にだけ使えます")
        if kind is DateKind.RANGE and self.end_day is None:
            raise self._shape_error("期間には終わりの日が必要です")
        if kind is not DateKind.RANGE and self.end_day is not None:
            raise self._shape_error("期間の終わりの日は期間にだけ指定します")
        if self.about and self.estimated:
            raise self._shape_error("「頃」と「推定」は同時に指定できません")

    def _gyear(self) -> int:
        assert self.year is not None
        return _gregorian_year(self.era, self.year, self.display())

    def _window(self) -> tuple[date, date]:
        """The days that must overlap the era: the period, or a RANGE's start day."""
        first, last = self.period()
        return (first, first) if self.kind is DateKind.RANGE else (first, last)

    # ------------------------------------------------------------------ meaning

    def period(self) -> tuple[date, date]:
        """First and last day the value can mean (UNKNOWN_ALL: ``date.min``, ``date.max``)."""
        kind = self.kind
        if kind is DateKind.UNKNOWN_ALL:
            return date.min, date.max
        gyear = self._gyear()
        written = self.display()
        if kind is DateKind.SEASON:
            assert self.season is not None
            first = date(gyear, self.season.first_month, 1)
            if self.season is Season.WINTER:
                last = date(gyear + 1, 2, _last_day(gyear + 1, 2)) if gyear < 9999 else date.max
            else:
                last = date(gyear, self.season.first_month + 2, 1)
                last = last.replace(day=_last_day(gyear, last.month))
            return first, last
        if self.month is None:
            return date(gyear, 1, 1), date(gyear, 12, 31)
        if not 1 <= self.month <= 12:
            raise _invalid_date(written)
        month_end = _last_day(gyear, self.month)
        if kind is DateKind.IMPOSSIBLE_CALENDAR:
            assert self.day is not None
            if not 1 <= self.day <= 31:
                raise _invalid_date(written)
            if self.day <= month_end:
                raise self._shape_error("暦にある日付は暦外日ではなく確定日（EXACT）で指定します")
            clamped = date(gyear, self.month, month_end)
            return clamped, clamped
        if kind in _TEN_DAY_SPAN:
            low, high = _TEN_DAY_SPAN[kind]
            return date(gyear, self.month, low), date(gyear, self.month, min(high, month_end))
        if self.day is None:
            return date(gyear, self.month, 1), date(gyear, self.month, month_end)
        start = _calendar_date(gyear, self.month, self.day, written)
        if kind is not DateKind.RANGE:
            return start, start
        return start, self._range_end(start, written)

    def _range_end(self, start: date, written: str) -> date:
        assert self.end_day is not None
        end_month = start.month if self.end_month is None else self.end_month
        end_year = start.year + 1 if end_month < start.month else start.year
        end = _calendar_date(end_year, end_month, self.end_day, written)
        if end <= start:
            raise WarekiError(
                "wareki.range_order",
                f"{_FIELD}「{written}」の期間の終わりが始まりと同じか前になっています。"
                "始まりより後の日を終わりに入力してください。",
            )
        return end

    @property
    def sort_key(self) -> date:
        """A real date for sorting and age calculation (rules in the class docstring)."""
        first, _ = self.period()
        if self.era is not None and first < self.era.start:
            return self.era.start
        return first

    @property
    def is_exact(self) -> bool:
        return self.kind is DateKind.EXACT

    def as_date(self) -> date:
        """The date of an EXACT value; ``wareki.not_exact`` for any other kind."""
        if self.kind is not DateKind.EXACT:
            raise WarekiError(
                "wareki.not_exact",
                f"{_FIELD}「{self.display()}」は不詳日のため確定した日付として使えません。"
                "確定した年月日を入力するか、不詳日として扱ってください。",
            )
        return self.sort_key

    # ------------------------------------------------------------------ display

    def display(self, *, western: bool | None = None) -> str:
        """The text as the register prints it: ``令和2年頃``, ``昭和50年3月上旬``, ``年月日不詳``.

        ``western=None`` prints the calendar as recorded; ``True`` forces the Western calendar
        (std 1.1.9, j90: a foreign resident's birth date); ``False`` forces 和暦, taking the era
        of ``sort_key`` for a Western value (kept Western before 明治).
        """
        kind = self.kind
        if kind is DateKind.UNKNOWN_ALL:
            return "年月日不詳"
        assert self.year is not None
        era, year = self._display_calendar(western)
        y = _year_text(era, year)
        m = "" if self.month is None else f"{self.month}月"
        d = "" if self.day is None else f"{self.day}日"
        if kind is DateKind.ABOUT:
            return f"{y}{m}{d}頃"
        if kind is DateKind.ESTIMATED:
            return f"推定{y}{m}{d}"
        if kind is DateKind.SEASON:
            assert self.season is not None
            return f"{y}{self.season.kanji}"
        if kind in _TEN_DAY_TEXT:
            return f"{y}{m}{_TEN_DAY_TEXT[kind]}{'頃' if self.about else ''}"
        if kind is DateKind.UNKNOWN_MONTH_DAY:
            return f"{y} 月日不詳"
        if kind is DateKind.UNKNOWN_DAY:
            return f"{y}{m} 日不詳"
        if kind is DateKind.RANGE:
            start = f"{m}{'推定' if self.estimated else ''}{d}{'頃' if self.about else ''}"
            end_m = "" if self.end_month is None else f"{self.end_month}月"
            end = f"{end_m}{self.end_day}日{'頃' if self.end_about else ''}"
            return f"{y}{start}から{end}までの間"
        return f"{y}{m}{d}"  # EXACT, IMPOSSIBLE_CALENDAR

    def _display_calendar(self, western: bool | None) -> tuple[Era | None, int]:
        assert self.year is not None
        if western is None or (western is False and self.era is not None):
            return self.era, self.year
        if western:
            gyear = self.year if self.era is None else self.era.start.year + self.year - 1
            return None, gyear
        key = self.sort_key
        if key < Era.MEIJI.start:
            return None, self.year
        era = Era.for_date(key)
        return era, self.year - era.start.year + 1

    def __str__(self) -> str:
        return self.display()

    # ------------------------------------------------------------------ storage

    def to_storage(self) -> str:
        """A compact, stable ASCII form for one database column (store ``sort_key`` beside it).

        ``kind|calendar|year|month|day|detail``: ``kind`` is the DateKind value; ``calendar``
        the era letter (M/T/S/H/R), ``AD`` for a Western year, empty for 年月日不詳; year,
        month and day in decimal without padding, empty when unknown; ``detail`` a comma list
        of the non-default extras in this order: ``season=<Season value>``, ``about=1``,
        ``estimated=1``, ``end_month=<n>``, ``end_day=<n>``, ``end_about=1``. Examples:
        ``exact|R|2|5|1|``, ``about|S|50|||``, ``mid|S|50|3||about=1``, ``unknown_all|||||``,
        ``range|R|2|5|1|end_month=6,end_day=3,end_about=1``.
        """
        if self.kind is DateKind.UNKNOWN_ALL:
            calendar_text = ""
        else:
            calendar_text = _CALENDAR_WESTERN if self.era is None else self.era.letter
        detail: list[str] = []
        if self.season is not None:
            detail.append(f"season={self.season.value}")
        if self.about:
            detail.append("about=1")
        if self.estimated:
            detail.append("estimated=1")
        if self.end_month is not None:
            detail.append(f"end_month={self.end_month}")
        if self.end_day is not None:
            detail.append(f"end_day={self.end_day}")
        if self.end_about:
            detail.append("end_about=1")
        fields = [self.kind.value, calendar_text]
        fields += ["" if v is None else str(v) for v in (self.year, self.month, self.day)]
        return "|".join([*fields, ",".join(detail)])

    @classmethod
    def from_storage(cls, stored: str) -> UncertainDate:
        """Inverse of :meth:`to_storage`; ``wareki.storage`` for anything not in canonical form."""
        fields = stored.split("|")
        try:
            if len(fields) != 6:
                raise ValueError("field count")
            kind_text, calendar_text, year, month, day, detail = fields
            extras: dict[str, str] = {}
            for item in filter(None, detail.split(",")):
                key, _, item_value = item.partition("=")
                extras[key] = item_value
            value = cls(
                kind=DateKind(kind_text),
                era=_storage_era(calendar_text),
                year=_storage_int(year),
                month=_storage_int(month),
                day=_storage_int(day),
                season=Season(extras.pop("season")) if "season" in extras else None,
                about=extras.pop("about", "") == "1",
                estimated=extras.pop("estimated", "") == "1",
                end_month=_storage_int(extras.pop("end_month", "")),
                end_day=_storage_int(extras.pop("end_day", "")),
                end_about=extras.pop("end_about", "") == "1",
            )
        except (ValueError, WarekiError):
            value = None
        if value is None or value.to_storage() != stored:
            raise WarekiError(
                "wareki.storage",
                f"保存された{_FIELD}「{stored}」の形式が正しくありません。"
                "データが壊れている可能性があります。システム管理者に連絡してください。",
            )
        return value


def _storage_era(text: str) -> Era | None:
    if text in ("", _CALENDAR_WESTERN):
        return None
    for era in Era:
        if era.letter == text:
            return era
    raise ValueError(text)


def _storage_int(text: str) -> int | None:
    if text == "":
        return None
    if not re.fullmatch(r"[1-9][0-9]*", text):
        raise ValueError(text)
    return int(text)


def parse_any_date(text: str) -> UncertainDate:
    """Parse an exact or uncertain date (std 1.1.8, j80) into an :class:`UncertainDate`.

    An exact day comes back as kind EXACT (``.as_date()`` gives the date); a day that does not
    exist in the calendar but has month 1–12 and day 1–31 (2月30日, 平年の2月29日) comes back as
    IMPOSSIBLE_CALENDAR. Every form of :func:`parse_date` is accepted, plus the patterns of
    the 不詳日入力一覧 (whitespace is ignored, so ``令和2年 月日不詳`` and ``令和2年月日不詳`` are
    the same). Errors are those of :func:`parse_date` and of :class:`UncertainDate`.
    """
    original, cleaned = _require_text(text)
    if _UNKNOWN_ALL.fullmatch(cleaned):
        return UncertainDate.unknown()
    simple = (
        (_ESTIMATED, DateKind.ESTIMATED),
        (_UNKNOWN_MONTH_DAY, DateKind.UNKNOWN_MONTH_DAY),
        (_UNKNOWN_DAY, DateKind.UNKNOWN_DAY),
        (_ABOUT, DateKind.ABOUT),
    )
    for pattern, kind in simple:
        match = pattern.fullmatch(cleaned)
        if match:
            era, year, month, day = _parts(match, original)
            return UncertainDate(kind, era, year, month, day)
    match = _TEN_DAYS.fullmatch(cleaned)
    if match:
        era, year, month, _ = _parts(match, original)
        kind = _TEN_DAY_KINDS[match["part"]]
        return UncertainDate(kind, era, year, month, about=bool(match["about"]))
    match = _SEASON.fullmatch(cleaned)
    if match:
        era, year, _, _ = _parts(match, original)
        season = Season.from_kanji(match["season"])
        return UncertainDate(DateKind.SEASON, era, year, season=season)
    match = _RANGE.fullmatch(cleaned)
    if match:
        era, year, month, day = _parts(match, original)
        return UncertainDate(
            DateKind.RANGE,
            era,
            year,
            month,
            day,
            about=bool(match["about"]),
            estimated=bool(match["estimated"]),
            end_month=None if match["m2"] is None else _to_int(match["m2"], original),
            end_day=_to_int(match["d2"], original),
            end_about=bool(match["end_about"]),
        )
    era, year, month, day = _exact_parts(cleaned, original)
    assert month is not None and day is not None
    gyear = _gregorian_year(era, year, original)
    exists = 1 <= month <= 12 and 1 <= day <= _last_day(gyear, month)
    impossible = not exists and 1 <= month <= 12 and 1 <= day <= 31
    kind = DateKind.IMPOSSIBLE_CALENDAR if impossible else DateKind.EXACT
    return UncertainDate(kind, era, year, month, day)
