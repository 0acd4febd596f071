import csv
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from jumin.addresses.dictionary import load_dictionary
from jumin.core.change_reasons import ChangeKind, ChangeReason
from jumin.core.identifiers import (
    validate_atena_no,
    validate_household_no,
    validate_juminhyo_code,
    validate_my_number,
    validate_residence_card_no,
)
from jumin.synth.generator import (
    DEFAULT_AS_OF,
    HISTORY_COLUMNS,
    HOUSEHOLD_COLUMNS,
    RESIDENT_COLUMNS,
    STATE_COLUMNS,
    TARGET_AGE_SHARES,
    VALID_RELATIONSHIPS,
    generate,
)

N = 2000
SEED = 20260401
KANA = re.compile(r"^[\u30a1-\u30fc]+( [\u30a1-\u30fc]+)*$")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    stats = generate(out, N, SEED)
    return {
        "dir": out,
        "stats": stats,
        "households": read(out / "households.csv"),
        "residents": read(out / "residents.csv"),
        "history": read(out / "history.csv"),
        "manifest": json.loads((out / "manifest.json").read_text(encoding="utf-8")),
    }


@pytest.fixture(scope="module")
def current(city):
    return [r for r in city["residents"] if r["status"] == "resident"]


def age(birth: str) -> int:
    b = dt.date.fromisoformat(birth)
    a = DEFAULT_AS_OF
    return a.year - b.year - ((a.month, a.day) < (b.month, b.day))


def test_files_headers_and_counts(city):
    out = city["dir"]
    assert sorted(p.name for p in out.iterdir()) == [
        "history.csv",
        "households.csv",
        "manifest.json",
        "residents.csv",
    ]
    for name, columns in (
        ("households.csv", HOUSEHOLD_COLUMNS),
        ("residents.csv", RESIDENT_COLUMNS),
        ("history.csv", HISTORY_COLUMNS),
    ):
        with (out / name).open(encoding="utf-8", newline="") as fh:
            assert tuple(next(csv.reader(fh))) == columns
    assert len(city["residents"]) == N
    manifest = city["manifest"]
    assert manifest["seed"] == SEED
    assert manifest["counts"]["residents"] == N
    assert manifest["counts"]["households"] == len(city["households"])
    assert manifest["counts"]["history_rows"] == len(city["history"])


def test_same_seed_gives_byte_identical_files(city, tmp_path):
    generate(tmp_path, N, SEED)
    for name in ("households.csv", "residents.csv", "history.csv", "manifest.json"):
        assert (tmp_path / name).read_bytes() == (city["dir"] / name).read_bytes(), name


def test_another_seed_gives_another_city(city, tmp_path):
    generate(tmp_path, N, SEED + 1)
    assert (tmp_path / "residents.csv").read_bytes() != (city["dir"] / "residents.csv").read_bytes()


def test_identifiers_have_valid_check_digits_and_are_unique(city):
    # std 1.1.13 (j130): 宛名番号・世帯番号 with the M11W2-7 check digit
    residents = city["residents"]
    for column, validate in (
        ("atena_no", validate_atena_no),
        ("my_number", validate_my_number),
        ("juminhyo_code", validate_juminhyo_code),
    ):
        values = [r[column] for r in residents]
        assert len(set(values)) == len(values), column
        for value in values:
            assert validate(value) == value
    household_nos = [h["household_no"] for h in city["households"]]
    assert len(set(household_nos)) == len(household_nos)
    for value in household_nos:
        assert validate_household_no(value) == value
    assert {r["household_no"] for r in residents} == set(household_nos)


def test_relationships_are_those_of_the_standard(city, current):
    # std 1.1.11 (j110): only the listed 続柄, never 孫・祖父・長男 …
    for r in city["residents"]:
        assert r["relationship"] in VALID_RELATIONSHIPS, r["relationship"]
    for h in city["history"]:
        assert h["relationship"] in VALID_RELATIONSHIPS
    by_household = defaultdict(list)
    for r in current:
        by_household[r["household_no"]].append(r)
    households = {h["household_no"]: h for h in city["households"]}
    for household_no, members in by_household.items():
        heads = [m for m in members if m["relationship"] == "世帯主"]
        assert len(heads) == 1, household_no
        household = households[household_no]
        assert household["status"] == "active"
        assert household["head_atena_no"] == heads[0]["atena_no"]
        assert int(household["member_count"]) == len(members)
        for m in members:
            assert m["head_name"] == household["head_name"]
            assert m["address_code"] == household["address_code"]
    for h in city["households"]:
        if h["status"] == "removed":
            assert h["household_no"] not in by_household
            assert h["removed_on"]


def test_household_composition(city):
    by_type = city["stats"].households_by_type
    total = sum(by_type.values())
    # 2020 census of a Kanagawa city: about 36 % single, 22 % couples, 24 % with children
    assert 0.31 < by_type["single"] / total < 0.43
    assert 0.17 < by_type["couple"] / total < 0.28
    assert 0.18 < by_type["couple_children"] / total < 0.30
    assert 0.05 < by_type["single_parent"] / total < 0.13
    assert 0.02 < by_type["three_generation"] / total < 0.09
    relationships = Counter(r["relationship"] for r in city["residents"])
    for rel in ("子の妻", "子の子", "父", "母", "縁故者", "同居人"):
        assert relationships[rel] > 0, rel


def test_age_pyramid_and_sex_ratio(current):
    ages = [age(r["birth_date"]) for r in current]
    assert min(ages) >= 0
    assert max(ages) <= 106
    total = len(ages)
    elderly = sum(a >= 65 for a in ages) / total
    children = sum(a < 15 for a in ages) / total
    assert 0.22 < elderly < 0.34  # 相模原市 ~27 %, Japan ~29 %
    assert 0.08 < children < 0.15
    for lo, hi, share in TARGET_AGE_SHARES:
        observed = 100 * sum(lo <= a < hi for a in ages) / total
        assert abs(observed - share) < 3.5, (lo, hi, observed, share)
    women = sum(r["sex"] == "2" for r in current) / total
    assert 0.47 < women < 0.55
    old = [r for r in current if age(r["birth_date"]) >= 80]
    assert sum(r["sex"] == "2" for r in old) / len(old) > 0.55


def test_foreign_residents(city):
    # std 1.1.2 (j20): nationality, residence status, period, expiry, card number, 通称
    residents = city["residents"]
    foreign = [r for r in residents if r["resident_type"] == "foreign"]
    assert 0.018 < len(foreign) / len(residents) < 0.045
    assert len({r["nationality"] for r in foreign}) >= 5
    for r in foreign:
        assert r["nationality_code"] and r["nationality"]
        assert r["name_alphabet"] == r["name_alphabet"].upper()
        assert r["residence_status"]
        assert validate_residence_card_no(r["residence_card_no"]) == r["residence_card_no"]
        assert r["foreign_resident_category"] in {"mid_long_term", "special_permanent"}
        assert r["became_foreign_resident_on"] and not r["became_resident_on"]
        assert not r["honseki"] and not r["koseki_head"]
        if r["residence_status"] in {"永住者", "特別永住者"}:
            assert not r["period_of_stay"] and not r["stay_expires_on"]
        else:
            assert r["period_of_stay"] and r["stay_expires_on"]
            if r["status"] == "resident":
                assert r["stay_expires_on"] > DEFAULT_AS_OF.isoformat()
        if r["alias"]:
            assert KANA.match(r["alias_kana"]), r["alias_kana"]
            assert r["alias_entered_on"] and r["alias_entered_municipality_code"]


def test_japanese_residents_have_honseki_and_koseki_head(city):
    # std 1.1.1 (j10): 戸籍の表示（本籍・筆頭者）
    for r in city["residents"]:
        if r["resident_type"] == "japanese":
            assert r["honseki"] and r["koseki_head"], r
            assert r["became_resident_on"] and not r["became_foreign_resident_on"]
            assert not r["nationality"] and not r["residence_status"]


def test_every_reading_is_katakana(city):
    # std 1.1.18 (j180): フリガナ in katakana
    for r in city["residents"]:
        if r["family_name"]:
            assert KANA.match(r["family_name_kana"]), r["family_name_kana"]
        assert KANA.match(r["given_name_kana"]), r["given_name_kana"]
        if r["former_family_name"]:
            assert KANA.match(r["former_family_name_kana"])


def test_families_share_names_and_spouses_keep_former_names(city, current):
    by_household = defaultdict(list)
    for r in current:
        by_household[r["household_no"]].append(r)
    same, total = 0, 0
    for members in by_household.values():
        head = next(m for m in members if m["relationship"] == "世帯主")
        if head["resident_type"] != "japanese":
            continue
        for m in members:
            if (
                m["relationship"] in {"妻", "夫", "子", "子の妻", "子の子"}
                and m["resident_type"] == "japanese"
            ):
                total += 1
                same += m["family_name"] == head["family_name"]
    assert same / total > 0.95
    # 旧氏: mostly married women, a few men (std 1.1.7, j70)
    former = [r for r in city["residents"] if r["former_family_name"]]
    assert former
    assert all(r["former_family_name"] != r["family_name"] for r in former)
    assert sum(r["sex"] == "2" for r in former) / len(former) > 0.8


def test_addresses_come_from_the_dictionary(city):
    # std 1.3.3 (j250): 住所コード and 郵便番号 from the 住所辞書
    dictionary = load_dictionary()
    for row in [*city["residents"], *city["history"], *city["households"]]:
        entry = dictionary.by_code(row["address_code"])
        assert entry is not None, row["address_code"]
        assert entry.postal_code == row["postal_code"]
        assert (entry.ward, entry.town) == (row["ward"], row["town"])
        assert re.fullmatch(r"(\d+丁目\d+番\d+号|\d+番地(の?\d+)?)", row["banchi"]), row["banchi"]
    # 方書 (std 1.3.4, j260) for a realistic share of households
    with_katagaki = sum(1 for h in city["households"] if h["katagaki"]) / len(city["households"])
    assert 0.3 < with_katagaki < 0.65
    assert all(h["katagaki"].endswith("号室") for h in city["households"] if h["katagaki"])


def test_history_is_consistent_with_the_records(city):
    # std 1.2.1 (j200): (atena_no, history_no) unique, history_no 1, 2, 3 …, and the row
    # with the highest history_no is the person's current state
    by_person = defaultdict(list)
    for h in city["history"]:
        by_person[h["atena_no"]].append(h)
        assert ChangeReason(h["change_reason"])
        assert h["occurred_on"] <= DEFAULT_AS_OF.isoformat()
        assert h["notified_on"] <= DEFAULT_AS_OF.isoformat()
    residents = {r["atena_no"]: r for r in city["residents"]}
    assert set(by_person) == set(residents)
    for atena_no, rows in by_person.items():
        r = residents[atena_no]
        assert [int(h["history_no"]) for h in rows] == list(range(1, len(rows) + 1))
        assert int(r["history_no"]) == len(rows)
        assert [h["occurred_on"] for h in rows] == sorted(h["occurred_on"] for h in rows)
        first, last = rows[0], rows[-1]
        assert ChangeReason(first["change_reason"]).kind is ChangeKind.ENTRY
        assert first["occurred_on"] >= r["birth_date"]
        for h in rows[1:]:
            assert ChangeReason(h["change_reason"]).kind is not ChangeKind.ENTRY
        for column in STATE_COLUMNS:
            assert last[column] == r[column], (atena_no, column)
        kinds = [ChangeReason(h["change_reason"]).kind for h in rows]
        if r["status"] == "removed":
            assert kinds[-1] is ChangeKind.REMOVAL
            assert kinds.count(ChangeKind.REMOVAL) == 1
            assert last["change_reason"] == r["removal_reason"]
            assert last["occurred_on"] == r["removed_on"]
        else:
            assert ChangeKind.REMOVAL not in kinds
            assert not r["removal_reason"]
        for h in rows:
            reason = ChangeReason(h["change_reason"])
            assert reason.allowed_for(foreign=r["resident_type"] == "foreign"), reason
            if reason is ChangeReason.MOVE_WITHIN:
                assert h["moved_from_address"].startswith("神奈川県相模原市")
            else:
                assert not h["moved_from_address"]
        entries = [
            h
            for h in rows
            if h["change_reason"]
            in {"birth", "domestic_move_in", "move_in_from_abroad", "ex_officio_entry"}
        ]
        assert len(entries) == 1
        settled = [
            h
            for h in rows
            if h["change_reason"]
            in {
                "birth",
                "domestic_move_in",
                "move_in_from_abroad",
                "ex_officio_entry",
                "move_within",
            }
        ]
        assert r["address_set_on"] == settled[-1]["occurred_on"]
        if first["change_reason"] == "birth":
            assert first["occurred_on"] == r["birth_date"]
            assert not r["previous_address"]
        if first["change_reason"] in {"domestic_move_in", "move_in_from_abroad"}:
            assert r["previous_address"]


def test_notification_dates(city):
    # 届出 within 14 days mostly (住基法 22-23条); 転出 is notified in advance
    late = 0
    moves = 0
    for h in city["history"]:
        occurred = dt.date.fromisoformat(h["occurred_on"])
        notified = dt.date.fromisoformat(h["notified_on"])
        if h["change_reason"] in {"domestic_move_out", "move_out_abroad"}:
            assert -14 <= (notified - occurred).days <= 14
            continue
        assert notified >= occurred, h
        if h["change_reason"] in {"domestic_move_in", "move_within", "birth"}:
            moves += 1
            late += (notified - occurred).days > 14
    assert 0 < late / moves < 0.1


def test_removed_records_share(city):
    removed = [r for r in city["residents"] if r["status"] == "removed"]
    assert 0.04 < len(removed) / len(city["residents"]) < 0.11
    reasons = Counter(r["removal_reason"] for r in removed)
    assert set(reasons) <= {"domestic_move_out", "move_out_abroad", "death"}
    assert reasons["domestic_move_out"] and reasons["death"]
    for r in removed:
        if r["removal_reason"] == "domestic_move_out":
            assert r["moved_out_to_address"] and r["moved_out_to_postal_code"]


def test_head_change_after_the_head_died(city):
    # std 4.0.4 (j490): when the head leaves, the household gets a new head (世帯主変更)
    changes = [h for h in city["history"] if h["change_reason"] == "head_change"]
    assert changes
    residents = {r["atena_no"]: r for r in city["residents"]}
    for h in changes:
        household = h["household_no"]
        dead = [
            r
            for r in residents.values()
            if r["household_no"] == household and r["removal_reason"] == "death"
        ]
        assert dead and dead[0]["removed_on"] == h["occurred_on"]
