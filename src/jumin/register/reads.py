"""照会 (logged reads of the register): a person, a household, a person's history, and the
個人番号 on request.

DESIGN invariant 5: every read of a person is logged — who, when, terminal (from the actor),
the function, which persons (``targets``) and whether the 個人番号 was shown
(``my_number_accessed``). Only committed data is read: ``Resident`` and ``ResidentHistory``
are written when a change is committed, never by a draft (std 4.0.8, j530).

"As of date D" follows ADR 0002: the latest snapshot of the person with ``occurred_on ≤ D``,
by ``history_no``, among changes not cancelled by a committed 異動の取消し.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import transaction

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.core.errors import CoreError
from jumin.core.findings import FindingsError, error
from jumin.core.identifiers import is_valid_my_number
from jumin.core.relationships import HouseholdMember, household_display_order
from jumin.core.variants import name_search_key
from jumin.register import crypto, selectors
from jumin.register.models import (
    Household,
    Resident,
    ResidentHistory,
    ResidentRecord,
    ResidentStatus,
)

READ_FUNCTION = "住民照会"
HOUSEHOLD_FUNCTION = "世帯照会"
HISTORY_FUNCTION = "異動履歴照会"
MY_NUMBER_FUNCTION = "個人番号表示"
REASON_MAX = 200
HEAD = "世帯主"


@dataclass(frozen=True)
class ResidentView:
    """One person's record: the current one (``Resident``), or the snapshot as of a date
    (``ResidentHistory``)."""

    record: Resident | ResidentHistory
    is_removed: bool
    as_of: dt.date | None
    history_no: int

    @property
    def atena_no(self) -> str:
        return self.record.atena_no


@dataclass(frozen=True)
class HouseholdView:
    """A household's members in the display order of std 5.2 (j1010)."""

    household_no: str
    as_of: dt.date | None
    members: list[Resident | ResidentHistory] = field(default_factory=list)

    @property
    def head(self) -> Resident | ResidentHistory | None:
        return next((m for m in self.members if m.relationship == HEAD), None)


# --------------------------------------------------------------------------- errors


def _unknown_resident(atena_no: str) -> FindingsError:
    return FindingsError(
        [
            error(
                "resident.unknown",
                f"宛名番号 {atena_no} の住民記録はありません。",
                field="atena_no",
                remedy="宛名番号を確認するか、住民検索で対象者を探してください。",
            )
        ]
    )


def _not_yet_recorded(atena_no: str, day: dt.date) -> FindingsError:
    return FindingsError(
        [
            error(
                "resident.not_yet_recorded",
                f"宛名番号 {atena_no} の住民記録は {day:%Y-%m-%d} の時点では"
                "まだ記載されていません。",
                field="as_of",
                remedy="基準日を記載日以後の日付にしてください。",
            )
        ]
    )


# --------------------------------------------------------------------------- as of


# --------------------------------------------------------------------------- a person


def get_resident(actor: Actor, atena_no: str, *, as_of: dt.date | None = None) -> ResidentView:
    """住民照会: the current record, or the record as it stood on ``as_of``. Logged."""
    authorize(actor, Perm.RESIDENT_READ, READ_FUNCTION)
    resident = Resident.objects.filter(atena_no=atena_no).first()
    if resident is None:
        raise _unknown_resident(atena_no)
    record: Resident | ResidentHistory = resident
    if as_of is not None:
        row = selectors.as_of(atena_no, as_of)
        if row is None:
            raise _not_yet_recorded(atena_no, as_of)
        record = row
    view = ResidentView(
        record=record,
        is_removed=record.status == ResidentStatus.REMOVED,
        as_of=as_of,
        history_no=record.history_no,
    )
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=READ_FUNCTION,
        targets=[atena_no],
        detail={
            "as_of": as_of.isoformat() if as_of else None,
            "history_no": view.history_no,
        },
    )
    return view


def get_history(actor: Actor, atena_no: str) -> list[ResidentHistory]:
    """異動履歴照会 (std 2.2.1, j350): every snapshot of the person, oldest first, including
    旧氏 and 通称 as they were, with who entered and reviewed each change. Logged."""
    authorize(actor, Perm.RESIDENT_READ, HISTORY_FUNCTION)
    rows = list(
        ResidentHistory.objects.filter(atena_no=atena_no)
        .select_related("operator", "reviewer", "terminal")
        .order_by("history_no")
    )
    if not rows:
        raise _unknown_resident(atena_no)
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=HISTORY_FUNCTION,
        targets=[atena_no],
        detail={"rows": len(rows)},
    )
    return rows


# --------------------------------------------------------------------------- a household


def _order(members: list[Resident | ResidentHistory]) -> list[Resident | ResidentHistory]:
    """std 5.2 (j1010) order; records whose 続柄 the grammar refuses (old data) fall back to
    head first, then by birth date."""
    by_atena = {m.atena_no: m for m in members}
    try:
        ordered = household_display_order(
            HouseholdMember(
                key=m.atena_no,
                relationship=m.relationship,
                birth_sort=m.birth_date,
                is_koseki_head=_is_koseki_head(m),
            )
            for m in members
        )
    except CoreError:
        return sorted(members, key=lambda m: (m.relationship != HEAD, m.birth_date, m.atena_no))
    return [by_atena[m.key] for m in ordered]


def _is_koseki_head(record: ResidentRecord) -> bool:
    return bool(record.koseki_head) and name_search_key(record.koseki_head) == record.name_key


def get_household(
    actor: Actor,
    household_no: str,
    *,
    as_of: dt.date | None = None,
    include_removed: bool = False,
) -> HouseholdView:
    """世帯照会: the members now (or as of ``as_of``), in the order of std 5.2 (j1010); with
    ``include_removed``, the removed records (除票) kept in the household follow. Every member
    shown is logged as a target."""
    authorize(actor, Perm.RESIDENT_READ, HOUSEHOLD_FUNCTION)
    members: list[Resident | ResidentHistory]
    if as_of is None:
        current = list(Resident.objects.filter(household_no=household_no))
        members = [r for r in current if r.status == ResidentStatus.RESIDENT]
        removed: list[Resident | ResidentHistory] = [
            r for r in current if r.status != ResidentStatus.RESIDENT
        ]
        known = bool(current) or (
            Household.objects.filter(household_no=household_no).exists()
            and ResidentHistory.objects.filter(household_no=household_no).exists()
        )
    else:
        members, removed = _members_as_of(household_no, as_of)
        known = bool(members or removed)
    if not known:
        raise FindingsError(
            [
                error(
                    "household.unknown",
                    f"世帯番号 {household_no} の世帯はありません"
                    + (f"（{as_of:%Y-%m-%d} 時点）。" if as_of else "。"),
                    field="household_no",
                    remedy="世帯番号を確認するか、住民検索で世帯員を探してください。",
                )
            ]
        )
    shown = _order(members)
    if include_removed:
        shown += sorted(removed, key=lambda m: (m.removed_on or dt.date.min, m.atena_no))
    view = HouseholdView(household_no=household_no, as_of=as_of, members=shown)
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=HOUSEHOLD_FUNCTION,
        targets=[m.atena_no for m in shown],
        detail={
            "household_no": household_no,
            "as_of": as_of.isoformat() if as_of else None,
            "include_removed": include_removed,
        },
    )
    return view


def _members_as_of(
    household_no: str, day: dt.date
) -> tuple[list[Resident | ResidentHistory], list[Resident | ResidentHistory]]:
    """Persons whose snapshot as of ``day`` places them in the household: (residents,
    removed). One query for the candidates, one for their snapshots."""
    candidates = set(
        ResidentHistory.objects.filter(household_no=household_no, occurred_on__lte=day)
        .values_list("atena_no", flat=True)
        .distinct()
    )
    if not candidates:
        return [], []
    latest: dict[str, ResidentHistory] = {}
    rows = (
        selectors.effective_history()
        .filter(atena_no__in=candidates, occurred_on__lte=day)
        .order_by("atena_no", "-history_no")
    )
    for row in rows:
        latest.setdefault(row.atena_no, row)
    members: list[Resident | ResidentHistory] = []
    removed: list[Resident | ResidentHistory] = []
    for row in latest.values():
        if row.household_no != household_no:
            continue
        (members if row.status == ResidentStatus.RESIDENT else removed).append(row)
    return members, removed


# --------------------------------------------------------------------------- 個人番号

_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def reveal_my_number(actor: Actor, atena_no: str, *, reason: str) -> str:
    """Show a person's 個人番号 on request (DESIGN invariant 6): only to staff with
    ``Perm.MY_NUMBER_READ`` (a refusal is logged by ``authorize``), only with a reason, and
    logged with ``my_number_accessed=True`` and the reason — never the number."""
    authorize(actor, Perm.MY_NUMBER_READ, MY_NUMBER_FUNCTION)
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise FindingsError(
            [
                error(
                    "my_number.reason_required",
                    "個人番号を表示する理由を入力してください。"
                    if not reason
                    else f"個人番号を表示する理由は{REASON_MAX}文字以内で入力してください"
                    f"（現在{len(reason)}文字）。",
                    field="reason",
                    remedy="表示が必要な事務（例：個人番号カード交付の本人確認）を入力してください。",
                )
            ]
        )
    if any(is_valid_my_number(m.group()) for m in _TWELVE_DIGITS.finditer(reason)):
        raise FindingsError(
            [
                error(
                    "my_number.reason_contains_number",
                    "表示理由に個人番号を書くことはできません（操作ログに記録されるため）。",
                    field="reason",
                    remedy="番号を除いて、表示が必要な事務を入力してください。",
                )
            ]
        )
    resident = Resident.objects.select_related("my_number").filter(atena_no=atena_no).first()
    if resident is None:
        raise _unknown_resident(atena_no)
    if resident.my_number is None:
        raise FindingsError(
            [
                error(
                    "my_number.not_recorded",
                    f"宛名番号 {atena_no} の方の個人番号は記録されていません。",
                    field="atena_no",
                    remedy="個人番号の記載（職権記載）が必要か確認してください。",
                )
            ]
        )
    number = crypto.reveal_my_number(resident.my_number)
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=MY_NUMBER_FUNCTION,
            targets=[atena_no],
            my_number_accessed=True,
            detail={"reason": reason},
        )
    return number


__all__ = [
    "HouseholdView",
    "ResidentView",
    "get_history",
    "get_household",
    "get_resident",
    "reveal_my_number",
]
