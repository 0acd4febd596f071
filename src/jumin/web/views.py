"""Clerk screens. Views only call services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jumin.accounts import services as account_services
from jumin.accounts.actor import Actor
from jumin.accounts.selectors import terminal_by_id
from jumin.support import services as support_services
from jumin.web import review
from jumin.web.common import set_terminal, web_actor
from jumin.web.forms import StaffLoginForm


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """ホーム: who is signed in where, the caller's own drafts and rejected drafts (with the
    reason), and the review queue for a reviewer (std 4.0.8, j530)."""
    actor = web_actor(request)
    return render(
        request,
        "web/home.html",
        {
            "nav": "home",
            "home": review.home_data(actor),
            "support_alerts": support_services.alerts_for(actor),
        },
    )


TERMINAL_COOKIE = "jumin_terminal"
TERMINAL_COOKIE_AGE = 365 * 24 * 60 * 60


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        chosen = form.data.get("terminal") if form is not None and form.is_bound else None
        context["selected_terminal"] = str(chosen or self.request.COOKIES.get(TERMINAL_COOKIE, ""))
        return context

    def form_valid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        staff = form.get_user()
        terminal_id = form.cleaned_data.get("terminal")
        terminal = terminal_by_id(terminal_id) if terminal_id else None
        account_services.record_login(
            Actor.of(staff, terminal, "web"), staff_id=staff.staff_id, success=True
        )
        response = super().form_valid(form)  # a new session: the terminal goes in after
        set_terminal(self.request, terminal.pk if terminal is not None else None)
        if terminal is not None:
            response.set_cookie(
                TERMINAL_COOKIE,
                str(terminal.pk),
                max_age=TERMINAL_COOKIE_AGE,
                httponly=True,
                samesite="Strict",
                secure=self.request.is_secure(),
            )
        return response

    def form_invalid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        attempted = str(form.data.get("username", ""))
        account_services.record_login(
            Actor.system("web", "anonymous"), staff_id=attempted, success=False
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    pass


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without a valid CSRF cookie — typically every cookie was cleared or the
    session ended mid-form. A signed-out clerk is sent to login and back to the screen (where
    the values typed are restored from this browser); otherwise a Japanese page says what
    happened. Nothing was saved."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "web/csrf_failure.html",
        {"back": request.get_full_path()},
        status=403,
    )
