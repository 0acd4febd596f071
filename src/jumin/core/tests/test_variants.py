import unicodedata
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jumin.core.variants import (
    fold_kanji_variants,
    name_search_key,
    parse_variant_table,
    variant_groups,
    variant_table,
)


def _table_rows() -> list[list[str]]:
    text = resources.files("jumin.core").joinpath("data", "kanji_variants.tsv").read_text("utf-8")
    return [
        [cell for cell in line.split("\t") if cell]
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


# --- the examples of std 2.1.2 (j330) ------------------------------------------------------


@pytest.mark.parametrize(
    ("canonical", "variants"),
    [
        ("辺", ["邊", "边", "邉", "𨘢"]),
        ("浜", ["濱", "濵", "滨"]),
        ("藤", ["䕨", "籘", "籐"]),
    ],
)
def test_spec_examples_fold_together(canonical, variants):
    # std 2.1.2 (j330): 異体字・正字を包含した検索
    for variant in variants:
        assert fold_kanji_variants(variant) == canonical
        assert name_search_key(f"渡{variant}") == name_search_key(f"渡{canonical}")


def test_transcription_slip_is_not_joined():
    # std 2.1.2 (j330): 頻 in the extract's 浜 example is a copying slip, not a variant
    assert fold_kanji_variants("頻") == "頻"
    assert name_search_key("頻") != name_search_key("浜")


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("髙", "高"),
        ("﨑", "崎"),
        ("嵜", "崎"),
        ("𠮷", "吉"),
        ("齋", "斎"),
        ("齊", "斉"),
        ("澤", "沢"),
        ("櫻", "桜"),
        ("廣", "広"),
        ("國", "国"),
        ("圓", "円"),
        ("龍", "竜"),
        ("嶋", "島"),
        ("嶌", "島"),
        ("德", "徳"),
        ("惠", "恵"),
        ("眞", "真"),
        ("槗", "橋"),
        ("栁", "柳"),
        ("冨", "富"),
        ("舘", "館"),
        ("曾", "曽"),
        ("篭", "籠"),
        ("聰", "聡"),
        ("條", "条"),
        ("與", "与"),
    ],
)
def test_common_name_variants(variant, canonical):
    # DOMAIN-NOTES §4: the name variants search must fold
    assert fold_kanji_variants(variant) == canonical


def test_names_meet_across_variants():
    # std 2.1.2 (j330): 「髙橋」 and 「高橋」, 「渡邉」 and 「渡辺」 are found by one search
    assert name_search_key("髙槗") == name_search_key("高橋")
    assert name_search_key("渡邉　眞一") == name_search_key("渡辺真一")
    assert name_search_key("齋藤") == name_search_key("斎藤")
    assert name_search_key("﨑山") == name_search_key("崎山")


# --- forbidden joins ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"), [("崎", "埼"), ("崎", "碕"), ("埼", "碕"), ("斎", "斉"), ("齋", "齊")]
)
def test_distinct_characters_are_never_joined(left, right):
    # DOMAIN-NOTES §4: 崎/埼/碕 and 斎/斉 are different characters
    assert fold_kanji_variants(left) != fold_kanji_variants(right)
    assert name_search_key(f"山{left}") != name_search_key(f"山{right}")


def test_forbidden_characters_are_absent_from_the_崎_and_斎_groups():
    groups = variant_groups()
    assert not {"埼", "碕"} & {"崎", *groups["崎"]}
    assert "斉" not in groups["斎"]
    assert "齊" not in groups["斎"]
    assert "斎" not in groups["斉"]
    assert "齋" not in groups["斉"]


# --- the table itself -----------------------------------------------------------------------


def test_table_shape():
    rows = _table_rows()
    assert 60 <= sum(len(row) - 1 for row in rows) <= 150
    seen = set()
    canonicals = {row[0] for row in rows}
    variants = {cell for row in rows for cell in row[1:]}
    assert not canonicals & variants  # no canonical is also a variant
    for row in rows:
        assert len(row) >= 2
        for cell in row:
            assert len(cell) == 1
            assert cell not in seen  # no character under two canonicals
            seen.add(cell)
            assert "CJK" in unicodedata.name(cell)
            # compatibility ideographs with a decomposition are folded by Unicode, not listed
            assert not unicodedata.decomposition(cell)


def test_loaded_table_matches_file():
    rows = _table_rows()
    table = variant_table()
    assert len(table) == sum(len(row) - 1 for row in rows)
    for canonical, *variants in rows:
        for variant in variants:
            assert table[variant] == canonical
    assert variant_table() is table  # loaded once


def test_table_is_read_only():
    with pytest.raises(TypeError):
        variant_table()["X"] = "Y"


def test_groups_follow_the_file():
    groups = variant_groups()
    assert groups["辺"] == ("邊", "边", "邉", "𨘢")
    assert groups["国"] == ("國", "圀")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("辺", "needs a canonical"),
        ("辺\t邊\n浜\t邊", "already appears on line 1"),
        ("辺\t辺", "already appears"),
        ("辺\t邊\n邊\t邉", "already appears"),
        ("辺\tab", "not one character"),
        ("辺\t邉\U000e0100", "not one character"),
        ("\U000e0100\t邉", "not one character"),
    ],
)
def test_parser_refuses_a_bad_table(text, message):
    with pytest.raises(ValueError, match=message):
        parse_variant_table(text)


def test_parser_skips_comments_and_blank_lines():
    assert parse_variant_table("# note\n\n辺\t邊\t边\n  \n") == {"邊": "辺", "边": "辺"}


# --- folding rules ----------------------------------------------------------------------------


def test_variation_selectors_are_dropped():
    # std 2.1.2 (j330): the IVS glyph of a character is the same character for search
    assert fold_kanji_variants("\u8fbb\U000e0100") == "\u8fbb"
    assert fold_kanji_variants("\u845b\U000e0101城") == "\u845b城"
    assert fold_kanji_variants("邉\U000e0105") == "辺"
    assert fold_kanji_variants("金\ufe00") == "金"


def test_compatibility_ideographs_fold_through_their_decomposition():
    assert fold_kanji_variants("\ufa19") == "\u795e"  # 神
    assert fold_kanji_variants("\ufa10") == "\u585a"  # 塚
    assert name_search_key("\ufa19田") == name_search_key("神田")


def test_extra_pairs_from_the_city_gaiji_registry():
    # std 2.1.2 (j330): a 外字 registered with its variants is found through them
    gaiji = "\ue001"
    assert fold_kanji_variants(gaiji) == gaiji
    assert fold_kanji_variants(gaiji, extra={gaiji: "邉"}) == "辺"  # folded again by the table
    assert name_search_key(f"渡{gaiji}", extra={gaiji: "辺"}) == name_search_key("渡辺")
    assert fold_kanji_variants("山", extra={}) == "山"


def test_name_search_key_width_case_and_separators():
    # std 2.1.2 (j330): spaces between family and given names are ignored
    assert name_search_key("山田　太郎") == name_search_key("山田 太郎") == "山田太郎"
    assert name_search_key("Ｓｍｉｔｈ　Ｊｏｈｎ") == "SMITHJOHN"
    assert name_search_key("smith john") == "SMITHJOHN"
    assert name_search_key("ｼﾞｮﾝ･ｽﾐｽ") == name_search_key("ジョン・スミス") == "ジョンスミス"
    assert name_search_key("ジョン＝スミス") == "ジョンスミス"


def test_unlisted_characters_pass_through():
    assert fold_kanji_variants("山田太郎") == "山田太郎"
    assert fold_kanji_variants("") == ""


@given(st.text())
def test_folding_is_idempotent(text):
    key = name_search_key(text)
    assert name_search_key(key) == key
    assert fold_kanji_variants(fold_kanji_variants(text)) == fold_kanji_variants(text)


@given(st.sampled_from(sorted(variant_table())))
def test_every_variant_meets_its_canonical(variant):
    canonical = variant_table()[variant]
    assert name_search_key(variant) == name_search_key(canonical)
