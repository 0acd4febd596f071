"""The confirmation screen carries what the clerk entered back to the server in one hidden
field. It may hold a 個人番号 typed into a form, so it is encrypted and authenticated
(Fernet: AES-128-CBC + HMAC-SHA256) with a key derived from the site's secret key for this
purpose only, and expires: the page source, the browser cache and a proxy never see it in
clear, and a tampered field is refused."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MAX_AGE_SECONDS = 4 * 60 * 60  # a counter session; older confirmation pages are refused
_INFO = b"jumin.web.form-payload.v1"


class SealError(Exception):
    """The sealed field was altered, made with another key, or is too old."""


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        settings.SECRET_KEY.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: Any) -> str:
    return _fernet().encrypt(json.dumps(value, ensure_ascii=False, default=str).encode()).decode()


def unseal(token: str) -> Any:
    try:
        return json.loads(_fernet().decrypt(token.encode("ascii"), ttl=MAX_AGE_SECONDS))
    except (InvalidToken, UnicodeEncodeError, ValueError) as exc:
        raise SealError(str(exc)) from exc
