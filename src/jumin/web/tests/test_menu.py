"""The menu shows exactly the screens the route table lets a member of staff open
(std 10.3, j1380: 利用者別の各種制御) — no link that would end on the 403 page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from jumin.accounts.permissions import BUILTIN_ROLES
from jumin.accounts.tests.factories import StaffFactory
from jumin.web.context import _Can
from jumin.web.route_perms import ROUTES

pytestmark = pytest.mark.django_db

NAV = re.compile(r'<nav aria-label="主な機能">(.*?)</nav>', re.S)


@pytest.mark.parametrize("role", [r.code for r in BUILTIN_ROLES])
def test_menu_links_match_the_route_table(client, role):
    # std 10.3 (j1380)
    spec = next(r for r in BUILTIN_ROLES if r.code == role)
    client.force_login(StaffFactory(roles=[role]))
    html = client.get(reverse("web:home")).content.decode()
    nav = NAV.search(html)
    assert nav is not None
    for route in set(_Can.ROUTES.values()) - {"web:cs_query"}:  # not in the main menu
        shown = f'href="{reverse(route)}"' in nav.group(1)
        allowed = ROUTES[route].allows(spec.permissions)
        if route == "web:audit_verify" and ROUTES["web:audit_search"].allows(spec.permissions):
            allowed = False  # one 操作ログ entry: the search, which links to the check
        assert shown == allowed, (role, route)


def test_an_expired_member_of_staff_sees_no_menu_entries(client):
    # std 10.3 (j1380): 利用範囲及び期間 — outside the validity period, nothing is offered

    staff = StaffFactory(roles=["supervisor"], valid_until=dt.date(2021, 3, 31))
    can = _Can(staff)
    assert not any(getattr(can, key) for key in _Can.ROUTES)
