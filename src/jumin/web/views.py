"""Clerk screens. Views only call services and selectors."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jumin.accounts import services as account_services
from jumin.accounts.actor import Actor
from jumin.web.forms import StaffLoginForm


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        staff = form.get_user()
        account_services.record_login(
            Actor.of(staff, None, "web"), staff_id=staff.staff_id, success=True
        )
        return super().form_valid(form)

    def form_invalid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        attempted = str(form.data.get("username", ""))
        account_services.record_login(
            Actor.system("web", "anonymous"), staff_id=attempted, success=False
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    pass
