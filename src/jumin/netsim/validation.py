"""Japanese messages for a body that does not fit its kind's model (pure Python)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

LABELS = {
    "identity": "本人確認情報",
    "juminhyo_code": "住民票コード",
    "my_number": "個人番号",
    "family_name": "氏",
    "given_name": "名",
    "name": "氏名",
    "name_alphabet": "氏名（アルファベット）",
    "name_kana": "氏名の振り仮名",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
    "municipality_code": "市区町村コード",
    "status": "状態",
    "change_reason": "異動事由",
    "occurred_on": "異動日",
    "sequence": "履歴番号",
    "purpose": "照会の目的",
    "four_items": "基本4情報",
    "count": "件数",
    "reason": "変更の理由",
    "postal_code": "郵便番号",
    "household_head": "世帯主",
    "certificate_id": "証明書番号",
    "from_municipality": "送信元の市区町村コード",
    "to_municipality": "宛先の市区町村コード",
    "previous_address": "転出前の住所",
    "planned_on": "転出予定日",
    "destination_address": "転出先の住所",
    "persons": "対象者",
    "relationship": "続柄",
    "head_name": "世帯主の氏名",
    "honseki": "本籍",
    "koseki_head": "筆頭者",
    "resident_type": "住民の種別",
    "moved_in_on": "転入日",
    "new_address": "転入先の住所",
    "notified_on": "届出日",
    "after": "取得開始番号（after）",
    "limit": "取得件数（limit）",
}


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "body"


def _label(loc: Sequence[int | str]) -> str:
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return "本文"
    return LABELS.get(names[-1], names[-1])


def _reason(error: Any) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "必須の項目がありません。項目を入れて送り直してください"
    if kind == "extra_forbidden":
        return "この電文種別に定義されていない項目です。項目を削除してください"
    if kind == "string_pattern_mismatch":
        return f"形式が正しくありません（正規表現 {ctx.get('pattern', '')}）"
    if kind == "string_too_long":
        return f"長すぎます（{ctx.get('max_length')}文字以内）"
    if kind == "string_too_short":
        return f"短すぎます（{ctx.get('min_length')}文字以上）"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", "、").replace(", ", "、")
        return f"指定できる値は {expected} です"
    if kind.startswith("date_"):
        return "日付（YYYY-MM-DD）ではありません"
    if kind.startswith("int_"):
        return "整数ではありません"
    if kind in {"greater_than_equal", "greater_than"}:
        return f"{ctx.get('ge', ctx.get('gt'))} 以上の値を指定してください"
    if kind in {"less_than_equal", "less_than"}:
        return f"{ctx.get('le', ctx.get('lt'))} 以下の値を指定してください"
    if kind == "too_short":
        return f"{ctx.get('min_length')}件以上を指定してください"
    if kind == "too_long":
        return f"{ctx.get('max_length')}件以内で指定してください"
    if kind in {"string_type", "list_type", "model_type", "dict_type", "model_attributes_type"}:
        return "値の型が正しくありません"
    return str(error.get("msg", "値が正しくありません"))


def describe(exc: ValidationError, kind_label: str) -> str:
    """One Japanese sentence per problem: which field (Japanese name and JSON path), what is
    wrong and how to fix it."""
    parts = []
    for error in exc.errors()[:5]:
        loc = error.get("loc", ())
        parts.append(f"「{_label(loc)}」（{_path(loc)}）: {_reason(error)}")
    more = len(exc.errors()) - 5
    suffix = f"（ほか{more}件）" if more > 0 else ""
    return f"{kind_label}の本文が正しくありません。" + "。".join(parts) + "。" + suffix
