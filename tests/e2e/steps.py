"""Steps the browser tests share: dates as a clerk types them, navigation, what is saved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils import timezone

FAMILY = [
    # (氏, 名, フリガナ, 生年月日 as typed (和暦), 性別, 続柄)
    ("相模", "太郎", "サガミ タロウ", "S55.4.1", "1", "世帯主"),
    ("相模", "花子", "サガミ ハナコ", "昭和57年6月15日", "2", "妻"),
    ("相模", "一郎", "サガミ イチロウ", "H22.1.20", "1", "子"),
    ("相模", "桜", "サガミ サクラ", "平成26年3月3日", "2", "子"),
]


def today() -> dt.date:
    return timezone.localdate()


def wareki(day: dt.date) -> str:
    """A date in the short 和暦 a clerk types: R8.11.26 (Reiwa only: the tests' dates are
    recent)."""
    assert day >= dt.date(2019, 5, 1), day
    return f"R{day.year - 2018}.{day.month}.{day.day}"


def wareki_long(day: dt.date) -> str:
    year = day.year - 2018
    return f"令和{'元' if year == 1 else year}年{day.month}月{day.day}日"


@contextmanager
def navigation(page: Any) -> Iterator[None]:
    """Wait for the page that the action inside loads."""
    with page.expect_navigation():
        yield
    page.wait_for_load_state()


def norm(text: str) -> str:
    """Text as compared in the tests: the full-width space between 氏 and 名 as a space."""
    return " ".join(text.replace("\u3000", " ").split())


def active_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement ? document.activeElement.id : ''"))


def active_text(page: Any) -> str:
    return str(
        page.evaluate("document.activeElement ? document.activeElement.textContent.trim() : ''")
    )


def focus_ring(page: Any) -> str:
    """The outline of the focused element (visible focus, WCAG 2.4.7)."""
    return str(
        page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle === 'none' ? '' : s.outlineStyle + ' ' + s.outlineWidth; })()"
        )
    )


def tab_to(page: Any, *, id: str = "", text: str = "", limit: int = 120) -> None:
    """Press Tab until the element with ``id`` (or the link/button reading ``text``) has the
    focus — the way a clerk moves through a screen without a mouse."""
    for _ in range(limit):
        if (id and active_id(page) == id) or (text and active_text(page) == text):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {id or text!r} (focus on {active_id(page)!r})")


def access_key(page: Any, letter: str) -> None:
    """Alt+<letter>, as a real keyboard sends it.

    Playwright's ``keyboard.press("Alt+n")`` sends the key without its text, and Chromium
    matches an ``accesskey`` on the key's unmodified text, so the access keys never fire that
    way; the DevTools protocol sends the same key event a keyboard would."""
    letter = letter.lower()
    session = page.context.new_cdp_session(page)
    try:
        key = {
            "modifiers": 1,  # Alt
            "key": letter,
            "code": f"Key{letter.upper()}",
            "windowsVirtualKeyCode": ord(letter.upper()),
            "nativeVirtualKeyCode": ord(letter.upper()),
        }
        session.send(
            "Input.dispatchKeyEvent",
            key | {"type": "keyDown", "text": letter, "unmodifiedText": letter},
        )
        session.send("Input.dispatchKeyEvent", key | {"type": "keyUp"})
    finally:
        session.detach()


def type_into(page: Any, id: str, value: str) -> None:
    """Tab to a text field, select what it holds and type over it."""
    tab_to(page, id=id)
    page.keyboard.press("Control+A")
    page.keyboard.type(value)


def changes() -> list[Any]:
    from jumin.register.models import Change

    return list(Change.objects.order_by("pk"))
