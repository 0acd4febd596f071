"""Certificate issuance: who may ask for what, preview, issue (signed PDFs, fees, receipt),
refusal, revocation, the download window, and the public verification.

Rules (住基法 Art. 12, 12-2, 12-3, 15-4; std 5.1 j1000):

- **本人・同一世帯員** (Art. 12): the requester is one of the persons, or a member of their
  household (for a 除票: someone who was in that household). Only they may have the
  個人番号 and the 住民票コード printed, and only by asking for it.
- **国・地方公共団体の機関** (Art. 12-2): an official request (機関名, 請求書の番号, 担当者) for a
  duty; issued as 公用 (free, marked). Never the 個人番号 or the 住民票コード.
- **第三者** (Art. 12-3 (1)): a stated legitimate reason (exercise of a right, fulfilment of a
  duty, submission to a public body, other justified need) in concrete words. The basic items
  only (氏名・生年月日・性別・住所); 世帯主・続柄, 本籍・筆頭者 and the foreign-resident items only
  with a stated need (Art. 12-3 (7)); never the 個人番号 or the 住民票コード.
- **特定事務受任者** (Art. 12-3 (2)): a professional with a 職務上請求書 (its number), their
  qualification and registration number, and the client; the same items as a third party.
- **代理人**: acting for a person entitled under Art. 12, with a 委任状 seen by the clerk;
  never the 個人番号 or the 住民票コード (those go to the person by post).

Every request names a purpose and the identity document checked (its number masked to the
last four characters). A person found only in a draft cannot be printed (drafts are invisible,
std 4.0.8 j530); a removed record cannot be issued as a current copy (→ 除票の写し); a person
under a support measure is a hard error unless a support-measure officer lifted it for this
request (``jumin.support.services.check_access``, std 3.4 j440). The release is checked, not
used, by the reads and the preview; the issue uses it up in its own transaction, so a preview
followed by the issue needs one release, and a failed issue leaves it unused.

Refused requests are recorded with why by :func:`refuse`, chosen by the clerk; a request the
service refuses raises ``FindingsError`` and writes nothing but the operation-log entries of
the reads and the refusal (nothing issued, nothing charged).

Every preview and issuance is in the operation log with the print-log items of std 10.2
(j1370): function, persons, title (kind), copies, pages, terminal, printer, seal, whether the
個人番号 was printed, output form (プレビュー / PDF), issue numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.certificates import conf, documents, render, signing, verification
from jumin.certificates.models import (
    CertificateFile,
    CertificateKind,
    CertificateRequest,
    CertificateRequestTarget,
    Decision,
    IssueCounter,
    IssuedCertificate,
    RequesterKind,
)
from jumin.certificates.options import (
    CODE_NOTICE,
    COPIES,
    MOVE_OUT,
    REMOVED_KINDS,
    STATEMENTS,
    Options,
    parse,
)
from jumin.certificates.schemas import (
    IDENTITY_DOCUMENTS,
    QUALIFICATIONS,
    REASON_KINDS,
    CertificateRequestIn,
)
from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import Finding, Findings, FindingsError, error
from jumin.core.identifiers import is_valid_my_number
from jumin.register import crypto, reads, selectors, status
from jumin.register.models import Resident, ResidentHistory, ResidentStatus

ISSUE_FUNCTION = "証明書交付"
PREVIEW_FUNCTION = "証明書プレビュー"
REFUSAL_FUNCTION = "証明書交付の拒否"
REVOKE_FUNCTION = "証明書の処分（交付の取消し）"
DOWNLOAD_FUNCTION = "証明書PDFの再出力"
PURPOSE_MAX = 200
REASON_MIN = 4
KIND_LABELS = dict(CertificateKind.choices)
REQUESTER_LABELS = dict(RequesterKind.choices)

# Which requester may ask for which kind.
_ALLOWED_KINDS: dict[str, frozenset[str]] = {
    "self": frozenset(KIND_LABELS),
    "agent": frozenset(KIND_LABELS) - CODE_NOTICE,
    "public_body": frozenset(COPIES | STATEMENTS),
    "third_party": frozenset(COPIES | STATEMENTS),
    "professional": frozenset(COPIES | STATEMENTS),
}
_CURRENT_KINDS = frozenset({"record_copy", "record_statement", "juminhyo_code_notice"})
# 転出 plan summary ``certificate`` → the kind it calls for (register/procedures/moves.py)
_MOVE_OUT_DOCUMENT = {
    "move_out_certificate": "move_out_certificate",
    "equivalent_certificate": "equivalent_certificate",
}


@dataclass
class Plan:
    """A request checked and read: what will be printed and charged."""

    data: CertificateRequestIn
    kind: str
    options: Options
    subjects: list[documents.Subject]
    household_no: str
    household_size: int
    head_name: str
    official_use: bool
    reissue: bool
    fee_per_copy: int
    identity_number: str
    requester: dict[str, Any]
    history_nos: dict[str, int] = field(default_factory=dict)
    # the support-measure gate's answer (jumin.support.services.Clearance); a release named by
    # lift_id is pending until the issue uses it (see issue)
    clearance: Any = None

    @property
    def atena_nos(self) -> list[str]:
        return [s.atena_no for s in self.subjects]


@dataclass(frozen=True)
class PreviewResult:
    pdf: bytes
    pages: int
    documents: int
    overflows: list[str]
    missing_characters: frozenset[str]
    fee_total: int
    plan: Plan


# --------------------------------------------------------------------------- input checks


def _mask(number: str) -> str:
    cleaned = re.sub(r"[\s\-‐－]", "", number)
    if len(cleaned) <= 4:
        return cleaned
    return "*" * (len(cleaned) - 4) + cleaned[-4:]


def _check_input(data: CertificateRequestIn, findings: Findings) -> None:
    req = data.requester
    purpose = data.purpose.strip()
    if not purpose:
        findings.add(
            error(
                "certificate.purpose_required",
                "利用目的を入力してください。証明書の交付請求には請求の事由（利用目的）を"
                "明らかにする必要があります（住民基本台帳法第12条第2項ほか）。",
                field="purpose",
                remedy="例：「年金の手続のため勤務先に提出」など、何に使うかを具体的に入力してください。",
            )
        )
    if not data.identity_document.kind:
        findings.add(
            error(
                "certificate.identity_document_required",
                "確認した本人確認書類を選んでください。窓口に来た方の本人確認は必須です"
                "（住民基本台帳法第12条第3項ほか）。",
                field="identity_document.kind",
                remedy="個人番号カード・運転免許証などを確認し、その種類を選んでください。",
            )
        )
    number = data.identity_document.number
    if any(is_valid_my_number(m) for m in re.findall(r"\d{12}", re.sub(r"\D", "", number))):
        findings.add(
            error(
                "certificate.identity_number_is_my_number",
                "本人確認書類の番号欄に個人番号は記録できません。",
                field="identity_document.number",
                remedy="個人番号カードの場合は番号を入力せず、種類だけ選んでください。",
            )
        )
    if data.copies > conf.max_copies():
        findings.add(
            error(
                "certificate.too_many_copies",
                f"1回の請求で交付できるのは{conf.max_copies()}通までです（請求 {data.copies}通）。",
                field="copies",
                remedy="通数を減らすか、請求を分けてください。",
            )
        )
    allowed = _ALLOWED_KINDS[req.kind]
    if data.kind not in allowed:
        findings.add(
            error(
                "certificate.kind_not_for_requester",
                f"「{REQUESTER_LABELS[req.kind]}」は「{KIND_LABELS[data.kind]}」を請求できません。",
                field="kind",
                remedy=(
                    "転出証明書・住民票コード通知票は本人又は同一世帯員（代理人を含む）にのみ"
                    "交付します。第三者・機関には住民票の写し又は記載事項証明書を交付します。"
                ),
            )
        )
    if not req.name:
        findings.add(
            error(
                "requester.name_required",
                "請求者の氏名（機関・事務所の場合は担当者の氏名）を入力してください。",
                field="requester.name",
            )
        )
    _check_requester_details(data, findings)


def _need(findings: Findings, value: str, path: str, code: str, message: str, remedy: str) -> None:
    if not value:
        findings.add(error(code, message, field=path, remedy=remedy))


def _check_requester_details(data: CertificateRequestIn, findings: Findings) -> None:
    req = data.requester
    if req.kind in {"self", "agent"}:
        _need(
            findings,
            req.atena_no,
            "requester.atena_no",
            "requester.atena_no_required",
            "本人・同一世帯員の請求では、請求者（代理人の場合は委任者）が誰かを選んでください。",
            "対象者又は同じ世帯の方の中から、本人確認をした方（委任者）を選んでください。",
        )
    if req.kind == "agent":
        _need(
            findings,
            req.address,
            "requester.address",
            "requester.address_required",
            "代理人の住所を入力してください。",
            "本人確認書類で確認した代理人の住所を入力してください。",
        )
        if not req.mandate_checked:
            findings.add(
                error(
                    "requester.mandate_required",
                    "代理人による請求には委任状が必要です。委任状を確認してください。",
                    field="requester.mandate_checked",
                    remedy="委任状（委任者の署名があるもの）を確認したら「委任状を確認した」に"
                    "チェックしてください。委任状がなければ交付できません。",
                )
            )
    if req.kind == "public_body":
        _need(
            findings,
            req.organisation,
            "requester.organisation",
            "requester.organisation_required",
            "請求する国又は地方公共団体の機関の名称を入力してください（法第12条の2）。",
            "公用請求書に記載された機関名を入力してください。",
        )
        _need(
            findings,
            req.form_no,
            "requester.form_no",
            "requester.form_no_required",
            "公用請求書の文書番号を入力してください。",
            "機関の請求は公用請求書によります。請求書の番号を確認してください。",
        )
    if req.kind in {"third_party", "professional"}:
        _need(
            findings,
            req.address,
            "requester.address",
            "requester.address_required",
            "請求者の住所（事務所の所在地）を入力してください（法第12条の3第4項）。",
            "本人確認書類・職務上請求書で確認した住所を入力してください。",
        )
    if req.kind == "third_party":
        if not req.reason_kind:
            findings.add(
                error(
                    "requester.reason_kind_required",
                    "第三者の請求では、正当な理由の区分を選んでください（法第12条の3第1項）。",
                    field="requester.reason_kind",
                    remedy="、".join(REASON_KINDS.values())
                    + " のいずれかに当たるか確認してください。"
                    "当たらなければ交付できません。",
                )
            )
        if len(req.reason.strip()) < REASON_MIN:
            findings.add(
                error(
                    "requester.reason_required",
                    "第三者の請求では、証明書を必要とする具体的な理由を入力してください"
                    "（法第12条の3第1項・第4項）。",
                    field="requester.reason",
                    remedy="例：「貸金の返還請求訴訟を提起するため、被告の住所を確認する」など、"
                    "権利・義務の内容と提出先が分かるように入力してください。",
                )
            )
    if req.kind == "professional":
        if not req.qualification:
            findings.add(
                error(
                    "requester.qualification_required",
                    "特定事務受任者の資格を選んでください（法第12条の3第2項）。",
                    field="requester.qualification",
                    remedy="、".join(QUALIFICATIONS.values()) + " のいずれかです。",
                )
            )
        _need(
            findings,
            req.registration_no,
            "requester.registration_no",
            "requester.registration_no_required",
            "資格者の登録番号を入力してください。",
            "職務上請求書と資格者証で登録番号を確認してください。",
        )
        _need(
            findings,
            req.form_no,
            "requester.form_no",
            "requester.form_no_required",
            "職務上請求書の番号を入力してください（特定事務受任者は職務上請求書で請求します）。",
            "職務上請求書に印字された番号を入力してください。請求書がなければ交付できません。",
        )
        _need(
            findings,
            req.client_name,
            "requester.client_name",
            "requester.client_name_required",
            "依頼者の氏名・名称を入力してください（法第12条の3第4項）。",
            "職務上請求書に記載された依頼者を入力してください。",
        )


def _check_options(data: CertificateRequestIn, o: Options, findings: Findings) -> None:
    req = data.requester
    numbers = [
        (flag, label)
        for flag, label in (("my_number", "個人番号"), ("juminhyo_code", "住民票コード"))
        if getattr(o, flag)
    ]
    if numbers and req.kind != "self":
        labels = "・".join(label for _, label in numbers)
        findings.add(
            error(
                "options.number_not_for_requester",
                f"{labels}を記載した証明書は、本人又は同一世帯員が特に請求した場合にだけ交付できます"
                f"（「{REQUESTER_LABELS[req.kind]}」には記載できません）。",
                field=f"options.{numbers[0][0]}",
                remedy="記載を省略して交付してください。"
                + (
                    "代理人の請求では、本人の住所あてに郵送する方法を案内してください。"
                    if req.kind == "agent"
                    else ""
                ),
            )
        )
    if req.kind in {"third_party", "professional"}:
        extra = _extra_items(data.kind, o)
        if extra and not req.extra_items_reason.strip():
            findings.add(
                error(
                    "options.extra_items_reason_required",
                    f"第三者・特定事務受任者の請求では、{'・'.join(extra)}は、利用目的に必要な"
                    "理由がある場合にだけ記載できます（法第12条の3第7項）。",
                    field="requester.extra_items_reason",
                    remedy="必要な理由を入力するか、これらの記載を省略してください"
                    "（基礎証明事項は氏名・生年月日・性別・住所です）。",
                )
            )
    if data.kind in STATEMENTS:
        if not (o.statement_text or o.statement_items):
            findings.add(
                error(
                    "options.statement_required",
                    "記載事項証明書では、証明を求める事項（請求者の記載又は証明する項目）を"
                    "指定してください。",
                    field="options.statement_text",
                    remedy="請求者が持参した様式の記載事項を入力するか、証明する項目を選んでください。",
                )
            )
        if o.statement_text and not o.statement_checked:
            findings.add(
                error(
                    "options.statement_unchecked",
                    "請求者が記載した証明事項を住民票の記載と照合してください。照合していない記載は"
                    "証明できません。",
                    field="options.statement_checked",
                    remedy="照合して相違がなければ「請求者の記載を住民票と照合した」にチェックしてください。",
                )
            )
    if o.all_members and data.requester.kind == "third_party":
        findings.add(
            error(
                "options.all_members_third_party",
                "第三者の請求では「世帯全員」は指定できません。証明が必要な方を一人ずつ選んでください。",
                field="options.all_members",
            )
        )


def _extra_items(kind: str, o: Options) -> list[str]:
    items = []
    if kind in STATEMENTS:
        chosen = documents.statement_items(o)
        if "head_and_relationship" in chosen:
            items.append("世帯主・続柄")
        if "honseki" in chosen:
            items.append("本籍・筆頭者")
    else:
        if o.head_and_relationship:
            items.append("世帯主・続柄")
        if o.honseki:
            items.append("本籍・筆頭者")
    if o.foreign_items:
        items.append("外国人住民に係る事項（国籍・在留資格等）")
    if o.alias and "alias" in o.given:
        items.append("通称")
    return items


# --------------------------------------------------------------------------- persons


def _unknown_person(atena_no: str, index: int) -> Finding:
    return error(
        "certificate.unknown_person",
        f"宛名番号 {atena_no} の住民記録（本登録されたもの）はありません。仮登録中の異動にしか"
        "記載のない方の証明書は、本登録されるまで交付できません。",
        field=f"atena_nos.{index}",
        remedy="宛名番号を確認してください。仮登録中の場合は、審査・本登録の後に交付してください。",
    )


def _support() -> Any:
    try:
        return importlib.import_module("jumin.support.services")
    except ModuleNotFoundError as exc:  # the support-measure module is not installed yet
        if exc.name in {"jumin.support.services", "jumin.support"}:
            return None
        raise


def check_protection(
    actor: Actor,
    atena_nos: Sequence[str],
    *,
    purpose: str,
    lift_id: int | None,
    consume: bool = True,
) -> Any:
    """The support-measure gate (std 3.4 j440): a hard error for a protected person. With
    ``consume=False`` a release (``lift_id``) is checked but not used up: the issue uses it
    in its transaction (:func:`_issue_transaction`)."""
    support = _support()
    if support is None:
        return None
    return support.check_access(
        actor, list(atena_nos), purpose=purpose, lift_id=lift_id, consume=consume
    )


def _issue_transaction(actor: Actor, clearance: Any) -> Any:
    """The issue's transaction; it first uses up the support-measure release the request was
    checked against, so that the release is used if and only if the issue is committed."""
    support = _support()
    if support is None or clearance is None:
        return transaction.atomic()
    return support.lift_used_with(actor, clearance)


def _candidates(
    data: CertificateRequestIn, o: Options, findings: Findings
) -> tuple[list[str], str]:
    """The persons the request will print (no logged read yet: the support gate comes first)
    and their household."""
    atenas = list(dict.fromkeys(a.strip() for a in data.atena_nos if a.strip()))
    if not atenas:
        findings.add(error("certificate.no_person", "対象者を選んでください。", field="atena_nos"))
        return [], ""
    rows = {
        r.atena_no: r
        for r in Resident.objects.filter(atena_no__in=atenas).only("atena_no", "household_no")
    }
    for i, a in enumerate(atenas):
        if a not in rows:
            findings.add(_unknown_person(a, i))
    if findings.has_errors:
        return atenas, ""
    households = sorted({rows[a].household_no for a in atenas})
    if len(households) > 1:
        findings.add(
            error(
                "certificate.several_households",
                f"対象者が複数の世帯（{'、'.join(households)}）にまたがっています。",
                field="atena_nos",
                remedy="証明書は世帯ごとに請求してください。",
            )
        )
        return atenas, ""
    household_no = households[0]
    if o.all_members:
        day = status.today()
        removed = data.kind in REMOVED_KINDS
        members = [
            r.atena_no
            for r in Resident.objects.filter(household_no=household_no).order_by("atena_no")
            if status.is_resident_on(r, day) != removed
        ]
        atenas = list(dict.fromkeys([*atenas, *members]))
    return atenas, household_no


def _read_subjects(
    actor: Actor,
    data: CertificateRequestIn,
    o: Options,
    atenas: list[str],
    household_no: str,
    clearance: Any,
) -> tuple[list[documents.Subject], int, str]:
    """Read the persons through the logged reads; (subjects in print order, household size,
    head's name)."""
    removed_kind = data.kind in REMOVED_KINDS
    subjects: list[documents.Subject] = []
    if o.household_form or o.all_members:
        view = reads.get_household(
            actor, household_no, include_removed=removed_kind, clearance=clearance
        )
        by_atena = {m.atena_no: m for m in view.members}
        wanted = set(atenas)
        for member in view.members:
            if member.atena_no in wanted:
                subjects.append(
                    documents.Subject(
                        record=member,
                        is_removed=member.atena_no in view.removed
                        or not status.is_resident_on(member, status.today()),
                        moving_out=view.moving_out.get(member.atena_no),
                    )
                )
        missing = [a for a in atenas if a not in by_atena]
        for a in missing:  # e.g. a removed person asked for in a current household form
            one = reads.get_resident(actor, a, clearance=clearance)
            subjects.append(documents.Subject(one.record, one.is_removed, one.moving_out))
        current = [m for m in view.members if m.atena_no not in view.removed]
        head = view.head
        head_name = head.name if head is not None else (subjects[0].record.head_name or "")
        return subjects, len(current), head_name
    for a in atenas:
        one = reads.get_resident(actor, a, clearance=clearance)
        subjects.append(documents.Subject(one.record, one.is_removed, one.moving_out))
    first = subjects[0].record
    head_name = first.name if first.relationship == documents.HEAD else first.head_name
    return subjects, 0, head_name


def _check_subjects(
    data: CertificateRequestIn, subjects: list[documents.Subject], findings: Findings
) -> bool:
    """Kind against state; returns whether this is a reissue (転出証明書)."""
    kind = data.kind
    index = {a: i for i, a in enumerate(data.atena_nos)}
    for s in subjects:
        path = f"atena_nos.{index.get(s.atena_no, 0)}"
        name = s.record.name
        if kind in _CURRENT_KINDS and s.is_removed:
            findings.add(
                error(
                    "certificate.removed_record",
                    f"{name}（宛名番号 {s.atena_no}）の住民票は消除されています（除票）。"
                    f"除票を「{KIND_LABELS[kind]}」として交付することはできません。",
                    field=path,
                    remedy="「住民票の除票の写し」又は「除票記載事項証明書」として請求してください。",
                )
            )
        if kind in REMOVED_KINDS and not s.is_removed:
            findings.add(
                error(
                    "certificate.not_removed",
                    f"{name}（宛名番号 {s.atena_no}）は現在も住民です（除票はありません）。",
                    field=path,
                    remedy="「住民票の写し」又は「住民票記載事項証明書」として請求してください。"
                    + ("転出予定者は転出予定年月日の前日まで住民です。" if s.moving_out else ""),
                )
            )
        if kind == "juminhyo_code_notice" and not s.record.juminhyo_code:
            findings.add(
                error(
                    "certificate.no_juminhyo_code",
                    f"{name}（宛名番号 {s.atena_no}）には住民票コードが記載されていません。",
                    field=path,
                    remedy="住民票コードの付番（std 4.3.1）を先に行ってください。",
                )
            )
        if kind in MOVE_OUT:
            _check_move_out(kind, s, path, findings)
    if kind in MOVE_OUT and not findings.has_errors:
        return _previously_issued(kind, subjects)
    return False


def _move_out_change_summary(atena_no: str) -> dict[str, Any]:
    current = Resident.objects.filter(atena_no=atena_no).first()
    if current is None:
        return {}
    row = (
        ResidentHistory.objects.filter(atena_no=atena_no, history_no=current.history_no)
        .select_related("change")
        .first()
    )
    if row is None:
        return {}
    summary = row.change.payload.get("summary", {})
    return summary if isinstance(summary, dict) else {}


def _check_move_out(kind: str, s: documents.Subject, path: str, findings: Findings) -> None:
    current = selectors.resident_for_update_check(s.atena_no)
    name = s.record.name
    moved_out = (
        current is not None
        and current.status == ResidentStatus.REMOVED
        and current.removal_reason
        in {ChangeReason.DOMESTIC_MOVE_OUT.value, ChangeReason.MOVE_OUT_ABROAD.value}
    )
    if not moved_out:
        findings.add(
            error(
                "certificate.no_move_out",
                f"{name}（宛名番号 {s.atena_no}）の転出は本登録されていません。",
                field=path,
                remedy="転出の異動を本登録してから交付してください（転出証明書は転出届に基づき交付します）。",
            )
        )
        return
    summary = _move_out_change_summary(s.atena_no)
    document = str(summary.get("certificate", ""))
    expected = _MOVE_OUT_DOCUMENT.get(document)
    if expected is None:
        reason = {
            "card_move_out_info": "特例転入を利用した転出のため、転出証明書は交付せず"
            "転出証明書情報を"
            "住基ネットで送ります。",
            "none": "国外への転出のため、転出証明書は交付しません。",
        }.get(document, "この転出には転出証明書を交付しません。")
        findings.add(
            error(
                "certificate.move_out_no_document",
                f"{name}（宛名番号 {s.atena_no}）: {reason}",
                field=path,
                remedy="必要であれば住民票の除票の写しを交付してください。",
            )
        )
    elif expected != kind:
        findings.add(
            error(
                "certificate.move_out_wrong_kind",
                f"{name}（宛名番号 {s.atena_no}）の転出には「{KIND_LABELS[expected]}」を交付します"
                f"（請求: {KIND_LABELS[kind]}）。",
                field="kind",
                remedy="転出の日から14日を経過した届出は職権で消除し、転出証明書に準ずる証明書を"
                "交付します。証明書の種別を選び直してください。",
            )
        )


def _previously_issued(kind: str, subjects: list[documents.Subject]) -> bool:
    """std 4.1.3.0.3 (j660): a 転出証明書 issued again for the same 転出 is a 再交付."""
    atenas = [s.atena_no for s in subjects]
    rows = IssuedCertificate.objects.filter(
        kind=kind, request__targets__atena_no__in=atenas, revoked_at__isnull=True
    ).values_list("history_nos", flat=True)
    current = {s.atena_no: int(s.record.history_no) for s in subjects}
    for history in rows:
        if isinstance(history, dict) and any(current.get(a) == history.get(a) for a in atenas):
            return True
    return False


def _check_requester(
    data: CertificateRequestIn,
    household_no: str,
    subjects: list[documents.Subject],
    findings: Findings,
) -> None:
    req = data.requester
    if req.kind not in {"self", "agent"} or not req.atena_no:
        return
    who = req.atena_no.strip()
    targets = {s.atena_no for s in subjects}
    removed_kind = data.kind in REMOVED_KINDS or data.kind in MOVE_OUT
    if who in targets:
        return
    member = Resident.objects.filter(atena_no=who).first()
    day = status.today()
    if (
        member is not None
        and member.household_no == household_no
        and status.is_resident_on(member, day)
    ):
        return
    if (
        removed_kind
        and ResidentHistory.objects.filter(atena_no=who, household_no=household_no).exists()
    ):
        return  # Art. 15-4: someone who was in the household of the removed record
    role = "委任者" if req.kind == "agent" else "請求者"
    findings.add(
        error(
            "requester.not_household",
            f"{role}（宛名番号 {who}）は対象者本人でも同一世帯員でもありません。住民票の写し等は"
            "本人又は同一の世帯に属する者が請求できます（住民基本台帳法第12条第1項）。",
            field="requester.atena_no",
            remedy="本人・同一世帯員以外の方からの請求は、第三者請求（正当な理由が必要）又は"
            "委任状による代理人請求として受け付けてください。",
        )
    )


def _head_name(subjects: list[documents.Subject], head_name: str) -> str:
    return head_name or next((str(s.record.head_name) for s in subjects if s.record.head_name), "")


def _my_numbers(plan_subjects: list[documents.Subject], preview: bool) -> list[documents.Subject]:
    out = []
    for s in plan_subjects:
        if not s.record.my_number_id:
            number = None
        elif preview:
            number = documents.MASKED_MY_NUMBER
        else:
            number = crypto.reveal_my_number(s.record.my_number)
            number = f"{number[:4]} {number[4:8]} {number[8:]}"
        out.append(dataclasses.replace(s, my_number=number))
    return out


def _with_history(
    actor: Actor, subjects: list[documents.Subject], clearance: Any
) -> list[documents.Subject]:
    out = []
    for s in subjects:
        rows = reads.get_history(actor, s.atena_no, clearance=clearance)
        shown = [r for r in rows if r.history_no <= s.record.history_no]
        out.append(dataclasses.replace(s, history=shown))
    return out


def _with_code_dates(subjects: list[documents.Subject]) -> list[documents.Subject]:
    out = []
    for s in subjects:
        code = s.record.juminhyo_code
        recorded = None
        previous = None
        for row in selectors.history_of(s.atena_no):
            if row.juminhyo_code == code and previous != code:
                recorded = row.occurred_on
            previous = row.juminhyo_code
        out.append(dataclasses.replace(s, code_recorded_on=recorded))
    return out


def plan(actor: Actor, data: CertificateRequestIn, *, function: str, preview: bool) -> Plan:
    """Check the request and read the persons (logged). Raises FindingsError."""
    authorize(actor, Perm.CERTIFICATE_ISSUE, function)
    findings = Findings()
    _check_input(data, findings)
    o, option_findings = parse(data.options, data.kind, data.requester.kind)
    findings.extend(option_findings)
    if not option_findings:
        _check_options(data, o, findings)
    if findings.has_errors:
        raise FindingsError(findings)
    atenas, household_no = _candidates(data, o, findings)
    if findings.has_errors:
        raise FindingsError(findings)
    # std 3.4 (j440): a release is only checked here; the issue uses it (not the preview)
    clearance = check_protection(
        actor,
        atenas,
        purpose=f"{KIND_LABELS[data.kind]}の交付",
        lift_id=data.lift_id,
        consume=False,
    )
    subjects, household_size, head_name = _read_subjects(
        actor, data, o, atenas, household_no, clearance
    )
    reissue = _check_subjects(data, subjects, findings)
    _check_requester(data, household_no, subjects, findings)
    if findings.has_errors:
        raise FindingsError(findings)
    if o.my_number:
        subjects = _my_numbers(subjects, preview)
    if o.history:
        subjects = _with_history(actor, subjects, clearance)
    if data.kind in CODE_NOTICE:
        subjects = _with_code_dates(subjects)
    official = data.requester.kind == "public_body"
    free = official or data.kind in conf.free_kinds()
    req = data.requester.model_dump()
    req["identity_document_label"] = IDENTITY_DOCUMENTS.get(data.identity_document.kind, "")
    return Plan(
        data=data,
        kind=data.kind,
        options=o,
        subjects=subjects,
        household_no=household_no,
        household_size=household_size,
        head_name=_head_name(subjects, head_name),
        official_use=official,
        reissue=reissue,
        fee_per_copy=0 if free else conf.fee_per_copy(),
        identity_number=_mask(data.identity_document.number),
        requester=req,
        history_nos={s.atena_no: int(s.record.history_no) for s in subjects},
        clearance=clearance,
    )


# --------------------------------------------------------------------------- building


def _seal() -> render.Seal:
    image = conf.raw("CERT_SEAL_IMAGE")
    path = Path(image) if image else None
    if path is not None and not path.is_file():
        raise conf.ConfigError(
            f"JUMIN_CERT_SEAL_IMAGE に指定された公印の画像 {image} がありません。"
        )
    city = conf.municipality_name()
    return render.Seal(path, conf.seal_mm(), f"{city}長之印", conf.raw("CERT_SEAL_NOTE"))


def _certification_text(kind: str) -> str:
    return conf.raw(f"CERT_TEXT_{kind.upper()}") or documents.CERTIFICATION_TEXTS[kind]


def _config_findings(exc: Exception) -> FindingsError:
    return FindingsError(
        [
            error(
                "certificate.configuration",
                f"証明書の設定に誤りがあるため交付できません: {exc}",
                remedy="システム管理者に設定（JUMIN_CERT_…）の確認を依頼してください。",
            )
        ]
    )


def build(p: Plan, *, issued_on: dt.date, watermark: bool) -> list[documents.Built]:
    """The documents of a plan (one per certificate of one copy)."""
    try:
        frame = documents.Frame(
            kind=p.kind,
            issued_on=issued_on,
            certifier_line=conf.certifier(issued_on).line,
            seal=_seal(),
            municipality=conf.municipality_name(),
            certification_text=_certification_text(p.kind),
            official_use=p.official_use,
            reissue=p.reissue,
            watermark=watermark,
        )
    except conf.ConfigError as exc:
        raise _config_findings(exc) from exc
    if p.kind in COPIES:
        return documents.record_copies(
            frame, p.subjects, p.options, household_size=p.household_size, head_name=p.head_name
        )
    if p.kind in STATEMENTS:
        return documents.statement(frame, p.subjects, p.options)
    if p.kind in MOVE_OUT:
        return documents.move_out_certificate(frame, p.subjects, p.options)
    return documents.code_notice(frame, p.subjects, p.options)


def _overflow_mode() -> str:
    try:
        return conf.overflow_mode()
    except conf.ConfigError as exc:
        raise _config_findings(exc) from exc


# The file name the screens give a preview (web.certificates) and the print log records.
PREVIEW_FILE_NAME = "preview.pdf"


def _print_log(
    actor: Actor,
    p: Plan,
    *,
    function: str,
    category: Category,
    output: str,
    pages: int,
    documents_count: int,
    my_number: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """std 10.2 (j1370) 印刷ログ: who (the actor), when, title, persons, terminal, printer,
    pages, seal, 個人番号, output form, issue numbers."""
    detail: dict[str, Any] = {
        "kind": p.kind,
        "title": KIND_LABELS[p.kind],
        "copies": p.data.copies,
        "documents": documents_count,
        "pages": pages,
        "terminal": actor.terminal_name,
        "printer": conf.printer(),
        "seal": True,
        "output": output,
        "requester_kind": p.data.requester.kind,
        "official_use": p.official_use,
    }
    detail.update(extra or {})
    audit.record(
        actor,
        category=category,
        function=function,
        targets=p.atena_nos,
        my_number_accessed=my_number,
        detail=detail,
    )


def preview(actor: Actor, data: CertificateRequestIn) -> PreviewResult:
    """An unsigned 見本 of the request (std 10.7 j1420: プレビュー): nothing issued, nothing
    charged; the 個人番号 masked; logged as a preview. A support-measure release
    (``lift_id``) is checked, not used: the issue that follows uses it (std 3.4 j440)."""
    p = plan(actor, data, function=PREVIEW_FUNCTION, preview=True)
    built = build(p, issued_on=status.today(), watermark=True)
    rendered = render.render_many([b.document for b in built], overflow=_overflow_mode())
    with transaction.atomic():
        _print_log(
            actor,
            p,
            function=PREVIEW_FUNCTION,
            category=Category.PRINT,
            output="プレビュー",
            pages=rendered.pages,
            documents_count=len(built),
            my_number=False,
            extra={"overflows": rendered.overflows, "files": [PREVIEW_FILE_NAME]},
        )
    return PreviewResult(
        pdf=rendered.pdf,
        pages=rendered.pages,
        documents=len(built),
        overflows=rendered.overflows,
        missing_characters=rendered.missing_characters,
        fee_total=p.fee_per_copy * len(built) * data.copies,
        plan=p,
    )


def _next(day: dt.date, scope: str) -> int:
    """The next number of a per-day sequence (row lock on PostgreSQL, the write lock on SQLite)."""
    counter, _ = IssueCounter.objects.get_or_create(day=day, scope=scope[:80])
    IssueCounter.objects.filter(pk=counter.pk).update(last_value=F("last_value") + 1)
    counter.refresh_from_db(fields=["last_value"])
    return int(counter.last_value)


def _issue_number(day: dt.date, terminal: str, serial: int) -> str:
    """std 5.5 (j1040): 発行年月日・市区町村名・発行端末・発行プリンタ・連番 (the page part is
    added on each page: ``1/2``)."""
    return (
        f"{day:%Y%m%d} {conf.municipality_name()} {terminal or '－'} {conf.printer()} {serial:03d}"
    )


def _refuse_signing(exc: Exception) -> FindingsError:
    return FindingsError(
        [
            error(
                "certificate.signing_unavailable",
                f"電子署名の鍵が使えないため、証明書を交付できません。{exc}",
                remedy="システム管理者に署名鍵（JUMIN_CERT_SIGNING_KEY / _CERT）の設定を"
                "依頼してください。",
            )
        ]
    )


def issue(
    actor: Actor, data: CertificateRequestIn, *, idempotency_key: str | None = None
) -> CertificateRequest:
    """Issue the certificates of a request: each copy of each certificate gets its own issue
    id, issue number, QR code and PAdES signature; the request records the fee and a receipt
    number; the issue log (std 1.3.8) and the operation log get their entries — all in one
    transaction. A repeated ``idempotency_key`` returns the first request."""
    if idempotency_key:
        existing = CertificateRequest.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None and existing.staff_id == getattr(actor.staff, "pk", None):
            return existing
    p = plan(actor, data, function=ISSUE_FUNCTION, preview=False)
    try:
        signing.ensure_configured()
    except signing.SigningUnavailable as exc:
        raise _refuse_signing(exc) from exc
    now = timezone.now()
    day = timezone.localdate(now)
    built = build(p, issued_on=day, watermark=conf.is_demo())
    overflow = _overflow_mode()
    staff = actor.staff
    if staff is None:
        raise FindingsError(
            [error("certificate.staff_required", "証明書の交付は職員がログインして行います。")]
        )
    fee_total = p.fee_per_copy * len(built) * data.copies
    my_number = p.options.my_number and any(s.my_number for s in p.subjects)
    with _issue_transaction(actor, p.clearance):
        # The documents first: their issue numbers take the terminal's own counter, so that
        # two counters render and sign at the same time; the receipt number (one counter for
        # the city) and the operation log (one chain) are taken last, for the inserts only.
        produced: list[tuple[int, documents.Built, str, int, str, render.Rendered, bytes]] = []
        for copy_no in range(1, data.copies + 1):
            for b in built:
                serial = _next(day, f"serial:{actor.terminal_name}")
                number = _issue_number(day, actor.terminal_name, serial)
                issue_id = verification.new_issue_id()
                check = verification.check_code(issue_id)
                document = dataclasses.replace(
                    b.document,
                    issue_number=number,
                    qr_url=verification.verify_url(issue_id),
                    verification_text=(
                        f"交付ID {issue_id}\n確認コード {verification.grouped(check)}"
                    ),
                )
                rendered = render.render(document, overflow=overflow)
                try:
                    signed = signing.sign_pdf(
                        rendered.pdf,
                        reason=f"{KIND_LABELS[p.kind]}（発行番号 {number}）",
                        location=conf.municipality_name(),
                    )
                except signing.SigningUnavailable as exc:
                    raise _refuse_signing(exc) from exc
                produced.append((copy_no, b, issue_id, serial, number, rendered, signed))
        request = CertificateRequest.objects.create(
            kind=p.kind,
            household_no=p.household_no,
            atena_nos=p.atena_nos,
            requester_kind=data.requester.kind,
            requester_name=data.requester.name,
            requester=p.requester,
            purpose=data.purpose.strip(),
            identity_document_kind=data.identity_document.kind,
            identity_document_number=p.identity_number,
            options=p.options.as_dict(),
            copies=data.copies,
            documents_per_copy=len(built),
            official_use=p.official_use,
            fee_per_copy=p.fee_per_copy,
            fee_total=fee_total,
            receipt_no=f"{day:%Y%m%d}-{_next(day, 'receipt'):05d}",
            decision=Decision.ISSUED,
            staff=staff,
            staff_code=actor.operator_code,
            terminal_name=actor.terminal_name,
            place=actor.place,
            idempotency_key=idempotency_key or None,
        )
        CertificateRequestTarget.objects.bulk_create(
            CertificateRequestTarget(request=request, atena_no=a) for a in p.atena_nos
        )
        numbers: list[str] = []
        pages = 0
        for copy_no, b, issue_id, serial, number, rendered, signed in produced:
            issued = IssuedCertificate.objects.create(
                issue_id=issue_id,
                request=request,
                kind=p.kind,
                issued_at=now,
                place=actor.place,
                atena_nos=[s.atena_no for s in b.subjects],
                history_nos={s.atena_no: int(s.record.history_no) for s in b.subjects},
                items=b.items,
                pages=rendered.pages,
                issue_number=number,
                serial=serial,
                copy_no=copy_no,
                official_use=p.official_use,
                reissue=p.reissue,
                my_number_printed=bool(p.options.my_number),
                terminal_name=actor.terminal_name,
                staff=staff,
                staff_code=actor.operator_code,
                pdf_sha256=hashlib.sha256(signed).hexdigest(),
            )
            CertificateFile.objects.create(issue=issued, pdf=signed, created_at=now)
            numbers.append(number)
            pages += rendered.pages
        _purge_files(now)
        _print_log(
            actor,
            p,
            function=ISSUE_FUNCTION,
            category=Category.DOCUMENT_ISSUE,
            output="PDF（電子署名付き）",
            pages=pages,
            documents_count=len(built),
            my_number=my_number,
            extra={
                "request_id": request.pk,
                "receipt_no": request.receipt_no,
                "issue_numbers": numbers,
                "files": [f"{item[2]}.pdf" for item in produced],
                "fee_total": fee_total,
                "reissue": p.reissue,
            },
        )
    return request


def _purge_files(now: dt.datetime) -> None:
    """Signed PDFs are kept for the download window only; the log keeps their SHA-256."""
    cutoff = now - dt.timedelta(minutes=conf.download_minutes())
    CertificateFile.objects.filter(created_at__lt=cutoff).delete()


# --------------------------------------------------------------------------- refusal


def refuse(actor: Actor, data: CertificateRequestIn, *, reason: str) -> CertificateRequest:
    """Record a refused request and why (std 1.3.8: the decision is part of the log). Nothing
    is issued or charged; the persons are not read."""
    authorize(actor, Perm.CERTIFICATE_ISSUE, REFUSAL_FUNCTION)
    reason = (reason or "").strip()
    if not reason:
        raise FindingsError(
            [
                error(
                    "refusal.reason_required",
                    "交付しない理由を入力してください（拒否の理由は交付履歴に記録します）。",
                    field="reason",
                    remedy="例：「第三者請求で正当な理由が確認できないため」",
                )
            ]
        )
    staff = actor.staff
    if staff is None:
        raise FindingsError(
            [error("certificate.staff_required", "拒否の記録は職員がログインして行います。")]
        )
    codes = sorted(set(re.findall(r"[a-z_]+\.[a-z_.]+", reason)))
    atenas = list(dict.fromkeys(a.strip() for a in data.atena_nos if a.strip()))
    with transaction.atomic():
        request = CertificateRequest.objects.create(
            kind=data.kind,
            atena_nos=atenas,
            requester_kind=data.requester.kind,
            requester_name=data.requester.name or "（未記入）",
            requester=data.requester.model_dump(),
            purpose=data.purpose.strip()[:PURPOSE_MAX],
            identity_document_kind=data.identity_document.kind,
            identity_document_number=_mask(data.identity_document.number),
            options=dict(data.options) if _jsonable(data.options) else {},
            copies=data.copies,
            decision=Decision.REFUSED,
            refusal_reason=reason,
            refusal_codes=codes,
            staff=staff,
            staff_code=actor.operator_code,
            terminal_name=actor.terminal_name,
            place=actor.place,
        )
        CertificateRequestTarget.objects.bulk_create(
            CertificateRequestTarget(request=request, atena_no=a) for a in atenas
        )
        audit.record(
            actor,
            category=Category.DOCUMENT_ISSUE,
            function=REFUSAL_FUNCTION,
            targets=atenas,
            outcome=Outcome.DENIED,
            detail={
                "request_id": request.pk,
                "kind": data.kind,
                "requester_kind": data.requester.kind,
                "reason": reason[:500],
            },
        )
    return request


def _jsonable(value: Any) -> bool:
    import json

    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- revocation


def revoke(actor: Actor, issue_id: str, *, reason: str) -> IssuedCertificate:
    """処分 (std 1.3.8 処分情報): a certificate issued in error is revoked with a reason; the
    verification page answers "revoked" from then on. Needs CERTIFICATE_ISSUE for now (a
    separate revocation permission is proposed)."""
    authorize(actor, Perm.CERTIFICATE_REVOKE, REVOKE_FUNCTION)
    reason = (reason or "").strip()
    findings = Findings()
    if not reason:
        findings.add(
            error(
                "revocation.reason_required",
                "処分（取消し）の理由を入力してください。",
                field="reason",
                remedy="例：「対象者を誤って交付したため回収・廃棄」",
            )
        )
    with transaction.atomic():
        issued = IssuedCertificate.objects.select_for_update().filter(issue_id=issue_id).first()
        if issued is None:
            findings.add(
                error(
                    "revocation.unknown",
                    f"交付ID {issue_id} の交付履歴はありません。",
                    field="issue_id",
                    remedy="交付IDを確認してください（証明書の右下に印字されています）。",
                )
            )
        elif issued.revoked_at is not None:
            findings.add(
                error(
                    "revocation.already",
                    f"交付ID {issue_id} はすでに処分されています"
                    f"（{timezone.localtime(issued.revoked_at):%Y-%m-%d %H:%M}）。",
                    field="issue_id",
                )
            )
        if findings.has_errors or issued is None:
            raise FindingsError(findings)
        issued.revoked_at = timezone.now()
        issued.revoked_by = actor.staff
        issued.revocation_reason = reason
        issued.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        audit.record(
            actor,
            category=Category.DOCUMENT_ISSUE,
            function=REVOKE_FUNCTION,
            targets=list(issued.atena_nos),
            detail={
                "issue_id": issued.issue_id,
                "issue_number": issued.issue_number,
                "kind": issued.kind,
                "reason": reason[:500],
            },
        )
    return issued


# --------------------------------------------------------------------------- files


def issued_pdf(actor: Actor, issue_id: str) -> bytes:
    """The signed PDF again, within the download window, for staff who issue certificates;
    logged as a file output (std 10.2 印刷ログ)."""
    authorize(actor, Perm.CERTIFICATE_ISSUE, DOWNLOAD_FUNCTION)
    issued = IssuedCertificate.objects.filter(issue_id=issue_id).select_related("file").first()
    cutoff = timezone.now() - dt.timedelta(minutes=conf.download_minutes())
    stored = getattr(issued, "file", None) if issued is not None else None
    if issued is None or stored is None or stored.created_at < cutoff:
        raise FindingsError(
            [
                error(
                    "certificate.file_unavailable",
                    f"交付ID {issue_id} のPDFは保管期間（交付から{conf.download_minutes()}分）を"
                    "過ぎたか、ありません。",
                    field="issue_id",
                    remedy="再度必要な場合は、新たに交付の請求を受け付けてください。",
                )
            ]
        )
    if issued.revoked_at is not None:
        raise FindingsError(
            [
                error(
                    "certificate.file_revoked",
                    f"交付ID {issue_id} は処分（取消し）済みのため出力できません。",
                    field="issue_id",
                )
            ]
        )
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.PRINT,
            function=DOWNLOAD_FUNCTION,
            targets=list(issued.atena_nos),
            my_number_accessed=issued.my_number_printed,
            detail={
                "issue_id": issued.issue_id,
                "issue_number": issued.issue_number,
                "title": KIND_LABELS.get(issued.kind, issued.kind),
                "files": [f"{issued.issue_id}.pdf"],
                "copies": 1,
                "pages": issued.pages,
                "terminal": actor.terminal_name,
                "printer": conf.printer(),
                "seal": True,
                "output": "ファイル出力",
            },
        )
    return bytes(stored.pdf)


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verification:
    """What the public may learn: the status, and for a known certificate its kind, issue
    date, issuing city and page count — never anything about the persons."""

    status: str  # valid | revoked | unknown
    kind: str | None = None
    issued_on: dt.date | None = None
    municipality: str | None = None
    pages: int | None = None

    @property
    def status_label(self) -> str:
        return {"valid": "有効", "revoked": "無効（処分済み）", "unknown": "確認できません"}[
            self.status
        ]

    @property
    def kind_label(self) -> str | None:
        return KIND_LABELS.get(self.kind) if self.kind else None


UNKNOWN = Verification("unknown")


def verify(issue_id: str, check: str) -> Verification:
    """Public verification of a certificate by its issue id and check code. An unknown id and
    a wrong code get the same answer (and the same work: one lookup, one HMAC)."""
    issue_id = verification.normalise(issue_id or "")[: verification.ID_LENGTH + 4]
    issued = (
        IssuedCertificate.objects.filter(issue_id=issue_id)
        .only("issue_id", "kind", "issued_at", "pages", "revoked_at")
        .first()
    )
    matches = verification.check_matches(issue_id, check or "")
    if issued is None or not matches or not verification.is_well_formed(issue_id):
        return UNKNOWN
    return Verification(
        status="revoked" if issued.revoked_at is not None else "valid",
        kind=issued.kind,
        issued_on=timezone.localdate(issued.issued_at),
        municipality=conf.municipality_name(),
        pages=issued.pages,
    )
