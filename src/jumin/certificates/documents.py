"""What each certificate prints: register records and options → :class:`render.Document`.

The records come from the logged reads (``jumin.register.reads``): only committed data, and for
a 転出予定者 the record in force today — without the items the 転出届 recorded (std 5.1 j1000:
before the planned date the planned move-out is not printed). Dates are printed in 和暦, a
foreign resident's birth date and expiry of stay in the Western calendar (std 1.1.9 j90); an
uncertain date as recorded (std 1.1.8 j80). 振り仮名 follow the name in brackets (std 5.3 j1020);
the 方書 follows the address on every certificate, omitted only from a 記載事項証明書 when asked
(std 5.4 j1030).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jumin.certificates.options import MOVE_OUT, REMOVED_KINDS, STATEMENT_ITEMS, Options
from jumin.certificates.render import Block, Document, Field, Seal
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.wareki import UncertainDate, format_wareki, format_western
from jumin.register.status import MovingOut

HEAD = "世帯主"
FOREIGN = "foreign"
SEX = {"1": "男", "2": "女"}
FOREIGN_CATEGORY = {
    "mid_long_term": "中長期在留者",
    "special_permanent": "特別永住者",
    "temporary_refuge": "一時庇護許可者",
    "provisional_stay": "仮滞在者",
    "transitional": "経過滞在者",
}

TITLES = {
    "record_copy": "住民票の写し",
    "removed_record_copy": "住民票の除票の写し",
    "record_statement": "住民票記載事項証明書",
    "removed_record_statement": "住民票除票記載事項証明書",
    "move_out_certificate": "転出証明書",
    "equivalent_certificate": "転出証明書に準ずる証明書",
    "juminhyo_code_notice": "住民票コード通知票",
}
CERTIFICATION_TEXTS = {
    "record_copy": "この写しは、住民票の原本と相違ないことを証明する。",
    "removed_record_copy": "この写しは、住民票の除票の原本と相違ないことを証明する。",
    "record_statement": "上記の事項は、住民票の記載と相違ないことを証明する。",
    "removed_record_statement": "上記の事項は、住民票の除票の記載と相違ないことを証明する。",
    "move_out_certificate": "上記の者は、転出の届出をしたことを証明する。",
    "equivalent_certificate": (
        "上記の者は、転出の日から14日を経過した後に転出の届出をしたため、職権により住民票を"
        "消除したことを証明する。この証明書は、転入届に添付すべき書類として発行したものである。"
    ),
    "juminhyo_code_notice": "上記のとおり、住民票コードを通知します。",
}
CODE_NOTICE_INTRO = (
    "住民基本台帳法第30条の3第3項の規定により、あなたの住民票に記載された住民票コードを"
    "次のとおり通知します。住民票コードは大切に保管してください。"
)
EQUIVALENT_INTRO = (
    "この証明書は、転出の届出が転出の日から14日を経過した後になされたため、転出証明書に代えて"
    "交付するものです。転入届の際に提出してください。"
)
MASKED_MY_NUMBER = "＊＊＊＊　＊＊＊＊　＊＊＊＊（見本：交付時に記載）"


@dataclass(frozen=True)
class Subject:
    """One person as printed: the record in force, and what the options need besides."""

    record: Any
    is_removed: bool
    moving_out: MovingOut | None = None
    my_number: str | None = None
    history: Sequence[Any] = ()
    code_recorded_on: dt.date | None = None

    @property
    def atena_no(self) -> str:
        return str(self.record.atena_no)

    @property
    def foreign(self) -> bool:
        return bool(self.record.resident_type == FOREIGN)


@dataclass(frozen=True)
class Frame:
    """What is the same on every document of a request."""

    kind: str
    issued_on: dt.date
    certifier_line: str
    seal: Seal
    municipality: str
    certification_text: str
    official_use: bool = False
    reissue: bool = False
    watermark: bool = False


@dataclass
class Built:
    document: Document
    subjects: list[Subject]
    items: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- values


def wareki(day: dt.date | None) -> str:
    if day is None:
        return ""
    try:
        return format_wareki(day)
    except CoreError:
        return format_western(day)


def birth_text(record: Any) -> str:
    """std 1.1.8/1.1.9: an uncertain date as recorded; a foreign resident's in the Western
    calendar; else 和暦."""
    foreign = record.resident_type == FOREIGN
    stored = record.birth_date_text or ""
    if stored:
        try:
            return UncertainDate.from_storage(stored).display(western=True if foreign else None)
        except CoreError:
            return str(stored)
    day = record.birth_date
    if day is None:
        return ""
    return format_western(day) if foreign else wareki(day)


def _kana(text: str) -> str:
    return text.replace(" ", "　").strip()


def name_text(record: Any, furigana: bool) -> str:
    """氏名 as printed; a foreign resident's alphabet name first (std 5.3 example)."""
    parts = []
    if record.resident_type == FOREIGN and record.name_alphabet:
        parts.append(record.name_alphabet)
    kanji = "　".join(p for p in (record.family_name, record.given_name) if p)
    if kanji:
        parts.append(kanji)
    text = "　".join(parts)
    if furigana and record.name_kana:
        text += f"（{_kana(record.name_kana)}）"
    return text


def address_text(record: Any, katagaki: bool = True) -> str:
    if katagaki and record.katagaki:
        return f"{record.address}\n{record.katagaki}"
    return str(record.address)


def _reason_label(code: str) -> str:
    try:
        return ChangeReason(code).label
    except ValueError:
        return code


# --------------------------------------------------------------------------- blocks


def _became(s: Subject) -> Field:
    r = s.record
    if s.foreign:
        return Field("外国人住民となった年月日", wareki(r.became_foreign_resident_on), 2)
    return Field("住民となった年月日", wareki(r.became_resident_on), 2)


def _name_rows(
    s: Subject, o: Options, *, relationship: bool, became: Field | None = None
) -> list[list[Field]]:
    r = s.record
    rows: list[list[Field]] = [
        [Field("氏名", name_text(r, o.furigana), 3), Field("生年月日", birth_text(r), 2)]
    ]
    second = [Field("性別", SEX.get(r.sex, r.sex), 1)]
    if relationship:
        second.append(Field("続柄", r.relationship, 1))
    if became is not None:
        second.append(became)
    rows.append(second)
    if r.former_family_name:
        text = r.former_family_name
        if o.furigana and r.former_family_name_kana:
            text += f"（{_kana(r.former_family_name_kana)}）"
        rows.append([Field("旧氏", text)])
    if s.foreign and o.alias and r.alias:
        text = r.alias + (f"（{_kana(r.alias_kana)}）" if o.furigana and r.alias_kana else "")
        rows.append([Field("通称", text)])
        history = []
        if r.alias_entered_on:
            history.append(f"{wareki(r.alias_entered_on)} 記載")
        if r.alias_removed_on:
            history.append(f"{wareki(r.alias_removed_on)} 削除")
        if history:
            rows.append([Field("通称の記載・削除", "　".join(history), small=True)])
    return rows


def _foreign_rows(s: Subject) -> list[list[Field]]:
    r = s.record
    expiry = format_western(r.stay_expires_on) if r.stay_expires_on else ""
    return [
        [
            Field("国籍・地域", r.nationality),
            Field("法第30条の45に規定する区分", FOREIGN_CATEGORY.get(r.foreign_category, "")),
        ],
        [
            Field("在留資格", r.residence_status),
            Field("在留期間等", r.period_of_stay),
            Field("在留期間等の満了の日", expiry),
        ],
        [Field("在留カード等の番号", r.residence_card_no)],
    ]


def _removal_rows(s: Subject) -> list[list[Field]]:
    r = s.record
    rows = [
        [
            Field("消除事由", _reason_label(r.removal_reason)),
            Field("事由の生じた年月日", wareki(r.removed_on)),
        ]
    ]
    if r.moved_out_planned_address or r.moved_out_planned_on:
        rows.append(
            [
                Field("転出先住所（予定）", r.moved_out_planned_address, 2),
                Field("転出予定年月日", wareki(r.moved_out_planned_on), 1),
            ]
        )
    if r.moved_out_address or r.moved_out_on:
        rows.append(
            [
                Field("転出先住所（確定）", r.moved_out_address, 2),
                Field("転出年月日", wareki(r.moved_out_on), 1),
            ]
        )
    if r.move_in_notice_on:
        rows.append([Field("転入通知年月日", wareki(r.move_in_notice_on))])
    return rows


def _number_rows(s: Subject, o: Options) -> list[list[Field]]:
    cells = []
    if o.juminhyo_code:
        cells.append(Field("住民票コード", s.record.juminhyo_code or "（記載なし）"))
    if o.my_number:
        cells.append(Field("個人番号", s.my_number or "（記載なし）"))
    return [cells] if cells else []


def _history_block(s: Subject) -> Block | None:
    if not s.history:
        return None
    rows = [
        [
            Field("", "異動日", 1, small=True),
            Field("", "異動事由", 1, small=True),
            Field("", "届出日", 1, small=True),
            Field("", "住所", 3, small=True),
        ]
    ]
    previous_address = None
    for h in s.history:
        address = address_text(h)
        rows.append(
            [
                Field("", wareki(h.occurred_on), 1, small=True),
                Field("", _reason_label(h.change_reason), 1, small=True),
                Field("", wareki(h.history_notified_on), 1, small=True),
                Field("", address if address != previous_address else "〃", 3, small=True),
            ]
        )
        previous_address = address
    return Block(rows, heading=f"異動履歴（{name_text(s.record, False)}）")


def person_block(s: Subject, o: Options, *, number: str, removed: bool) -> Block:
    """One person of a 住民票の写し / 除票の写し."""
    r = s.record
    rows = _name_rows(s, o, relationship=o.head_and_relationship, became=_became(s))
    rows.append(
        [
            Field("住所を定めた年月日", wareki(r.address_set_on)),
            Field("届出の年月日", wareki(r.notified_on)),
        ]
    )
    if r.previous_address:
        rows.append([Field("従前の住所", r.previous_address)])
    if o.honseki and not s.foreign:
        rows.append(
            [Field("本籍", r.honseki or "（記載なし）", 2), Field("筆頭者", r.koseki_head, 1)]
        )
    if s.foreign and o.foreign_items:
        rows.extend(_foreign_rows(s))
    rows.extend(_number_rows(s, o))
    if removed:
        rows.extend(_removal_rows(s))
    if r.remarks:
        rows.append([Field("備考", r.remarks, small=True)])
    return Block(rows, number=number)


def _header_block(address: str, head_name: str, show_head: bool) -> Block:
    rows = [[Field("住所", address)]]
    if show_head and head_name:
        rows.append([Field("世帯主", head_name)])
    return Block(rows)


def _omitted(o: Options, subjects: Sequence[Subject], kind: str) -> list[str]:
    """The items left out on request or by rule, for the note on the certificate."""
    out = []
    if not o.head_and_relationship:
        out.append("世帯主・続柄")
    if not o.honseki and any(not s.foreign for s in subjects):
        out.append("本籍・筆頭者")
    if not o.juminhyo_code:
        out.append("住民票コード")
    if not o.my_number:
        out.append("個人番号")
    if any(s.foreign for s in subjects) and not o.foreign_items:
        out.append("国籍・地域等の外国人住民に係る事項")
    if kind in REMOVED_KINDS:
        return out
    return out


def _note_block(omitted: list[str]) -> Block | None:
    if not omitted:
        return None
    return Block(
        [[Field("記載の省略", "、".join(omitted) + "は、記載を省略しています。", small=True)]]
    )


def _items(o: Options, kind: str) -> list[str]:
    """記載事項 for the issue log (std 1.3.8)."""
    items = ["氏名", "生年月日", "性別", "住所"]
    for flag, label in (
        ("head_and_relationship", "世帯主・続柄"),
        ("honseki", "本籍・筆頭者"),
        ("juminhyo_code", "住民票コード"),
        ("my_number", "個人番号"),
        ("foreign_items", "外国人住民に係る事項"),
        ("history", "履歴"),
    ):
        if getattr(o, flag):
            items.append(label)
    if kind in REMOVED_KINDS:
        items.append("消除事由")
    return items


def _document(frame: Frame, subtitle: str, blocks: list[Block], **extra: Any) -> Document:
    return Document(
        kind=frame.kind,
        title=TITLES[frame.kind],
        subtitle=subtitle,
        blocks=[b for b in blocks if b is not None],
        certification_text=frame.certification_text,
        issued_on=frame.issued_on,
        certifier_line=frame.certifier_line,
        seal=frame.seal,
        municipality=frame.municipality,
        official_use=frame.official_use,
        reissue=frame.reissue,
        watermark=frame.watermark,
        **extra,
    )


# --------------------------------------------------------------------------- per kind


def record_copies(
    frame: Frame, subjects: list[Subject], o: Options, *, household_size: int, head_name: str
) -> list[Built]:
    """住民票の写し / 除票の写し: the household form lists the persons in one certificate;
    otherwise one certificate per person (個人票)."""
    removed = frame.kind in REMOVED_KINDS
    omitted = _omitted(o, subjects, frame.kind)
    items = _items(o, frame.kind)
    groups = [subjects] if o.household_form else [[s] for s in subjects]
    built = []
    for group in groups:
        first = group[0].record
        whole = o.household_form and len(group) == household_size and not removed
        if o.household_form:
            subtitle = "（世帯全員）" if whole else "（世帯の一部）"
        else:
            subtitle = "（個人票）"
        blocks: list[Block | None] = [
            _header_block(address_text(first), head_name, o.head_and_relationship)
        ]
        for i, s in enumerate(group, start=1):
            blocks.append(
                person_block(s, o, number=str(i) if o.household_form else "", removed=removed)
            )
        if o.history:
            blocks.extend(_history_block(s) for s in group)
        blocks.append(_note_block(omitted))
        built.append(
            Built(
                _document(frame, subtitle, [b for b in blocks if b is not None]), list(group), items
            )
        )
    return built


def statement_items(o: Options) -> tuple[str, ...]:
    """The register items a 記載事項証明書 prints: those asked for (the basic four when none
    were), with 世帯主・続柄 and 本籍・筆頭者 also when asked through the options."""
    chosen = list(o.statement_items or ("name", "birth_date", "sex", "address"))
    for flag in ("head_and_relationship", "honseki"):
        if flag in o.given and getattr(o, flag) and flag not in chosen:
            chosen.append(flag)
    return tuple(chosen)


def statement(frame: Frame, subjects: list[Subject], o: Options) -> list[Built]:
    """住民票記載事項証明書 / 除票記載事項証明書: the requester's own text of what is to be
    certified, and the register's items chosen for it."""
    chosen = statement_items(o)
    blocks: list[Block | None] = []
    if o.statement_text:
        blocks.append(
            Block([[Field("", o.statement_text)]], heading="請求者が記載した証明を求める事項")
        )
    for i, s in enumerate(subjects, start=1):
        r = s.record
        rows: list[list[Field]] = []
        if "name" in chosen:
            rows.append([Field("氏名", name_text(r, o.furigana))])
        line = []
        if "birth_date" in chosen:
            line.append(Field("生年月日", birth_text(r), 2))
        if "sex" in chosen:
            line.append(Field("性別", SEX.get(r.sex, r.sex), 1))
        if line:
            rows.append(line)
        if "address" in chosen:
            rows.append([Field("住所", address_text(r, o.katagaki))])
        if "head_and_relationship" in chosen:
            rows.append(
                [
                    Field("世帯主", r.name if r.relationship == HEAD else r.head_name),
                    Field("続柄", r.relationship),
                ]
            )
        if "honseki" in chosen and not s.foreign:
            rows.append([Field("本籍", r.honseki, 2), Field("筆頭者", r.koseki_head, 1)])
        dates = []
        if "became_resident_on" in chosen:
            dates.append(
                Field(
                    "外国人住民となった年月日" if s.foreign else "住民となった年月日",
                    wareki(r.became_foreign_resident_on if s.foreign else r.became_resident_on),
                )
            )
        if "address_set_on" in chosen:
            dates.append(Field("住所を定めた年月日", wareki(r.address_set_on)))
        if "notified_on" in chosen:
            dates.append(Field("届出の年月日", wareki(r.notified_on)))
        if dates:
            rows.append(dates)
        if "previous_address" in chosen and r.previous_address:
            rows.append([Field("従前の住所", r.previous_address)])
        if "former_family_name" in chosen and r.former_family_name:
            rows.append([Field("旧氏", r.former_family_name)])
        if s.foreign and o.foreign_items:
            rows.extend(_foreign_rows(s))
        rows.extend(_number_rows(s, o))
        if "removal" in chosen and frame.kind in REMOVED_KINDS:
            rows.extend(_removal_rows(s))
        blocks.append(Block(rows, number=str(i) if len(subjects) > 1 else ""))
    items = [STATEMENT_ITEMS[k] for k in chosen]
    if o.statement_text:
        items.append("請求者記載事項")
    items += [
        label
        for flag, label in (("juminhyo_code", "住民票コード"), ("my_number", "個人番号"))
        if getattr(o, flag)
    ]
    return [Built(_document(frame, "", [b for b in blocks if b is not None]), subjects, items)]


def move_out_certificate(frame: Frame, subjects: list[Subject], o: Options) -> list[Built]:
    """転出証明書 / 転出証明書に準ずる証明書 (std 4.1.3.0.3 j660): the persons of one 転出, as
    recorded by it (a reissue prints the same record, marked 再交付)."""
    first = subjects[0].record
    marker = subjects[0].moving_out
    if marker is not None:  # a 転出予定者: the record before the 転出, and the plan
        planned_on, destination, notified = marker.on, marker.to, marker.notified_on
    else:  # the 転出 has taken effect: the removal record carries the plan
        planned_on = first.moved_out_planned_on or first.removed_on
        destination, notified = first.moved_out_planned_address, first.notified_on
    head = first.name if first.relationship == HEAD else first.head_name
    blocks: list[Block] = [
        Block(
            [
                [Field("住所", address_text(first))],
                [Field("世帯主", head)],
                [Field("転出先", destination, 2), Field("転出予定年月日", wareki(planned_on), 1)],
                [Field("転出届の年月日", wareki(notified))],
            ]
        )
    ]
    for i, s in enumerate(subjects, start=1):
        r = s.record
        rows = _name_rows(s, o, relationship=True)
        if s.foreign:
            rows.append(
                [
                    Field("国籍・地域", r.nationality),
                    Field("外国人住民となった年月日", wareki(r.became_foreign_resident_on)),
                ]
            )
            rows.extend(_foreign_rows(s)[1:])
        else:
            rows.append(
                [Field("本籍", r.honseki or "（記載なし）", 2), Field("筆頭者", r.koseki_head, 1)]
            )
            rows.append([Field("住民となった年月日", wareki(r.became_resident_on))])
        rows.append(
            [
                Field("住所を定めた年月日", wareki(r.address_set_on)),
                Field("住民票コード", r.juminhyo_code),
            ]
        )
        blocks.append(Block(rows, number=str(i)))
    intro = EQUIVALENT_INTRO if frame.kind == "equivalent_certificate" else ""
    items = [
        "氏名",
        "生年月日",
        "性別",
        "世帯主・続柄",
        "本籍・筆頭者",
        "住所",
        "転出先",
        "住民票コード",
    ]
    assert frame.kind in MOVE_OUT
    return [Built(_document(frame, "", list(blocks), intro=intro), subjects, items)]


def code_notice(frame: Frame, subjects: list[Subject], o: Options) -> list[Built]:
    """住民票コード通知票 (std 4.3.3 j890, 20.4.1): one notice per person."""
    built = []
    for s in subjects:
        r = s.record
        blocks = [
            Block(
                [
                    [
                        Field("氏名", name_text(r, o.furigana), 3),
                        Field("生年月日", birth_text(r), 2),
                    ],
                    [Field("性別", SEX.get(r.sex, r.sex), 1), Field("住所", address_text(r), 4)],
                    [
                        Field("住民票コード", _spaced_code(r.juminhyo_code), 3),
                        Field("記載の年月日", wareki(s.code_recorded_on), 2),
                    ],
                ]
            )
        ]
        built.append(
            Built(
                _document(
                    frame, "", list(blocks), addressee=name_text(r, False), intro=CODE_NOTICE_INTRO
                ),
                [s],
                ["氏名", "生年月日", "性別", "住所", "住民票コード"],
            )
        )
    return built


def _spaced_code(code: str) -> str:
    return f"{code[:4]} {code[4:8]} {code[8:]}" if len(code) == 11 else code
