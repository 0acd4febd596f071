"""個人番号 at rest: AES-GCM with a key id, a keyed hash for exact search (invariant 6).

The keys live in a JSON file outside the database (``settings.KEY_FILE``, env
``JUMIN_KEY_FILE``)::

    {"version": 1, "active": "k20261126a",
     "keys": {"k20261126a": "<base64 32-byte AES key>", ...},
     "hmac_key": "<base64 32 bytes>"}

- New rows are encrypted with the ``active`` key; older keys stay in the file so that rows
  written under them can still be read (``rotate_keys`` re-encrypts them; ``retire_unused_keys``
  removes keys no row uses any more).
- ``hmac_key`` keys the lookup hash. ``rotate_keys`` never changes it: a new HMAC key would
  change every ``lookup_hash`` and needs a separate re-hash procedure (not implemented).
- The file is written atomically (temporary file + ``os.replace``) with mode 0600.
- A process caches the parsed file and re-reads it when the file changes (inode, size, mtime),
  so a rotation done by one process is seen by every other process on its next call.

Nothing here checks permissions or writes the access log: callers do (see
``reveal_my_number``). Key material and numbers never appear in exceptions or reprs.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import string
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.audit.models import Category, Outcome
from jumin.audit.services import record
from jumin.core.identifiers import validate_my_number
from jumin.register.models import EncryptedMyNumber

__all__ = [
    "ASSOCIATED_DATA",
    "DecryptionError",
    "KeyFileError",
    "KeyManagementError",
    "KeyRing",
    "init_keys",
    "key_file_path",
    "key_usage",
    "load_keyring",
    "my_number_lookup_hash",
    "protect_my_number",
    "reset_keyring_cache",
    "retire_unused_keys",
    "reveal_my_number",
    "rotate_keys",
]

logger = logging.getLogger(__name__)

FILE_VERSION = 1
ASSOCIATED_DATA = b"jumin:my_number:v1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")  # fits EncryptedMyNumber.key_id
ROTATE_FUNCTION = "個人番号暗号鍵の更新"
RETIRE_FUNCTION = "個人番号暗号鍵の廃棄"


class KeyFileError(ImproperlyConfigured):
    """The key file is missing, unreadable or malformed."""


class DecryptionError(Exception):
    """A ciphertext could not be decrypted: unknown key id, or tampered / wrong-key data."""


class KeyManagementError(Exception):
    """A key operation was refused (overwrite, retiring a key in use, …)."""


# --------------------------------------------------------------------------- the key ring


@dataclass(frozen=True)
class KeyRing:
    """The parsed key file. Key material is kept out of ``repr``."""

    active_id: str
    keys: dict[str, bytes] = field(repr=False)
    hmac_key: bytes = field(repr=False)

    def encrypt(self, plaintext: str) -> tuple[str, bytes]:
        """Encrypt with the active key: ``(key_id, nonce(12) + AES-GCM ciphertext and tag)``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(
            nonce, plaintext.encode("utf-8"), ASSOCIATED_DATA
        )
        return self.active_id, nonce + sealed

    def decrypt(self, key_id: str, blob: bytes | memoryview) -> str:
        """Decrypt a blob written by ``encrypt``; raises ``DecryptionError``."""
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(
                f"鍵ID「{key_id}」の鍵が鍵ファイルにありません。鍵ファイル（JUMIN_KEY_FILE）が"
                "正しいか、廃棄した鍵でないかを確認してください。"
                f" Key id {key_id!r} is not in the key file."
            )
        data = bytes(blob)
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(
                f"個人番号の暗号文が短すぎます（鍵ID「{key_id}」）。データが壊れています。"
                " The ciphertext is truncated."
            )
        try:
            plain = AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], ASSOCIATED_DATA)
        except InvalidTag:
            raise DecryptionError(
                f"個人番号を復号できません（鍵ID「{key_id}」）。暗号文が改ざんされたか、"
                "鍵が一致しません。 Authentication failed: tampered data or wrong key."
            ) from None
        return plain.decode("utf-8")

    def lookup_hash(self, number: str) -> str:
        """Hex HMAC-SHA256 of the normalised 12-digit number (raises IdentifierError)."""
        normalised = validate_my_number(number)
        return hmac.new(self.hmac_key, normalised.encode("ascii"), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- the key file


def key_file_path() -> Path:
    return Path(settings.KEY_FILE)


def _is_demo() -> bool:
    return bool(settings.JUMIN.get("MODE") == "demo")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _new_key_id(existing: Iterable[str]) -> str:
    """``k`` + today's date (Asia/Tokyo) + the first free suffix ``a`` … ``z``, ``aa`` …"""
    taken = set(existing)
    stem = f"k{timezone.localdate():%Y%m%d}"
    for width in (1, 2, 3):
        for letters in product(string.ascii_lowercase, repeat=width):
            candidate = stem + "".join(letters)
            if candidate not in taken:
                return candidate
    raise KeyManagementError("本日の鍵IDを使い切りました。 No free key id left for today.")


def _fresh_document() -> dict[str, Any]:
    key_id = _new_key_id(())
    return {
        "version": FILE_VERSION,
        "active": key_id,
        "keys": {key_id: _b64(_new_key())},
        "hmac_key": _b64(_new_key()),
    }


def _document(ring: KeyRing) -> dict[str, Any]:
    return {
        "version": FILE_VERSION,
        "active": ring.active_id,
        "keys": {kid: _b64(key) for kid, key in ring.keys.items()},
        "hmac_key": _b64(ring.hmac_key),
    }


def _malformed(path: Path, what: str) -> KeyFileError:
    return KeyFileError(
        f"個人番号の鍵ファイル {path} の形式が正しくありません: {what}。"
        "バックアップから復元してください（鍵を失うと暗号化済みの個人番号は復号できません）。"
        f" The key file {path} is malformed: {what}."
    )


def _decode_key(path: Path, value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise _malformed(path, f"{name} が文字列ではありません")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed(path, f"{name} が base64 ではありません") from None
    if len(raw) != KEY_BYTES:
        raise _malformed(path, f"{name} が {KEY_BYTES} バイトではありません")
    return raw


def _parse(path: Path, text: str) -> KeyRing:
    try:
        doc = json.loads(text)
    except ValueError:
        raise _malformed(path, "JSON として読めません") from None
    if not isinstance(doc, dict):
        raise _malformed(path, "JSON オブジェクトではありません")
    if doc.get("version") != FILE_VERSION:
        raise _malformed(path, f"version が {FILE_VERSION} ではありません")
    keys_doc = doc.get("keys")
    if not isinstance(keys_doc, dict) or not keys_doc:
        raise _malformed(path, "keys がないか空です")
    keys: dict[str, bytes] = {}
    for key_id, value in keys_doc.items():
        if not _KEY_ID.match(key_id):
            raise _malformed(path, f"鍵ID「{key_id}」が不正です")
        keys[key_id] = _decode_key(path, value, f"keys[{key_id}]")
    active = doc.get("active")
    if not isinstance(active, str) or active not in keys:
        raise _malformed(path, "active が keys の中の鍵IDを指していません")
    hmac_key = _decode_key(path, doc.get("hmac_key"), "hmac_key")
    return KeyRing(active_id=active, keys=keys, hmac_key=hmac_key)


def _read(path: Path) -> KeyRing:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _missing(path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(
            f"個人番号の鍵ファイル {path} を読めません（{type(exc).__name__}）。"
            "ファイルの場所（JUMIN_KEY_FILE）と権限を確認してください。"
            f" Cannot read the key file {path}."
        ) from None
    return _parse(path, text)


def _missing(path: Path) -> KeyFileError:
    return KeyFileError(
        f"個人番号の鍵ファイル {path} がありません。環境変数 JUMIN_KEY_FILE に鍵ファイルの場所を"
        "設定し、`jumin keys init` で作成してください。"
        f" The My Number key file {path} does not exist: set JUMIN_KEY_FILE and create it"
        " with `jumin keys init`."
    )


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not supported everywhere (e.g. Windows)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write(path: Path, doc: dict[str, Any], *, overwrite: bool) -> None:
    """Write ``doc`` atomically with mode 0600. Without ``overwrite``, raise FileExistsError
    if the file exists (checked atomically with a hard link where the filesystem allows)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o600)  # mkstemp already uses 0600; be explicit
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise
            except OSError:  # no hard links on this filesystem
                if path.exists():
                    raise FileExistsError(str(path)) from None
                os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the key file between processes on this host."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# --------------------------------------------------------------------------- the cache

_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, int], KeyRing]] = {}


def _signature(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def reset_keyring_cache() -> None:
    """Forget the parsed key files (tests, or after editing the file by hand)."""
    with _cache_lock:
        _cache.clear()


def load_keyring() -> KeyRing:
    """The key ring of ``settings.KEY_FILE``, cached until the file changes.

    A missing file is created with a fresh key in demo mode; in production it raises
    ``ImproperlyConfigured`` (``KeyFileError``), as does a malformed file.
    """
    path = key_file_path()
    try:
        sig = _signature(path)
    except FileNotFoundError:
        if not _is_demo():
            raise _missing(path) from None
        with contextlib.suppress(FileExistsError):  # another process was first: use its file
            _write(path, _fresh_document(), overwrite=False)
            logger.warning("Created a demo key file for the 個人番号 at %s", path)
        sig = _signature(path)
    key = str(path)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == sig:
            return cached[1]
    ring = _read(path)
    with _cache_lock:
        _cache[key] = (sig, ring)
    return ring


# --------------------------------------------------------------------------- the rows


def protect_my_number(number: str) -> EncryptedMyNumber:
    """Validate ``number`` (IdentifierError on bad input), encrypt it with the active key and
    create the row (in the caller's transaction)."""
    normalised = validate_my_number(number)
    ring = load_keyring()
    key_id, blob = ring.encrypt(normalised)
    return EncryptedMyNumber.objects.create(
        key_id=key_id, ciphertext=blob, lookup_hash=ring.lookup_hash(normalised)
    )


def reveal_my_number(row: EncryptedMyNumber) -> str:
    """Decrypt a row to the 12-digit number (``DecryptionError`` if impossible).

    This function checks nothing and logs nothing. The caller must check that the acting staff
    member holds ``Perm.MY_NUMBER_READ``, show the number only on request, and record the read
    with ``my_number_accessed=True`` in the operation log (never the number itself).
    """
    return load_keyring().decrypt(row.key_id, row.ciphertext)


def my_number_lookup_hash(number: str) -> str:
    """Validate ``number`` and return its keyed hash, to search ``lookup_hash`` exactly."""
    return load_keyring().lookup_hash(validate_my_number(number))


def key_usage() -> dict[str, int]:
    """Number of EncryptedMyNumber rows per key id (including ids missing from the file)."""
    rows = EncryptedMyNumber.objects.values("key_id").annotate(n=Count("pk")).order_by("key_id")
    return {r["key_id"]: r["n"] for r in rows}


# --------------------------------------------------------------------------- key management


def init_keys(*, force: bool = False) -> Path:
    """Create the key file with a fresh AES key and HMAC key; return its path.

    Refuses to overwrite an existing file unless ``force``, and even then refuses while any
    EncryptedMyNumber row exists (their keys would be lost).
    """
    path = key_file_path()
    with _file_lock(path):
        if path.exists():
            if not force:
                raise KeyManagementError(
                    f"鍵ファイル {path} は既にあります。上書きすると暗号化済みの個人番号を"
                    "復号できなくなるため、作成しません。"
                    f" The key file {path} already exists; refusing to overwrite it."
                )
            table = EncryptedMyNumber._meta.db_table
            if table in connection.introspection.table_names() and (
                EncryptedMyNumber.objects.exists()
            ):
                raise KeyManagementError(
                    f"暗号化済みの個人番号が {EncryptedMyNumber.objects.count()} 件あるため、"
                    f"鍵ファイル {path} は --force でも上書きできません。"
                    " Encrypted rows exist: overwriting the key file would lose them."
                )
        try:
            _write(path, _fresh_document(), overwrite=force)
        except FileExistsError:
            raise KeyManagementError(
                f"鍵ファイル {path} は既にあります。 The key file {path} already exists."
            ) from None
    reset_keyring_cache()
    return path


def _add_active_key(path: Path) -> str:
    ring = _read(path)
    new_id = _new_key_id(ring.keys)
    keys = {**ring.keys, new_id: _new_key()}
    _write(path, _document(KeyRing(new_id, keys, ring.hmac_key)), overwrite=True)
    reset_keyring_cache()
    return new_id


def _re_encrypt_batch(batch_size: int) -> int:
    """Re-encrypt up to ``batch_size`` rows not under the active key, in one transaction."""
    with transaction.atomic():
        # Read the ring per batch: if another rotation made a newer key active, every loop
        # converges on it instead of re-encrypting rows back and forth.
        ring = load_keyring()
        rows = list(
            EncryptedMyNumber.objects.select_for_update()
            .exclude(key_id=ring.active_id)
            .only("pk", "key_id", "ciphertext")
            .order_by("pk")[:batch_size]
        )
        for row in rows:
            plain = ring.decrypt(row.key_id, row.ciphertext)
            row.key_id, row.ciphertext = ring.encrypt(plain)
        if rows:
            EncryptedMyNumber.objects.bulk_update(rows, ["key_id", "ciphertext"])
    return len(rows)


def rotate_keys(
    actor: Actor,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add a new key, make it active, re-encrypt every row under an older key; return the count.

    The file is written first, so new writes use the new key at once, and old keys stay in the
    file, so readers decrypt old and new rows throughout (no downtime). Rows are re-encrypted in
    place (same primary key, so history snapshots keep pointing at them) in batches of
    ``batch_size``, each in its own short transaction with the batch rows locked. Lookup hashes
    do not change. One operation-log entry records the new key id and the count.
    ``progress`` is called with the running count after each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    path = key_file_path()
    with _file_lock(path):
        if not path.exists():
            load_keyring()  # creates a demo file, or raises the production error
        new_id = _add_active_key(path)
        done = 0
        try:
            while n := _re_encrypt_batch(batch_size):
                done += n
                if progress is not None:
                    progress(done)
        except Exception as exc:
            _record_failure(actor, new_id, done, exc)
            raise
    record(
        actor,
        category=Category.SETTINGS_CHANGE,
        function=ROTATE_FUNCTION,
        detail={"new_key_id": new_id, "re_encrypted": done},
    )
    return done


def _record_failure(actor: Actor, new_id: str, done: int, exc: Exception) -> None:
    try:
        record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function=ROTATE_FUNCTION,
            outcome=Outcome.FAILED,
            detail={"new_key_id": new_id, "re_encrypted": done, "error": type(exc).__name__},
        )
    except Exception:  # the original error matters more; do not mask it
        logger.exception("Could not log the failed key rotation")


def retire_unused_keys(
    key_ids: Iterable[str] | None = None, *, actor: Actor | None = None
) -> list[str]:
    """Remove keys that no row uses from the key file; return the removed key ids.

    Without ``key_ids``: every key except the active one that no EncryptedMyNumber row uses.
    With ``key_ids``: exactly those, refusing (``KeyManagementError``, nothing removed) an
    unknown id, the active key or a key still referenced by a row. With ``actor``, the removal
    is recorded in the operation log.
    """
    path = key_file_path()
    with _file_lock(path):
        ring = _read(path)
        usage = key_usage()
        if key_ids is None:
            retire = [k for k in ring.keys if k != ring.active_id and not usage.get(k)]
        else:
            retire = list(dict.fromkeys(key_ids))
            for key_id in retire:
                if key_id not in ring.keys:
                    raise KeyManagementError(
                        f"鍵ID「{key_id}」は鍵ファイルにありません。 Unknown key id {key_id!r}."
                    )
                if key_id == ring.active_id:
                    raise KeyManagementError(
                        f"鍵ID「{key_id}」は現在有効な鍵のため廃棄できません。"
                        f" {key_id!r} is the active key."
                    )
                if usage.get(key_id):
                    raise KeyManagementError(
                        f"鍵ID「{key_id}」はまだ {usage[key_id]} 件の個人番号に使われているため"
                        "廃棄できません。先に `jumin keys rotate` で再暗号化してください。"
                        f" {key_id!r} is still used by {usage[key_id]} rows."
                    )
        if retire:
            keys = {k: v for k, v in ring.keys.items() if k not in retire}
            _write(path, _document(KeyRing(ring.active_id, keys, ring.hmac_key)), overwrite=True)
            reset_keyring_cache()
    if retire and actor is not None:
        record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function=RETIRE_FUNCTION,
            detail={"retired_key_ids": retire},
        )
    return retire
