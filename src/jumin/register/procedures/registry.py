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


@dataclass(frozen=True)
class ProcedureSpec:
    name: str  # URL-safe, English: "move_in"
    label: str  # Japanese, what a clerk reads: "転入"
    group: str  # std section, e.g. "4.1.1"
    input_model: type[BaseModel]
    submit: Callable[..., Any]  # submit(actor, data, *, acknowledged=(), idempotency_key=None)


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
