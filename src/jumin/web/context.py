"""Template context shared by every clerk screen."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from jumin.accounts.permissions import Perm
from jumin.config.api import session_terminal


class _Can:
    """``{% if can.support %}``: whether the signed-in member of staff holds a permission,
    for showing menu entries only (the services check again)."""

    NAMES = {  # noqa: RUF012 - a constant table
        "support": Perm.SUPPORT_MEASURE_READ,
        "certificates": Perm.CERTIFICATE_ISSUE,
        "cs": Perm.JUKINET_MESSAGE_READ,
    }

    def __init__(self, user: Any) -> None:
        self.user = user

    def __getattr__(self, name: str) -> bool:
        perm = self.NAMES.get(name)
        if perm is None or self.user is None or not self.user.is_authenticated:
            return False
        return bool(self.user.has_permission(perm))


def jumin(request: HttpRequest) -> dict[str, Any]:
    conf = settings.JUMIN
    user = getattr(request, "user", None)
    return {
        "can": _Can(user),
        "jumin_mode": conf["MODE"],
        "jumin_demo": conf["MODE"] == "demo",
        "municipality_name": conf["MUNICIPALITY_NAME"],
        "web_terminal": (
            session_terminal(request) if user is not None and user.is_authenticated else None
        ),
    }
