"""Snapshots: a resident record as a plain dict, and the search keys derived from it.

A draft stores, per person, the full snapshot after the change (JSON: dates as ISO
strings). Committing turns each snapshot into a history row and the current-view row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jumin.core.names import kana_exact_key, kana_search_key, name_kana_keys
from jumin.core.variants import name_search_key
from jumin.register.models import Resident, ResidentRecord

SEARCH_KEY_FIELDS = (
    "kana_key",
    "kana_exact",
    "given_kana_key",
    "name_key",
    "former_kana_key",
    "alias_kana_key",
)
_DATE_FIELDS = {
    f.name for f in ResidentRecord._meta.get_fields() if f.get_internal_type() == "DateField"
}
SNAPSHOT_FIELDS: tuple[str, ...] = tuple(
    f.attname  # type: ignore[union-attr]
    for f in ResidentRecord._meta.get_fields()
    if f.name not in SEARCH_KEY_FIELDS
)


def to_json(record: dict[str, Any]) -> dict[str, Any]:
    """Dates to ISO strings, everything else as is."""
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items()}


def from_json(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key[:-3] if key.endswith("_id") else key
        if name in _DATE_FIELDS and isinstance(value, str) and value:
            out[key] = dt.date.fromisoformat(value)
        elif name in _DATE_FIELDS and value == "":
            out[key] = None
        else:
            out[key] = value
    return out


def snapshot(resident: Resident) -> dict[str, Any]:
    """The current record of ``resident`` as a JSON-able dict of every item."""
    return to_json({name: getattr(resident, name) for name in SNAPSHOT_FIELDS})


def blank_snapshot() -> dict[str, Any]:
    """A record with every item empty, for a person entered for the first time."""
    out: dict[str, Any] = {}
    for f in ResidentRecord._meta.get_fields():
        if f.name in SEARCH_KEY_FIELDS:
            continue
        attname = f.attname  # type: ignore[union-attr]
        if f.get_internal_type() == "BooleanField":
            out[attname] = False
        elif f.get_internal_type() == "JSONField":
            out[attname] = {}
        elif f.null:
            out[attname] = None
        else:
            out[attname] = ""
    return out


def search_keys(record: dict[str, Any]) -> dict[str, str]:
    """The search keys of std 2.1.2 (j330) for a snapshot; computed, never entered."""
    kana = record.get("name_kana") or ""
    keys = name_kana_keys(kana) if kana else None
    names = " ".join(p for p in (record.get("family_name"), record.get("given_name")) if p)
    name_text = names or record.get("name_alphabet") or ""
    former = record.get("former_family_name_kana") or ""
    alias_kana = record.get("alias_kana") or ""
    return {
        "kana_key": keys.fuzzy if keys else "",
        "kana_exact": keys.exact if keys else "",
        "given_kana_key": keys.given_fuzzy if keys else "",
        "name_key": name_search_key(name_text) if name_text else "",
        "former_kana_key": kana_search_key(former) if former else "",
        "alias_kana_key": kana_search_key(alias_kana) if alias_kana else "",
    }


__all__ = [
    "SEARCH_KEY_FIELDS",
    "SNAPSHOT_FIELDS",
    "blank_snapshot",
    "from_json",
    "kana_exact_key",
    "search_keys",
    "snapshot",
    "to_json",
]
