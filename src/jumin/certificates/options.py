"""The options of a certificate request (std 5.1, j1000) and which kind accepts which.

``parse`` turns the request's ``options`` object into :class:`Options`, refusing unknown names
and wrong types with findings that list what may be given. Defaults depend on who asks: the
person and the household get the head and relationship printed unless they ask otherwise; a
third party, a professional and a public body get the basic items only (氏名・生年月日・性別・
住所, 住基法 Art. 12-2 (4), 12-3 (7)) unless they ask for more and state why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jumin.core.findings import Finding, error

COPIES = frozenset({"record_copy", "removed_record_copy"})
STATEMENTS = frozenset({"record_statement", "removed_record_statement"})
MOVE_OUT = frozenset({"move_out_certificate", "equivalent_certificate"})
CODE_NOTICE = frozenset({"juminhyo_code_notice"})
REMOVED_KINDS = frozenset({"removed_record_copy", "removed_record_statement"})

OPTION_LABELS: dict[str, str] = {
    "all_members": "世帯全員を記載",
    "household_form": "世帯連記式（世帯の複数人を1通に連記）",
    "history": "履歴（異動履歴）の記載",
    "head_and_relationship": "世帯主・続柄の記載",
    "honseki": "本籍・筆頭者の記載",
    "juminhyo_code": "住民票コードの記載",
    "my_number": "個人番号の記載",
    "foreign_items": (
        "国籍・地域、法第30条の45の区分、在留資格・在留期間等・満了日、在留カード等の番号の記載"
    ),
    "alias": "通称、通称の記載及び削除に関する事項の記載",
    "furigana": "振り仮名の記載（括弧書き）",
    "katagaki": "方書の記載（省略は記載事項証明書で求められた場合のみ）",
    "statement_items": "証明する事項（記載事項証明書）",
    "statement_text": "請求者が記載した証明を求める事項（記載事項証明書）",
    "statement_checked": "請求者の記載を住民票と照合した（記載事項証明書）",
}

# Which options each kind accepts.
_COMMON = {"head_and_relationship", "honseki", "juminhyo_code", "my_number"}
_COMMON |= {"foreign_items", "alias", "furigana", "all_members"}
ACCEPTED: dict[str, frozenset[str]] = {
    **{k: frozenset(_COMMON | {"household_form", "history"}) for k in COPIES},
    **{
        k: frozenset(
            _COMMON | {"katagaki", "statement_items", "statement_text", "statement_checked"}
        )
        for k in STATEMENTS
    },
    **{k: frozenset({"furigana"}) for k in MOVE_OUT | CODE_NOTICE},
}

STATEMENT_ITEMS: dict[str, str] = {
    "name": "氏名",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
    "head_and_relationship": "世帯主・続柄",
    "honseki": "本籍・筆頭者",
    "became_resident_on": "住民となった年月日",
    "address_set_on": "住所を定めた年月日",
    "notified_on": "届出の年月日",
    "previous_address": "前住所",
    "former_family_name": "旧氏",
    "removal": "消除事由・消除の年月日（除票）",
}
STATEMENT_TEXT_MAX = 1000

_BOOLS = set(OPTION_LABELS) - {"statement_items", "statement_text"}


@dataclass(frozen=True)
class Options:
    all_members: bool = False
    household_form: bool = False
    history: bool = False
    head_and_relationship: bool = True
    honseki: bool = False
    juminhyo_code: bool = False
    my_number: bool = False
    foreign_items: bool = True
    alias: bool = True
    furigana: bool = True
    katagaki: bool = True
    statement_items: tuple[str, ...] = ()
    statement_text: str = ""
    statement_checked: bool = False
    given: frozenset[str] = field(default_factory=frozenset)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: getattr(self, name) for name in OPTION_LABELS if name != "statement_items"
        }
        out["statement_items"] = list(self.statement_items)
        return out


_DEFAULTS: dict[str, Any] = {
    "all_members": False,
    "household_form": False,
    "history": False,
    "head_and_relationship": True,
    "honseki": False,
    "juminhyo_code": False,
    "my_number": False,
    "foreign_items": True,
    "alias": True,
    "furigana": True,
    "katagaki": True,
    "statement_checked": False,
}

BASIC_ONLY_REQUESTERS = frozenset({"third_party", "professional", "public_body"})


def parse(raw: dict[str, Any], kind: str, requester_kind: str) -> tuple[Options, list[Finding]]:
    """The options of ``raw`` for ``kind``; findings for unknown names, wrong types and
    options the kind does not take."""
    findings: list[Finding] = []
    accepted = ACCEPTED.get(kind, frozenset())
    values: dict[str, Any] = {}
    if requester_kind in BASIC_ONLY_REQUESTERS:
        values["head_and_relationship"] = False
        values["foreign_items"] = False
        values["alias"] = False
    for name, value in (raw or {}).items():
        path = f"options.{name}"
        if name not in OPTION_LABELS:
            findings.append(
                error(
                    "options.unknown",
                    f"「{name}」という記載事項の指定はありません。",
                    field="options",
                    remedy="指定できるのは次のとおりです: "
                    + "、".join(f"{k}（{OPTION_LABELS[k]}）" for k in sorted(accepted)),
                )
            )
            continue
        if name == "katagaki" and value is False and name not in accepted:
            findings.append(
                error(
                    "options.katagaki_required",
                    "方書は、記載事項証明書で省略を求められた場合を除き、省略せずに記載します"
                    "（std 5.4）。",
                    field=path,
                    remedy="方書の記載の指定を外してください。",
                )
            )
            continue
        if name not in accepted:
            if value == _DEFAULTS.get(name) or value in ("", [], None):
                continue  # the default of an option the kind does not take
            findings.append(
                error(
                    "options.not_for_kind",
                    f"「{OPTION_LABELS[name]}」はこの証明書では指定できません。",
                    field=path,
                    remedy="この指定を外してください。"
                    + (
                        "指定できるのは: " + "、".join(OPTION_LABELS[k] for k in sorted(accepted))
                        if accepted
                        else ""
                    ),
                )
            )
            continue
        if name in _BOOLS:
            if not isinstance(value, bool):
                findings.append(
                    error(
                        "options.type",
                        f"「{OPTION_LABELS[name]}」は true（記載する）か false（省略する）で"
                        "指定してください。",
                        field=path,
                    )
                )
                continue
            values[name] = value
        elif name == "statement_items":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                findings.append(
                    error(
                        "options.type",
                        "証明する事項は項目名の配列で指定してください。",
                        field=path,
                        remedy="指定できる項目: " + "、".join(STATEMENT_ITEMS),
                    )
                )
                continue
            unknown = [v for v in value if v not in STATEMENT_ITEMS]
            if unknown:
                findings.append(
                    error(
                        "options.unknown_statement_item",
                        f"証明する事項に指定できない項目があります: {'、'.join(unknown)}",
                        field=path,
                        remedy="指定できる項目: "
                        + "、".join(f"{k}（{v}）" for k, v in STATEMENT_ITEMS.items()),
                    )
                )
                continue
            values[name] = tuple(dict.fromkeys(value))
        elif name == "statement_text":
            if not isinstance(value, str):
                findings.append(
                    error("options.type", "証明を求める事項は文字で入力してください。", field=path)
                )
                continue
            text = value.strip()
            if len(text) > STATEMENT_TEXT_MAX:
                findings.append(
                    error(
                        "options.statement_text_too_long",
                        f"証明を求める事項は{STATEMENT_TEXT_MAX}文字以内です（現在{len(text)}文字）。",
                        field=path,
                        remedy="証明を求める事項を分けて、別の証明書として請求してください。",
                    )
                )
                continue
            values[name] = text
    given = frozenset(k for k in (raw or {}) if k in OPTION_LABELS)
    return Options(**values, given=given), findings
