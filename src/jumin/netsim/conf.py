"""netsim's own settings block (``settings.NETSIM``), typed in one place.

mypy's Django plugin reads the main project's settings, which have no ``NETSIM``; reading it
through ``getattr`` here keeps every other module checked normally.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings


def netsim() -> dict[str, Any]:
    config: dict[str, Any] = getattr(settings, "NETSIM")  # noqa: B009 - see the docstring
    return config


def key_file() -> Path:
    return Path(netsim()["KEY_FILE"])


def production() -> bool:
    return bool(netsim()["MODE"] == "production")


def faults_enabled() -> bool:
    return bool(netsim()["FAULTS"])


def open_registration() -> bool:
    return bool(netsim()["OPEN_REGISTRATION"])


def prefectures() -> tuple[str, ...]:
    return tuple(netsim()["PREFECTURES"])


def query_limit() -> int:
    return int(netsim()["QUERY_LIMIT"])
