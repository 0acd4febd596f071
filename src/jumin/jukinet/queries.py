"""J-LIS identity query (本人確認情報の照会, std 7.1.1): ask the nationwide identity-information
file for a person by 住民票コード, 個人番号 or the four items, with a stated purpose.

The query goes at once (it is not a register change, so not through the outbox) by
``services.call``, which writes the ``SentMessage`` row with the purpose and the operation-log
entry (通信: kind and purpose; the request body is logged with any 個人番号 masked). The
matches returned carry the 個人番号 masked unless the caller holds ``Perm.MY_NUMBER_READ``;
showing them in clear writes one more operation-log entry (照会) naming the persons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, FindingsError, error
from jumin.core.identifiers import validate_juminhyo_code, validate_my_number
from jumin.jukinet import services
from jumin.jukinet.client import MASK, CsClient
from jumin.netproto.messages import FourItems, IdentityQuery, IdentityQueryResult
from jumin.register.models import Resident

QUERY_FUNCTION = "本人確認情報の照会（J-LIS）"
REVEAL_FUNCTION = "本人確認情報の照会（J-LIS）による個人番号の表示"
KIND = "identity.query"
PURPOSE_MAX = 200


@dataclass(frozen=True)
class QueryResult:
    """What the national side answered. ``outcome`` is the exchange's: ``delivered`` (an
    answer, ``matches`` may be empty), ``refused`` (the national side refused the query) or
    ``retry`` (it could not be reached); ``error_message`` says why in Japanese."""

    outcome: str
    matches: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    my_number_shown: bool = False
    error_code: str = ""
    error_message: str = ""
    envelope_id: str = ""

    @property
    def answered(self) -> bool:
        return self.outcome == "delivered"


def _check(
    purpose: str,
    juminhyo_code: str | None,
    my_number: str | None,
    four_items: dict[str, Any] | None,
) -> IdentityQuery:
    findings: list[Finding] = []
    purpose = (purpose or "").strip()
    if not purpose:
        findings.append(
            error(
                "query.purpose_required",
                "照会の目的が入力されていません。照会には目的の記録が必要です。",
                field="purpose",
                remedy="照会の目的（例: 転入届の本人確認）を入力してください。",
            )
        )
    elif len(purpose) > PURPOSE_MAX:
        findings.append(
            error(
                "query.purpose_too_long",
                f"照会の目的は{PURPOSE_MAX}文字以内で入力してください。",
                field="purpose",
            )
        )
    code = (juminhyo_code or "").strip() or None
    number = (my_number or "").strip() or None
    if code is not None:
        try:
            code = validate_juminhyo_code(code)
        except CoreError as exc:
            findings.append(error("query.juminhyo_code", exc.message, field="juminhyo_code"))
    if number is not None:
        try:
            number = validate_my_number(number)
        except CoreError as exc:
            findings.append(error("query.my_number", exc.message, field="my_number"))
    items: FourItems | None = None
    if four_items:
        try:
            items = FourItems.model_validate(four_items)
        except ValidationError:
            findings.append(
                error(
                    "query.four_items",
                    "基本4情報の項目が正しくありません。",
                    field="four_items",
                    remedy="生年月日（必須）と、氏名または氏名のふりがなを入力してください。",
                )
            )
        else:
            if not (items.name or items.name_kana):
                findings.append(
                    error(
                        "query.four_items_name",
                        "基本4情報で照会するときは氏名または氏名のふりがなが必要です。",
                        field="four_items.name",
                        remedy="氏名または氏名のふりがなを入力してください。",
                    )
                )
    given = sum(1 for v in (juminhyo_code, my_number) if (v or "").strip()) + bool(four_items)
    if given != 1:
        findings.append(
            error(
                "query.criteria_required" if given == 0 else "query.criteria_too_many",
                "照会の条件がありません。"
                if given == 0
                else "照会の条件は1つだけ指定してください。",
                field="juminhyo_code",
                remedy="住民票コード、個人番号、基本4情報のいずれか1つを入力してください。",
            )
        )
    if findings:
        raise FindingsError(findings)
    return IdentityQuery(purpose=purpose, juminhyo_code=code, my_number=number, four_items=items)


def _atena_no(juminhyo_code: str | None) -> str:
    if not juminhyo_code:
        return ""
    found = (
        Resident.objects.filter(juminhyo_code=juminhyo_code)
        .values_list("atena_no", flat=True)
        .first()
    )
    return found or ""


def query_identity(
    actor: Actor,
    *,
    purpose: str,
    juminhyo_code: str | None = None,
    my_number: str | None = None,
    four_items: dict[str, Any] | None = None,
    client: CsClient | None = None,
) -> QueryResult:
    """本人確認情報の照会: send ``identity.query`` to J-LIS and return its matches.

    Refuses (``PermissionDenied``, logged) without ``Perm.JUKINET_IDENTITY_QUERY`` and
    (``FindingsError``) without a purpose or a valid criterion."""
    authorize(actor, Perm.JUKINET_IDENTITY_QUERY, QUERY_FUNCTION)
    query = _check(purpose, juminhyo_code, my_number, four_items)
    exchange = services.call(
        actor,
        KIND,
        query.model_dump(mode="json", exclude_none=True),
        purpose=query.purpose,
        atena_no=_atena_no(query.juminhyo_code),
        client=client,
    )
    if exchange.outcome != "delivered" or exchange.reply is None:
        return QueryResult(
            outcome=exchange.outcome,
            error_code=exchange.error_code,
            error_message=exchange.error_message
            or "全国側（J-LIS）から照会結果を受け取れませんでした。",
            envelope_id=exchange.envelope.id,
        )
    result = IdentityQueryResult.model_validate(exchange.reply.body)
    reveal = actor.can(Perm.MY_NUMBER_READ)
    matches = []
    for identity in result.matches:
        row = identity.model_dump(mode="json")
        if row.get("my_number") and not reveal:
            row["my_number"] = MASK
        matches.append(row)
    shown = reveal and any(m.get("my_number") for m in matches)
    if shown:
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=REVEAL_FUNCTION,
            my_number_accessed=True,
            targets=sorted(m["juminhyo_code"] for m in matches if m.get("my_number")),
            detail={"purpose": query.purpose, "envelope_id": exchange.envelope.id},
        )
    return QueryResult(
        outcome="delivered",
        matches=matches,
        truncated=result.truncated,
        my_number_shown=shown,
        envelope_id=exchange.envelope.id,
    )
