"""The CS delivery worker: outbox → signed envelopes → the national side (std 7.1.1.1, j1090).

One batch is three steps, each database step a short transaction:

1. **claim** — the pending CS messages whose ``available_at`` has come, oldest first, that are
   the *oldest pending CS message of their person* (``ordering_key`` = 宛名番号): a person's
   message never goes while an older one of theirs is pending, even one backing off. On
   PostgreSQL the rows are read ``FOR UPDATE SKIP LOCKED`` so several workers share the
   queue; on SQLite one worker runs at a time (a file lock, ``worker_lock``). Each claimed
   message gets its envelope (built from the register, ``builders``) and a ``SentMessage``
   row in state 送信中 whose ``lease_until`` reserves the message for this worker.
2. **send** — outside any transaction, a few envelopes at a time (at most one per person).
3. **record** — per message: delivered (the CS files are updated), refused (failed, with
   the national side's Japanese reason), or retry (``attempts`` + 1, exponential backoff with
   jitter, capped). One operation-log entry (通信) per batch.

A worker killed between 1 and 3 leaves its messages pending with a 送信中 log row: once the
lease runs out (or at once, when the next worker on the same host sees that the process is
gone) the message is claimed again, the old row becomes 結果不明（処理中断）, and the same
envelope content is resent under the same idempotency key — the national side answers with
its first result and applies nothing twice.

Messages the CS does not send (``builders.NOT_FOR_CS``: the 住民票コード通知票 print job, the
notice to 出入国在留管理庁) are left pending for their own systems and never block a person's
住基ネット messages. A refused (failed) message does not block the person's later messages:
identity updates carry the full state with the 履歴番号, and the national side ignores an
older one.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import random
import socket
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.jukinet import numbering as numbered
from jumin.jukinet.builders import (
    CS_DESTINATION,
    CS_TOPICS,
    NOT_FOR_CS,
    BuildError,
    Built,
    build_batch,
)
from jumin.jukinet.client import CsClient, Exchange, masked
from jumin.jukinet.conf import CsConfig, config
from jumin.jukinet.models import CsSetting, IdentityRecord, MailingRecord, SentMessage
from jumin.netproto.envelope import Envelope
from jumin.outbox.models import OutboxMessage

SEND_FUNCTION = "住基ネットへの送信"
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
Pending = OutboxMessage.Status.PENDING


_PLAIN = frozenset(
    {
        "CharField",
        "TextField",
        "PositiveIntegerField",
        "IntegerField",
        "BooleanField",
        "ForeignKey",  # by attname: the referenced primary key (an int) or None
    }
)


def _datetime(value: Any, conn: Any) -> Any:
    # what DateTimeField.get_db_prep_save ends in for an aware datetime (or None), without
    # its per-value checks: the worker writes only timezone.now()-based values
    return conn.ops.adapt_datetimefield_value(value)


def _date(value: Any, conn: Any) -> Any:
    return conn.ops.adapt_datefield_value(value)


_FAST = {"DateTimeField": _datetime, "DateField": _date}


def _columns(model: type[Model], fields: Sequence[str]) -> list[tuple[str, str, Any]]:
    """(column, attname, prepare-or-None) per field; plain text and numbers pass as they are,
    dates and datetimes go straight to the backend's adapter (``get_db_prep_save``'s checks
    cost a third of the worker's CPU at a few hundred rows per batch), the rest (JSON)
    through ``get_db_prep_save``."""
    out = []
    for name in fields:
        f = model._meta.get_field(name)
        kind = f.get_internal_type()
        prep = None if kind in _PLAIN else _FAST.get(kind, f.get_db_prep_save)  # type: ignore[union-attr]
        out.append((str(getattr(f, "column", name)), str(getattr(f, "attname", name)), prep))
    return out


Row = Model | dict[str, Any]


def _get(row: Row, attname: str) -> Any:
    return row[attname] if isinstance(row, dict) else getattr(row, attname)


def _values(row: Row, columns: list[tuple[str, str, Any]]) -> list[Any]:
    """A row's values in column order; a row is a model instance or a dict by attname."""
    return [
        _get(row, attname) if prep is None else prep(_get(row, attname), connection)
        for _, attname, prep in columns
    ]


def update_rows(
    model: type[Model], fields: list[str], rows: Sequence[Row], *, key: str = "pk"
) -> None:
    """UPDATE each row's ``fields`` by ``key`` (a unique field) — what ``bulk_update`` does,
    without building a CASE expression per row and field (which costs tens of milliseconds
    per row at a batch of a few hundred): on SQLite one ``executemany`` (in process), on
    PostgreSQL one ``UPDATE … FROM unnest(<one typed array per column>)`` per 500 rows, not a
    round trip per row."""
    if not rows:
        return
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    key_field = model._meta.pk if key == "pk" else model._meta.get_field(key)
    key_column = str(getattr(key_field, "column", key))
    key_attname = str(getattr(key_field, "attname", key))
    table = quote(model._meta.db_table)
    params = [[*_values(row, columns), _get(row, key_attname)] for row in rows]
    if connection.vendor == "postgresql":
        # one statement per chunk, a typed array per column (the client-side cursor's
        # executemany is a round trip per row; a VALUES list is a placeholder per value)
        types = [_db_type(model, name) for name in fields] + [key_field.db_type(connection)]
        names = [*(c for c, _, _ in columns), key_column]
        alias = ", ".join(quote(f"v{i}") for i in range(len(names)))
        assignments = ", ".join(
            f"{quote(c)} = v.{quote(f'v{i}')}" for i, c in enumerate(names[:-1])
        )
        arrays = ", ".join(f"CAST(%s AS {t}[])" for t in types)
        last = quote(f"v{len(names) - 1}")
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({alias}) "  # noqa: S608
            f"WHERE {table}.{quote(key_column)} = v.{last}"
        )
        with connection.cursor() as cursor:
            for chunk in _chunked(params):
                cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])
        return
    assignments = ", ".join(f"{quote(column)} = %s" for column, _, _ in columns)
    sql = f"UPDATE {table} SET {assignments} WHERE {quote(key_column)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


CHUNK_ROWS = 500


def _chunked(rows: list[list[Any]]) -> Iterator[list[list[Any]]]:
    for i in range(0, len(rows), CHUNK_ROWS):
        yield rows[i : i + CHUNK_ROWS]


def _db_type(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    if field.is_relation:  # the referenced primary key's type (serial → integer)
        target = field.target_field  # type: ignore[union-attr]
        return str(target.rel_db_type(connection))
    return str(field.db_type(connection))


def insert_rows(model: type[Model], fields: list[str], rows: Sequence[Row]) -> None:
    """INSERT rows — one ``executemany`` on SQLite, one ``INSERT … SELECT * FROM unnest(…)``
    per 500 rows on PostgreSQL (``bulk_create`` compiles every object; the primary keys are not read
    back)."""
    if not rows:
        return
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column, _, _ in columns)
    table = quote(model._meta.db_table)
    params = [_values(row, columns) for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement per chunk (see update_rows)
            arrays = ", ".join(f"CAST(%s AS {_db_type(model, name)}[])" for name in fields)
            sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
            for chunk in _chunked(params):
                cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", params)  # noqa: S608


SENT_FIELDS = [
    "envelope_id",
    "kind",
    "recipient",
    "idempotency_key",
    "outbox",
    "topic",
    "atena_no",
    "attempt",
    "outcome",
    "http_status",
    "error_code",
    "error_message",
    "request_body",
    "reply_kind",
    "reply_body",
    "purpose",
    "operator_code",
    "worker",
    "started_at",
    "finished_at",
    "lease_until",
]


def cs_messages() -> Q:
    """The outbox messages the CS delivers (see ``builders.is_cs_message``)."""
    return Q(topic__in=list(CS_TOPICS)) | (
        Q(destination=CS_DESTINATION) & ~Q(topic__in=list(NOT_FOR_CS))
    )


def eligible(now: Any) -> QuerySet[OutboxMessage]:
    """Due CS messages that head their person's queue and no live worker holds."""
    older = OutboxMessage.objects.filter(
        cs_messages(),
        status=Pending,
        ordering_key=OuterRef("ordering_key"),
        pk__lt=OuterRef("pk"),
    )
    leased = SentMessage.objects.filter(
        outbox_id=OuterRef("pk"), outcome=SentMessage.Outcome.SENDING, lease_until__gt=now
    )
    return (
        OutboxMessage.objects.filter(cs_messages(), status=Pending, available_at__lte=now)
        .filter(~Exists(older), ~Exists(leased))
        .order_by("pk")
    )


def backoff(attempts: int, cfg: CsConfig, rng: random.Random | None = None) -> float:
    """Seconds before the next try after ``attempts`` failures: base·2^(n−1), capped, with
    jitter in the upper half (so a crowd of messages does not retry in step)."""
    if attempts <= 0 or cfg.backoff_cap <= 0:
        return 0.0
    delay = min(cfg.backoff_cap, cfg.backoff_base * math.pow(2, min(attempts - 1, 40)))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


def manual_mode() -> CsSetting | None:
    """The setting row when manual mode is on, else None."""
    row = CsSetting.objects.filter(pk=1).first()
    return row if row is not None and row.manual else None


def _lock_path() -> Path:
    name = str(connection.settings_dict.get("NAME") or "")
    if name and name != ":memory:" and not name.startswith("file:"):
        return Path(name + ".cs-worker.lock")
    return Path(settings.VAR_DIR) / "cs-worker.lock"


class WorkerBusy(Exception):
    """Another CS worker holds the SQLite worker lock."""


@contextlib.contextmanager
def worker_lock() -> Iterator[None]:
    """On SQLite, only one CS worker at a time (PostgreSQL shares with SKIP LOCKED)."""
    if connection.vendor != "sqlite":
        yield
        return
    path = _lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerBusy(f"別のCS送信処理が実行中です（ロックファイル {path}）。") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_leases() -> int:
    """Free the messages of workers that are gone: on SQLite (one worker at a time) every
    送信中 row not ours; elsewhere those of this host's processes that no longer run."""
    now = timezone.now()
    rows = SentMessage.objects.filter(outcome=SentMessage.Outcome.SENDING).exclude(worker=WORKER_ID)
    if connection.vendor != "sqlite":
        host = socket.gethostname()
        dead = []
        for pk, worker in rows.filter(worker__startswith=f"{host}:").values_list("pk", "worker"):
            pid = worker.rsplit(":", 1)[-1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                dead.append(pk)
        rows = SentMessage.objects.filter(pk__in=dead, outcome=SentMessage.Outcome.SENDING)
    return rows.update(lease_until=now)


@dataclass
class BatchResult:
    claimed: int = 0
    delivered: int = 0
    refused: int = 0
    retried: int = 0
    held: int = 0  # could not be built now; stays pending
    failed_build: int = 0  # can never be built; failed
    manual: bool = False
    errors: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        for name in ("claimed", "delivered", "refused", "retried", "held", "failed_build"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.manual = other.manual
        self.errors.extend(other.errors[:5])

    @property
    def progressed(self) -> bool:
        return bool(self.delivered or self.refused or self.failed_build)


@dataclass
class _Claim:
    message: OutboxMessage
    built: Built
    envelope: Envelope
    log: dict[str, Any]  # the SentMessage row, by attname


class Worker:
    def __init__(
        self,
        client: CsClient | None = None,
        *,
        cfg: CsConfig | None = None,
        batch: int = 100,
        concurrency: int | None = None,
        lease_seconds: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.cfg = cfg or config()
        self._client = client
        self.batch = max(1, batch)
        self.concurrency = max(1, concurrency or self.cfg.concurrency)
        # a claimed batch may wait for the batch before it (pipelined), then send in rounds
        rounds = 2 * math.ceil(self.batch / self.concurrency)
        self.lease = lease_seconds or self.cfg.lease_seconds or (self.cfg.timeout * rounds + 60)
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._pool: ThreadPoolExecutor | None = None
        self._sender: ThreadPoolExecutor | None = None

    @property
    def client(self) -> CsClient:
        if self._client is None:
            self._client = CsClient.from_config(self.cfg)
        return self._client

    def close(self) -> None:
        if self._sender is not None:
            self._sender.shutdown(wait=True)
            self._sender = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._client is not None:
            self._client.close()

    # ------------------------------------------------------------------ one batch

    def deliver_batch(self) -> BatchResult:
        if manual_mode() is not None:
            return BatchResult(manual=True)
        result = BatchResult()
        claims = self._claim(result)
        if claims:
            exchanges = self._send([c.envelope for c in claims])
            self._record(claims, exchanges, result)
        return result

    def _claim(self, result: BatchResult) -> list[_Claim]:
        now = timezone.now()
        with transaction.atomic():
            query = eligible(now)
            if connection.features.has_select_for_update_skip_locked:
                query = query.select_for_update(skip_locked=True)
            rows = list(query[: self.batch])
            if not rows:
                return []
            ids = [m.pk for m in rows]
            SentMessage.objects.filter(
                outbox_id__in=ids, outcome=SentMessage.Outcome.SENDING
            ).update(
                outcome=SentMessage.Outcome.ABANDONED,
                finished_at=now,
                lease_until=None,
                error_code="worker.stopped",
                error_message="送信処理が応答を記録する前に中断されました（結果不明）。"
                "同じ冪等キーで再送します。",
            )
            built = build_batch(rows, self.client.node)
            claims: list[_Claim] = []
            stopped: list[OutboxMessage] = []
            for message in rows:
                item = built[message.pk]
                if isinstance(item, BuildError):
                    message.attempts += 1
                    message.last_error = f"{item.message}（{item.code}）"
                    if item.final:
                        message.status = OutboxMessage.Status.FAILED
                        result.failed_build += 1
                    else:
                        message.available_at = now + timedelta(
                            seconds=max(backoff(message.attempts, self.cfg, self.rng), 1.0)
                        )
                        result.held += 1
                    result.errors.append(message.last_error)
                    stopped.append(message)
                    continue
                envelope = self.client.envelope(
                    item.kind, item.body, idempotency_key=message.idempotency_key
                )
                log = {
                    "envelope_id": envelope.id,
                    "kind": envelope.kind,
                    "recipient": envelope.recipient,
                    "idempotency_key": envelope.idempotency_key,
                    "outbox_id": message.pk,
                    "topic": message.topic,
                    "atena_no": item.atena_no,
                    "attempt": message.attempts + 1,
                    "outcome": SentMessage.Outcome.SENDING.value,
                    "http_status": None,
                    "error_code": "",
                    "error_message": "",
                    "request_body": masked(envelope.body),
                    "reply_kind": "",
                    "reply_body": None,
                    "purpose": "",
                    "operator_code": "",
                    "worker": WORKER_ID,
                    "started_at": now,
                    "finished_at": None,
                    "lease_until": now + timedelta(seconds=self.lease),
                }
                claims.append(_Claim(message, item, envelope, log))
            insert_rows(SentMessage, SENT_FIELDS, [c.log for c in claims])  # dicts by attname
            update_rows(
                OutboxMessage, ["status", "attempts", "last_error", "available_at"], stopped
            )
        result.claimed = len(rows)
        return claims

    def _send(self, envelopes: list[Envelope]) -> list[Exchange]:
        """Send a claimed batch (at most one message per person). With batches on
        (``JUMIN_CS_BATCH``, default) it goes as ``concurrency`` batch requests at once;
        else envelope by envelope, ``concurrency`` at a time."""
        client = self.client
        if self.cfg.batch and client.batches and len(envelopes) > 1:
            size = math.ceil(len(envelopes) / self.concurrency)
            parts = [envelopes[i : i + size] for i in range(0, len(envelopes), size)]
            if len(parts) == 1:
                return client.send_batch(parts[0])
            pool = self._send_pool()
            return [e for part in pool.map(client.send_batch, parts) for e in part]
        if self.concurrency == 1 or len(envelopes) == 1:
            return [client.send(e) for e in envelopes]
        return list(self._send_pool().map(client.send, envelopes))

    def _send_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="cs-send")
        return self._pool

    def _record(self, claims: list[_Claim], exchanges: list[Exchange], result: BatchResult) -> None:
        now = timezone.now()
        with transaction.atomic():
            status = dict(
                OutboxMessage.objects.select_for_update()
                .filter(pk__in=[c.message.pk for c in claims])
                .values_list("pk", "status")
            )
            ours = set(
                SentMessage.objects.filter(
                    envelope_id__in=[c.log["envelope_id"] for c in claims],
                    outcome=SentMessage.Outcome.SENDING,
                ).values_list("envelope_id", flat=True)
            )
            logs: list[dict[str, Any]] = []
            messages: list[OutboxMessage] = []
            identities: dict[str, tuple[dict[str, Any], Exchange]] = {}
            mailings: dict[str, tuple[dict[str, Any], Exchange]] = {}
            numbering: list[tuple[Built, OutboxMessage, Exchange]] = []
            for claim, exchange in zip(claims, exchanges, strict=True):
                log = claim.log
                body = exchange.reply_body
                log.update(
                    outcome=exchange.outcome,
                    http_status=exchange.http_status,
                    error_code=exchange.error_code[:64],
                    error_message=exchange.error_message,
                    reply_kind=exchange.reply.kind if exchange.reply else "",
                    reply_body=masked(body) if body is not None else None,
                    finished_at=exchange.finished_at,
                    lease_until=None,
                )
                logs.append(log)
                message = claim.message
                if log["envelope_id"] not in ours or status.get(message.pk) != Pending:
                    continue  # another worker took the message over after our lease ran out
                message.attempts += 1
                if exchange.outcome == "delivered":
                    message.status = OutboxMessage.Status.DELIVERED
                    message.delivered_at = exchange.finished_at
                    message.last_error = ""
                    result.delivered += 1
                    if claim.built.identity is not None:
                        identities[claim.built.atena_no] = (claim.built.identity, exchange)
                    if claim.built.mailing is not None:
                        mailings[claim.built.atena_no] = (claim.built.mailing, exchange)
                    if (
                        claim.built.needs_number
                        or claim.built.generate
                        or claim.built.kind == "mailing.info"
                        or (claim.built.kind == "identity.update" and claim.built.change_id)
                    ):
                        numbering.append((claim.built, message, exchange))
                elif exchange.outcome == "refused":
                    message.status = OutboxMessage.Status.FAILED
                    message.last_error = f"{exchange.error_message}（{exchange.error_code}）"
                    result.refused += 1
                    result.errors.append(message.last_error)
                else:
                    delay = backoff(message.attempts, self.cfg, self.rng)
                    message.available_at = now + timedelta(seconds=delay)
                    message.last_error = (
                        f"{exchange.error_message}（{exchange.error_code}）"
                        f" {delay:.0f}秒後に再送します。"
                    )
                    result.retried += 1
                    result.errors.append(message.last_error)
                messages.append(message)
            update_rows(
                SentMessage,
                [
                    "outcome",
                    "http_status",
                    "error_code",
                    "error_message",
                    "reply_kind",
                    "reply_body",
                    "finished_at",
                    "lease_until",
                ],
                logs,
                key="envelope_id",
            )
            update_rows(
                OutboxMessage,
                ["status", "attempts", "last_error", "available_at", "delivered_at"],
                messages,
            )
            _store_identities(identities)
            _store_mailings(mailings)
            if numbering:
                numbered.after_delivery(numbering, now)
            audit.record(
                Actor.system("batch", "cs-worker"),
                category=Category.COMMUNICATION,
                function=SEND_FUNCTION,
                targets=sorted({c.built.atena_no for c in claims}),
                detail={
                    "sent": len(claims),
                    "delivered": result.delivered,
                    "refused": result.refused,
                    "retry": result.retried,
                },
            )

    # ------------------------------------------------------------------ the loop

    def run(
        self,
        *,
        once: bool = False,
        stop: threading.Event | None = None,
        idle: float = 1.0,
        report: Any = None,
    ) -> BatchResult:
        """Deliver until stopped (or, with ``once``, until nothing due is left).

        Batches are pipelined: while one batch is on the wire, the next is claimed and the
        previous one recorded, so the database work and the network overlap. The order per
        person holds: a claimed message stays pending until recorded, so the person's next
        message is not claimable before then."""
        stop = stop or threading.Event()
        totals = BatchResult()
        with worker_lock():
            release_dead_leases()
            try:
                self._pipeline(once, stop, idle, report, totals)
            finally:
                self.close()
        return totals

    def _pipeline(
        self,
        once: bool,
        stop: threading.Event,
        idle: float,
        report: Any,
        totals: BatchResult,
    ) -> None:
        if self._sender is None:
            self._sender = ThreadPoolExecutor(1, thread_name_prefix="cs-batch")
        flight: tuple[list[_Claim], Future[list[Exchange]], BatchResult] | None = None
        quiet = 0.0
        claiming = True
        while True:
            manual = False
            current = None
            if claiming and not stop.is_set():
                if manual_mode() is not None:
                    manual = True
                else:
                    result = BatchResult()
                    claims = self._claim(result)
                    if claims:
                        envelopes = [c.envelope for c in claims]
                        current = (claims, self._sender.submit(self._send, envelopes), result)
                    elif result.claimed:  # every claimed message failed to build
                        totals.add(result)
                        if report is not None:
                            report(result)
            recorded = flight is not None
            if flight is not None:
                claims, future, result = flight
                self._record(claims, future.result(), result)
                totals.add(result)
                if report is not None:
                    report(result)
                if result.progressed:
                    quiet = 0.0
                elif once:
                    claiming = False  # only failures: leave the rest for a later run
                else:  # every send failed: the national side is down
                    quiet = min(max(quiet * 2, idle), 30.0)
                    stop.wait(quiet)
            flight = current
            if flight is not None or (recorded and claiming and not stop.is_set()):
                continue  # keep the pipeline full; a recorded batch may free persons' next
            if stop.is_set() or once or not claiming:
                if manual and report is not None:
                    report(BatchResult(manual=True))
                return
            if manual and report is not None:
                report(BatchResult(manual=True))
            stop.wait(idle)


def _store_identities(items: dict[str, tuple[dict[str, Any], Exchange]]) -> None:
    """Update the 本人確認情報ファイル: a person's row moves forward, never back (a resend
    of an older change leaves the newer row)."""
    if not items:
        return
    existing = dict(
        IdentityRecord.objects.select_for_update()
        .filter(atena_no__in=list(items))
        .values_list("atena_no", "sequence")
    )
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for atena, (fields, exchange) in items.items():
        values = dict(fields) | {
            "atena_no": atena,
            "national_status": str((exchange.result or {}).get("status", "")),
            "delivered_at": exchange.finished_at,
            "envelope_id": exchange.envelope.id,
        }
        sequence = existing.get(atena)
        if sequence is None:
            new.append(values)
        elif sequence <= values["sequence"]:
            changed.append(values)
    insert_rows(IdentityRecord, ["atena_no", *IDENTITY_FIELDS], new)
    update_rows(IdentityRecord, list(IDENTITY_FIELDS), changed, key="atena_no")


IDENTITY_FIELDS = (
    "juminhyo_code",
    "my_number_id",
    "family_name",
    "given_name",
    "name_alphabet",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "municipality_code",
    "status",
    "change_reason",
    "occurred_on",
    "sequence",
    "items_hash",
    "national_status",
    "delivered_at",
    "envelope_id",
)


MAILING_FIELDS = [
    "juminhyo_code",
    "name",
    "name_kana",
    "postal_code",
    "household_head",
    "address",
    "katagaki",
    "birth_date",
    "sex",
    "my_number_id",
    "delivered_at",
    "envelope_id",
]


def _store_mailings(items: dict[str, tuple[dict[str, Any], Exchange]]) -> None:
    """Update the 送付先情報ファイル: the last mailing information sent per person."""
    if not items:
        return
    existing = set(
        MailingRecord.objects.select_for_update()
        .filter(atena_no__in=list(items))
        .values_list("atena_no", flat=True)
    )
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for atena, (fields, exchange) in items.items():
        values = dict(fields) | {
            "atena_no": atena,
            "delivered_at": exchange.finished_at,
            "envelope_id": exchange.envelope.id,
        }
        (changed if atena in existing else new).append(values)
    insert_rows(MailingRecord, ["atena_no", *MAILING_FIELDS], new)
    update_rows(MailingRecord, MAILING_FIELDS, changed, key="atena_no")
