"""Envelopes: build, serialise canonically, sign and verify (Ed25519)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
SIGNATURE_HEADER = "X-Jukinet-Signature"
SIGNATURE_PREFIX = "ed25519="
MAX_SKEW = dt.timedelta(minutes=5)
MAX_BYTES = 1 << 20  # one envelope; a mailbox batch is split below this
NODE_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class ProtocolError(Exception):
    """A message that must be refused; ``code`` is stable, ``message`` Japanese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def canonical(value: Mapping[str, Any]) -> bytes:
    """The bytes that are signed and sent: sorted keys, no whitespace, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Envelope:
    kind: str
    sender: str
    recipient: str
    body: dict[str, Any]
    idempotency_key: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    sent_at: str = field(default_factory=lambda: _timestamp(_now()))
    v: int = VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": self.v,
            "id": self.id,
            "kind": self.kind,
            "sender": self.sender,
            "recipient": self.recipient,
            "sent_at": self.sent_at,
            "idempotency_key": self.idempotency_key,
            "body": self.body,
        }

    def to_bytes(self) -> bytes:
        return canonical(self.as_dict())

    @property
    def sent_at_time(self) -> dt.datetime:
        return dt.datetime.strptime(self.sent_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)

    @classmethod
    def parse(cls, raw: bytes) -> Envelope:
        """An envelope from received bytes; ProtocolError for anything malformed."""
        if len(raw) > MAX_BYTES:
            raise ProtocolError("envelope.too_large", "メッセージが大きすぎます。")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ProtocolError("envelope.malformed", "メッセージが JSON ではありません。") from exc
        if not isinstance(data, dict):
            raise ProtocolError(
                "envelope.malformed", "メッセージが JSON オブジェクトではありません。"
            )
        try:
            again = canonical(data)
        except (UnicodeEncodeError, ValueError) as exc:  # lone surrogate, NaN / Infinity
            raise ProtocolError(
                "envelope.malformed", "メッセージの JSON に使えない値があります。"
            ) from exc
        if again != raw:
            raise ProtocolError(
                "envelope.not_canonical", "メッセージが正規化された JSON ではありません。"
            )
        expected = {"v", "id", "kind", "sender", "recipient", "sent_at", "idempotency_key", "body"}
        if set(data) != expected:
            raise ProtocolError("envelope.fields", "メッセージの項目が正しくありません。")
        if type(data["v"]) is not int or data["v"] != VERSION:  # true == 1 in Python
            raise ProtocolError("envelope.version", f"対応していない版です（{data['v']!r}）。")
        for name in ("id", "kind", "sender", "recipient", "sent_at", "idempotency_key"):
            if not isinstance(data[name], str) or not data[name] or len(data[name]) > 200:
                raise ProtocolError("envelope.fields", f"項目 {name} が正しくありません。")
        if not isinstance(data["body"], dict):
            raise ProtocolError("envelope.fields", "本文（body）がオブジェクトではありません。")
        try:
            uuid.UUID(data["id"])
        except ValueError as exc:
            raise ProtocolError("envelope.id", "メッセージIDが UUID ではありません。") from exc
        envelope = cls(**data)
        try:
            envelope.sent_at_time  # noqa: B018 - validates the timestamp
        except ValueError as exc:
            raise ProtocolError("envelope.sent_at", "送信日時の形式が正しくありません。") from exc
        return envelope

    def check_fresh(self, now: dt.datetime | None = None) -> None:
        moment = now or _now()
        if abs(moment - self.sent_at_time) > MAX_SKEW:
            raise ProtocolError(
                "envelope.stale",
                "送信日時が受信側の時刻と5分以上ずれています（再送の攻撃または時刻のずれ）。",
            )

    def reply(self, sender: str, body: dict[str, Any], *, kind: str | None = None) -> Envelope:
        """The receiver's answer to this envelope."""
        return Envelope(
            kind=kind or f"{self.kind}.result",
            sender=sender,
            recipient=self.sender,
            body=body,
            idempotency_key=f"reply:{self.id}",
        )


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class NodeKey:
    """A node's signing key (private) with its code."""

    code: str
    private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, code: str) -> NodeKey:
        return cls(code, Ed25519PrivateKey.generate())

    @property
    def public_b64(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode("ascii")

    def private_b64(self) -> str:
        raw = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(raw).decode("ascii")

    @classmethod
    def from_b64(cls, code: str, private_b64: str) -> NodeKey:
        raw = base64.b64decode(private_b64)
        return cls(code, Ed25519PrivateKey.from_private_bytes(raw))

    def sign(self, payload: bytes) -> str:
        """The header value for ``payload``."""
        return SIGNATURE_PREFIX + base64.b64encode(self.private.sign(payload)).decode("ascii")

    def seal(self, envelope: Envelope) -> tuple[bytes, str]:
        """Bytes to send and the signature header value."""
        if envelope.sender != self.code:
            raise ValueError("an envelope is signed by its sender")
        raw = envelope.to_bytes()
        return raw, self.sign(raw)


def public_key(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except ValueError as exc:
        raise ProtocolError("key.malformed", "公開鍵の形式が正しくありません。") from exc


def verify(raw: bytes, header: str | None, key: Ed25519PublicKey) -> None:
    """ProtocolError unless ``header`` is a valid signature of ``raw`` by ``key``."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        raise ProtocolError("signature.missing", "署名がありません。")
    try:
        signature = base64.b64decode(header[len(SIGNATURE_PREFIX) :], validate=True)
        key.verify(signature, raw)
    except (ValueError, InvalidSignature) as exc:
        raise ProtocolError("signature.invalid", "署名が正しくありません。") from exc


def valid_node_code(code: str) -> bool:
    return 0 < len(code) <= 32 and set(code) <= NODE_CODE_CHARS
