"""A member of staff given an initial or reset password must change it before anything else.

Put after ``AuthenticationMiddleware``. Screens redirect to the password page; the API
answers 403 with a JSON problem. The password page itself, logout and static files pass.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

CHANGE_PAGE = "web:password_change"
ALWAYS_ALLOWED = ("web:logout",)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
        ):
            try:
                page = reverse(CHANGE_PAGE)
                allowed = [page, *(reverse(name) for name in ALWAYS_ALLOWED)]
            except NoReverseMatch:  # the screens are not mounted (API-only deployment)
                page, allowed = "", []
            path = request.path
            if path not in allowed and not path.startswith("/static/"):
                if path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "type": "urn:jumin:problem:password_change_required",
                            "title": "初期パスワードのままです。"
                            "画面からパスワードを変更してください。",
                            "status": 403,
                            "code": "password_change_required",
                        },
                        status=403,
                        content_type="application/problem+json",
                    )
                if page:
                    return redirect(page)
        return self.get_response(request)
