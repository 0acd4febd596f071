"""Whether a record counts as a resident on a given day: the one rule for 転出予定者.

A 転出 (std 4.1.3) is committed at once as a removal (除票) dated on the planned day, which may
lie in the future (std 4.1.3.0.1, j640). Until that day the person is still a resident:
std 1.1.5 (j50) 「除票となるまでは、現存者として…証明書を出力できること」, std 5.1 (j1000) prints
certificates before the planned date without the items the 転出届 recorded, and std 6.1
(j1080) counts 転出予定者 as residents until the date. The removal takes effect on the planned
date or, once a 転入通知 is received, on the earlier of that date and the notified move-in date
(j50) — the date the 転入通知 receipt writes to ``removed_on``.

Nothing is stored for this and no job runs on the planned date: the state is derived here,
for a day, from the items every record carries (``status``, ``removal_reason``,
``removed_on``):

- :func:`moving_out_on` / :func:`is_resident_on` for one record (the current view or a history
  row) and :func:`resident_on_q` / :func:`removed_on_q` for a query on either table;
- :func:`in_force_q` for history rows: the rows in force on a day (ADR 0002's "as of"), where a
  removal by 転出 takes effect on its ``removed_on`` even if the 転入通知 that set that date was
  recorded later;
- :func:`moving_out` for the marker shown beside a 転出予定者 (planned date and destination).

Procedures keep working on the committed composition (``selectors.household_members``): a
転出予定者 is no longer a member there, and a further change for them is refused until the
転出 is cancelled (:func:`moving_out_error`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import Finding, error
from jumin.register.models import ResidentStatus

MOVE_OUT_REASONS = frozenset(
    {ChangeReason.DOMESTIC_MOVE_OUT.value, ChangeReason.MOVE_OUT_ABROAD.value}
)
"""消除事由 of a 転出: a removal with one of these reasons takes effect on ``removed_on``."""


def today() -> dt.date:
    """The day reads are made for when none is given (the local date)."""
    return timezone.localdate()


def pending_removal_on(
    status: str, removal_reason: str, removed_on: dt.date | None, day: dt.date
) -> dt.date | None:
    """The rule itself, on the bare items: the day a removal by 転出 takes effect when it has
    not taken effect on ``day`` yet, else None."""
    if (
        status == ResidentStatus.REMOVED
        and removal_reason in MOVE_OUT_REASONS
        and removed_on is not None
        and removed_on > day
    ):
        return removed_on
    return None


def moving_out_on(record: Any, day: dt.date) -> dt.date | None:
    """The removal date of a 転出予定者 on ``day`` (their removal by 転出 lies after ``day``);
    None for a resident, for a removal in effect, and for every other removal."""
    return pending_removal_on(record.status, record.removal_reason, record.removed_on, day)


def is_resident_on(record: Any, day: dt.date) -> bool:
    """True when ``record`` (a current-view or a history row) is a resident on ``day``: a
    resident, or a 転出予定者 whose removal is dated after ``day``."""
    return record.status == ResidentStatus.RESIDENT or moving_out_on(record, day) is not None


def _pending_q(day: dt.date) -> Q:
    return Q(
        status=ResidentStatus.REMOVED,
        removal_reason__in=sorted(MOVE_OUT_REASONS),
        removed_on__gt=day,
    )


def resident_on_q(day: dt.date) -> Q:
    """:func:`is_resident_on` as a condition on ``Resident`` or ``ResidentHistory``."""
    return Q(status=ResidentStatus.RESIDENT) | _pending_q(day)


def removed_on_q(day: dt.date) -> Q:
    """The removed records (除票) on ``day``: every removal except a 転出 still to come."""
    return Q(status=ResidentStatus.REMOVED) & ~_pending_q(day)


def in_force_q(day: dt.date) -> Q:
    """History rows in force on ``day``: their change had occurred by then (ADR 0002), or they
    record a removal by 転出 that had taken effect by then. The second part matters when a
    転入通知 received after the move-in day moves the removal before the notice (j50: the
    earlier of the planned date and the move-in date)."""
    return Q(occurred_on__lte=day) | Q(
        status=ResidentStatus.REMOVED,
        removal_reason__in=sorted(MOVE_OUT_REASONS),
        removed_on__lte=day,
    )


@dataclass(frozen=True)
class MovingOut:
    """転出予定: the marker shown beside a 転出予定者 — the planned date, the planned destination
    (as entered: a municipality, an address, or a country for a 国外転出) and the 届出日."""

    on: dt.date
    to: str
    abroad: bool
    notified_on: dt.date | None

    @property
    def label(self) -> str:
        kind = "国外転出予定" if self.abroad else "転出予定"
        return f"{kind}（{self.on:%Y-%m-%d}）" + (f" {self.to}" if self.to else "")


def moving_out(current: Any, day: dt.date) -> MovingOut | None:
    """The 転出予定 marker of a person on ``day`` from their current record (``Resident``, or
    the latest history row): a removal by 転出 not yet in effect on ``day`` and notified by
    then (a 転出届 is made before the move; a day before the notification knows no plan)."""
    if moving_out_on(current, day) is None:
        return None
    notified = current.notified_on
    if notified is not None and notified > day:
        return None
    return MovingOut(
        on=current.moved_out_planned_on or current.removed_on,
        to=current.moved_out_planned_address,
        abroad=current.removal_reason == ChangeReason.MOVE_OUT_ABROAD,
        notified_on=notified,
    )


def moving_out_error(current: Any, field: str, day: dt.date | None = None) -> Finding | None:
    """The refusal for a procedure on a 転出予定者: the committed 転出 must be cancelled first
    (異動の取消し, std 4.6) — a death, a 転居 or a new 転出 before the planned date replaces
    the 転出 that was notified, it does not follow it."""
    when = moving_out_on(current, day or today())
    if when is None:
        return None
    return error(
        "atena_no.moving_out",
        f"宛名番号 {current.atena_no}（{current.name}）は転出予定者です（転出予定年月日 "
        f"{when:%Y-%m-%d}）。転出の異動が本登録済みのため、この異動は入力できません。",
        field=field,
        remedy="転出予定年月日より前に事情が変わった場合は、先に転出の異動を取り消して"
        "（異動の取消し）から入力してください。",
    )


__all__ = [
    "MOVE_OUT_REASONS",
    "MovingOut",
    "in_force_q",
    "is_resident_on",
    "moving_out",
    "moving_out_error",
    "moving_out_on",
    "pending_removal_on",
    "removed_on_q",
    "resident_on_q",
    "today",
]
