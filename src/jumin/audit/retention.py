"""The log's settings (retention, night hours, mass-search threshold) and archiving.
std 10.2 (j1370): 「取得したログは、市区町村が定める期間保管する」; docs/adr/0011.

Retention means: entries stay online (searchable, analysable) for ``retention_years``; then
``jumin audit archive`` writes them to a signed JSON-lines file (kept by the city, e.g. on
WORM media) and deletes them from the database through the one path the triggers allow —
``seq <= archived_through``, a mark that only moves forward. The online chain then starts
from the archive's anchor (the hash of the last archived entry), so ``verify`` still checks
every remaining link, and ``verify_archive`` checks the file on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import connection, transaction
from django.utils import timezone

from jumin.audit import access, checkpoints
from jumin.audit.chain import HASHED_FIELDS, canonical_time, entry_hash, hash_of
from jumin.audit.models import ArchiveState, AuditSettings, Category, OperationLogEntry
from jumin.audit.selectors import archive_state
from jumin.audit.services import record
from jumin.core.findings import Finding, FindingsError, error

SETTINGS_FUNCTION = "操作ログの設定変更"
ARCHIVE_FUNCTION = "操作ログのアーカイブ"
ARCHIVE_FORMAT = "jumin-operation-log-archive/1"
MIN_RETENTION_YEARS = 1
MAX_RETENTION_YEARS = 150


def current_settings() -> AuditSettings:
    """The settings row (the defaults when it was never saved)."""
    return AuditSettings.objects.filter(pk=1).first() or AuditSettings(pk=1)


def change_settings(
    actor: access.Actor,
    *,
    retention_years: int,
    night_start: dt.time,
    night_end: dt.time,
    mass_search_threshold: int,
) -> AuditSettings:
    """設定変更 (AUDIT_SETTINGS_MANAGE), logged with the values before and after."""
    access.require(actor, access.SETTINGS_MANAGE, SETTINGS_FUNCTION)
    findings: list[Finding] = []
    if not MIN_RETENTION_YEARS <= retention_years <= MAX_RETENTION_YEARS:
        findings.append(
            error(
                "audit.retention_years",
                f"保存期間は {MIN_RETENTION_YEARS}〜{MAX_RETENTION_YEARS} 年で指定してください"
                f"（指定値: {retention_years} 年）。",
                field="retention_years",
                remedy="市区町村の文書管理規程で定めた年数を入力してください（既定 7 年）。",
            )
        )
    if night_start == night_end:
        findings.append(
            error(
                "audit.night_hours",
                "深夜の開始時刻と終了時刻が同じです。",
                field="night_end",
                remedy="例: 開始 22:00、終了 07:00（日付をまたいで指定できます）。",
            )
        )
    if not 1 <= mass_search_threshold <= 100_000:
        findings.append(
            error(
                "audit.mass_search_threshold",
                "大量検索のしきい値は 1〜100000 回で指定してください"
                f"（指定値: {mass_search_threshold}）。",
                field="mass_search_threshold",
            )
        )
    if findings:
        raise FindingsError(findings)
    with transaction.atomic():
        row = AuditSettings.objects.select_for_update().filter(pk=1).first() or AuditSettings(pk=1)
        before = _settings_dict(row)
        row.retention_years = retention_years
        row.night_start = night_start
        row.night_end = night_end
        row.mass_search_threshold = mass_search_threshold
        row.updated_at = timezone.now()
        row.updated_by = actor.operator_code
        row.save()
        record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function=SETTINGS_FUNCTION,
            screen="web:audit_settings",
            detail={"before": before, "after": _settings_dict(row)},
        )
    return row


def _settings_dict(row: AuditSettings) -> dict[str, Any]:
    return {
        "retention_years": row.retention_years,
        "night_start": row.night_start.strftime("%H:%M"),
        "night_end": row.night_end.strftime("%H:%M"),
        "mass_search_threshold": row.mass_search_threshold,
    }


def retention_cutoff(now: dt.datetime, years: int) -> dt.datetime:
    """The moment ``years`` before ``now`` (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def archive_dir() -> Path:
    return checkpoints._path_setting(
        "AUDIT_ARCHIVE_DIR", "JUMIN_AUDIT_ARCHIVE_DIR", "audit-archive"
    )


@dataclass(frozen=True)
class ArchiveResult:
    from_seq: int
    through_seq: int
    count: int
    path: Path
    sha256: str


class ArchiveError(Exception):
    """The archive could not be written (Japanese message); nothing was deleted."""


def _entry_record(entry: OperationLogEntry) -> dict[str, Any]:
    return {
        "type": "entry",
        "seq": entry.seq,
        "occurred_at": canonical_time(entry.occurred_at),
        "operator_id": entry.operator_id,
        "operator_code": entry.operator_code,
        "terminal_name": entry.terminal_name,
        "place": entry.place,
        "category": entry.category,
        "function": entry.function,
        "screen": entry.screen,
        "targets": entry.targets,
        "my_number_accessed": entry.my_number_accessed,
        "outcome": entry.outcome,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }


def _line(value: dict[str, Any]) -> bytes:
    return (
        json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    ).encode()


def archive(
    actor: access.Actor,
    *,
    now: dt.datetime | None = None,
    directory: Path | None = None,
    key: Ed25519PrivateKey | None = None,
) -> ArchiveResult | None:
    """Archive every entry older than the retention period; ``None`` when there is none.

    The file is written, synced and renamed into place first; only then, in one transaction,
    the mark advances, the entries are deleted and the archiving itself is logged.
    """
    access.require(actor, access.SETTINGS_MANAGE, ARCHIVE_FUNCTION)
    key = key or checkpoints.load_key()
    now = now or timezone.now()
    years = current_settings().retention_years
    cutoff = retention_cutoff(now, years)
    state = archive_state()
    first_recent = (
        OperationLogEntry.objects.filter(seq__gt=state.archived_through, occurred_at__gte=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if first_recent is None:
        last = OperationLogEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
        through = last or state.archived_through
    else:
        through = first_recent - 1
    if through <= state.archived_through:
        return None

    directory = directory or archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    from_seq = state.archived_through + 1
    name = f"oplog-{from_seq:012d}-{through:012d}.jsonl"
    final = directory / name
    temp = directory / (name + ".part")
    digest = hashlib.sha256()
    prev = state.anchor_hash
    count = 0
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        with os.fdopen(fd, "wb") as fh:
            header = _line(
                {
                    "type": "header",
                    "format": ARCHIVE_FORMAT,
                    "from_seq": from_seq,
                    "through_seq": through,
                    "anchor_hash": prev,
                    "retention_years": years,
                    "cutoff": canonical_time(cutoff),
                    "created_at": canonical_time(now),
                }
            )
            fh.write(header)
            digest.update(header)
            entries = OperationLogEntry.objects.filter(
                seq__gte=from_seq, seq__lte=through
            ).order_by("seq")
            for entry in entries.iterator(chunk_size=5000):
                if (
                    entry.seq != from_seq + count
                    or entry.prev_hash != prev
                    or (_recompute(entry) != entry.entry_hash)
                ):
                    raise ArchiveError(
                        f"連番 {entry.seq} でハッシュチェーンが一致しないため、アーカイブを中止"
                        "しました（何も削除していません）。"
                        "`jumin audit verify` で確認してください。"
                    )
                data = _line(_entry_record(entry))
                fh.write(data)
                digest.update(data)
                prev = entry.entry_hash
                count += 1
            if count != through - from_seq + 1:
                raise ArchiveError(
                    f"連番 {from_seq}〜{through} のうち {count} 件しかありません。アーカイブを"
                    "中止しました（何も削除していません）。"
                )
            body = {
                "type": "trailer",
                "from_seq": from_seq,
                "through_seq": through,
                "count": count,
                "last_hash": prev,
                "sha256": digest.hexdigest(),
                "key_id": checkpoints.key_id(key.public_key()),
            }
            fh.write(_line({**body, "signature": checkpoints.sign(key, body)}))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    # read back what is on disk: nothing is deleted unless the file proves every entry
    problems = verify_archive(final, key.public_key())
    if problems:
        raise ArchiveError(
            f"書き込んだアーカイブファイル {name} を検証できないため、アーカイブを中止しました"
            "（何も削除していません）: " + " ".join(problems)
        )
    file_sha = hashlib.sha256(final.read_bytes()).hexdigest()
    # the signed attestation of the new mark, outside the database: without it, ``verify``
    # reports a mark moved forward by hand (and the entries it let delete)
    checkpoints.write_archive_mark(through, prev, key=key)

    with transaction.atomic():
        ArchiveState.objects.get_or_create(
            pk=1, defaults={"archived_through": 0, "anchor_hash": state.anchor_hash}
        )
        locked = ArchiveState.objects.select_for_update().get(pk=1)
        if locked.archived_through != state.archived_through:
            raise ArchiveError(
                f"別のアーカイブ処理が連番 {locked.archived_through} までアーカイブしました。"
                "アーカイブを中止しました（何も削除していません）。もう一度実行してください。"
            )
        ArchiveState.objects.filter(pk=1).update(
            archived_through=through,
            anchor_hash=prev,
            archived_at=now,
            archive_file=name,
            archive_sha256=file_sha,
        )
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_operationlogtarget WHERE entry_id <= %s", [through])
            cursor.execute("DELETE FROM audit_operationlogentry WHERE seq <= %s", [through])
        record(
            actor,
            category=Category.BATCH_UPDATE,
            function=ARCHIVE_FUNCTION,
            detail={
                "file": name,
                "from_seq": from_seq,
                "through_seq": through,
                "count": count,
                "sha256": file_sha,
                "retention_years": years,
            },
        )
    return ArchiveResult(from_seq, through, count, final, file_sha)


def _recompute(entry: OperationLogEntry) -> str:
    return hash_of(entry)


def verify_archive(path: Path, public: Ed25519PublicKey | None = None) -> list[str]:
    """Check an archive file on its own: its chain, its digest and its signature.
    Returns the problems in Japanese (empty: the file is intact)."""
    public = public or checkpoints.load_key().public_key()
    problems: list[str] = []
    digest = hashlib.sha256()
    lines = path.read_bytes().splitlines(keepends=True)
    if len(lines) < 2:
        return [
            f"{path.name}: アーカイブファイルが短すぎます（ヘッダーまたはトレーラーがありません）。"
        ]
    try:
        header = json.loads(lines[0])
        trailer = json.loads(lines[-1])
    except ValueError:
        return [f"{path.name}: アーカイブファイルを読めません（改変の疑い）。"]
    if header.get("format") != ARCHIVE_FORMAT or trailer.get("type") != "trailer":
        return [f"{path.name}: 操作ログのアーカイブファイルではありません。"]
    try:
        prev = str(header["anchor_hash"])
        expected = int(header["from_seq"])
        int(header["through_seq"])
    except (KeyError, TypeError, ValueError):
        return [f"{path.name}: アーカイブファイルのヘッダーを読めません（改変の疑い）。"]
    digest.update(lines[0])
    for number, raw in enumerate(lines[1:-1], start=2):
        digest.update(raw)
        try:
            data = json.loads(raw)
            seq = int(data["seq"])
            recomputed = _recompute_archived(data)
        except (KeyError, TypeError, ValueError):
            problems.append(f"{path.name}: {number} 行目を読めません（改変の疑い）。")
            expected += 1
            continue
        if seq != expected or data["prev_hash"] != prev or recomputed != data["entry_hash"]:
            problems.append(
                f"{path.name}: 連番 {seq} の内容または連鎖が一致しません（改ざんの疑い）。"
            )
        prev = data["entry_hash"]
        expected = seq + 1
    body = {k: v for k, v in trailer.items() if k != "signature"}
    if digest.hexdigest() != trailer.get("sha256"):
        problems.append(
            f"{path.name}: ファイルのダイジェストがトレーラーと一致しません（改変の疑い）。"
        )
    if not checkpoints.signature_ok(public, body, str(trailer.get("signature", ""))):
        problems.append(f"{path.name}: トレーラーの署名が正しくありません（偽造の疑い）。")
    signed_range = (
        trailer.get("from_seq", header["from_seq"]),
        trailer.get("through_seq", header["through_seq"]),
    )
    if (
        expected - 1 != int(header["through_seq"])
        or prev != trailer.get("last_hash")
        or signed_range != (header["from_seq"], header["through_seq"])
    ):
        problems.append(
            f"{path.name}: エントリの範囲または最後のハッシュがヘッダー・トレーラーと一致しません。"
        )
    return problems


def _recompute_archived(data: dict[str, Any]) -> str:
    values = {name: data[name] for name in HASHED_FIELDS}
    values["occurred_at"] = dt.datetime.strptime(
        data["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ"
    ).replace(tzinfo=dt.UTC)
    return entry_hash(**values)
