"""Template filters for the clerk screens: dates in 和暦 with the Western date beside them,
uncertain dates as recorded, and the Japanese labels of coded items.

``{% load jumin_format %}`` then ``{{ day|wareki }}`` (``令和8年11月26日`` with ``2026-11-26``
in small muted text), ``{{ day|wareki:"western" }}`` (the Western date first — std 1.1.9
(j90): a foreign resident's birth date and expiry of stay), ``{{ day|wareki_text }}`` (plain
text), ``{{ record|birth }}`` (the birth date as the register prints it, uncertain dates of
std 1.1.8 (j80) as recorded), ``{{ "1"|sex_label }}``, ``{{ "death"|reason_label }}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.wareki import UncertainDate, format_wareki, format_western

register = template.Library()

_SEX = {"1": "男", "2": "女"}
FOREIGN = "foreign"


def _day(value: dt.date) -> dt.date:
    """A datetime as the local day (an aware one in the site's time zone)."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def wareki_plain(value: Any) -> str:
    """``令和8年11月26日`` (a day before 明治 in the Western calendar); '' for no date."""
    if not isinstance(value, dt.date):
        return "" if value in (None, "") else str(value)
    value = _day(value)
    try:
        return format_wareki(value)
    except CoreError:
        return format_western(value)


@register.filter
def wareki_text(value: Any) -> str:
    return wareki_plain(value)


@register.filter
def wareki(value: Any, mode: str = "") -> SafeString | str:
    """The day in 和暦 with the Western date in small muted text (``mode="western"``: the
    Western date first, 和暦 beside it)."""
    if not isinstance(value, dt.date):
        return "" if value in (None, "") else str(value)
    value = _day(value)
    japanese = wareki_plain(value)
    iso = value.isoformat()
    if mode == "western":
        return format_html(
            '<time datetime="{}">{}</time> <small class="muted">（{}）</small>',
            iso,
            format_western(value),
            japanese,
        )
    return format_html(
        '<time datetime="{}">{}</time> <small class="muted">{}</small>', iso, japanese, iso
    )


def birth_text(record: Any) -> str:
    """The birth date as printed: an uncertain date as recorded (std 1.1.8), else 和暦 (a
    foreign resident's in the Western calendar, std 1.1.9)."""
    stored = getattr(record, "birth_date_text", "") or ""
    foreign = getattr(record, "resident_type", "") == FOREIGN
    if stored:
        try:
            return UncertainDate.from_storage(stored).display(western=True if foreign else None)
        except CoreError:
            return stored  # already display text
    day = getattr(record, "birth_date", None)
    if not isinstance(day, dt.date):
        return ""
    return format_western(day) if foreign else wareki_plain(day)


@register.filter
def birth(record: Any) -> SafeString | str:
    """The birth date of a record (or a search row) for a screen."""
    stored = getattr(record, "birth_date_text", "") or ""
    if stored:
        return format_html('<span class="uncertain">{}</span>', birth_text(record))
    day = getattr(record, "birth_date", None)
    foreign = getattr(record, "resident_type", "") == FOREIGN
    return wareki(day, "western" if foreign else "")


@register.filter
def sex_label(value: Any) -> str:
    return _SEX.get(str(value or ""), str(value or ""))


def reason_text(value: Any) -> str:
    if not value:
        return ""
    try:
        return ChangeReason(str(value)).label
    except ValueError:
        return str(value)


@register.filter
def reason_label(value: Any) -> str:
    """The Japanese name of a 異動事由 code (std 1.2.2, j210); an unknown code as is."""
    return reason_text(value)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ labels|get_item:code }}``: a dictionary's value ('' when missing)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
