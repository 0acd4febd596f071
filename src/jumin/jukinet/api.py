"""The CS's HTTP API, mounted at ``/api/cs/`` by ``jumin.config.api``.

``POST /api/cs/identity-query``: 本人確認情報の照会 to J-LIS (std 7.1.1) with a stated purpose,
logged on both sides. 200 with the matches (the 個人番号 masked unless the caller may see it);
422 ``validation_failed`` without a purpose or a criterion; 403 without the permission;
502 ``national_refused`` when J-LIS refused the query; 503 ``national_unreachable`` when it
could not be reached (nothing to retry here: the query is logged as not answered).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from jumin.accounts.permissions import Perm
from jumin.config.api import actor_from_request, problem, requires
from jumin.jukinet import queries

router = Router(tags=["住基ネット (CS)"])


class FourItemsIn(Schema):
    name: str = Field("", max_length=200)
    name_kana: str = Field("", max_length=200)
    birth_date: str = Field(..., max_length=64)
    sex: str | None = Field(None, pattern=r"^[12]$")
    address: str = Field("", max_length=300)


class IdentityQueryIn(Schema):
    purpose: str = Field("", max_length=200, description="照会の目的（必須・操作ログに記録）")
    juminhyo_code: str | None = None
    my_number: str | None = None
    four_items: FourItemsIn | None = None


class IdentityOut(Schema):
    juminhyo_code: str
    my_number: str | None = None
    family_name: str = ""
    given_name: str = ""
    name_alphabet: str = ""
    name_kana: str = ""
    birth_date: str
    sex: str
    address: str = ""
    municipality_code: str
    status: str
    change_reason: str
    occurred_on: str
    sequence: int


class IdentityQueryOut(Schema):
    matches: list[IdentityOut]
    truncated: bool
    my_number_shown: bool
    envelope_id: str


@router.post("/identity-query", response=IdentityQueryOut)
@requires(Perm.JUKINET_IDENTITY_QUERY)
def identity_query(request: HttpRequest, payload: IdentityQueryIn) -> Any:
    """本人確認情報の照会（J-LIS）: by 住民票コード, 個人番号 or the four items."""
    four = payload.four_items.model_dump(exclude_none=True) if payload.four_items else None
    result = queries.query_identity(
        actor_from_request(request),
        purpose=payload.purpose,
        juminhyo_code=payload.juminhyo_code,
        my_number=payload.my_number,
        four_items=four,
    )
    if not result.answered:
        refused = result.outcome == "refused"
        response: HttpResponse = problem(
            request,
            502 if refused else 503,
            "national_refused" if refused else "national_unreachable",
            result.error_message,
            envelope_id=result.envelope_id,
            national_code=result.error_code,
        )
        return response
    return {
        "matches": result.matches,
        "truncated": result.truncated,
        "my_number_shown": result.my_number_shown,
        "envelope_id": result.envelope_id,
    }
