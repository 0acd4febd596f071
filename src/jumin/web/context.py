"""Template context shared by every clerk screen."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from jumin.config.api import session_terminal


def jumin(request: HttpRequest) -> dict[str, Any]:
    conf = settings.JUMIN
    user = getattr(request, "user", None)
    return {
        "jumin_mode": conf["MODE"],
        "jumin_demo": conf["MODE"] == "demo",
        "municipality_name": conf["MUNICIPALITY_NAME"],
        "web_terminal": (
            session_terminal(request) if user is not None and user.is_authenticated else None
        ),
    }
