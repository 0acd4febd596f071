"""Signed checkpoints of the chain's end, kept outside the database. std 10.2 (j1370)
「改ざん防止措置」; docs/adr/0011.

A hash chain shows that entries were changed, inserted or removed in the middle; it cannot
show that someone with full database rights removed the newest entries and rewound the head
row. ``jumin audit checkpoint`` (every 5 minutes from a timer) appends
``{seq, entry_hash, time, key_id, signature}`` — signed with an Ed25519 key that the database
does not hold — to one append-only file per day in ``JUMIN_AUDIT_CHECKPOINT_DIR``.
``verify_checkpoints`` then finds:

- a checkpoint beyond the log's last entry → the tail was cut off (truncation);
- a checkpoint whose hash differs from the entry at its ``seq`` → the entry was rewritten;
- a checkpoint whose signature does not verify → the checkpoint itself is forged;
- an archive mark (``archived_through``, ``anchor_hash``) that no signed *archive* line
  attests → entries were deleted without going through ``jumin audit archive`` (the
  triggers let anyone who can update the mark delete up to it).

What cannot be detected: entries appended after the newest checkpoint and then deleted (with
the head rewound) before the next one — at most the interval of the timer, or longer if the
timer stopped (the verify screen shows the newest checkpoint's time).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils import timezone

from jumin.audit.chain import canonical_time
from jumin.audit.models import OperationLogEntry, OperationLogHead

FILE_PREFIX = "checkpoints-"


class CheckpointError(Exception):
    """The key or the directory is missing or unusable (message in Japanese)."""


def _path_setting(name: str, env: str, default: str) -> Path:
    value = getattr(settings, name, None) or os.environ.get(env)
    return Path(value) if value else Path(settings.VAR_DIR) / default


def key_path() -> Path:
    return _path_setting(
        "AUDIT_CHECKPOINT_KEY", "JUMIN_AUDIT_CHECKPOINT_KEY", "audit-checkpoint.key"
    )


def checkpoint_dir() -> Path:
    return _path_setting("AUDIT_CHECKPOINT_DIR", "JUMIN_AUDIT_CHECKPOINT_DIR", "audit-checkpoints")


def canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: Path | None = None, *, overwrite: bool = False) -> Path:
    """``jumin audit keygen``: a new Ed25519 key, readable by its owner only."""
    path = path or key_path()
    if path.exists() and not overwrite:
        raise CheckpointError(
            f"署名鍵 {path} は既にあります。作り直すと過去のチェックポイントを検証できなく"
            "なります（作り直す場合は --force を指定してください）。"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return path


def load_key(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or key_path()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise CheckpointError(
            f"チェックポイントの署名鍵 {path} がありません。`jumin audit keygen` で作成して"
            "ください（JUMIN_AUDIT_CHECKPOINT_KEY で場所を指定できます）。"
        ) from exc
    except ValueError as exc:
        raise CheckpointError(
            f"署名鍵 {path} を読めません（Ed25519 の PEM ではありません）。"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"署名鍵 {path} は Ed25519 の鍵ではありません。")
    return key


def sign(key: Ed25519PrivateKey, body: dict[str, Any]) -> str:
    return base64.b64encode(key.sign(canonical(body))).decode()


def signature_ok(public: Ed25519PublicKey, body: dict[str, Any], signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), canonical(body))
    except (InvalidSignature, ValueError):
        return False
    return True


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_hash: str
    time: str
    key_id: str
    signature: str
    file: str = ""
    line: int = 0
    kind: str = ""  # "" a checkpoint of the head; ARCHIVE_MARK the anchor of an archive

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "time": self.time,
            "key_id": self.key_id,
        }
        if self.kind:
            body["kind"] = self.kind
        return body


ARCHIVE_MARK = "archive"


def write_checkpoint(
    *, directory: Path | None = None, key: Ed25519PrivateKey | None = None
) -> Checkpoint:
    """Sign the chain's current end and append it to today's file (UTC day)."""
    head = OperationLogHead.objects.filter(pk=1).first()
    seq, digest = (head.last_seq, head.last_hash) if head else (0, "0" * 64)
    return _write(seq, digest, "", directory=directory, key=key)


def write_archive_mark(
    seq: int,
    anchor_hash: str,
    *,
    directory: Path | None = None,
    key: Ed25519PrivateKey | None = None,
) -> Checkpoint:
    """Attest, before the entries are deleted, that ``jumin audit archive`` archived the log
    through ``seq`` (whose hash is ``anchor_hash``): the one mark ``verify`` accepts."""
    return _write(seq, anchor_hash, ARCHIVE_MARK, directory=directory, key=key)


def _write(
    seq: int,
    digest: str,
    kind: str,
    *,
    directory: Path | None,
    key: Ed25519PrivateKey | None,
) -> Checkpoint:
    key = key or load_key()
    directory = directory or checkpoint_dir()
    now = timezone.now()
    cp = Checkpoint(
        seq=seq,
        entry_hash=digest,
        time=canonical_time(now),
        key_id=key_id(key.public_key()),
        signature="",
        kind=kind,
    )
    body = cp.body()
    signature = sign(key, body)
    path = directory / f"{FILE_PREFIX}{now.astimezone(dt.UTC):%Y-%m-%d}.jsonl"
    _append_line(path, json.dumps({**body, "signature": signature}, sort_keys=True))
    return dataclasses.replace(cp, signature=signature, file=path.name)


@dataclass(frozen=True)
class CheckpointProblem:
    kind: str  # "truncated", "mismatch", "forged", "unreadable", "archive"
    message: str
    seq: int = 0


@dataclass
class CheckpointReport:
    checked: int = 0
    archived: int = 0  # checkpoints inside the archived range, checked against the anchor only
    latest: Checkpoint | None = None
    problems: list[CheckpointProblem] = field(default_factory=list)
    missing_key: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_key


def read_checkpoints(
    directory: Path | None = None,
) -> tuple[list[Checkpoint], list[CheckpointProblem]]:
    directory = directory or checkpoint_dir()
    found: list[Checkpoint] = []
    problems: list[CheckpointProblem] = []
    if not directory.is_dir():
        return found, problems
    for path in sorted(directory.glob(f"{FILE_PREFIX}*.jsonl")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
                found.append(
                    Checkpoint(
                        seq=int(data["seq"]),
                        entry_hash=str(data["entry_hash"]),
                        time=str(data["time"]),
                        key_id=str(data["key_id"]),
                        signature=str(data["signature"]),
                        file=path.name,
                        line=number,
                        kind=str(data.get("kind") or ""),
                    )
                )
            except (ValueError, KeyError, TypeError):
                problems.append(
                    CheckpointProblem(
                        "unreadable",
                        f"チェックポイントファイル {path.name} の {number} 行目を読めません"
                        "（改変の疑い）。",
                    )
                )
    return found, problems


def verify_checkpoints(
    *,
    last_seq: int,
    archived_through: int,
    anchor_hash: str,
    directory: Path | None = None,
    public: Ed25519PublicKey | None = None,
) -> CheckpointReport:
    """Compare every checkpoint with the log as it is now (``last_seq``: the last entry)."""
    report = CheckpointReport()
    found, report.problems = read_checkpoints(directory)
    if not found and not report.problems and not archived_through:
        return report  # none written yet: nothing to compare (the screen says so)
    if public is None:
        try:
            public = load_key().public_key()
        except CheckpointError as exc:
            report.missing_key = str(exc)
            return report
    wanted = {c.seq for c in found if archived_through < c.seq <= last_seq}
    hashes = dict(OperationLogEntry.objects.filter(seq__in=wanted).values_list("seq", "entry_hash"))
    attested = not archived_through
    for cp in found:
        report.checked += 1
        where = f"{cp.file} {cp.line} 行目（連番 {cp.seq}、{cp.time}）"
        if not signature_ok(public, cp.body(), cp.signature):
            report.problems.append(
                CheckpointProblem(
                    "forged",
                    f"チェックポイント {where} の署名が正しくありません（偽造または改変の疑い）。",
                    cp.seq,
                )
            )
            continue
        if cp.kind == ARCHIVE_MARK and (cp.seq, cp.entry_hash) == (archived_through, anchor_hash):
            attested = True
        if report.latest is None or cp.seq >= report.latest.seq:
            report.latest = cp
        if cp.seq == 0:
            continue
        if cp.seq > last_seq:
            report.problems.append(
                CheckpointProblem(
                    "truncated",
                    f"チェックポイント {where} は記録済みのはずの連番 {cp.seq} を示していますが、"
                    f"操作ログは連番 {last_seq} で終わっています。末尾のエントリが削除されています"
                    "（切り詰めの疑い）。",
                    cp.seq,
                )
            )
        elif cp.seq < archived_through:
            report.archived += 1
        elif cp.seq == archived_through:
            if cp.entry_hash != anchor_hash:
                report.problems.append(
                    CheckpointProblem(
                        "mismatch",
                        f"チェックポイント {where} のハッシュがアーカイブのアンカーと一致しません"
                        "（改ざんの疑い）。",
                        cp.seq,
                    )
                )
        elif hashes.get(cp.seq) != cp.entry_hash:
            report.problems.append(
                CheckpointProblem(
                    "mismatch",
                    f"チェックポイント {where} のハッシュが連番 {cp.seq} のエントリと一致しません"
                    "（改ざん・書き換えの疑い）。",
                    cp.seq,
                )
            )
    if not attested:
        report.problems.append(
            CheckpointProblem(
                "archive",
                f"アーカイブ済みの印（連番 {archived_through} まで）を裏付ける署名付きの"
                "アーカイブ記録がチェックポイントにありません。`jumin audit archive` を経ずに"
                f"連番 {archived_through} 以前のエントリが削除された疑いがあります"
                "（アーカイブファイルとチェックポイントを保全してください）。",
                archived_through,
            )
        )
    return report
