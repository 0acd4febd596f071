"""Reading the operation log, and verifying its chain."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from jumin.audit.chain import GENESIS_HASH, HASHED_FIELDS, hash_of
from jumin.audit.models import (
    ArchiveState,
    OperationLogEntry,
    OperationLogHead,
    OperationLogTarget,
)


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # "missing", "modified", "broken_link", "targets", "head"
    message: str


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    archived_through: int = 0  # the chain was verified from this archive anchor
    last_seq: int = 0  # the last entry present (or the anchor when none is online)

    @property
    def ok(self) -> bool:
        return not self.problems


_CHAIN_FIELDS = (*HASHED_FIELDS, "entry_hash")


def verify_chain(*, chunk_size: int = 5000) -> ChainReport:
    """Recompute every hash and link; report each place where the log was tampered with.

    Detects a modified entry (its hash no longer matches its fields), a deleted entry (a
    gap in ``seq``), an inserted or reordered entry (a link to the wrong predecessor), a
    truncated tail (the head row points past the last entry), and index rows that disagree
    with their entry.
    """
    report = ChainReport()
    targets: dict[int, list[str]] = defaultdict(list)
    for entry_id, atena_no in OperationLogTarget.objects.order_by(
        "entry_id", "atena_no"
    ).values_list("entry_id", "atena_no"):
        targets[entry_id].append(atena_no)

    anchor = archive_state()
    report.archived_through = anchor.archived_through
    expected_seq = anchor.archived_through + 1
    prev_hash = anchor.anchor_hash
    rows = OperationLogEntry.objects.order_by("seq").values_list(*_CHAIN_FIELDS, named=True)
    for entry in rows.iterator(chunk_size=chunk_size):  # tuples: no model instances
        report.checked += 1
        if entry.seq != expected_seq:
            report.problems.append(
                ChainProblem(
                    entry.seq,
                    "missing",
                    f"連番 {expected_seq}〜{entry.seq - 1} のエントリがありません（削除の疑い）。",
                )
            )
        recomputed = hash_of(entry)
        if recomputed != entry.entry_hash:
            report.problems.append(
                ChainProblem(
                    entry.seq, "modified", f"連番 {entry.seq} の内容が改ざんされています。"
                )
            )
        if entry.prev_hash != prev_hash:
            report.problems.append(
                ChainProblem(
                    entry.seq,
                    "broken_link",
                    f"連番 {entry.seq} の前エントリとの連鎖が切れています"
                    "（挿入・並べ替え・削除の疑い）。",
                )
            )
        if sorted(entry.targets) != targets.pop(entry.seq, []):
            report.problems.append(
                ChainProblem(entry.seq, "targets", f"連番 {entry.seq} の対象者索引が一致しません。")
            )
        prev_hash = entry.entry_hash
        expected_seq = entry.seq + 1

    report.last_seq = expected_seq - 1
    for orphan in sorted(targets):
        report.problems.append(
            ChainProblem(orphan, "targets", f"存在しないエントリ {orphan} の対象者索引があります。")
        )
    head = OperationLogHead.objects.filter(pk=1).first()
    if head is None:
        report.problems.append(ChainProblem(0, "head", "操作ログの末尾情報がありません。"))
    elif head.last_seq != expected_seq - 1 or head.last_hash != prev_hash:
        report.problems.append(
            ChainProblem(
                head.last_seq,
                "head",
                f"末尾情報（連番 {head.last_seq}）と最後のエントリ（連番 {expected_seq - 1}）"
                "が一致しません（末尾の削除の疑い）。",
            )
        )
    return report


def archive_state() -> ArchiveState:
    """The archive mark (an unsaved genesis mark when the log was never archived)."""
    state = ArchiveState.objects.filter(pk=1).first()
    return state or ArchiveState(pk=1, archived_through=0, anchor_hash=GENESIS_HASH)


def entries_for_person(atena_no: str) -> list[OperationLogEntry]:
    """Who did what to this person: the entries that name ``atena_no``."""
    ids = OperationLogTarget.objects.filter(atena_no=atena_no).values("entry_id")
    return list(OperationLogEntry.objects.filter(seq__in=ids).order_by("seq"))


def latest_entries(count: int) -> list[OperationLogEntry]:
    rows = list(OperationLogEntry.objects.order_by("-seq")[: max(count, 0)])
    rows.reverse()
    return rows
