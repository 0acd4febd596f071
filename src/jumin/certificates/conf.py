"""Configuration of certificate issuance, read from the environment at each use.

Every value may also be set in ``settings.JUMIN`` under the same name without the ``JUMIN_``
prefix (``settings.JUMIN["CERT_FEE"] = 450``), which is what tests do; the environment
variable is read otherwise.

Settings (``JUMIN_`` + name; default in brackets):

- ``CERT_FEE``: fee per certificate in yen; 公用 is always free [300].
- ``CERT_FEE_FREE_KINDS``: kinds issued free (comma-separated codes) [the 転出証明書, its
  準ずる証明書 and the 住民票コード通知票].
- ``CERT_MAX_COPIES``: copies per request [10].
- ``CERT_PREFECTURE``: printed before the mayor's title, std 5.6 [神奈川県].
- ``CERT_MAYOR_TITLE`` [<municipality>長] and ``CERT_MAYOR_NAME`` (required in production;
  a fictional name in demo mode): the certifier.
- ``CERT_DEPUTY_TITLE`` / ``_NAME`` / ``_FROM`` / ``_TO``: the 職務代理者 and the period (ISO
  dates) in which they certify, std 1.3.9 [none].
- ``CERT_SEAL_IMAGE``: PNG of the electronic official seal, black [a generated demo seal];
  ``CERT_SEAL_MM``: its printed size, at most 25 mm, std 5.6 [21]; ``CERT_SEAL_NOTE``: a
  fixed phrase under it (「この印は黒色です」) [empty].
- ``CERT_TEXT_<KIND>``: the certification text of a kind (``CERT_TEXT_RECORD_COPY`` …).
- ``CERT_PRINTER``: printer name in the issue number, std 5.5 [PDF].
- ``CERT_OVERFLOW``: an item too long at the smallest size is continued on further lines
  (``wrap``), cut at the limit (``truncate``) or left blank (``blank``), std 5.8 [wrap].
- ``CERT_VERIFY_BASE_URL``: public address the QR code points to [http://localhost:8000].
- ``CERT_CHECK_KEY``: key of the QR check code (HMAC) [derived from the secret key].
- ``CERT_DOWNLOAD_MINUTES``: how long an issued PDF can be downloaded again [60].
- ``CERT_SIGNING_KEY`` / ``_CERT`` / ``_CHAIN`` / ``_KEY_PASSPHRASE``: the city's signing key
  and certificate (PEM paths), required in production [demo: generated under
  ``$JUMIN_VAR_DIR/certificates/``].
- ``CERT_FONT_MINCHO`` / ``_GOTHIC`` / ``_RARE``: TrueType font paths (see ``fonts``).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings

DEMO_MAYOR_NAME = "相模　太郎"
MAX_SEAL_MM = 25.0
OVERFLOW_MODES = ("wrap", "truncate", "blank")


class ConfigError(Exception):
    """A certificate setting is missing or malformed (Japanese message for the operator)."""


def raw(name: str, default: str = "") -> str:
    """``settings.JUMIN[name]`` if set, else ``$JUMIN_<name>``, else ``default``."""
    conf: dict[str, Any] = getattr(settings, "JUMIN", {}) or {}
    if name in conf and conf[name] is not None:
        return str(conf[name]).strip()
    return os.environ.get(f"JUMIN_{name}", default).strip()


def is_demo() -> bool:
    return bool(getattr(settings, "JUMIN", {}).get("MODE", "demo") == "demo")


def municipality_name() -> str:
    return str(getattr(settings, "JUMIN", {}).get("MUNICIPALITY_NAME", "相模原市"))


def municipality_code() -> str:
    return str(getattr(settings, "JUMIN", {}).get("MUNICIPALITY_CODE", "141500"))


def _int(name: str, default: int, low: int, high: int) -> int:
    text = raw(name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"JUMIN_{name} は整数で指定してください（指定値: {text!r}）。") from None
    if not low <= value <= high:
        raise ConfigError(
            f"JUMIN_{name} は{low}から{high}までで指定してください（指定値: {value}）。"
        )
    return value


def fee_per_copy() -> int:
    return _int("CERT_FEE", 300, 0, 100_000)


DEFAULT_FREE_KINDS = "move_out_certificate,equivalent_certificate,juminhyo_code_notice"


def free_kinds() -> frozenset[str]:
    return frozenset(
        k.strip() for k in raw("CERT_FEE_FREE_KINDS", DEFAULT_FREE_KINDS).split(",") if k.strip()
    )


def max_copies() -> int:
    return _int("CERT_MAX_COPIES", 10, 1, 100)


def download_minutes() -> int:
    return _int("CERT_DOWNLOAD_MINUTES", 60, 0, 7 * 24 * 60)


def printer() -> str:
    return raw("CERT_PRINTER", "PDF").replace(" ", "") or "PDF"


def overflow_mode() -> str:
    mode = raw("CERT_OVERFLOW", "wrap")
    if mode not in OVERFLOW_MODES:
        raise ConfigError(
            f"JUMIN_CERT_OVERFLOW は {', '.join(OVERFLOW_MODES)} のいずれかです"
            f"（指定値: {mode!r}）。"
        )
    return mode


def verify_base_url() -> str:
    return raw("CERT_VERIFY_BASE_URL", "http://localhost:8000").rstrip("/")


def seal_mm() -> float:
    text = raw("CERT_SEAL_MM", "21")
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"JUMIN_CERT_SEAL_MM は数値（mm）で指定してください（指定値: {text!r}）。"
        ) from None
    if not 5 <= value <= MAX_SEAL_MM:
        raise ConfigError(
            f"電子公印の大きさは5mmから{MAX_SEAL_MM:g}mmまでです（std 5.6、指定値: {value:g}mm）。"
        )
    return value


@dataclass(frozen=True)
class Certifier:
    """認証者 (std 1.3.9): the mayor, or the deputy during the deputy's period."""

    title: str
    name: str
    is_deputy: bool

    @property
    def line(self) -> str:
        return f"{self.title}　{self.name}"


def _date(name: str) -> dt.date | None:
    text = raw(name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"JUMIN_{name} は YYYY-MM-DD で指定してください（指定値: {text!r}）。"
        ) from None


def certifier(on: dt.date) -> Certifier:
    """The certifier printed on ``on`` (std 1.3.9 j310: switches to the deputy by period; std
    5.6 j1050: the prefecture is printed before the title, designated cities included)."""
    prefecture = raw("CERT_PREFECTURE", "神奈川県")
    city = municipality_name()
    title = raw("CERT_MAYOR_TITLE", f"{city}長")
    if prefecture and not title.startswith(prefecture):
        title = prefecture + title
    deputy_name = raw("CERT_DEPUTY_NAME")
    start, end = _date("CERT_DEPUTY_FROM"), _date("CERT_DEPUTY_TO")
    if deputy_name and start is not None and start <= on and (end is None or on <= end):
        deputy_title = raw("CERT_DEPUTY_TITLE", f"{title}職務代理者")
        if prefecture and not deputy_title.startswith(prefecture):
            deputy_title = prefecture + deputy_title
        return Certifier(deputy_title, deputy_name, True)
    name = raw("CERT_MAYOR_NAME")
    if not name:
        if not is_demo():
            raise ConfigError(
                "認証者（市区町村長）の氏名 JUMIN_CERT_MAYOR_NAME が設定されていません。"
                "本番モードでは設定するまで証明書を交付できません。"
            )
        name = DEMO_MAYOR_NAME
    return Certifier(title, name, False)
