import re
from collections import Counter

import pytest

from jumin.addresses.cli import main
from jumin.addresses.dictionary import (
    AddressDictionary,
    default_csv_path,
    load_dictionary,
    normalise_kana_query,
    normalise_postal_code,
)
from jumin.core.identifiers import parse_address_code, validate_local_government_code

KATAKANA = re.compile(r"^[\u30a1-\u30fc]+$")


@pytest.fixture(scope="module")
def dictionary() -> AddressDictionary:
    return load_dictionary()


def test_every_code_is_a_valid_unique_11_digit_code(dictionary):
    # std 1.3.3 (j250): 都道府県 2 + 市区町村 3 + 大字 3 + 小字 3, from the 全国地方公共団体コード
    codes = [e.address_code for e in dictionary]
    assert codes
    assert len(set(codes)) == len(codes)
    for entry in dictionary:
        parts = parse_address_code(entry.address_code)
        assert validate_local_government_code(entry.local_government_code)
        assert parts.prefecture == "14"
        assert parts.prefecture + parts.municipality == entry.local_government_code[:5]
        assert parts.oaza != "000"
        assert (parts.koaza == "000") == (entry.koaza == "")


def test_every_row_is_a_current_town_with_kana_and_postal_code(dictionary):
    # std 1.1.17 (j170) and 1.1.18 (j180): postal code and katakana reading
    for entry in dictionary:
        assert entry.is_current
        assert entry.town
        assert KATAKANA.match(entry.town_kana), entry
        assert re.fullmatch(r"252\d{4}", entry.postal_code)
        assert (entry.prefecture, entry.city) == ("神奈川県", "相模原市")
    # the ward-wide catch-all entries (以下に掲載がない場合) are excluded
    for catch_all in ("2520100", "2520200", "2520300"):
        assert dictionary.by_postal_code(catch_all) == []


def test_three_wards_with_their_real_number_of_towns(dictionary):
    assert dictionary.wards() == [("141518", "緑区"), ("141526", "中央区"), ("141534", "南区")]
    towns = Counter(e.ward for e in dictionary)
    # KEN_ALL 2026: 緑区 49 towns (寸沢嵐 has a 小字 新戸 of its own), 中央区 41, 南区 31
    assert towns["緑区"] == 50
    assert towns["中央区"] == 41
    assert towns["南区"] == 31
    assert {e.town for e in dictionary.towns("緑区")} >= {"橋本", "相原", "寸沢嵐", "田名"}
    assert dictionary.towns("141534") == dictionary.towns("南区") == dictionary.towns("南")


def test_same_town_name_in_two_wards_has_two_codes(dictionary):
    tana = [e for e in dictionary if e.town == "田名"]
    assert {e.ward for e in tana} == {"緑区", "中央区"}
    assert len({e.address_code for e in tana}) == 2


def test_a_town_over_two_postal_codes_has_a_koaza(dictionary):
    suwarashi = [e for e in dictionary if e.town == "寸沢嵐"]
    assert sorted((e.koaza, e.postal_code) for e in suwarashi) == [
        ("", "2520176"),
        ("新戸", "2520188"),
    ]
    base, shindo = sorted(suwarashi, key=lambda e: e.address_code)
    assert base.address_code[:8] == shindo.address_code[:8]
    assert (base.address_code[8:], shindo.address_code[8:]) == ("000", "001")


def test_lookup_by_postal_code(dictionary):
    # std 1.3.3 (j250): entering the postal code fills in the address
    for typed in ("2520143", "252-0143", "〒２５２－０１４３", " 252 0143 "):
        (entry,) = dictionary.by_postal_code(typed)
        assert entry.address == "神奈川県相模原市緑区橋本"
        assert entry.has_chome
    (minami,) = dictionary.by_postal_code("2520303")
    assert (minami.ward, minami.town, minami.town_kana) == ("南区", "相模大野", "サガミオオノ")
    assert dictionary.by_postal_code("1000001") == []
    assert normalise_postal_code("〒２５２－０１３１") == "2520131"


def test_lookup_by_code(dictionary):
    (hashimoto,) = dictionary.by_postal_code("2520143")
    assert dictionary.by_code(hashimoto.address_code) == hashimoto
    assert dictionary.by_code("14151999000") is None


def test_kana_prefix_input(dictionary):
    # std 1.3.3 (j250): 住所カナ入力 — the first kana of each level, e.g. 「ト ヒ シ」
    def towns(query, **kw):
        return [(e.ward, e.town) for e in dictionary.search_kana(query, **kw)]

    assert ("緑区", "橋本") in towns("カ サ ミ ハシ")
    assert towns("カ サ ミ ハシモ") == [("緑区", "橋本"), ("緑区", "橋本台")]
    assert towns("サ ミ ハシモ") == towns("ミ ハシモ") == towns("カ ハシモ ")[:2]
    assert ("中央区", "南橋本") not in towns("ミ ハシ")
    # hiragana, half-width katakana and the ideographic space are accepted
    assert towns("さ　み　はしも") == towns("ｻ ﾐ ﾊｼﾓ") == [("緑区", "橋本"), ("緑区", "橋本台")]
    # a level may not be used twice, and the order of levels matters
    assert towns("ミ サ ハシモ") == []
    # 南区 has no ハシモト; the ward restriction for a designated city
    assert towns("ミナ ハシモ") == []
    assert towns("タナ", ward="中央区") == [("中央区", "田名"), ("中央区", "田名塩田")]
    assert {w for w, _ in towns("タナ")} == {"緑区", "中央区"}
    assert towns("") == []
    assert normalise_kana_query("と　ひ し") == ["ト", "ヒ", "シ"]


def test_unknown_ward_is_a_clear_error(dictionary):
    with pytest.raises(KeyError, match="北区"):
        dictionary.towns("北区")


def test_committed_csv_round_trips_byte_identically(tmp_path, dictionary):
    from jumin.addresses.build import write_csv

    out = tmp_path / "copy.csv"
    write_csv(dictionary.entries, out)
    assert out.read_bytes() == default_csv_path().read_bytes()


def test_cli_show(capsys):
    assert main(["show", "--postal", "252-0131"]) == 0
    assert "緑区西橋本" in capsys.readouterr().out
    assert main(["show", "--ward", "南区"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 31
    assert main(["show", "--kana", "サ ミ ハシモ"]) == 0
    assert "橋本台" in capsys.readouterr().out
    assert main(["show"]) == 0
    assert "141518 緑区" in capsys.readouterr().out
    assert main(["show", "--postal", "1000001"]) == 1
    assert "該当する住所がありません" in capsys.readouterr().err
    assert main(["show", "--ward", "北区"]) == 2
    assert "北区" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err
