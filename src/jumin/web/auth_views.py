"""Staff authentication screens (std 10.3, j1380): the WebAuthn step of a login, enrolment
through a one-time link, "my authenticators", and the administrator's screen.

The browser side is ``static/web/webauthn.js`` (no inline script: CSP). The views keep the
state in the server-side session — the person between password and authenticator, the
challenge handed out (removed when an answer arrives: single use) — and leave every check and
every log entry to ``jumin.authn.services``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from jumin.accounts.selectors import terminal_by_id
from jumin.authn import selectors as authn_selectors
from jumin.authn import services as authn
from jumin.authn.middleware import LAST_SEEN_KEY
from jumin.core.findings import FindingsError
from jumin.web.common import set_terminal, staff_view, web_actor
from jumin.web.forms import EnrolIdentifyForm, StaffIdForm

if TYPE_CHECKING:  # annotations only: views reach staff through services and selectors
    from jumin.accounts.models import Staff, Terminal

TERMINAL_COOKIE = "jumin_terminal"
TERMINAL_COOKIE_AGE = 365 * 24 * 60 * 60

PENDING_KEY = "jumin_pending_login"  # between the password and the authenticator
CHALLENGE_KEY = "jumin_webauthn_challenge"
ENROL_KEY = "jumin_enrolment"  # the person identified on an enrolment link

PENDING_EXPIRED = (
    "ログインの手続きの有効期限が切れました。もう一度、職員IDとパスワードから入力してください。"
)
NOT_ALLOWED = "この操作はできません。画面を開き直してください。"


# --------------------------------------------------------------------------- helpers


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _json_refusal(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "message": message}, status=status)


def _body(request: HttpRequest) -> str:
    raw = request.body[: authn.MAX_CREDENTIAL_JSON + 1]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def start_pending(
    request: HttpRequest, staff: Staff, terminal: Terminal | None, next_url: str
) -> None:
    """The password was right: remember who, where and where to go, for the WebAuthn step
    (in a session under a new key: one planted in the browser beforehand learns nothing)."""
    request.session.cycle_key()
    request.session.pop(CHALLENGE_KEY, None)
    request.session[PENDING_KEY] = {
        "staff_pk": staff.pk,
        "terminal_pk": terminal.pk if terminal is not None else None,
        "at": time.time(),
        "next": next_url,
    }


def _pending(request: HttpRequest) -> tuple[Staff, Terminal | None, str] | None:
    value = request.session.get(PENDING_KEY)
    if not isinstance(value, dict):
        return None
    try:
        started = float(value["at"])
        staff_pk = int(value["staff_pk"])
    except (KeyError, TypeError, ValueError):
        return None
    if time.time() - started > authn.PENDING_LOGIN_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    staff = authn_selectors.staff_by_pk(staff_pk)
    if staff is None:
        return None
    terminal_pk = value.get("terminal_pk")
    terminal = terminal_by_id(int(terminal_pk)) if isinstance(terminal_pk, int) else None
    return staff, terminal, str(value.get("next") or reverse("web:home"))


def complete_login(
    request: HttpRequest,
    response: HttpResponse,
    staff: Staff,
    terminal: Terminal | None,
    factor: str,
) -> None:
    """Sign in (a new session key), and keep the terminal and how the person logged in."""
    request.session.pop(PENDING_KEY, None)
    request.session.pop(CHALLENGE_KEY, None)
    auth_login(request, staff, backend="jumin.accounts.backends.StaffBackend")
    set_terminal(request, terminal.pk if terminal is not None else None)
    request.session[authn.SESSION_FACTOR_KEY] = factor
    request.session[LAST_SEEN_KEY] = int(time.time())
    # absolute: the idle clock rewrites the session, which would otherwise push its expiry
    # (and the cookie's) SESSION_COOKIE_AGE further on every write
    request.session.set_expiry(dt.timedelta(seconds=settings.SESSION_COOKIE_AGE))
    if terminal is not None:
        response.set_cookie(
            TERMINAL_COOKIE,
            str(terminal.pk),
            max_age=TERMINAL_COOKIE_AGE,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure(),
        )


# --------------------------------------------------------------------------- login step 2


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """GET: the page with the 生体認証でログイン button. POST (from webauthn.js): the
    browser's assertion; JSON back."""
    pending = _pending(request)
    if request.method == "GET":
        if pending is None:
            messages.warning(request, PENDING_EXPIRED)
            return redirect("web:login")
        staff, terminal, _next = pending
        return render(
            request,
            "web/auth/verify.html",
            {"pending_staff": staff, "pending_terminal": terminal},
        )
    state = authn.ChallengeState.from_session(request.session.pop(CHALLENGE_KEY, None))
    if pending is None:
        authn.login_refused(staff=None, staff_id="", reason="no_pending_login")
        return _json_refusal(PENDING_EXPIRED)
    staff, terminal, next_url = pending
    try:
        authn.verify_login(
            staff=staff,
            terminal=terminal,
            credential_json=_body(request),
            state=state,
            request_origin=_origin(request),
        )
    except authn.AuthenticationRefused as refusal:
        if refusal.reason == "locked":
            request.session.pop(PENDING_KEY, None)
        return _json_refusal(refusal.message)
    response = JsonResponse({"ok": True, "redirect": next_url})
    complete_login(request, response, staff, terminal, authn.FACTOR_WEBAUTHN)
    return response


@require_POST
def verify_options(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        return _json_refusal(PENDING_EXPIRED)
    options, state = authn.authentication_options(pending[0])
    request.session[CHALLENGE_KEY] = state.as_session()
    return HttpResponse(options, content_type="application/json")


# --------------------------------------------------------------------------- enrolment


def _enrolment(request: HttpRequest, token: str) -> Staff | None:
    """The person identified on this link in this session, if any."""
    value = request.session.get(ENROL_KEY)
    if not isinstance(value, dict) or value.get("token") != token:
        return None
    if time.time() - float(value.get("at", 0)) > authn.PENDING_LOGIN_SECONDS * 2:
        request.session.pop(ENROL_KEY, None)
        return None
    staff_pk = value.get("staff_pk")
    return authn_selectors.staff_by_pk(int(staff_pk)) if isinstance(staff_pk, int) else None


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """The page an enrolment link opens: ID + password, then 認証器を登録."""
    link = authn.valid_link(token)
    if link is None:
        request.session.pop(ENROL_KEY, None)
        authn.link_refused(token)
        return render(request, "web/auth/enrol.html", {"invalid": authn.LINK_INVALID}, status=404)
    staff = _enrolment(request, token)
    form = EnrolIdentifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff = authn.enrolment_identify(
                token=token,
                staff_id=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except authn.AuthenticationRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            request.session.cycle_key()  # the person is now identified in this session
            request.session[ENROL_KEY] = {"token": token, "staff_pk": staff.pk, "at": time.time()}
            return redirect("web:auth_enrol", token=token)
    return render(
        request,
        "web/auth/enrol.html",
        {
            "form": form,
            "enrol_staff": staff,
            "expires_at": link.expires_at,
            "token": token,
        },
    )


def _register_context(request: HttpRequest, token: str) -> tuple[Staff, str | None] | None:
    if token:
        staff = _enrolment(request, token)
        return (staff, token) if staff is not None else None
    if request.user.is_authenticated:
        return request.user, None
    return None


@require_POST
def register_options(request: HttpRequest) -> HttpResponse:
    token = str(request.GET.get("link", ""))[:128]
    context = _register_context(request, token)
    if context is None:
        return _json_refusal(NOT_ALLOWED, status=403)
    options, state = authn.registration_options(context[0])
    request.session[CHALLENGE_KEY] = state.as_session()
    return HttpResponse(options, content_type="application/json")


@require_POST
def register(request: HttpRequest) -> HttpResponse:
    token = str(request.GET.get("link", ""))[:128]
    state = authn.ChallengeState.from_session(request.session.pop(CHALLENGE_KEY, None))
    context = _register_context(request, token)
    if context is None:
        return _json_refusal(NOT_ALLOWED, status=403)
    staff, link_token = context
    body = _body(request)
    label = ""
    credential_json = body
    try:
        data: Any = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict) and "credential" in data:
        label = str(data.get("label") or "")[:200]
        credential_json = json.dumps(data["credential"])
    try:
        authn.register_credential(
            staff=staff,
            credential_json=credential_json,
            state=state,
            request_origin=_origin(request),
            label=label,
            link_token=link_token,
        )
    except authn.AuthenticationRefused as refusal:
        return _json_refusal(refusal.message)
    except FindingsError as exc:
        return _json_refusal(" ".join(f.message for f in exc.findings))
    if link_token is not None:
        request.session.pop(ENROL_KEY, None)
        messages.success(
            request, "認証器を登録しました。職員ID・パスワードと生体認証でログインしてください。"
        )
        return JsonResponse({"ok": True, "redirect": reverse("web:login")})
    messages.success(request, "認証器を登録しました。")
    return JsonResponse({"ok": True, "redirect": reverse("web:auth_authenticators")})


# --------------------------------------------------------------------------- my authenticators


@require_http_methods(["GET", "POST"])
@staff_view
def authenticators(request: HttpRequest) -> HttpResponse:
    """自分の認証器: list, add (webauthn.js), remove (never the last one in production)."""
    actor = web_actor(request)
    staff = cast("Staff", request.user)
    if request.method == "POST":
        try:
            pk = int(str(request.POST.get("credential", "")))
        except ValueError:
            messages.error(request, "削除する認証器を選んでください。")
        else:
            try:
                removed = authn.revoke_credential(actor, credential_pk=pk)
            except FindingsError as exc:
                for finding in exc.findings:
                    messages.error(request, finding.message)
            else:
                messages.success(request, f"認証器「{removed.label}」を削除しました。")
        return redirect("web:auth_authenticators")
    return render(
        request,
        "web/auth/authenticators.html",
        {
            "nav": "authenticators",
            "credentials": authn_selectors.credentials_of(staff),
            "login_factor": request.session.get(authn.SESSION_FACTOR_KEY, ""),
        },
    )


# --------------------------------------------------------------------------- administrator


@require_http_methods(["GET", "POST"])
@staff_view
def enrol_links(request: HttpRequest) -> HttpResponse:
    """認証器の管理 (職員の管理 permission): issue an enrolment link (its URL shown once),
    reset a person's authenticators, unlock, revoke one authenticator."""
    actor = web_actor(request)
    authn.require_staff_manage(actor, "認証器の管理")
    issued_url = ""
    issued_for = ""
    form = StaffIdForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "revoke":
        try:
            pk = int(str(request.POST.get("credential", "")))
            removed = authn.revoke_credential(actor, credential_pk=pk)
        except ValueError:
            messages.error(request, "削除する認証器を選んでください。")
        except FindingsError as exc:
            for finding in exc.findings:
                messages.error(request, finding.message)
        else:
            messages.success(
                request, f"{removed.staff.staff_id} の認証器「{removed.label}」を削除しました。"
            )
        return redirect("web:auth_enrol_links")
    if request.method == "POST" and form.is_valid():
        staff_id = form.cleaned_data["staff_id"]
        action = form.cleaned_data["action"]
        try:
            if action == "unlock":
                was = authn.unlock(actor, staff_id=staff_id)
                messages.success(
                    request,
                    f"{staff_id} のロックを解除しました。"
                    if was
                    else f"{staff_id} はロックされていませんでした（失敗回数を0に戻しました）。",
                )
                return redirect("web:auth_enrol_links")
            issued = (
                authn.reset_authenticators(actor, staff_id=staff_id)
                if action == "reset"
                else authn.issue_enrolment_link(actor, staff_id=staff_id)
            )
        except FindingsError as exc:
            for finding in exc.findings:
                form.add_error("staff_id", finding.message)
        else:
            issued_url = request.build_absolute_uri(
                reverse("web:auth_enrol", kwargs={"token": issued.token})
            )
            issued_for = staff_id
    response = render(
        request,
        "web/auth/enrol_links.html",
        {
            "nav": "enrol_links",
            "form": form,
            "rows": authn_selectors.overview(),
            "credentials": authn_selectors.credential_list().filter(revoked_at__isnull=True),
            "issued_url": issued_url,
            "issued_for": issued_for,
            "link_hours": authn.ENROLMENT_LINK_HOURS,
        },
    )
    response["Cache-Control"] = "no-store"  # the link is shown once
    return response
