"""Settings of the support measures, read at each use: ``settings.JUMIN[<name>]`` if set
(tests), else the environment variable ``JUMIN_<name>``, else the default.

| variable | meaning | default |
|---|---|---|
| JUMIN_SUPPORT_ALERT_DAYS | home alerts list measures ending within this many days | ``30`` |
| JUMIN_SUPPORT_LIFT_MINUTES | a release for one request is valid this many minutes | ``30`` |
| JUMIN_SUPPORT_NOTICE_CONTACT | contact printed on the notice | the city's 住民記録担当 |
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def raw(name: str, default: str = "") -> str:
    conf: dict[str, Any] = getattr(settings, "JUMIN", {}) or {}
    if conf.get(name) is not None:
        return str(conf[name]).strip()
    return os.environ.get(f"JUMIN_{name}", default).strip()


def number(name: str, default: int, low: int, high: int) -> int:
    text = raw(name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise ImproperlyConfigured(
            f"JUMIN_{name} は整数で指定してください（指定値: {text!r}）。"
        ) from None
    if not low <= value <= high:
        raise ImproperlyConfigured(
            f"JUMIN_{name} は{low}から{high}までで指定してください（指定値: {value}）。"
        )
    return value


def alert_days() -> int:
    return number("SUPPORT_ALERT_DAYS", 30, 0, 366)


def lift_minutes() -> int:
    return number("SUPPORT_LIFT_MINUTES", 30, 1, 24 * 60)


def notice_contact() -> str:
    city = str((getattr(settings, "JUMIN", {}) or {}).get("MUNICIPALITY_NAME", ""))
    return raw("SUPPORT_NOTICE_CONTACT") or f"{city} 住民記録担当（支援措置）".strip()
