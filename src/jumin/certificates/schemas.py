"""Input of a certificate request (shared by the API and the clerk screens) and API outputs.

The input is deliberately permissive (empty strings allowed, ``options`` a free object): the
service checks every rule itself and answers with findings naming the field, the rule and the
fix in Japanese (a missing purpose, an unknown option, an ineligible requester …), so that the
screen and the API explain a refusal the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

KindCode = Literal[
    "record_copy",
    "removed_record_copy",
    "record_statement",
    "removed_record_statement",
    "move_out_certificate",
    "equivalent_certificate",
    "juminhyo_code_notice",
]
RequesterCode = Literal["self", "public_body", "third_party", "agent", "professional"]
IdentityCode = Literal[
    "",
    "my_number_card",
    "driver_license",
    "passport",
    "residence_card",
    "health_insurance",
    "staff_id",
    "professional_id",
    "other",
]
IDENTITY_DOCUMENTS: dict[str, str] = {
    "my_number_card": "個人番号カード",
    "driver_license": "運転免許証",
    "passport": "旅券",
    "residence_card": "在留カード・特別永住者証明書",
    "health_insurance": "健康保険の資格確認書等（2点）",
    "staff_id": "職員の身分証明書（公用）",
    "professional_id": "資格者の身分証明書（弁護士等）",
    "other": "その他（官公署発行の写真付き証明書等）",
}
ReasonCode = Literal["", "right", "duty", "submission", "other"]
REASON_KINDS: dict[str, str] = {
    "right": "自己の権利を行使するため",
    "duty": "自己の義務を履行するため",
    "submission": "国又は地方公共団体の機関に提出するため",
    "other": "その他正当な理由",
}
QualificationCode = Literal[
    "",
    "lawyer",
    "judicial_scrivener",
    "land_surveyor",
    "tax_accountant",
    "labor_consultant",
    "patent_attorney",
    "maritime_agent",
    "administrative_scrivener",
]
QUALIFICATIONS: dict[str, str] = {
    "lawyer": "弁護士",
    "judicial_scrivener": "司法書士",
    "land_surveyor": "土地家屋調査士",
    "tax_accountant": "税理士",
    "labor_consultant": "社会保険労務士",
    "patent_attorney": "弁理士",
    "maritime_agent": "海事代理士",
    "administrative_scrivener": "行政書士",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RequesterIn(Strict):
    """請求者. Which items are needed depends on ``kind`` (the service says which is missing)."""

    kind: RequesterCode = Field(..., description="請求者の区分")
    name: str = Field("", max_length=200, description="請求者の氏名（機関・事務所の担当者）")
    address: str = Field("", max_length=300, description="請求者の住所・所在地")
    atena_no: str = Field(
        "",
        max_length=10,
        description="本人・同一世帯員: 請求者の宛名番号／代理人: 委任者の宛名番号",
    )
    organisation: str = Field("", max_length=200, description="機関名・事務所名")
    qualification: QualificationCode = Field("", description="特定事務受任者の資格")
    registration_no: str = Field("", max_length=40, description="資格者の登録番号")
    form_no: str = Field("", max_length=40, description="職務上請求書・公用請求書の番号")
    client_name: str = Field("", max_length=200, description="特定事務受任者の依頼者")
    reason_kind: ReasonCode = Field("", description="第三者請求の正当な理由の区分")
    reason: str = Field("", max_length=500, description="第三者請求の具体的な理由")
    extra_items_reason: str = Field(
        "", max_length=300, description="基礎証明事項以外の事項（続柄・本籍等）を必要とする理由"
    )
    mandate_checked: bool = Field(False, description="委任状を確認した")


class IdentityDocumentIn(Strict):
    kind: IdentityCode = Field("", description="確認した本人確認書類")
    number: str = Field(
        "", max_length=20, description="書類の番号（末尾4桁のみ記録し、他は伏せ字にします）"
    )


class CertificateRequestIn(Strict):
    """交付請求. ``options``: see ``GET /api/certificates/catalogue``."""

    kind: KindCode = Field(..., description="証明書の種別")
    atena_nos: list[str] = Field(..., min_length=1, max_length=30, description="対象者の宛名番号")
    requester: RequesterIn
    purpose: str = Field("", max_length=200, description="利用目的（必須）")
    identity_document: IdentityDocumentIn = Field(
        default_factory=lambda: IdentityDocumentIn(kind="", number="")
    )
    options: dict[str, Any] = Field(default_factory=dict, description="記載事項の指定")
    copies: int = Field(1, ge=1, le=100, description="通数")
    lift_id: int | None = Field(None, description="支援措置の一時解除の番号（支援措置担当が発行）")


class RefusalIn(Strict):
    request: CertificateRequestIn
    reason: str = Field("", max_length=500, description="拒否の理由（必須）")


class RevokeIn(Strict):
    reason: str = Field("", max_length=500, description="処分の理由（必須）")


# --------------------------------------------------------------------------- outputs


class IssueOut(Schema):
    issue_id: str
    kind: str
    kind_label: str
    issue_number: str
    pages: int
    copy_no: int
    issued_at: dt.datetime
    reissue: bool
    official_use: bool
    revoked: bool
    revoked_at: dt.datetime | None
    revocation_reason: str
    pdf_url: str | None = Field(None, description="署名済みPDF（ダウンロード期間内のみ）")
    verify_url: str | None = Field(None, description="検証ページ（交付した職員にのみ返す）")


class RequestOut(Schema):
    id: int
    kind: str
    kind_label: str
    decision: str
    atena_nos: list[str]
    household_no: str
    requester_kind: str
    requester_name: str
    purpose: str
    copies: int
    official_use: bool
    fee_per_copy: int
    fee_total: int
    receipt_no: str | None
    refusal_reason: str
    staff_code: str
    terminal_name: str
    created_at: dt.datetime
    issues: list[IssueOut]


class LogPageOut(Schema):
    rows: list[RequestOut]
    total: int
    truncated: bool


class VerifyOut(Schema):
    """No personal data: the status and four facts about the document."""

    status: Literal["valid", "revoked", "unknown"]
    status_label: str
    kind: str | None = None
    kind_label: str | None = None
    issued_on: dt.date | None = None
    municipality: str | None = None
    pages: int | None = None


class CatalogueOut(Schema):
    kinds: dict[str, str]
    requester_kinds: dict[str, str]
    identity_documents: dict[str, str]
    reason_kinds: dict[str, str]
    qualifications: dict[str, str]
    options: dict[str, str]
    statement_items: dict[str, str]
    fee_per_copy: int
    free_kinds: list[str]
