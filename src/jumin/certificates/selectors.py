"""交付履歴照会 (std 2.2.2, j360): the issue log searched by the items of std 1.3.8 (j300) —
person, date, kind, requester, staff, issue number, decision. Every search is logged with the
persons it names (invariant 5)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.certificates.models import (
    CertificateRequest,
    CertificateRequestTarget,
    IssuedCertificate,
)
from jumin.core.findings import FindingsError, error

LOG_FUNCTION = "交付履歴照会"
ISSUE_FUNCTION = "交付履歴の詳細"
MAX_ROWS = 200


class LogCriteria(BaseModel):
    """検索条件 of the issue log; at least one is needed besides the dates."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    atena_no: str | None = Field(None, max_length=10, description="対象者の宛名番号")
    date_from: dt.date | None = Field(None, description="交付日（から）")
    date_to: dt.date | None = Field(None, description="交付日（まで）")
    kind: str | None = Field(None, max_length=32, description="証明書の種別")
    requester_kind: str | None = Field(None, max_length=16, description="請求者の区分")
    requester_name: str | None = Field(None, max_length=100, description="請求者の氏名（部分一致）")
    staff_code: str | None = Field(None, max_length=64, description="職員のユーザID")
    issue_number: str | None = Field(
        None, max_length=120, description="発行番号・交付ID（部分一致）"
    )
    receipt_no: str | None = Field(None, max_length=20, description="受付番号")
    decision: Literal["issued", "refused"] | None = Field(None, description="決定")
    limit: int = Field(100, ge=1, le=MAX_ROWS)


@dataclass(frozen=True)
class LogPage:
    rows: list[CertificateRequest]
    total: int
    truncated: bool


def _with_issues(qs: QuerySet[CertificateRequest]) -> QuerySet[CertificateRequest]:
    return qs.prefetch_related(
        Prefetch("issues", queryset=IssuedCertificate.objects.order_by("copy_no", "serial"))
    )


def _local_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def search_log(actor: Actor, criteria: LogCriteria) -> LogPage:
    """Requests (issued and refused) matching every given criterion, newest first."""
    authorize(actor, Perm.CERTIFICATE_READ_LOG, LOG_FUNCTION)
    c = criteria
    given = [
        c.atena_no,
        c.kind,
        c.requester_kind,
        c.requester_name,
        c.staff_code,
        c.issue_number,
        c.receipt_no,
        c.decision,
        c.date_from,
        c.date_to,
    ]
    if not any(given):
        raise FindingsError(
            [
                error(
                    "log.no_criteria",
                    "検索条件を1つ以上入力してください。",
                    field="atena_no",
                    remedy="対象者の宛名番号、交付日、証明書の種別、請求者、職員のいずれかで検索します。",
                )
            ]
        )
    if c.date_from and c.date_to and c.date_from > c.date_to:
        raise FindingsError(
            [
                error(
                    "log.date_range",
                    "交付日の「から」が「まで」より後になっています。",
                    field="date_from",
                )
            ]
        )
    q = Q()
    if c.atena_no:
        q &= Q(
            pk__in=CertificateRequestTarget.objects.filter(atena_no=c.atena_no).values("request_id")
        )
    if c.date_from:
        q &= Q(created_at__gte=_local_start(c.date_from))
    if c.date_to:
        q &= Q(created_at__lt=_local_start(c.date_to + dt.timedelta(days=1)))
    if c.kind:
        q &= Q(kind=c.kind)
    if c.requester_kind:
        q &= Q(requester_kind=c.requester_kind)
    if c.requester_name:
        q &= Q(requester_name__icontains=c.requester_name)
    if c.staff_code:
        q &= Q(staff_code=c.staff_code)
    if c.receipt_no:
        q &= Q(receipt_no=c.receipt_no)
    if c.decision:
        q &= Q(decision=c.decision)
    if c.issue_number:
        q &= Q(
            pk__in=IssuedCertificate.objects.filter(
                Q(issue_number__icontains=c.issue_number) | Q(issue_id=c.issue_number.upper())
            ).values("request_id")
        )
    qs = CertificateRequest.objects.filter(q).order_by("-created_at", "-pk")
    rows = list(_with_issues(qs)[: c.limit + 1])
    truncated = len(rows) > c.limit
    rows = rows[: c.limit]
    total = len(rows) if not truncated else qs.count()
    targets = sorted({a for r in rows for a in r.atena_nos})
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=LOG_FUNCTION,
            targets=targets,
            detail={"criteria": c.model_dump(mode="json", exclude_none=True), "rows": len(rows)},
        )
    return LogPage(rows, total, truncated)


def get_request(actor: Actor, request_id: int) -> CertificateRequest | None:
    """One request with its issues: for the clerk who issued (CERTIFICATE_ISSUE: the result
    screen) or a reader of the log. Logged."""
    if not (actor.can(Perm.CERTIFICATE_ISSUE) or actor.can(Perm.CERTIFICATE_READ_LOG)):
        authorize(actor, Perm.CERTIFICATE_READ_LOG, ISSUE_FUNCTION)
    row = _with_issues(CertificateRequest.objects.filter(pk=request_id)).first()
    if row is None:
        return None
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=ISSUE_FUNCTION,
            targets=list(row.atena_nos),
            detail={"request_id": row.pk},
        )
    return row


def get_issue(actor: Actor, issue_id: str) -> IssuedCertificate | None:
    if not (actor.can(Perm.CERTIFICATE_ISSUE) or actor.can(Perm.CERTIFICATE_READ_LOG)):
        authorize(actor, Perm.CERTIFICATE_READ_LOG, ISSUE_FUNCTION)
    row = (
        IssuedCertificate.objects.filter(issue_id=issue_id)
        .select_related("request", "revoked_by")
        .first()
    )
    if row is None:
        return None
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=ISSUE_FUNCTION,
            targets=list(row.atena_nos),
            detail={"issue_id": row.issue_id},
        )
    return row


def file_available(issue: IssuedCertificate) -> bool:
    """Whether the signed PDF can still be downloaded (within the window, not revoked)."""
    from jumin.certificates import conf
    from jumin.certificates.models import CertificateFile

    if issue.revoked_at is not None:
        return False
    cutoff = timezone.now() - dt.timedelta(minutes=conf.download_minutes())
    return CertificateFile.objects.filter(issue=issue, created_at__gte=cutoff).exists()
