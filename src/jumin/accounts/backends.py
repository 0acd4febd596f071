"""Authentication backend: staff id + password, honouring the validity period."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest
from django.utils import timezone

from jumin.accounts.models import Staff


class StaffBackend(BaseBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Staff | None:
        if not username or password is None:
            return None
        try:
            staff = Staff.objects.get(staff_id=username)
        except Staff.DoesNotExist:
            # Hash anyway so that an unknown id takes as long as a wrong password.
            Staff().set_password(password)
            return None
        if staff.check_password(password) and staff.is_valid_on(timezone.localdate()):
            return staff
        return None

    def get_user(self, user_id: int) -> Staff | None:
        try:
            staff = Staff.objects.get(pk=user_id)
        except Staff.DoesNotExist:
            return None
        return staff if staff.is_valid_on(timezone.localdate()) else None
