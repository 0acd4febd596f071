"""Identifiers of the register: check digits, validation, normalisation and generation.

Every ``validate_*`` function takes what a clerk typed or a file carried, normalises it
(full-width ASCII to half-width, spaces and hyphens removed, letters upper-cased where the
identifier has letters) and returns the canonical string, or raises
:class:`~jumin.core.errors.IdentifierError` with a stable ``code`` and a Japanese message.

Codes follow one pattern per identifier: ``<kind>.empty`` (nothing entered),
``<kind>.digits`` (a character that is not a digit), ``<kind>.length`` (wrong number of
digits), ``<kind>.check_digit`` (the check digit does not match), plus a few specific ones
(``address_code.prefecture``, ``atena_no.sequence`` …).

Identifiers are always text: leading zeros are significant (個人番号 ``023456789013``).

Check-digit strength (single-digit substitutions)
-------------------------------------------------
The mod-11 schemes that map both remainders 0 and 1 to check digit ``0`` (個人番号,
住民票コード, 宛名番号/世帯番号) cannot catch a substitution that moves the remainder
between 0 and 1; every other single-digit substitution, and every change of the check
digit itself, is caught. The 全国地方公共団体コード maps remainders 0 and 10 to ``1``,
so it misses substitutions between those two. The 法人番号 (mod 9) misses a 0↔9
substitution in the body and catches every other. The tests assert exactly these properties.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from jumin.core.errors import IdentifierError

__all__ = [
    "ATENA_NO_WIDTH",
    "DEFAULT_JUMINHYO_CHECK",
    "AddressCode",
    "JuminhyoCodeCheck",
    "corporate_number_check_digit",
    "generate_juminhyo_code",
    "generate_my_number",
    "generate_residence_card_no",
    "get_juminhyo_code_check",
    "is_valid_my_number",
    "juminhyo_code_check_digit",
    "local_government_code_check_digit",
    "make_address_code",
    "make_atena_no",
    "make_household_no",
    "mod11_w27_check_digit",
    "my_number_check_digit",
    "parse_address_code",
    "set_juminhyo_code_check",
    "validate_atena_no",
    "validate_corporate_number",
    "validate_household_no",
    "validate_juminhyo_code",
    "validate_local_government_code",
    "validate_my_number",
    "validate_residence_card_no",
]

# --------------------------------------------------------------------------- normalisation

# Full-width ASCII (U+FF01..U+FF5E) to half-width, the ideographic space to a space.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Separators clerks type inside numbers: spaces and every dash / hyphen / minus / long-vowel
# variant (after the width mapping, so "－" has already become "-").
_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70]+")
_ASCII_DIGITS = frozenset("0123456789")


def _normalise(value: str, *, upper: bool = False) -> str:
    """Full-width ASCII to half-width, drop spaces and hyphens, optionally upper-case."""
    text = _SEPARATORS.sub("", value.translate(_WIDTH))
    return text.upper() if upper else text


def _is_digits(text: str) -> bool:
    # ``str.isdigit`` also accepts "²" or Arabic-Indic digits; identifiers are ASCII only.
    return bool(text) and all(c in _ASCII_DIGITS for c in text)


def _require_digits(value: str, *, kind: str, label: str, length: int, normalise: bool) -> str:
    """Return ``value`` as ``length`` ASCII digits or raise the matching IdentifierError."""
    text = _normalise(value) if normalise else value
    if not text:
        raise IdentifierError(
            f"{kind}.empty",
            f"{label}が入力されていません。{length}桁の数字で入力してください。",
        )
    if not _is_digits(text):
        raise IdentifierError(
            f"{kind}.digits",
            f"{label}「{value}」に数字以外の文字が含まれています。"
            f"{label}は{length}桁の数字だけで入力してください。",
        )
    if len(text) != length:
        raise IdentifierError(
            f"{kind}.length",
            f"{label}は{length}桁の数字です（入力は{len(text)}桁）。"
            "桁数を確認して入力し直してください。",
        )
    return text


def _check_digit_error(kind: str, label: str, value: str) -> IdentifierError:
    return IdentifierError(
        f"{kind}.check_digit",
        f"{label}「{value}」はチェックデジット（検査数字）が一致しません。"
        "番号の誤りがないか、書類と照合して入力し直してください。",
    )


def _weighted_sum(body: str, weights_from_right: Sequence[int]) -> int:
    """Σ Pn·Qn with Pn the n-th digit from the right and Qn = weights_from_right[n-1].

    Hot in bulk import and generation: one pass over the digits' code points, no per-digit
    ``int()`` call (the caller has checked they are ASCII digits).
    """
    count = len(weights_from_right)
    total = 0
    for n, code in enumerate(reversed(body.encode("ascii"))):
        total += (code - 48) * weights_from_right[n % count]
    return total


def _mod11_low_zero(body: str, weights_from_right: Sequence[int]) -> str:
    """Modulus 11: r = Σ mod 11; check = 0 when r ≤ 1, else 11 − r."""
    r = _weighted_sum(body, weights_from_right) % 11
    return "0" if r <= 1 else str(11 - r)


def _random_digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


# --------------------------------------------------------------------------- 個人番号

_MY_NUMBER = "my_number"
_MY_NUMBER_LABEL = "個人番号"
# Qn = n + 1 (1 ≤ n ≤ 6), n − 5 (7 ≤ n ≤ 11): 2,3,4,5,6,7,2,3,4,5,6 from the right.
_MY_NUMBER_WEIGHTS = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6)


def my_number_check_digit(first11: str) -> str:
    """Check digit of a 個人番号 from its first 11 digits (ASCII digits only).

    r = Σ Pn·Qn mod 11 with Pn the n-th digit from the right; check = 0 if r ≤ 1 else 11 − r
    (番号法施行令第8条, 総務省令第85号).
    """
    body = _require_digits(
        first11, kind=_MY_NUMBER, label="個人番号の本体", length=11, normalise=False
    )
    return _mod11_low_zero(body, _MY_NUMBER_WEIGHTS)


def validate_my_number(value: str) -> str:
    """Return the 12-digit 個人番号, or raise IdentifierError.

    Accepts full-width digits and strips spaces and hyphens. Codes: ``my_number.empty``,
    ``my_number.digits``, ``my_number.length``, ``my_number.check_digit``.
    """
    text = _require_digits(
        value, kind=_MY_NUMBER, label=_MY_NUMBER_LABEL, length=12, normalise=True
    )
    if _mod11_low_zero(text[:11], _MY_NUMBER_WEIGHTS) != text[11]:
        raise _check_digit_error(_MY_NUMBER, _MY_NUMBER_LABEL, value)
    return text


def is_valid_my_number(value: str) -> bool:
    """True when ``validate_my_number`` would accept ``value``."""
    try:
        validate_my_number(value)
    except IdentifierError:
        return False
    return True


def generate_my_number(rng: random.Random) -> str:
    """A valid (synthetic) 個人番号 drawn from ``rng``: for tests and synthetic data only."""
    body = _random_digits(rng, 11)
    return body + my_number_check_digit(body)


# --------------------------------------------------------------------------- 住民票コード

_JUMINHYO = "juminhyo_code"
_JUMINHYO_LABEL = "住民票コード"
_JUMINHYO_WEIGHTS = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)


class JuminhyoCodeCheck(Protocol):
    """Computes the check digit of a 住民票コード from its first 10 ASCII digits."""

    def __call__(self, first10: str, /) -> str: ...


def _default_juminhyo_check(first10: str, /) -> str:
    """Mod 11, weights 2,3,4,5,6,7,2,3,4,5 from the right, r ≤ 1 → 0, else 11 − r.

    NOT PUBLICLY VERIFIED. The official formula is fixed by 平成14年総務省告示第436号,
    whose text we could not verify; this scheme rests on secondary evidence only. The
    national side hands out codes (空きコード) already carrying their check digit, so the
    city never needs to compute one for real; swap the check with
    :func:`set_juminhyo_code_check` (or pass ``check=``) once the notice is confirmed.
    """
    return _mod11_low_zero(first10, _JUMINHYO_WEIGHTS)


DEFAULT_JUMINHYO_CHECK: JuminhyoCodeCheck = _default_juminhyo_check
_juminhyo_check: JuminhyoCodeCheck = DEFAULT_JUMINHYO_CHECK


def set_juminhyo_code_check(fn: JuminhyoCodeCheck | None) -> JuminhyoCodeCheck:
    """Install the process-wide 住民票コード check (``None`` restores the default).

    Returns the check that was installed before, so a caller (or a test) can restore it.
    """
    global _juminhyo_check
    previous = _juminhyo_check
    _juminhyo_check = DEFAULT_JUMINHYO_CHECK if fn is None else fn
    return previous


def get_juminhyo_code_check() -> JuminhyoCodeCheck:
    """The 住民票コード check currently installed."""
    return _juminhyo_check


def juminhyo_code_check_digit(first10: str, check: JuminhyoCodeCheck | None = None) -> str:
    """Check digit of a 住民票コード from its first 10 digits (see the default's caveat)."""
    body = _require_digits(
        first10, kind=_JUMINHYO, label="住民票コードの本体", length=10, normalise=False
    )
    return (check or _juminhyo_check)(body)


def validate_juminhyo_code(value: str, check: JuminhyoCodeCheck | None = None) -> str:
    """Return the 11-digit 住民票コード, or raise IdentifierError (``juminhyo_code.*``)."""
    text = _require_digits(value, kind=_JUMINHYO, label=_JUMINHYO_LABEL, length=11, normalise=True)
    if (check or _juminhyo_check)(text[:10]) != text[10]:
        raise _check_digit_error(_JUMINHYO, _JUMINHYO_LABEL, value)
    return text


def generate_juminhyo_code(rng: random.Random, check: JuminhyoCodeCheck | None = None) -> str:
    """A valid (synthetic) 住民票コード drawn from ``rng``: for tests and synthetic data only."""
    body = _random_digits(rng, 10)
    return body + juminhyo_code_check_digit(body, check)


# --------------------------------------------------------------------------- 宛名番号・世帯番号

# std 1.1.13 (j130): 単純連番 + one check digit, モジュラス11 (M11W2～7): weights 2,3,4,5,6,7
# cycling from the rightmost body digit; check = 11 − (Σ mod 11); remainder 0 → 0.
# The standard is silent on remainder 1 (11 − 1 = 10 does not fit in one digit). We follow the
# common municipal practice of M11W2-7 and use 0 for remainder 1 as well (r ≤ 1 → 0), the
# same rule as the 個人番号. Numbers assigned before this rule (付番済み番号) need not be
# renumbered (j130): validate those with ``verify_check_digit=False``.
_W27 = (2, 3, 4, 5, 6, 7)
ATENA_NO_WIDTH = 10
"""Default total length of a 宛名番号 / 世帯番号: a 9-digit zero-padded sequence + 1 check digit."""


def mod11_w27_check_digit(body: str) -> str:
    """M11W2-7 check digit of ``body`` (one or more ASCII digits); r ≤ 1 → 0, else 11 − r."""
    if not _is_digits(body):
        raise IdentifierError(
            "mod11_w27.digits",
            f"チェックデジット（M11W2～7）を計算する番号「{body}」は1桁以上の数字だけで"
            "指定してください。",
        )
    return _mod11_low_zero(body, _W27)


def _make_sequential(seq: int, width: int, *, kind: str, label: str) -> str:
    if width < 2:
        raise IdentifierError(
            f"{kind}.width",
            f"{label}の桁数（{width}）が短すぎます。連番1桁以上とチェックデジット1桁の"
            "2桁以上を指定してください。",
        )
    if isinstance(seq, bool) or seq <= 0:
        raise IdentifierError(
            f"{kind}.sequence",
            f"{label}の連番（{seq}）は1以上の整数でなければなりません。"
            "付番の連番を確認してください。",
        )
    if seq >= 10 ** (width - 1):
        raise IdentifierError(
            f"{kind}.overflow",
            f"{label}の連番（{seq}）が{width - 1}桁を超えました。"
            "付番可能な番号を使い切っています。桁数の設定をシステム管理者に相談してください。",
        )
    body = str(seq).zfill(width - 1)
    return body + mod11_w27_check_digit(body)


def _validate_sequential(
    value: str, width: int, *, kind: str, label: str, verify_check_digit: bool
) -> str:
    text = _require_digits(value, kind=kind, label=label, length=width, normalise=True)
    if int(text[:-1]) == 0:
        raise IdentifierError(
            f"{kind}.sequence",
            f"{label}「{value}」の連番部分がすべて0です。連番は1から始まります。"
            "番号を確認して入力し直してください。",
        )
    if verify_check_digit and mod11_w27_check_digit(text[:-1]) != text[-1]:
        raise _check_digit_error(kind, label, value)
    return text


def make_atena_no(seq: int, width: int = ATENA_NO_WIDTH) -> str:
    """宛名番号 for sequence ``seq``: ``width`` digits in all (default 10 = 9-digit body + check).

    Raises ``atena_no.sequence`` for seq ≤ 0 and ``atena_no.overflow`` when seq needs more
    than ``width − 1`` digits.
    """
    return _make_sequential(seq, width, kind="atena_no", label="宛名番号")


def validate_atena_no(
    value: str, width: int = ATENA_NO_WIDTH, *, verify_check_digit: bool = True
) -> str:
    """Return the ``width``-digit 宛名番号 or raise IdentifierError (``atena_no.*``)."""
    return _validate_sequential(
        value, width, kind="atena_no", label="宛名番号", verify_check_digit=verify_check_digit
    )


def make_household_no(seq: int, width: int = ATENA_NO_WIDTH) -> str:
    """世帯番号 for sequence ``seq``; same layout and rule as :func:`make_atena_no`."""
    return _make_sequential(seq, width, kind="household_no", label="世帯番号")


def validate_household_no(
    value: str, width: int = ATENA_NO_WIDTH, *, verify_check_digit: bool = True
) -> str:
    """Return the ``width``-digit 世帯番号 or raise IdentifierError (``household_no.*``)."""
    return _validate_sequential(
        value, width, kind="household_no", label="世帯番号", verify_check_digit=verify_check_digit
    )


# --------------------------------------------------------------------------- 全国地方公共団体コード

_LG = "local_government_code"
_LG_LABEL = "全国地方公共団体コード"
_PREFECTURES = range(1, 48)  # JIS X 0401: 01 北海道 … 47 沖縄県


def _check_prefecture(digits2: str, *, kind: str, label: str, value: str) -> None:
    if int(digits2) not in _PREFECTURES:
        raise IdentifierError(
            f"{kind}.prefecture",
            f"{label}「{value}」の都道府県コード（先頭2桁「{digits2}」）は01～47の範囲外です。"
            "JIS X 0401の都道府県コードを確認して入力し直してください。",
        )


def local_government_code_check_digit(first5: str) -> str:
    """Check digit of a 全国地方公共団体コード: weights 6,5,4,3,2; (11 − Σ mod 11) mod 10."""
    body = _require_digits(first5, kind=_LG, label=f"{_LG_LABEL}の本体", length=5, normalise=False)
    r = _weighted_sum(body, (2, 3, 4, 5, 6)) % 11
    return str((11 - r) % 10)


def validate_local_government_code(value: str) -> str:
    """Return the 6-digit 全国地方公共団体コード (prefecture 01–47, check digit) or raise."""
    text = _require_digits(value, kind=_LG, label=_LG_LABEL, length=6, normalise=True)
    _check_prefecture(text[:2], kind=_LG, label=_LG_LABEL, value=value)
    if local_government_code_check_digit(text[:5]) != text[5]:
        raise _check_digit_error(_LG, _LG_LABEL, value)
    return text


# --------------------------------------------------------------------------- 住所コード

_ADDR = "address_code"
_ADDR_LABEL = "住所コード"
_ADDRESS_PARTS = (
    ("prefecture", "都道府県", 2),
    ("municipality", "市区町村", 3),
    ("oaza", "大字", 3),
    ("koaza", "小字", 3),
)


@dataclass(frozen=True, slots=True)
class AddressCode:
    """住所コード (std 1.3.3, j250): 都道府県 2 + 市区町村 3 + 大字 3 + 小字 3 = 11 digits.

    The prefecture follows JIS X 0401 (01–47), the municipality JIS X 0402 (without its check
    digit); 大字 and 小字 are not prescribed by the standard (any 3 digits).
    """

    prefecture: str
    municipality: str
    oaza: str
    koaza: str

    def __post_init__(self) -> None:
        for name, label, width in _ADDRESS_PARTS:
            part = getattr(self, name)
            if len(part) != width or not _is_digits(part):
                raise IdentifierError(
                    f"{_ADDR}.part",
                    f"{_ADDR_LABEL}の{label}部分「{part}」は{width}桁の数字で指定してください。",
                )
        _check_prefecture(self.prefecture, kind=_ADDR, label=_ADDR_LABEL, value=self.value)

    @property
    def value(self) -> str:
        """The 11-digit code."""
        return self.prefecture + self.municipality + self.oaza + self.koaza

    def __str__(self) -> str:
        return self.value


def parse_address_code(value: str) -> AddressCode:
    """Split an 11-digit 住所コード into its parts or raise IdentifierError (``address_code.*``)."""
    text = _require_digits(value, kind=_ADDR, label=_ADDR_LABEL, length=11, normalise=True)
    _check_prefecture(text[:2], kind=_ADDR, label=_ADDR_LABEL, value=value)
    return AddressCode(text[:2], text[2:5], text[5:8], text[8:])


def make_address_code(
    prefecture: str | int, municipality: str | int, oaza: str | int, koaza: str | int
) -> str:
    """Join the four parts into an 11-digit 住所コード.

    Strings must already have their width (``"14"``, ``"150"``); integers are zero-padded.
    """
    parts: list[str] = []
    for raw, (_, label, width) in zip(
        (prefecture, municipality, oaza, koaza), _ADDRESS_PARTS, strict=True
    ):
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 10**width:
            parts.append(str(raw).zfill(width))
        elif isinstance(raw, str):
            parts.append(_normalise(raw))
        else:
            raise IdentifierError(
                f"{_ADDR}.part",
                f"{_ADDR_LABEL}の{label}部分「{raw}」は{width}桁の数字で指定してください。",
            )
    return AddressCode(*parts).value


# --------------------------------------------------------------------------- 在留カード番号

_RC = "residence_card_no"
_RC_LABEL = "在留カード番号"
_RC_PATTERN = re.compile(r"[A-Z]{2}[0-9]{8}[A-Z]{2}")
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def validate_residence_card_no(value: str) -> str:
    """Return the 12-character 在留カード番号 (``AB12345678CD``) or raise IdentifierError.

    Full-width and lower-case input is normalised to half-width upper case. Only the format
    is checked: no check digit for this number has been published, so a well-formed but
    mistyped number cannot be detected here (verify against the card or 出入国在留管理庁).
    """
    text = _normalise(value, upper=True)
    if not text:
        raise IdentifierError(
            f"{_RC}.empty",
            f"{_RC_LABEL}が入力されていません。英字2桁・数字8桁・英字2桁の12桁で入力してください。",
        )
    if len(text) != 12:
        raise IdentifierError(
            f"{_RC}.length",
            f"{_RC_LABEL}は12桁です（入力は{len(text)}桁）。"
            "在留カード右上の番号（英字2桁・数字8桁・英字2桁）を確認して入力し直してください。",
        )
    if not _RC_PATTERN.fullmatch(text):
        raise IdentifierError(
            f"{_RC}.format",
            f"{_RC_LABEL}「{value}」の形式が正しくありません。"
            "英字2桁・数字8桁・英字2桁（例：AB12345678CD）で入力してください。",
        )
    return text


def generate_residence_card_no(rng: random.Random) -> str:
    """A well-formed (synthetic) 在留カード番号 drawn from ``rng``: for tests only."""
    letters = "".join(rng.choice(_UPPER) for _ in range(4))
    return letters[:2] + _random_digits(rng, 8) + letters[2:]


# --------------------------------------------------------------------------- 法人番号

_CORP = "corporate_number"
_CORP_LABEL = "法人番号"


def corporate_number_check_digit(body12: str) -> str:
    """Check digit (the FIRST digit) of a 法人番号 from its 12-digit body.

    check = 9 − (Σ Pn·Qn mod 9), Pn the n-th digit from the right of the body,
    Qn = 1 for odd n and 2 for even n.
    """
    body = _require_digits(body12, kind=_CORP, label="法人番号の本体", length=12, normalise=False)
    return str(9 - _weighted_sum(body, (1, 2)) % 9)


def validate_corporate_number(value: str) -> str:
    """Return the 13-digit 法人番号 (check digit first) or raise IdentifierError."""
    text = _require_digits(value, kind=_CORP, label=_CORP_LABEL, length=13, normalise=True)
    if corporate_number_check_digit(text[1:]) != text[0]:
        raise _check_digit_error(_CORP, _CORP_LABEL, value)
    return text
