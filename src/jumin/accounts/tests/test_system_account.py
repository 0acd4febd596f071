"""The account the system enters drafts under (the CS): cannot log in, created once, logged."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from jumin.accounts import services
from jumin.audit.models import OperationLogEntry

pytestmark = pytest.mark.django_db


def test_system_account_is_created_once_logged_and_cannot_log_in():
    # std 4.0.8 (j530): the committer always differs from the system that entered the draft
    first = services.system_account("batch:test", name="試験（自動入力）", name_kana="シケン")
    again = services.system_account("batch:test", name="別名", name_kana="ベツメイ")
    assert first.pk == again.pk and again.name == "試験（自動入力）"
    assert not first.is_active and not first.has_usable_password()
    assert not first.roles.exists()
    assert authenticate(username="batch:test", password="") is None
    entries = OperationLogEntry.objects.filter(function="システム用アカウントの作成")
    assert [e.detail["staff_id"] for e in entries] == ["batch:test"]
