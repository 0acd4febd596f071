"""The HTTP API root (django-ninja). OpenAPI 3 at ``/api/openapi.json``.

Each app adds one router. Errors are ``application/problem+json`` documents with a stable
``code`` (invariant 8).

Every route declares what it needs (the permission catalogue is closed, see
``jumin.accounts.permissions``): ``@requires(Perm.X, ...)`` checks — and logs a refusal — before
the view runs; ``@public`` marks the few routes that need no permission (the health check, the
OpenAPI document). The decorator goes *under* the router decorator::

    @router.get("/residents/{atena_no}", response=ResidentOut)
    @requires(Perm.RESIDENT_READ)
    def resident(request, atena_no: str): ...

``jumin.config.tests.test_api_routes`` fails when a route lacks the declaration.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import SessionAuth
from ninja.utils import contribute_operation_callback

import jumin
from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.core.errors import CoreError
from jumin.core.findings import FindingsError

logger = logging.getLogger("jumin.api")

F = TypeVar("F", bound=Callable[..., Any])

PERMISSIONS_ATTR = "__jumin_permissions__"
ANY_OF_ATTR = "__jumin_permissions_any_of__"
PUBLIC_ATTR = "__jumin_public__"
SESSION_TERMINAL_KEY = "terminal_id"


class CsrfRefused(Exception):
    """An unsafe request without a valid CSRF token (session authentication)."""


class StaffSessionAuth(SessionAuth):
    """Django session authentication with CSRF checks for unsafe methods (ninja's
    ``django_auth``), raising a recognisable error so that the refusal gets its own code."""

    def _get_key(self, request: HttpRequest) -> str | None:
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise CsrfRefused() from exc


staff_session_auth = StaffSessionAuth()


def public(func: F) -> F:
    """Declare a route that needs no permission (no personal data behind it)."""
    setattr(func, PERMISSIONS_ATTR, ())
    setattr(func, PUBLIC_ATTR, True)
    return func


def requires(*perms: Perm, any_of: tuple[Perm, ...] = ()) -> Callable[[F], F]:
    """Declare the permissions a route needs and check them before the view runs: every one
    of ``perms``, and at least one of ``any_of`` when given.

    A missing permission answers 403 ``permission_denied`` and is written to the operation
    log (``jumin.accounts.services.authorize``). The permissions also appear in the OpenAPI
    document (``x-jumin-permissions``, ``x-jumin-permissions-any-of`` and the description).
    """
    if not perms:
        raise ValueError("requires() needs at least one permission; use @public for none")
    for perm in (*perms, *any_of):
        if not isinstance(perm, Perm):
            raise TypeError(f"{perm!r} is not a Perm of the catalogue")
    any_of = tuple(any_of)

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            from jumin.accounts.services import authorize

            if not request.user.is_authenticated:
                raise AuthenticationError()
            actor = actor_from_request(request)
            function = getattr(wrapper, "__jumin_function__", "") or func.__name__
            for perm in perms:
                authorize(actor, perm, function)
            if any_of and not any(actor.can(p) for p in any_of):
                try:
                    authorize(actor, any_of[0], function)  # logs the refusal
                except PermissionDenied:
                    names = "」または「".join(p.label for p in any_of)
                    raise PermissionDenied(f"この操作には「{names}」の権限が必要です。") from None
            return func(request, *args, **kwargs)

        # Resolve string annotations against the view's own module: ninja resolves them
        # with the wrapper's globals (this module's) otherwise.
        # (Annotations of a locally defined type are set on the view by its author.)
        with contextlib.suppress(NameError):
            wrapper.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
        setattr(wrapper, PERMISSIONS_ATTR, tuple(perms))
        setattr(wrapper, ANY_OF_ATTR, any_of)
        setattr(wrapper, PUBLIC_ATTR, False)
        contribute_operation_callback(wrapper, functools.partial(_describe, perms, any_of, wrapper))
        return cast(F, wrapper)

    return decorator


_PROBLEM_RESPONSES = {
    401: "unauthenticated: ログインしていません",
    403: "permission_denied（権限がありません）/ csrf_failed（CSRF トークンがありません）",
    422: "validation_failed（findings: エラーと未確認のアラート）/ schema_invalid（errors）",
}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string", "description": "利用者が読むメッセージ"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "安定したエラーコード"},
        "findings": {"type": "array", "items": {"type": "object"}},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def _problem_response(text: str) -> dict[str, Any]:
    return {
        "description": text,
        "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
    }


def _describe(
    perms: tuple[Perm, ...],
    any_of: tuple[Perm, ...],
    wrapper: Callable[..., Any],
    operation: Any,
) -> None:
    """Record the permissions in the operation's OpenAPI entry; name the function for the
    refusal log after the operation's summary."""
    wrapper.__jumin_function__ = operation.summary  # type: ignore[attr-defined]
    note = "必要な権限: " + "、".join(f"「{p.label}」（{p.value}）" for p in perms)
    if any_of:
        note += "、および次のいずれか: " + "、".join(f"「{p.label}」（{p.value}）" for p in any_of)
    operation.description = f"{operation.description}\n\n{note}" if operation.description else note
    extra = dict(operation.openapi_extra or {})
    responses = dict(extra.get("responses") or {})
    for status, text in _PROBLEM_RESPONSES.items():
        responses.setdefault(status, _problem_response(text))
    extra["responses"] = responses
    extra["x-jumin-permissions"] = [p.value for p in perms]
    if any_of:
        extra["x-jumin-permissions-any-of"] = [p.value for p in any_of]
    operation.openapi_extra = extra


def actor_from_request(request: HttpRequest) -> Actor:
    """The acting staff member of an API request, on the terminal recorded in the session
    (key ``terminal_id``: a terminal's id or name), channel ``"api"``."""
    cached = getattr(request, "_jumin_actor", None)
    if cached is not None:
        return cast(Actor, cached)
    terminal = session_terminal(request)
    actor = Actor.of(cast(Any, request.user), terminal, "api")
    request._jumin_actor = actor  # type: ignore[attr-defined]
    return actor


def session_terminal(request: HttpRequest) -> Any:
    """The terminal recorded in the session at login (None when none was chosen)."""
    from jumin.accounts.selectors import terminal_by_name, terminal_list

    session = getattr(request, "session", None)
    value = session.get(SESSION_TERMINAL_KEY) if session is not None else None
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return terminal_list().filter(pk=value, is_active=True).first()
    return terminal_by_name(str(value))


# The apps' routers: (prefix, import path). Added on first use of the API (URLs or the
# OpenAPI document), so that an app's api.py can import this module without a cycle.
APP_ROUTERS: tuple[tuple[str, str], ...] = (
    ("/register/", "jumin.register.api.router"),
    ("/support/", "jumin.support.api.router"),
    ("/certificates/", "jumin.certificates.api.router"),
    ("/cs/", "jumin.jukinet.api.router"),
)


class JuminAPI(NinjaAPI):
    _apps_added = False

    def add_app_routers(self) -> None:
        if self._apps_added:
            return
        from django.utils.module_loading import import_string

        for prefix, path in APP_ROUTERS:
            self.add_router(prefix, import_string(path))
        self._apps_added = True

    @property
    def urls(self) -> Any:
        self.add_app_routers()
        return super().urls

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        self.add_app_routers()
        return super().get_openapi_schema(*args, **kwargs)


api = JuminAPI(
    title="Jumin 住民記録システム API",
    version=jumin.__version__,
    description=(
        "住民基本台帳システム Jumin の API。すべての操作は操作ログに記録されます。"
        "エラーは application/problem+json で、安定した code を持ちます。"
    ),
    auth=staff_session_auth,
    urls_namespace="api",
    docs_decorator=public,
)


def problem(request: HttpRequest, status: int, code: str, title: str, **extra: Any) -> HttpResponse:
    body = {"type": f"urn:jumin:problem:{code}", "title": title, "status": status, "code": code}
    body.update(extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(FindingsError)
def _findings(request: HttpRequest, exc: FindingsError) -> HttpResponse:
    return problem(
        request,
        422,
        "validation_failed",
        "入力内容に誤りがあります。各項目のメッセージを確認して修正してください。",
        findings=exc.findings.as_list(),
    )


@api.exception_handler(CoreError)
def _core(request: HttpRequest, exc: CoreError) -> HttpResponse:
    return problem(
        request,
        422,
        "validation_failed",
        "入力内容に誤りがあります。各項目のメッセージを確認して修正してください。",
        findings=[
            {
                "code": exc.code,
                "severity": "error",
                "message": exc.message,
                "field": "",
                "remedy": "",
            }
        ],
    )


# Japanese messages for the schema errors a client meets most (pydantic error types).
_SCHEMA_MESSAGES: dict[str, str] = {
    "missing": "必須項目です。入力してください。",
    "extra_forbidden": "この項目は受け付けません。項目名を確認してください。",
    "string_type": "文字列で入力してください。",
    "string_too_short": "{min_length}文字以上で入力してください。",
    "string_too_long": "{max_length}文字以内で入力してください。",
    "string_pattern_mismatch": "形式が正しくありません。",
    "int_parsing": "整数で入力してください。",
    "int_type": "整数で入力してください。",
    "bool_parsing": "true または false で入力してください。",
    "bool_type": "true または false で入力してください。",
    "date_from_datetime_parsing": "日付を YYYY-MM-DD の形式で入力してください。",
    "date_parsing": "日付を YYYY-MM-DD の形式で入力してください。",
    "date_type": "日付を YYYY-MM-DD の形式で入力してください。",
    "literal_error": "次のいずれかを入力してください: {expected}",
    "enum": "次のいずれかを入力してください: {expected}",
    "list_type": "配列で入力してください。",
    "too_short": "{min_length}件以上入力してください。",
    "too_long": "{max_length}件以内で入力してください。",
    "greater_than_equal": "{ge}以上の値を入力してください。",
    "less_than_equal": "{le}以下の値を入力してください。",
    "model_attributes_type": "オブジェクト（JSON）で入力してください。",
    "dict_type": "オブジェクト（JSON）で入力してください。",
    "json_invalid": "JSON の形式が正しくありません。",
}
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


def _schema_error(error: dict[str, Any]) -> dict[str, Any]:
    loc = [str(p) for p in error.get("loc", ())]
    parts = loc[1:] if loc and loc[0] in _LOCATIONS else loc
    if len(parts) > 1 and loc and loc[0] == "body":
        parts = parts[1:]  # the body parameter's own name ("payload")
    kind = str(error.get("type", ""))
    template = _SCHEMA_MESSAGES.get(kind, "値が正しくありません。")
    try:
        message = template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        message = template
    return {
        "field": ".".join(parts),
        "code": kind,
        "message": message,
        "loc": loc,
        "detail": str(error.get("msg", "")),
    }


@api.exception_handler(NinjaValidationError)
def _schema(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return problem(
        request,
        422,
        "schema_invalid",
        "リクエストの形式が正しくありません。各項目のメッセージを確認してください。",
        errors=[_schema_error(e) for e in exc.errors],
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(request, 401, "unauthenticated", "ログインしてください。")


@api.exception_handler(CsrfRefused)
def _csrf(request: HttpRequest, exc: CsrfRefused) -> HttpResponse:
    return problem(
        request,
        403,
        "csrf_failed",
        "CSRF トークンがないか正しくありません。画面を再読み込みしてからやり直してください。",
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(
        request,
        403,
        "permission_denied",
        str(exc) or "この操作を行う権限がありません。",
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "not_found", str(exc) or "指定されたものは見つかりません。")


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return problem(
            request,
            400,
            "bad_request",
            "リクエストの本文を読み取れません。JSON の形式を確認してください。",
            detail=str(exc),
        )
    return problem(request, exc.status_code, f"http_{exc.status_code}", str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unexpected error in %s %s", request.method, request.path)
    from jumin.audit.events import record_error

    record_error(request, exc)  # エラーログ (std 10.2): class and route only
    return problem(
        request,
        500,
        "internal_error",
        "システムエラーが発生しました。画面を更新して結果を確認し、管理者に連絡してください。",
    )


class Health(Schema):
    status: str
    version: str
    mode: str
    database: str


@api.get("/health", auth=None, response=Health, tags=["system"], summary="稼働確認")
@public
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness and database reachability. Returns no personal data."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {
        "status": "ok",
        "version": jumin.__version__,
        "mode": str(settings.JUMIN["MODE"]),
        "database": connection.vendor,
    }
