"""Where a member of staff may log in from: on-premises roles and address ranges."""

from __future__ import annotations

import pytest

from jumin.accounts.models import Role
from jumin.accounts.services import LOGIN_PLACE_REFUSED, check_login_place
from jumin.accounts.tests.factories import StaffFactory, TerminalFactory

pytestmark = pytest.mark.django_db


# std 10.3 (j1380): the certificate contractor works only at on-premises terminals
def test_on_premises_role_needs_an_active_on_premises_terminal():
    contractor = StaffFactory(roles=["certificate_contractor"])
    assert Role.objects.get(code="certificate_contractor").on_premises_only
    inside = TerminalFactory(on_premises=True)
    outside = TerminalFactory(on_premises=False)
    retired = TerminalFactory(on_premises=True, is_active=False)
    assert check_login_place(contractor, inside, "10.0.0.5") is None
    assert check_login_place(contractor, None, "10.0.0.5") == LOGIN_PLACE_REFUSED
    assert check_login_place(contractor, outside, "10.0.0.5") == LOGIN_PLACE_REFUSED
    assert check_login_place(contractor, retired, "10.0.0.5") == LOGIN_PLACE_REFUSED


def test_unlimited_roles_log_in_anywhere_but_not_from_an_inactive_terminal():
    clerk = StaffFactory(roles=["counter_clerk"])
    assert check_login_place(clerk, None, "203.0.113.9") is None
    assert check_login_place(clerk, TerminalFactory(on_premises=False), "203.0.113.9") is None
    retired = TerminalFactory(is_active=False)
    assert check_login_place(clerk, retired, "10.0.0.5") == LOGIN_PLACE_REFUSED


# std 10.3 (j1380)
def test_terminal_address_ranges():
    clerk = StaffFactory(roles=["counter_clerk"])
    terminal = TerminalFactory(allowed_networks=["10.1.0.0/16", "2001:db8::/32"])
    assert check_login_place(clerk, terminal, "10.1.2.3") is None
    assert check_login_place(clerk, terminal, "2001:db8::1") is None
    assert check_login_place(clerk, terminal, "::ffff:10.1.2.3") is None
    assert check_login_place(clerk, terminal, "10.2.0.1") == LOGIN_PLACE_REFUSED
    assert check_login_place(clerk, terminal, "") == LOGIN_PLACE_REFUSED
    assert check_login_place(clerk, terminal, "not-an-address") == LOGIN_PLACE_REFUSED


def test_a_stored_range_list_that_cannot_be_read_refuses_every_address():
    clerk = StaffFactory(roles=["counter_clerk"])
    terminal = TerminalFactory(allowed_networks=["garbage"])
    assert check_login_place(clerk, terminal, "10.1.2.3") == LOGIN_PLACE_REFUSED


# std 10.3 (j1380)
def test_role_address_ranges_and_any_limited_role_refuses():
    staff = StaffFactory(roles=["counter_clerk", "reviewer"])
    Role.objects.filter(code="reviewer").update(allowed_networks=["192.168.10.0/24"])
    staff = type(staff).objects.get(pk=staff.pk)
    assert check_login_place(staff, None, "192.168.10.20") is None
    # the clerk role alone would allow it; the reviewer role's limit refuses the whole login
    assert check_login_place(staff, None, "192.168.11.20") == LOGIN_PLACE_REFUSED


def test_refusal_is_japanese_and_generic():
    assert "ログインできません" in LOGIN_PLACE_REFUSED
    assert "庁舎" not in LOGIN_PLACE_REFUSED and "アドレス" not in LOGIN_PLACE_REFUSED
