"""照会 (logged reads of the register): a person, a household, a person's history, and the
個人番号 on request.

DESIGN invariant 5: every read of a person is logged — who, when, terminal (from the actor),
the function, which persons (``targets``) and whether the 個人番号 was shown
(``my_number_accessed``). Only committed data is read: ``Resident`` and ``ResidentHistory``
are written when a change is committed, never by a draft (std 4.0.8, j530).

std 10.4 (j1390): :func:`hidden_items` names the items a reader may not see (本籍・筆頭者,
住民票コード, 在留資格等; :data:`ITEM_PERMISSIONS`); the views carry it (``hidden``) and every
screen and API response leaves those items out. The records themselves are not redacted: a
certificate prints what its request asks for. Staff limited to a ward (``Staff.ward_scope``)
read only persons whose address is in it; other reads are refused and the refusal logged.

"As of date D" follows ADR 0002: the latest snapshot of the person with ``occurred_on ≤ D``,
by ``history_no``, among changes not cancelled by a committed 異動の取消し (and a removal by
転出 in force from its ``removed_on``: ``status.in_force_q``).

転出予定者 (std 1.1.5 j50, 5.1 j1000): a 転出 is committed as a removal dated on the planned day.
Until that day the person is read as a resident — the record in force that day (the one before
the 転出, so without the items the 転出届 recorded) with a ``MovingOut`` marker carrying the
planned date and destination; their household lists them, marked, among its members, with the
relationships as they stand until the date. From the planned date (or the earlier move-in date
of a received 転入通知) they are a removed record. The rule is ``jumin.register.status``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.core.errors import CoreError
from jumin.core.findings import FindingsError, error
from jumin.core.identifiers import is_valid_my_number
from jumin.core.relationships import HouseholdMember, household_display_order
from jumin.core.variants import name_search_key
from jumin.register import crypto, selectors, status
from jumin.register.models import (
    Household,
    Resident,
    ResidentHistory,
    ResidentRecord,
)
from jumin.register.search import in_ward, ward_scope
from jumin.register.status import MovingOut
from jumin.support import selectors as support_selectors
from jumin.support import services as support_services
from jumin.support.services import Clearance

READ_FUNCTION = "住民照会"
HOUSEHOLD_FUNCTION = "世帯照会"
HISTORY_FUNCTION = "異動履歴照会"
MY_NUMBER_FUNCTION = "個人番号表示"
REASON_MAX = 200
HEAD = "世帯主"


@dataclass(frozen=True)
class ResidentView:
    """One person's record: the current one (``Resident``), or the snapshot in force on a
    date (``ResidentHistory``: ``as_of``, or today for a 転出予定者 — the record before the
    転出). ``moving_out`` marks a 転出予定者: a resident until ``moving_out.on``."""

    record: Resident | ResidentHistory
    is_removed: bool
    as_of: dt.date | None
    history_no: int
    moving_out: MovingOut | None = None
    support_protected: bool = False
    """支援措置対象 (std 2.2.4 j380): the person is protected by a support measure; read by
    staff with ``SUPPORT_MEASURE_READ`` or within a request the gate cleared (others are
    refused by the gate)."""
    hidden: frozenset[str] = frozenset()
    """Items the reader may not see (std 10.4, j1390; :func:`hidden_items`): a screen or an
    API response leaves them out."""

    @property
    def atena_no(self) -> str:
        return self.record.atena_no

    @property
    def moving_out_on(self) -> dt.date | None:
        """転出予定年月日 of a 転出予定者, else None."""
        return self.moving_out.on if self.moving_out else None

    @property
    def moving_out_to(self) -> str | None:
        """転出先住所（予定） of a 転出予定者, else None."""
        return self.moving_out.to if self.moving_out else None


@dataclass(frozen=True)
class HouseholdView:
    """A household's members in the display order of std 5.2 (j1010); with
    ``include_removed``, the removed records follow (``removed`` names them). ``moving_out``
    marks the 転出予定者 among the members, by 宛名番号."""

    household_no: str
    as_of: dt.date | None
    members: list[Resident | ResidentHistory] = field(default_factory=list)
    moving_out: dict[str, MovingOut] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()
    support_protected: frozenset[str] = frozenset()
    """The members protected by a support measure (std 2.2.4), by 宛名番号."""
    hidden: frozenset[str] = frozenset()
    """Items the reader may not see (std 10.4, j1390; :func:`hidden_items`)."""

    @property
    def head(self) -> Resident | ResidentHistory | None:
        return next(
            (m for m in self.members if m.relationship == HEAD and m.atena_no not in self.removed),
            None,
        )


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


# --------------------------------------------------------------------------- std 10.4

ITEM_PERMISSIONS: dict[str, Perm] = {
    # 戸籍の表示
    "honseki": Perm.HONSEKI_READ,
    "koseki_head": Perm.HONSEKI_READ,
    # 住民票コード
    "juminhyo_code": Perm.JUMINHYO_CODE_READ,
    # 在留資格等 (the items of 法第30条の45 that describe the stay)
    "nationality": Perm.RESIDENCE_STATUS_READ,
    "foreign_category": Perm.RESIDENCE_STATUS_READ,
    "residence_status": Perm.RESIDENCE_STATUS_READ,
    "period_of_stay": Perm.RESIDENCE_STATUS_READ,
    "stay_expires_on": Perm.RESIDENCE_STATUS_READ,
    "residence_card_no": Perm.RESIDENCE_STATUS_READ,
}
"""std 10.4 (j1390): the items of a record shown only to staff holding the permission
(「戸籍の表示」「住民票コード」「在留資格等」). The 個人番号 has its own rule (invariant 6): shown
masked to every reader, revealed on request to staff with ``MY_NUMBER_READ``."""


def hidden_items(actor: Actor) -> frozenset[str]:
    """The record items ``actor`` may not see: every screen, API response and export leaves
    them out (absent, not blank — a blank would read as "not recorded")."""
    return frozenset(name for name, perm in ITEM_PERMISSIONS.items() if not actor.can(perm))


# --------------------------------------------------------------------------- ward scope


def _ward_gate(actor: Actor, records: Sequence[ResidentRecord], function: str) -> None:
    """Staff limited to a ward (``Staff.ward_scope``) read only persons whose address is in
    it; a read of anyone else is refused and the refusal logged."""
    ward = ward_scope(actor)
    if not ward:
        return
    outside = sorted({r.atena_no for r in records if not in_ward(r.address_code, ward)})
    if not outside:
        return
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.EVENT,
            function=function,
            outcome=Outcome.DENIED,
            targets=outside,
            detail={"ward_scope": ward, "reason": "outside_ward"},
        )
    raise PermissionDenied(
        f"担当区（{ward}）の外に住所がある住民のため表示できません。"
        "担当区の職員に照会を依頼してください。"
    )


# --------------------------------------------------------------------------- 支援措置


def _support_gate(
    actor: Actor, atena_nos: list[str], function: str, clearance: Clearance | None
) -> frozenset[str]:
    """支援措置 (std 3.4 j440, 2.2.4 j380): staff without ``SUPPORT_MEASURE_READ`` are refused
    a read that shows a protected person (``support.protected``, logged by the gate) unless
    the read belongs to a request the gate let through (``clearance``: a certificate issued on
    a support-measure officer's release); staff with it read the record marked as protected.
    Returns the protected persons."""
    if actor.can(Perm.SUPPORT_MEASURE_READ):
        return support_selectors.protected_among(atena_nos)
    if clearance is not None:
        protected = support_selectors.protected_among(atena_nos)
        if clearance.covers(actor, protected):
            return protected
    support_services.check_access(actor, atena_nos, purpose=function)
    return frozenset()


# --------------------------------------------------------------------------- a person


def get_resident(
    actor: Actor,
    atena_no: str,
    *,
    as_of: dt.date | None = None,
    clearance: Clearance | None = None,
) -> ResidentView:
    """住民照会: the current record, or the record as it stood on ``as_of``. Logged.
    ``clearance``: the support-measure gate's answer for the request this read belongs to."""
    authorize(actor, Perm.RESIDENT_READ, READ_FUNCTION)
    resident = Resident.objects.filter(atena_no=atena_no).first()
    if resident is None:
        raise _unknown_resident(atena_no)
    _ward_gate(actor, [resident], READ_FUNCTION)
    protected = bool(_support_gate(actor, [atena_no], READ_FUNCTION, clearance))
    day = as_of or status.today()
    record: Resident | ResidentHistory = resident
    if as_of is not None:
        row = selectors.as_of(atena_no, as_of)
        if row is None:
            raise _not_yet_recorded(atena_no, as_of)
        record = row
    elif status.moving_out_on(resident, day) is not None or (
        status.is_resident_on(resident, day) and _dated_later(resident, day)
    ):
        # The current row takes effect later (a 転出 on its planned date, or a remaining
        # member made head by it): show the record in force today.
        record = selectors.as_of(atena_no, day) or resident
    view = ResidentView(
        record=record,
        is_removed=not status.is_resident_on(record, day),
        as_of=as_of,
        history_no=record.history_no,
        moving_out=_marker(resident, record, day),
        support_protected=protected,
        hidden=hidden_items(actor),
    )
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=READ_FUNCTION,
        targets=[atena_no],
        detail={
            "as_of": as_of.isoformat() if as_of else None,
            "history_no": view.history_no,
            **({"support_protected": True} if protected else {}),
        },
    )
    return view


def _dated_later(resident: Resident, day: dt.date) -> bool:
    """True when the person's latest committed change occurs after ``day`` (only a 転出 takes a
    future date, with the members it made head ex officio, std 4.0.4)."""
    return ResidentHistory.objects.filter(
        atena_no=resident.atena_no, history_no=resident.history_no, occurred_on__gt=day
    ).exists()


def _marker(current: Resident, shown: Resident | ResidentHistory, day: dt.date) -> MovingOut | None:
    """The 転出予定 marker of a person shown as a resident on ``day`` whose current record is
    a committed 転出 not yet in effect that day."""
    if not status.is_resident_on(shown, day):
        return None
    return status.moving_out(current, day)


def get_history(
    actor: Actor, atena_no: str, *, clearance: Clearance | None = None
) -> list[ResidentHistory]:
    """異動履歴照会 (std 2.2.1, j350): every snapshot of the person, oldest first, including
    旧氏 and 通称 as they were, with who entered and reviewed each change. Logged."""
    authorize(actor, Perm.RESIDENT_READ, HISTORY_FUNCTION)
    rows: list[ResidentHistory] = list(
        ResidentHistory.objects.filter(atena_no=atena_no)
        .select_related("operator", "reviewer", "terminal")
        .annotate(support_protected=support_selectors.protected_exists())
        .order_by("history_no")
    )
    if not rows:
        raise _unknown_resident(atena_no)
    _ward_gate(actor, [rows[-1]], HISTORY_FUNCTION)
    if getattr(rows[0], "support_protected", False):  # 支援措置 (the same query, no extra one)
        _support_gate(actor, [atena_no], HISTORY_FUNCTION, clearance)
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
    clearance: Clearance | None = None,
) -> HouseholdView:
    """世帯照会: the members now (or as of ``as_of``), in the order of std 5.2 (j1010); with
    ``include_removed``, the removed records (除票) kept in the household follow. Every member
    shown is logged as a target."""
    authorize(actor, Perm.RESIDENT_READ, HOUSEHOLD_FUNCTION)
    members: list[Resident | ResidentHistory]
    removed: list[Resident | ResidentHistory]
    day = as_of or status.today()
    if as_of is None:
        current = list(Resident.objects.filter(household_no=household_no))
        if any(status.moving_out_on(r, day) is not None for r in current):
            # A 転出 still to come: the household as it stands today (the 転出予定者 with
            # their relationships, and not yet the head the 転出 made ex officio).
            members, removed = _members_as_of(household_no, day)
        else:
            members = [r for r in current if status.is_resident_on(r, day)]
            removed = [r for r in current if not status.is_resident_on(r, day)]
        known = bool(current) or (
            Household.objects.filter(household_no=household_no).exists()
            and ResidentHistory.objects.filter(household_no=household_no).exists()
        )
        latest = {r.atena_no: r for r in current}
    else:
        members, removed = _members_as_of(household_no, as_of)
        known = bool(members or removed)
        latest = {
            r.atena_no: r
            for r in Resident.objects.filter(atena_no__in=[m.atena_no for m in members])
        }
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
    markers = {
        m.atena_no: marker
        for m in members
        if m.atena_no in latest and (marker := _marker(latest[m.atena_no], m, day)) is not None
    }
    shown = _order(members)
    if include_removed:
        shown += sorted(removed, key=lambda m: (m.removed_on or dt.date.min, m.atena_no))
    # the members living there decide (a removed member's last address may lie elsewhere)
    _ward_gate(actor, members or shown, HOUSEHOLD_FUNCTION)
    protected = _support_gate(actor, [m.atena_no for m in shown], HOUSEHOLD_FUNCTION, clearance)
    view = HouseholdView(
        household_no=household_no,
        as_of=as_of,
        members=shown,
        moving_out=markers,
        removed=frozenset(m.atena_no for m in removed) if include_removed else frozenset(),
        support_protected=protected,
        hidden=hidden_items(actor),
    )
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=HOUSEHOLD_FUNCTION,
        targets=[m.atena_no for m in shown],
        detail={
            "household_no": household_no,
            "as_of": as_of.isoformat() if as_of else None,
            "include_removed": include_removed,
            **({"support_protected": len(protected)} if protected else {}),
        },
    )
    return view


def _members_as_of(
    household_no: str, day: dt.date
) -> tuple[list[Resident | ResidentHistory], list[Resident | ResidentHistory]]:
    """Persons whose snapshot as of ``day`` places them in the household: (residents,
    removed), a 転出予定者 among the residents until the date. One query for the candidates,
    one for their snapshots."""
    in_force = status.in_force_q(day)
    candidates = set(
        ResidentHistory.objects.filter(in_force, household_no=household_no)
        .values_list("atena_no", flat=True)
        .distinct()
    )
    if not candidates:
        return [], []
    latest: dict[str, ResidentHistory] = {}
    rows = (
        selectors.effective_history()
        .filter(in_force, atena_no__in=candidates)
        .order_by("atena_no", "-history_no")
    )
    for row in rows:
        latest.setdefault(row.atena_no, row)
    members: list[Resident | ResidentHistory] = []
    removed: list[Resident | ResidentHistory] = []
    for row in latest.values():
        if row.household_no != household_no:
            continue
        (members if status.is_resident_on(row, day) else removed).append(row)
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
    _ward_gate(actor, [resident], MY_NUMBER_FUNCTION)
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
    "ITEM_PERMISSIONS",
    "HouseholdView",
    "ResidentView",
    "get_history",
    "get_household",
    "get_resident",
    "hidden_items",
    "reveal_my_number",
]
