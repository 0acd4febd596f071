"""整合性確認 (std 7.1.1.2, j1100): the register, the CS identity file and the national side.

``compare`` streams the register's current view (persons with a 住民票コード) and the
本人確認情報ファイル, both ordered by 宛名番号, and merges them comparing the 履歴番号 and a
digest of the identity items (``builders.identity_hash``), so 1,000,000 persons take one pass
over each table and little memory. Differences:

- ``missing_in_cs`` — the register has the person, the CS file does not;
- ``stale_in_cs`` — the CS file holds an older 履歴番号 than the register;
- ``differs`` — same (or newer) 履歴番号 but different items;
- ``not_in_register`` — the CS file has a person the register does not (or without a code).

A person with an ``identity_info`` message still pending is reported as *in flight* (the
worker will bring the CS up to date) and not repaired. ``check_national`` asks J-LIS
(``identity.query`` by 住民票コード) for each CS row and adds ``unknown_at_national`` and
``national_differs``. ``repair`` queues an ``identity_info`` message for every repairable
difference through ``services.repair_identities``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from jumin.accounts.actor import Actor
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.jukinet import services
from jumin.jukinet.builders import IDENTITY_COLUMNS, identity_hash
from jumin.jukinet.client import CsClient
from jumin.jukinet.models import IdentityRecord
from jumin.outbox.models import OutboxMessage
from jumin.register.crypto import DecryptionError, reveal_my_number
from jumin.register.models import EncryptedMyNumber, Resident

CHUNK = 5000
RECONCILE_FUNCTION = "本人確認情報の整合性確認"
NATIONAL_PURPOSE = "本人確認情報の整合性確認（CSと全国側の突合）"
KIND_LABELS: dict[str, str] = {
    "missing_in_cs": "CSに本人確認情報がない",
    "stale_in_cs": "CSの本人確認情報が古い（最新の異動が未反映）",
    "differs": "CSの本人確認情報が住民記録と異なる",
    "not_in_register": "住民記録（住民票コードあり）にない本人確認情報がCSにある",
    "unknown_at_national": "全国側（J-LIS）に本人確認情報がない",
    "national_differs": "全国側（J-LIS）の本人確認情報がCSと異なる",
}
REPAIRABLE = frozenset(
    {"missing_in_cs", "stale_in_cs", "differs", "unknown_at_national", "national_differs"}
)


@dataclass(frozen=True)
class Difference:
    kind: str
    atena_no: str
    juminhyo_code: str
    register_history_no: int | None
    cs_sequence: int | None
    in_flight: bool = False
    note: str = ""


@dataclass
class Report:
    register_count: int = 0
    cs_count: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[Difference]] = field(default_factory=dict)
    in_flight: int = 0
    national_checked: int = 0
    national_unanswered: int = 0
    repair: list[str] = field(default_factory=list)
    repaired: int = 0
    seconds: float = 0.0

    def add(self, diff: Difference, sample: int) -> None:
        if diff.in_flight:
            self.in_flight += 1
            return
        self.counts[diff.kind] += 1
        if diff.kind in REPAIRABLE:
            self.repair.append(diff.atena_no)
        bucket = self.samples.setdefault(diff.kind, [])
        if len(bucket) < sample:
            bucket.append(diff)

    @property
    def clean(self) -> bool:
        return not self.counts

    def lines(self) -> list[str]:
        out = [
            f"住民記録（住民票コードあり）: {self.register_count}人",
            f"CSの本人確認情報ファイル: {self.cs_count}件",
        ]
        if self.national_checked:
            out.append(f"全国側に照会: {self.national_checked}件")
            if self.national_unanswered:
                out.append(f"  うち応答なし: {self.national_unanswered}件（通信エラー）")
        if self.in_flight:
            out.append(f"送信待ちの異動がある人（送信後に一致する見込み）: {self.in_flight}人")
        if self.clean:
            out.append("不一致はありません。")
        for kind, label in KIND_LABELS.items():
            n = self.counts.get(kind, 0)
            if not n:
                continue
            out.append(f"{label}: {n}件")
            for d in self.samples.get(kind, []):
                out.append(
                    f"  宛名番号 {d.atena_no} 住民票コード {d.juminhyo_code or '-'}"
                    f" 住民記録の履歴番号 {d.register_history_no or '-'}"
                    f" CSの履歴番号 {d.cs_sequence or '-'}" + (f"（{d.note}）" if d.note else "")
                )
        if self.repaired:
            out.append(f"修復: {self.repaired}件の本人確認情報を送信待ちに追加しました。")
        out.append(f"所要時間: {self.seconds:.1f}秒")
        return out


def _register_rows() -> Iterator[tuple[Any, ...]]:
    return (
        Resident.objects.exclude(juminhyo_code="")
        .order_by("atena_no")
        .values_list("atena_no", "history_no", *IDENTITY_COLUMNS)
        .iterator(chunk_size=CHUNK)
    )


def _cs_rows() -> Iterator[tuple[str, int, str, str]]:
    return (
        IdentityRecord.objects.order_by("atena_no")
        .values_list("atena_no", "sequence", "items_hash", "juminhyo_code")
        .iterator(chunk_size=CHUNK)
    )


def _in_flight() -> set[str]:
    return set(
        OutboxMessage.objects.filter(
            topic="identity_info", status=OutboxMessage.Status.PENDING
        ).values_list("ordering_key", flat=True)
    )


def compare(*, sample: int = 10) -> Report:
    """The register against the CS file (a pure read of both; no log: see ``reconcile``).

    On PostgreSQL the two streams are server-side cursors inside one transaction (outside
    one they would be declared WITH HOLD and materialised before the first row)."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            return _compare(sample)
    return _compare(sample)


def _compare(sample: int) -> Report:
    started = time.monotonic()
    report = Report()
    flying = _in_flight()
    reg = _register_rows()
    cs = _cs_rows()
    r = next(reg, None)
    c = next(cs, None)
    register_count = cs_count = 0
    while r is not None or c is not None:
        if c is None or (r is not None and r[0] < c[0]):
            assert r is not None
            register_count += 1
            report.add(Difference("missing_in_cs", r[0], r[2], r[1], None, r[0] in flying), sample)
            r = next(reg, None)
        elif r is None or c[0] < r[0]:
            cs_count += 1
            report.add(Difference("not_in_register", c[0], c[3], None, c[1]), sample)
            c = next(cs, None)
        else:
            register_count += 1
            cs_count += 1
            atena, history_no = r[0], r[1]
            if c[1] < history_no:
                report.add(
                    Difference("stale_in_cs", atena, r[2], history_no, c[1], atena in flying),
                    sample,
                )
            elif c[2] != identity_hash(r[2:]):
                report.add(
                    Difference("differs", atena, r[2], history_no, c[1], atena in flying),
                    sample,
                )
            r = next(reg, None)
            c = next(cs, None)
    report.register_count = register_count
    report.cs_count = cs_count
    report.seconds = time.monotonic() - started
    return report


def _national_differences(record: IdentityRecord, match: dict[str, Any]) -> list[str]:
    fields = [
        "juminhyo_code",
        "family_name",
        "given_name",
        "name_alphabet",
        "name_kana",
        "birth_date",
        "sex",
        "address",
        "status",
        "sequence",
    ]
    out = [f for f in fields if str(match.get(f) or "") != str(getattr(record, f) or "")]
    number = None
    if record.my_number_id:
        row = EncryptedMyNumber.objects.filter(pk=record.my_number_id).first()
        try:
            number = reveal_my_number(row) if row is not None else None
        except DecryptionError:
            number = None
    if (match.get("my_number") or None) != number:
        out.append("my_number")
    return out


def check_national(
    actor: Actor,
    report: Report,
    *,
    client: CsClient | None = None,
    limit: int | None = None,
    batch: int = 200,
    concurrency: int = 4,
    sample: int = 10,
) -> None:
    """Ask J-LIS for each CS row (by 住民票コード, ``limit`` rows at most) and add the
    national differences to ``report``. Each query is logged (``SentMessage``, 通信)."""
    own = client is None
    client = client or CsClient.from_config()
    try:
        _check_national(actor, report, client, limit, batch, concurrency, sample)
    finally:
        if own:
            client.close()


def _check_national(
    actor: Actor,
    report: Report,
    client: CsClient,
    limit: int | None,
    batch: int,
    concurrency: int,
    sample: int,
) -> None:
    query = IdentityRecord.objects.order_by("atena_no")
    if limit is not None:
        query = query[:limit]
    chunk: list[IdentityRecord] = []

    def flush() -> None:
        exchanges = services.call_many(
            actor,
            "identity.query",
            [
                ({"purpose": NATIONAL_PURPOSE, "juminhyo_code": r.juminhyo_code}, r.atena_no)
                for r in chunk
            ],
            purpose=NATIONAL_PURPOSE,
            client=client,
            concurrency=concurrency,
        )
        for record, exchange in zip(chunk, exchanges, strict=True):
            report.national_checked += 1
            if exchange.outcome != "delivered" or exchange.result is None:
                report.national_unanswered += 1
                continue
            matches = exchange.result.get("matches") or []
            if not matches:
                report.add(
                    Difference(
                        "unknown_at_national",
                        record.atena_no,
                        record.juminhyo_code,
                        None,
                        record.sequence,
                    ),
                    sample,
                )
                continue
            fields = _national_differences(record, matches[0])
            if fields:
                report.add(
                    Difference(
                        "national_differs",
                        record.atena_no,
                        record.juminhyo_code,
                        None,
                        record.sequence,
                        note="異なる項目: " + ", ".join(fields),
                    ),
                    sample,
                )
        chunk.clear()

    for record in query.iterator(chunk_size=batch):
        chunk.append(record)
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()


def reconcile(
    actor: Actor,
    *,
    sample: int = 10,
    national: bool = False,
    national_limit: int | None = None,
    repair: bool = False,
    client: CsClient | None = None,
) -> Report:
    """整合性確認: compare, optionally ask the national side, optionally repair; one
    operation-log entry (the persons shown in the samples are its targets)."""
    started = time.monotonic()
    report = compare(sample=sample)
    if national:
        check_national(actor, report, client=client, limit=national_limit, sample=sample)
    if repair and report.repair:
        report.repaired = services.repair_identities(actor, report.repair)
    report.seconds = time.monotonic() - started
    shown = sorted({d.atena_no for bucket in report.samples.values() for d in bucket})
    audit.record(
        actor,
        category=Category.BATCH_DOCUMENT,
        function=RECONCILE_FUNCTION,
        targets=shown,
        detail={
            "register": report.register_count,
            "cs": report.cs_count,
            "differences": dict(report.counts),
            "in_flight": report.in_flight,
            "national_checked": report.national_checked,
            "repaired": report.repaired,
        },
    )
    return report
