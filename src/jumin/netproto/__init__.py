"""The message protocol between a city's CS and the national side (netsim): pure Python.

Every message is a JSON *envelope* signed with the sender node's Ed25519 key::

    {"v": 1, "id": "<uuid4>", "kind": "identity.update", "sender": "141500",
     "recipient": "jlis", "sent_at": "2026-11-26T08:00:00Z",
     "idempotency_key": "change:12:0000000018:identity_info", "body": {...}}

- The bytes sent are the *canonical* JSON of the envelope (keys sorted, no spaces, UTF-8);
  the signature covers exactly those bytes and travels in the HTTP header
  ``X-Jukinet-Signature: ed25519=<base64>`` (``SIGNATURE_HEADER``).
- ``id`` is unique per sender (a replay is refused); ``idempotency_key`` is stable across
  resends of one logical message (the receiver answers a resend with its first result).
- ``sent_at`` must be within ``MAX_SKEW`` of the receiver's clock.
- Replies are envelopes of kind ``<kind>.result`` (or ``error``) signed by the receiver.

The catalogue of kinds and their bodies is ``jumin.netproto.messages``; the documentation
is docs/guide/jukinet-messages.md.
"""
