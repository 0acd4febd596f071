"""The authorisation matrix (issue 5 item 5; std 10.3, j1380): every route of the clerk UI
and every operation of the API × every built-in role and anonymous.

Generated from the permission catalogue (``BUILTIN_ROLES``), the route table
(``jumin.web.route_perms.ROUTES``) and the API's own declarations (``@requires``):

- anonymous → the login page (screens) / 401 (API), except the public routes;
- a role without the permission → 403;
- a role with it → anything but 401/403/405/500 (a GET with path arguments from a small
  fixture city; a POST with an empty body, answered by a re-render, a redirect, 4xx…).

A route nobody declared fails ``test_every_web_route_is_declared``. The fixture city is made
once for the module, inside a transaction rolled back at its end; each test runs in a
savepoint of it (the ``setUpTestData`` pattern).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from jumin.accounts.models import Staff
from jumin.accounts.permissions import BUILTIN_ROLES, Perm
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry, Outcome
from jumin.audit.reports import REPORTS
from jumin.certificates import services as certificate_services
from jumin.certificates import signing
from jumin.certificates.schemas import CertificateRequestIn
from jumin.config.api import ANY_OF_ATTR, PERMISSIONS_ATTR, PUBLIC_ATTR, api
from jumin.outbox.models import OutboxMessage
from jumin.register import crypto
from jumin.register.procedures import registry
from jumin.register.tests import factories as f
from jumin.support.tests import factories as support_factories
from jumin.web.route_perms import ROUTES, Access, Rule

pytestmark = pytest.mark.django_db  # each test: a savepoint inside the module's city

ROLES = [r.code for r in BUILTIN_ROLES]
ROLE_PERMS: dict[str, frozenset[Perm]] = {r.code: r.permissions for r in BUILTIN_ROLES}
ANONYMOUS = "anonymous"
NOT_ALLOWED_FOR_PERMITTED = {401, 403, 405, 500}

# Screens answering only POST (a GET would be a 405 from the view, after the check).
POST_ONLY = {
    "web:logout",
    "web:reveal_my_number",
    "web:lock",
    "web:bulk_commit",
    "web:commit",
    "web:reject",
    "web:withdraw",
    "web:support_confirm",
    "web:support_extend",
    "web:support_terminate",
    "web:cs_manual",
    "web:cs_resend",
    "web:certificate_revoke",
    "web:audit_print_log",
    "web:auth_verify_options",
    "web:auth_register_options",
    "web:auth_register",
    "web:admin_staff_deactivate",
    "web:admin_staff_reactivate",
    "web:admin_staff_reset_password",
    "web:admin_schedule_cancel",
}


# --------------------------------------------------------------------------- the fixture city


@dataclass
class City:
    staff: dict[str, Staff]
    args: dict[str, str]


@pytest.fixture(scope="module")
def city(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[City]:
    """A household, a draft by another clerk, a support measure on someone else, an issued
    certificate, one member of staff per built-in role; rolled back when the module ends."""
    tmp = tmp_path_factory.mktemp("matrix")
    certificates = override_settings(
        KEY_FILE=tmp / "keys.json",
        VAR_DIR=tmp / "var",
        JUMIN={**settings.JUMIN, "MODE": "demo", "CERT_VERIFY_BASE_URL": "http://testserver"},
    )
    with certificates, _fresh_keys(), django_db_blocker.unblock(), transaction.atomic():
        _, family = f.family()
        draft = f.move_in_input(f.person(family_name="審査", given_name="待子"))
        from jumin.register.procedures import move_in

        change = move_in.submit(f.clerk(), draft, acknowledged=["duplicate.person"])
        _, [protected] = f.committed_move_in(f.person(family_name="支援", given_name="保護"))
        measure = support_factories.active(protected)
        outbox = OutboxMessage.objects.order_by("pk").first()
        issued = certificate_services.issue(
            f.clerk(),
            CertificateRequestIn.model_validate(
                {
                    "kind": "record_copy",
                    "atena_nos": [family[0].atena_no],
                    "requester": {
                        "kind": "self",
                        "name": "相模　太郎",
                        "atena_no": family[0].atena_no,
                    },
                    "purpose": "勤務先への提出",
                    "identity_document": {"kind": "driver_license", "number": "AB12345678"},
                }
            ),
        )
        issue = issued.issues.order_by("pk").first()
        assert issue is not None
        staff = {code: StaffFactory(roles=[code]) for code in ROLES}
        someone = StaffFactory(roles=["counter_clerk"])
        args = {
            "atena_no": family[0].atena_no,
            "household_no": family[0].household_no,
            "change_id": str(change.pk),
            "measure_id": str(measure.pk),
            "outbox_id": str(outbox.pk if outbox is not None else 1),
            "name": next(iter(registry.all_specs())),
            "request_id": str(issued.pk),
            "issue_id": issue.issue_id,
            "staff_id": someone.staff_id,
            "code": "counter_clerk",
            "key": next(iter(REPORTS)),
            "seq": "1",
            "token": "no-such-token",
        }
        yield City(staff=staff, args=args)
        transaction.set_rollback(True)


@contextlib.contextmanager
def _fresh_keys() -> Iterator[None]:
    """Key and signing caches follow the overridden settings, and are dropped after."""
    crypto.reset_keyring_cache()
    signing.reset_cache()
    try:
        yield
    finally:
        crypto.reset_keyring_cache()
        signing.reset_cache()


def client_for(city: City, who: str) -> Client:
    client = Client()
    if who != ANONYMOUS:
        client.force_login(city.staff[who])
    return client


# --------------------------------------------------------------------------- the web routes


def _walk(
    patterns: list[Any], prefix: str = "", namespaces: tuple[str, ...] = ()
) -> Iterator[tuple[str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "api" or str(p.pattern).startswith("api/"):
                continue  # the API: its operations declare themselves (below)
            ns = (*namespaces, p.namespace) if p.namespace else namespaces
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            if str(p.pattern).startswith("^api/"):
                continue  # the API's "no such route" answer
            name = ":".join((*namespaces, p.name)) if p.name else p.lookup_str
            yield name, p


def web_routes() -> dict[str, URLPattern]:
    return dict(_walk(get_resolver().url_patterns))


WEB_ROUTES = sorted(web_routes())


def web_url(name: str, city: City) -> str:
    pattern = web_routes()[name]
    kwargs = {k: city.args.get(k, "1") for k in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


def test_every_web_route_is_declared():
    """std 10.3 (j1380): 操作権限一覧表 — every screen has its line in the route table."""
    routes = set(web_routes())
    assert len(routes) > 30  # the walk sees the included apps, not only the root
    assert sorted(routes - set(ROUTES)) == [], "declare these in jumin/web/route_perms.py"
    assert sorted(set(ROUTES) - routes) == [], "no such route any more: remove the line"


# Permissions no screen or API operation needs at the door: checked by a service behind a
# generic route (a procedure's draft) or by a command run with ``--operator STAFF_ID``
# (jumin.accounts.services.batch_operator; tests in accounts/tests/test_batch_operator.py).
NOT_AT_THE_DOOR = {
    Perm.CHANGE_CANCEL,  # jumin.register.procedures.cancellation, behind web:procedure
    Perm.JUMINHYO_CODE_ASSIGN,  # the juminhyo_code_assign procedure, behind web:procedure
    Perm.REGISTER_IMPORT,  # jumin import (command)
    Perm.REGISTER_VERIFY,  # jumin register verify --operator (command)
    Perm.BATCH_RUN,  # jumin staff apply-scheduled / cs reconcile --operator (commands)
}


def test_every_permission_of_the_catalogue_has_its_place():
    """std 10.3 (j1380): every function's permission guards a route, an operation or an item
    (std 10.4) — or is named above with where it is checked."""
    used = {p for r in ROUTES.values() for p in (*r.all_of, *r.any_of)}
    for operation in API_OPERATIONS:
        used |= set(getattr(operation.view, PERMISSIONS_ATTR, ()))
        used |= set(getattr(operation.view, ANY_OF_ATTR, ()))
    from jumin.register.reads import ITEM_PERMISSIONS

    used |= set(ITEM_PERMISSIONS.values())
    assert sorted(set(Perm) - used - NOT_AT_THE_DOOR) == []
    assert sorted(used & NOT_AT_THE_DOOR) == [], "now used at the door: drop it from the list"


def _request(client: Client, name: str, url: str) -> Any:
    if name in POST_ONLY:
        return client.post(url, {})
    return client.get(url)


@pytest.mark.parametrize("who", [ANONYMOUS, *ROLES])
@pytest.mark.parametrize("route", WEB_ROUTES)
def test_web_route(city: City, route: str, who: str) -> None:
    # std 10.3 (j1380): 事務分掌による利用者ごとの…実施処理の制御
    rule: Rule | None = ROUTES.get(route)
    assert rule is not None, f"{route} is not declared in route_perms"
    url = web_url(route, city)
    response = _request(client_for(city, who), route, url)
    status = response.status_code
    where = f"{route} ({url}) as {who}: {status}"
    if rule.access is Access.PUBLIC:
        # let through: the view answers (it may itself refuse a bad token, say)
        assert status != 500, where
        assert not response.get("Location", "").startswith("/login/?next="), where
        assert "利用権限が設定されていない" not in response.content.decode(), where
    elif who == ANONYMOUS:
        assert status == 302, where
        assert response["Location"].startswith("/login/?next="), where
    elif rule.allows(ROLE_PERMS[who]):
        assert status not in NOT_ALLOWED_FOR_PERMITTED, where
        if status == 302:
            assert not response["Location"].startswith("/login/"), where
    else:
        assert status == 403, where
        assert "権限" in response.content.decode(), where


def test_a_refusal_at_the_door_is_logged_with_the_missing_permission(city: City):
    # std 10.2 (j1370): the refusal is in the operation log
    auditor = city.staff["auditor"]
    response = client_for(city, "auditor").get(web_url("web:search", city))
    assert response.status_code == 403
    assert "住民の検索" in response.content.decode()  # the permission named in Japanese
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry is not None
    assert entry.outcome == Outcome.DENIED
    assert entry.operator_id == auditor.pk
    assert entry.detail["missing_permission"] == Perm.RESIDENT_SEARCH.value
    assert "web:search" in entry.function


def test_an_undeclared_route_is_refused_to_everyone(city: City, monkeypatch):
    from jumin.web import route_perms

    monkeypatch.delitem(route_perms.ROUTES, "web:home")
    response = client_for(city, "supervisor").get("/")
    assert response.status_code == 403
    assert "利用権限が設定されていない" in response.content.decode()


def test_rule_any_of_needs_one_of_them():
    rule = route_perms_needs(Perm.RESIDENT_READ, any_of=(Perm.CHANGE_DRAFT, Perm.CHANGE_REVIEW))
    assert rule.allows({Perm.RESIDENT_READ, Perm.CHANGE_REVIEW})
    assert not rule.allows({Perm.RESIDENT_READ})
    assert not rule.allows({Perm.CHANGE_DRAFT})
    assert "または" in rule.label


def route_perms_needs(*perms: Perm, any_of: tuple[Perm, ...] = ()) -> Rule:
    from jumin.web.route_perms import needs

    return needs(*perms, any_of=any_of)


# --------------------------------------------------------------------------- the API


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    view: Callable[..., Any]

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        return bool(getattr(self.view, PUBLIC_ATTR, False))

    def allows(self, held: frozenset[Perm]) -> bool:
        perms = getattr(self.view, PERMISSIONS_ATTR, ())
        any_of = getattr(self.view, ANY_OF_ATTR, ())
        return all(p in held for p in perms) and (not any_of or any(p in held for p in any_of))


def api_operations() -> list[Operation]:
    api.urls  # noqa: B018  (adds the apps' routers)
    out = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    full = "/api/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
                    out.append(Operation(method.upper(), full, operation.view_func))
    return sorted(out, key=lambda o: o.id)


API_OPERATIONS = api_operations()


def api_url(path: str, city: City) -> str:
    def value(match: re.Match[str]) -> str:
        return city.args.get(match.group(1), "1")

    return re.sub(r"\{(?:\w+:)?(\w+)\}", value, path)


def test_the_api_walk_sees_the_apps():
    assert len(API_OPERATIONS) > 20
    assert any(o.path == "/api/register/residents/{atena_no}" for o in API_OPERATIONS)


@pytest.mark.parametrize("who", [ANONYMOUS, *ROLES])
@pytest.mark.parametrize("operation", API_OPERATIONS, ids=lambda o: o.id)
def test_api_operation(city: City, operation: Operation, who: str) -> None:
    # std 10.3 (j1380); invariant 8: refusals are problem documents with a stable code
    client = client_for(city, who)
    url = api_url(operation.path, city)
    if operation.method == "GET":
        response = client.get(url)
    else:
        response = client.generic(operation.method, url, "{}", content_type="application/json")
    status = response.status_code
    where = f"{operation.id} ({url}) as {who}: {status}"
    if operation.public:
        assert status not in NOT_ALLOWED_FOR_PERMITTED, where
    elif who == ANONYMOUS:
        assert status == 401, where
        assert response.json()["code"] == "unauthenticated", where
    elif operation.allows(ROLE_PERMS[who]):
        assert status not in NOT_ALLOWED_FOR_PERMITTED, where
    else:
        assert status == 403, where
        assert response.json()["code"] == "permission_denied", where


def test_the_door_finds_the_declaration_of_every_api_operation():
    # the API door (jumin.web.middleware.api_check) reads the operation out of ninja's URL
    # view, an internal of django-ninja: if an upgrade changes it, this fails rather than
    # every refusal quietly coming after parsing (422 instead of 403)
    from django.urls import resolve

    from jumin.web.middleware import _operation_view

    for operation in API_OPERATIONS:
        url = re.sub(r"\{(?:\w+:)?(\w+)\}", "1", operation.path)
        match = resolve(url)
        assert match.namespaces[:1] == ["api"], operation.id
        assert _operation_view(match.func, operation.method) is operation.view, operation.id


def test_api_refuses_before_parsing_the_request(city: City):
    # a caller without the permission learns nothing about the body the operation expects:
    # 403 permission_denied, not 422 schema_invalid (ninja parses before the view runs)
    client = client_for(city, "auditor")
    response = client.post(
        "/api/register/procedures/move_in/drafts", "not json", content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.outcome == Outcome.DENIED
    assert entry.detail["missing_permission"] == Perm.CHANGE_DRAFT.value
    allowed = client_for(city, "counter_clerk").post(
        "/api/register/procedures/move_in/drafts", "not json", content_type="application/json"
    )
    assert allowed.status_code in (400, 422)
