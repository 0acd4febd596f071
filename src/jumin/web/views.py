"""Clerk screens. Views only call services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from jumin.authn import services as authn
from jumin.support import services as support_services
from jumin.web import auth_views as auth_flow
from jumin.web import review
from jumin.web.common import web_actor
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


class LoginView(auth_views.LoginView):
    """Step 1: staff ID + password + terminal (``authn.services.password_step``). With an
    authenticator enrolled the person goes on to the WebAuthn step (``auth_views.verify``);
    without one only demo mode logs in (password only, said on every page)."""

    template_name = "web/login.html"
    authentication_form = StaffLoginForm  # type: ignore[assignment]
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        chosen = form.data.get("terminal") if form is not None and form.is_bound else None
        context["selected_terminal"] = str(
            chosen or self.request.COOKIES.get(auth_flow.TERMINAL_COOKIE, "")
        )
        context["password_only_allowed"] = authn.password_only_allowed()
        return context

    def form_valid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        step = authn.password_step(
            staff_id=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            terminal_id=form.cleaned_data.get("terminal") or None,
            remote_addr=str(self.request.META.get("REMOTE_ADDR", "")),
        )
        if step.refusal or step.staff is None:
            form.add_error(None, step.refusal or authn.INVALID_LOGIN)
            return self.render_to_response(self.get_context_data(form=form))
        if step.needs_webauthn:
            auth_flow.start_pending(self.request, step.staff, step.terminal, self.get_success_url())
            return redirect("web:auth_verify")
        response = redirect(self.get_success_url())
        auth_flow.complete_login(self.request, response, step.staff, step.terminal, step.factor)
        return response

    def form_invalid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        authn.login_form_refused(
            staff_id=str(form.data.get("username", ""))[:64], fields=list(form.errors)
        )
        return super().form_invalid(form)  # type: ignore[arg-type]


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
