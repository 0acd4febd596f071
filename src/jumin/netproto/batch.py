"""Batches: several signed envelopes in one HTTP request (``POST /v1/messages:batch``).

A batch is only a carrier. Each item is an envelope exactly as it would be sent alone — its
canonical bytes (as a UTF-8 string) and its own ``X-Jukinet-Signature`` value — and is
verified, applied, logged and answered on its own, in the order given; each answer is what
``POST /v1/messages`` would have answered (HTTP status, the reply bytes, the reply's
signature). The wrapper itself is not signed: nothing in it is trusted but the items.

Request::

    {"items": [{"envelope": "<canonical envelope>", "signature": "ed25519=…"}, …]}

Reply (HTTP 200 when the batch was read, items in the same order)::

    {"items": [{"status": 200, "content": "<reply envelope>", "signature": "ed25519=…"},
               {"status": 400, "content": "{\\"code\\":…,\\"message\\":…}", "signature": null}]}

A server without batches answers 404: the sender then sends the envelopes one by one.
Senders keep at most one message per person in a batch (per-person order is the sender's:
it sends a person's next message after the answer to the previous one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from jumin.netproto.envelope import MAX_BYTES, ProtocolError

BATCH_PATH = "/v1/messages:batch"
MAX_ITEMS = 500
MAX_BATCH_BYTES = 2 * MAX_BYTES  # below Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)


@dataclass(frozen=True)
class Item:
    raw: bytes  # the envelope's canonical bytes
    signature: str | None


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    signature: str | None


def encode_request(items: Sequence[tuple[bytes, str]]) -> bytes:
    doc = {"items": [{"envelope": raw.decode("utf-8"), "signature": sig} for raw, sig in items]}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _doc(raw: bytes, what: str) -> list[dict[str, object]]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError(f"{what}.malformed", f"{what} が JSON として読めません。") from None
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ProtocolError(f"{what}.malformed", f"{what} に items の配列がありません。")
    return items


def _bytes(text: str) -> bytes:
    """An item's bytes as sent. JSON may carry a lone surrogate (``"\\ud800"``), which UTF-8
    cannot encode: kept as invalid bytes, that one item then fails to parse or verify on its
    own (an answer for it alone) instead of failing the whole batch."""
    return text.encode("utf-8", "surrogatepass")


def decode_request(raw: bytes) -> list[Item]:
    """The items of a batch request; ``ProtocolError`` (the whole batch is refused, HTTP 400)
    when it is not a batch, is empty or too large."""
    if len(raw) > MAX_BATCH_BYTES:
        raise ProtocolError("batch.too_large", "一括送信が大きすぎます。")
    items = _doc(raw, "batch")
    if not items:
        raise ProtocolError("batch.empty", "一括送信に電文がありません。")
    if len(items) > MAX_ITEMS:
        raise ProtocolError(
            "batch.too_many", f"一括送信の電文は{MAX_ITEMS}件以下にしてください（{len(items)}件）。"
        )
    out = []
    for item in items:
        envelope, signature = item.get("envelope"), item.get("signature")
        if not isinstance(envelope, str) or not (signature is None or isinstance(signature, str)):
            raise ProtocolError(
                "batch.malformed",
                "一括送信の各電文には envelope（文字列）と signature が必要です。",
            )
        out.append(Item(_bytes(envelope), signature))
    return out


def encode_reply(answers: Sequence[Answer]) -> bytes:
    doc = {
        "items": [
            {"status": a.status, "content": a.content.decode("utf-8"), "signature": a.signature}
            for a in answers
        ]
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_reply(raw: bytes, expected: int) -> list[Answer]:
    items = _doc(raw, "batch_reply")
    if len(items) != expected:
        raise ProtocolError(
            "batch_reply.count", f"一括送信の応答が{len(items)}件です（送信は{expected}件）。"
        )
    out = []
    for item in items:
        status, content, signature = item.get("status"), item.get("content"), item.get("signature")
        if not isinstance(status, int) or not isinstance(content, str):
            raise ProtocolError("batch_reply.malformed", "一括送信の応答の形式が正しくありません。")
        out.append(
            Answer(status, _bytes(content), signature if isinstance(signature, str) else None)
        )
    return out
