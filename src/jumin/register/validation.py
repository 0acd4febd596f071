"""Checks shared by every procedure; each returns findings (std 11.1, j1440).

Errors block the draft; alerts must be acknowledged by the clerk, and the acknowledgement is
recorded with the change.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from jumin.addresses.dictionary import load_dictionary
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, alert, error
from jumin.core.names import validate_name, validate_name_kana
from jumin.core.relationships import validate_relationship
from jumin.register.models import Resident, ResidentStatus

LATE_DAYS = 14


def check_dates(
    occurred_on: dt.date | None,
    notified_on: dt.date | None,
    *,
    today: dt.date,
    future_allowed: bool = False,
    late_alert: bool = True,
) -> list[Finding]:
    """std 4.0.3 (j480): 異動日 not after today except for 転出; 届出 within 14 days."""
    out: list[Finding] = []
    if occurred_on is None:
        out.append(error("occurred_on.empty", "異動日を入力してください。", field="occurred_on"))
        return out
    if occurred_on > today and not future_allowed:
        out.append(
            error(
                "occurred_on.future",
                f"異動日（{occurred_on:%Y-%m-%d}）が処理日より後です。転出以外は未来の日付を入力できません。",
                field="occurred_on",
                remedy="異動日を処理日以前の日付にしてください。",
            )
        )
    if notified_on is not None:
        if notified_on > today:
            out.append(
                error(
                    "notified_on.future",
                    "届出日が処理日より後です。",
                    field="notified_on",
                    remedy="届出日を処理日以前の日付にしてください。",
                )
            )
        elif late_alert and occurred_on <= today and (notified_on - occurred_on).days > LATE_DAYS:
            out.append(
                alert(
                    "notification.late",
                    f"異動日から{(notified_on - occurred_on).days}日後の届出です"
                    "（届出期間は14日）。",
                    field="notified_on",
                    remedy=(
                        "届出期間経過の理由を確認し、必要に応じて簡易裁判所への通知を行ってください。"
                    ),
                )
            )
        if notified_on < occurred_on and not future_allowed:
            out.append(
                error(
                    "notified_on.before_occurred",
                    "届出日が異動日より前です。",
                    field="notified_on",
                    remedy="異動日と届出日を確認してください。",
                )
            )
    return out


def _core(out: list[Finding], field: str, func: Any, value: str) -> Any:
    """Run a core check; its message names the item (氏, 名, …), the finding the full path."""
    try:
        return func(value, field=field.rsplit(".", 1)[-1])
    except CoreError as exc:
        out.append(error(exc.code, exc.message, field=field))
        return None


def check_person(record: dict[str, Any], *, today: dt.date, prefix: str = "") -> list[Finding]:
    """Items of one snapshot: names, reading, birth date, sex, relationship, address."""
    out: list[Finding] = []
    p = prefix
    foreign = record.get("resident_type") == "foreign"
    if foreign and not (record.get("name_alphabet") or record.get("family_name")):
        out.append(
            error(
                "name.empty",
                "氏名（アルファベット）を入力してください。",
                field=f"{p}name_alphabet",
            )
        )
    if not foreign:
        _core(out, f"{p}family_name", validate_name, record.get("family_name") or "")
        _core(out, f"{p}given_name", validate_name, record.get("given_name") or "")
    elif record.get("name_alphabet"):
        _core(out, f"{p}name_alphabet", validate_name, record["name_alphabet"])
    if record.get("name_kana"):
        _core(out, f"{p}name_kana", validate_name_kana, record["name_kana"])
    birth = record.get("birth_date")
    if not birth:
        out.append(
            error("birth_date.empty", "生年月日を入力してください。", field=f"{p}birth_date")
        )
    elif dt.date.fromisoformat(str(birth)) > today:
        out.append(error("birth_date.future", "生年月日が未来の日付です。", field=f"{p}birth_date"))
    if record.get("sex") not in {"1", "2"}:
        out.append(
            error("sex.invalid", "性別は 1（男）か 2（女）で入力してください。", field=f"{p}sex")
        )
    if record.get("status") == ResidentStatus.RESIDENT:
        _core(out, f"{p}relationship", _relationship, record.get("relationship") or "")
        code = record.get("address_code") or ""
        if load_dictionary().by_code(code) is None:
            out.append(
                error(
                    "address_code.unknown",
                    f"住所コード「{code}」は住所辞書にありません。",
                    field=f"{p}address_code",
                    remedy="住所辞書から住所を選択してください。",
                )
            )
    return out


def _relationship(value: str, field: str) -> str:
    return validate_relationship(value).text


def check_households(
    records: Iterable[dict[str, Any]], *, untouched: Iterable[Resident] = ()
) -> list[Finding]:
    """Every household keeps at most one head (std 1.1.10); a household left by its head
    with two or more members needs a 世帯主変更 (std 4.0.4, j490)."""
    members: dict[str, list[str]] = defaultdict(list)
    for r in untouched:
        members[r.household_no].append(r.relationship)
    for rec in records:
        if rec.get("status") == ResidentStatus.RESIDENT:
            members[rec["household_no"]].append(rec.get("relationship") or "")
    out: list[Finding] = []
    for household_no, relationships in sorted(members.items()):
        heads = relationships.count("世帯主")
        if heads > 1:
            out.append(
                error(
                    "household.two_heads",
                    f"世帯（{household_no}）に世帯主が{heads}人います。",
                    field="relationship",
                    remedy="世帯主は1人にしてください。",
                )
            )
        elif heads == 0 and len(relationships) >= 2:
            out.append(
                alert(
                    "household.no_head",
                    f"世帯（{household_no}）の世帯主がいなくなります。",
                    field="relationship",
                    remedy="この異動の後で世帯主変更を行ってください。",
                )
            )
    return out


def check_duplicates(
    records: Iterable[dict[str, Any]], *, my_number_hashes: dict[str, str] | None = None
) -> list[Finding]:
    """The same person registered twice: same reading, birth date and sex, or the same
    住民票コード or 個人番号, across current and removed records."""
    from jumin.register.records import search_keys

    out: list[Finding] = []
    for rec in records:
        atena = rec["atena_no"]
        others = Resident.objects.exclude(atena_no=atena)
        keys = search_keys(rec)
        if keys["kana_exact"] and rec.get("birth_date"):
            dup = others.filter(
                kana_exact=keys["kana_exact"], birth_date=rec["birth_date"], sex=rec.get("sex")
            ).first()
            if dup is not None:
                state = "消除済み" if dup.status == ResidentStatus.REMOVED else "住民"
                out.append(
                    alert(
                        "duplicate.person",
                        f"同じフリガナ・生年月日・性別の記録があります: 宛名番号 {dup.atena_no} "
                        f"{dup.name}（{state}）。",
                        field="name_kana",
                        remedy="同一人であれば再転入等としてその記録を使ってください。",
                    )
                )
        code = rec.get("juminhyo_code")
        if code and others.filter(juminhyo_code=code).exists():
            dup = others.filter(juminhyo_code=code).first()
            assert dup is not None
            out.append(
                error(
                    "duplicate.juminhyo_code",
                    f"住民票コード {code} は宛名番号 {dup.atena_no} に記載済みです。",
                    field="juminhyo_code",
                )
            )
        digest = (my_number_hashes or {}).get(atena)
        if digest:
            dup = others.filter(my_number__lookup_hash=digest).first()
            if dup is not None:
                out.append(
                    error(
                        "duplicate.my_number",
                        f"この個人番号は宛名番号 {dup.atena_no} に記載済みです。",
                        field="my_number",
                    )
                )
    return out
