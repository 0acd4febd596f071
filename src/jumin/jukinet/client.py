"""The CS's HTTP transport to the national side: seal, POST, verify the signed reply.

``CsClient.send`` never raises for what the network does: it returns an ``Exchange`` whose
``outcome`` says what the worker must do with the message —

- ``delivered``: HTTP 200 with a reply signed by the recipient, bound to this envelope
  (``idempotency_key == "reply:<id>"``), whose body is the kind's result model;
- ``refused``: HTTP 400/403/404/409/422 (the national side refuses the message: retrying the
  same message cannot help), or a signed ``error`` reply — final, shown on the failures list;
- ``retry``: connection refused, timeout, reset, HTTP 5xx, 401 (this node's key is not
  registered or not accepted: a configuration problem, not the message's), 408/429, a
  refusal for clock skew (``envelope.stale``), or a reply that fails verification — the
  message stays pending and is retried with backoff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone
from pydantic import ValidationError

from jumin.core.identifiers import is_valid_my_number
from jumin.jukinet import keys
from jumin.jukinet.conf import CsConfig, config
from jumin.netproto import batch
from jumin.netproto.envelope import (
    SIGNATURE_HEADER,
    Envelope,
    NodeKey,
    ProtocolError,
    public_key,
    verify,
)
from jumin.netproto.messages import JLIS, KINDS, ErrorBody, prefecture_node

MASK = "************"
MESSAGES_PATH = "/v1/messages"
RETRY_STATUSES = frozenset({401, 408, 425, 429})
RETRY_CODES = frozenset({"envelope.stale"})  # clocks apart: not the message's fault


_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def scrub(text: str) -> str:
    """``text`` with anything that is a valid 個人番号 masked (for error messages from the
    national side, which are stored and shown)."""
    return _TWELVE_DIGITS.sub(lambda m: MASK if is_valid_my_number(m.group()) else m.group(), text)


def masked(value: Any) -> Any:
    """``value`` with every ``my_number`` item, and any valid 個人番号 inside a text, replaced
    by a mask (for the message log and the screens)."""
    if isinstance(value, dict):
        return {k: (MASK if k == "my_number" and v else masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str) and len(value) >= 12:
        return scrub(value)
    return value


class TransportError(Exception):
    """The request did not get an HTTP answer; ``code`` stable, ``message`` Japanese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class HttpTransport:
    """HTTP/1.1 with keep-alive, one connection per thread, a timeout on every request."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout)
        self._local.conn = conn
        with self._lock:
            self._open.add(conn)
        return conn, False

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
            with self._lock:
                self._open.discard(conn)

    def close(self) -> None:
        """Close every thread's connection (call when the transport is done with)."""
        self._local.conn = None
        with self._lock:
            conns, self._open = self._open, set()
        for conn in conns:
            conn.close()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        for _ in range(2):
            conn, reused = self._connection()
            try:
                conn.request(method, self.prefix + path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop()
                if reused:
                    continue  # the server closed an idle keep-alive connection: reconnect once
                raise TransportError(
                    "network.reset", "全国側（netsim）との接続が切断されました。"
                ) from exc
            except TimeoutError as exc:
                self._drop()
                raise TransportError(
                    "network.timeout",
                    f"全国側（netsim）から{self.timeout:g}秒以内に応答がありませんでした。",
                ) from exc
            except ConnectionRefusedError as exc:
                self._drop()
                raise TransportError(
                    "network.refused",
                    f"全国側（netsim, {self.base_url}）に接続できません（接続拒否）。",
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise TransportError(
                    "network.error",
                    f"全国側（netsim）との通信に失敗しました（{type(exc).__name__}）。",
                ) from exc
            if response.will_close:
                self._drop()
            return HttpResponse(
                response.status, {k.lower(): v for k, v in response.getheaders()}, data
            )
        raise TransportError(  # pragma: no cover - the loop returns or raises
            "network.reset", "全国側（netsim）との接続が切断されました。"
        )


def recipient_for(kind: str, node: str) -> str:
    spec = KINDS[kind]
    return prefecture_node(node) if spec.recipient == "prefecture" else JLIS


class PeerKeys:
    """The national nodes' public keys: pinned, or fetched once and pinned (demo mode)."""

    def __init__(self, cfg: CsConfig, transport: HttpTransport) -> None:
        self.cfg = cfg
        self.transport = transport
        self._cache: dict[str, Ed25519PublicKey] = {}
        self._lock = threading.Lock()

    def fetch(self, code: str) -> str:
        """The public key the national side publishes for ``code`` (GET /v1/nodes/<code>)."""
        response = self.transport.request("GET", f"/v1/nodes/{code}")
        if response.status != 200:
            raise TransportError(
                "key.fetch",
                f"全国側から {code} の公開鍵を取得できません（HTTP {response.status}）。",
            )
        try:
            doc = json.loads(response.body)
            b64 = str(doc["public_key"])
            if doc.get("code") != code:
                raise ValueError(code)
            public_key(b64)
        except (ValueError, KeyError, TypeError, ProtocolError) as exc:
            raise TransportError(
                "key.fetch", f"全国側が返した {code} の公開鍵が正しくありません。"
            ) from exc
        return b64

    def get(self, code: str) -> Ed25519PublicKey:
        with self._lock:
            if code in self._cache:
                return self._cache[code]
        b64 = keys.pinned(self.cfg).get(code)
        if b64 is None:
            if not self.cfg.demo:
                raise TransportError(
                    "key.unknown",
                    f"全国側ノード {code} の公開鍵が登録されていません。"
                    f"`jumin cs trust {code} 公開鍵` で登録してください。",
                )
            b64 = self.fetch(code)
            keys.pin(self.cfg, code, b64)  # trust on first use (demo mode only)
        key = public_key(b64)
        with self._lock:
            self._cache[code] = key
        return key


@dataclass
class Exchange:
    """One envelope sent and what came back."""

    envelope: Envelope
    outcome: str  # "delivered" | "refused" | "retry"
    started_at: dt.datetime
    finished_at: dt.datetime
    http_status: int | None = None
    reply: Envelope | None = None
    result: dict[str, Any] | None = None
    error_code: str = ""
    error_message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def reply_body(self) -> dict[str, Any] | None:
        if self.reply is not None:
            return self.reply.body
        return self.extra.get("error_body")


def _status_message(status: int) -> str:
    if status == 401:
        return "全国側がこのCSの署名を受け付けません（公開鍵が未登録か、鍵が一致しません）。"
    if status == 409:
        return "同じメッセージIDで異なる内容が送信済みとして拒否されました。"
    if status >= 500:
        return f"全国側（netsim）でエラーが発生しました（HTTP {status}）。"
    return f"全国側（netsim）がメッセージを受け付けませんでした（HTTP {status}）。"


class CsClient:
    def __init__(
        self,
        key: NodeKey,
        transport: HttpTransport,
        peers: PeerKeys | Callable[[str], Ed25519PublicKey],
    ) -> None:
        self.key = key
        self.transport = transport
        self.batches = True  # use POST /v1/messages:batch (until the national side says 404)
        self._peer = peers.get if isinstance(peers, PeerKeys) else peers

    @classmethod
    def from_config(cls, cfg: CsConfig | None = None) -> CsClient:
        cfg = cfg or config()
        transport = HttpTransport(cfg.netsim_url, cfg.timeout)
        return cls(keys.node_key(cfg), transport, PeerKeys(cfg, transport))

    @property
    def node(self) -> str:
        return self.key.code

    def close(self) -> None:
        self.transport.close()

    def envelope(
        self, kind: str, body: dict[str, Any], *, idempotency_key: str, recipient: str | None = None
    ) -> Envelope:
        return Envelope(
            kind=kind,
            sender=self.key.code,
            recipient=recipient or recipient_for(kind, self.key.code),
            body=body,
            idempotency_key=idempotency_key,
        )

    def _stamped(self, envelope: Envelope, started: dt.datetime) -> Envelope:
        return dataclasses.replace(
            envelope, sent_at=started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        )

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Exchange]:
        """Send ``envelopes`` in one ``POST /v1/messages:batch`` (``netproto.batch``): each is
        signed on its own and its answer verified on its own, as ``send`` does. The caller
        puts at most one message per person in a batch. A national side without batches
        (HTTP 404/405) is remembered and the envelopes go one by one; a transport failure or
        an error for the whole batch makes every envelope a retry."""
        if not envelopes:
            return []
        if not self.batches or len(envelopes) == 1:
            return [self.send(e) for e in envelopes]
        started = timezone.now()
        stamped = [self._stamped(e, started) for e in envelopes]

        def every(
            outcome: str, code: str, message: str, status: int | None = None
        ) -> list[Exchange]:
            done = timezone.now()
            return [
                Exchange(
                    e,
                    outcome,
                    started,
                    done,
                    http_status=status,
                    error_code=code,
                    error_message=message,
                )
                for e in stamped
            ]

        try:
            for e in stamped:
                self._peer(e.recipient)
        except TransportError as exc:
            return every("retry", exc.code, exc.message)
        sealed = [self.key.seal(e) for e in stamped]
        payload = batch.encode_request(sealed)
        if len(payload) > batch.MAX_BATCH_BYTES or len(sealed) > batch.MAX_ITEMS:
            half = len(envelopes) // 2
            return self.send_batch(envelopes[:half]) + self.send_batch(envelopes[half:])
        try:
            response = self.transport.request(
                "POST", batch.BATCH_PATH, payload, {"Content-Type": "application/json"}
            )
        except TransportError as exc:
            return every("retry", exc.code, exc.message)
        if response.status in {404, 405}:
            self.batches = False  # an older national side: one by one from now on
            return [self.send(e) for e in envelopes]
        if response.status != 200:  # the batch as a whole: every envelope goes again
            code, message = f"http.{response.status}", _status_message(response.status)
            try:
                error = json.loads(response.body)
                if isinstance(error, dict) and error.get("code"):
                    code = str(error["code"])[:64]
                    message = scrub(str(error.get("message") or message))
            except ValueError:
                pass
            return every("retry", code, message, response.status)
        try:
            answers = batch.decode_reply(response.body, len(stamped))
        except ProtocolError as exc:
            return every(
                "retry", f"reply.{exc.code}", f"全国側の応答を検証できません: {exc.message}", 200
            )
        out = []
        for envelope, answer in zip(stamped, answers, strict=True):
            headers = {SIGNATURE_HEADER.lower(): answer.signature} if answer.signature else {}
            item = HttpResponse(answer.status, headers, answer.content)
            try:
                exchange = self._interpret(envelope, item, started)
            except Exception as exc:
                exchange = Exchange(
                    envelope,
                    "retry",
                    started,
                    started,
                    http_status=answer.status,
                    error_code="reply.unreadable",
                    error_message=f"全国側の応答を処理できませんでした（{type(exc).__name__}）。",
                )
            exchange.finished_at = timezone.now()
            out.append(exchange)
        return out

    def send(self, envelope: Envelope) -> Exchange:
        """Send ``envelope`` (its ``sent_at`` set to now: it may have waited in a batch)."""
        started = timezone.now()
        envelope = self._stamped(envelope, started)
        try:
            self._peer(envelope.recipient)  # an answer we could not verify is not worth asking
        except TransportError as exc:
            return Exchange(
                envelope,
                "retry",
                started,
                timezone.now(),
                error_code=exc.code,
                error_message=exc.message,
            )
        raw, signature = self.key.seal(envelope)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        try:
            response = self.transport.request("POST", MESSAGES_PATH, raw, headers)
        except TransportError as exc:
            return Exchange(
                envelope,
                "retry",
                started,
                timezone.now(),
                error_code=exc.code,
                error_message=exc.message,
            )
        try:
            exchange = self._interpret(envelope, response, started)
        except Exception as exc:
            return Exchange(
                envelope,
                "retry",
                started,
                timezone.now(),
                http_status=response.status,
                error_code="reply.unreadable",
                error_message=f"全国側の応答を処理できませんでした（{type(exc).__name__}）。",
            )
        exchange.finished_at = timezone.now()
        return exchange

    def _interpret(
        self, envelope: Envelope, response: HttpResponse, started: dt.datetime
    ) -> Exchange:
        status = response.status

        def done(outcome: str, code: str, message: str, **extra: Any) -> Exchange:
            return Exchange(
                envelope,
                outcome,
                started,
                started,
                http_status=status,
                error_code=code,
                error_message=message,
                extra=extra,
            )

        if status != 200:
            code, message, body = f"http.{status}", _status_message(status), None
            try:
                body = json.loads(response.body)
                if isinstance(body, dict) and isinstance(body.get("body"), dict):
                    body = body["body"]  # an error envelope
                if isinstance(body, dict) and body.get("code"):
                    code = str(body["code"])[:64]
                    message = scrub(str(body.get("message") or message))
            except ValueError:
                body = None
            retry = status >= 500 or status in RETRY_STATUSES or code in RETRY_CODES
            return done("retry" if retry else "refused", code, message, error_body=body)
        try:
            peer = self._peer(envelope.recipient)
        except TransportError as exc:
            return done("retry", exc.code, exc.message)
        try:
            verify(response.body, response.headers.get(SIGNATURE_HEADER.lower()), peer)
            reply = Envelope.parse(response.body)
        except ProtocolError as exc:
            return done(
                "retry",
                f"reply.{exc.code}",
                f"全国側の応答を検証できません: {exc.message}",
            )
        bad = None
        if reply.sender != envelope.recipient or reply.recipient != envelope.sender:
            bad = "応答の送信元・宛先がこのメッセージと一致しません。"
        elif reply.idempotency_key != f"reply:{envelope.id}":
            bad = "応答がこのメッセージに対するものではありません（メッセージIDの不一致）。"
        elif reply.kind not in {f"{envelope.kind}.result", "error"}:
            bad = f"応答の種別 {reply.kind} が正しくありません。"
        if bad:
            return done("retry", "reply.mismatch", bad)
        if reply.kind == "error":
            try:
                error = ErrorBody.model_validate(reply.body)
            except ValidationError:
                return done("retry", "reply.body", "全国側のエラー応答の形式が正しくありません。")
            exchange = done("refused", error.code[:64], scrub(error.message))
            exchange.reply = reply
            return exchange
        try:
            result = KINDS[envelope.kind].result.model_validate(reply.body)
        except ValidationError:
            return done("retry", "reply.body", "全国側の応答の内容が正しくありません。")
        exchange = done("delivered", "", "")
        exchange.reply = reply
        exchange.result = result.model_dump(mode="json")
        return exchange
