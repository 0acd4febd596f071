"""Session idle timeout and the security headers every response carries."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from jumin.accounts.actor import Actor
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.authn.services import unknown_session_refused

LAST_SEEN_KEY = "jumin_last_seen"
TOUCH_EVERY_SECONDS = 15  # the session is rewritten at most this often for the idle clock

IDLE_MESSAGE = (
    "操作のない状態が{minutes}分続いたため、安全のためログアウトしました。"
    "もう一度ログインしてください（入力中だった内容はこの端末から復元されます）。"
)


class IdleTimeoutMiddleware:
    """A signed-in session unused for ``JUMIN_IDLE_TIMEOUT_MINUTES`` is logged out (std 10.3,
    j1380); the request then continues signed out, so a screen sends the person to the login
    page (and back afterwards). The absolute limit is the session cookie age (8 h)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and not user.is_authenticated:
            self._check_unknown_session(request)
        if user is not None and user.is_authenticated:
            minutes = int(str(settings.JUMIN.get("IDLE_TIMEOUT_MINUTES", 15)))
            now = time.time()
            last = request.session.get(LAST_SEEN_KEY)
            if isinstance(last, int | float) and now - float(last) > minutes * 60:
                self._expire(request, minutes, now - float(last))
            elif not isinstance(last, int | float) or now - float(last) >= TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN_KEY] = int(now)
        return self.get_response(request)

    @staticmethod
    def _check_unknown_session(request: HttpRequest) -> None:
        """A session cookie naming no session (forged, or removed on the server) is logged
        (throttled per client address); Django's session middleware then deletes the
        cookie."""
        if not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            return
        session = request.session
        session.get(LAST_SEEN_KEY)  # load it: an unknown key leaves no session key
        if session.session_key is None:
            unknown_session_refused(path=request.path, client=request.META.get("REMOTE_ADDR", ""))

    @staticmethod
    def _expire(request: HttpRequest, minutes: int, idle: float) -> None:
        from jumin.config.api import session_terminal

        staff = request.user
        with transaction.atomic():
            audit.record(
                Actor.of(staff, session_terminal(request), "web"),  # type: ignore[arg-type]
                category=Category.AUTHENTICATION,
                function="ログアウト（無操作時間切れ）",
                screen=request.path[:200],
                outcome=Outcome.SUCCESS,
                detail={
                    "staff_id": getattr(staff, "staff_id", ""),
                    "reason": "idle_timeout",
                    "idle_seconds": int(idle),
                },
            )
        logout(request)
        messages.warning(request, IDLE_MESSAGE.format(minutes=minutes))


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (no inline script
    or style anywhere in the UI: everything comes from static files)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        csp = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = csp
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        # responses that never reach the clickjacking middleware (static files) too
        if "X-Frame-Options" not in response and not getattr(
            response, "xframe_options_exempt", False
        ):
            response["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY")
        return response
