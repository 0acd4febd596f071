"""netsim's own secrets: the signing key of every node it serves and the 個人番号 secret.

One JSON file outside the database (``NETSIM["KEY_FILE"]``, mode 0600)::

    {"version": 1,
     "my_number_secret": "<base64, 32 bytes>",
     "nodes": {"jlis": "<Ed25519 private key, base64>", "pref-01": "…", …, "pref-47": "…"}}

Demo mode creates a missing file (or adds a missing prefecture key); production refuses and
names ``jumin netsim keys init``. The file is read once per process and cached.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from jumin.netproto.envelope import NodeKey
from jumin.netproto.messages import JLIS

VERSION = 1


class KeyFileError(Exception):
    """The key file is missing (production) or unreadable; the message is Japanese."""


@dataclass(frozen=True)
class Keys:
    my_number_secret: bytes
    nodes: dict[str, NodeKey]

    def node(self, code: str) -> NodeKey:
        return self.nodes[code]


def own_codes(prefectures: tuple[str, ...]) -> list[str]:
    """The node codes netsim answers for: J-LIS and one server per prefecture served."""
    return [JLIS, *(f"pref-{number}" for number in prefectures)]


def _write(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise KeyFileError(
            f"netsim の鍵ファイル {path} を読めません（{type(exc).__name__}）。"
            "ファイルの内容と権限を確認してください。"
        ) from exc
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise KeyFileError(f"netsim の鍵ファイル {path} の形式が正しくありません。")
    return data


def create(path: Path, codes: list[str], *, force: bool = False) -> Keys:
    """Write a new key file with a fresh key for each of ``codes``."""
    if path.exists() and not force:
        raise KeyFileError(
            f"netsim の鍵ファイル {path} は既にあります。"
            "鍵を作り直すと登録済みの市区町村が応答を検証できなくなるため、上書きしません。"
        )
    data: dict[str, object] = {
        "version": VERSION,
        "my_number_secret": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
        "nodes": {code: NodeKey.generate(code).private_b64() for code in codes},
    }
    _write(path, data)
    return _parse(data)


def _parse(data: dict[str, object]) -> Keys:
    nodes = data.get("nodes")
    secret = data.get("my_number_secret")
    if not isinstance(nodes, dict) or not isinstance(secret, str):
        raise KeyFileError("netsim の鍵ファイルに nodes または my_number_secret がありません。")
    return Keys(
        my_number_secret=base64.b64decode(secret),
        nodes={code: NodeKey.from_b64(code, str(value)) for code, value in nodes.items()},
    )


_lock = threading.Lock()
_cache: dict[Path, Keys] = {}


def load(path: Path, codes: list[str], *, create_missing: bool) -> Keys:
    """The keys for ``codes``; in demo mode (``create_missing``) missing ones are created."""
    with _lock:
        cached = _cache.get(path)
        if cached is not None and all(code in cached.nodes for code in codes):
            return cached
        try:
            data = _read(path)
        except FileNotFoundError:
            if not create_missing:
                raise KeyFileError(
                    f"netsim の鍵ファイル {path} がありません。"
                    "`jumin netsim keys init` で作成してください。"
                ) from None
            try:
                keys = create(path, codes)
            except (FileExistsError, KeyFileError):  # created meanwhile by another process
                keys = _parse(_read(path))
            _cache[path] = keys
            return keys
        nodes = data.get("nodes")
        missing = [code for code in codes if not isinstance(nodes, dict) or code not in nodes]
        if missing:
            if not create_missing:
                raise KeyFileError(
                    f"netsim の鍵ファイル {path} に {', '.join(missing)} の鍵がありません。"
                    "`jumin netsim keys init --add` で追加してください。"
                )
            assert isinstance(nodes, dict)
            for code in missing:
                nodes[code] = NodeKey.generate(code).private_b64()
            _write(path, data)
        keys = _parse(data)
        _cache[path] = keys
        return keys


def add_missing(path: Path, codes: list[str]) -> list[str]:
    """Add keys for the codes the file lacks (``keys init --add``); returns the added codes."""
    with _lock:
        data = _read(path)
        nodes = data.get("nodes")
        assert isinstance(nodes, dict)
        added = [code for code in codes if code not in nodes]
        for code in added:
            nodes[code] = NodeKey.generate(code).private_b64()
        if added:
            _write(path, data)
        _cache.pop(path, None)
        return added


def forget_cache() -> None:
    with _lock:
        _cache.clear()
