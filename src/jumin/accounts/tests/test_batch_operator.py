"""Batch commands run by a named member of staff (``--operator``) need their permission
(std 10.3, j1380: 9.1 バッチ処理 is controlled on its own) and name them in the log."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry

pytestmark = pytest.mark.django_db


def test_register_verify_needs_its_permission_and_names_the_operator():
    # std 10.3 (j1380)
    clerk = StaffFactory(roles=["counter_clerk"])
    with pytest.raises(CommandError, match="住民記録の整合性検査"):
        call_command("register", "verify", "--operator", clerk.staff_id)
    assert OperationLogEntry.objects.filter(
        operator_code=clerk.staff_id, outcome="denied", function="住民記録の整合性検査"
    ).exists()
    supervisor = StaffFactory(roles=["supervisor"])
    call_command("register", "verify", "--operator", supervisor.staff_id)
    entry = OperationLogEntry.objects.filter(function="住民記録の整合性検査").latest("seq")
    assert entry.operator_code == supervisor.staff_id and entry.outcome == "success"


def test_apply_scheduled_needs_the_batch_permission():
    # std 10.3 (j1380): バッチ処理の実行
    clerk = StaffFactory(roles=["counter_clerk"])
    with pytest.raises(CommandError, match="バッチ処理の実行"):
        call_command("staff", "apply-scheduled", "--operator", clerk.staff_id)
    admin = StaffFactory(roles=["administrator"])
    call_command("staff", "apply-scheduled", "--operator", admin.staff_id)


def test_an_unknown_or_expired_operator_is_refused():
    with pytest.raises(CommandError, match="職員はいません"):
        call_command("register", "verify", "--operator", "nobody")
    import datetime as dt

    gone = StaffFactory(roles=["supervisor"], valid_until=dt.date(2021, 3, 31))
    with pytest.raises(CommandError):
        call_command("register", "verify", "--operator", gone.staff_id)


def test_cs_reconcile_needs_the_batch_permission(settings, tmp_path, monkeypatch):
    # std 10.3 (j1380); std 7.1.1.2 (j1100) run by a named operator
    monkeypatch.setenv("JUMIN_CS_KEY_FILE", str(tmp_path / "cs-key.json"))
    clerk = StaffFactory(roles=["counter_clerk"])
    with pytest.raises(CommandError, match="バッチ処理の実行"):
        call_command("cs", "reconcile", "--operator", clerk.staff_id)
    admin = StaffFactory(roles=["administrator"])
    call_command("cs", "reconcile", "--operator", admin.staff_id)
    assert OperationLogEntry.objects.filter(operator_code=admin.staff_id).exists()
