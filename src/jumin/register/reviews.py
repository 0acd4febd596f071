"""Reads of changes for review (std 4.0.8, j530): the list of drafts and one change with each
person's record before and after. Shared by the API and the screens; every read is logged.

Drafts are seen only by staff who enter or review changes (std 4.0.8: 他課から仮登録中の
データの参照ができないようにする).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from jumin.accounts.actor import Actor
from jumin.accounts.models import Staff
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.register import selectors
from jumin.register.models import Change, ResidentHistory

DRAFT_READERS = (Perm.CHANGE_DRAFT, Perm.CHANGE_REVIEW)
DRAFTS_FUNCTION = "仮登録一覧の照会"
CHANGE_FUNCTION = "異動の照会"
LIST_LIMIT = 1000


def authorize_drafts(actor: Actor, function: str) -> None:
    """Reading drafts needs the read permission and one of entering or reviewing changes."""
    authorize(actor, Perm.RESIDENT_READ, function)
    if not any(actor.can(p) for p in DRAFT_READERS):
        try:
            authorize(actor, DRAFT_READERS[0], function)  # logs the refusal
        except PermissionDenied:
            names = "」または「".join(p.label for p in DRAFT_READERS)
            raise PermissionDenied(f"この画面には「{names}」の権限が必要です。") from None


def _targets(change: Change) -> list[str]:
    return [p["atena_no"] for p in change.payload.get("persons", [])]


def list_drafts(actor: Actor, *, limit: int = LIST_LIMIT) -> list[Change]:
    """仮登録一覧, oldest first (at most ``limit``); logged."""
    authorize_drafts(actor, DRAFTS_FUNCTION)
    changes = list(
        selectors.drafts().select_related(
            "created_by",
            "created_by__org_unit",
            "reviewed_by",
            "terminal",
            "terminal__org_unit",
        )[:limit]
    )
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=DRAFTS_FUNCTION,
        targets=[a for c in changes for a in _targets(c)],
        detail={"count": len(changes)},
    )
    return changes


@dataclass(frozen=True)
class PersonChange:
    """One person of a change: the record after it, and the one it was built on (None for
    a person new to the register, or a row no longer found)."""

    atena_no: str
    base_history_no: int | None
    after: dict[str, Any]
    before: ResidentHistory | None
    reason: str  # this person's own 異動事由 when it differs from the change's, else ""


@dataclass(frozen=True)
class ChangeRead:
    change: Change
    persons: list[PersonChange]

    @property
    def acknowledged_findings(self) -> list[dict[str, Any]]:
        codes = set(self.change.acknowledged or ())
        return [f for f in self.change.findings if f.get("code") in codes]


def get_change(actor: Actor, change_id: int) -> ChangeRead | None:
    """One change for review with every person before and after; None when there is no such
    change. Logged."""
    authorize_drafts(actor, CHANGE_FUNCTION)
    change = selectors.change(change_id)
    if change is None:
        return None
    summary = change.payload.get("summary") or {}
    person_reasons = summary.get("person_reasons") or {}
    entries = change.payload.get("persons", [])
    bases = {
        (p["atena_no"], p["base_history_no"])
        for p in entries
        if p.get("base_history_no") is not None
    }
    rows: dict[tuple[str, int], ResidentHistory] = {}
    if bases:
        for row in ResidentHistory.objects.filter(
            atena_no__in=[a for a, _ in bases], history_no__in=[n for _, n in bases]
        ):
            rows[(row.atena_no, row.history_no)] = row
    persons = [
        PersonChange(
            atena_no=p["atena_no"],
            base_history_no=p.get("base_history_no"),
            after=p.get("after") or {},
            before=rows.get((p["atena_no"], p.get("base_history_no") or 0)),
            reason=p.get("reason") or person_reasons.get(p["atena_no"]) or "",
        )
        for p in entries
    ]
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=CHANGE_FUNCTION,
        screen=change.procedure,
        targets=[p.atena_no for p in persons],
        detail={"change_id": change.pk},
    )
    return ChangeRead(change, persons)


def changes_entered_by(
    staff: Staff, statuses: Sequence[str], *, reviewed_since: dt.datetime | None = None
) -> QuerySet[Change]:
    """Internal (callers log what they show): a member of staff's changes in some states,
    newest review first."""
    qs = Change.objects.filter(created_by=staff, status__in=list(statuses))
    if reviewed_since is not None:
        qs = qs.filter(reviewed_at__gte=reviewed_since)
    return qs.select_related("reviewed_by").order_by("-reviewed_at", "-id")
