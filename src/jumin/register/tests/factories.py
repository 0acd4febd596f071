"""Register test data, made the way a clerk makes it: a procedure, then a review."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory, TerminalFactory
from jumin.register import services
from jumin.register.models import Change, Resident
from jumin.register.procedures import move_in

# 中央区 and 緑区 entries of the committed address dictionary
ADDRESS_CODE = "14152001000"
OTHER_ADDRESS_CODE = "14151001000"
_counter = itertools.count(1)


def clerk() -> Actor:
    staff = StaffFactory(roles=["counter_clerk"])
    return Actor.of(staff, TerminalFactory(org_unit=staff.org_unit), "web")


def reviewer() -> Actor:
    staff = StaffFactory(roles=["reviewer"])
    return Actor.of(staff, None, "web")


def supervisor() -> Actor:
    return Actor.of(StaffFactory(roles=["supervisor"]), None, "web")


def person(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    data: dict[str, Any] = {
        "family_name": "相模",
        "given_name": "太郎" + "一二三四五六七八九十"[n % 10],
        "name_kana": f"サガミ タロウ{'ア' * (n % 7)}",
        "birth_date": "1980-04-01",
        "sex": "1",
        "relationship": "世帯主",
        "honseki": "神奈川県相模原市中央区中央二丁目",
        "koseki_head": "相模 太郎",
    }
    data.update(overrides)
    return data


def move_in_input(*people: dict[str, Any], **overrides: Any) -> move_in.MoveInInput:
    today = dt.date.today()
    data: dict[str, Any] = {
        "kind": "domestic",
        "occurred_on": today - dt.timedelta(days=3),
        "notified_on": today,
        "address": {"address_code": ADDRESS_CODE, "banchi": "2丁目11番15号"},
        "previous_address": "東京都千代田区霞が関二丁目1番2号",
        "certificate": {"municipality_code": "131016", "planned_on": today - dt.timedelta(days=3)},
        "persons": list(people) or [person()],
    }
    data.update(overrides)
    return move_in.MoveInInput.model_validate(data)


def committed_move_in(*people: dict[str, Any], **overrides: Any) -> tuple[Change, list[Resident]]:
    change = move_in.submit(
        clerk(), move_in_input(*people, **overrides), acknowledged=["duplicate.person"]
    )
    change = services.commit_change(reviewer(), change.pk)
    atenas = [p["atena_no"] for p in change.payload["persons"]]
    return change, [Resident.objects.get(atena_no=a) for a in atenas]


def family() -> tuple[Change, list[Resident]]:
    """A household of four: head, spouse, two children."""
    return committed_move_in(
        person(
            family_name="相模", given_name="太郎", name_kana="サガミ タロウ", relationship="世帯主"
        ),
        person(
            family_name="相模",
            given_name="花子",
            name_kana="サガミ ハナコ",
            sex="2",
            birth_date="1982-06-15",
            relationship="妻",
        ),
        person(
            family_name="相模",
            given_name="一郎",
            name_kana="サガミ イチロウ",
            birth_date="2010-01-20",
            relationship="子",
        ),
        person(
            family_name="相模",
            given_name="桜",
            name_kana="サガミ サクラ",
            sex="2",
            birth_date="2014-03-03",
            relationship="子",
        ),
    )


# A person with every item std 10.4 (j1390) shows or hides per user: 本籍・筆頭者 and 住民票コード
# (a Japanese resident) and 在留資格等 (a foreign resident).
HONSEKI = "神奈川県相模原市中央区中央二丁目"
KOSEKI_HEAD = "相模 太郎"
RESIDENCE_CARD_NO = "AB12345678CD"
_coded = itertools.count(1)


def japanese_with_every_item() -> Resident:
    """A committed Japanese resident with 本籍・筆頭者 and a 住民票コード."""
    import random

    from jumin.core.identifiers import generate_juminhyo_code

    code = generate_juminhyo_code(random.Random(next(_coded) + 1000))
    _, [resident] = committed_move_in(
        person(honseki=HONSEKI, koseki_head=KOSEKI_HEAD, juminhyo_code=code)
    )
    return Resident.objects.get(pk=resident.pk)


def foreigner_with_every_item() -> Resident:
    """A committed foreign resident (中長期在留者) with every 在留資格等 item."""
    from jumin.register.procedures import foreign

    today = dt.date.today()
    data = foreign.ForeignMoveInInput.model_validate(
        {
            "occurred_on": today - dt.timedelta(days=2),
            "notified_on": today,
            "address": {"address_code": ADDRESS_CODE, "banchi": "2丁目11番15号"},
            "previous_address": "",
            "persons": [
                {
                    "name_alphabet": "SMITH JOHN",
                    "name_kana": "スミス ジョン",
                    "birth_date": "1990-05-06",
                    "sex": "1",
                    "relationship": "世帯主",
                    "nationality": "ニュージーランド",
                    "foreign_category": "mid_long_term",
                    "residence_status": "技術・人文知識・国際業務",
                    "period_of_stay": "3年",
                    "stay_expires_on": today + dt.timedelta(days=1000),
                    "residence_card_no": RESIDENCE_CARD_NO,
                }
            ],
        }
    )
    change = foreign.submit_foreign_move_in_30_46(clerk(), data, acknowledged=[])
    change = services.commit_change(reviewer(), change.pk)
    return Resident.objects.get(atena_no=change.payload["persons"][0]["atena_no"])
