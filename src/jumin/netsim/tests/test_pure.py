"""netsim's pure modules, in-process: number derivation, the key file, body-error
messages and the fault counters."""

from __future__ import annotations

import os
import stat

import pytest
from pydantic import ValidationError

from jumin.core.identifiers import is_valid_my_number, validate_juminhyo_code
from jumin.netproto.messages import IdentityUpdate
from jumin.netsim import faults, keyfile, numbers, validation

SECRET = b"netsim-test-secret-0123456789abcdef"


# --------------------------------------------------------------------------- 個人番号


def test_derived_number_has_a_valid_check_digit():
    # std 4.4 (j900) / 7.1.2.1 (j1130): 個人番号 generated from the 住民票コード
    for n in range(500):
        code = f"{n:010d}"
        number = numbers.derive_my_number(SECRET, code + "0", 0)
        assert len(number) == 12 and number.isdigit()
        assert is_valid_my_number(number)


def test_derivation_is_deterministic_and_keyed():
    first = numbers.derive_my_number(SECRET, "12345678903", 0)
    assert numbers.derive_my_number(SECRET, "12345678903", 0) == first
    assert numbers.derive_my_number(b"another secret", "12345678903", 0) != first
    assert numbers.derive_my_number(SECRET, "12345678903", 1) != first  # a change
    assert numbers.derive_my_number(SECRET, "12345678904", 0) != first
    assert "12345678903" not in first  # the code does not show through


def test_derived_numbers_do_not_collide_on_a_sample():
    derived = {numbers.derive_my_number(SECRET, f"{n:011d}", 0) for n in range(2000)}
    assert len(derived) == 2000


def test_derivation_needs_a_secret_and_a_counter_from_zero():
    with pytest.raises(ValueError, match="secret"):
        numbers.derive_my_number(b"", "12345678903", 0)
    with pytest.raises(ValueError, match="counter"):
        numbers.derive_my_number(SECRET, "12345678903", -1)


def test_drawn_codes_are_zero_padded_with_a_valid_check_digit():
    code = numbers.draw_juminhyo_code(lambda limit: 42)
    assert code.startswith("0000000042")
    assert validate_juminhyo_code(code) == code
    assert validate_juminhyo_code(numbers.draw_juminhyo_code()) is not None


# --------------------------------------------------------------------------- key file


def test_demo_mode_creates_the_key_file_private(tmp_path):
    path = tmp_path / "keys.json"
    keys = keyfile.load(path, ["jlis", "pref-14"], create_missing=True)
    assert set(keys.nodes) == {"jlis", "pref-14"}
    assert len(keys.my_number_secret) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    keyfile.forget_cache()
    again = keyfile.load(path, ["jlis", "pref-14"], create_missing=False)
    assert again.node("jlis").public_b64 == keys.node("jlis").public_b64
    assert again.my_number_secret == keys.my_number_secret


def test_production_refuses_a_missing_key_file(tmp_path):
    with pytest.raises(keyfile.KeyFileError, match="keys init"):
        keyfile.load(tmp_path / "missing.json", ["jlis"], create_missing=False)


def test_missing_node_keys_are_added_in_demo_and_named_in_production(tmp_path):
    path = tmp_path / "keys.json"
    keyfile.create(path, ["jlis"])
    keyfile.forget_cache()
    with pytest.raises(keyfile.KeyFileError, match="pref-13"):
        keyfile.load(path, ["jlis", "pref-13"], create_missing=False)
    keys = keyfile.load(path, ["jlis", "pref-13"], create_missing=True)
    assert "pref-13" in keys.nodes
    assert keyfile.add_missing(path, ["jlis", "pref-13", "pref-01"]) == ["pref-01"]


def test_create_never_overwrites(tmp_path):
    path = tmp_path / "keys.json"
    keyfile.create(path, ["jlis"])
    with pytest.raises(keyfile.KeyFileError, match="上書きしません"):
        keyfile.create(path, ["jlis"])


def test_a_damaged_key_file_is_reported(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("{broken", encoding="utf-8")
    keyfile.forget_cache()
    with pytest.raises(keyfile.KeyFileError, match="読めません"):
        keyfile.load(path, ["jlis"], create_missing=True)


def test_own_codes_are_jlis_and_the_prefectures():
    assert keyfile.own_codes(("13", "14")) == ["jlis", "pref-13", "pref-14"]


# --------------------------------------------------------------------------- messages


def test_body_errors_name_the_field_in_japanese_and_its_path():
    with pytest.raises(ValidationError) as caught:
        IdentityUpdate.model_validate(
            {
                "identity": {
                    "juminhyo_code": "123",
                    "birth_date": 19800101,
                    "sex": "3",
                    "municipality_code": "141500",
                    "status": "resident",
                    "change_reason": "転入",
                    "occurred_on": "2026-02-30",
                    "sequence": 0,
                    "nickname": "x",
                }
            }
        )
    message = validation.describe(caught.value, "本人確認情報の更新")
    assert message.startswith("本人確認情報の更新の本文が正しくありません。")
    for expected in (
        "「住民票コード」（identity.juminhyo_code）",
        "「性別」（identity.sex）",
        "「異動日」（identity.occurred_on）",
        "「履歴番号」（identity.sequence）",
        "「生年月日」（identity.birth_date）",
    ):
        assert expected in message
    assert "（ほか1件）" in message  # more than five problems: the rest are counted
    assert "'1'、'2'" in message


# --------------------------------------------------------------------------- faults


def test_fault_counters_are_taken_one_per_request():
    faults.clear()
    try:
        faults.arm({"unavailable": 1, "drop": 1, "delay_ms": 5, "delay_count": 2})
        assert faults.take() == faults.Plan(unavailable=True)
        assert faults.take() == faults.Plan(delay_ms=5, drop=True)
        assert faults.take() == faults.Plan(delay_ms=5)
        assert faults.take() == faults.Plan()
    finally:
        faults.clear()


@pytest.mark.parametrize(
    "spec", [None, {}, {"drop": -1}, {"drop": True}, {"boom": 1}, {"delay_ms": 10**6}]
)
def test_bad_fault_specs_are_refused(spec):
    with pytest.raises(faults.FaultError):
        faults.arm(spec)
    assert faults.snapshot() == faults.State()
