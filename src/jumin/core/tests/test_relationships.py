from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jumin.core.errors import RelationshipError
from jumin.core.relationships import (
    BASE_TERMS,
    MAX_GENERATIONS,
    HouseholdMember,
    Relationship,
    RelationshipKind,
    coerce_relationship,
    household_display_order,
    normalise_relationship,
    validate_relationship,
)

# --- grammar, std 1.1.11 (j110) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("世帯主", RelationshipKind.HEAD),
        ("縁故者", RelationshipKind.ENKOSHA),
        ("同居人", RelationshipKind.DOKYONIN),
    ],
)
def test_whole_relationships(text, kind):
    # std 1.1.11 (j110) ①④⑤
    rel = validate_relationship(text)
    assert rel == Relationship(text, kind)
    assert rel.chain == ()
    assert rel.generations == 0
    assert rel.is_head is (kind is RelationshipKind.HEAD)
    assert not rel.is_relative
    assert kind.label == text


@pytest.mark.parametrize("term", BASE_TERMS)
def test_every_base_term(term):
    # std 1.1.11 (j110) ②
    rel = validate_relationship(term)
    assert rel.text == term
    assert rel.chain == (term,)
    assert rel.generations == 1
    assert rel.is_relative
    assert RelationshipKind.RELATIVE.label == "親族"


def test_base_terms_are_the_standards():
    # std 1.1.11 (j110) ②
    assert set(BASE_TERMS) == {
        "夫",
        "妻",
        "夫（未届）",
        "妻（未届）",
        "子",
        "父",
        "母",
        "兄",
        "姉",
        "弟",
        "妹",
    }


@pytest.mark.parametrize(
    ("text", "stored", "chain"),
    [
        ("子（子の夫）", "子の夫", ("子", "夫")),
        ("子（子の妻）", "子の妻", ("子", "妻")),
        ("子(子の妻)", "子の妻", ("子", "妻")),
        ("子の妻", "子の妻", ("子", "妻")),
    ],
)
def test_child_spouse_forms_are_recorded_as_the_chain(text, stored, chain):
    # std 1.1.11 (j110) ②: 子（子の夫）/子（子の妻） are recorded and printed 子の夫/子の妻
    rel = validate_relationship(text)
    assert rel.text == stored
    assert rel.chain == chain
    assert rel.generations == 2


@pytest.mark.parametrize(
    ("text", "generations"),
    [("妻の子", 2), ("子の子", 2), ("子の子の子", 3), ("子の子の子の子", 4), ("妻の父の母", 3)],
)
def test_chains_up_to_four_generations(text, generations):
    # std 1.1.11 (j110) ③: generations counted mechanically, 子の子の子の子 is the 4th
    rel = validate_relationship(text)
    assert rel.text == text
    assert rel.generations == generations
    assert rel.chain == tuple(text.split("の"))


@given(st.lists(st.sampled_from(BASE_TERMS), min_size=1, max_size=MAX_GENERATIONS))
def test_any_chain_of_base_terms_up_to_four_is_valid(terms):
    # std 1.1.11 (j110) ③
    rel = validate_relationship("の".join(terms))
    assert rel.chain == tuple(terms)
    assert rel.generations == len(terms)


@given(st.lists(st.sampled_from(BASE_TERMS), min_size=MAX_GENERATIONS + 1, max_size=8))
def test_any_deeper_chain_becomes_enkosha(terms):
    # std 1.1.11 (j110) 留意点: five generations or more → 縁故者
    text = "の".join(terms)
    with pytest.raises(RelationshipError) as err:
        validate_relationship(text)
    assert err.value.code == "relationship.too_deep"
    assert "縁故者" in err.value.message
    coerced = coerce_relationship(text)
    assert coerced.text == "縁故者"
    assert coerced.coerced
    assert coerced.original == text


def test_depth_boundary():
    # std 1.1.11 (j110): 子の子の子の子 is allowed, 子の子の子の子の子 is 縁故者
    assert validate_relationship("子の子の子の子").generations == 4
    assert not coerce_relationship("子の子の子の子").coerced
    with pytest.raises(RelationshipError, match="5世代") as err:
        validate_relationship("子の子の子の子の子")
    assert err.value.code == "relationship.too_deep"
    rel = coerce_relationship("子の子の子の子の子")
    assert rel == Relationship(
        "縁故者", RelationshipKind.ENKOSHA, coerced=True, original="子の子の子の子の子"
    )
    # the parenthesised form counts as two generations
    assert coerce_relationship("子（子の妻）の子の子の子").coerced


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("妻(未届)", "妻（未届）"),
        ("妻（未届け）", "妻（未届）"),
        ("夫 （未届出）", "夫（未届）"),
        ("妻[未届]", "妻（未届）"),
        ("子 の 妻", "子の妻"),
        ("子ノ子", "子の子"),
        ("\u3000妻\u3000", "妻"),
        ("子の妻(未届)", "子の妻（未届）"),
    ],
)
def test_normalisation(text, normalised):
    # std 1.1.11 (j110): one spelling for each relationship
    assert normalise_relationship(text) == normalised
    assert validate_relationship(text).text == normalised


def test_unregistered_and_other_properties():
    assert validate_relationship("妻（未届）").is_unregistered
    assert validate_relationship("子の夫（未届）").is_unregistered
    assert not validate_relationship("妻").is_unregistered
    assert validate_relationship("妻").is_spouse
    assert validate_relationship("夫（未届）").is_spouse
    assert not validate_relationship("子の妻").is_spouse
    assert validate_relationship("子").is_child
    assert not validate_relationship("妻の子").is_child


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("祖父", "「父の父」または「母の父」"),
        ("祖母", "「父の母」または「母の母」"),
        ("おじ", "「父の兄」または「父の弟」または「母の兄」または「母の弟」"),
        ("おば", "「父の姉」または「父の妹」または「母の姉」または「母の妹」"),
        ("甥", "「兄の子」または「弟の子」"),
        ("姪", "「兄の子」または「弟の子」"),
        ("孫", "「子の子」"),
        ("長男", "「子」"),
        ("長女", "「子」"),
        ("家事使用人", "「同居人」"),
        ("孫の妻", "「子の子の妻」"),
        ("長男の妻", "「子の妻」"),
        ("内縁の妻", "「妻（未届）」"),
        ("子の内縁の夫", "「子の夫（未届）」"),
        ("孫の子の子の子", "「縁故者」"),
        ("世帯主の妻", "「妻」"),
        ("本人", "「世帯主」"),
        ("縁故者の子", "「縁故者」"),
        ("嫁", "「子の妻」"),
        ("いとこ", "など"),
    ],
)
def test_forbidden_terms_name_the_chain_to_use(text, suggestion):
    # std 1.1.11 (j110) 【実装しない機能】: 祖父, 祖母, おじ, おば, 甥, 姪, 孫, 家事使用人 …
    with pytest.raises(RelationshipError) as err:
        validate_relationship(text)
    assert err.value.code == "relationship.forbidden"
    assert f"続柄「{text}」" in err.value.message
    assert suggestion in err.value.message


@pytest.mark.parametrize(
    "text", ["準世帯主", "子の", "の子", "子のの子", "友人", "子の世帯主", "X"]
)
def test_anything_outside_the_grammar_is_forbidden(text):
    # std 1.1.11 (j110) 【実装しない機能】: 準世帯主 and every form outside the grammar
    with pytest.raises(RelationshipError) as err:
        validate_relationship(text)
    assert err.value.code == "relationship.forbidden"
    assert "続柄" in err.value.message
    assert "入力してください" in err.value.message


def test_coerce_still_refuses_forbidden_terms():
    with pytest.raises(RelationshipError) as err:
        coerce_relationship("孫")
    assert err.value.code == "relationship.forbidden"


@pytest.mark.parametrize("text", ["", "  ", "\u3000"])
def test_empty(text):
    with pytest.raises(RelationshipError) as err:
        validate_relationship(text)
    assert err.value.code == "relationship.empty"


# --- display order, std 5.2 (j1010) -----------------------------------------------------------


def member(key, relationship, birth, *, koseki_head=False, via=None):
    return HouseholdMember(key, relationship, date.fromisoformat(birth), koseki_head, via)


def keys(members):
    return [m.key for m in household_display_order(members)]


def test_rank_one_head_spouse_children_by_birth():
    # std 5.2 (j1010) 第1順位: 世帯主, 配偶者, 子 by birth date, twins by 宛名番号
    members = [
        member("50", "子", "2005-04-01"),
        member("41", "子", "2003-01-01"),
        member("40", "子", "2003-01-01"),
        member("20", "妻", "1975-01-01"),
        member("10", "世帯主", "1973-01-01"),
    ]
    assert keys(members) == ["10", "20", "40", "41", "50"]


def test_eldest_sons_family_before_second_sons_family():
    # std 5.2 (j1010) 第2順位: 長男の家族 before 次男の家族; child, spouse, grandchildren
    members = [
        member("h", "世帯主", "1940-01-01"),
        member("w", "妻", "1942-01-01"),
        member("s2", "子", "1970-01-01"),  # 次男
        member("s2w", "子の妻", "1971-01-01", via="s2"),
        member("s2c", "子の子", "2000-01-01", via="s2"),
        member("s1", "子", "1966-01-01"),  # 長男
        member("s1c2", "子の子", "1999-01-01", via="s1"),
        member("s1c1", "子の子", "1995-01-01", via="s1"),
        member("s1w", "子（子の妻）", "1968-01-01", via="s1"),
        member("d", "子", "1975-01-01"),  # 長女, no family: rank 1
    ]
    assert keys(members) == ["h", "w", "d", "s1", "s1w", "s1c1", "s1c2", "s2", "s2w", "s2c"]


def test_spouse_side_siblings_by_birth():
    # std 5.2 (j1010) 例1: 妻の兄 before 妻の弟
    members = [
        member("3", "妻の弟", "1980-01-01"),
        member("2", "妻の兄", "1970-01-01"),
        member("1", "世帯主", "1970-01-01"),
    ]
    assert keys(members) == ["1", "2", "3"]


def test_twins_by_atena_no():
    # std 5.2 (j1010) 例2: 妻の兄 (123…45) and 妻の姉 (124…67), twins → 宛名番号 order
    members = [
        member("124000000067", "妻の姉", "1970-05-05"),
        member("123000000045", "妻の兄", "1970-05-05"),
        member("100000000001", "世帯主", "1970-01-01"),
    ]
    assert keys(members) == ["100000000001", "123000000045", "124000000067"]


def test_atena_no_is_ordered_numerically():
    # std 5.2 (j1010): 宛名番号の順
    members = [
        member("B", "子", "2000-01-01"),
        member("100", "子", "2000-01-01"),
        member("99", "子", "2000-01-01"),
    ]
    assert keys(members) == ["99", "100", "B"]


def test_rank_three_parents_siblings_grandparents():
    # std 5.2 (j1010) 第3順位: 父母 (筆頭者 first), 兄弟姉妹 by birth, 祖父母 (筆頭者 first)
    members = [
        member("gm", "父の母", "1920-01-01"),
        member("gf", "父の父", "1922-01-01", koseki_head=True),
        member("sis", "妹", "1980-01-01"),
        member("bro", "兄", "1975-01-01"),
        member("fa", "父", "1948-01-01"),
        member("mo", "母", "1947-01-01", koseki_head=True),
        member("h", "世帯主", "1978-01-01"),
    ]
    assert keys(members) == ["h", "mo", "fa", "bro", "sis", "gf", "gm"]


def test_rank_three_parents_without_koseki_head_by_birth():
    # std 5.2 (j1010) 3-1: no 筆頭者 → birth date
    members = [
        member("fa", "父", "1948-01-01"),
        member("mo", "母", "1947-01-01"),
        member("h", "世帯主", "1978-01-01"),
    ]
    assert keys(members) == ["h", "mo", "fa"]


def test_rank_four_order():
    # std 5.2 (j1010) 第4順位: spouse's side as rank 3, relatives, families, 縁故者, 同居人
    members = [
        member("lodger", "同居人", "1960-01-01"),
        member("friend", "縁故者", "1990-01-01"),
        member("friend2", "縁故者", "1950-01-01"),
        member("uncle", "父の兄", "1940-01-01"),
        member("wgf", "妻の父の父", "1910-01-01"),
        member("wsis", "妻の妹", "1985-01-01"),
        member("wmo", "妻の母", "1950-01-01", koseki_head=True),
        member("wfa", "妻の父", "1948-01-01"),
        member("w", "妻", "1982-01-01"),
        member("h", "世帯主", "1980-01-01"),
        member("fa", "父", "1950-01-01"),
    ]
    assert keys(members) == [
        "h",
        "w",
        "fa",
        "wmo",
        "wfa",
        "wsis",
        "wgf",
        "uncle",
        "friend2",
        "friend",
        "lodger",
    ]


def test_relatives_families_follow_rank_two_and_generation_order():
    # std 5.2 (j1010) 第4順位: relatives' families ordered as rank 2, by generation then birth
    members = [
        member("h", "世帯主", "1970-01-01"),
        member("ucc", "父の兄の子", "1960-01-01"),  # cousin, with a child → a family
        member("uccc", "父の兄の子の子", "1990-01-01"),
        member("bro", "兄", "1965-01-01"),  # sibling with a wife and child → a family
        member("brow", "兄の妻", "1966-01-01"),
        member("broc", "兄の子", "1995-01-01"),
        member("sis", "姉", "1963-01-01"),  # sibling alone → rank 3
        member("aunt", "父の妹", "1945-01-01"),  # relative alone
    ]
    assert keys(members) == ["h", "sis", "aunt", "bro", "brow", "broc", "ucc", "uccc"]


def test_spouses_child_is_ordered_with_the_heads_children():
    # std 5.2 (j1010) 第1順位: the couple and their children (interpretation: 妻の子 too)
    members = [
        member("h", "世帯主", "1970-01-01"),
        member("w", "妻", "1972-01-01"),
        member("c2", "子", "2005-01-01"),
        member("sc", "妻の子", "2000-01-01"),
        member("scc", "妻の子の子", "2020-01-01"),
        member("c1", "子", "1998-01-01"),
    ]
    # 妻の子 has a child of her own, so hers is a rank-2 family
    assert keys(members) == ["h", "w", "c1", "c2", "sc", "scc"]


def test_unique_parent_is_linked_without_via():
    # std 5.2 (j1010) 第2順位: the one 子 is the parent of 子の子 and husband of 子の妻
    members = [
        member("h", "世帯主", "1940-01-01"),
        member("gc", "子の子", "1995-01-01"),
        member("dil", "子の妻", "1968-01-01"),
        member("s", "子", "1966-01-01"),
        member("d", "子の子の妻", "1994-01-01"),
        member("ggc", "子の子の子", "2020-01-01"),
    ]
    assert keys(members) == ["h", "s", "dil", "gc", "d", "ggc"]


def test_family_children_without_family_come_first():
    # std 5.2 (j1010): within a family, as in ranks 1 and 2
    members = [
        member("h", "世帯主", "1940-01-01"),
        member("s", "子", "1966-01-01"),
        member("gc1", "子の子", "1990-01-01"),
        member("gc1w", "子の子の妻", "1991-01-01", via="gc1"),
        member("gc2", "子の子", "1995-01-01"),
    ]
    assert keys(members) == ["h", "s", "gc2", "gc1", "gc1w"]


def test_ambiguous_links_are_listed_after_the_families():
    # std 5.2 (j1010): with two 子, an unlinked 子の妻 cannot be placed in either family
    members = [
        member("h", "世帯主", "1940-01-01"),
        member("s1", "子", "1966-01-01"),
        member("s2", "子", "1968-01-01"),
        member("gc", "子の子", "1995-01-01", via="s2"),
        member("dil", "子の妻", "1967-01-01"),
        member("orphan", "子の子", "1990-01-01"),
    ]
    assert keys(members) == ["h", "s1", "s2", "gc", "dil", "orphan"]


def test_grandchild_without_a_child_in_the_household():
    # std 5.2 (j1010) 第2順位: a 子の子 whose parent lives elsewhere
    members = [member("gc", "子の子", "2000-01-01"), member("h", "世帯主", "1940-01-01")]
    assert keys(members) == ["h", "gc"]


def test_via_through_the_childs_spouse():
    # 子の妻の子 given via the 子の妻 belongs to the family of her husband, the 子
    members = [
        member("h", "世帯主", "1940-01-01"),
        member("s1", "子", "1966-01-01"),
        member("s2", "子", "1968-01-01"),
        member("w2", "子の妻", "1969-01-01", via="s2"),
        member("step", "子の妻の子", "1990-01-01", via="w2"),
    ]
    assert keys(members) == ["h", "s1", "s2", "w2", "step"]


def test_relatives_of_parents_are_rank_four():
    # std 5.2 (j1010): 父母 stay in 3-1; 父の妻 and 父の子 are other relatives
    members = [
        member("h", "世帯主", "1970-01-01"),
        member("fa", "父", "1940-01-01"),
        member("stepmo", "父の妻", "1950-01-01"),
        member("half", "父の子", "1980-01-01"),
        member("wgfw", "妻の父の妻", "1930-01-01"),
        member("wfa", "妻の父", "1935-01-01"),
    ]
    assert keys(members) == ["h", "fa", "wfa", "wgfw", "stepmo", "half"]


def test_spouse_side_sibling_with_family_moves_to_relatives_families():
    # std 5.2 (j1010) 第4順位: 親族の家族 ordered as rank 2, by generation
    members = [
        member("h", "世帯主", "1970-01-01"),
        member("wb", "妻の兄", "1965-01-01"),
        member("wbw", "妻の兄の妻", "1966-01-01"),
        member("ws", "妻の妹", "1975-01-01"),
        member("fb", "父の兄", "1935-01-01"),
        member("fbc", "父の兄の子", "1960-01-01"),
    ]
    assert keys(members) == ["h", "ws", "fb", "fbc", "wb", "wbw"]


def test_household_without_a_head():
    # std 1.1.10 (j100): a household may have no head for a while
    members = [member("c", "子", "2000-01-01"), member("w", "妻", "1970-01-01")]
    assert keys(members) == ["w", "c"]


def test_odd_but_valid_chains_are_placed():
    # grammatical chains with no family meaning (妻の夫) are ordinary relatives
    members = [
        member("h", "世帯主", "1970-01-01"),
        member("w", "妻", "1970-01-01"),
        member("x", "妻の夫", "1960-01-01"),
        member("y", "妻の妻の子", "1990-01-01"),
    ]
    assert keys(members) == ["h", "w", "y", "x"]


@pytest.mark.parametrize(
    ("members", "detail"),
    [
        ([member("h", "世帯主", "1970-01-01", via="x")], "世帯主・縁故者・同居人"),
        ([member("f", "父", "1940-01-01", via="h")], "経由しません"),
        ([member("w", "妻", "1970-01-01", via="h")], "関係先は不要"),
        ([member("c", "子の子", "2000-01-01", via="nobody")], "いません"),
        ([member("c", "子の子", "2000-01-01", via="c")], "いません"),
        (
            [member("f", "父", "1940-01-01"), member("c", "子の子", "2000-01-01", via="f")],
            "「子」である必要",
        ),
    ],
)
def test_bad_via_is_refused(members, detail):
    with pytest.raises(RelationshipError) as err:
        household_display_order(members)
    assert err.value.code == "relationship.link"
    assert detail in err.value.message


def test_invalid_relationship_in_a_household_is_refused():
    with pytest.raises(RelationshipError) as err:
        household_display_order([member("1", "孫", "2000-01-01")])
    assert err.value.code == "relationship.forbidden"


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        household_display_order([member("1", "子", "2000-01-01"), member("1", "子", "2001-01-01")])


def test_empty_household():
    assert household_display_order([]) == []


_POOL = [
    "世帯主",
    "縁故者",
    "同居人",
    "妻",
    "夫（未届）",
    "子",
    "子の妻",
    "子の夫",
    "子の子",
    "子の子の妻",
    "子の子の子",
    "子の妻の子",
    "妻の子",
    "妻の子の子",
    "父",
    "母",
    "兄",
    "兄の妻",
    "兄の子",
    "父の父",
    "母の母",
    "父の兄",
    "父の兄の子",
    "妻の父",
    "妻の兄",
    "妻の兄の子",
    "妻の母の母",
    "妻の夫",
    "父の妻",
    "子の子の子の子",
]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(_POOL),
            st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 1, 1)),
            st.booleans(),
        ),
        max_size=25,
    )
)
def test_display_order_is_a_permutation(rows):
    # std 5.2 (j1010): every member is listed exactly once, whatever the household
    members = [
        HouseholdMember(str(index), rel, born, koseki)
        for index, (rel, born, koseki) in enumerate(rows)
    ]
    ordered = household_display_order(members)
    assert sorted(m.key for m in ordered) == sorted(m.key for m in members)
    assert household_display_order(list(reversed(members))) == ordered  # input order is irrelevant
    heads = [m for m in ordered if m.relationship == "世帯主"]
    assert ordered[: len(heads)] == heads


def test_suggestions_too_deep_in_every_reading_collapse_to_enkosha():
    # std 1.1.11 (j110) 留意点: every reading of 祖父の兄の子の子 is five generations
    with pytest.raises(RelationshipError) as err:
        validate_relationship("祖父の兄の子の子")
    assert err.value.message.endswith("「縁故者」としてください。")
    assert "または" not in err.value.message
