"""A small stand-in for netsim that speaks the protocol, for the CS tests.

It verifies the sender's signature, validates the body against the catalogue, applies each
idempotency key once (a resend gets the first result), keeps the identity file by sequence,
and answers with envelopes signed by the addressed node (``jlis`` / ``pref-NN``). Faults are
queued per request: ``"503"``, ``"500"``, ``"400"`` (refuse before applying),
``("sleep", s)`` (apply, then wait — a slow answer), ``("hold", event)`` (apply, then wait
for the event), ``"badsig"`` (sign the reply with a wrong key). ``down()`` / ``up()`` stop
and restart the listener on the same port (connection refused meanwhile).

Mailboxes: ``relay(origin_key, to, kind, body)`` appends an envelope sealed by another city
(optionally ``signer=`` a different key: a forged signature) to city ``to``'s mailbox;
``mailbox.fetch`` answers with the items after ``after``; ``GET /v1/nodes/<code>`` also
publishes the keys of the cities registered or added with ``add_city``.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from jumin.core.identifiers import my_number_check_digit
from jumin.netproto.envelope import (
    SIGNATURE_HEADER,
    Envelope,
    NodeKey,
    ProtocolError,
    canonical,
    public_key,
    verify,
)
from jumin.netproto.messages import KINDS, ErrorBody

Start = Callable[..., Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeNetsim:
    def __init__(self, prefectures: Iterable[str] = ("13", "14")) -> None:
        self.nodes: dict[str, NodeKey] = {"jlis": NodeKey.generate("jlis")}
        for number in prefectures:
            code = f"pref-{number}"
            self.nodes[code] = NodeKey.generate(code)
        self.cities: dict[str, Ed25519PublicKey] = {}
        self.city_keys: dict[str, str] = {}  # code → public key (b64), published
        self.mailboxes: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.received: list[Envelope] = []  # accepted envelopes, in arrival order
        self.effects: Counter[str] = Counter()  # idempotency key → times applied
        self.results: dict[str, tuple[str | None, dict[str, Any]]] = {}
        self.identities: dict[str, dict[str, Any]] = {}
        self.numbers: dict[str, str] = {}  # juminhyo_code → the 個人番号 designated
        self.mailings: list[dict[str, Any]] = []  # 送付先情報 received
        self.refusals: dict[str, tuple[str, str]] = {}  # juminhyo_code → business refusal
        self.faults: deque[Any] = deque()
        self.requests = 0
        self.port = free_port()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> FakeNetsim:
        server = make_server(
            "127.0.0.1", self.port, self.app, server_class=_Server, handler_class=_Quiet
        )
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def register(self, code: str, b64: str) -> None:
        self.cities[code] = public_key(b64)
        self.city_keys[code] = b64

    def add_city(self, code: str) -> NodeKey:
        """Another city known to the national side; returns its key (to seal relays)."""
        key = NodeKey.generate(code)
        self.register(code, key.public_b64)
        return key

    def relay(
        self,
        origin: NodeKey,
        to: str,
        kind: str,
        body: dict[str, Any],
        *,
        signer: NodeKey | None = None,
    ) -> int:
        """Put an envelope from ``origin`` into ``to``'s mailbox; returns its seq."""
        envelope = Envelope(
            kind=kind,
            sender=origin.code,
            recipient="jlis",
            body=body,
            idempotency_key=f"relay:{len(self.received)}:{time.monotonic_ns()}",
        )
        content, header = (signer or origin).seal(envelope)
        with self.lock:
            box = self.mailboxes.setdefault(to, [])
            seq = len(box) + 1
            box.append({"seq": seq, "envelope": json.loads(content), "signature": header})
        return seq

    def kinds(self) -> list[str]:
        with self.lock:
            return [e.kind for e in self.received]

    # ------------------------------------------------------------------ WSGI

    def app(self, environ: dict[str, Any], start_response: Start) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if method == "GET" and path.startswith("/v1/nodes/"):
            code = path.rsplit("/", 1)[-1]
            key = self.nodes.get(code)
            b64 = key.public_b64 if key is not None else self.city_keys.get(code)
            if b64 is None:
                return self._json(start_response, 404, {"code": "node.unknown", "message": "なし"})
            return self._json(start_response, 200, {"code": code, "public_key": b64})
        if method == "POST" and path == "/v1/nodes":
            data = json.loads(raw)
            verify(raw, environ.get("HTTP_X_JUKINET_SIGNATURE"), public_key(data["public_key"]))
            self.register(data["code"], data["public_key"])
            return self._json(start_response, 201, data | {"kind": "city", "active": True})
        if method == "POST" and path == "/v1/messages":
            return self._message(raw, environ.get("HTTP_X_JUKINET_SIGNATURE"), start_response)
        return self._json(start_response, 404, {"code": "http.not_found", "message": "なし"})

    def _json(self, start: Start, status: int, data: dict[str, Any]) -> list[bytes]:
        body = canonical(data)
        start(
            f"{status} X",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _message(self, raw: bytes, signature: str | None, start: Start) -> list[bytes]:
        with self.lock:
            self.requests += 1
            fault = self.faults.popleft() if self.faults else None
        if fault in {"503", "500"}:
            return self._json(start, int(fault), {"code": "fault", "message": "障害の模擬"})
        try:
            envelope = Envelope.parse(raw)
            key = self.cities.get(envelope.sender)
            if key is None:
                return self._json(
                    start, 401, {"code": "node.unknown", "message": "送信元ノードが未登録です。"}
                )
            verify(raw, signature, key)
            envelope.check_fresh()
        except ProtocolError as exc:
            status = 401 if exc.code.startswith("signature") else 400
            return self._json(start, status, {"code": exc.code, "message": exc.message})
        kind = KINDS.get(envelope.kind)
        if kind is None:
            return self._json(start, 400, {"code": "kind.unknown", "message": "未定義の電文"})
        try:
            body = kind.body.model_validate(envelope.body)
        except ValidationError:
            return self._json(start, 400, {"code": "body.invalid", "message": "本文が不正です。"})
        if fault == "400":
            return self._json(
                start, 400, {"code": "body.invalid", "message": "項目が正しくありません（模擬）。"}
            )
        reply_kind, result = self._apply(envelope, body)
        if isinstance(fault, tuple) and fault[0] == "sleep":
            time.sleep(fault[1])
        if isinstance(fault, tuple) and fault[0] == "hold":
            fault[1].wait(30)
        reply = envelope.reply(envelope.recipient, result, kind=reply_kind)
        signer = self.nodes[envelope.recipient]
        if fault == "badsig":
            signer = NodeKey.generate(envelope.recipient)
        content, header = signer.seal(reply)
        start(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(content))),
                (SIGNATURE_HEADER, header),
            ],
        )
        return [content]

    def _apply(self, envelope: Envelope, body: Any) -> tuple[str | None, dict[str, Any]]:
        with self.lock:
            self.received.append(envelope)
            key = f"{envelope.sender}:{envelope.idempotency_key}"
            if key in self.results:
                return self.results[key]
            code = self._code(body)
            if code in self.refusals:
                refusal = self.refusals[code]
                error = ErrorBody(code=refusal[0], message=refusal[1]).model_dump()
                return "error", error
            result = self._result(envelope, body)
            self.effects[key] += 1
            self.results[key] = (None, result)
            return None, result

    @staticmethod
    def _code(body: Any) -> str:
        if hasattr(body, "identity"):
            return str(body.identity.juminhyo_code)
        if hasattr(body, "persons"):
            return str(body.persons[0].juminhyo_code)
        return str(getattr(body, "juminhyo_code", "") or "")

    def _result(self, envelope: Envelope, body: Any) -> dict[str, Any]:
        if envelope.kind == "identity.update":
            identity = body.identity.model_dump(mode="json")
            current = self.identities.get(identity["juminhyo_code"])
            if current is not None and identity["sequence"] < current["sequence"]:
                return {"status": "stale"}
            self.identities[identity["juminhyo_code"]] = identity
            return {"status": "applied"}
        if envelope.kind == "mailbox.fetch":
            box = self.mailboxes.get(envelope.sender, [])
            items = [i for i in box if i["seq"] > body.after][: body.limit]
            return {"items": items, "last": items[-1]["seq"] if items else body.after}
        if envelope.kind in {"my_number.generate", "my_number.change"}:
            code = str(body.juminhyo_code)
            number = self.numbers.get(code)
            if number is None or envelope.kind == "my_number.change":
                seed = f"{code}:{len(self.numbers)}".encode()
                digits = str(int(hashlib.sha256(seed).hexdigest(), 16) % 10**11).zfill(11)
                number = digits + my_number_check_digit(digits)
                self.numbers[code] = number
            return {"juminhyo_code": code, "my_number": number}
        if envelope.kind == "mailing.info":
            self.mailings.append(body.model_dump(mode="json"))
            return {"accepted": True}
        if envelope.kind == "identity.query":
            found = self.identities.get(body.juminhyo_code or "")
            return {"matches": [found] if found else [], "truncated": False}
        return {"accepted": True}
