"""Japanese public holidays (国民の祝日) and the city's closed days, for the 深夜・休業日アクセス
一覧 of std 10.2 (j1370). Pure functions, computed — no table to keep up to date.

Covers the 祝日法 as in force since 2020 (with the Olympic moves of 2020 and 2021), 振替休日
(a holiday on a Sunday moves to the next weekday that is not a holiday) and 国民の休日 (a day
between two holidays). 春分・秋分 use the usual approximation valid for 1980–2099 (the Cabinet
Office announces the exact day a year ahead; they have always agreed in that range).
Closed days (休業日) = Saturdays, Sundays, holidays and 年末年始 (12/29–1/3).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

YEAR_END = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))


def _nth_monday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (0 - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def _equinox(year: int, base: float) -> int:
    return int(base + 0.242194 * (year - 1980) - (year - 1980) // 4)


@lru_cache(maxsize=256)
def holidays(year: int) -> dict[dt.date, str]:
    """The year's holidays, by date, with their names."""
    d = dt.date
    days: dict[dt.date, str] = {
        d(year, 1, 1): "元日",
        _nth_monday(year, 1, 2): "成人の日",
        d(year, 2, 11): "建国記念の日",
        d(year, 3, _equinox(year, 20.8431)): "春分の日",
        d(year, 4, 29): "昭和の日",
        d(year, 5, 3): "憲法記念日",
        d(year, 5, 4): "みどりの日",
        d(year, 5, 5): "こどもの日",
        _nth_monday(year, 9, 3): "敬老の日",
        d(year, 9, _equinox(year, 23.2488)): "秋分の日",
        d(year, 11, 3): "文化の日",
        d(year, 11, 23): "勤労感謝の日",
    }
    if year >= 2020:
        days[d(year, 2, 23)] = "天皇誕生日"
    elif year <= 2018:
        days[d(year, 12, 23)] = "天皇誕生日"
    special = {
        2020: (d(2020, 7, 23), d(2020, 7, 24), d(2020, 8, 10)),
        2021: (d(2021, 7, 22), d(2021, 7, 23), d(2021, 8, 8)),
    }
    if year in special:
        marine, sports, mountain = special[year]
    else:
        marine, sports, mountain = (
            _nth_monday(year, 7, 3),
            _nth_monday(year, 10, 2),
            d(year, 8, 11),
        )
    days[marine] = "海の日"
    days[sports] = "スポーツの日" if year >= 2020 else "体育の日"
    days[mountain] = "山の日"
    # 国民の休日: a weekday squeezed between two holidays
    for day in sorted(days):
        between = day + dt.timedelta(days=1)
        if (
            between not in days
            and between + dt.timedelta(days=1) in days
            and between.weekday() != 6
        ):
            days[between] = "国民の休日"
    # 振替休日: a holiday on Sunday → the next day that is not a holiday
    for day in sorted(days):
        if day.weekday() == 6:
            moved = day + dt.timedelta(days=1)
            while moved in days:
                moved += dt.timedelta(days=1)
            days[moved] = "振替休日"
    return days


def holiday_name(day: dt.date) -> str:
    return holidays(day.year).get(day, "")


def closed_reason(day: dt.date) -> str:
    """Why the city's offices are closed on ``day`` ("" when they are open)."""
    name = holiday_name(day)
    if name:
        return name
    if (day.month, day.day) in YEAR_END:
        return "年末年始"
    if day.weekday() == 5:
        return "土曜日"
    if day.weekday() == 6:
        return "日曜日"
    return ""


def is_night(moment: dt.time, start: dt.time, end: dt.time) -> bool:
    """Inside the night hours [start, end), which may cross midnight."""
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end
