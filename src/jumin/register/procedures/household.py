"""世帯変更等 (std 4.1.4, j720–j740): 世帯分離, 世帯合併, 世帯主変更 and 世帯変更.

All four change who belongs to which household, or who heads it, *without* changing anyone's
address: j720 lists "世帯変更等と同時に住所の変更を行えること" under 【実装しない機能】, so no
procedure here takes an address. Merging and moving members are refused between households at
different addresses (``household.address_differs``); a different 方書 alone is only an alert
(j720 does not require equal 方書, nor does it ask us to correct it in the same change).

* ``household_split`` 世帯分離 (HOUSEHOLD_SPLIT): some members leave to form a new household
  (a new 世帯番号) at the same address, with their relationships to its new head.
* ``household_merge`` 世帯合併 (HOUSEHOLD_MERGE): every member of one household joins another
  at the same address; each gets a relationship to that household's head.
* ``head_change`` 世帯主変更 (HEAD_CHANGE): a new head; every member's relationship is
  re-derived relative to the new head where the chain allows it (std 4.1.4.2, j730 — see
  :func:`derive_relationship`), otherwise the clerk must enter it; the clerk may always
  override. ``ex_officio`` sets the head of a household without one (std 4.0.5, j500).
* ``household_composition`` 世帯変更 (HOUSEHOLD_CHANGE): some members of one household join
  another existing household at the same address.

Common rules: 異動日 not in the future and 届出 within 14 days (std 4.0.3, j480 —
``check_dates``), nor before a moving member settled at the address; relationships checked
with the core grammar (std 1.1.11, j110); never two heads (std 1.1.10, j100 —
``check_households``); when a head leaves, a single remaining member becomes head ex
officio and two or more get an alert asking for a 世帯主変更 (std 4.0.4, j490 —
``head_leaves``). A household left without a head keeps its members, whose 世帯主の氏名 is
cleared: j100 allows 世帯主未設定 and requires it to be sent to other systems as such, so those
members are part of the change (a history row and an identity-info message each).

事実上の世帯主 (std 4.1.4.3, j740): the name of a de facto head (a person outside the law,
such as a diplomat, or the head of a children's home) is written into the 備考 of the members'
records as one line ``事実上の世帯主：氏名`` (``de_facto_head_name`` on ``household_split`` and
``head_change``; "" removes the line) until the record has an item of its own for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from pydantic import Field

from jumin.accounts.actor import Actor
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Findings, alert, error
from jumin.core.relationships import (
    CHILD,
    HEAD,
    NO,
    PARENT_TERMS,
    SIBLING_TERMS,
    SPOUSE_TERMS,
    UNREGISTERED,
    RelationshipKind,
    coerce_relationship,
    normalise_relationship,
    validate_relationship,
)
from jumin.register import selectors
from jumin.register.models import Change, Resident, ResidentHistory
from jumin.register.procedures.common import (
    Strict,
    current_member,
    head_leaves,
    head_name,
    today,
)
from jumin.register.records import snapshot, to_json
from jumin.register.services import DraftPlan, PersonPlan, new_household_no, submit_plan
from jumin.register.validation import check_dates, check_households

DE_FACTO_HEAD_PREFIX = "事実上の世帯主："
"""The 備考 line that records a de facto head (std 4.1.4.3, j740)."""

Affected = list[tuple[Resident, dict[str, Any]]]


# --- input ------------------------------------------------------------------------------


class MemberRelationship(Strict):
    """A member and their relationship to the head of the household they are in after the
    change (for the new head of a split household: empty or 世帯主)."""

    atena_no: str = Field(..., min_length=1, max_length=10, description="宛名番号")
    relationship: str = Field("", max_length=40, description="世帯主から見た続柄")


class _Notified(Strict):
    occurred_on: dt.date = Field(..., description="異動日")
    notified_on: dt.date = Field(..., description="届出日")


class HouseholdSplitInput(_Notified):
    """世帯分離: ``members`` leave ``household_no`` and form a new household headed by
    ``new_head_atena_no`` (one of them)."""

    household_no: str = Field(..., min_length=1, max_length=10, description="分離元の世帯番号")
    new_head_atena_no: str = Field(
        ..., min_length=1, max_length=10, description="新しい世帯の世帯主の宛名番号"
    )
    members: list[MemberRelationship] = Field(..., min_length=1, max_length=30)
    de_facto_head_name: str | None = Field(
        None, max_length=200, description="事実上の世帯主の氏名（省略: 変更なし、空欄: 削除）"
    )


class HouseholdMergeInput(_Notified):
    """世帯合併: every member of ``household_no`` joins ``into_household_no``."""

    household_no: str = Field(..., min_length=1, max_length=10, description="合併する世帯番号")
    into_household_no: str = Field(..., min_length=1, max_length=10, description="合併先の世帯番号")
    members: list[MemberRelationship] = Field(..., min_length=1, max_length=30)


class HeadChangeInput(Strict):
    """世帯主変更: ``new_head_atena_no`` becomes head of ``household_no``. ``relationships``
    overrides the derived relationship of any member. ``ex_officio``: the city sets the head
    of a household that has none (std 4.0.5, j500) — no 届出日 then."""

    occurred_on: dt.date = Field(..., description="異動日")
    notified_on: dt.date | None = Field(None, description="届出日（職権の場合は空欄）")
    ex_officio: bool = Field(False, description="職権で世帯主を定める")
    household_no: str = Field(..., min_length=1, max_length=10, description="世帯番号")
    new_head_atena_no: str = Field(
        ..., min_length=1, max_length=10, description="新しい世帯主の宛名番号"
    )
    relationships: list[MemberRelationship] = Field(default_factory=list, max_length=30)
    de_facto_head_name: str | None = Field(
        None, max_length=200, description="事実上の世帯主の氏名（省略: 変更なし、空欄: 削除）"
    )


class HouseholdCompositionInput(_Notified):
    """世帯変更: ``members`` leave their household and join ``into_household_no``."""

    into_household_no: str = Field(..., min_length=1, max_length=10, description="異動先の世帯番号")
    members: list[MemberRelationship] = Field(..., min_length=1, max_length=30)


# --- relationship derivation (std 4.1.4.2, j730) ------------------------------------------


class Kin(NamedTuple):
    """What the derivation needs of a person: relationship to the old head, sex ("1"/"2"),
    and birth date (None when uncertain)."""

    relationship: str
    sex: str
    birth: dt.date | None


def derive_relationship(member: Kin, new_head: Kin, old_head_sex: str | None) -> str | None:
    """The relationship of ``member`` to ``new_head``, both given relative to the old head;
    None where the register's chains cannot tell (the clerk must enter it).

    Derivable only when the new head is the old head's spouse, child, parent or sibling
    (a one-term chain). ``old_head_sex`` is the old head's sex (None if unknown — the old head
    may have left). The table, read "member's relationship to the old head → to the new head":

    新世帯主が 夫/妻 (未届 included; the old head becomes the same kind of spouse):
      世帯主 → 夫/妻 by sex · 子… → unchanged (presumed the couple's; not for 未届) ·
      妻の父 → 父 (the new head's own side loses its first term) ·
      父, 兄, 父の母 … (old head's side) → 夫の父, 夫の兄, 夫の父の母.
    新世帯主が 子:
      世帯主 → 父/母 · 妻/夫 → 母/父 (registered only) · 子 → 兄/姉/弟/妹 by birth date ·
      妻の父, 妻の兄 … → 母の父, 母の兄 · 父, 兄 … (old head's side) → 父の父/母の父, 父の兄 ….
      Not derivable: 子の妻, 子の子 … (whose?), 妻の子, 未届 spouses.
    新世帯主が 父/母:
      世帯主 → 子 · 兄/姉/弟/妹 → 子 · the other parent → 妻/夫 (presumed married) ·
      父の父 → 父 (when the new head is 父) · 母の父 → 妻の父 · 妻 → 子の妻 · 子 → 子の子 ….
    新世帯主が 兄/姉/弟/妹:
      世帯主 → 弟/妹/兄/姉 · 父, 母, 父の父 … → unchanged · other siblings → by birth date ·
      妻 → 弟の妻, 子 → 弟の子 … · not derivable: 兄の妻, 兄の子 … (which sibling's?).
    Any new head: 縁故者 and 同居人 stay as they are. Chains longer than four generations
    become 縁故者 (j110).
    """
    try:
        new = validate_relationship(new_head.relationship)
        rel = validate_relationship(member.relationship)
    except CoreError:
        return None
    if not new.is_relative or len(new.chain) != 1:
        return None
    link = new.chain[0]
    if rel.is_head:
        return _inverse(link, member.sex)
    if rel.kind in (RelationshipKind.ENKOSHA, RelationshipKind.DOKYONIN):
        return rel.text
    chain = rel.chain
    terms: tuple[str, ...] | None
    if link in SPOUSE_TERMS:
        terms = _via_spouse(link, chain, old_head_sex)
    elif link == CHILD:
        terms = _via_child(chain, member, new_head, old_head_sex)
    elif link in PARENT_TERMS:
        terms = _via_parent(link, chain)
    else:
        terms = _via_sibling(link, chain, member, new_head, old_head_sex)
    if not terms:
        return None
    return coerce_relationship(NO.join(terms)).text


def _by_sex(sex: str | None, male: str, female: str) -> str | None:
    return {"1": male, "2": female}.get(sex or "")


def _spouse_term(sex: str | None, unregistered: bool) -> str | None:
    term = _by_sex(sex, "夫", "妻")
    return term + UNREGISTERED if term and unregistered else term


def _sibling_term(older: bool, sex: str | None) -> str | None:
    return _by_sex(sex, "兄", "姉") if older else _by_sex(sex, "弟", "妹")


def _inverse(link: str, sex: str | None) -> str | None:
    """The old head's relationship to a new head who was their ``link``."""
    if link in SPOUSE_TERMS:
        return _spouse_term(sex, link.endswith(UNREGISTERED))
    if link == CHILD:
        return _by_sex(sex, "父", "母")
    if link in PARENT_TERMS:
        return CHILD
    return _sibling_term(link in ("弟", "妹"), sex)


def _sibling(member: Kin, new_head: Kin) -> str | None:
    """兄/姉/弟/妹 of the new head by birth date; None for twins or uncertain dates."""
    if member.birth is None or new_head.birth is None or member.birth == new_head.birth:
        return None
    return _sibling_term(member.birth < new_head.birth, member.sex)


def _via_spouse(link: str, chain: tuple[str, ...], old_sex: str | None) -> tuple[str, ...] | None:
    if chain[0] == link:
        return chain[1:] or None
    if chain[0] == CHILD:
        return None if link.endswith(UNREGISTERED) else chain
    if chain[0] in SPOUSE_TERMS:
        return None
    old = _spouse_term(old_sex, link.endswith(UNREGISTERED))
    return (old, *chain) if old else None


def _via_child(
    chain: tuple[str, ...], member: Kin, new_head: Kin, old_sex: str | None
) -> tuple[str, ...] | None:
    first = chain[0]
    if chain == (CHILD,):
        sibling = _sibling(member, new_head)
        return (sibling,) if sibling else None
    if first in ("夫", "妻"):  # registered spouse of the old head: the new head's parent
        parent = "父" if first == "夫" else "母"
        if len(chain) == 1:
            return (parent,)
        return None if chain[1] == CHILD else (parent, *chain[1:])
    if first in PARENT_TERMS or first in SIBLING_TERMS:
        old = _by_sex(old_sex, "父", "母")
        return (old, *chain) if old else None
    return None


def _via_parent(link: str, chain: tuple[str, ...]) -> tuple[str, ...] | None:
    first = chain[0]
    other = "母" if link == "父" else "父"
    if first == link:
        return chain[1:] or None
    if first == other:
        return ("妻" if link == "父" else "夫", *chain[1:])
    if first in SIBLING_TERMS:
        return (CHILD, *chain[1:])
    if first == CHILD or first in SPOUSE_TERMS:
        return (CHILD, *chain)
    return None


def _via_sibling(
    link: str, chain: tuple[str, ...], member: Kin, new_head: Kin, old_sex: str | None
) -> tuple[str, ...] | None:
    first = chain[0]
    if first in PARENT_TERMS:
        return chain
    if len(chain) == 1 and first in SIBLING_TERMS:
        sibling = _sibling(member, new_head)
        return (sibling,) if sibling else None
    if first == CHILD or first in SPOUSE_TERMS:
        old = _inverse(link, old_sex)
        return (old, *chain) if old else None
    return None


# --- shared steps ------------------------------------------------------------------------


def _who(resident: Resident) -> str:
    return f"{resident.name}（宛名番号 {resident.atena_no}）"


def _household(household_no: str, findings: Findings, field: str) -> list[Resident]:
    members = selectors.household_members(household_no)
    if not members:
        findings.add(
            error(
                "household.unknown",
                f"世帯番号 {household_no} の世帯（住民のいる世帯）はありません。",
                field=field,
                remedy="世帯番号を確認してください。",
            )
        )
    return members


def _pick(
    entries: Sequence[MemberRelationship],
    household_no: str | None,
    findings: Findings,
    field: str,
) -> list[tuple[int, MemberRelationship, Resident]]:
    """The current residents named by ``entries`` (in ``household_no`` when given)."""
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(entries):
        path = f"{field}.{i}.atena_no"
        if entry.atena_no in seen:
            findings.add(
                error(
                    "member.duplicate",
                    f"宛名番号 {entry.atena_no} が2回以上入力されています。",
                    field=path,
                    remedy="1人につき1回だけ入力してください。",
                )
            )
            continue
        seen.add(entry.atena_no)
        resident = current_member(entry.atena_no, findings, path)
        if resident is None:
            continue
        if household_no is not None and resident.household_no != household_no:
            findings.add(
                error(
                    "member.not_in_household",
                    f"{_who(resident)}は世帯 {household_no} の世帯員ではありません"
                    f"（現在の世帯番号 {resident.household_no}）。",
                    field=path,
                    remedy="世帯番号と宛名番号を確認してください。",
                )
            )
            continue
        out.append((i, entry, resident))
    return out


def _relationship(text: str, resident: Resident, findings: Findings, field: str) -> str:
    """The normalised 続柄 (std 1.1.11, j110), or "" with an error naming the person."""
    try:
        return validate_relationship(text).text
    except CoreError as exc:
        findings.add(
            error(
                exc.code,
                f"{_who(resident)}の続柄: {exc.message}",
                field=field,
                remedy="世帯主から見た続柄を入力してください。",
            )
        )
        return ""


def _is_head_text(text: str) -> bool:
    return normalise_relationship(text) in ("", HEAD)


def _check_lived_here(
    residents: Sequence[Resident], occurred_on: dt.date, findings: Findings
) -> None:
    """A household change keeps the address, so it cannot predate anyone's settling there."""
    for r in residents:
        if r.address_set_on and occurred_on < r.address_set_on:
            findings.add(
                error(
                    "occurred_on.before_address_set",
                    f"異動日（{occurred_on:%Y-%m-%d}）が{_who(r)}の住所を定めた年月日"
                    f"（{r.address_set_on:%Y-%m-%d}）より前です。世帯変更等は住所を変えない"
                    "異動のため、その住所に住む前の日付にはできません。",
                    field="occurred_on",
                    remedy="異動日を確認してください。",
                )
            )


def _target_head(members: list[Resident], household_no: str, findings: Findings) -> Resident | None:
    head = next((m for m in members if m.relationship == HEAD), None)
    if head is None and members:
        findings.add(
            error(
                "household.target_no_head",
                f"異動先の世帯（{household_no}）に世帯主がいません。続柄は世帯主から見て"
                "定めるため、世帯主のいない世帯には入れません。",
                field="into_household_no",
                remedy="先に異動先の世帯の世帯主変更を行ってください。",
            )
        )
    return head


def _check_same_address(mover: Resident, target: Resident, findings: Findings, field: str) -> None:
    """j720: no address change with a household change; 方書 differences only warn."""
    if (mover.address_code, mover.address) != (target.address_code, target.address):
        findings.add(
            error(
                "household.address_differs",
                f"{_who(mover)}の住所「{mover.address}{mover.katagaki}」と異動先の世帯"
                f"（{target.household_no}）の住所「{target.address}{target.katagaki}」が"
                "異なります。世帯合併・世帯変更は同じ住所の世帯の間でのみできます。",
                field=field,
                remedy="住所が異なる場合は、先に転居の届出を処理してください"
                "（世帯変更等と同時に住所は変更できません）。",
            )
        )
    elif mover.katagaki != target.katagaki:
        findings.add(
            alert(
                "household.katagaki_differs",
                f"{_who(mover)}の方書「{mover.katagaki}」と異動先の世帯主の方書"
                f"「{target.katagaki}」が異なります。方書はこの異動では変更しません。",
                field=field,
                remedy="方書の修正が必要な場合は、別に職権修正を行ってください。",
            )
        )


def _after_departure(
    household_no: str, leaving: set[str], findings: Findings
) -> tuple[Affected, bool]:
    """The members left behind whose records change when the head leaves (std 4.0.4, j490):
    one member → head ex officio (``head_leaves``); two or more → the alert of
    ``head_leaves`` and their 世帯主の氏名 cleared (j100). Returns them and whether the
    household is left without a head."""
    members = selectors.household_members(household_no)
    head = next((m for m in members if m.relationship == HEAD), None)
    if head is None or head.atena_no not in leaving:
        return [], False
    promoted = head_leaves(household_no, leaving, findings)
    if promoted:
        return list(promoted), False
    remaining = [m for m in members if m.atena_no not in leaving]
    return [(m, snapshot(m)) for m in remaining], bool(remaining)


def _set_de_facto_head(record: dict[str, Any], name: str | None) -> None:
    """std 4.1.4.3 (j740): one 備考 line names the de facto head; other lines are kept."""
    if name is None:
        return
    lines = [
        line
        for line in (record.get("remarks") or "").splitlines()
        if not line.startswith(DE_FACTO_HEAD_PREFIX)
    ]
    if name:
        lines.append(f"{DE_FACTO_HEAD_PREFIX}{name}")
    record["remarks"] = "\n".join(lines)


def _plan(
    procedure: str,
    reason: ChangeReason,
    occurred_on: dt.date,
    notified_on: dt.date | None,
    affected: Affected,
    findings: Findings,
    *,
    headless: Collection[str] = (),
    summary: dict[str, Any] | None = None,
    new_households: list[str] | None = None,
) -> DraftPlan:
    """Set every record's 世帯主の氏名, check the heads of every household touched, and
    build the draft. ``headless``: households already alerted by ``head_leaves``."""
    records = [rec for _, rec in affected]
    changed = {r.atena_no for r, _ in affected}
    untouched = {
        hh: [m for m in selectors.household_members(hh) if m.atena_no not in changed]
        for hh in sorted({rec["household_no"] for rec in records})
    }
    for rec in records:
        rec["head_name"] = head_name(records, rec["household_no"], untouched[rec["household_no"]])
    for hh, others in untouched.items():
        mine = [rec for rec in records if rec["household_no"] == hh]
        for finding in check_households(mine, untouched=others):
            if finding.code == "household.no_head" and hh in headless:
                continue  # head_leaves already asked for a 世帯主変更
            findings.add(finding)
    persons = [
        PersonPlan(atena_no=r.atena_no, base_history_no=r.history_no, after=to_json(rec))
        for r, rec in affected
    ]
    return DraftPlan(
        procedure=procedure,
        change_reason=reason,
        occurred_on=occurred_on,
        notified_on=notified_on,
        persons=persons,
        findings=findings,
        summary=summary or {},
        new_households=new_households or [],
    )


def _refused(
    procedure: str,
    reason: ChangeReason,
    occurred_on: dt.date,
    notified_on: dt.date | None,
    findings: Findings,
) -> DraftPlan:
    return DraftPlan(procedure, reason, occurred_on, notified_on, [], findings)


# --- 世帯分離 -----------------------------------------------------------------------------

SPLIT = "household_split"


def plan_split(actor: Actor, data: HouseholdSplitInput) -> DraftPlan:
    """世帯分離: validate and build the draft (writes only the new 世帯番号)."""
    reason = ChangeReason.HOUSEHOLD_SPLIT
    findings = Findings()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=today()))
    members = _household(data.household_no, findings, "household_no")
    picked = _pick(data.members, data.household_no if members else None, findings, "members")
    leaving = {r.atena_no for _, _, r in picked}
    if members and len(leaving) == len(members):
        findings.add(
            error(
                "household_split.all_members",
                f"世帯（{data.household_no}）の世帯員全員（{len(members)}人）が分離しようと"
                "しています。世帯分離では元の世帯に1人以上が残ります。",
                field="members",
                remedy="世帯主を替えるだけの場合は世帯主変更の手続を使ってください。",
            )
        )
    if data.new_head_atena_no not in {e.atena_no for e in data.members}:
        findings.add(
            error(
                "household_split.head_not_member",
                f"新しい世帯の世帯主（宛名番号 {data.new_head_atena_no}）が分離する世帯員に"
                "含まれていません。",
                field="new_head_atena_no",
                remedy="新しい世帯主は分離する世帯員の中から選んでください。",
            )
        )
    affected: Affected = []
    for i, entry, resident in picked:
        record = snapshot(resident)
        path = f"members.{i}.relationship"
        if resident.atena_no == data.new_head_atena_no:
            if not _is_head_text(entry.relationship):
                findings.add(
                    error(
                        "household_split.head_relationship",
                        f"新しい世帯主 {_who(resident)}の続柄は「世帯主」です"
                        f"（「{entry.relationship}」が入力されています）。",
                        field=path,
                        remedy="新しい世帯主の続柄は空欄か「世帯主」にしてください。",
                    )
                )
            record["relationship"] = HEAD
        else:
            record["relationship"] = _relationship(entry.relationship, resident, findings, path)
        _set_de_facto_head(record, data.de_facto_head_name)
        affected.append((resident, record))
    _check_lived_here([r for _, _, r in picked], data.occurred_on, findings)
    if findings.has_errors:
        return _refused(SPLIT, reason, data.occurred_on, data.notified_on, findings)
    stay, headless = _after_departure(data.household_no, leaving, findings)
    new_no = new_household_no()
    for _, record in affected:
        record["household_no"] = new_no
    return _plan(
        SPLIT,
        reason,
        data.occurred_on,
        data.notified_on,
        affected + stay,
        findings,
        headless={data.household_no} if headless else set(),
        summary={
            "household_no": data.household_no,
            "new_household_no": new_no,
            "new_head_atena_no": data.new_head_atena_no,
        },
        new_households=[new_no],
    )


def submit_split(
    actor: Actor,
    data: HouseholdSplitInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 世帯分離 as a draft."""
    return submit_plan(
        plan_split, actor, data, acknowledged=acknowledged, idempotency_key=idempotency_key
    )


# --- 世帯合併 -----------------------------------------------------------------------------

MERGE = "household_merge"


def plan_merge(actor: Actor, data: HouseholdMergeInput) -> DraftPlan:
    """世帯合併: every member of one household joins another at the same address."""
    reason = ChangeReason.HOUSEHOLD_MERGE
    findings = Findings()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=today()))
    if data.household_no == data.into_household_no:
        findings.add(
            error(
                "household.same_household",
                f"合併する世帯と合併先の世帯が同じ（{data.household_no}）です。",
                field="into_household_no",
                remedy="合併先には別の世帯の世帯番号を入力してください。",
            )
        )
        return _refused(MERGE, reason, data.occurred_on, data.notified_on, findings)
    members = _household(data.household_no, findings, "household_no")
    targets = _household(data.into_household_no, findings, "into_household_no")
    target = _target_head(targets, data.into_household_no, findings)
    picked = _pick(data.members, data.household_no if members else None, findings, "members")
    entered = {e.atena_no for e in data.members}
    for m in members:
        if m.atena_no not in entered:
            findings.add(
                error(
                    "household_merge.member_missing",
                    f"世帯（{data.household_no}）の世帯員 {_who(m)}の、合併先の世帯主から見た"
                    "続柄が入力されていません。世帯合併では世帯員全員が合併先の世帯に入ります。",
                    field="members",
                    remedy="全員の続柄を入力してください。一部の世帯員だけが移る場合は"
                    "世帯変更の手続を使ってください。",
                )
            )
    affected: Affected = []
    for i, entry, resident in picked:
        if target is not None:
            _check_same_address(resident, target, findings, f"members.{i}.atena_no")
        record = snapshot(resident)
        path = f"members.{i}.relationship"
        record["relationship"] = _relationship(entry.relationship, resident, findings, path)
        record["household_no"] = data.into_household_no
        affected.append((resident, record))
    _check_lived_here([r for _, _, r in picked], data.occurred_on, findings)
    if findings.has_errors:
        return _refused(MERGE, reason, data.occurred_on, data.notified_on, findings)
    return _plan(
        MERGE,
        reason,
        data.occurred_on,
        data.notified_on,
        affected,
        findings,
        summary={"household_no": data.household_no, "into_household_no": data.into_household_no},
    )


def submit_merge(
    actor: Actor,
    data: HouseholdMergeInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 世帯合併 as a draft."""
    return submit_plan(
        plan_merge, actor, data, acknowledged=acknowledged, idempotency_key=idempotency_key
    )


# --- 世帯主変更 ---------------------------------------------------------------------------

HEAD_CHANGE = "head_change"


def _reference_head_sex(household_no: str, members: list[Resident]) -> str | None:
    """Sex of the head the members' relationships are relative to: the current head, or —
    in a household left without one — the last person recorded as its head."""
    head = next((m for m in members if m.relationship == HEAD), None)
    if head is not None:
        return head.sex
    last = (
        ResidentHistory.objects.filter(household_no=household_no, relationship=HEAD)
        .order_by("-id")
        .values_list("sex", flat=True)
        .first()
    )
    return last


def _kin(resident: Resident) -> Kin:
    exact = not resident.birth_date_text
    return Kin(resident.relationship, resident.sex, resident.birth_date if exact else None)


def plan_head_change(actor: Actor, data: HeadChangeInput) -> DraftPlan:
    """世帯主変更 (std 4.1.4.2, j730): a new head; every member's relationship re-derived."""
    reason = ChangeReason.HEAD_CHANGE
    findings = Findings()
    if data.ex_officio:
        if data.notified_on is not None:
            findings.add(
                error(
                    "head_change.ex_officio_notified",
                    "職権で世帯主を定める場合は届出日を入力しません。",
                    field="notified_on",
                    remedy="届出による世帯主変更なら「職権」を外してください。",
                )
            )
        findings.extend(check_dates(data.occurred_on, None, today=today()))
    else:
        if data.notified_on is None:
            findings.add(
                error(
                    "notified_on.empty",
                    "届出日を入力してください。",
                    field="notified_on",
                    remedy="職権で世帯主を定める場合は「職権」を選んでください。",
                )
            )
        findings.extend(check_dates(data.occurred_on, data.notified_on, today=today()))
    members = _household(data.household_no, findings, "household_no")
    current = next((m for m in members if m.relationship == HEAD), None)
    if data.ex_officio and current is not None:
        findings.add(
            error(
                "head_change.ex_officio_with_head",
                f"世帯（{data.household_no}）には世帯主 {_who(current)}がいます。"
                "職権で世帯主を定められるのは世帯主のいない世帯だけです。",
                field="ex_officio",
                remedy="世帯主変更の届出として処理してください。",
            )
        )
    new_head = current_member(data.new_head_atena_no, findings, "new_head_atena_no")
    if new_head is not None and members and new_head.household_no != data.household_no:
        findings.add(
            error(
                "member.not_in_household",
                f"{_who(new_head)}は世帯 {data.household_no} の世帯員ではありません"
                f"（現在の世帯番号 {new_head.household_no}）。",
                field="new_head_atena_no",
                remedy="新しい世帯主はこの世帯の世帯員から選んでください。",
            )
        )
        new_head = None
    if new_head is not None and new_head.relationship == HEAD:
        findings.add(
            error(
                "head_change.already_head",
                f"{_who(new_head)}は既にこの世帯の世帯主です。",
                field="new_head_atena_no",
                remedy="新しい世帯主には現在の世帯主以外の世帯員を選んでください。",
            )
        )
        new_head = None
    overrides = {
        resident.atena_no: (i, entry)
        for i, entry, resident in _pick(
            data.relationships, data.household_no if members else None, findings, "relationships"
        )
    }
    if new_head is None or findings.has_errors:
        return _refused(HEAD_CHANGE, reason, data.occurred_on, data.notified_on, findings)

    old_sex = _reference_head_sex(data.household_no, members)
    head_kin = _kin(new_head)
    derived: list[str] = []
    affected: Affected = []
    for m in members:
        record = snapshot(m)
        override = overrides.get(m.atena_no)
        if m.atena_no == new_head.atena_no:
            if override is not None and not _is_head_text(override[1].relationship):
                findings.add(
                    error(
                        "head_change.head_relationship",
                        f"新しい世帯主 {_who(m)}の続柄は「世帯主」です"
                        f"（「{override[1].relationship}」が入力されています）。",
                        field=f"relationships.{override[0]}.relationship",
                        remedy="新しい世帯主の続柄は空欄か「世帯主」にしてください。",
                    )
                )
            record["relationship"] = HEAD
        elif override is not None:
            path = f"relationships.{override[0]}.relationship"
            record["relationship"] = _relationship(override[1].relationship, m, findings, path)
        else:
            value = derive_relationship(_kin(m), head_kin, old_sex)
            if value is None:
                findings.add(
                    error(
                        "head_change.relationship_required",
                        f"{_who(m)}（現在の続柄「{m.relationship}」）の、新しい世帯主"
                        f"{new_head.name}から見た続柄を自動で決められません。",
                        field="relationships",
                        remedy="この方の宛名番号と新しい世帯主から見た続柄を入力してください。",
                    )
                )
            else:
                record["relationship"] = value
                derived.append(f"{m.name} {m.relationship}→{value}")
        _set_de_facto_head(record, data.de_facto_head_name)
        affected.append((m, record))
    _check_lived_here([new_head], data.occurred_on, findings)
    if derived:
        findings.add(
            alert(
                "head_change.relationships_derived",
                "新しい世帯主から見た続柄を次のとおり設定しました: " + "、".join(derived) + "。",
                field="relationships",
                remedy="届出書・戸籍で確認し、違う方は宛名番号と正しい続柄を入力してください。",
            )
        )
    if findings.has_errors:
        return _refused(HEAD_CHANGE, reason, data.occurred_on, data.notified_on, findings)
    return _plan(
        HEAD_CHANGE,
        reason,
        data.occurred_on,
        data.notified_on,
        affected,
        findings,
        summary={
            "household_no": data.household_no,
            "new_head_atena_no": new_head.atena_no,
            "previous_head_atena_no": current.atena_no if current else "",
            "ex_officio": data.ex_officio,
        },
    )


def submit_head_change(
    actor: Actor,
    data: HeadChangeInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 世帯主変更 as a draft."""
    return submit_plan(
        plan_head_change, actor, data, acknowledged=acknowledged, idempotency_key=idempotency_key
    )


# --- 世帯変更 -----------------------------------------------------------------------------

COMPOSITION = "household_composition"


def plan_composition(actor: Actor, data: HouseholdCompositionInput) -> DraftPlan:
    """世帯変更: some members of a household join another household at the same address."""
    reason = ChangeReason.HOUSEHOLD_CHANGE
    findings = Findings()
    findings.extend(check_dates(data.occurred_on, data.notified_on, today=today()))
    targets = _household(data.into_household_no, findings, "into_household_no")
    target = _target_head(targets, data.into_household_no, findings)
    picked = _pick(data.members, None, findings, "members")
    affected: Affected = []
    sources: dict[str, set[str]] = {}
    for i, entry, resident in picked:
        if resident.household_no == data.into_household_no:
            findings.add(
                error(
                    "household.same_household",
                    f"{_who(resident)}は既に世帯（{data.into_household_no}）の世帯員です。",
                    field=f"members.{i}.atena_no",
                    remedy="異動先には別の世帯の世帯番号を入力してください。",
                )
            )
            continue
        if target is not None:
            _check_same_address(resident, target, findings, f"members.{i}.atena_no")
        sources.setdefault(resident.household_no, set()).add(resident.atena_no)
        record = snapshot(resident)
        path = f"members.{i}.relationship"
        record["relationship"] = _relationship(entry.relationship, resident, findings, path)
        record["household_no"] = data.into_household_no
        affected.append((resident, record))
    for household_no, leaving in sorted(sources.items()):
        total = len(selectors.household_members(household_no))
        if len(leaving) == total:
            findings.add(
                error(
                    "household_composition.whole_household",
                    f"世帯（{household_no}）の世帯員全員（{total}人）が移ろうとしています。",
                    field="members",
                    remedy="世帯全員が他の世帯に入る場合は世帯合併の手続を使ってください。",
                )
            )
    _check_lived_here([r for _, _, r in picked], data.occurred_on, findings)
    if findings.has_errors:
        return _refused(COMPOSITION, reason, data.occurred_on, data.notified_on, findings)
    headless: set[str] = set()
    for household_no, leaving in sorted(sources.items()):
        stay, left_headless = _after_departure(household_no, leaving, findings)
        affected.extend(stay)
        if left_headless:
            headless.add(household_no)
    return _plan(
        COMPOSITION,
        reason,
        data.occurred_on,
        data.notified_on,
        affected,
        findings,
        headless=headless,
        summary={
            "into_household_no": data.into_household_no,
            "from_household_nos": sorted(sources),
        },
    )


def submit_composition(
    actor: Actor,
    data: HouseholdCompositionInput,
    *,
    acknowledged: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Change:
    """Enter a 世帯変更 as a draft."""
    return submit_plan(
        plan_composition, actor, data, acknowledged=acknowledged, idempotency_key=idempotency_key
    )


from jumin.register.procedures.registry import ProcedureSpec  # noqa: E402

SPECS = [
    ProcedureSpec(SPLIT, "世帯分離", "4.1.4", HouseholdSplitInput, submit_split),
    ProcedureSpec(MERGE, "世帯合併", "4.1.4", HouseholdMergeInput, submit_merge),
    ProcedureSpec(HEAD_CHANGE, "世帯主変更", "4.1.4", HeadChangeInput, submit_head_change),
    ProcedureSpec(
        COMPOSITION, "世帯構成変更", "4.1.4", HouseholdCompositionInput, submit_composition
    ),
]
