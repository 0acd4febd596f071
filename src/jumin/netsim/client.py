"""A small synchronous client for netsim (pure Python: ``http.client``, no Django).

Used by the tests, the load script and any tool that talks to netsim; the CS (jukinet) has
its own delivery worker. One ``Client`` keeps one keep-alive connection and is not shared
between threads.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from jumin.netproto.envelope import (
    SIGNATURE_HEADER,
    Envelope,
    NodeKey,
    canonical,
    public_key,
    verify,
)


@dataclass(frozen=True)
class Response:
    status: int
    content: bytes
    signature: str | None

    def json(self) -> Any:
        return json.loads(self.content)

    def envelope(self) -> Envelope:
        return Envelope.parse(self.content)

    def verified(self, public_key_b64: str) -> Envelope:
        """The reply envelope after checking its signature against ``public_key_b64``."""
        verify(self.content, self.signature, public_key(public_key_b64))
        return self.envelope()


class Client:
    def __init__(self, base_url: str, key: NodeKey | None = None, *, timeout: float = 30) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"netsim URL must be http://host:port, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.key = key
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, content: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            self._connection.request(method, path, body=content or None, headers=all_headers)
            reply = self._connection.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if reply.getheader("Connection", "").lower() == "close":
            self.close()
        return Response(reply.status, data, reply.getheader(SIGNATURE_HEADER))

    def post_raw(self, raw: bytes, signature: str | None) -> Response:
        headers = {SIGNATURE_HEADER: signature} if signature else {}
        return self.request("POST", "/v1/messages", raw, headers)

    def send(self, envelope: Envelope) -> Response:
        if self.key is None:
            raise ValueError("a client without a key cannot sign")
        raw, signature = self.key.seal(envelope)
        return self.post_raw(raw, signature)

    def message(
        self, kind: str, body: dict[str, Any], *, recipient: str = "jlis", key: str | None = None
    ) -> tuple[Envelope, Response]:
        """Build, sign and send one message; ``key`` is the idempotency key (default: new)."""
        if self.key is None:
            raise ValueError("a client without a key cannot sign")
        envelope = Envelope(
            kind=kind,
            sender=self.key.code,
            recipient=recipient,
            body=body,
            idempotency_key=key or f"test:{uuid.uuid4()}",
        )
        return envelope, self.send(envelope)

    def node(self, code: str) -> Response:
        return self.request("GET", f"/v1/nodes/{urllib.parse.quote(code)}")

    def health(self) -> Response:
        return self.request("GET", "/v1/health")

    def register(self, name: str) -> Response:
        """Self-registration (open registration mode): signed with the key registered."""
        if self.key is None:
            raise ValueError("a client without a key cannot register")
        content = canonical(
            {"code": self.key.code, "name": name, "public_key": self.key.public_b64}
        )
        return self.request(
            "POST", "/v1/nodes", content, {SIGNATURE_HEADER: self.key.sign(content)}
        )

    def faults(self, spec: dict[str, int] | None = None) -> Response:
        if spec is None:
            return self.request("DELETE", "/v1/_faults")
        return self.request("POST", "/v1/_faults", canonical(spec))
