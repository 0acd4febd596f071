"""Reads of the register. Every read of a person that a member of staff makes is logged
(DESIGN invariant 5) by the functions that take an ``actor``; the unlogged helpers below
them are for services and procedures only."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from jumin.register.models import Change, Resident, ResidentHistory, ResidentStatus
from jumin.register.status import in_force_q


def resident_for_update_check(atena_no: str) -> Resident | None:
    """Internal: the current record, for a procedure building a draft (not logged)."""
    return Resident.objects.filter(atena_no=atena_no).first()


def household_members(household_no: str) -> list[Resident]:
    """Internal: current members of a household as committed (not logged): what procedures
    re-plan. A 転出予定者 is not among them — the 転出 is committed and already applied the
    rules of a member leaving (std 4.0.4); reads show them until the planned date
    (``jumin.register.status``)."""
    return list(
        Resident.objects.filter(household_no=household_no, status=ResidentStatus.RESIDENT).order_by(
            "atena_no"
        )
    )


def history_of(atena_no: str) -> QuerySet[ResidentHistory]:
    return ResidentHistory.objects.filter(atena_no=atena_no).order_by("history_no")


def effective_history() -> QuerySet[ResidentHistory]:
    """History rows of changes not cancelled by a committed cancellation (ADR 0002)."""
    return ResidentHistory.objects.exclude(change__cancelled_by__status=Change.Status.COMMITTED)


def as_of(atena_no: str, day: dt.date) -> ResidentHistory | None:
    """The record as it stood on ``day``: the latest effective snapshot in force then — its
    change had occurred by then, or it is a removal by 転出 already in effect
    (``status.in_force_q``). Before a 転出's planned date this is the record before the 転出."""
    return (
        effective_history()
        .filter(in_force_q(day), atena_no=atena_no)
        .order_by("-history_no")
        .first()
    )


def drafts() -> QuerySet[Change]:
    return Change.objects.filter(status=Change.Status.DRAFT).order_by("created_at", "id")


def change(change_id: int) -> Change | None:
    """Internal: one change with who entered and reviewed it (callers log the read)."""
    return (
        Change.objects.select_related("created_by", "reviewed_by", "terminal")
        .filter(pk=change_id)
        .first()
    )
