"""The CS configuration, from the environment (read on each call, so tests can change it).

| variable | meaning | default |
|---|---|---|
| JUMIN_CS_NODE | this city's node code (全国地方公共団体コード) | ``JUMIN["MUNICIPALITY_CODE"]`` |
| JUMIN_CS_KEY_FILE | the node key file (JSON, mode 0600) | ``$JUMIN_VAR_DIR/cs-key.json`` |
| JUMIN_NETSIM_URL | the national side | ``http://localhost:8100`` |
| JUMIN_NETSIM_PUBLIC_KEY | J-LIS's public key (base64); else pinned in the key file | — |
| JUMIN_CS_TIMEOUT | seconds per HTTP request | ``10`` |
| JUMIN_CS_BACKOFF_BASE / _CAP | first retry delay / the longest, in seconds | ``1`` / ``600`` |
| JUMIN_CS_CONCURRENCY | envelopes in flight at once per worker | ``4`` |
| JUMIN_CS_LEASE_SECONDS | how long a claimed message is reserved for its worker | derived |
| JUMIN_CS_BATCH | ``1``: envelopes go in ``POST /v1/messages:batch``; ``0``: one by one | ``1`` |
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_NODE = "141500"
DEFAULT_URL = "http://localhost:8100"


def _float(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} は数値で指定してください（指定値: {raw!r}）。"
        ) from None
    if not math.isfinite(value) or value < minimum:
        raise ImproperlyConfigured(f"{name} は {minimum} 以上で指定してください（指定値: {raw}）。")
    return value


@dataclass(frozen=True)
class CsConfig:
    node: str
    key_file: Path
    netsim_url: str
    netsim_public_key: str
    timeout: float
    backoff_base: float
    backoff_cap: float
    concurrency: int
    lease_seconds: float | None
    demo: bool
    batch: bool = True


def config() -> CsConfig:
    jumin = getattr(settings, "JUMIN", {})
    node = os.environ.get("JUMIN_CS_NODE", "").strip() or str(
        jumin.get("MUNICIPALITY_CODE") or DEFAULT_NODE
    )
    if not (len(node) == 6 and node.isdigit()):
        raise ImproperlyConfigured(
            f"JUMIN_CS_NODE は6桁の全国地方公共団体コードで指定してください（指定値: {node!r}）。"
        )
    key_file = os.environ.get("JUMIN_CS_KEY_FILE", "").strip()
    url = (os.environ.get("JUMIN_NETSIM_URL", "").strip() or DEFAULT_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"JUMIN_NETSIM_URL は http:// または https:// で始めてください（指定値: {url!r}）。"
        )
    lease = os.environ.get("JUMIN_CS_LEASE_SECONDS", "").strip()
    return CsConfig(
        node=node,
        key_file=Path(key_file) if key_file else Path(settings.VAR_DIR) / "cs-key.json",
        netsim_url=url,
        netsim_public_key=os.environ.get("JUMIN_NETSIM_PUBLIC_KEY", "").strip(),
        timeout=_float("JUMIN_CS_TIMEOUT", 10.0, 0.01),
        backoff_base=_float("JUMIN_CS_BACKOFF_BASE", 1.0, 0.0),
        backoff_cap=_float("JUMIN_CS_BACKOFF_CAP", 600.0, 0.0),
        concurrency=int(_float("JUMIN_CS_CONCURRENCY", 4, 1)),
        lease_seconds=_float("JUMIN_CS_LEASE_SECONDS", 0, 0.01) if lease else None,
        demo=not bool(getattr(settings, "PRODUCTION", False)),
        batch=os.environ.get("JUMIN_CS_BATCH", "1").strip() not in {"0", "off", "false", "no"},
    )
