"""A planned or drafted person's record as a clerk reads it: the items that change, with
their Japanese names, before and after. Used by the confirmation and review screens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jumin.core.change_reasons import ChangeReason
from jumin.core.wareki import format_wareki, format_western
from jumin.register.models import ForeignCategory, ResidentRecord
from jumin.register.services import PersonPlan
from jumin.web.labels import CHOICE_LABELS

# shown for a new person even when empty, in this order (then every other filled item)
KEY_ITEMS = (
    "atena_no",
    "household_no",
    "family_name",
    "given_name",
    "name_kana",
    "birth_date",
    "sex",
    "relationship",
    "address",
    "katagaki",
)
HIDDEN = {
    "kana_key",
    "kana_exact",
    "given_kana_key",
    "name_key",
    "former_kana_key",
    "alias_kana_key",
    "id",
}
SECRET = {"my_number", "my_number_id"}
_VALUE_LABELS: dict[str, dict[str, str]] = {
    "sex": CHOICE_LABELS["sex"],
    "resident_type": CHOICE_LABELS["resident_type"],
    "status": {"resident": "住民", "removed": "消除"},
    "removal_reason": {r.value: r.label for r in ChangeReason},
    "change_reason": {r.value: r.label for r in ChangeReason},
    "foreign_category": dict(ForeignCategory.choices),
}


def _labels() -> dict[str, str]:
    out: dict[str, str] = {}
    for f in ResidentRecord._meta.get_fields():
        attname = getattr(f, "attname", f.name)
        out[attname] = str(getattr(f, "verbose_name", f.name))
    return out


LABELS = {**_labels(), "birth_date": "生年月日", "birth_date_text": "生年月日（不詳日の表記）"}
PENDING = "（登録時に採番）"


@dataclass(frozen=True)
class Item:
    name: str
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class PersonSummary:
    atena_no: str
    is_new: bool
    name: str
    items: list[Item]


def show(name: str, value: Any, *, western: bool = False) -> str:
    """One item's value as printed on the screen (和暦 dates — Western for a foreign
    resident, std 1.1.9 — and Japanese codes)."""
    if value in (None, "") or value == {} or value == []:
        return ""
    if name in SECRET:
        return "（記録あり）"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return _date(day, western)
    if isinstance(value, dt.date):
        return _date(value, western)
    labels = _VALUE_LABELS.get(name)
    if labels is not None:
        return labels.get(str(value), str(value))
    return str(value)


def _date(day: dt.date, western: bool) -> str:
    if western:
        return format_western(day)
    return f"{format_wareki(day)}（{day.isoformat()}）"


def summarise(
    atena_no: str,
    after: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    new_households: Sequence[str] = (),
    hidden: frozenset[str] = frozenset(),
) -> PersonSummary:
    """``new_households``: 世帯番号 taken for the plan (a preview rolls them back, so they are
    shown as assigned on saving). ``hidden``: the items of std 10.4 (j1390) the reader may not
    see (``jumin.register.reads.hidden_items``) — left out, not even "changed"."""
    items: list[Item] = []
    western = after.get("resident_type") == "foreign"
    names = [n for n in after if n in LABELS and n not in HIDDEN and n not in hidden]
    if before is None:
        ordered = [n for n in KEY_ITEMS if n in after and n not in hidden] + [
            n for n in names if n not in KEY_ITEMS and after.get(n) not in (None, "", False)
        ]
        items = [Item(n, LABELS[n], "", show(n, after.get(n), western=western)) for n in ordered]
        if new_households:
            items = [_pending(item, after, new_households) for item in items]
    else:
        for n in names:
            was, now = before.get(n), after.get(n)
            if n in SECRET:
                if was != now:
                    items.append(Item(n, "個人番号", "（変更前）", "（変更あり）"))
                continue
            shown_was, shown_now = show(n, was, western=western), show(n, now, western=western)
            if shown_was != shown_now:
                items.append(Item(n, LABELS[n], shown_was, shown_now))
    name = f"{after.get('family_name', '')} {after.get('given_name', '')}".strip() or str(
        after.get("name_alphabet") or ""
    )
    return PersonSummary(atena_no, before is None, name, items)


def _pending(item: Item, after: Mapping[str, Any], new_households: Sequence[str]) -> Item:
    if item.name == "atena_no":
        return Item(item.name, item.label, "", PENDING)
    if item.name == "household_no" and after.get("household_no") in new_households:
        return Item(item.name, item.label, "", "新しい世帯" + PENDING)
    return item


def person_summaries(
    persons: Sequence[PersonPlan],
    before: Mapping[str, Mapping[str, Any]],
    new_households: Sequence[str] = (),
    hidden: frozenset[str] = frozenset(),
) -> list[PersonSummary]:
    """Summaries of a preview: new persons' numbers are not final yet (``new_households``
    given), a saved draft's are."""
    return [
        summarise(
            p.atena_no,
            p.after,
            before.get(p.atena_no) if p.base_history_no else None,
            new_households,
            hidden,
        )
        for p in persons
    ]
