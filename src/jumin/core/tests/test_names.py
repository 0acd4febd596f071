import pytest
from hypothesis import given
from hypothesis import strategies as st

from jumin.core.errors import NameRuleError
from jumin.core.names import (
    DASH_CHARACTERS,
    MAX_NAME_KANA_LENGTH,
    MAX_NAME_LENGTH,
    NameKanaKeys,
    field_label,
    kana_exact_key,
    kana_search_key,
    name_kana_keys,
    split_name,
    validate_name,
    validate_name_kana,
)

KATAKANA = st.text(alphabet=[chr(c) for c in range(0x30A1, 0x3100)] + [" ", "\u3000", "-"])
ANY_KANA = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3041, max_codepoint=0x30FF),
        st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F),
        st.characters(min_codepoint=0x31F0, max_codepoint=0x31FF),
        st.sampled_from([*sorted(DASH_CHARACTERS), " ", "\u3000", "・", "＝", "ア"]),
    )
)


# --- fuzzy key: every pair of std 2.1.2 (j330) -------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("ヂ", "ジ"),
        ("ズ", "ヅ"),
        ("ワ", "ハ"),
        ("ヴァ", "バ"),
        ("ヴィ", "ビ"),
        ("ヴ", "ブ"),
        ("オ", "ヲ"),
        ("ヒ", "ピ"),
        ("ッ", "ツ"),
        ("ャ", "ヤ"),
        ("ュ", "ユ"),
        ("ョ", "ヨ"),
    ],
)
def test_spec_example_pairs_share_a_key(left, right):
    # std 2.1.2 (j330): 清音・濁音・半濁音 and small/large kana are ignored
    assert kana_search_key(left) == kana_search_key(right)
    assert kana_search_key(f"ア{left}マ") == kana_search_key(f"ア{right}マ")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("ヤマザキ", "ヤマサキ"),
        ("ハセガワ", "ハセカワ"),
        ("ベップ", "ヘツフ"),
        ("ヴェルデ", "ベルデ"),
        ("ヴォルフ", "ボルフ"),
        ("ヴュー", "ビュ"),
        ("ヷ", "バ"),
        ("ヸ", "ビ"),
        ("ヹ", "ベ"),
        ("ヺ", "ボ"),
        ("ヮ", "ハ"),
        ("ヵ", "カ"),
        ("ヶ", "ケ"),
        ("ヰ", "イ"),
        ("ヱ", "エ"),
        ("ㇰ", "ク"),
        ("ァィゥェォ", "アイウエオ"),
    ],
)
def test_voicing_and_small_kana_fold_everywhere(left, right):
    # std 2.1.2 (j330): voicing and small kana, beyond the listed examples
    assert kana_search_key(left) == kana_search_key(right)


@pytest.mark.parametrize("dash", sorted(DASH_CHARACTERS))
def test_every_dash_variant_is_an_ignored_long_vowel(dash):
    # std 2.1.2 (j330): ー ― － ‐ ｰ - are the same and the long vowel is ignored
    assert kana_search_key(f"マリ{dash}") == kana_search_key("マリ")
    assert kana_search_key(f"マリ{dash}") == kana_search_key("マリー")
    assert kana_exact_key(f"マリ{dash}") == "マリー"


def test_spec_listed_dashes_are_covered():
    # std 2.1.2 (j330): the six characters the standard names
    assert {"ー", "―", "－", "‐", "ｰ", "-"} <= DASH_CHARACTERS


@pytest.mark.parametrize(
    "spelling", ["オオノ", "オウノ", "オーノ", "オヲノ", "オノ", "おおの", "ｵｰﾉ"]
)
def test_long_o_spellings_meet(spelling):
    # std 2.1.2 (j330): オ段+ウ → オ, and long vowels ignored: one key for the long オ
    assert kana_search_key(spelling) == "オノ"


@pytest.mark.parametrize(
    "spelling", ["サトウ", "サトオ", "サトー", "サト", "さとう", "ｻﾄｳ", "ザドウ"]
)
def test_o_row_plus_u(spelling):
    # std 2.1.2 (j330): the ウ after an オ段 kana is read as オ (then a long vowel)
    assert kana_search_key(spelling) == "サト"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ショウ", "シヨ"),
        ("コウノ", "コノ"),
        ("ユウキ", "ユウキ"),  # ウ段 + ウ is not the オ段 rule
        ("ケイコ", "ケイコ"),
        ("ウノ", "ウノ"),  # the first kana is never changed
        ("オウ", "オ"),
        ("トウウ", "ト"),
    ],
)
def test_o_row_rule_scope(text, key):
    # std 2.1.2 (j330): only a ウ from the second kana on, after an オ段 kana
    assert kana_search_key(text) == key


@pytest.mark.parametrize(
    "spelling", ["ヤマダ　タロウ", "ヤマダ タロウ", "ヤマダタロウ", "やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"]
)
def test_space_between_family_and_given_name_is_ignored(spelling):
    # std 2.1.2 (j330): full- and half-width spaces alike; the space may be left out
    assert kana_search_key(spelling) == kana_search_key("ヤマダタロウ")
    assert kana_exact_key(spelling) == "ヤマダタロウ"


def test_hiragana_and_half_width_input_is_katakana():
    # std 2.1.2 (j330): カタカナで入力及び検索; hiragana and half-width input meet it
    assert kana_exact_key("がっこう") == "ガッコウ"
    assert kana_exact_key("ｶﾞｯｺｳ") == "ガッコウ"
    assert kana_search_key("がっこう") == kana_search_key("ｶﾞｯｺｳ") == kana_search_key("カツコ")


def test_voicing_marks_are_composed():
    assert kana_exact_key("カ\u3099") == "ガ"
    assert kana_exact_key("カ゛") == "ガ"
    assert kana_exact_key("ハ゜") == "パ"
    assert kana_exact_key("ｳﾞ") == "ヴ"
    assert kana_exact_key("ワﾞ") == "ヷ"
    assert kana_exact_key("゛ア") == "\u3099ア"  # nothing to join to: kept, not lost
    assert kana_search_key("ウ゛ァ") == kana_search_key("バ")
    assert kana_search_key("゛ア") == "ア"


def test_iteration_marks_repeat_the_kana_before():
    assert kana_search_key("サヽキ") == kana_search_key("ササキ")
    assert kana_search_key("ミスヾ") == kana_search_key("ミスズ")
    assert kana_search_key("ヽア") == "ア"


def test_separators_are_ignored_by_the_fuzzy_key_only():
    assert kana_search_key("ジョン・スミス") == kana_search_key("ジョン スミス")
    assert kana_search_key("ジョン＝スミス") == kana_search_key("ジョンスミス")
    assert kana_exact_key("ジョン・スミス") == "ジョン・スミス"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("サトウ", "サイトウ"),
        ("タナカ", "ナカタ"),
        ("スズキ", "ツヅキ"),
        ("チカ", "シカ"),
        ("イトウ", "イトイ"),
        ("カトウ", "カトリ"),
        ("ヤマダ", "ヤマモト"),
    ],
)
def test_distinct_names_stay_distinct(left, right):
    # std 2.1.2 (j330): fuzzy, but not so fuzzy that different names meet
    assert kana_search_key(left) != kana_search_key(right)


def test_exact_key_keeps_what_the_fuzzy_key_folds():
    assert kana_exact_key("サトウ") != kana_exact_key("サトー")
    assert kana_exact_key("ヂ") != kana_exact_key("ジ")
    assert kana_exact_key("ッ") != kana_exact_key("ツ")


def test_non_kana_passes_through():
    assert kana_search_key("ABC") == "ABC"
    assert kana_exact_key("山田") == "山田"


@given(ANY_KANA)
def test_fuzzy_key_is_idempotent(text):
    # std 2.1.2 (j330): the stored key and the query key come from the same function
    key = kana_search_key(text)
    assert kana_search_key(key) == key


@given(ANY_KANA)
def test_exact_key_is_idempotent(text):
    key = kana_exact_key(text)
    assert kana_exact_key(key) == key


@given(st.text())
def test_keys_accept_any_text(text):
    assert kana_search_key(kana_search_key(text)) == kana_search_key(text)
    assert kana_exact_key(kana_exact_key(text)) == kana_exact_key(text)


@given(KATAKANA)
def test_fuzzy_key_agrees_for_hiragana_and_half_width_spellings(text):
    # std 2.1.2 (j330): the same reading typed as hiragana or with spaces meets the katakana
    import jaconv

    assert kana_search_key(jaconv.kata2hira(text)) == kana_search_key(text)
    assert kana_search_key(text.replace(" ", "\u3000")) == kana_search_key(text)


@given(KATAKANA)
def test_fuzzy_key_has_no_folded_characters(text):
    key = kana_search_key(text)
    assert not set(key) & set("ガパヴワヲッャュョァィゥェォーヂヅ \u3000")


@given(KATAKANA, KATAKANA)
def test_space_never_matters(family, given_name):
    # std 2.1.2 (j330): 氏と名との間のスペースを無視
    assert kana_search_key(f"{family}　{given_name}") == kana_search_key(family + given_name)


# --- split and stored keys ---------------------------------------------------------------


def test_split_name():
    assert split_name("ヤマダ　タロウ") == ("ヤマダ", "タロウ")
    assert split_name("山田 太郎") == ("山田", "太郎")
    assert split_name(" SMITH JOHN PAUL ") == ("SMITH", "JOHN PAUL")
    assert split_name("ヤマダ") == ("ヤマダ", "")
    assert split_name("  ") == ("", "")


def test_name_kana_keys_allow_given_name_search():
    # std 2.1.2 (j330): search by the given name only
    keys = name_kana_keys("サトウ　ユウコ")
    assert keys == NameKanaKeys(
        exact="サトウユウコ", fuzzy="サトユウコ", given_exact="ユウコ", given_fuzzy="ユウコ"
    )
    assert kana_search_key("ゆうこ") == keys.given_fuzzy
    assert kana_search_key("サトー ユーコ") != keys.fuzzy  # ユー is not ユウ (only オ段 folds)
    assert kana_search_key("サトーユウコ") == keys.fuzzy


def test_name_kana_keys_without_a_space():
    keys = name_kana_keys("マリア")
    assert keys.given_exact == keys.given_fuzzy == ""
    assert keys.exact == "マリア"


def test_keys_never_change_the_stored_value():
    stored = "ヤマダ　タロウ"
    name_kana_keys(stored)
    assert stored == "ヤマダ　タロウ"


# --- validate_name_kana (std 1.1.18, j180) -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("ヤマダ　タロウ", "ヤマダ　タロウ"),
        ("やまだ たろう", "ヤマダ　タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ"),
        ("  ヤマダ   タロウ  ", "ヤマダ　タロウ"),
        ("スミス　ジョン　ポール", "スミス　ジョン　ポール"),
        ("マリ-", "マリー"),
        ("ヴァン・ダイク", "ヴァン・ダイク"),
        ("カ゛ク", "ガク"),
        ("ササヽ", "ササヽ"),
        ("ㇰㇱ", "ㇰㇱ"),
    ],
)
def test_reading_is_stored_as_full_width_katakana(text, stored):
    # std 1.1.18 (j180): the reading is managed in katakana
    assert validate_name_kana(text) == stored


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_reading_empty(text):
    with pytest.raises(NameRuleError) as err:
        validate_name_kana(text)
    assert err.value.code == "name_kana.empty"
    assert "氏名の振り仮名" in err.value.message


@pytest.mark.parametrize(
    "text",
    ["YAMADA", "山田", "ヤマダ1", "ヤマダ！", "ヤマダ😀", "ヤマダ\nタロウ", "ヤマダ\u200b", "゛ア"],
)
def test_reading_script(text):
    with pytest.raises(NameRuleError) as err:
        validate_name_kana(text, field="alias_kana")
    assert err.value.code == "name_kana.script"
    assert "通称の振り仮名" in err.value.message
    assert "カタカナ" in err.value.message


def test_reading_too_long():
    assert validate_name_kana("ア" * MAX_NAME_KANA_LENGTH)
    with pytest.raises(NameRuleError) as err:
        validate_name_kana("ア" * (MAX_NAME_KANA_LENGTH + 1))
    assert err.value.code == "name_kana.too_long"
    assert str(MAX_NAME_KANA_LENGTH) in err.value.message


@given(st.text(alphabet=[chr(c) for c in range(0x30A1, 0x30FB)], min_size=1, max_size=50))
def test_valid_katakana_is_stored_unchanged(text):
    assert validate_name_kana(text) == text


# --- validate_name: stored exactly as entered (DOMAIN-NOTES §4) ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        "山田　太郎",
        "山田 太郎",
        "\ufa19田",  # 神 U+FA19, a compatibility ideograph NFC would change
        "\u845b\U000e0100城",  # 葛 + IVS (U+E0100)
        "辻\U000e0101",
        "渡邉",
        "髙橋",
        "𠮷田",
        "佐々木",
        "〆木",
        "ヶ谷",
        "さくら",
        "SMITH JOHN",
        "O'BRIEN",
        "O\u2019BRIEN",
        "SMITH-JONES",
        "ＳＭＩＴＨ",
        "José",
        "Jose\u0301",  # decomposed accent stays decomposed
        "ジョン・スミス",
        "ジョン＝スミス",
        "\ue000田",  # a 外字 in the private use area
        "金\ufe00",  # standardised variation selector
    ],
)
def test_name_is_returned_exactly_as_entered(text):
    assert validate_name(text) == text
    assert validate_name(text).encode("utf-8") == text.encode("utf-8")


def test_compatibility_ideograph_is_not_normalised():
    value = validate_name("\ufa19")
    assert value == "\ufa19"
    assert ord(value) == 0xFA19


def test_ivs_sequence_keeps_its_selector():
    value = validate_name("\u8fbb\U000e0100")
    assert len(value) == 2
    assert value[1] == "\U000e0100"


@pytest.mark.parametrize("text", ["", " ", "\u3000\u3000"])
def test_name_empty(text):
    with pytest.raises(NameRuleError) as err:
        validate_name(text, field="family_name")
    assert err.value.code == "name.empty"
    assert "氏" in err.value.message


@pytest.mark.parametrize(
    "text",
    [
        "山田😀",
        "山田\t太郎",
        "山田\n",
        "山田\u200b太郎",
        "山田1",
        "ﾔﾏﾀﾞ",
        "Иван",
        "김",
        "\U000e0100山",  # a selector with no ideograph before it
        "あ\U000e0100",
        "\u0301A",
        "山\u0301",
        "山田@",
    ],
)
def test_name_script(text):
    with pytest.raises(NameRuleError) as err:
        validate_name(text)
    assert err.value.code == "name.script"
    assert err.value.message.startswith("氏名に使用できない文字")
    assert "U+" in err.value.message


@pytest.mark.parametrize("text", [" 山田", "山田 ", "山田\u3000", "山田  太郎", "山田\u3000 太郎"])
def test_name_whitespace_is_reported_not_trimmed(text):
    with pytest.raises(NameRuleError) as err:
        validate_name(text)
    assert err.value.code == "name.whitespace"


def test_name_too_long_counts_characters_not_selectors():
    at_limit = "\u8fbb\U000e0100" * MAX_NAME_LENGTH
    assert validate_name(at_limit) == at_limit
    with pytest.raises(NameRuleError) as err:
        validate_name("山" * (MAX_NAME_LENGTH + 1))
    assert err.value.code == "name.too_long"
    assert "氏名" in err.value.message


def test_error_str_carries_message_and_code():
    with pytest.raises(NameRuleError, match=r"\[name\.empty\]"):
        validate_name("")


def test_field_labels():
    assert field_label("name") == "氏名"
    assert field_label("former_family_name_kana") == "旧氏の振り仮名"
    assert field_label("something_else") == "something_else"
