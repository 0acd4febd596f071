"""The hot path's SQL: what every message does, written once, portable (SQLite ≥ 3.35 and
PostgreSQL), without the ORM's per-query compilation (about 0.2 ms a query here, several
times the statement itself; the city pushes ≥ 500 messages/s).

Everything else in netsim uses the ORM. Values go through the backend's own adapters
(``connection.ops.adapt_*``) so rows read back through the models exactly as if the ORM
had written them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection

from jumin.netsim.models import (
    IdentityHistory,
    IdentityRecord,
    IdentitySequence,
    MessageLog,
    Node,
)

_NODE = Node._meta.db_table
_LOG = MessageLog._meta.db_table
_SEQUENCE = IdentitySequence._meta.db_table
_RECORD = IdentityRecord._meta.db_table
_HISTORY = IdentityHistory._meta.db_table

# The same terms as the partial unique indexes' conditions, so both databases use them.
_ACCEPTED = "direction = 'in' AND outcome IN ('applied', 'stale', 'refused', 'repeated')"
_EFFECTIVE = "direction = 'in' AND outcome IN ('applied', 'stale')"
assert tuple(MessageLog.ACCEPTED) == ("applied", "stale", "refused", "repeated")
assert tuple(MessageLog.EFFECTIVE) == ("applied", "stale")


def _one(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row


def _run(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _date(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _json(value: Any) -> Any:
    if value is None:
        return None
    return connection.ops.adapt_json_value(value, None)


def _for_update() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


@dataclass(frozen=True)
class NodeRow:
    kind: str
    active: bool
    public_key: str
    name: str


def node(code: str) -> NodeRow | None:
    row = _one(f"SELECT kind, active, public_key, name FROM {_NODE} WHERE code = %s", [code])  # noqa: S608
    if row is None:
        return None
    return NodeRow(kind=row[0], active=bool(row[1]), public_key=row[2], name=row[3])


@dataclass(frozen=True)
class Prior:
    """A logged message that decides a resend: same id, or same idempotency key."""

    id: int
    kind: str
    message_id: str
    digest: str
    reply_bytes: str
    reply_signature: str


_PRIOR_COLUMNS = "id, kind, message_id, digest, reply_bytes, reply_signature"


def prior(sender: str, message_id: str, idempotency_key: str) -> tuple[Prior | None, Prior | None]:
    """(the accepted message with this id, the first effective one with this key)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_PRIOR_COLUMNS} FROM {_LOG} "  # noqa: S608
            f"WHERE sender = %s AND message_id = %s AND {_ACCEPTED} ORDER BY id",
            [sender, message_id],
        )
        by_id = cursor.fetchone()
        by_key = None
        if by_id is None:
            cursor.execute(
                f"SELECT {_PRIOR_COLUMNS} FROM {_LOG} "  # noqa: S608
                f"WHERE sender = %s AND idempotency_key = %s AND {_EFFECTIVE} ORDER BY id",
                [sender, idempotency_key],
            )
            by_key = cursor.fetchone()
    return (
        Prior(*by_id) if by_id is not None else None,
        Prior(*by_key) if by_key is not None else None,
    )


def advance_sequence(
    municipality_code: str, juminhyo_code: str, sequence: int, now: dt.datetime
) -> bool:
    """Record ``sequence`` as the last applied for (city, person) unless a later one is;
    True when it was recorded (the update is not stale). One statement; the row stays
    locked until commit, which orders concurrent updates of one person."""
    row = _one(
        f"INSERT INTO {_SEQUENCE} (municipality_code, juminhyo_code, last_sequence, updated_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (municipality_code, juminhyo_code) DO UPDATE SET "
        "last_sequence = excluded.last_sequence, updated_at = excluded.updated_at "
        f"WHERE excluded.last_sequence >= {_SEQUENCE}.last_sequence "
        "RETURNING id",
        [municipality_code, juminhyo_code, sequence, _datetime(now)],
    )
    return row is not None


@dataclass(frozen=True)
class CurrentRecord:
    municipality_code: str
    status: str
    occurred_on: dt.date


def current_record(juminhyo_code: str) -> CurrentRecord | None:
    row = _one(
        f"SELECT municipality_code, status, occurred_on FROM {_RECORD} "  # noqa: S608
        f"WHERE juminhyo_code = %s{_for_update()}",
        [juminhyo_code],
    )
    if row is None:
        return None
    occurred = row[2]
    if isinstance(occurred, str):  # SQLite returns the ISO text
        occurred = dt.date.fromisoformat(occurred)
    return CurrentRecord(municipality_code=row[0], status=row[1], occurred_on=occurred)


_RECORD_COLUMNS = (
    "my_number",
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
    "name_key",
    "kana_key",
    "updated_at",
)


def upsert_record(juminhyo_code: str, values: dict[str, Any], now: dt.datetime) -> None:
    """Insert or replace the current identity record of ``juminhyo_code``."""
    adapted = dict(values)
    adapted["occurred_on"] = _date(values["occurred_on"])
    adapted["updated_at"] = _datetime(values["updated_at"])
    columns = ", ".join(("juminhyo_code", *_RECORD_COLUMNS, "created_at"))
    placeholders = ", ".join(["%s"] * (len(_RECORD_COLUMNS) + 2))
    updates = ", ".join(f"{name} = excluded.{name}" for name in _RECORD_COLUMNS)
    _run(
        f"INSERT INTO {_RECORD} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT (juminhyo_code) DO UPDATE SET {updates}",
        [juminhyo_code, *(adapted[name] for name in _RECORD_COLUMNS), _datetime(now)],
    )


def add_history(
    *,
    juminhyo_code: str,
    municipality_code: str,
    sequence: int,
    identity: dict[str, Any],
    became_current: bool,
    message_id: str,
    now: dt.datetime,
) -> None:
    _run(
        f"INSERT INTO {_HISTORY} (juminhyo_code, municipality_code, sequence, identity, "  # noqa: S608
        "became_current, message_id, applied_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            juminhyo_code,
            municipality_code,
            sequence,
            _json(identity),
            became_current,
            message_id,
            _datetime(now),
        ],
    )


_LOG_COLUMNS = (
    "direction",
    "kind",
    "sender",
    "recipient",
    "message_id",
    "idempotency_key",
    "sent_at",
    "outcome",
    "http_status",
    "error_code",
    "error_message",
    "body",
    "raw_excerpt",
    "digest",
    "reply_id",
    "reply",
    "reply_bytes",
    "reply_signature",
    "first_id",
    "received_at",
)
_LOG_INSERT = (
    f"INSERT INTO {_LOG} ({', '.join(_LOG_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_LOG_COLUMNS))})"
)


def log(
    *,
    direction: str,
    outcome: str,
    now: dt.datetime,
    kind: str = "",
    sender: str = "",
    recipient: str = "",
    message_id: str = "",
    idempotency_key: str = "",
    sent_at: str = "",
    http_status: int = 200,
    error_code: str = "",
    error_message: str = "",
    body: Any = None,
    raw_excerpt: str = "",
    digest: str = "",
    reply_id: str = "",
    reply: Any = None,
    reply_bytes: str = "",
    reply_signature: str = "",
    first_id: int | None = None,
) -> None:
    """Append one row to the message log."""
    _run(
        _LOG_INSERT,
        [
            direction,
            kind,
            sender,
            recipient,
            message_id,
            idempotency_key,
            sent_at,
            outcome,
            http_status,
            error_code,
            error_message,
            _json(body),
            raw_excerpt,
            digest,
            reply_id,
            _json(reply),
            reply_bytes,
            reply_signature,
            first_id,
            _datetime(now),
        ],
    )
