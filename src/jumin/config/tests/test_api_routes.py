"""Every route of the API declares the permission it needs (``@requires``) or that it needs
none (``@public``) — the permission catalogue is closed (``jumin.accounts.permissions``).

The walk covers every operation of every router mounted on ``jumin.config.api.api`` and the
OpenAPI document's own views, so a route added without a declaration fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from ninja import NinjaAPI, Router

from jumin.accounts.permissions import Perm
from jumin.config.api import (
    ANY_OF_ATTR,
    PERMISSIONS_ATTR,
    PUBLIC_ATTR,
    api,
    public,
    requires,
)
from jumin.config.urls import urlpatterns

# Routes that may be public: nothing personal behind them.
# the only routes open without login: health, and the public check of an issued certificate
PUBLIC_ROUTES = {("GET", "/api/health"), ("GET", "/api/certificates/verify/{issue_id}")}


def _join(*parts: str) -> str:
    """The route as the OpenAPI document writes it (``{int:x}`` → ``{x}``)."""
    path = "/" + "/".join(p.strip("/") for p in parts if p.strip("/"))
    return re.sub(r"\{\w+:(\w+)\}", r"{\1}", path)


def operations(of: NinjaAPI = api, root: str = "/api") -> Iterator[tuple[str, str, Callable]]:
    """(path, METHOD, view function) for every operation of every router of ``of``."""
    of.urls  # noqa: B018  (binds the routers: adds the apps' routers, builds nested mounts)
    for prefix, router in of._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield _join(root, prefix, path), method.upper(), operation.view_func


def undeclared(of: NinjaAPI = api, root: str = "/api") -> list[str]:
    """Routes whose view lacks a valid declaration."""
    bad = []
    for path, method, view in operations(of, root):
        perms = getattr(view, PERMISSIONS_ATTR, None)
        if perms is None:
            bad.append(f"{method} {path}: no @requires / @public")
        elif not perms and not getattr(view, PUBLIC_ATTR, False):
            bad.append(f"{method} {path}: empty permissions without @public")
        elif not all(isinstance(p, Perm) for p in perms):
            bad.append(f"{method} {path}: a permission outside the catalogue")
        elif perms and getattr(view, PUBLIC_ATTR, False):
            bad.append(f"{method} {path}: both public and requiring permissions")
    return bad


def test_every_route_declares_its_permissions():
    routes = list(operations())
    assert len(routes) > 10  # the walk sees the app routers, not only the root
    assert undeclared() == []


def test_public_routes_are_the_known_few():
    public_routes = {
        (method, path) for path, method, view in operations() if getattr(view, PUBLIC_ATTR, False)
    }
    assert public_routes == PUBLIC_ROUTES


def test_the_openapi_document_views_are_declared_public():
    resolver = next(p for p in urlpatterns if str(p.pattern) == "api/")
    names = {}
    for pattern in resolver.url_patterns:
        if pattern.name in {"openapi-json", "openapi-view"}:
            names[pattern.name] = pattern.callback
    assert set(names) == {"openapi-json", "openapi-view"}
    for callback in names.values():
        assert getattr(callback, PUBLIC_ATTR, False) is True
        assert getattr(callback, PERMISSIONS_ATTR, None) == ()


def test_every_non_public_route_is_authenticated_in_the_openapi_document():
    schema = api.get_openapi_schema()
    declared = {(m, p): v for p, m, v in operations()}
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            view = declared[(method.upper(), path)]
            if getattr(view, PUBLIC_ATTR, False):
                continue
            assert operation.get("security"), (method, path)
            perms = getattr(view, PERMISSIONS_ATTR)
            assert operation["x-jumin-permissions"] == [p.value for p in perms]
            any_of = getattr(view, ANY_OF_ATTR, ())
            if any_of:
                assert operation["x-jumin-permissions-any-of"] == [p.value for p in any_of]


def test_the_walk_catches_an_undeclared_route():
    # the check bites: a throwaway API with one declared and one undeclared route
    probe = NinjaAPI(urls_namespace="probe-api")
    router = Router()

    @router.get("/declared")
    @requires(Perm.RESIDENT_READ)
    def declared(request):
        return {}

    @router.get("/forgotten")
    def forgotten(request):
        return {}

    @requires(Perm.RESIDENT_READ)  # above the router decorator: never runs
    @router.get("/misplaced")
    def misplaced(request):
        return {}

    @router.get("/open")
    @public
    def open_route(request):
        return {}

    probe.add_router("/probe/", router)
    assert undeclared(probe, "/x") == [
        "GET /x/probe/forgotten: no @requires / @public",
        "GET /x/probe/misplaced: no @requires / @public",
    ]


def test_requires_refuses_nonsense_declarations():
    with pytest.raises(ValueError, match="public"):
        requires()
    with pytest.raises(TypeError):
        requires("register:resident:read")


@pytest.mark.django_db
def test_actor_from_request_takes_the_terminal_from_the_session(rf):
    from jumin.accounts.tests.factories import StaffFactory, TerminalFactory
    from jumin.config.api import actor_from_request

    staff = StaffFactory(roles=["counter_clerk"])
    terminal = TerminalFactory(org_unit=staff.org_unit)
    retired = TerminalFactory(org_unit=staff.org_unit, is_active=False)
    for value, expected in [
        (terminal.pk, terminal),
        (terminal.name, terminal),
        (retired.pk, None),
        (retired.name, None),
        ("NO-SUCH-TERMINAL", None),
        (None, None),
    ]:
        request = rf.get("/api/register/drafts")
        request.user = staff
        request.session = {} if value is None else {"terminal_id": value}
        actor = actor_from_request(request)
        assert actor.staff == staff
        assert actor.channel == "api"
        assert actor.terminal == expected, value
