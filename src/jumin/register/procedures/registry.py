"""Every procedure the register offers, by name — what the API and the screens list.

Each procedure module defines ``SPECS: list[ProcedureSpec]``; add the module to ``MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

MODULES = (
    "move_in",
    "moves",
    "household",
    "ex_officio",
    "identity",
    "foreign",
    "cancellation",
)


# Procedures the system actor (the CS, ``jumin cs receive`` and the like) may enter as a draft,
# with no member of staff logged in: 転入通知の受理 from an inbound 転入通知 and the 個人番号
# recorded from J-LIS's answer. Their drafts are recorded with the system operator account
# (``register.services.SYSTEM_OPERATOR_ID``) and still need a member of staff with
# CHANGE_REVIEW to commit them (invariant 3). Every other procedure needs a member of staff.
SYSTEM_ENTERABLE = frozenset({"move_in_notice_receipt", "my_number_record"})


def system_enterable(name: str) -> bool:
    """Whether the system actor may enter procedure ``name`` as a draft."""
    return name in SYSTEM_ENTERABLE


@dataclass(frozen=True)
class ProcedureSpec:
    name: str  # URL-safe, English: "move_in"
    label: str  # Japanese, what a clerk reads: "転入"
    group: str  # std section, e.g. "4.1.1"
    input_model: type[BaseModel]
    submit: Callable[..., Any]  # submit(actor, data, *, acknowledged=(), idempotency_key=None)

    @property
    def system_enterable(self) -> bool:
        return system_enterable(self.name)


@cache
def all_specs() -> dict[str, ProcedureSpec]:
    specs: dict[str, ProcedureSpec] = {}
    for module_name in MODULES:
        module = importlib.import_module(f"jumin.register.procedures.{module_name}")
        for spec in module.SPECS:
            if spec.name in specs:
                raise RuntimeError(f"procedure {spec.name} is defined twice")
            specs[spec.name] = spec
    return specs


def get(name: str) -> ProcedureSpec | None:
    return all_specs().get(name)


def names() -> Sequence[str]:
    return sorted(all_specs())
