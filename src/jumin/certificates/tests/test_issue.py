"""Issuing certificates: the PDFs are read back (pdftotext, pyHanko) and their content
asserted — items present or omitted per option and per requester, the certification text on
the last page only, the issue number, 見本 in demo mode, the planned move-out omitted before its
date, the signature, the fee and receipt, the issue log and the operation log."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from jumin.audit.models import Category, OperationLogEntry
from jumin.certificates import services, signing, verification
from jumin.certificates.models import (
    CertificateFile,
    CertificateRequest,
    IssuedCertificate,
)
from jumin.certificates.tests.helpers import ISSUE_NUMBER, pdf_pages, pdf_text, request, squeeze
from jumin.core.findings import FindingsError
from jumin.core.identifiers import generate_juminhyo_code
from jumin.core.wareki import format_wareki
from jumin.register import services as register_services
from jumin.register.models import Change
from jumin.register.procedures import move_in, moves
from jumin.register.procedures.common import today
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

MY_NUMBER = "123456789018"
RNG = random.Random(8)
HONSEKI = "神奈川県相模原市中央区中央二丁目"
TOKYO = "131016"
DESTINATION = "東京都千代田区霞が関一丁目1番1号"


# --------------------------------------------------------------------------- helpers


def codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def family_with_numbers() -> list[Any]:
    """A household of four; the head has a 個人番号 and everyone a 住民票コード."""
    people = [
        f.person(
            family_name="相模",
            given_name="太郎",
            name_kana="サガミ タロウ",
            relationship="世帯主",
            my_number=MY_NUMBER,
            juminhyo_code=generate_juminhyo_code(RNG),
        ),
        f.person(
            family_name="相模",
            given_name="花子",
            name_kana="サガミ ハナコ",
            sex="2",
            birth_date="1982-06-15",
            relationship="妻",
            juminhyo_code=generate_juminhyo_code(RNG),
        ),
        f.person(
            family_name="相模",
            given_name="一郎",
            name_kana="サガミ イチロウ",
            birth_date="2010-01-20",
            relationship="子",
        ),
        f.person(
            family_name="相模",
            given_name="桜",
            name_kana="サガミ サクラ",
            sex="2",
            birth_date="2014-03-03",
            relationship="子",
        ),
    ]
    _, residents = f.committed_move_in(*people)
    return residents


def pdf_of(issue: IssuedCertificate) -> bytes:
    return bytes(CertificateFile.objects.get(issue=issue).pdf)


def issue_one(actor, data) -> tuple[CertificateRequest, IssuedCertificate, bytes]:
    req = services.issue(actor, data)
    issued = req.issues.order_by("copy_no", "serial").first()
    assert issued is not None
    return req, issued, pdf_of(issued)


def ack_all(submit):
    try:
        return submit(())
    except FindingsError as exc:
        if exc.findings.has_errors:
            raise
        return submit([x.code for x in exc.findings])


def move_out(*persons, planned_on: dt.date, notified_on: dt.date | None = None) -> Change:
    inp = moves.MoveOutInput.model_validate(
        {
            "planned_on": planned_on,
            "notified_on": notified_on or today(),
            "destination": {"kind": "domestic", "municipality_code": TOKYO, "address": DESTINATION},
            "persons": [p.atena_no for p in persons],
        }
    )
    change = ack_all(lambda ack: moves.submit_move_out(f.clerk(), inp, acknowledged=list(ack)))
    return register_services.commit_change(f.reviewer(), change.pk)


@pytest.fixture
def clerk():
    return f.clerk()


@pytest.fixture
def family():
    return family_with_numbers()


# --------------------------------------------------------------------------- the household copy


def test_household_copy_prints_every_member_with_the_standard_layout(clerk, family):
    # std 5.1 (j1000) household form; 5.2 (j1010) order; 5.3 (j1020) 振り仮名 in brackets;
    # 5.5 (j1040) issue number; 1.1.9 (j90) 和暦
    head, wife, son, daughter = family
    data = request(
        "record_copy",
        *(p.atena_no for p in (daughter, head, son, wife)),
        options={"household_form": True},
    )
    req, issued, pdf = issue_one(clerk, data)
    pages = pdf_pages(pdf)
    text = squeeze("".join(pages))
    assert "住民票の写し" in text and "（世帯全員）" in text
    for name in ("相模太郎（サガミタロウ）", "相模花子（サガミハナコ）", "相模一郎", "相模桜"):
        assert name in text
    # head, spouse, children by birth date
    order = [text.index(n) for n in ("相模太郎（", "相模花子（", "相模一郎（", "相模桜（")]
    assert order == sorted(order)
    assert format_wareki(dt.date(1980, 4, 1)).replace(" ", "") in text  # 昭和55年4月1日
    assert "世帯主相模太郎" in text
    assert "妻" in text and "続柄" in text
    # defaults: 本籍, 住民票コード and 個人番号 omitted, and said so
    assert HONSEKI not in text
    assert head.juminhyo_code not in text
    assert MY_NUMBER not in text
    assert "本籍・筆頭者、住民票コード、個人番号は、記載を省略しています。" in text
    # the issue number on every page: YYYYMMDD city terminal printer serial page/total
    for n, page in enumerate(pages, start=1):
        match = ISSUE_NUMBER.search(page)
        assert match is not None, page
        assert match.group(1) == today().strftime("%Y%m%d")
        assert match.group(2) == "相模原市"
        assert match.group(3) == clerk.terminal_name
        assert match.group(4) == "PDF"
        assert match.group(6) == str(n) and match.group(7) == str(len(pages))
    assert issued.issue_number == " ".join(ISSUE_NUMBER.search(pages[0]).group(1, 2, 3, 4, 5))
    assert issued.pages == len(pages)
    # the certifier (prefecture + title, std 5.6) and the certification text
    assert "この写しは、住民票の原本と相違ないことを証明する。" in text
    assert "神奈川県相模原市長" in text
    # the issue log (std 1.3.8)
    assert req.receipt_no and re.fullmatch(r"\d{8}-\d{5}", req.receipt_no)
    assert req.fee_total == 300 and req.fee_per_copy == 300
    assert sorted(issued.atena_nos) == sorted(p.atena_no for p in family)
    assert "氏名" in issued.items and issued.staff_code == clerk.operator_code


def test_demo_mode_marks_every_page_and_production_does_not(clerk, family, settings):
    head = family[0]
    _, _, pdf = issue_one(clerk, request("record_copy", head.atena_no, options={"history": True}))
    assert all("見本" in page for page in pdf_pages(pdf))
    settings.JUMIN = {**settings.JUMIN, "MODE": "production", "CERT_MAYOR_NAME": "相模　一郎"}
    signing.reset_cache()
    with pytest.raises(FindingsError) as exc:  # production without the city's key: refused
        services.issue(clerk, request("record_copy", head.atena_no))
    assert codes(exc) == {"certificate.signing_unavailable"}
    ca, key, cert = signing.ensure_demo_files()
    settings.JUMIN = {
        **settings.JUMIN,
        "CERT_SIGNING_KEY": str(key),
        "CERT_SIGNING_CERT": str(cert),
        "CERT_SIGNING_CHAIN": str(ca),
    }
    _, _, pdf = issue_one(clerk, request("record_copy", head.atena_no))
    assert not any("見本" in page for page in pdf_pages(pdf))


def test_certification_text_is_on_the_last_page_only(clerk):
    # std 5.1 (j1000): 複葉の場合は最終ページのみに認証文; std 5.8 (j1070) long text continued
    long_remark = "備考の長い記載。" * 10
    given = ["太郎", "一郎", "二郎", "三郎", "四郎", "五郎", "六郎", "七郎"]
    kana = ["タロウ", "イチロウ", "ジロウ", "サブロウ", "シロウ", "ゴロウ", "ロクロウ", "シチロウ"]
    people = [
        f.person(given_name=g, name_kana=f"サガミ {k}", relationship="世帯主" if n == 0 else "子")
        for n, (g, k) in enumerate(zip(given, kana, strict=True))
    ]
    _, residents = f.committed_move_in(
        *people, address={"address_code": f.ADDRESS_CODE, "banchi": "2丁目11番15号"}
    )
    del long_remark
    data = request(
        "record_copy",
        *(r.atena_no for r in residents),
        options={"household_form": True, "honseki": True, "history": True},
    )
    _, issued, pdf = issue_one(clerk, data)
    pages = pdf_pages(pdf)
    assert len(pages) >= 2
    certification = "この写しは、住民票の原本と相違ないことを証明する。"
    assert [certification in squeeze(p) for p in pages] == [False] * (len(pages) - 1) + [True]
    assert all("（続き）" in squeeze(p) for p in pages[1:])
    assert issued.pages == len(pages)


def test_options_print_the_numbers_and_honseki_only_when_asked_by_the_household(clerk, family):
    # std 5.1 (j1000): 省略の指定; 個人番号・住民票コード only on a specific request (Art. 12)
    head, wife = family[0], family[1]
    data = request(
        "record_copy",
        head.atena_no,
        requester={"kind": "self", "name": "相模　花子", "atena_no": wife.atena_no},
        options={"my_number": True, "juminhyo_code": True, "honseki": True},
    )
    _, issued, pdf = issue_one(clerk, data)
    text = squeeze(pdf_text(pdf))
    assert "1234567890" + "18" in text  # printed as 1234 5678 9018
    assert head.juminhyo_code in text
    assert HONSEKI in text and "筆頭者" in text
    assert issued.my_number_printed is True
    entry = OperationLogEntry.objects.filter(function=services.ISSUE_FUNCTION).latest("seq")
    assert entry.my_number_accessed is True
    assert MY_NUMBER not in str(entry.detail)
    # and without them: the same person, the items gone
    _, _, pdf = issue_one(clerk, request("record_copy", head.atena_no, options={"honseki": False}))
    text = squeeze(pdf_text(pdf))
    assert "123456789018" not in text and head.juminhyo_code not in text and HONSEKI not in text


def test_furigana_can_be_left_out(clerk, family):
    # std 5.3 (j1020): whether to print the 振り仮名 is selectable
    _, _, pdf = issue_one(
        clerk, request("record_copy", family[0].atena_no, options={"furigana": False})
    )
    text = squeeze(pdf_text(pdf))
    assert "相模太郎" in text and "サガミタロウ" not in text


def test_the_planned_move_out_is_not_printed_before_its_date(clerk, family):
    # std 5.1 (j1000): 転出予定年月日前の交付では転出届に基づく記録事項を省略
    son = family[2]
    move_out(son, planned_on=today() + dt.timedelta(days=5))
    _, _, pdf = issue_one(clerk, request("record_copy", son.atena_no))
    text = squeeze(pdf_text(pdf))
    assert "相模一郎" in text
    assert DESTINATION not in text and "転出" not in text
    # and the 転出予定者 is still a resident: no 除票の写し yet
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, request("removed_record_copy", son.atena_no))
    assert codes(exc) == {"certificate.not_removed"}


def test_a_removed_record_is_issued_as_a_removed_record_copy_only(clerk, family, monkeypatch):
    # std 1.1.5 (j50), 5.1 (j1000)
    son = family[2]
    move_out(son, planned_on=today() - dt.timedelta(days=2))
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, request("record_copy", son.atena_no))
    assert codes(exc) == {"certificate.removed_record"}
    assert not IssuedCertificate.objects.exists() and not CertificateRequest.objects.exists()
    _, issued, pdf = issue_one(clerk, request("removed_record_copy", son.atena_no))
    text = squeeze(pdf_text(pdf))
    assert "住民票の除票の写し" in text and "消除事由" in text and "転出" in text
    assert DESTINATION in text
    assert "この写しは、住民票の除票の原本と相違ないことを証明する。" in text
    assert issued.kind == "removed_record_copy"


def test_a_person_only_in_a_draft_is_refused(clerk):
    # std 4.0.8 (j530): drafts are invisible to certificates
    change = move_in.submit(clerk, f.move_in_input(f.person()), acknowledged=["duplicate.person"])
    atena = change.payload["persons"][0]["atena_no"]
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, request("record_copy", atena))
    assert codes(exc) == {"certificate.unknown_person"}
    assert "仮登録" in next(iter(exc.value.findings)).message
    assert not CertificateRequest.objects.exists()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"purpose": ""}, "certificate.purpose_required"),
        ({"identity_document": {"kind": ""}}, "certificate.identity_document_required"),
        (
            {"identity_document": {"kind": "my_number_card", "number": MY_NUMBER}},
            "certificate.identity_number_is_my_number",
        ),
        ({"options": {"colour": True}}, "options.unknown"),
        ({"options": {"honseki": "yes"}}, "options.type"),
        ({"copies": 11}, "certificate.too_many_copies"),
        (
            {"kind": "move_out_certificate", "options": {"household_form": True}},
            "options.not_for_kind",
        ),
        ({"options": {"katagaki": False}}, "options.katagaki_required"),
    ],
)
def test_bad_input_is_refused_with_the_rule_and_nothing_is_issued(clerk, family, changes, expected):
    head = family[0]
    data = request("record_copy", head.atena_no).model_dump() | changes
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, type(request("record_copy", head.atena_no)).model_validate(data))
    assert expected in codes(exc)
    finding = next(x for x in exc.value.findings if x.code == expected)
    assert finding.message and re.search(r"[ぁ-んァ-ン一-龥]", finding.message)
    assert not CertificateRequest.objects.exists()
    assert not IssuedCertificate.objects.exists()


THIRD = {"kind": "third_party", "name": "債権　太郎", "address": "東京都港区芝公園1-1"}
PRO = {
    "kind": "professional",
    "name": "弁護　士郎",
    "address": "東京都千代田区丸の内1-1",
    "qualification": "lawyer",
    "registration_no": "12345",
    "form_no": "A-000123",
    "client_name": "依頼　花子",
}
PUBLIC = {
    "kind": "public_body",
    "name": "担当　一郎",
    "organisation": "横浜市",
    "form_no": "公第1号",
}


@pytest.mark.parametrize(
    ("requester", "options", "kind", "expected"),
    [
        # Art. 12-3: a third party needs a legitimate reason, in concrete words
        (THIRD, {}, "record_copy", {"requester.reason_kind_required", "requester.reason_required"}),
        # never the 個人番号 / 住民票コード for anyone but the household
        (
            THIRD | {"reason_kind": "right", "reason": "貸金返還請求訴訟の提起のため"},
            {"my_number": True},
            "record_copy",
            {"options.number_not_for_requester"},
        ),
        # Art. 12-3 (7): 本籍 etc. only with a stated need
        (
            THIRD | {"reason_kind": "right", "reason": "貸金返還請求訴訟の提起のため"},
            {"honseki": True},
            "record_copy",
            {"options.extra_items_reason_required"},
        ),
        (PRO | {"form_no": ""}, {}, "record_copy", {"requester.form_no_required"}),
        (PUBLIC | {"organisation": ""}, {}, "record_copy", {"requester.organisation_required"}),
        (PUBLIC, {"juminhyo_code": True}, "record_copy", {"options.number_not_for_requester"}),
        (
            {"kind": "agent", "name": "代理　人", "address": "相模原市", "atena_no": "X"},
            {},
            "record_copy",
            {"requester.mandate_required"},
        ),
        (
            THIRD | {"reason_kind": "duty", "reason": "提出のため"},
            {},
            "move_out_certificate",
            {"certificate.kind_not_for_requester"},
        ),
        ({"kind": "self", "name": "本人"}, {}, "record_copy", {"requester.atena_no_required"}),
    ],
)
def test_ineligible_requesters_are_refused(clerk, family, requester, options, kind, expected):
    head = family[0]
    if requester.get("atena_no") == "X":
        requester = requester | {"atena_no": head.atena_no}
    data = request(kind, head.atena_no, requester=requester, options=options)
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, data)
    assert expected <= codes(exc)
    assert not CertificateRequest.objects.exists()


def test_someone_outside_the_household_is_not_the_household(clerk, family):
    # Art. 12 (1): 本人又は同一の世帯に属する者
    _, (stranger,) = f.committed_move_in(f.person(family_name="他人", name_kana="タニン タロウ"))
    data = request(
        "record_copy",
        family[0].atena_no,
        requester={"kind": "self", "name": "他人　太郎", "atena_no": stranger.atena_no},
    )
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, data)
    assert codes(exc) == {"requester.not_household"}


def test_a_third_party_gets_the_basic_items_only(clerk, family):
    # Art. 12-3 (7): 基礎証明事項 (氏名・生年月日・性別・住所)
    head = family[0]
    data = request(
        "record_copy",
        head.atena_no,
        requester=THIRD | {"reason_kind": "right", "reason": "貸金返還請求訴訟の提起のため"},
    )
    _, _, pdf = issue_one(clerk, data)
    text = squeeze(pdf_text(pdf))
    assert "相模太郎" in text and "昭和55年4月1日" in text and "男" in text
    assert "続柄世帯主" not in text and "世帯主相模太郎" not in text
    assert "世帯主・続柄、本籍・筆頭者、住民票コード、個人番号は、記載を省略しています。" in text


def test_a_public_body_is_served_free_with_the_official_use_mark(clerk, family):
    # std 5.7 (j1060) 公用; Art. 12-2
    req, issued, pdf = issue_one(
        clerk, request("record_copy", family[0].atena_no, requester=PUBLIC)
    )
    assert "公用" in squeeze(pdf_pages(pdf)[0])
    assert req.fee_total == 0 and req.official_use and issued.official_use


def test_fee_per_copy_comes_from_the_configuration(clerk, family, settings):
    settings.JUMIN = {**settings.JUMIN, "CERT_FEE": "450"}
    head, wife = family[0], family[1]
    data = request("record_copy", head.atena_no, wife.atena_no, copies=2)
    req = services.issue(clerk, data)
    # the individual form: one certificate per person, two copies each
    assert req.issues.count() == 4
    assert req.fee_per_copy == 450 and req.fee_total == 4 * 450
    numbers = list(req.issues.values_list("issue_number", flat=True))
    assert len(set(numbers)) == 4  # std 5.5: each copy its own number


def test_a_professional_with_the_official_form_is_served(clerk, family):
    req, _, pdf = issue_one(clerk, request("record_copy", family[0].atena_no, requester=PRO))
    assert req.requester["form_no"] == "A-000123" and req.requester_kind == "professional"
    assert "相模太郎" in squeeze(pdf_text(pdf))


def test_an_agent_with_a_power_of_attorney_is_served(clerk, family):
    head = family[0]
    requester = {
        "kind": "agent",
        "name": "代理　一郎",
        "address": "相模原市南区1-1",
        "atena_no": head.atena_no,
        "mandate_checked": True,
    }
    req = services.issue(clerk, request("record_copy", head.atena_no, requester=requester))
    assert req.decision == "issued" and req.requester["mandate_checked"] is True


def test_identity_document_number_is_masked(clerk, family):
    data = request("record_copy", family[0].atena_no)
    data = data.model_copy(
        update={
            "identity_document": data.identity_document.model_copy(update={"number": "AB12345678"})
        }
    )
    req = services.issue(clerk, data)
    assert req.identity_document_number == "******5678"


# ------------------------------------------------------------------ signature, QR, revocation


def test_every_issued_pdf_carries_a_valid_pades_signature(clerk, family):
    _, issued, pdf = issue_one(clerk, request("record_copy", family[0].atena_no))
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[signing.trust_root()])
    )
    assert status.intact and status.valid and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"
    # a changed byte breaks it
    tampered = bytearray(pdf)
    at = pdf.index(b"/Author")
    tampered[at + 10] ^= 1
    reader = PdfFileReader(io.BytesIO(bytes(tampered)))
    status = validate_pdf_signature(
        reader.embedded_signatures[0], ValidationContext(trust_roots=[signing.trust_root()])
    )
    assert not status.bottom_line
    assert issued.pdf_sha256


def test_verification_answers_valid_revoked_or_unknown_without_personal_data(clerk, family):
    supervisor = f.supervisor()  # 処分 needs CERTIFICATE_REVOKE
    _, issued, pdf = issue_one(clerk, request("record_copy", family[0].atena_no))
    check = verification.check_code(issued.issue_id)
    text = squeeze(pdf_text(pdf))
    assert issued.issue_id in text and verification.grouped(check).replace("-", "") in text.replace(
        "-", ""
    )
    result = services.verify(issued.issue_id, check)
    assert result.status == "valid" and result.kind == "record_copy" and result.pages == 1
    assert result.municipality == "相模原市" and result.issued_on == today()
    assert services.verify(issued.issue_id, "WRONGCOD") == services.UNKNOWN
    assert services.verify("ZZZZZZZZZZZZ", check) == services.UNKNOWN
    services.revoke(supervisor, issued.issue_id, reason="対象者を誤ったため回収")
    assert services.verify(issued.issue_id, check).status == "revoked"
    issued.refresh_from_db()
    assert (
        issued.revocation_reason == "対象者を誤ったため回収"
        and issued.revoked_by == supervisor.staff
    )
    with pytest.raises(FindingsError) as exc:
        services.revoke(supervisor, issued.issue_id, reason="二回目")
    assert codes(exc) == {"revocation.already"}
    with pytest.raises(FindingsError) as exc:
        services.issued_pdf(clerk, issued.issue_id)
    assert codes(exc) == {"certificate.file_revoked"}


def test_revocation_needs_a_reason(clerk, family):
    supervisor = f.supervisor()
    _, issued, _ = issue_one(clerk, request("record_copy", family[0].atena_no))
    with pytest.raises(FindingsError) as exc:
        services.revoke(supervisor, issued.issue_id, reason=" ")
    assert codes(exc) == {"revocation.reason_required"}
    issued.refresh_from_db()
    assert issued.revoked_at is None


def test_the_pdf_can_be_downloaded_again_only_within_the_window(clerk, family, settings):
    _, issued, pdf = issue_one(clerk, request("record_copy", family[0].atena_no))
    assert services.issued_pdf(clerk, issued.issue_id) == pdf
    settings.JUMIN = {**settings.JUMIN, "CERT_DOWNLOAD_MINUTES": "0"}
    with pytest.raises(FindingsError) as exc:
        services.issued_pdf(clerk, issued.issue_id)
    assert codes(exc) == {"certificate.file_unavailable"}


def test_a_repeated_submission_issues_once(clerk, family):
    data = request("record_copy", family[0].atena_no)
    first = services.issue(clerk, data, idempotency_key="k-1")
    second = services.issue(clerk, data, idempotency_key="k-1")
    assert first.pk == second.pk and IssuedCertificate.objects.count() == 1


# --------------------------------------------------------------------------- other kinds


def test_statement_prints_the_requesters_text_and_the_chosen_items(clerk, family):
    # std 5.1 記載事項証明書; 5.4 (j1030) 方書 may be omitted only here
    head = family[0]
    text_in = "上記の者は、令和8年4月1日から相模原市に住所を有する者であることを証明願います。"
    data = request(
        "record_statement",
        head.atena_no,
        options={
            "statement_items": ["name", "address", "became_resident_on"],
            "statement_text": text_in,
        },
    )
    with pytest.raises(FindingsError) as exc:  # not checked against the register yet
        services.issue(clerk, data)
    assert codes(exc) == {"options.statement_unchecked"}
    data.options["statement_checked"] = True
    _, issued, pdf = issue_one(clerk, data)
    text = squeeze(pdf_text(pdf))
    assert "住民票記載事項証明書" in text
    assert squeeze(text_in) in text
    assert "相模太郎" in text and "住民となった年月日" in text
    assert "生年月日" not in text  # not asked for
    assert "上記の事項は、住民票の記載と相違ないことを証明する。" in text
    assert "請求者記載事項" in issued.items


def test_move_out_certificate_and_its_reissue(clerk, family):
    # std 4.1.3.0.3 (j660): 転出証明書; a reissue is marked 再交付 with the original state
    _head, wife, son, daughter = family
    move_out(son, daughter, planned_on=today() + dt.timedelta(days=7))
    data = request(
        "move_out_certificate",
        son.atena_no,
        daughter.atena_no,
        requester={"kind": "self", "name": "相模　花子", "atena_no": wife.atena_no},
    )
    req, _, pdf = issue_one(clerk, data)
    text = squeeze(pdf_text(pdf))
    assert "転出証明書" in text and "再交付" not in text
    assert DESTINATION in text and format_wareki(today() + dt.timedelta(days=7)) in text
    assert "相模一郎" in text and "相模桜" in text
    assert req.fee_total == 0  # free by default
    _, issued, pdf = issue_one(clerk, data)
    assert issued.reissue is True
    assert "再交付" in squeeze(pdf_pages(pdf)[0])


def test_a_late_move_out_gets_the_equivalent_certificate(clerk, family):
    # std 4.1.3.0.1 (j640), 4.1.3.0.3 (j660)
    son = family[2]
    move_out(son, planned_on=today() - dt.timedelta(days=20), notified_on=today())
    data = request("move_out_certificate", son.atena_no)
    with pytest.raises(FindingsError) as exc:
        services.issue(clerk, data)
    assert codes(exc) == {"certificate.move_out_wrong_kind"}
    _, _, pdf = issue_one(clerk, request("equivalent_certificate", son.atena_no))
    text = squeeze(pdf_text(pdf))
    assert "転出証明書に準ずる証明書" in text and "14日を経過" in text


def test_juminhyo_code_notice(clerk, family):
    # std 4.3.3 (j890): 住民票コード通知票
    head = family[0]
    _, _, pdf = issue_one(clerk, request("juminhyo_code_notice", head.atena_no))
    text = squeeze(pdf_text(pdf))
    assert "住民票コード通知票" in text and head.juminhyo_code[:4] in text
    assert "相模太郎様" in text


# --------------------------------------------------------------------------- logs


def test_preview_and_issue_are_in_the_operation_log_with_the_print_log_items(clerk, family):
    # std 10.2 (j1370) 印刷ログ
    head = family[0]
    result = services.preview(
        clerk, request("record_copy", head.atena_no, options={"my_number": True})
    )
    assert "見本" in pdf_text(result.pdf)
    assert MY_NUMBER not in squeeze(pdf_text(result.pdf))  # masked on a preview
    assert not IssuedCertificate.objects.exists() and not CertificateRequest.objects.exists()
    entry = OperationLogEntry.objects.get(function=services.PREVIEW_FUNCTION)
    assert entry.category == Category.PRINT
    assert entry.targets == [head.atena_no] and entry.terminal_name == clerk.terminal_name
    assert entry.detail["output"] == "プレビュー" and entry.detail["pages"] == result.pages
    assert entry.detail["title"] == "住民票の写し" and entry.detail["copies"] == 1
    assert entry.my_number_accessed is False
    req = services.issue(clerk, request("record_copy", head.atena_no))
    entry = OperationLogEntry.objects.get(function=services.ISSUE_FUNCTION)
    assert entry.category == Category.DOCUMENT_ISSUE
    assert entry.detail["issue_numbers"] == [i.issue_number for i in req.issues.all()]
    assert entry.detail["receipt_no"] == req.receipt_no and entry.detail["seal"] is True
    # 対象ファイル名: the preview's and each issued file's
    issued = list(req.issues.all())
    assert entry.detail["files"] == [f"{i.issue_id}.pdf" for i in issued]
    preview_entry = OperationLogEntry.objects.get(function=services.PREVIEW_FUNCTION)
    assert preview_entry.detail["files"] == [services.PREVIEW_FILE_NAME]
    services.issued_pdf(clerk, issued[0].issue_id)
    download = OperationLogEntry.objects.get(function=services.DOWNLOAD_FUNCTION)
    assert download.category == Category.PRINT
    assert download.detail["files"] == [f"{issued[0].issue_id}.pdf"]
    assert {"printer", "seal", "copies", "terminal", "output"} <= set(download.detail)


def test_a_refusal_is_recorded_with_its_reason(clerk, family):
    data = request(
        "record_copy",
        family[0].atena_no,
        requester=THIRD | {"reason_kind": "other", "reason": "知りたい"},
    )
    with pytest.raises(FindingsError):
        services.refuse(clerk, data, reason="")
    row = services.refuse(clerk, data, reason="正当な理由が確認できないため")
    assert row.decision == "refused" and row.receipt_no is None and row.fee_total == 0
    assert row.refusal_reason == "正当な理由が確認できないため"
    assert not IssuedCertificate.objects.exists()
    entry = OperationLogEntry.objects.get(function=services.REFUSAL_FUNCTION)
    assert entry.outcome == "denied"


def test_the_issue_log_is_searchable_by_person_date_kind_requester_and_staff(clerk, family):
    # std 2.2.2 (j360), 1.3.8 (j300)
    from jumin.certificates import selectors

    head, wife = family[0], family[1]
    services.issue(clerk, request("record_copy", head.atena_no))
    services.issue(clerk, request("record_copy", wife.atena_no, requester=PUBLIC))
    services.refuse(clerk, request("record_copy", wife.atena_no), reason="本人確認書類なし")
    reader = f.supervisor()
    criteria = selectors.LogCriteria

    def rows(**c):
        return selectors.search_log(reader, criteria(**c)).rows

    assert {r.atena_nos[0] for r in rows(atena_no=wife.atena_no)} == {wife.atena_no}
    assert len(rows(atena_no=wife.atena_no)) == 2
    assert len(rows(date_from=today(), date_to=today())) == 3
    assert rows(date_from=today() + dt.timedelta(days=1)) == []
    assert len(rows(kind="record_copy")) == 3
    assert len(rows(requester_kind="public_body")) == 1
    assert len(rows(requester_name="担当")) == 1
    assert len(rows(staff_code=clerk.operator_code)) == 3
    assert len(rows(decision="refused")) == 1
    number = IssuedCertificate.objects.first().issue_number
    assert len(rows(issue_number=number)) == 1
    with pytest.raises(FindingsError):
        selectors.search_log(reader, criteria())
    entry = OperationLogEntry.objects.filter(function=selectors.LOG_FUNCTION).latest("seq")
    assert entry.category == Category.INQUIRY
    # a counter clerk may issue but not read the log
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        selectors.search_log(clerk, criteria(atena_no=head.atena_no))


def test_rendering_falls_back_to_the_rare_character_font():
    # names with characters outside IPAex (𠮷) print with IPAmj明朝 and extract as written
    from jumin.certificates import fonts

    names = fonts.register_fonts()
    assert [n for n, _ in fonts.runs("𠮷野")] == [names["rare"], names["mincho"]]
    assert fonts.missing_characters("𠮷野太郎") == set()
