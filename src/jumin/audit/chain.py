"""The hash chain of the operation log (pure functions, no database).

Each entry's hash covers its position (``seq``), every recorded field and the previous
entry's hash, so that changing, deleting, inserting or reordering an entry breaks the chain
from that point on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

GENESIS_HASH = "0" * 64

# The fields an entry's hash covers, as named in ``entry_hash`` (and on the model).
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "operator_code",
    "terminal_name",
    "place",
    "category",
    "function",
    "screen",
    "targets",
    "my_number_accessed",
    "outcome",
    "detail",
    "prev_hash",
)


def canonical_time(value: dt.datetime) -> str:
    """UTC, microsecond precision: the same text on SQLite and PostgreSQL."""
    if value.tzinfo is None:
        raise ValueError("operation log times must be timezone-aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    occurred_at: dt.datetime,
    operator_code: str,
    terminal_name: str,
    place: str,
    category: str,
    function: str,
    screen: str,
    targets: Sequence[str],
    my_number_accessed: bool,
    outcome: str,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "occurred_at": canonical_time(occurred_at),
        "operator_code": operator_code,
        "terminal_name": terminal_name,
        "place": place,
        "category": category,
        "function": function,
        "screen": screen,
        "targets": list(targets),
        "my_number_accessed": bool(my_number_accessed),
        "outcome": outcome,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_of(entry: Any) -> str:
    """``entry_hash`` of anything with the hashed fields as attributes (a model instance or
    a named row)."""
    return entry_hash(**{name: getattr(entry, name) for name in HASHED_FIELDS})
