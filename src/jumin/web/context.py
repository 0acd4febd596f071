"""Template context shared by every clerk screen."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def jumin(request: HttpRequest) -> dict[str, Any]:
    conf = settings.JUMIN
    return {
        "jumin_mode": conf["MODE"],
        "jumin_demo": conf["MODE"] == "demo",
        "municipality_name": conf["MUNICIPALITY_NAME"],
    }
