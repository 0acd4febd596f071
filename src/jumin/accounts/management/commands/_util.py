"""Shared helpers for the accounts commands: findings printed as clear CLI errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from jumin.core.findings import FindingsError

T = TypeVar("T")


def run_service(call: Callable[[], T]) -> T:
    try:
        return call()
    except FindingsError as exc:
        lines = [
            f"  - [{f.field or '-'}] {f.message}" + (f"（{f.remedy}）" if f.remedy else "")
            for f in exc.findings
        ]
        raise CommandError("入力内容に誤りがあります:\n" + "\n".join(lines)) from exc
    except PermissionDenied as exc:
        raise CommandError(str(exc)) from exc
