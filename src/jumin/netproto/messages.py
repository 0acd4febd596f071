"""The catalogue of message kinds: who receives each, its body and its result (pydantic).

Node codes: a city's CS is its 全国地方公共団体コード (6 digits, e.g. "141500"); the national
side has "jlis" (J-LIS: the nationwide identity-information file, 住民票コード pools, 個人番号
generation, mailing information, relaying between cities) and one prefecture server per
prefecture, "pref-NN" (NN = the first two digits of its cities' codes), which receives the
identity updates of Art. 30-6. Bodies carry only the items each message needs (assessment
§III: the CS holds only what the law names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JLIS = "jlis"


def prefecture_node(municipality_code: str) -> str:
    return f"pref-{municipality_code[:2]}"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


JuminhyoCode = Field(..., pattern=r"^\d{11}$")
MyNumber = Field(None, pattern=r"^\d{12}$")
Municipality = Field(..., pattern=r"^\d{6}$")


class Identity(Body):
    """本人確認情報 (Art. 30-6): the four items, the two numbers, and the change."""

    juminhyo_code: str = JuminhyoCode
    my_number: str | None = MyNumber
    family_name: str = Field("", max_length=100)
    given_name: str = Field("", max_length=100)
    name_alphabet: str = Field("", max_length=200)
    name_kana: str = Field("", max_length=200)
    birth_date: str = Field(..., max_length=64)  # ISO, or the stored text of an uncertain date
    sex: Literal["1", "2"]
    address: str = Field("", max_length=300)
    municipality_code: str = Municipality
    status: Literal["resident", "removed"]
    change_reason: str = Field(..., max_length=40)
    occurred_on: dt.date
    sequence: int = Field(..., ge=1)  # the city's 履歴番号: per-person order


# --- identity.update → pref-NN -----------------------------------------------------------


class IdentityUpdate(Body):
    identity: Identity


class IdentityUpdateResult(Body):
    status: Literal["applied", "stale"]  # stale: a later sequence was already applied


# --- identity.query → jlis ----------------------------------------------------------------


class FourItems(Body):
    name: str = Field("", max_length=200)  # 氏名 (kanji or alphabet); or
    name_kana: str = Field("", max_length=200)
    birth_date: str = Field(..., max_length=64)
    sex: Literal["1", "2"] | None = None
    address: str = Field("", max_length=300)


class IdentityQuery(Body):
    purpose: str = Field(..., min_length=1, max_length=200)  # logged on both sides
    juminhyo_code: str | None = Field(None, pattern=r"^\d{11}$")
    my_number: str | None = MyNumber
    four_items: FourItems | None = None


class IdentityQueryResult(Body):
    matches: list[Identity]
    truncated: bool = False


# --- codes.request → jlis -----------------------------------------------------------------


class CodesRequest(Body):
    count: int = Field(..., ge=1, le=1000)


class CodesResult(Body):
    codes: list[str]


# --- my_number.generate / my_number.change → jlis --------------------------------------------


class MyNumberGenerate(Body):
    juminhyo_code: str = JuminhyoCode


class MyNumberChange(Body):
    juminhyo_code: str = JuminhyoCode
    reason: Literal["request", "ex_officio"]


class MyNumberResult(Body):
    juminhyo_code: str = JuminhyoCode
    my_number: str = Field(..., pattern=r"^\d{12}$")


# --- mailing.info → jlis (送付先情報, for the number notice) ----------------------------------


class MailingInfo(Body):
    """送付先情報: where and to whom J-LIS sends the 個人番号通知書 (番号法第7条第1項). The CS
    sends the items the notice needs — name, address, 方書, birth date, sex, 住民票コード,
    個人番号; ``name_kana``, ``postal_code`` and ``household_head`` are optional (kept for
    senders of protocol v1, which sent them; the CS leaves them empty)."""

    juminhyo_code: str = JuminhyoCode
    my_number: str | None = MyNumber
    name: str = Field(..., min_length=1, max_length=200)
    name_kana: str = Field("", max_length=200)
    postal_code: str = Field("", pattern=r"^(\d{7})?$")
    address: str = Field(..., min_length=1, max_length=300)
    katagaki: str = Field("", max_length=200)
    birth_date: str = Field("", max_length=64)
    sex: Literal["1", "2"] | None = None
    household_head: str = Field("", max_length=200)


class Accepted(Body):
    accepted: bool = True


# --- move_out.info → jlis (転出証明書情報, 特例転出), move_out.fetch → jlis -------------------


class MoveOutPerson(Body):
    juminhyo_code: str = JuminhyoCode
    my_number: str | None = MyNumber
    family_name: str = Field("", max_length=100)
    given_name: str = Field("", max_length=100)
    name_alphabet: str = Field("", max_length=200)
    name_kana: str = Field("", max_length=200)
    birth_date: str = Field(..., max_length=64)
    sex: Literal["1", "2"]
    relationship: str = Field("", max_length=40)
    head_name: str = Field("", max_length=200)
    honseki: str = Field("", max_length=200)
    koseki_head: str = Field("", max_length=100)
    resident_type: Literal["japanese", "foreign"] = "japanese"


class MoveOutInfo(Body):
    """転出証明書情報 (std 4.1.3.0.4, j670): from the old city, for the new one."""

    certificate_id: str = Field(..., min_length=1, max_length=64)  # unique per sending city
    from_municipality: str = Municipality
    to_municipality: str | None = Field(None, pattern=r"^\d{6}$")
    previous_address: str = Field(..., max_length=300)
    planned_on: dt.date
    destination_address: str = Field("", max_length=300)
    persons: list[MoveOutPerson] = Field(..., min_length=1, max_length=30)


class MoveOutFetch(Body):
    juminhyo_code: str = JuminhyoCode


class MoveOutFetchResult(Body):
    found: bool
    info: MoveOutInfo | None = None


# --- move_in.notice → jlis, relayed to the old city (転入通知, Art. 9(1)) ---------------------


class MoveInNotice(Body):
    to_municipality: str = Municipality  # the old city
    from_municipality: str = Municipality  # the new city
    juminhyo_code: str = JuminhyoCode
    certificate_id: str = Field("", max_length=64)
    moved_in_on: dt.date
    new_address: str = Field(..., min_length=1, max_length=300)
    notified_on: dt.date


# --- mailbox.fetch → jlis ---------------------------------------------------------------------


class MailboxFetch(Body):
    after: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=500)


class MailboxItem(Body):
    seq: int
    envelope: dict[str, Any]  # the relayed envelope as sent by its origin
    signature: str  # the origin's signature header: the recipient verifies the origin


class MailboxResult(Body):
    items: list[MailboxItem]
    last: int


class ErrorBody(Body):
    code: str
    message: str


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # Japanese, for logs and screens
    recipient: Literal["jlis", "prefecture"]
    body: type[Body]
    result: type[Body]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "identity.update",
            "本人確認情報の更新",
            "prefecture",
            IdentityUpdate,
            IdentityUpdateResult,
        ),
        Kind("identity.query", "本人確認情報の照会", "jlis", IdentityQuery, IdentityQueryResult),
        Kind("codes.request", "住民票コードの受領", "jlis", CodesRequest, CodesResult),
        Kind("my_number.generate", "個人番号の生成要求", "jlis", MyNumberGenerate, MyNumberResult),
        Kind("my_number.change", "個人番号の変更要求", "jlis", MyNumberChange, MyNumberResult),
        Kind("mailing.info", "送付先情報", "jlis", MailingInfo, Accepted),
        Kind("move_out.info", "転出証明書情報", "jlis", MoveOutInfo, Accepted),
        Kind("move_out.fetch", "転出証明書情報の取得", "jlis", MoveOutFetch, MoveOutFetchResult),
        Kind("move_in.notice", "転入通知", "jlis", MoveInNotice, Accepted),
        Kind("mailbox.fetch", "受信メッセージの取得", "jlis", MailboxFetch, MailboxResult),
    )
}
RELAYED = frozenset({"move_in.notice", "move_out.info"})  # land in a city's mailbox
