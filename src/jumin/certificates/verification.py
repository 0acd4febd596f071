"""Issue ids, check codes and the verification URL printed as a QR code.

- The **issue id** (``交付ID``) names one issued certificate: 12 characters of Crockford
  base32 from a random source (60 bits), so ids cannot be enumerated.
- The **check code** (``確認コード``) is the first 8 base32 characters of an HMAC-SHA256 of the id
  (40 bits), keyed with ``JUMIN_CERT_CHECK_KEY`` or a key derived from the site's secret key.
  Only someone holding the paper (or the PDF) knows it; a wrong code is answered exactly like
  an unknown id.
- The URL ``<JUMIN_CERT_VERIFY_BASE_URL>/verify/<id>?c=<check>`` opens the public page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

from jumin.certificates import conf

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
ID_LENGTH = 12
CHECK_LENGTH = 8
_SALT = b"jumin.certificates.check-code.v1"


def new_issue_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def _key() -> bytes:
    configured = conf.raw("CERT_CHECK_KEY")
    secret = configured or str(settings.SECRET_KEY)
    return hashlib.sha256(_SALT + secret.encode("utf-8")).digest()


def _b32(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        number, rest = divmod(number, 32)
        out.append(ALPHABET[rest])
    return "".join(out)


def check_code(issue_id: str) -> str:
    digest = hmac.new(_key(), issue_id.encode("ascii", "replace"), hashlib.sha256).digest()
    return _b32(digest[:8], CHECK_LENGTH)


def normalise(text: str) -> str:
    """As typed by a person: upper case, without spaces and hyphens, O→0, I/L→1."""
    cleaned = "".join(text.split()).replace("-", "").upper()
    return cleaned.translate(str.maketrans("OIL", "011"))


def check_matches(issue_id: str, code: str) -> bool:
    return hmac.compare_digest(check_code(issue_id), normalise(code))


def is_well_formed(issue_id: str) -> bool:
    return len(issue_id) == ID_LENGTH and all(c in ALPHABET for c in issue_id)


def verify_url(issue_id: str) -> str:
    return f"{conf.verify_base_url()}/verify/{issue_id}?c={check_code(issue_id)}"


def grouped(code: str) -> str:
    """``ABCD-EFGH`` for reading aloud or typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
