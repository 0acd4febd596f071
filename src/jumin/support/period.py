"""The period of a support measure (std 3.4, j440): pure date arithmetic.

- A period is one year counted from its first day: the end is the day before the same date a
  year later (例: 令和2年4月1日 → 令和3年3月31日). When that date does not exist (a period
  starting on 2月29日), the year ends with February: 2024-02-29 → 2025-02-28 (民法第143条
  第2項: 応当する日がないときは、その月の末日に満了する).
- An extension is a new year counted from the day after the old end
  (延長前の期間の終了日の翌日から起算して1年間): 2025-03-31 → 2026-03-31, and 2027-02-28 →
  2028-02-29 (the new year starts on 2027-03-01 and ends the day before 2028-03-01).
- Extending is possible from one month before the end (期間終了日の1か月前から): the same
  day a month earlier, or the last day of that month when it is shorter (03-31 → 02-28/29).
- The alert "ends within a month" follows the same window.
"""

from __future__ import annotations

import calendar
import datetime as dt


def _same_day_years_later(day: dt.date, years: int) -> dt.date | None:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 2月29日 in a common year
        return None


def period_end(start: dt.date) -> dt.date:
    """The last day of a one-year period starting on ``start``."""
    anniversary = _same_day_years_later(start, 1)
    if anniversary is None:  # no 2月29日 next year: the period ends with February
        return dt.date(start.year + 1, 2, 28)
    return anniversary - dt.timedelta(days=1)


def extended_end(end: dt.date) -> dt.date:
    """The new end after an extension: one year counted from the day after ``end``."""
    return period_end(end + dt.timedelta(days=1))


def month_before(day: dt.date) -> dt.date:
    """The same day one month earlier, or the last day of the earlier month if shorter."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def extension_opens(end: dt.date) -> dt.date:
    """The first day an extension can be processed (one month before the end)."""
    return month_before(end)


def can_extend_on(end: dt.date, today: dt.date) -> bool:
    """True from one month before ``end`` on."""
    return today >= extension_opens(end)


def days_left(end: dt.date, today: dt.date) -> int:
    """Days from ``today`` to ``end`` (0 on the last day, negative once the period is over)."""
    return (end - today).days
