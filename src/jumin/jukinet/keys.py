"""The CS node key file: this city's Ed25519 signing key and the pinned national keys.

The file (``JUMIN_CS_KEY_FILE``, JSON, mode 0600, written atomically)::

    {"code": "141500", "private_key": "<base64>", "peers": {"jlis": "<base64>", ...}}

Demo mode creates it on first use; production refuses and names ``jumin cs keygen``. The
national side's public keys ("jlis", "pref-NN") are pinned in ``peers``: from
``JUMIN_NETSIM_PUBLIC_KEY`` (J-LIS), from ``jumin cs trust``, or — demo mode only — fetched
once from ``GET /v1/nodes/<code>`` on first use and kept (trust on first use).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from jumin.jukinet.conf import CsConfig
from jumin.netproto.envelope import NodeKey, ProtocolError, public_key, valid_node_code

_lock = threading.Lock()


class KeyFileError(ImproperlyConfigured):
    """The key file is missing (production) or unreadable."""


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyFileError(f"CSの鍵ファイル {path} を読めません（{exc.strerror}）。") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise KeyFileError(f"CSの鍵ファイル {path} が JSON ではありません。") from exc
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("code"), str)
        or not isinstance(doc.get("private_key"), str)
    ):
        raise KeyFileError(f"CSの鍵ファイル {path} に code と private_key がありません。")
    peers = doc.setdefault("peers", {})
    if not isinstance(peers, dict):
        raise KeyFileError(f"CSの鍵ファイル {path} の peers が正しくありません。")
    return doc


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cs-key-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, ensure_ascii=False, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _node_key(cfg: CsConfig, doc: dict[str, Any]) -> NodeKey:
    if doc["code"] != cfg.node:
        raise KeyFileError(
            f"CSの鍵ファイル {cfg.key_file} は団体コード {doc['code']} の鍵です"
            f"（設定は {cfg.node}）。JUMIN_CS_NODE か JUMIN_CS_KEY_FILE を確認してください。"
        )
    try:
        return NodeKey.from_b64(doc["code"], doc["private_key"])
    except ValueError as exc:
        raise KeyFileError(f"CSの鍵ファイル {cfg.key_file} の秘密鍵が壊れています。") from exc


def generate(cfg: CsConfig, *, force: bool = False) -> NodeKey:
    """Create the key file with a new key (``jumin cs keygen``); refuses to overwrite."""
    with _file_lock(cfg.key_file):
        if _read(cfg.key_file) is not None and not force:
            raise KeyFileError(
                f"CSの鍵ファイル {cfg.key_file} は既にあります。作り直すと全国側に登録した"
                "公開鍵が使えなくなります（作り直す場合は --force）。"
            )
        key = NodeKey.generate(cfg.node)
        _write(cfg.key_file, {"code": cfg.node, "private_key": key.private_b64(), "peers": {}})
        return key


def node_key(cfg: CsConfig) -> NodeKey:
    """This city's signing key; created in demo mode when the file is missing."""
    doc = _read(cfg.key_file)
    if doc is None:
        if not cfg.demo:
            raise KeyFileError(
                f"CSの鍵ファイル {cfg.key_file} がありません。`jumin cs keygen` で作成し、"
                "公開鍵を全国側（J-LIS）に登録してください。"
            )
        with _file_lock(cfg.key_file):
            doc = _read(cfg.key_file)
            if doc is None:
                key = NodeKey.generate(cfg.node)
                doc = {"code": cfg.node, "private_key": key.private_b64(), "peers": {}}
                _write(cfg.key_file, doc)
    return _node_key(cfg, doc)


def pinned(cfg: CsConfig) -> dict[str, str]:
    """The pinned public keys (code → base64), J-LIS's from the environment first."""
    doc = _read(cfg.key_file) or {"peers": {}}
    peers = {str(k): str(v) for k, v in doc["peers"].items()}
    if cfg.netsim_public_key:
        peers["jlis"] = cfg.netsim_public_key
    return peers


def pin(cfg: CsConfig, code: str, b64: str) -> None:
    """Keep a national node's public key in the key file (``jumin cs trust``)."""
    if not valid_node_code(code) or code.isdigit():
        raise KeyFileError(f"全国側のノードコード {code!r} が正しくありません（jlis, pref-NN）。")
    try:
        public_key(b64)
    except ProtocolError as exc:
        raise KeyFileError(f"{code} の公開鍵の形式が正しくありません。") from exc
    node_key(cfg)  # the file exists (demo) or the refusal names keygen
    with _file_lock(cfg.key_file):
        doc = _read(cfg.key_file)
        assert doc is not None
        doc["peers"][code] = b64
        _write(cfg.key_file, doc)
