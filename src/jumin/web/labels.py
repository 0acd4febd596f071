"""Japanese labels of the procedure input fields and their choices (GLOSSARY names).

The procedure screens are generated from the procedures' pydantic input models; these are
the words a clerk reads for each field. A field without a label here falls back to its
description, and a test fails for any field of a registered procedure left without one.
"""

from __future__ import annotations

from jumin.register.models import ForeignCategory
from jumin.register.procedures.ex_officio import BASIS_LABELS, ITEMS, MINOR_GROUNDS
from jumin.register.procedures.foreign import REMOVAL_KINDS

FIELD_LABELS: dict[str, str] = {
    # dates of the change
    "occurred_on": "異動日",
    "notified_on": "届出日",
    "planned_on": "転出予定年月日",
    "issued_on": "転出証明書の交付日",
    "entered_on": "通称を記載した年月日",
    "removed_on": "通称を削除した年月日",
    "address_set_on": "住所を定めた日",
    "move_in_notice_on": "転入通知年月日",
    "moved_out_on": "転出年月日（確定）",
    "judgment_final_on": "失踪宣告の裁判確定日",
    "deemed_dead_on": "死亡とみなされる日",
    "death_date": "死亡日",
    "stay_expires_on": "在留期間の満了の日",
    # kinds and grounds
    "kind": "種別",
    "basis": "根拠",
    "ground": "軽微な修正の事由",
    "ex_officio": "職権で定める",
    "card_move_out": "特例転出（マイナンバーカード所持者）",
    "household_follow": "世帯員にも反映",
    "keep_alias": "通称を引き継ぐ",
    "previous_address_status": "前住所の状況",
    "reason": "理由",
    "note": "通知の内容",
    # who
    "atena_no": "宛名番号",
    "atena_nos": "宛名番号",
    "persons": "異動者",
    "members": "世帯員",
    "relationships": "世帯員の続柄",
    "household_no": "世帯番号",
    "into_household_no": "異動先の世帯番号",
    "new_head_atena_no": "新しい世帯主の宛名番号",
    "de_facto_head_name": "事実上の世帯主の氏名",
    "koseki_from_atena_no": "本籍・筆頭者を引用する世帯員の宛名番号",
    "changes": "修正する項目",
    "change_id": "取り消す異動の番号",
    "requested": "申出による取消し",
    # addresses
    "address": "住所",
    "address_code": "住所コード",
    "banchi": "番地・号",
    "katagaki": "方書",
    "previous_address": "前住所",
    "previous_address_code": "前住所コード",
    "last_registered_address": "最終登録住所地",
    "certificate": "転出証明書",
    "municipality_code": "市区町村コード",
    "destination": "転出先",
    "moved_out_address": "転出先住所（確定）",
    "country": "国・地域",
    # the person
    "resident_type": "住民の種別",
    "family_name": "氏",
    "given_name": "名",
    "name_alphabet": "氏名（アルファベット）",
    "name_kana": "フリガナ",
    "name_kana_confirmed": "フリガナ確認済み",
    "former_family_name": "旧氏",
    "former_family_name_kana": "旧氏のフリガナ",
    "alias": "通称",
    "alias_kana": "通称のフリガナ",
    "birth_date": "生年月日",
    "sex": "性別",
    "relationship": "続柄",
    "honseki": "本籍",
    "koseki_head": "筆頭者",
    "juminhyo_code": "住民票コード",
    "my_number": "個人番号",
    "nationality": "国籍・地域",
    "foreign_category": "法第30条の45の区分",
    "residence_status": "在留資格",
    "period_of_stay": "在留期間",
    "residence_card_no": "在留カード等の番号",
}

# per field name (or "Model.field" where one name has different choices per procedure)
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "MoveInInput.kind": {
        "domestic": "国内の他市区町村から（転出証明書）",
        "card": "特例転入（マイナンバーカード・転出証明書情報）",
        "abroad": "国外から",
        "unnotified": "未届転入（転出届なし）",
    },
    "Destination.kind": {"domestic": "国内", "abroad": "国外"},
    "MyNumberChangeInput.kind": {
        "request": "請求に基づく変更（番号法第7条第2項）",
        "ex_officio_change": "職権に基づく変更（番号法施行令第4条第1項）",
        "correction": "誤記の職権修正",
    },
    "ImmigrationRemovalInput.kind": dict(REMOVAL_KINDS),
    "basis": dict(BASIS_LABELS),
    "ground": {code: label for code, (label, _items) in MINOR_GROUNDS.items()},
    "resident_type": {"japanese": "日本人住民", "foreign": "外国人住民"},
    "sex": {"1": "男", "2": "女"},
    "previous_address_status": {
        "known": "前住所あり",
        "unknown": "前住所不明",
        "none": "前住所なし",
        "unnotified": "未届（転入届がない）",
    },
    "foreign_category": {"": "（選択してください）", **dict(ForeignCategory.choices)},
}

# the items a correction may name (軽微な修正・職権修正・誤記修正: the procedure decides which)
AMENDABLE_ITEMS: dict[str, str] = {name: item.label for name, item in ITEMS.items()}


def field_label(name: str, description: str | None = None) -> str:
    return FIELD_LABELS.get(name) or (description or name)


def choice_labels(model_name: str, field: str) -> dict[str, str] | None:
    return CHOICE_LABELS.get(f"{model_name}.{field}") or CHOICE_LABELS.get(field)
