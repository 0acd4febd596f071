"""The period of a support measure (std 3.4, j440): one year from the start, the end set
automatically (start + 1 year − 1 day), extension from one month before the end, a new year
counted from the day after the old end. Leap years follow 民法第143条."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jumin.support import period

D = dt.date


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (
            D(2020, 4, 1),
            D(2021, 3, 31),
        ),  # the standard's own example (令和2年4月1日 → 令和3年3月31日)
        (D(2024, 1, 1), D(2024, 12, 31)),
        (D(2024, 2, 29), D(2025, 2, 28)),  # no 2月29日 in 2025: the period ends with February
        (D(2023, 3, 1), D(2024, 2, 29)),  # the day before 2024-03-01 is the leap day
        (D(2024, 3, 1), D(2025, 2, 28)),
        (D(2023, 12, 31), D(2024, 12, 30)),
    ],
)
def test_the_end_is_set_one_year_minus_one_day_from_the_start(start, end):
    # std 3.4 (j440): 開始年月日を入力すると、終了年月日が自動的に設定
    assert period.period_end(start) == end


@pytest.mark.parametrize(
    ("old_end", "new_end"),
    [
        (D(2021, 3, 31), D(2022, 3, 31)),
        (D(2025, 2, 28), D(2026, 2, 28)),
        (D(2027, 2, 28), D(2028, 2, 29)),  # the new year 2027-03-01 … 2028-02-29
        (D(2028, 2, 29), D(2029, 2, 28)),
        (D(2024, 12, 31), D(2025, 12, 31)),
    ],
)
def test_an_extension_is_one_year_from_the_day_after_the_end(old_end, new_end):
    # std 3.4 (j440): 延長前の期間の終了日の翌日から起算して1年間
    assert period.extended_end(old_end) == new_end


@pytest.mark.parametrize(
    ("end", "opens"),
    [
        (D(2021, 3, 31), D(2021, 2, 28)),
        (D(2024, 3, 31), D(2024, 2, 29)),
        (D(2025, 5, 15), D(2025, 4, 15)),
        (D(2025, 1, 10), D(2024, 12, 10)),
        (D(2025, 2, 28), D(2025, 1, 28)),
    ],
)
def test_an_extension_opens_one_month_before_the_end(end, opens):
    # std 3.4 (j440): 支援措置の期間終了日の1か月前から延長処理を行える
    assert period.extension_opens(end) == opens
    assert period.can_extend_on(end, opens)
    assert not period.can_extend_on(end, opens - dt.timedelta(days=1))
    assert period.can_extend_on(end, end)
    assert period.can_extend_on(end, end + dt.timedelta(days=3))


def test_days_left_counts_to_the_last_day():
    assert period.days_left(D(2025, 3, 31), D(2025, 3, 31)) == 0
    assert period.days_left(D(2025, 3, 31), D(2025, 3, 1)) == 30
    assert period.days_left(D(2025, 3, 31), D(2025, 4, 1)) == -1


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31)))
def test_a_period_is_a_year_and_the_next_one_starts_the_day_after(start):
    end = period.period_end(start)
    assert 364 <= (end - start).days <= 365
    following = end + dt.timedelta(days=1)
    if (start.month, start.day) != (2, 29):
        assert (following.month, following.day) == (start.month, start.day)
    else:
        assert (following.month, following.day) in ((2, 29), (3, 1))
    assert period.extended_end(end) == period.period_end(following)
    assert period.extension_opens(end) < end
