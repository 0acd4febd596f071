"""住民検索 (resident search): std 2.1.1 (j320), 2.1.2 (j330), 2.1.3 (j340).

A member of staff finds persons by any item of the record (std 2.1.3): names in kanji or the
alphabet (異体字 folded, spaces ignored), readings with the fuzzy rules of std 2.1.2 (keys of
:mod:`jumin.core.names`), 旧氏 and 通称, the birth date in 和暦 or 西暦 (a day, a month, a year or
a range), sex, relationship, address, 住所コード, 方書, ward, 宛名番号, 世帯番号, removal reason,
個人番号, 住民票コード and residence-card / special-permanent-resident-certificate number, and
"this item is empty" (データ未入力項目). Removed records (除票) are included unless excluded.
A 転出予定者 (a 転出 committed with a planned date still to come, std 1.1.5 j50) is a resident
until that date: found by a search for residents, not by one for removed records nor by a
消除事由, and returned as a resident with the planned date and destination
(``moving_out_on`` / ``moving_out_to``; the rule is ``jumin.register.status``).
Names and addresses also match the person's past snapshots (std 2.1.3: 過去履歴を含めて検索);
such a person is returned with the current record and ``matched_on_history=True``.

支援措置 (std 3.4 j440, 2.2.4 j380): a person protected by a support measure is listed with
``support_protected=True``. To staff without ``SUPPORT_MEASURE_READ`` the row carries no
address, 方書 nor destination, and a search by address (住所, 住所コード, 方書) leaves protected
persons out altogether — otherwise the match itself would confirm where they live. Their
person and household screens refuse such staff (``jumin.register.reads``).

Staff limited to a ward (``Staff.ward_scope``, std 10.3 j1380 利用範囲) find only residents
whose address is in it, whatever the criteria; criteria on an item of std 10.4 (j1390) —
住民票コード, 在留カード等の番号, or "this item is empty" — need the permission to see the item.

Every search is one logged read (DESIGN invariant 5: the criteria *names* and the count, never
their values nor a 個人番号) and one row of the searcher's own history (std 2.1.1), where a
個人番号 is stored as ``***``.

How the database is used (1,000,000 residents):

* searches compare stored *keys* (``kana_key``, ``name_key`` …) with the key of the query,
  never a function of a column, so the indexes of ``Resident`` / ``ResidentHistory`` apply;
* "starts with" is written as a key range (``key >= p AND key < p'``, p' = p with its last
  character incremented) where the database orders text by code point (SQLite; PostgreSQL
  with the C / POSIX / C.UTF-8 collation) or the value is all ASCII digits: both databases
  use an index for it and estimate it well, whereas ``LIKE 'p%'`` uses no index on SQLite nor
  on PostgreSQL under a collation other than "C". Under another collation it stays
  ``LIKE 'p%'``, so results never depend on the collation;
* partial matches (部分一致) scan, as allowed;
* a name or address criterion over the history is an ``EXISTS`` probe per candidate when an
  exact-day birth date or an identifier narrows the candidates, and otherwise a semi-join
  ``atena_no IN (history rows that match)`` — every current record is also the latest history
  row (ADR 0002), so that set is complete;
* one query fetches the page (plus one row); a capped ``COUNT`` runs only when the page does
  not already tell the total.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from pydantic import BaseModel, ConfigDict, Field, field_validator

from jumin.accounts.actor import Actor
from jumin.accounts.models import OrgUnit
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError, WarekiError
from jumin.core.findings import Finding, Findings, FindingsError, error
from jumin.core.names import kana_exact_key, kana_search_key, validate_name_kana
from jumin.core.relationships import normalise_relationship
from jumin.core.variants import name_search_key, variant_groups
from jumin.core.wareki import Era, parse_any_date, parse_date
from jumin.register import status as resident_status
from jumin.register.models import (
    EncryptedMyNumber,
    Resident,
    ResidentHistory,
    ResidentStatus,
    SearchHistory,
)
from jumin.support import selectors as support_selectors

FUNCTION = "住民検索"
MAX_LIMIT = 500
COUNT_CAP = 1000
"""``total`` is exact up to this many matches (or up to ``offset + limit`` if larger)."""
HISTORY_KEEP = 50
"""Search-history rows kept per member of staff (std 2.1.1 「一定の件数保存」)."""
MASK = "***"

WARDS: dict[str, str] = {"緑区": "14151", "中央区": "14152", "南区": "14153"}
"""Wards of the 指定都市 and the 住所コード prefix (都道府県 2 + 市区町村 3) of each."""

KanaMode = Literal["fuzzy", "exact", "prefix", "partial"]
NameMode = Literal["partial", "prefix", "exact"]
Status = Literal["resident", "removed", "all"]
EmptyField = Literal[
    "name",
    "name_alphabet",
    "name_kana",
    "former_family_name",
    "former_family_name_kana",
    "alias",
    "alias_kana",
    "katagaki",
    "juminhyo_code",
    "my_number",
    "residence_card_no",
]

_LABELS: dict[str, str] = {
    "name": "氏名",
    "name_kana": "氏名の振り仮名",
    "given_name_kana": "名の振り仮名",
    "former_family_name": "旧氏",
    "former_family_name_kana": "旧氏の振り仮名",
    "alias": "通称",
    "alias_kana": "通称の振り仮名",
    "name_alphabet": "氏名（アルファベット）",
    "birth_date": "生年月日",
    "birth_from": "生年月日（から）",
    "birth_to": "生年月日（まで）",
    "my_number": "個人番号",
}

# Criteria that only steer the search; a search needs at least one criterion besides these.
_CONTROL_FIELDS = frozenset(
    {"kana_mode", "name_mode", "status", "ward", "include_history", "limit", "offset"}
)
_OPTIONAL_TEXT = (
    "name",
    "name_kana",
    "given_name_kana",
    "former_family_name",
    "former_family_name_kana",
    "alias",
    "alias_kana",
    "birth_date",
    "birth_from",
    "birth_to",
    "relationship",
    "address",
    "address_code",
    "katagaki",
    "atena_no",
    "household_no",
    "my_number",
    "juminhyo_code",
    "residence_card_no",
)


class SearchCriteria(BaseModel):
    """検索条件. Every item is optional; at least one besides the modes, ``status``, ``ward``,
    ``include_history``, ``limit`` and ``offset`` is required (``search.no_criteria``).

    ``kana_mode`` applies to the readings: ``fuzzy`` (あいまい検索 of std 2.1.2, starts with),
    ``exact`` (完全一致), ``prefix`` (前方一致) and ``partial`` (部分一致) compare the reading as
    written (width, hiragana/katakana, dashes and spaces ignored). Only the full reading has such
    a literal key; the given-name, 旧氏 and 通称 readings are compared on their fuzzy keys
    (``exact`` = equal, ``fuzzy``/``prefix`` = starts with, ``partial`` = contains).
    ``name_mode`` applies to 氏名, 旧氏 and 通称 in kanji or the alphabet (異体字 folded).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, max_length=200, description="氏名（漢字・アルファベット）")
    name_mode: NameMode = Field("partial", description="氏名・旧氏・通称の一致方法")
    name_kana: str | None = Field(None, max_length=200, description="氏名の振り仮名")
    kana_mode: KanaMode = Field("fuzzy", description="振り仮名の一致方法")
    given_name_kana: str | None = Field(None, max_length=100, description="名の振り仮名のみ")
    former_family_name: str | None = Field(None, max_length=100, description="旧氏")
    former_family_name_kana: str | None = Field(None, max_length=100, description="旧氏の振り仮名")
    alias: str | None = Field(None, max_length=200, description="通称")
    alias_kana: str | None = Field(None, max_length=200, description="通称の振り仮名")
    birth_date: str | None = Field(
        None, max_length=64, description="生年月日（和暦・西暦。日・年月・年だけも可）"
    )
    birth_from: str | None = Field(None, max_length=64, description="生年月日の範囲（から）")
    birth_to: str | None = Field(None, max_length=64, description="生年月日の範囲（まで）")
    sex: Literal["1", "2"] | None = Field(None, description="性別（1: 男, 2: 女）")
    relationship: str | None = Field(None, max_length=40, description="続柄")
    address: str | None = Field(None, max_length=300, description="住所（部分一致）")
    address_code: str | None = Field(None, max_length=11, description="住所コード（前方一致）")
    katagaki: str | None = Field(None, max_length=200, description="方書（部分一致）")
    ward: Literal["緑区", "中央区", "南区"] | None = Field(None, description="区")
    atena_no: str | None = Field(None, max_length=10, description="宛名番号")
    household_no: str | None = Field(None, max_length=10, description="世帯番号")
    removal_reason: ChangeReason | None = Field(None, description="消除事由")
    status: Status = Field(
        "all",
        description="resident: 住民のみ（転出予定者を含む）, removed: 消除者のみ, all: 両方",
    )
    my_number: str | None = Field(None, max_length=14, description="個人番号（完全一致）")
    juminhyo_code: str | None = Field(None, max_length=11, description="住民票コード")
    residence_card_no: str | None = Field(
        None, max_length=12, description="在留カード番号・特別永住者証明書番号"
    )
    empty_fields: list[EmptyField] = Field(
        default_factory=list, max_length=11, description="未入力の項目で検索"
    )
    include_history: bool = Field(True, description="氏名・住所は過去の履歴も検索する")
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=100_000)

    @field_validator(*_OPTIONAL_TEXT, mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def used_keys(self) -> list[str]:
        """The criteria given (names only, for the log), in field order."""
        out = []
        for name in type(self).model_fields:
            if name in _CONTROL_FIELDS:
                continue
            value = getattr(self, name)
            if value is not None and value != []:
                out.append(name)
        return out

    def masked(self) -> dict[str, Any]:
        """The criteria as stored in the search history: the 個人番号 as ``***``."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        if "my_number" in data:
            data["my_number"] = MASK
        return data

    @classmethod
    def from_history(cls, criteria: dict[str, Any]) -> SearchCriteria:
        """Criteria of a search-history row for a new search (std 2.1.1). A masked 個人番号
        is dropped: it must be typed again."""
        data = {k: v for k, v in criteria.items() if not (k == "my_number" and v == MASK)}
        return cls.model_validate(data)


@dataclass(frozen=True)
class SearchRow:
    """One person found: the current record (or the 除票). A 転出予定者 is a resident
    (``status`` ``resident``, no ``removal_reason``) with ``moving_out_on`` and
    ``moving_out_to`` set."""

    atena_no: str
    household_no: str
    name: str
    name_kana: str
    birth_date: dt.date
    birth_date_text: str
    sex: str
    address: str
    katagaki: str
    status: str
    removal_reason: str
    relationship: str
    matched_on_history: bool
    moving_out_on: dt.date | None = None
    moving_out_to: str | None = None
    removed_on: dt.date | None = None  # 消除の事由が生じた年月日 of a 除票
    support_protected: bool = False  # 支援措置対象 (address withheld from most staff)


@dataclass(frozen=True)
class SearchResult:
    """``total`` counts the matches up to a cap (:data:`COUNT_CAP`, or ``offset + limit``);
    ``truncated`` is True when more persons match than this page returns."""

    rows: list[SearchRow]
    total: int
    truncated: bool


# --------------------------------------------------------------------------- public API


def search_residents(actor: Actor, criteria: SearchCriteria) -> SearchResult:
    """Find persons (std 2.1.3, j340). Needs ``Perm.RESIDENT_SEARCH``; logs one 照会 entry
    with the persons returned and saves the criteria to the searcher's history."""
    authorize(actor, Perm.RESIDENT_SEARCH, FUNCTION)
    keys = criteria.used_keys()
    _authorize_items(actor, criteria)
    findings = Findings()
    scope = ward_scope(actor)
    if scope and criteria.ward is not None and criteria.ward != scope:
        raise FindingsError(
            [
                error(
                    "search.outside_ward",
                    f"担当区（{scope}）以外の区は検索できません。",
                    field="ward",
                    remedy=f"区を「{scope}」にするか、指定をはずして検索してください。",
                )
            ]
        )
    if not keys:
        findings.add(
            error(
                "search.no_criteria",
                "検索条件が入力されていません。区・状態のほかに、氏名・振り仮名・生年月日・"
                "住所などの検索条件を1つ以上入力してください。",
                remedy="検索条件を1つ以上入力してください。",
            )
        )
        raise FindingsError(findings)
    day = resident_status.today()
    terms = _terms(criteria, findings, day)
    if findings:
        raise FindingsError(findings)
    qs = _queryset(criteria, terms, day)
    if scope:
        # forced, whatever the criteria: staff limited to a ward find only its residents
        prefix = WARDS.get(scope)
        qs = qs.filter(_prefix_q("address_code", prefix)) if prefix else qs.none()
    sees_support = actor.can(Perm.SUPPORT_MEASURE_READ)
    if not sees_support and _ADDRESS_CRITERIA.intersection(keys):
        qs = qs.exclude(atena_no__in=support_selectors.protected_atena_nos())
    offset, limit = criteria.offset, criteria.limit
    page = list(qs.values(*_ROW_FIELDS)[offset : offset + limit + 1])
    more = len(page) > limit
    page = page[:limit]
    if not more and (offset == 0 or page):
        total = offset + len(page)
    else:
        cap = max(COUNT_CAP, offset + limit)
        total = min(qs.order_by().values("pk")[: cap + 1].count(), cap)
        more = more or total > offset + len(page)
    rows = _mark_protected([_row(values, day) for values in page], sees_support)
    flagged = sum(1 for r in rows if r.support_protected)
    with transaction.atomic():
        audit.record(
            actor,
            category=Category.INQUIRY,
            function=FUNCTION,
            targets=[r.atena_no for r in rows],
            my_number_accessed="my_number" in keys,  # std 10.2: 個人番号へのアクセス有無
            detail={
                "criteria": keys,
                "kana_mode": criteria.kana_mode,
                "name_mode": criteria.name_mode,
                "status": criteria.status,
                "ward": criteria.ward or "",
                **({"ward_scope": scope} if scope else {}),
                "include_history": criteria.include_history,
                "count": total,
                "returned": len(rows),
                **({"support_protected": flagged} if flagged else {}),
            },
        )
        _remember(actor, criteria, total)
    return SearchResult(rows=rows, total=total, truncated=more)


# std 10.4 (j1390): searching by an item (or by its being empty) tells about it, so only
# staff allowed to see the item may use it as a criterion.
_ITEM_CRITERIA: dict[str, Perm] = {
    "juminhyo_code": Perm.JUMINHYO_CODE_READ,
    "residence_card_no": Perm.RESIDENCE_STATUS_READ,
}


def allowed_criteria(actor: Actor) -> frozenset[str]:
    """The item criteria (and ``empty_fields`` values) of :data:`_ITEM_CRITERIA` that
    ``actor`` may use; the others are refused (logged) by :func:`search_residents`."""
    return frozenset(name for name, perm in _ITEM_CRITERIA.items() if actor.can(perm))


def _authorize_items(actor: Actor, criteria: SearchCriteria) -> None:
    used = {k for k in _ITEM_CRITERIA if getattr(criteria, k) is not None}
    used |= {k for k in criteria.empty_fields if k in _ITEM_CRITERIA}
    for name in sorted(used):
        authorize(actor, _ITEM_CRITERIA[name], FUNCTION)


def search_history(actor: Actor, limit: int = 20) -> list[SearchHistory]:
    """The acting member of staff's own recent searches, newest first (std 2.1.1, j320)."""
    authorize(actor, Perm.RESIDENT_SEARCH, "検索履歴の表示")
    if actor.staff is None:
        return []
    limit = max(1, min(limit, HISTORY_KEEP))
    return list(
        SearchHistory.objects.filter(staff=actor.staff).order_by("-searched_at", "-id")[:limit]
    )


def ward_scope(actor: Actor) -> str:
    """The ward a member of staff is limited to (``Staff.ward_scope``; "" = the whole city).
    Unlike :func:`default_ward`, a limit: searches and reads outside it are refused."""
    if actor.staff is None:
        return ""
    return actor.staff.ward_scope or ""


def in_ward(address_code: str, ward: str) -> bool:
    """Whether a 住所コード lies in ``ward`` (an unknown ward holds nobody: fail closed)."""
    prefix = WARDS.get(ward)
    return prefix is not None and (address_code or "").startswith(prefix)


def default_ward(actor: Actor) -> str | None:
    """The ward a 区役所 member of staff searches by default (std 2.1.3: 操作者の所属により管轄区を
    自動判定): the ward they are limited to, else the ward named by the terminal's or the
    staff member's org unit (or a parent)."""
    if scope := ward_scope(actor):
        return scope
    units = []
    if actor.terminal is not None:
        units.append(actor.terminal.org_unit)
    if actor.staff is not None:
        units.append(actor.staff.org_unit)
    for start in units:
        unit: OrgUnit | None = start
        for _ in range(5):
            if unit is None:
                break
            for ward in WARDS:
                if ward in unit.name:
                    return ward
            unit = unit.parent
    return None


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class _Term:
    """One criterion as a condition on the record fields (shared by Resident and its
    history). ``history``: also matched against past snapshots; ``anchor``: selective and
    indexed on Resident; ``history_indexed``: indexed on ResidentHistory."""

    key: str
    q: Q
    history: bool = False
    anchor: bool = False
    history_indexed: bool = False


def _terms(c: SearchCriteria, findings: Findings, day: dt.date | None = None) -> list[_Term]:
    day = day or resident_status.today()
    terms: list[_Term] = []
    names_mode = c.name_mode

    if c.name is not None:
        key = name_search_key(c.name)
        if key:
            q = _text_q("name_key", key, names_mode)
            latin = _is_latin(c.name)
            if latin:
                # A foreign resident with a kanji name keeps the alphabet name beside it.
                q |= _alphabet_q(c.name, names_mode)
            indexed = names_mode != "partial" and not latin
            terms.append(_Term("name", q, history=True, history_indexed=indexed))
        else:
            findings.add(_empty_key("name"))
    if c.name_kana is not None and _kana_ok(c.name_kana, "name_kana", findings):
        kana_q = _full_kana_q(c.name_kana, c.kana_mode)
        if kana_q is None:
            findings.add(_empty_key("name_kana"))
        else:
            terms.append(
                _Term("name_kana", kana_q, history=True, history_indexed=c.kana_mode != "partial")
            )
    for key, column in (
        ("given_name_kana", "given_kana_key"),
        ("former_family_name_kana", "former_kana_key"),
        ("alias_kana", "alias_kana_key"),
    ):
        value = getattr(c, key)
        if value is None or not _kana_ok(value, key, findings):
            continue
        fuzzy = kana_search_key(value)
        if not fuzzy:
            findings.add(_empty_key(key))
            continue
        terms.append(_Term(key, _fuzzy_key_q(column, fuzzy, c.kana_mode), history=True))
    for key in ("former_family_name", "alias"):
        value = getattr(c, key)
        if value is not None:
            terms.append(_Term(key, _variant_text_q(key, value, names_mode), history=True))

    birth = _birth_terms(c, findings)
    terms.extend(birth)

    if c.sex is not None:
        terms.append(_Term("sex", Q(sex=c.sex)))
    if c.relationship is not None:
        terms.append(_Term("relationship", Q(relationship=normalise_relationship(c.relationship))))
    if c.address is not None:
        terms.append(
            _Term("address", _contains_any("address", _width_variants(c.address)), history=True)
        )
    if c.address_code is not None:
        code = unicodedata.normalize("NFKC", c.address_code)
        if not code.isdigit():
            findings.add(
                error(
                    "address_code.digits",
                    "住所コードは数字（11桁まで、前方一致）で入力してください。",
                    field="address_code",
                )
            )
        else:
            terms.append(
                _Term(
                    "address_code",
                    _prefix_q("address_code", code),
                    history=True,
                    history_indexed=True,
                )
            )
    if c.katagaki is not None:
        terms.append(
            _Term("katagaki", _contains_any("katagaki", _width_variants(c.katagaki)), history=True)
        )
    if c.ward is not None:
        terms.append(_Term("ward", _prefix_q("address_code", WARDS[c.ward])))
    for key in ("atena_no", "household_no", "juminhyo_code"):
        value = getattr(c, key)
        if value is not None:
            terms.append(_Term(key, Q(**{key: unicodedata.normalize("NFKC", value)}), anchor=True))
    if c.residence_card_no is not None:
        card = unicodedata.normalize("NFKC", c.residence_card_no).replace(" ", "").upper()
        terms.append(_Term("residence_card_no", Q(residence_card_no=card), anchor=True))
    if c.removal_reason is not None:
        # a 消除事由 of a removal in effect: not a 転出予定者
        terms.append(
            _Term(
                "removal_reason",
                Q(removal_reason=c.removal_reason.value) & resident_status.removed_on_q(day),
            )
        )
    if c.my_number is not None:
        term = _my_number_term(c.my_number, findings)
        if term is not None:
            terms.append(term)
    for name in dict.fromkeys(c.empty_fields):
        terms.append(_Term(f"empty:{name}", _EMPTY[name]))
    return terms


_EMPTY: dict[str, Q] = {
    "name": Q(family_name="", given_name=""),
    "name_alphabet": Q(name_alphabet=""),
    "name_kana": Q(name_kana=""),
    "former_family_name": Q(former_family_name=""),
    "former_family_name_kana": Q(former_family_name_kana=""),
    "alias": Q(alias=""),
    "alias_kana": Q(alias_kana=""),
    "katagaki": Q(katagaki=""),
    "juminhyo_code": Q(juminhyo_code=""),
    "my_number": Q(my_number__isnull=True),
    "residence_card_no": Q(residence_card_no=""),
}


def _empty_key(field: str) -> Finding:
    label = _LABELS.get(field, field)
    return error(
        f"{field}.no_characters",
        f"{label}の検索文字に、検索に使える文字がありません（空白・記号・長音だけです）。",
        field=field,
        remedy=f"{label}を文字で入力してください。",
    )


def _is_latin(text: str) -> bool:
    narrow = unicodedata.normalize("NFKC", text)
    return any(ch.isalpha() for ch in narrow) and all(
        ch.isascii() and (ch.isalpha() or not ch.isalnum()) for ch in narrow
    )


def _alphabet_q(text: str, mode: NameMode) -> Q:
    value = " ".join(unicodedata.normalize("NFKC", text).split())
    lookup = {"exact": "iexact", "prefix": "istartswith", "partial": "icontains"}[mode]
    return Q(**{f"name_alphabet__{lookup}": value})


def _kana_ok(value: str, field: str, findings: Findings) -> bool:
    """A reading typed as a search: katakana, hiragana or half-width kana (std 2.1.2)."""
    try:
        validate_name_kana(value, field=field)
    except CoreError as exc:
        findings.add(error(exc.code, exc.message, field=field))
        return False
    return True


def _full_kana_q(value: str, mode: KanaMode) -> Q | None:
    exact = kana_exact_key(value)
    fuzzy = kana_search_key(value)
    if not exact or not fuzzy:
        return None
    if mode == "fuzzy":
        return _prefix_q("kana_key", fuzzy)
    if mode == "exact":
        # kana_key is a function of kana_exact: equal literal keys have equal fuzzy keys,
        # so the indexed column narrows the search first.
        return Q(kana_key=fuzzy, kana_exact=exact)
    if mode == "prefix":
        # The fuzzy key of a prefix is a prefix of the fuzzy key, except that a trailing ヴ
        # can join a following small vowel (ヴ+ァ → バ): leave it out of the indexed range.
        head = kana_search_key(exact.rstrip("ヴ"))
        q = Q(kana_exact__startswith=exact)
        return (_prefix_q("kana_key", head) & q) if head else q
    return Q(kana_exact__contains=exact)


def _fuzzy_key_q(column: str, fuzzy: str, mode: KanaMode) -> Q:
    if mode == "exact":
        return Q(**{column: fuzzy})
    if mode == "partial":
        return Q(**{f"{column}__contains": fuzzy})
    return _prefix_q(column, fuzzy)


def _text_q(column: str, key: str, mode: NameMode) -> Q:
    if mode == "exact":
        return Q(**{column: key})
    if mode == "prefix":
        return _prefix_q(column, key)
    return Q(**{f"{column}__contains": key})


def _prefix_q(column: str, prefix: str) -> Q:
    """``column`` starts with ``prefix``: a key range where the database orders text by code
    point (exact, indexed, and well estimated by the planner), else ``LIKE 'prefix%'``."""
    if prefix and ((prefix.isascii() and prefix.isdigit()) or _codepoint_collation()):
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return Q(**{f"{column}__gte": prefix, f"{column}__lt": upper})
    return Q(**{f"{column}__startswith": prefix})


_COLLATION_CACHE: dict[tuple[str, str], bool] = {}


def _codepoint_collation() -> bool:
    """True when the database compares text by code point, so a prefix is a key range."""
    if connection.vendor == "sqlite":
        return True  # BINARY collation: memcmp of UTF-8, i.e. code-point order
    if connection.vendor != "postgresql":
        return False
    cache_key = (connection.alias, str(connection.settings_dict.get("NAME")))
    cached = _COLLATION_CACHE.get(cache_key)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT datcollate, to_jsonb(d) ->> 'datlocprovider' FROM pg_database d "
                "WHERE datname = current_database()"
            )
            row = cursor.fetchone()
        collate, provider = row or ("", "")
        cached = (provider in (None, "c", "b")) and str(collate).upper() in {
            "C",
            "POSIX",
            "C.UTF-8",
            "C.UTF8",
        }
        _COLLATION_CACHE[cache_key] = cached
    return cached


def _width_variants(text: str) -> list[str]:
    """The text as typed, with ASCII digits/letters, and with full-width ones (住所・方書 are
    stored as entered: 2丁目 or ２丁目)."""
    narrow = unicodedata.normalize("NFKC", text)
    wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in narrow)
    return list(dict.fromkeys([text, narrow, wide]))


def _contains_any(column: str, values: Iterable[str]) -> Q:
    # icontains, not contains: SQLite's LIKE ignores ASCII case and PostgreSQL's does not;
    # both databases must give the same result (A棟 / a棟).
    q = Q()
    for value in values:
        q |= Q(**{f"{column}__icontains": value})
    return q


_MAX_SPELLINGS = 32


def _variant_spellings(text: str) -> list[str]:
    """``text`` with each kanji replaced by each of its variants (std 2.1.2 異体字検索), for
    items with no stored search key (旧氏, 通称); at most :data:`_MAX_SPELLINGS`."""
    groups = _variant_lookup()
    options = [groups.get(ch, (ch,)) for ch in text]
    out = []
    for combo in itertools.product(*options):
        out.append("".join(combo))
        if len(out) >= _MAX_SPELLINGS:
            break
    return out


_GROUP_CACHE: dict[str, tuple[str, ...]] = {}


def _variant_lookup() -> dict[str, tuple[str, ...]]:
    if not _GROUP_CACHE:
        for canonical, variants in variant_groups().items():
            members = (canonical, *variants)
            for ch in members:
                _GROUP_CACHE[ch] = members
    return _GROUP_CACHE


def _variant_text_q(column: str, value: str, mode: NameMode) -> Q:
    spellings = _variant_spellings(value)
    q = Q()
    lookup = {"exact": "iexact", "prefix": "istartswith", "partial": "icontains"}[mode]
    for spelling in spellings:
        q |= Q(**{f"{column}__{lookup}": spelling})
    return q


def _my_number_term(value: str, findings: Findings) -> _Term | None:
    from jumin.register.crypto import my_number_lookup_hash

    try:
        digest = my_number_lookup_hash(value)
    except CoreError as exc:
        # The core message repeats the input; a 個人番号 (even a mistyped one) is not echoed.
        findings.add(
            error(
                exc.code,
                "個人番号が正しくありません。12桁の数字で、検査数字（最後の1桁）も含めて"
                "入力してください。",
                field="my_number",
                remedy="個人番号を書類と照合して入力し直してください。",
            )
        )
        return None
    ids = EncryptedMyNumber.objects.filter(lookup_hash=digest).values("pk")
    return _Term("my_number", Q(my_number_id__in=ids), anchor=True)


# --------------------------------------------------------------------------- birth dates

_ERA_LABELS = "|".join(
    sorted(
        {label for era in Era for label in (era.kanji, era.kanji[0], era.letter)},
        key=len,
        reverse=True,
    )
)
_YEAR_MONTH = re.compile(
    rf"(?:(?P<era>{_ERA_LABELS})(?P<ey>[0-9]{{1,2}}|元)|(?P<wy>[0-9]{{4}}))"
    r"(?:年|[./-])?(?:(?P<m>[0-9]{1,2})月?)?"
)


def birth_period(text: str) -> tuple[dt.date, dt.date]:
    """The days a birth-date criterion means: a day (和暦 or 西暦, any form of
    :func:`jumin.core.wareki.parse_date`), a month (``S50.4``, ``1975年4月``), a year (``S50``,
    ``昭和50年``, ``1975``: std 2.1.3, 西暦と和暦はそれぞれ対応する年に置き換えて検索), or an
    uncertain date of std 1.1.8 (``昭和50年頃``). Raises :class:`CoreError`."""
    try:
        day = parse_date(text)
    except CoreError as exc:
        first_error = exc
    else:
        return day, day
    cleaned = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
    match = _YEAR_MONTH.fullmatch(cleaned)
    if match:
        if match["era"]:
            era = Era.from_label(match["era"])
            year = 1 if match["ey"] == "元" else int(match["ey"])
            last_year = era.last_year
            if year < 1 or (last_year is not None and year > last_year):
                span = f"元年から{last_year}年まで" if last_year is not None else "元年から"
                raise WarekiError(
                    "wareki.year_range",
                    f"年月日「{text.strip()}」の年が元号の範囲外です。{era.kanji}は{span}です。",
                )
            gyear = era.start.year + year - 1
        else:
            gyear = int(match["wy"])
            if gyear < 1:
                raise first_error
        if match["m"] is None:
            return dt.date(gyear, 1, 1), dt.date(gyear, 12, 31)
        month = int(match["m"])
        if not 1 <= month <= 12:
            raise first_error
        following = dt.date(gyear + month // 12, month % 12 + 1, 1)
        return dt.date(gyear, month, 1), following - dt.timedelta(days=1)
    try:
        period = parse_any_date(text).period()
    except CoreError:
        raise first_error from None
    if period[0] == dt.date.min:  # 年月日不詳: no day to search by
        raise first_error
    return period


def _birth_terms(c: SearchCriteria, findings: Findings) -> list[_Term]:
    def parse(field: str) -> tuple[dt.date, dt.date] | None:
        value = getattr(c, field)
        if value is None:
            return None
        try:
            return birth_period(value)
        except CoreError as exc:
            label = _LABELS[field]
            findings.add(
                error(
                    exc.code,
                    exc.message.replace("年月日", label, 1),
                    field=field,
                    remedy="「S50.4.1」「昭和50年4月1日」「1975-04-01」、年だけなら「S50」「1975」"
                    "などの形式で入力してください。",
                )
            )
            return None

    terms: list[_Term] = []
    day = parse("birth_date")
    if day is not None:
        first, last = day
        if first == last:
            terms.append(_Term("birth_date", Q(birth_date=first), anchor=True))
        else:
            terms.append(_Term("birth_date", Q(birth_date__gte=first, birth_date__lte=last)))
    start, end = parse("birth_from"), parse("birth_to")
    if start is not None and end is not None and start[0] > end[1]:
        findings.add(
            error(
                "birth_range.order",
                "生年月日の範囲の「から」が「まで」より後になっています。",
                field="birth_from",
                remedy="範囲の始まりと終わりを入れ替えてください。",
            )
        )
        return terms
    if start is not None:
        terms.append(_Term("birth_from", Q(birth_date__gte=start[0])))
    if end is not None:
        terms.append(_Term("birth_to", Q(birth_date__lte=end[1])))
    return terms


# --------------------------------------------------------------------------- the query

_ROW_FIELDS = (
    "atena_no",
    "household_no",
    "family_name",
    "given_name",
    "name_alphabet",
    "name_kana",
    "birth_date",
    "birth_date_text",
    "sex",
    "address",
    "katagaki",
    "status",
    "removal_reason",
    "relationship",
    "removed_on",
    "moved_out_planned_on",
    "moved_out_planned_address",
    "notified_on",
    "current_match",
)


def _queryset(
    c: SearchCriteria, terms: list[_Term], day: dt.date | None = None
) -> QuerySet[Resident]:
    day = day or resident_status.today()
    qs = Resident.objects.all()
    if c.status == "resident":
        qs = qs.filter(resident_status.resident_on_q(day))
    elif c.status == "removed":
        qs = qs.filter(resident_status.removed_on_q(day))
    on_history = [t for t in terms if t.history] if c.include_history else []
    for term in terms:
        if not any(term is t for t in on_history):
            qs = qs.filter(term.q)
    if not on_history:
        return qs.annotate(current_match=_true()).order_by(*_ORDER)
    anchored = any(t.anchor for t in terms)
    driver = None
    if not anchored:
        driver = next((t for t in on_history if t.history_indexed), on_history[0])
    for term in on_history:
        if term is driver:
            # Every current record is also its person's latest history row (ADR 0002), so
            # the history rows alone find every person matching now or in the past.
            qs = qs.filter(atena_no__in=ResidentHistory.objects.filter(term.q).values("atena_no"))
        else:
            # One probe per candidate through (atena_no, history_no). The always-true
            # "history_no <= the current history_no" keeps the probe per row: without it
            # PostgreSQL may hash the whole subquery (every history row with that key) when
            # it underestimates a prefix range, which costs far more than the candidates.
            past = ResidentHistory.objects.filter(
                term.q,
                atena_no=OuterRef("atena_no"),
                history_no__lte=OuterRef("history_no"),
            )
            qs = qs.filter(term.q | Exists(past))
    now = Q()
    for term in on_history:
        now &= term.q
    return qs.annotate(current_match=ExpressionWrapper(now, output_field=BooleanField())).order_by(
        *_ORDER
    )


_ORDER = ("kana_exact", "birth_date", "atena_no")


def _true() -> Value:
    return Value(True, output_field=BooleanField())


def _row(values: dict[str, Any], day: dt.date) -> SearchRow:
    names = [p for p in (values["family_name"], values["given_name"]) if p]
    record = _Values(values)
    pending = resident_status.moving_out_on(record, day) is not None
    moving_out = resident_status.moving_out(record, day)
    return SearchRow(
        atena_no=values["atena_no"],
        household_no=values["household_no"],
        name="　".join(names) if names else values["name_alphabet"],
        name_kana=values["name_kana"],
        birth_date=values["birth_date"],
        birth_date_text=values["birth_date_text"],
        sex=values["sex"],
        address=values["address"],
        katagaki=values["katagaki"],
        status=ResidentStatus.RESIDENT.value if pending else values["status"],
        removal_reason="" if pending else values["removal_reason"],
        relationship=values["relationship"],
        matched_on_history=not values["current_match"],
        moving_out_on=moving_out.on if moving_out else None,
        moving_out_to=moving_out.to if moving_out else None,
        removed_on=None if pending else values["removed_on"],
    )


_ADDRESS_CRITERIA = frozenset({"address", "address_code", "katagaki"})


def _mark_protected(rows: list[SearchRow], sees_support: bool) -> list[SearchRow]:
    """支援措置: flag the protected persons; withhold their address from staff without
    ``SUPPORT_MEASURE_READ``. One query for the page."""
    protected = support_selectors.protected_among(r.atena_no for r in rows)
    if not protected:
        return rows
    out = []
    for row in rows:
        if row.atena_no not in protected:
            out.append(row)
        elif sees_support:
            out.append(replace(row, support_protected=True))
        else:
            out.append(
                replace(row, support_protected=True, address="", katagaki="", moving_out_to=None)
            )
    return out


class _Values:
    """A row of ``values()`` read by attribute, for the rules of ``jumin.register.status``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _remember(actor: Actor, criteria: SearchCriteria, total: int) -> None:
    """std 2.1.1 (j320): keep the criteria (never the results) in the searcher's history."""
    if actor.staff is None:
        return
    SearchHistory.objects.create(staff=actor.staff, criteria=criteria.masked(), result_count=total)
    oldest_kept = (
        SearchHistory.objects.filter(staff=actor.staff)
        .order_by("-searched_at", "-id")
        .values_list("id", flat=True)[HISTORY_KEEP - 1 : HISTORY_KEEP]
    )
    cutoff = next(iter(oldest_kept), None)
    if cutoff is not None:
        SearchHistory.objects.filter(staff=actor.staff, id__lt=cutoff).delete()


__all__ = [
    "COUNT_CAP",
    "MAX_LIMIT",
    "WARDS",
    "SearchCriteria",
    "SearchResult",
    "SearchRow",
    "allowed_criteria",
    "birth_period",
    "default_ward",
    "in_ward",
    "search_history",
    "search_residents",
    "ward_scope",
]
