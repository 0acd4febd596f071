"""異動事由: the change reasons of std 1.2.2 (j210), grouped as entry, removal or amendment.

The codes are the system's own (stable, English, used in the database and the CSV layout);
each maps to exactly one of the standard's categories. 「転居取消」 is deliberately absent:
std 1.2.2 lists it under 【実装しない機能】.
"""

from __future__ import annotations

import enum


class ChangeKind(enum.StrEnum):
    """記載 (a record starts), 消除 (a record ends) or 修正 (a record changes)."""

    ENTRY = "entry"
    REMOVAL = "removal"
    AMENDMENT = "amendment"

    @property
    def label(self) -> str:
        return {"entry": "記載", "removal": "消除", "amendment": "修正"}[self.value]


class Applies(enum.StrEnum):
    """Which residents a reason may be used for."""

    ALL = "all"
    JAPANESE = "japanese"
    FOREIGN = "foreign"


class ChangeReason(enum.StrEnum):
    """One code per category of std 1.2.2 (j210)."""

    # 記載の事由
    DOMESTIC_MOVE_IN = "domestic_move_in"
    MOVE_IN_FROM_ABROAD = "move_in_from_abroad"
    BIRTH = "birth"
    EX_OFFICIO_ENTRY_NATURALISATION = "ex_officio_entry_naturalisation"
    EX_OFFICIO_ENTRY_NATIONALITY_LOSS = "ex_officio_entry_nationality_loss"
    EX_OFFICIO_ENTRY = "ex_officio_entry"
    REMAKE_ENTRY = "remake_entry"
    RECREATE_ENTRY = "recreate_entry"
    CANCELLATION_INCREASE = "cancellation_increase"
    # 消除の事由
    DOMESTIC_MOVE_OUT = "domestic_move_out"
    MOVE_OUT_ABROAD = "move_out_abroad"
    DEATH = "death"
    EX_OFFICIO_REMOVAL_NATURALISATION = "ex_officio_removal_naturalisation"
    EX_OFFICIO_REMOVAL_NATIONALITY_LOSS = "ex_officio_removal_nationality_loss"
    EX_OFFICIO_REMOVAL = "ex_officio_removal"
    REMAKE_REMOVAL = "remake_removal"
    RECREATE_REMOVAL = "recreate_removal"
    CANCELLATION_DECREASE = "cancellation_decrease"
    # 修正の事由
    MOVE_WITHIN = "move_within"
    MINOR_CORRECTION = "minor_correction"
    EX_OFFICIO_AMENDMENT = "ex_officio_amendment"
    CLERICAL_ERROR_CORRECTION = "clerical_error_correction"
    MY_NUMBER_CHANGE_REQUEST = "my_number_change_request"
    MY_NUMBER_EX_OFFICIO_AMENDMENT = "my_number_ex_officio_amendment"
    MY_NUMBER_EX_OFFICIO_ENTRY = "my_number_ex_officio_entry"
    JUMINHYO_CODE_CHANGE_REQUEST = "juminhyo_code_change_request"
    JUMINHYO_CODE_EX_OFFICIO_ENTRY = "juminhyo_code_ex_officio_entry"
    HOUSEHOLD_SPLIT = "household_split"
    HOUSEHOLD_MERGE = "household_merge"
    HOUSEHOLD_CHANGE = "household_change"
    HEAD_CHANGE = "head_change"
    FORMER_FAMILY_NAME_ENTRY = "former_family_name_entry"
    FORMER_FAMILY_NAME_CHANGE = "former_family_name_change"
    FORMER_FAMILY_NAME_REMOVAL = "former_family_name_removal"
    ALIAS_ENTRY = "alias_entry"
    ALIAS_REMOVAL = "alias_removal"
    CANCELLATION_AMENDMENT = "cancellation_amendment"

    @property
    def kind(self) -> ChangeKind:
        return _META[self][0]

    @property
    def label(self) -> str:
        """The Japanese name a clerk reads."""
        return _META[self][1]

    @property
    def applies_to(self) -> Applies:
        return _META[self][2]

    def allowed_for(self, *, foreign: bool) -> bool:
        applies = self.applies_to
        if applies is Applies.ALL:
            return True
        return applies is (Applies.FOREIGN if foreign else Applies.JAPANESE)


_E, _R, _A = ChangeKind.ENTRY, ChangeKind.REMOVAL, ChangeKind.AMENDMENT
_ALL, _JP, _FR = Applies.ALL, Applies.JAPANESE, Applies.FOREIGN
CR = ChangeReason

_META: dict[ChangeReason, tuple[ChangeKind, str, Applies]] = {
    CR.DOMESTIC_MOVE_IN: (_E, "国内転入", _ALL),
    CR.MOVE_IN_FROM_ABROAD: (_E, "国外転入等", _ALL),
    CR.BIRTH: (_E, "出生", _ALL),
    CR.EX_OFFICIO_ENTRY_NATURALISATION: (_E, "職権記載（帰化等）", _JP),
    CR.EX_OFFICIO_ENTRY_NATIONALITY_LOSS: (_E, "職権記載（国籍喪失）", _FR),
    CR.EX_OFFICIO_ENTRY: (_E, "職権記載", _ALL),
    CR.REMAKE_ENTRY: (_E, "改製", _ALL),
    CR.RECREATE_ENTRY: (_E, "再製", _ALL),
    CR.CANCELLATION_INCREASE: (_E, "異動の取消し（増）", _ALL),
    CR.DOMESTIC_MOVE_OUT: (_R, "国内転出", _ALL),
    CR.MOVE_OUT_ABROAD: (_R, "国外転出", _ALL),
    CR.DEATH: (_R, "死亡", _ALL),
    CR.EX_OFFICIO_REMOVAL_NATURALISATION: (_R, "職権消除（帰化等）", _FR),
    CR.EX_OFFICIO_REMOVAL_NATIONALITY_LOSS: (_R, "職権消除（国籍喪失）", _JP),
    CR.EX_OFFICIO_REMOVAL: (_R, "職権消除", _ALL),
    CR.REMAKE_REMOVAL: (_R, "改製", _ALL),
    CR.RECREATE_REMOVAL: (_R, "再製", _ALL),
    CR.CANCELLATION_DECREASE: (_R, "異動の取消し（減）", _ALL),
    CR.MOVE_WITHIN: (_A, "転居", _ALL),
    CR.MINOR_CORRECTION: (_A, "軽微な修正", _ALL),
    CR.EX_OFFICIO_AMENDMENT: (_A, "職権修正", _ALL),
    CR.CLERICAL_ERROR_CORRECTION: (_A, "誤記修正", _ALL),
    CR.MY_NUMBER_CHANGE_REQUEST: (_A, "個人番号の変更請求", _ALL),
    CR.MY_NUMBER_EX_OFFICIO_AMENDMENT: (_A, "個人番号の職権修正", _ALL),
    CR.MY_NUMBER_EX_OFFICIO_ENTRY: (_A, "個人番号の職権記載", _ALL),
    CR.JUMINHYO_CODE_CHANGE_REQUEST: (_A, "住民票コードの変更請求", _ALL),
    CR.JUMINHYO_CODE_EX_OFFICIO_ENTRY: (_A, "住民票コードの職権記載", _ALL),
    CR.HOUSEHOLD_SPLIT: (_A, "世帯分離", _ALL),
    CR.HOUSEHOLD_MERGE: (_A, "世帯合併", _ALL),
    CR.HOUSEHOLD_CHANGE: (_A, "世帯変更", _ALL),
    CR.HEAD_CHANGE: (_A, "世帯主変更", _ALL),
    CR.FORMER_FAMILY_NAME_ENTRY: (_A, "旧氏の記載", _ALL),
    CR.FORMER_FAMILY_NAME_CHANGE: (_A, "旧氏の変更", _ALL),
    CR.FORMER_FAMILY_NAME_REMOVAL: (_A, "旧氏の削除", _ALL),
    CR.ALIAS_ENTRY: (_A, "通称の記載", _FR),
    CR.ALIAS_REMOVAL: (_A, "通称の削除", _FR),
    CR.CANCELLATION_AMENDMENT: (_A, "異動の取消し（修正）", _ALL),
}
