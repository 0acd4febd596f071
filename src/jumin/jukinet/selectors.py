"""Reads of the CS for the screens and the CLI: sent messages, failures, backlog.

Each function takes the acting staff member, checks ``jukinet:message:read`` and logs the
read in the operation log (照会; the persons shown as targets) — DESIGN invariant 5.
std 7.1.1.1 (j1090): 送信した…の照会及び一覧表への印字, CSへ連携できなかった場合のエラー表示;
std 7.1.1.4 (j1120): 送付先情報のCS送信履歴を検索・確認できること.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.core.change_reasons import ChangeReason
from jumin.jukinet.builders import CS_TOPICS, TOPIC_LABELS
from jumin.jukinet.models import CsSetting, InboundMessage, MyNumberRequest, SentMessage
from jumin.jukinet.worker import cs_messages
from jumin.netproto.messages import KINDS
from jumin.outbox.models import OutboxMessage
from jumin.register.models import Resident, ResidentStatus

SEARCH_FUNCTION = "住基ネット送信履歴の照会"
FAILURES_FUNCTION = "住基ネット送信エラーの照会"
BACKLOG_FUNCTION = "住基ネット送信状況の照会"
MAX_LIMIT = 1000


def kind_label(kind: str) -> str:
    spec = KINDS.get(kind)
    return spec.label if spec else kind


@dataclass(frozen=True)
class SentPage:
    items: list[SentMessage]
    total: int
    limit: int
    offset: int


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def sent_messages(
    actor: Actor,
    *,
    kind: str | None = None,
    atena_no: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    outcome: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> SentPage:
    """送信履歴の検索: by kind, person (宛名番号), date range (送信日, inclusive) and outcome;
    newest first. The bodies have the 個人番号 masked."""
    authorize(actor, Perm.JUKINET_MESSAGE_READ, SEARCH_FUNCTION)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    query: QuerySet[SentMessage] = SentMessage.objects.all()
    if kind:
        query = query.filter(kind=kind)
    if atena_no:
        query = query.filter(atena_no=atena_no)
    if date_from:
        query = query.filter(started_at__gte=_day_start(date_from))
    if date_to:
        query = query.filter(started_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    if outcome:
        query = query.filter(outcome=outcome)
    query = query.order_by("-started_at", "-id")
    items = list(query[offset : offset + limit])
    total = query.count()
    criteria: dict[str, Any] = {
        "kind": kind or "",
        "atena_no": atena_no or "",
        "date_from": date_from.isoformat() if date_from else "",
        "date_to": date_to.isoformat() if date_to else "",
        "outcome": outcome or "",
        "offset": offset,
        "shown": len(items),
    }
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=SEARCH_FUNCTION,
        targets=sorted({m.atena_no for m in items if m.atena_no}),
        detail=criteria,
    )
    return SentPage(items, total, limit, offset)


@dataclass(frozen=True)
class Failure:
    outbox_id: int
    topic: str
    topic_label: str
    atena_no: str
    status: str  # "failed" (拒否・作成不可) or "pending" (再送待ち)
    status_label: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    next_try_at: dt.datetime | None


def failures(actor: Actor, *, limit: int = 200, include_retrying: bool = True) -> list[Failure]:
    """CSへ連携できなかったもの: failed messages (refused by the national side or impossible
    to build) and, with ``include_retrying``, pending ones whose last try failed — oldest
    first, each with its Japanese reason."""
    authorize(actor, Perm.JUKINET_MESSAGE_READ, FAILURES_FUNCTION)
    limit = max(1, min(limit, MAX_LIMIT))
    state = Q(status=OutboxMessage.Status.FAILED)
    if include_retrying:
        state |= Q(status=OutboxMessage.Status.PENDING, attempts__gt=0) & ~Q(last_error="")
    rows = list(OutboxMessage.objects.filter(cs_messages()).filter(state).order_by("pk")[:limit])
    out = [
        Failure(
            outbox_id=m.pk,
            topic=m.topic,
            topic_label=TOPIC_LABELS.get(m.topic, m.topic),
            atena_no=m.ordering_key,
            status=m.status,
            status_label="送信失敗" if m.status == OutboxMessage.Status.FAILED else "再送待ち",
            attempts=m.attempts,
            last_error=m.last_error,
            created_at=m.created_at,
            next_try_at=m.available_at if m.status == OutboxMessage.Status.PENDING else None,
        )
        for m in rows
    ]
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=FAILURES_FUNCTION,
        targets=sorted({f.atena_no for f in out}),
        detail={"shown": len(out), "include_retrying": include_retrying},
    )
    return out


@dataclass(frozen=True)
class TopicBacklog:
    topic: str
    label: str
    pending: int = 0
    retrying: int = 0
    failed: int = 0
    oldest_pending_at: dt.datetime | None = None

    @property
    def oldest_age_seconds(self) -> float | None:
        if self.oldest_pending_at is None:
            return None
        return max(0.0, (timezone.now() - self.oldest_pending_at).total_seconds())


@dataclass(frozen=True)
class Backlog:
    topics: list[TopicBacklog]
    manual: CsSetting | None
    in_flight: int
    not_for_cs: dict[str, int] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        return sum(t.pending for t in self.topics)

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.topics)


def backlog_summary(actor: Actor) -> Backlog:
    """送信状況: per topic the pending (and retrying) count, the failed count and the oldest
    pending message's creation time; the manual-mode switch; messages being sent now; and the
    pending messages of other systems the CS does not send."""
    authorize(actor, Perm.JUKINET_MESSAGE_READ, BACKLOG_FUNCTION)
    stats: dict[str, dict[str, Any]] = {t: {} for t in CS_TOPICS}
    pending = (
        OutboxMessage.objects.filter(cs_messages(), status=OutboxMessage.Status.PENDING)
        .values("topic")
        .annotate(
            n=Count("pk"),
            retrying=Count("pk", filter=Q(attempts__gt=0)),
            oldest=Min("created_at"),
        )
    )
    for row in pending:
        stats.setdefault(row["topic"], {}).update(
            pending=row["n"], retrying=row["retrying"], oldest=row["oldest"]
        )
    failed = (
        OutboxMessage.objects.filter(cs_messages(), status=OutboxMessage.Status.FAILED)
        .values("topic")
        .annotate(n=Count("pk"))
    )
    for item in failed:
        stats.setdefault(item["topic"], {})["failed"] = item["n"]
    topics = [
        TopicBacklog(
            topic=topic,
            label=TOPIC_LABELS.get(topic, topic),
            pending=s.get("pending", 0),
            retrying=s.get("retrying", 0),
            failed=s.get("failed", 0),
            oldest_pending_at=s.get("oldest"),
        )
        for topic, s in stats.items()
    ]
    others = dict(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .exclude(cs_messages())
        .values_list("topic")
        .annotate(n=Count("pk"))
        .values_list("topic", "n")
    )
    in_flight = SentMessage.objects.filter(
        outcome=SentMessage.Outcome.SENDING, lease_until__gt=timezone.now()
    ).count()
    setting = CsSetting.objects.filter(pk=1).first()
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=BACKLOG_FUNCTION,
        detail={"pending": sum(t.pending for t in topics), "failed": sum(t.failed for t in topics)},
    )
    return Backlog(
        topics=topics,
        manual=setting if setting is not None and setting.manual else None,
        in_flight=in_flight,
        not_for_cs={str(k): int(v) for k, v in others.items()},
    )


def outbox_message(actor: Actor, outbox_id: int) -> tuple[OutboxMessage, list[SentMessage]] | None:
    """One CS message with every envelope sent for it (the resend screen)."""
    authorize(actor, Perm.JUKINET_MESSAGE_READ, SEARCH_FUNCTION)
    message = OutboxMessage.objects.filter(cs_messages(), pk=outbox_id).first()
    if message is None:
        return None
    sent = list(SentMessage.objects.filter(outbox=message).order_by("started_at", "id"))
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=SEARCH_FUNCTION,
        targets=[message.ordering_key],
        detail={"outbox_id": message.pk},
    )
    return message, sent


# --------------------------------------------------------------------------- 転入通知未着

UNARRIVED_FUNCTION = "転入通知未着者一覧の作成"
UNARRIVED_EXPORT_FUNCTION = "転入通知未着者一覧の出力（CSV）"
# j710: removed by a 転出 within Japan, or removed ex officio (職権消除); not 国外転出
UNARRIVED_REASONS = ("domestic_move_out", "ex_officio_removal")


@dataclass(frozen=True)
class Unarrived:
    atena_no: str
    juminhyo_code: str
    name: str
    name_kana: str
    birth_date: str
    household_no: str
    previous_address: str  # the address at removal (the 除票's 住所)
    removal_reason: str
    removal_label: str
    moved_out_on: dt.date  # 転出日（確定があればそれ、なければ予定日）または消除日
    destination: str  # 転出先（確定、なければ予定）
    days: int  # days since moved_out_on


@dataclass(frozen=True)
class UnarrivedList:
    items: list[Unarrived]
    days: int  # the threshold used
    as_of: dt.date
    received_unprocessed: int  # notices received but not yet recorded (on /cs/inbound/)


def unarrived_days() -> int:
    """The setting ``JUMIN_CS_UNARRIVED_DAYS`` (days after the 転出 before a missing 転入通知
    is listed; default 14, the 転入届 deadline of Art. 22)."""
    raw = os.environ.get("JUMIN_CS_UNARRIVED_DAYS", "").strip()
    return int(raw) if raw.isdigit() else 14


def unarrived(
    actor: Actor,
    *,
    days: int | None = None,
    as_of: dt.date | None = None,
    export: bool = False,
) -> UnarrivedList:
    """転入通知未着者一覧 (std 4.1.3.1.4, j710): residents removed by a 転出 within Japan or
    ex officio at least ``days`` days before ``as_of`` whose 転入通知 has not been recorded
    (転入通知年月日 empty) and has not arrived through the CS either (a 転入通知 received and
    waiting on /cs/inbound/ is counted apart). Oldest first. Logged (照会, or データ抽出 for
    ``export``) with the persons listed."""
    authorize(actor, Perm.JUKINET_MESSAGE_READ, UNARRIVED_FUNCTION)
    days = unarrived_days() if days is None else max(0, days)
    as_of = as_of or timezone.localdate()
    limit = as_of - dt.timedelta(days=days)
    rows = list(
        Resident.objects.filter(
            status=ResidentStatus.REMOVED,
            removal_reason__in=UNARRIVED_REASONS,
            move_in_notice_on__isnull=True,
        )
        .filter(
            Q(moved_out_on__lte=limit)
            | Q(moved_out_on__isnull=True, moved_out_planned_on__lte=limit)
            | Q(moved_out_on__isnull=True, moved_out_planned_on__isnull=True, removed_on__lte=limit)
        )
        .order_by("atena_no")
    )
    codes = {r.juminhyo_code for r in rows if r.juminhyo_code}
    arrived = set(
        InboundMessage.objects.filter(kind="move_in.notice", juminhyo_code__in=sorted(codes))
        .exclude(state=InboundMessage.State.REFUSED)
        .values_list("juminhyo_code", flat=True)
    )
    items = []
    for r in rows:
        if r.juminhyo_code and r.juminhyo_code in arrived:
            continue
        on = r.moved_out_on or r.moved_out_planned_on or r.removed_on
        assert on is not None  # the filter above
        name = "　".join(p for p in (r.family_name, r.given_name) if p) or r.name_alphabet
        items.append(
            Unarrived(
                atena_no=r.atena_no,
                juminhyo_code=r.juminhyo_code,
                name=name,
                name_kana=r.name_kana,
                birth_date=r.birth_date_text or (r.birth_date.isoformat() if r.birth_date else ""),
                household_no=r.household_no,
                previous_address=(f"{r.address}　{r.katagaki}" if r.katagaki else r.address),
                removal_reason=r.removal_reason,
                removal_label=ChangeReason(r.removal_reason).label,
                moved_out_on=on,
                destination=r.moved_out_address or r.moved_out_planned_address,
                days=(as_of - on).days,
            )
        )
    items.sort(key=lambda u: (u.moved_out_on, u.atena_no))
    audit.record(
        actor,
        category=Category.DATA_EXTRACT if export else Category.INQUIRY,
        function=UNARRIVED_EXPORT_FUNCTION if export else UNARRIVED_FUNCTION,
        targets=[u.atena_no for u in items],
        detail={"days": days, "as_of": as_of.isoformat(), "listed": len(items)},
    )
    return UnarrivedList(items, days, as_of, len(arrived))


UNARRIVED_CSV_HEADER = (
    "宛名番号",
    "住民票コード",
    "氏名",
    "氏名フリガナ",
    "生年月日",
    "世帯番号",
    "消除前の住所",
    "消除事由",
    "転出日（消除日）",
    "転出先",
    "経過日数",
)


def unarrived_rows(
    result: UnarrivedList, *, hidden: frozenset[str] = frozenset()
) -> Sequence[Sequence[str]]:
    """The list as CSV rows (header first) — for the screen's download and the CLI. The
    住民票コード column is left out when ``hidden`` names it (std 10.4, j1390)."""
    rows: list[Sequence[str]] = [UNARRIVED_CSV_HEADER]
    rows += [
        (
            u.atena_no,
            u.juminhyo_code,
            u.name,
            u.name_kana,
            u.birth_date,
            u.household_no,
            u.previous_address,
            u.removal_label,
            u.moved_out_on.isoformat(),
            u.destination,
            str(u.days),
        )
        for u in result.items
    ]
    if "juminhyo_code" in hidden:
        column = list(UNARRIVED_CSV_HEADER).index("住民票コード")
        rows = [[*row[:column], *row[column + 1 :]] for row in rows]
    return rows


NUMBERS_FUNCTION = "個人番号の生成要求の照会"
MY_NUMBER_STATES: dict[str, str] = dict(MyNumberRequest.State.choices)


def my_number_requests(
    actor: Actor, *, state: str | None = None, limit: int = 500
) -> list[MyNumberRequest]:
    """個人番号の生成要求 (std 7.1.2.1, j1130): each request and where it stands (requested,
    draft awaiting review, needs a clerk, mailing info queued or sent); newest first."""
    authorize(actor, Perm.JUKINET_MESSAGE_READ, NUMBERS_FUNCTION)
    query = MyNumberRequest.objects.all()
    if state:
        query = query.filter(state=state)
    rows = list(query.order_by("-id")[: max(1, min(limit, MAX_LIMIT))])
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=NUMBERS_FUNCTION,
        targets=sorted({r.atena_no for r in rows}),
        detail={"state": state or "", "shown": len(rows)},
    )
    return rows
