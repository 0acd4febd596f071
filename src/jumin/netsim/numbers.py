"""The numbers the national side hands out (pure Python, no Django).

- 住民票コード: 10 digits from the operating system's CSPRNG + the check digit of
  :func:`jumin.core.identifiers.juminhyo_code_check_digit` (see its caveat: the official
  formula is not publicly verified; the check is pluggable there).
- 個人番号: derived from the 住民票コード with a keyed, one-way function — HMAC-SHA256 under
  netsim's secret over the code and a change counter, reduced to 11 digits, plus the
  check digit of 番号法施行令第8条 (:func:`jumin.core.identifiers.my_number_check_digit`).
  Without the secret the code cannot be recovered from the number, nor the number
  predicted from the code. A collision with a number already assigned is resolved by the
  caller bumping the counter; a change (番号法第7条第2項) uses the next counter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from jumin.core.identifiers import juminhyo_code_check_digit, my_number_check_digit

_DERIVATION_LABEL = b"jumin-netsim:my_number:v1"
_ELEVEN_DIGITS = 10**11
_TEN_DIGITS = 10**10


def derive_my_number(secret: bytes, juminhyo_code: str, counter: int) -> str:
    """The 個人番号 for ``juminhyo_code`` at ``counter`` (0 for the first number)."""
    if not secret:
        raise ValueError("the derivation needs a secret")
    if counter < 0:
        raise ValueError("the counter starts at 0")
    message = _DERIVATION_LABEL + b"\x00" + f"{juminhyo_code}:{counter}".encode("ascii")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    body = str(int.from_bytes(digest, "big") % _ELEVEN_DIGITS).zfill(11)
    return body + my_number_check_digit(body)


def draw_juminhyo_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A random 住民票コード with its check digit (uniqueness is the caller's job)."""
    body = str(randbelow(_TEN_DIGITS)).zfill(10)
    return body + juminhyo_code_check_digit(body)
