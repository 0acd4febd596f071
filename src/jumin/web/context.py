"""Template context shared by every clerk screen."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from jumin.accounts.permissions import Perm
from jumin.authn.services import FACTOR_PASSWORD_ONLY_DEMO, SESSION_FACTOR_KEY
from jumin.config.api import session_terminal
from jumin.web.route_perms import rule_for


class _Can:
    """``{% if can.support %}``: whether the signed-in member of staff may open the screen a
    menu entry leads to — the rule of ``jumin.web.route_perms`` for that route, so the menu
    shows exactly what the door lets through (the middleware and the services check again)."""

    ROUTES = {  # noqa: RUF012 - a constant table: menu entry -> the route it opens
        "search": "web:search",
        "enter": "web:procedures",
        "review": "web:review",
        "support": "web:support_list",
        "certificates": "web:certificates",
        "cs": "web:cs_status",
        "cs_query": "web:cs_query",
        "audit": "web:audit_search",
        "audit_verify": "web:audit_verify",
        "staff_manage": "web:admin_staff_list",
    }

    def __init__(self, user: Any) -> None:
        self.user = user
        self._held: frozenset[Perm] | None = None

    def __getattr__(self, name: str) -> bool:
        route = self.ROUTES.get(name)
        rule = rule_for(route) if route is not None else None
        if rule is None or self.user is None or not self.user.is_authenticated:
            return False
        if self._held is None:
            self._held = frozenset(
                p for p in self.user.permission_set() if self.user.has_permission(p)
            )
        return rule.allows(self._held)


def jumin(request: HttpRequest) -> dict[str, Any]:
    conf = settings.JUMIN
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    session = getattr(request, "session", None)
    factor = session.get(SESSION_FACTOR_KEY) if signed_in and session is not None else None
    return {
        "can": _Can(user),
        "jumin_mode": conf["MODE"],
        "jumin_demo": conf["MODE"] == "demo",
        "municipality_name": conf["MUNICIPALITY_NAME"],
        # said on every page while signed in without the biometric factor (demo only)
        "password_only_login": factor == FACTOR_PASSWORD_ONLY_DEMO,
        "web_terminal": (
            session_terminal(request) if user is not None and user.is_authenticated else None
        ),
    }
