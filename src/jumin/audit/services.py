"""Appending to the operation log. std 10.2 (j1370).

``record`` runs in the caller's transaction: when the caller's work rolls back, so does its
log entry, and the log never claims a write that did not happen. Denied and failed
operations are recorded by the caller outside the failed transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from jumin.audit.chain import GENESIS_HASH, entry_hash
from jumin.audit.models import (
    Category,
    OperationLogEntry,
    OperationLogHead,
    OperationLogTarget,
    Outcome,
)
from jumin.core.identifiers import is_valid_my_number

_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


class ActorLike(Protocol):
    """What the log needs to know of whoever acts (see ``jumin.accounts.actor.Actor``)."""

    @property
    def staff(self) -> Any: ...

    @property
    def operator_code(self) -> str: ...

    @property
    def terminal_name(self) -> str: ...

    @property
    def place(self) -> str: ...


class MyNumberInLogError(ValueError):
    """Invariant 6: the 個人番号 is never written to the log in clear."""


def _refuse_my_numbers(value: Any) -> None:
    if isinstance(value, str):
        for match in _TWELVE_DIGITS.finditer(value):
            if is_valid_my_number(match.group()):
                raise MyNumberInLogError(
                    "操作ログに個人番号を記録することはできません。"
                    " The operation log must never hold a 個人番号 in clear."
                )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_my_numbers(key)
            _refuse_my_numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_my_numbers(item)


def _locked_head() -> OperationLogHead:
    head = OperationLogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # a fresh or flushed database: start the chain
        OperationLogHead.objects.bulk_create(
            [OperationLogHead(pk=1, last_seq=0, last_hash=GENESIS_HASH)], ignore_conflicts=True
        )
        head = OperationLogHead.objects.select_for_update().get(pk=1)
    return head


def record(
    actor: ActorLike,
    *,
    category: Category | str,
    function: str,
    screen: str = "",
    targets: Iterable[str] = (),
    my_number_accessed: bool = False,
    outcome: Outcome | str = Outcome.SUCCESS,
    detail: Mapping[str, Any] | None = None,
) -> OperationLogEntry:
    """Append one entry to the chain and return it.

    ``targets`` are the 宛名番号 of the persons concerned; ``detail`` is a small JSON object
    (never a 個人番号 — refused with ``MyNumberInLogError``).
    """
    category = Category(category)
    outcome = Outcome(outcome)
    target_list = sorted({str(t) for t in targets})
    detail_dict = dict(detail or {})
    _refuse_my_numbers(detail_dict)
    _refuse_my_numbers(target_list)
    if not function:
        raise ValueError("an operation log entry needs a function name")

    with transaction.atomic():
        head = _locked_head()
        seq = head.last_seq + 1
        occurred_at = timezone.now()
        fields = {
            "seq": seq,
            "occurred_at": occurred_at,
            "operator_code": actor.operator_code,
            "terminal_name": actor.terminal_name,
            "place": actor.place,
            "category": category.value,
            "function": function,
            "screen": screen,
            "targets": target_list,
            "my_number_accessed": my_number_accessed,
            "outcome": outcome.value,
            "detail": detail_dict,
            "prev_hash": head.last_hash,
        }
        digest = entry_hash(**fields)  # type: ignore[arg-type]
        entry = OperationLogEntry.objects.create(operator=actor.staff, entry_hash=digest, **fields)
        if target_list:
            OperationLogTarget.objects.bulk_create(
                OperationLogTarget(entry=entry, atena_no=a) for a in target_list
            )
        OperationLogHead.objects.filter(pk=1).update(last_seq=seq, last_hash=digest)
    return entry
