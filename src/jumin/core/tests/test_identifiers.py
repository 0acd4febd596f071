"""Identifiers: check digits, validation with stable error codes, generation, corruption."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jumin.core.errors import CoreError, IdentifierError
from jumin.core.identifiers import (
    ATENA_NO_WIDTH,
    DEFAULT_JUMINHYO_CHECK,
    AddressCode,
    corporate_number_check_digit,
    generate_juminhyo_code,
    generate_my_number,
    generate_residence_card_no,
    get_juminhyo_code_check,
    is_valid_my_number,
    juminhyo_code_check_digit,
    local_government_code_check_digit,
    make_address_code,
    make_atena_no,
    make_household_no,
    mod11_w27_check_digit,
    my_number_check_digit,
    parse_address_code,
    set_juminhyo_code_check,
    validate_atena_no,
    validate_corporate_number,
    validate_household_no,
    validate_juminhyo_code,
    validate_local_government_code,
    validate_my_number,
    validate_residence_card_no,
)

FAST = settings(max_examples=150, deadline=None, database=None)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)

# DOMAIN-NOTES §2: verified valid 個人番号.
VALID_MY_NUMBERS = [
    "123456789018",
    "023456789013",
    "983205673214",
    "314159265352",
    "271828182840",
    "000000000019",
]


def _code(fn: Callable[[], object]) -> str:
    with pytest.raises(IdentifierError) as info:
        fn()
    assert info.value.message  # a Japanese message for the clerk
    assert info.value.code in str(info.value)
    return info.value.code


# --- independent re-implementations of the published formulas (the oracle) ---------------


def _weighted(body: str, weights_from_right: tuple[int, ...]) -> int:
    digits = [int(c) for c in reversed(body)]
    return sum(d * weights_from_right[i % len(weights_from_right)] for i, d in enumerate(digits))


def _my_number_remainder(body: str) -> int:
    # Qn = n + 1 for n ≤ 6, n − 5 for n ≥ 7 (n counted from the right, check digit excluded)
    return sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), 1)) % 11


def _juminhyo_remainder(body: str) -> int:
    return _weighted(body, (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)) % 11


def _w27_remainder(body: str) -> int:
    return _weighted(body, (2, 3, 4, 5, 6, 7)) % 11


def _lg_remainder(body: str) -> int:
    return sum(int(d) * w for d, w in zip(body, (6, 5, 4, 3, 2), strict=True)) % 11


# --- 個人番号 ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", VALID_MY_NUMBERS)
def test_known_valid_my_numbers(number):
    assert validate_my_number(number) == number
    assert my_number_check_digit(number[:11]) == number[11]
    assert is_valid_my_number(number)


def test_my_number_formula_matches_the_published_weights():
    for number in VALID_MY_NUMBERS:
        r = _my_number_remainder(number[:11])
        assert number[11] == ("0" if r <= 1 else str(11 - r))


@pytest.mark.parametrize(
    "typed",
    [
        "１２３４５６７８９０１８",
        "1234-5678-9018",
        "1234 5678 9018",
        " 1234　5678　9018 ",
        "1234－5678－9018",
    ],
)
def test_my_number_normalises_width_spaces_and_hyphens(typed):
    assert validate_my_number(typed) == "123456789018"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "my_number.empty"),
        ("  - ", "my_number.empty"),
        ("12345678901a", "my_number.digits"),
        ("12345678901²", "my_number.digits"),  # not an ASCII digit, though str.isdigit() says so
        ("12345678901", "my_number.length"),
        ("1234567890180", "my_number.length"),
        ("123456789019", "my_number.check_digit"),
    ],
)
def test_my_number_errors(value, code):
    assert _code(lambda: validate_my_number(value)) == code
    assert not is_valid_my_number(value)


@pytest.mark.parametrize(
    ("body", "code"),
    [("1234567890", "my_number.length"), ("１２３４５６７８９０１", "my_number.digits")],
)
def test_my_number_check_digit_wants_exactly_11_ascii_digits(body, code):
    assert _code(lambda: my_number_check_digit(body)) == code


def test_identifier_error_is_a_core_value_error():
    with pytest.raises(ValueError, match=r"my_number\.length"):
        validate_my_number("1")
    assert issubclass(IdentifierError, CoreError)


@FAST
@given(SEEDS)
def test_generated_my_numbers_are_valid(seed):
    number = generate_my_number(random.Random(seed))
    assert len(number) == 12
    assert validate_my_number(number) == number


# --- single-digit substitutions --------------------------------------------------------------
# For the mod-11 schemes with "r ≤ 1 → 0" a substitution in the body always changes the
# remainder (weights 2..7 and a digit difference 1..9 are units mod 11), but remainders 0 and
# 1 share check digit 0: exactly those substitutions go undetected. A changed check digit is
# always caught.


def _substitutions(number: str):
    for i, old in enumerate(number):
        for new in "0123456789":
            if new != old:
                yield i, number[:i] + new + number[i + 1 :]


def _detected(validate: Callable[[str], str], value: str) -> bool:
    try:
        validate(value)
    except IdentifierError:
        return True
    return False


def _assert_low_zero_property(number, validate, remainder, body_slice, rejected=lambda v: False):
    """``rejected``: values refused for another reason (counted as detected)."""
    body = number[body_slice]
    for i, corrupted in _substitutions(number):
        in_body = body_slice.start <= i < (body_slice.stop or len(number))
        if not in_body:
            assert _detected(validate, corrupted)
            continue
        r_old, r_new = remainder(body), remainder(corrupted[body_slice])
        assert r_old != r_new
        expected = {r_old, r_new} != {0, 1} or rejected(corrupted)
        assert _detected(validate, corrupted) == expected


@pytest.mark.parametrize("number", VALID_MY_NUMBERS)
def test_my_number_substitutions_exhaustively(number):
    _assert_low_zero_property(number, validate_my_number, _my_number_remainder, slice(0, 11))


@FAST
@given(st.text("0123456789", min_size=11, max_size=11))
def test_my_number_substitution_property(body):
    number = body + my_number_check_digit(body)
    _assert_low_zero_property(number, validate_my_number, _my_number_remainder, slice(0, 11))


def test_my_number_misses_exactly_the_remainder_0_1_swap():
    # "every single-digit substitution is caught" is false: this one is not.
    body = "00000000000"  # r = 0 → check 0
    corrupted = "00000000006"  # P1 = 6 with weight 2: 12 ≡ 1 → check still 0
    assert _my_number_remainder(body) == 0
    assert _my_number_remainder(corrupted) == 1
    assert is_valid_my_number(body + "0")
    assert is_valid_my_number(corrupted + "0")


# --- 住民票コード ----------------------------------------------------------------------------


@pytest.fixture
def restore_juminhyo_check():
    yield
    set_juminhyo_code_check(None)


def test_juminhyo_default_check_follows_the_secondary_evidence_scheme():
    for body in ("1234567890", "0000000000", "9999999999", "0000000006", "3141592653"):
        r = _juminhyo_remainder(body)
        expected = "0" if r <= 1 else str(11 - r)
        assert juminhyo_code_check_digit(body) == expected
        assert DEFAULT_JUMINHYO_CHECK(body) == expected
        assert validate_juminhyo_code(body + expected) == body + expected


def test_juminhyo_code_normalises_input():
    code = "1234567890" + juminhyo_code_check_digit("1234567890")
    full_width = code.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert validate_juminhyo_code(full_width) == code
    assert validate_juminhyo_code(f"{code[:4]}-{code[4:]}") == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "juminhyo_code.empty"),
        ("1234567890X", "juminhyo_code.digits"),
        ("123456789", "juminhyo_code.length"),
        ("123456789012", "juminhyo_code.length"),
    ],
)
def test_juminhyo_code_errors(value, code):
    assert _code(lambda: validate_juminhyo_code(value)) == code


def test_juminhyo_code_wrong_check_digit():
    good = "1234567890" + juminhyo_code_check_digit("1234567890")
    bad = good[:10] + str((int(good[10]) + 1) % 10)
    assert _code(lambda: validate_juminhyo_code(bad)) == "juminhyo_code.check_digit"
    assert _code(lambda: juminhyo_code_check_digit("123")) == "juminhyo_code.length"


def test_juminhyo_check_is_pluggable_globally(restore_juminhyo_check):
    def always_seven(first10: str, /) -> str:
        return "7"

    previous = set_juminhyo_code_check(always_seven)
    assert previous is DEFAULT_JUMINHYO_CHECK
    assert get_juminhyo_code_check() is always_seven
    assert validate_juminhyo_code("12345678907") == "12345678907"
    assert generate_juminhyo_code(random.Random(1)).endswith("7")
    assert set_juminhyo_code_check(None) is always_seven
    assert get_juminhyo_code_check() is DEFAULT_JUMINHYO_CHECK


def test_juminhyo_check_is_pluggable_per_call():
    def always_zero(first10: str, /) -> str:
        return "0"

    assert juminhyo_code_check_digit("1234567890", check=always_zero) == "0"
    assert validate_juminhyo_code("12345678900", check=always_zero) == "12345678900"
    assert generate_juminhyo_code(random.Random(2), check=always_zero).endswith("0")
    assert get_juminhyo_code_check() is DEFAULT_JUMINHYO_CHECK


@FAST
@given(SEEDS)
def test_generated_juminhyo_codes_are_valid(seed):
    code = generate_juminhyo_code(random.Random(seed))
    assert len(code) == 11
    assert validate_juminhyo_code(code) == code


@FAST
@given(st.text("0123456789", min_size=10, max_size=10))
def test_juminhyo_substitution_property(body):
    code = body + juminhyo_code_check_digit(body)
    _assert_low_zero_property(code, validate_juminhyo_code, _juminhyo_remainder, slice(0, 10))


# --- 宛名番号・世帯番号 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("000000001", "9"),  # 1·2 = 2 → 11 − 2
        ("000000041", "8"),  # 1·2 + 4·3 = 14 ≡ 3
        ("000000062", "0"),  # 2·2 + 6·3 = 22 ≡ 0 → 0 (the standard's rule)
        ("000000006", "0"),  # 6·2 = 12 ≡ 1 → 0 (our documented rule for remainder 1)
        ("100000", "4"),  # weight 7 for the 6th digit from the right: 7 → 11 − 7
        ("1000000", "9"),  # weights cycle: the 7th digit weighs 2 again
        ("5", "1"),  # 5·2 = 10 → 1
    ],
)
def test_m11w27_check_digit(body, check):
    # std 1.1.13 (j130): モジュラス11 (M11W2～7), remainder 0 → check digit 0
    assert mod11_w27_check_digit(body) == check
    r = _w27_remainder(body)
    assert check == ("0" if r <= 1 else str(11 - r))


@pytest.mark.parametrize("body", ["", "12a", "１２"])
def test_m11w27_check_digit_rejects_non_digits(body):
    assert _code(lambda: mod11_w27_check_digit(body)) == "mod11_w27.digits"


def test_make_atena_no():
    # std 1.1.13 (j130): 単純連番 + check digit; 10 digits = 9-digit body + 1 check digit
    assert ATENA_NO_WIDTH == 10
    assert make_atena_no(1) == "0000000019"
    assert make_atena_no(62) == "0000000620"
    assert make_atena_no(999_999_999) == "999999999" + mod11_w27_check_digit("999999999")
    assert make_atena_no(5, width=6) == "00005" + mod11_w27_check_digit("00005")
    assert make_household_no(1) == "0000000019"


@pytest.mark.parametrize(
    ("make", "kind"), [(make_atena_no, "atena_no"), (make_household_no, "household_no")]
)
@pytest.mark.parametrize(
    ("seq", "width", "suffix"),
    [
        (0, 10, "sequence"),
        (-3, 10, "sequence"),
        (True, 10, "sequence"),
        (1_000_000_000, 10, "overflow"),
        (100, 3, "overflow"),
        (1, 1, "width"),
    ],
)
def test_make_sequential_numbers_reject_bad_sequences(make, kind, seq, width, suffix):
    # std 1.1.13 (j130)
    assert _code(lambda: make(seq, width)) == f"{kind}.{suffix}"


@pytest.mark.parametrize(
    ("validate", "kind"),
    [(validate_atena_no, "atena_no"), (validate_household_no, "household_no")],
)
def test_validate_sequential_numbers(validate, kind):
    # std 1.1.13 (j130)
    assert validate("００００００００１９") == "0000000019"
    assert validate("000-000-001-9") == "0000000019"
    assert validate("000019", 6) == "000019"
    assert _code(lambda: validate("0000000018")) == f"{kind}.check_digit"
    assert _code(lambda: validate("0000000000")) == f"{kind}.sequence"
    assert _code(lambda: validate("19")) == f"{kind}.length"
    assert _code(lambda: validate("")) == f"{kind}.empty"
    assert _code(lambda: validate("000000001X")) == f"{kind}.digits"
    # numbers assigned before the rule need not be renumbered (j130): check can be skipped
    assert validate("0000000018", verify_check_digit=False) == "0000000018"


@FAST
@given(st.integers(min_value=1, max_value=999_999_999))
def test_atena_and_household_round_trip(seq):
    # std 1.1.13 (j130)
    atena = make_atena_no(seq)
    assert len(atena) == 10
    assert int(atena[:9]) == seq
    assert validate_atena_no(atena) == atena
    assert validate_household_no(make_household_no(seq)) == atena


@FAST
@given(st.integers(min_value=1, max_value=999_999_999))
def test_atena_substitution_property(seq):
    # std 1.1.13 (j130)
    atena = make_atena_no(seq)

    def validate(value: str) -> str:
        return validate_atena_no(value)

    def remainder(body: str) -> int:
        return _w27_remainder(body)

    # an all-zero body is rejected as a sequence error, which still counts as detected
    _assert_low_zero_property(
        atena, validate, remainder, slice(0, 9), rejected=lambda v: int(v[:9]) == 0
    )


# --- 全国地方公共団体コード -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["141500", "141518", "141526", "141534"])
def test_sagamihara_codes(code):
    # 相模原市, 緑区, 中央区, 南区 (DOMAIN-NOTES §2)
    assert validate_local_government_code(code) == code
    assert local_government_code_check_digit(code[:5]) == code[5]


def test_local_government_code_remainder_zero_gives_one():
    assert _lg_remainder("11000") == 0
    assert local_government_code_check_digit("11000") == "1"
    assert local_government_code_check_digit("13101") == "6"  # 東京都千代田区 131016
    assert validate_local_government_code("１３１０１６") == "131016"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "local_government_code.empty"),
        ("14150", "local_government_code.length"),
        ("1415O0", "local_government_code.digits"),
        ("000000", "local_government_code.prefecture"),
        ("480000", "local_government_code.prefecture"),
        ("141501", "local_government_code.check_digit"),
    ],
)
def test_local_government_code_errors(value, code):
    assert _code(lambda: validate_local_government_code(value)) == code


@FAST
@given(st.integers(min_value=1, max_value=47), st.text("0123456789", min_size=3, max_size=3))
def test_local_government_code_substitution_property(pref, rest):
    body = f"{pref:02d}{rest}"
    code = body + local_government_code_check_digit(body)
    assert validate_local_government_code(code) == code
    for i, corrupted in _substitutions(code):
        if i == 5 or not 1 <= int(corrupted[:2]) <= 47:
            assert _detected(validate_local_government_code, corrupted)
        else:
            # check = (11 − r) mod 10 maps remainders 0 and 10 both to 1: only that is missed
            r_old, r_new = _lg_remainder(body), _lg_remainder(corrupted[:5])
            expected = {r_old, r_new} != {0, 10}
            assert _detected(validate_local_government_code, corrupted) == expected


# --- 住所コード -------------------------------------------------------------------------------


def test_parse_address_code():
    # std 1.3.3 (j250): 都道府県2 + 市区町村3 + 大字3 + 小字3 = 11 digits
    code = parse_address_code("１４１５０ ００１ ００２")
    assert code == AddressCode("14", "150", "001", "002")
    assert (code.prefecture, code.municipality, code.oaza, code.koaza) == (
        "14",
        "150",
        "001",
        "002",
    )
    assert code.value == "14150001002"
    assert str(code) == "14150001002"


def test_make_address_code():
    # std 1.3.3 (j250)
    assert make_address_code("14", "150", "001", "002") == "14150001002"
    assert make_address_code(14, 150, 1, 2) == "14150001002"
    assert make_address_code(1, 100, 0, 0) == "01100000000"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "address_code.empty"),
        ("1415000100", "address_code.length"),
        ("1415000100X", "address_code.digits"),
        ("00150001002", "address_code.prefecture"),
        ("48150001002", "address_code.prefecture"),
    ],
)
def test_parse_address_code_errors(value, code):
    # std 1.3.3 (j250)
    assert _code(lambda: parse_address_code(value)) == code


@pytest.mark.parametrize(
    "parts",
    [
        ("14", "15", "001", "002"),
        ("14", "150", "1", "002"),
        (14, -1, 1, 2),
        (14, 1000, 1, 2),
        (14, True, 1, 2),
        ("14", "150", "00a", "002"),
        (14.0, 150, 1, 2),
    ],
)
def test_make_address_code_rejects_bad_parts(parts):
    # std 1.3.3 (j250)
    assert _code(lambda: make_address_code(*parts)) == "address_code.part"


def test_address_code_dataclass_validates():
    # std 1.3.3 (j250)
    assert _code(lambda: AddressCode("48", "150", "001", "002")) == "address_code.prefecture"
    assert _code(lambda: AddressCode("1", "150", "001", "002")) == "address_code.part"


@FAST
@given(st.integers(1, 47), st.integers(0, 999), st.integers(0, 999), st.integers(0, 999))
def test_address_code_round_trip(pref, muni, oaza, koaza):
    # std 1.3.3 (j250)
    value = make_address_code(pref, muni, oaza, koaza)
    assert len(value) == 11
    parsed = parse_address_code(value)
    assert parsed.value == value
    assert (
        make_address_code(parsed.prefecture, parsed.municipality, parsed.oaza, parsed.koaza)
        == value
    )


# --- 在留カード番号 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "AB12345678CD",
        "ab12345678cd",
        "ＡＢ１２３４５６７８ＣＤ",
        " AB 1234 5678 CD ",
        "AB-12345678-CD",
    ],
)
def test_residence_card_no_normalisation(typed):
    assert validate_residence_card_no(typed) == "AB12345678CD"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "residence_card_no.empty"),
        ("AB1234567CD", "residence_card_no.length"),
        ("AB123456789CD", "residence_card_no.length"),
        ("1B12345678CD", "residence_card_no.format"),
        ("AB1234567XCD", "residence_card_no.format"),
        ("AB12345678C1", "residence_card_no.format"),
    ],
)
def test_residence_card_no_errors(value, code):
    assert _code(lambda: validate_residence_card_no(value)) == code


@FAST
@given(SEEDS)
def test_generated_residence_card_nos_are_valid(seed):
    value = generate_residence_card_no(random.Random(seed))
    assert validate_residence_card_no(value) == value
    assert validate_residence_card_no(value.lower()) == value


# --- 法人番号 -------------------------------------------------------------------------------


def test_nta_corporate_number():
    # 国税庁's own 法人番号: body 000012050002, Σ = 2·1 + 5·1 + 2·1 + 1·2 = 11, 11 mod 9 = 2
    assert corporate_number_check_digit("000012050002") == "7"
    assert validate_corporate_number("7000012050002") == "7000012050002"
    assert validate_corporate_number("7-0000-1205-0002") == "7000012050002"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "corporate_number.empty"),
        ("700001205000", "corporate_number.length"),
        ("700001205000X", "corporate_number.digits"),
        ("6000012050002", "corporate_number.check_digit"),
    ],
)
def test_corporate_number_errors(value, code):
    assert _code(lambda: validate_corporate_number(value)) == code
    assert _code(lambda: corporate_number_check_digit("123")) == "corporate_number.length"


@FAST
@given(st.text("0123456789", min_size=12, max_size=12))
def test_corporate_number_round_trip_and_substitutions(body):
    number = corporate_number_check_digit(body) + body
    assert validate_corporate_number(number) == number
    weighted = sum(int(p) * (1 if n % 2 else 2) for n, p in enumerate(reversed(body), 1))
    assert number[0] == str(9 - weighted % 9)
    for i, corrupted in _substitutions(number):
        # mod 9 cannot tell 0 from 9 in the body; every other substitution is caught
        missed = i > 0 and {number[i], corrupted[i]} == {"0", "9"}
        assert _detected(validate_corporate_number, corrupted) == (not missed)
