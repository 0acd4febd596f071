"""Route enforcement for the clerk UI (std 10.3, j1380): before a screen's view runs, the
route's rule in :mod:`jumin.web.route_perms` is applied.

- public: passes;
- anyone else signed out: the login page, returning to the screen afterwards;
- a missing permission: the Japanese 403 page; the refusal is written to the operation log by
  ``jumin.accounts.services.authorize`` (outcome DENIED, the missing permission named);
- a route nobody declared: refused to everyone (fail closed) and reported in the server log.

The API (``/api/``) declares its permissions on the operations (``jumin.config.api.requires``).
``@requires`` checks them when the view is called — but django-ninja parses and validates the
request *before* calling it, so a caller without the permission would learn the request
schema from a 422 instead of a 403. This middleware therefore applies the same declaration
before ninja runs (:func:`api_check`): a signed-in caller lacking the permission gets the
403 problem document (logged); anonymous callers and the rest are left to ninja (401 …).
The services check again (defence in depth).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from jumin.accounts.services import authorize
from jumin.config.api import (
    ANY_OF_ATTR,
    PERMISSIONS_ATTR,
    PUBLIC_ATTR,
    actor_from_request,
    problem,
)
from jumin.web.common import forbidden, web_actor
from jumin.web.route_perms import Access, Rule, rule_for

logger = logging.getLogger("jumin.web")

API_PREFIX = "/api/"


def function_name(view_name: str) -> str:
    """The function named in the operation log for a refusal at the door of a screen."""
    return f"画面の表示（{view_name}）"


def check(request: HttpRequest, view_name: str, rule: Rule) -> HttpResponse | None:
    """None when ``request`` may open the route; else the response refusing it."""
    if rule.access is Access.PUBLIC:
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if rule.access is Access.LOGIN:
        return None
    actor = web_actor(request)
    function = function_name(view_name)
    try:
        for perm in rule.all_of:
            authorize(actor, perm, function)
        if rule.any_of and not any(actor.can(p) for p in rule.any_of):
            try:
                authorize(actor, rule.any_of[0], function)  # logs the refusal
            except PermissionDenied:
                names = "」または「".join(p.label for p in rule.any_of)
                raise PermissionDenied(f"この画面には「{names}」の権限が必要です。") from None
    except PermissionDenied as exc:
        return forbidden(request, exc)
    return None


@functools.lru_cache(maxsize=1024)
def _path_view(view_func: Callable[..., Any]) -> Any:
    """ninja's URL view is a closure over its ``PathView`` (django-ninja 1.x)."""
    try:
        return inspect.getclosurevars(view_func).nonlocals.get("self")
    except (TypeError, ValueError):
        return None


def _operation_view(view_func: Callable[..., Any], method: str) -> Callable[..., Any] | None:
    """The view function of the ninja operation a resolved API view runs for ``method``;
    None when it cannot be told (then ``@requires`` still checks, after parsing)."""
    for operation in getattr(_path_view(view_func), "operations", ()):
        if method in getattr(operation, "methods", ()):
            return getattr(operation, "view_func", None)
    return None


def api_check(request: HttpRequest, view_func: Callable[..., Any]) -> HttpResponse | None:
    """The operation's ``@requires`` declaration, applied before ninja parses the request."""
    if not request.user.is_authenticated:
        return None  # ninja answers 401 (authentication runs before parsing)
    view = _operation_view(view_func, request.method or "GET")
    if view is None or getattr(view, PUBLIC_ATTR, False):
        return None
    perms = getattr(view, PERMISSIONS_ATTR, None)
    any_of = getattr(view, ANY_OF_ATTR, ())
    if perms is None:
        return None  # undeclared: jumin.config.tests.test_api_routes fails
    actor = actor_from_request(request)
    function = getattr(view, "__jumin_function__", "") or getattr(view, "__name__", "API")
    try:
        for perm in perms:
            authorize(actor, perm, function)
        if any_of and not any(actor.can(p) for p in any_of):
            try:
                authorize(actor, any_of[0], function)  # logs the refusal
            except PermissionDenied:
                names = "」または「".join(p.label for p in any_of)
                raise PermissionDenied(f"この操作には「{names}」の権限が必要です。") from None
    except PermissionDenied as exc:
        return problem(request, 403, "permission_denied", str(exc))
    return None


class RoutePermissionMiddleware:
    """Applies :data:`jumin.web.route_perms.ROUTES` to every request of the clerk UI."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and match.namespaces[:1] == ["api"]:
            return api_check(request, view_func)
        if request.path_info.startswith(API_PREFIX):
            return None  # the API's own "no such route" answer
        view_name = match.view_name if match is not None else ""
        rule = rule_for(view_name)
        if rule is None:
            logger.error(
                "route %r (%s) is not declared in jumin.web.route_perms",
                view_name,
                request.path_info,
            )
            return forbidden(
                request,
                PermissionDenied(
                    "この画面の利用権限が設定されていないため表示できません。"
                    "システム管理者に連絡してください。"
                ),
            )
        return check(request, view_name, rule)


__all__ = ["RoutePermissionMiddleware", "api_check", "check", "function_name"]
