"""netsim's writes: receiving a message (check, apply, log, reply) and managing nodes.

``receive(raw, signature)`` is the whole request path of ``POST /v1/messages``:

1. ``Envelope.parse`` (400 for malformed, non-canonical, bad fields),
2. the sender is a registered, active city (401 otherwise) and the signature is its (401),
3. ``sent_at`` within ``MAX_SKEW`` (400), the recipient a node netsim serves and the right
   one for the kind (400), the kind in ``KINDS`` (400), the body valid for the kind (400,
   the field named in Japanese),
4. in one transaction: a replayed id is refused (409) unless the bytes are identical (the
   logged reply is sent again); a known idempotency key gets the first result again (no
   second effect); otherwise the kind's handler applies it; a business refusal (kind
   ``error``) leaves nothing behind but its log row,
5. the reply envelope is signed with the key of the node addressed (``jlis`` /
   ``pref-NN``) and logged with the message.

Every refusal is logged too (outside the transaction, so a rolled-back attempt still
leaves its trace).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from pydantic import ValidationError

from jumin.core.errors import IdentifierError
from jumin.core.identifiers import (
    is_valid_my_number,
    validate_juminhyo_code,
    validate_local_government_code,
)
from jumin.core.names import kana_exact_key
from jumin.netproto import batch
from jumin.netproto.envelope import (
    MAX_BYTES,
    Envelope,
    ProtocolError,
    canonical,
    public_key,
    verify,
)
from jumin.netproto.messages import (
    JLIS,
    KINDS,
    Accepted,
    CodesRequest,
    CodesResult,
    ErrorBody,
    Identity,
    IdentityQuery,
    IdentityQueryResult,
    IdentityUpdate,
    IdentityUpdateResult,
    Kind,
    MailboxFetch,
    MailboxItem,
    MailboxResult,
    MailingInfo,
    MoveInNotice,
    MoveOutFetch,
    MoveOutFetchResult,
    MoveOutInfo,
    MyNumberChange,
    MyNumberGenerate,
    MyNumberResult,
    prefecture_node,
)
from jumin.netsim import conf, faults, keyfile, numbers, store, validation
from jumin.netsim.models import (
    IdentityRecord,
    IssuedCode,
    MailboxCounter,
    MailboxEntry,
    MailingRecord,
    MessageLog,
    MoveOutCertificate,
    MoveOutPerson,
    MyNumberAssignment,
    Node,
)

logger = logging.getLogger(__name__)

MASK = "************"
RAW_EXCERPT = 2000
ATTEMPTS = 3  # a unique-constraint race (PostgreSQL) is retried: the loser then sees the winner

PREFECTURE_NAMES = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
]


# --------------------------------------------------------------------------- configuration


def own_codes() -> list[str]:
    """The node codes netsim answers for: ``jlis`` and ``pref-NN`` per prefecture served."""
    return list(_served(conf.prefectures()))


@functools.lru_cache(maxsize=8)
def _served(prefectures: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(keyfile.own_codes(prefectures))


def served() -> frozenset[str]:
    return _served_set(conf.prefectures())


@functools.lru_cache(maxsize=8)
def _served_set(prefectures: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_served(prefectures))


def keys() -> keyfile.Keys:
    """netsim's signing keys and 個人番号 secret (demo mode creates them on first use)."""
    return keyfile.load(conf.key_file(), own_codes(), create_missing=not conf.production())


def own_node_name(code: str) -> str:
    if code == JLIS:
        return "地方公共団体情報システム機構（模擬）"
    number = int(code.removeprefix("pref-"))
    return f"{PREFECTURE_NAMES[number - 1]}サーバ（模擬）"


def ensure_own_nodes() -> list[Node]:
    """Register (or refresh the public key of) every node netsim serves."""
    node_keys = keys().nodes
    now = timezone.now()
    nodes = []
    with transaction.atomic():
        for code in own_codes():
            kind = Node.Kind.JLIS if code == JLIS else Node.Kind.PREFECTURE
            node, _ = Node.objects.update_or_create(
                code=code,
                defaults={
                    "name": own_node_name(code),
                    "public_key": node_keys[code].public_b64,
                    "kind": kind,
                    "active": True,
                    "updated_at": now,
                },
            )
            nodes.append(node)
    return nodes


# --------------------------------------------------------------------------- nodes


class NodeError(Exception):
    """A node that cannot be registered; ``message`` is Japanese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def register_city(code: str, name: str, public_key_b64: str, *, replace_key: bool = False) -> Node:
    """Register a city's CS (its 全国地方公共団体コード) with its Ed25519 public key.

    Registering the same key again is harmless; a different key for a registered code is
    refused unless ``replace_key`` (an operator's explicit key change).
    """
    try:
        code = validate_local_government_code(code)
    except IdentifierError as exc:
        raise NodeError("node.code", exc.message) from None
    name = name.strip()
    if not name or len(name) > 100:
        raise NodeError("node.name", "名称を100文字以内で指定してください。")
    try:
        public_key(public_key_b64)
    except ProtocolError as exc:
        raise NodeError(exc.code, exc.message) from None
    now = timezone.now()
    with transaction.atomic():
        node = Node.objects.select_for_update().filter(code=code).first()
        if node is None:
            return Node.objects.create(
                code=code, name=name, public_key=public_key_b64, kind=Node.Kind.CITY
            )
        if node.kind != Node.Kind.CITY:
            raise NodeError("node.reserved", f"{code} は netsim 自身のノードです。")
        if node.public_key != public_key_b64 and not replace_key:
            raise NodeError(
                "node.key_conflict",
                f"{code}（{node.name}）には別の公開鍵が登録されています。"
                "鍵を替える場合は --replace-key を指定してください。",
            )
        node.name = name
        node.public_key = public_key_b64
        node.active = True
        node.updated_at = now
        node.save()
        return node


def set_active(code: str, active: bool) -> Node:
    node = Node.objects.filter(code=code, kind=Node.Kind.CITY).first()
    if node is None:
        raise NodeError("node.unknown", f"市区町村のノード {code} は登録されていません。")
    node.active = active
    node.updated_at = timezone.now()
    node.save(update_fields=["active", "updated_at"])
    return node


def self_register(raw: bytes, signature: str | None) -> Node:
    """``POST /v1/nodes`` (demo, ``JUMIN_NETSIM_OPEN_REGISTRATION=1``): a city registers
    itself; the request is signed with the key being registered (proof of possession)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NodeError("registration.malformed", "登録要求が JSON ではありません。") from None
    if not isinstance(data, dict) or set(data) != {"code", "name", "public_key"}:
        raise NodeError(
            "registration.fields", "登録要求の項目は code, name, public_key の3つです。"
        )
    if not all(isinstance(value, str) for value in data.values()):
        raise NodeError("registration.fields", "登録要求の項目はすべて文字列です。")
    try:
        verify(raw, signature, public_key(data["public_key"]))
    except ProtocolError as exc:
        raise NodeError(exc.code, f"{exc.message}（登録する鍵で署名してください）") from None
    return register_city(data["code"], data["name"], data["public_key"])


@functools.lru_cache(maxsize=4096)
def _public_key(b64: str) -> Ed25519PublicKey:
    return public_key(b64)


# --------------------------------------------------------------------------- receiving


@dataclass(frozen=True)
class Answer:
    """What the view sends: HTTP status, body bytes and the signature header (if any)."""

    status: int
    content: bytes
    signature: str | None = None


class Rejected(Exception):
    """A message refused before it is applied: an HTTP error with ``{code, message}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Refusal(Exception):
    """A well-formed message the national side refuses (reply kind ``error``, no effect)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Context:
    envelope: Envelope
    raw: bytes
    signature: str
    digest: str
    now: dt.datetime


@dataclass(frozen=True)
class Result:
    body: dict[str, Any]
    outcome: str = MessageLog.Outcome.APPLIED


def mask(value: Any) -> Any:
    """A copy with every 個人番号 (``my_number``) replaced by asterisks, for the log."""
    if isinstance(value, dict):
        return {
            key: (MASK if key == "my_number" and item else mask(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _error_content(code: str, message: str) -> bytes:
    return canonical({"code": code, "message": message})


_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _excerpt(raw: bytes) -> str:
    """The start of a message that could not be read, for the log: any valid 個人番号 in it
    masked (an unreadable message may still carry one in clear)."""
    text = raw[:RAW_EXCERPT].decode("utf-8", "replace").replace("\x00", "\ufffd")
    return _TWELVE_DIGITS.sub(lambda m: MASK if is_valid_my_number(m.group()) else m.group(), text)


def _reject(
    rejected: Rejected,
    raw: bytes,
    envelope: Envelope | None,
    *,
    sign_as: str | None,
) -> Answer:
    """Log a refused message (its own short transaction) and build the HTTP error."""
    content = _error_content(rejected.code, rejected.message)
    body = None
    if envelope is not None and not _has_nul(envelope.body):
        body = mask(envelope.body)
    store.log(
        direction=MessageLog.Direction.IN,
        kind=(envelope.kind if envelope else "")[:64],
        sender=(envelope.sender if envelope else "")[:32],
        recipient=(envelope.recipient if envelope else "")[:32],
        message_id=envelope.id if envelope else "",
        idempotency_key=envelope.idempotency_key if envelope else "",
        sent_at=(envelope.sent_at if envelope else "")[:40],
        outcome=MessageLog.Outcome.REJECTED,
        http_status=rejected.status,
        error_code=rejected.code,
        error_message=rejected.message,
        body=body,
        raw_excerpt="" if body is not None else _excerpt(raw),
        digest=hashlib.sha256(raw).hexdigest(),
        now=timezone.now(),
    )
    signature = None
    if sign_as is not None:
        signature = keys().node(sign_as).sign(content)
    return Answer(rejected.status, content, signature)


def receive(raw: bytes, signature: str | None, *, now: dt.datetime | None = None) -> Answer:
    """Handle one ``POST /v1/messages``: see the module docstring."""
    moment = now or timezone.now()
    envelope: Envelope | None = None
    sign_as: str | None = None
    try:
        try:
            envelope = Envelope.parse(raw)
        except ProtocolError as exc:
            raise Rejected(400, exc.code, exc.message) from None
        node = store.node(envelope.sender)
        if node is None or node.kind != Node.Kind.CITY:
            raise Rejected(
                401,
                "node.unknown",
                f"送信元ノード {envelope.sender!r} は登録されていません。"
                "`jumin netsim node add` で公開鍵を登録してください。",
            )
        if not node.active:
            raise Rejected(
                401, "node.inactive", f"送信元ノード {envelope.sender}（{node.name}）は無効です。"
            )
        try:
            verify(raw, signature, _public_key(node.public_key))
        except ProtocolError as exc:
            raise Rejected(401, exc.code, exc.message) from None
        own = served()
        sign_as = envelope.recipient if envelope.recipient in own else JLIS
        try:
            envelope.check_fresh(moment)
        except ProtocolError as exc:
            raise Rejected(400, exc.code, exc.message) from None
        if b"\\u0000" in raw and _has_nul(envelope.body):
            raise Rejected(
                400, "envelope.control_char", "本文に NUL 文字（\\u0000）が含まれています。"
            )
        kind = KINDS.get(envelope.kind)
        if kind is None:
            raise Rejected(
                400,
                "kind.unknown",
                f"電文種別 {envelope.kind!r} は定義されていません"
                "（docs/guide/jukinet-messages.md の一覧を参照）。",
            )
        _check_recipient(envelope, kind, own)
        try:
            body = kind.body.model_validate(envelope.body)
        except ValidationError as exc:
            raise Rejected(400, "body.invalid", validation.describe(exc, kind.label)) from None
        CHECKS.get(kind.name, _no_check)(envelope, body)
        assert signature is not None  # verify() passed
        context = Context(
            envelope=envelope,
            raw=raw,
            signature=signature,
            digest=hashlib.sha256(raw).hexdigest(),
            now=moment,
        )
        return _apply(context, kind, body)
    except Rejected as rejected:
        return _reject(rejected, raw, envelope, sign_as=sign_as)


def _check_recipient(envelope: Envelope, kind: Kind, own: frozenset[str]) -> None:
    if envelope.recipient not in own:
        raise Rejected(
            400,
            "recipient.unknown",
            f"宛先ノード {envelope.recipient!r} は netsim が担当するノードではありません"
            "（jlis または pref-NN）。",
        )
    expected = JLIS if kind.recipient == "jlis" else prefecture_node(envelope.sender)
    if envelope.recipient != expected:
        raise Rejected(
            400,
            "recipient.role",
            f"{kind.label}（{kind.name}）の宛先は {expected} です（指定は {envelope.recipient}）。",
        )


# reentrant: a batch holds it for all its items, each item's ``_apply`` takes it again
_sqlite_writer = threading.RLock()


def receive_batch(raw: bytes, *, now: dt.datetime | None = None) -> list[batch.Answer]:
    """Handle one ``POST /v1/messages:batch`` (``jumin.netproto.batch``): each item exactly as
    ``receive`` handles a message sent alone — verified, applied, logged and answered on its
    own, in order. On SQLite the batch is written in one transaction under the writer lock (one
    commit instead of one per message: the cost of a message there is mostly its commit); a
    failure of the server rolls the whole batch back (HTTP 500, the sender resends it, each
    item under its idempotency key). On PostgreSQL each item commits on its own, as alone.
    ``ProtocolError``: not a batch (HTTP 400, nothing applied)."""
    items = batch.decode_request(raw)
    moment = now or timezone.now()
    if connection.vendor != "sqlite":
        return [_batch_item(i, moment) for i in items]
    with _sqlite_writer, transaction.atomic():
        return [_batch_item(i, moment) for i in items]


def _batch_item(item: batch.Item, moment: dt.datetime) -> batch.Answer:
    """One item, isolated: an unexpected failure (a bug, a lost connection) rolls back that
    item alone (a savepoint inside the SQLite batch) and answers it 500 — the sender retries
    it under its idempotency key — while the other items are applied. Otherwise one poisoned
    item would fail its whole batch on every resend and stop everybody's delivery."""
    try:
        with transaction.atomic():
            if conf.faults_enabled():
                faults.take_crash()
            answer = receive(item.raw, item.signature, now=moment)
    except Exception as exc:  # isolate the item: the rest of the batch goes on
        logger.exception("netsim: a batch item failed inside the server")
        content = json.dumps(
            {
                "code": "server.error",
                "message": f"全国側（netsim）の内部エラーです（{type(exc).__name__}）。"
                "同じ冪等キーで再送してください。",
            },
            ensure_ascii=False,
        ).encode("utf-8")
        return batch.Answer(500, content, "")
    return batch.Answer(answer.status, answer.content, answer.signature)


def _apply(context: Context, kind: Kind, body: Any) -> Answer:
    # SQLite has one writer: threads of this process queue on a lock instead of polling the
    # database's busy handler (which sleeps in growing steps and halves the throughput).
    serial = _sqlite_writer if connection.vendor == "sqlite" else contextlib.nullcontext()
    for attempt in range(ATTEMPTS):
        try:
            with serial, transaction.atomic():
                return _apply_once(context, kind, body)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _apply_once(context: Context, kind: Kind, body: Any) -> Answer:
    envelope = context.envelope
    same_id, same_key = store.prior(envelope.sender, envelope.id, envelope.idempotency_key)
    if same_id is not None:
        if same_id.digest != context.digest:
            raise Rejected(
                409,
                "envelope.replayed",
                f"電文ID {envelope.id} は既に受信済みで、内容が異なります"
                "（再送は同じ内容で、新しい電文は新しいIDで送ってください）。",
            )
        _log(
            context,
            MessageLog.Outcome.DUPLICATE,
            reply_raw=same_id.reply_bytes.encode("utf-8"),
            reply_signature=same_id.reply_signature,
            first_id=same_id.id,
        )
        return Answer(200, same_id.reply_bytes.encode("utf-8"), same_id.reply_signature)
    if same_key is not None:
        if same_key.kind != envelope.kind:
            raise Rejected(
                409,
                "idempotency.conflict",
                f"冪等キー {envelope.idempotency_key!r} は別の電文種別（{same_key.kind}）で"
                "使用済みです。",
            )
        first_body = json.loads(same_key.reply_bytes)["body"]
        return _answer(context, first_body, MessageLog.Outcome.REPEATED, first_id=same_key.id)
    handler = HANDLERS[kind.name]
    try:
        if kind.name in MAY_REFUSE:
            with transaction.atomic():  # a refusal leaves nothing of the attempt behind
                result = handler(context, body)
        else:
            result = handler(context, body)
    except Refusal as refusal:
        error = ErrorBody(code=refusal.code, message=refusal.message).model_dump()
        return _answer(
            context,
            error,
            MessageLog.Outcome.REFUSED,
            reply_kind="error",
            error=(refusal.code, refusal.message),
        )
    return _answer(context, result.body, result.outcome)


def _answer(
    context: Context,
    body: dict[str, Any],
    outcome: str,
    *,
    reply_kind: str | None = None,
    first_id: int | None = None,
    error: tuple[str, str] | None = None,
) -> Answer:
    envelope = context.envelope
    reply = envelope.reply(envelope.recipient, body, kind=reply_kind)
    raw, signature = keys().node(envelope.recipient).seal(reply)
    _log(
        context,
        outcome,
        reply=reply,
        reply_raw=raw,
        reply_signature=signature,
        first_id=first_id,
        error=error,
    )
    return Answer(200, raw, signature)


def _log(
    context: Context,
    outcome: str,
    *,
    reply_raw: bytes,
    reply_signature: str,
    reply: Envelope | None = None,
    first_id: int | None = None,
    error: tuple[str, str] | None = None,
) -> None:
    envelope = context.envelope
    reply_data = reply.as_dict() if reply is not None else json.loads(reply_raw)
    store.log(
        direction=MessageLog.Direction.IN,
        kind=envelope.kind,
        sender=envelope.sender,
        recipient=envelope.recipient,
        message_id=envelope.id,
        idempotency_key=envelope.idempotency_key,
        sent_at=envelope.sent_at,
        outcome=outcome,
        error_code=error[0] if error else "",
        error_message=error[1] if error else "",
        body=mask(envelope.body),
        digest=context.digest,
        reply_id=str(reply_data["id"]),
        reply=mask(reply_data),
        reply_bytes=reply_raw.decode("utf-8"),
        reply_signature=reply_signature,
        first_id=first_id,
        now=context.now,
    )


# --------------------------------------------------------------------------- body checks


def _no_check(envelope: Envelope, body: Any) -> None:
    return None


def _invalid(message: str) -> Rejected:
    return Rejected(400, "body.invalid", message)


def _check_code(value: str, path: str) -> None:
    try:
        validate_juminhyo_code(value)
    except IdentifierError as exc:
        raise _invalid(f"{path}: {exc.message}") from None


def _check_identity_update(envelope: Envelope, body: IdentityUpdate) -> None:
    identity = body.identity
    if identity.municipality_code != envelope.sender:
        raise _invalid(
            "「市区町村コード」（identity.municipality_code）"
            f"{identity.municipality_code} が送信元 {envelope.sender} と一致しません。"
            "本人確認情報は住民票を持つ市区町村が送ります。"
        )
    _check_code(identity.juminhyo_code, "「住民票コード」（identity.juminhyo_code）")
    if identity.my_number and not is_valid_my_number(identity.my_number):
        raise _invalid(
            "「個人番号」（identity.my_number）のチェックデジットが一致しません。"
            "個人番号を確認してください。"
        )


def _check_identity_query(envelope: Envelope, body: IdentityQuery) -> None:
    given = [
        name
        for name, value in (
            ("juminhyo_code", body.juminhyo_code),
            ("my_number", body.my_number),
            ("four_items", body.four_items),
        )
        if value
    ]
    if len(given) != 1:
        raise _invalid(
            "照会条件は「住民票コード」（juminhyo_code）、「個人番号」（my_number）、"
            "「基本4情報」（four_items）のうち1つだけを指定してください"
            f"（指定: {', '.join(given) or 'なし'}）。"
        )
    items = body.four_items
    if items is not None and not (items.name.strip() or items.name_kana.strip()):
        raise _invalid(
            "基本4情報による照会には「氏名」（four_items.name）または"
            "「氏名の振り仮名」（four_items.name_kana）が必要です。"
        )


def _check_my_number_request(envelope: Envelope, body: MyNumberGenerate | MyNumberChange) -> None:
    _check_code(body.juminhyo_code, "「住民票コード」（juminhyo_code）")


def _check_move_out_info(envelope: Envelope, body: MoveOutInfo) -> None:
    if body.from_municipality != envelope.sender:
        raise _invalid(
            f"「転出元市区町村コード」（from_municipality）{body.from_municipality} が"
            f"送信元 {envelope.sender} と一致しません。"
        )
    codes = [person.juminhyo_code for person in body.persons]
    if len(set(codes)) != len(codes):
        raise _invalid("「対象者」（persons）に同じ住民票コードが2回以上あります。")


def _check_move_in_notice(envelope: Envelope, body: MoveInNotice) -> None:
    if body.from_municipality != envelope.sender:
        raise _invalid(
            f"「転入先（送信元）市区町村コード」（from_municipality）{body.from_municipality} が"
            f"送信元 {envelope.sender} と一致しません。"
        )
    if body.to_municipality == body.from_municipality:
        raise _invalid(
            "「転出元（宛先）市区町村コード」（to_municipality）が送信元と同じです。"
            "転入通知は前住所地の市区町村に送ります。"
        )


CHECKS: dict[str, Callable[[Envelope, Any], None]] = {
    "identity.update": _check_identity_update,
    "identity.query": _check_identity_query,
    "my_number.generate": _check_my_number_request,
    "my_number.change": _check_my_number_request,
    "move_out.info": _check_move_out_info,
    "move_in.notice": _check_move_in_notice,
}


# --------------------------------------------------------------------------- handlers

IDENTITY_FIELDS = (
    "my_number",
    "family_name",
    "given_name",
    "name_alphabet",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "municipality_code",
    "status",
    "change_reason",
    "occurred_on",
    "sequence",
)


def _name_key(text: str) -> str:
    return "".join(text.split()).upper()


def _becomes_current(record: store.CurrentRecord | None, incoming: Identity) -> bool:
    """Whether an update from ``incoming.municipality_code`` replaces the current record.

    Within one city the sequence decides (checked before). Across cities (a person who
    moved): a late 消除 from the old city never hides the new city's resident record;
    otherwise the later ``occurred_on`` wins (ties: the later arrival).
    """
    if record is None or record.municipality_code == incoming.municipality_code:
        return True
    if incoming.status == "removed" and record.status == "resident":
        return False
    if incoming.status == "resident" and record.status == "removed":
        return True
    return incoming.occurred_on >= record.occurred_on


def _identity_update(context: Context, body: IdentityUpdate) -> Result:
    """Apply one person's update in order: an older 履歴番号 from the same city is stale."""
    identity = body.identity
    code = identity.juminhyo_code
    if not store.advance_sequence(identity.municipality_code, code, identity.sequence, context.now):
        return Result(STALE_BODY, MessageLog.Outcome.STALE)
    record = store.current_record(code)
    current = _becomes_current(record, identity)
    store.add_history(
        juminhyo_code=code,
        municipality_code=identity.municipality_code,
        sequence=identity.sequence,
        identity=identity.model_dump(mode="json"),
        became_current=current,
        message_id=context.envelope.id,
        now=context.now,
    )
    if current:
        values: dict[str, Any] = {name: getattr(identity, name) for name in IDENTITY_FIELDS}
        values["my_number"] = identity.my_number or ""
        values["name_key"] = _name_key(identity.family_name + identity.given_name)
        values["kana_key"] = kana_exact_key(identity.name_kana)
        values["updated_at"] = context.now
        store.upsert_record(code, values, context.now)
    return Result(APPLIED_BODY)


STALE_BODY = IdentityUpdateResult(status="stale").model_dump()
APPLIED_BODY = IdentityUpdateResult(status="applied").model_dump()


def _as_identity(record: IdentityRecord) -> Identity:
    return Identity(
        juminhyo_code=record.juminhyo_code,
        my_number=record.my_number or None,
        family_name=record.family_name,
        given_name=record.given_name,
        name_alphabet=record.name_alphabet,
        name_kana=record.name_kana,
        birth_date=record.birth_date,
        sex=record.sex,  # type: ignore[arg-type]  # stored from a validated Identity
        address=record.address,
        municipality_code=record.municipality_code,
        status=record.status,  # type: ignore[arg-type]
        change_reason=record.change_reason,
        occurred_on=record.occurred_on,
        sequence=record.sequence,
    )


def _identity_query(context: Context, body: IdentityQuery) -> Result:
    limit = conf.query_limit()
    records = IdentityRecord.objects.all()
    if body.juminhyo_code:
        records = records.filter(juminhyo_code=body.juminhyo_code)
    elif body.my_number:
        assigned = (
            MyNumberAssignment.objects.filter(my_number=body.my_number, active=True)
            .values_list("juminhyo_code", flat=True)
            .first()
        )
        if assigned:
            records = records.filter(juminhyo_code=assigned)
        else:
            records = records.filter(my_number=body.my_number)
    else:
        items = body.four_items
        assert items is not None
        records = records.filter(birth_date=items.birth_date.strip())
        if items.name.strip():
            key = _name_key(items.name)
            by_name = records.filter(name_key=key) | records.filter(
                name_alphabet__iexact=items.name.strip()
            )
            records = by_name
        if items.name_kana.strip():
            records = records.filter(kana_key=kana_exact_key(items.name_kana))
        if items.sex:
            records = records.filter(sex=items.sex)
        if items.address.strip():
            records = records.filter(address__startswith=items.address.strip())
    found = list(records.order_by("juminhyo_code")[: limit + 1])
    result = IdentityQueryResult(
        matches=[_as_identity(record) for record in found[:limit]],
        truncated=len(found) > limit,
    )
    return Result(result.model_dump(mode="json"))


def _codes_request(context: Context, body: CodesRequest) -> Result:
    wanted = body.count
    codes: list[str] = []
    while len(codes) < wanted:
        batch = {numbers.draw_juminhyo_code() for _ in range(wanted - len(codes))}
        batch -= set(codes)
        taken = set(IssuedCode.objects.filter(code__in=batch).values_list("code", flat=True))
        taken |= set(
            IdentityRecord.objects.filter(juminhyo_code__in=batch).values_list(
                "juminhyo_code", flat=True
            )
        )
        codes.extend(sorted(batch - taken))
    IssuedCode.objects.bulk_create(
        [
            IssuedCode(
                code=code,
                municipality_code=context.envelope.sender,
                message_id=context.envelope.id,
                issued_at=context.now,
            )
            for code in codes
        ]
    )
    return Result(CodesResult(codes=codes).model_dump())


def _number_taken(number: str, juminhyo_code: str) -> bool:
    if MyNumberAssignment.objects.filter(my_number=number).exists():
        return True
    return (
        IdentityRecord.objects.filter(my_number=number)
        .exclude(juminhyo_code=juminhyo_code)
        .exists()
    )


def _assign(context: Context, juminhyo_code: str, counter: int, reason: str) -> MyNumberAssignment:
    secret = keys().my_number_secret
    while True:
        number = numbers.derive_my_number(secret, juminhyo_code, counter)
        if not _number_taken(number, juminhyo_code):
            break
        counter += 1  # a collision: the next counter gives another number
    return MyNumberAssignment.objects.create(
        juminhyo_code=juminhyo_code,
        my_number=number,
        counter=counter,
        reason=reason,
        requested_by=context.envelope.sender,
        message_id=context.envelope.id,
        created_at=context.now,
    )


def _active_assignment(context: Context, juminhyo_code: str) -> MyNumberAssignment | None:
    """The active number of a code; a number the file already holds (a city that numbered
    its residents before netsim) is adopted as the active one."""
    active = (
        MyNumberAssignment.objects.select_for_update()
        .filter(juminhyo_code=juminhyo_code, active=True)
        .first()
    )
    if active is not None:
        return active
    known = (
        IdentityRecord.objects.filter(juminhyo_code=juminhyo_code)
        .exclude(my_number="")
        .values_list("my_number", flat=True)
        .first()
    )
    if known and not MyNumberAssignment.objects.filter(my_number=known).exists():
        return MyNumberAssignment.objects.create(
            juminhyo_code=juminhyo_code,
            my_number=known,
            counter=-1,
            reason=MyNumberAssignment.Reason.ADOPTED,
            requested_by=context.envelope.sender,
            message_id=context.envelope.id,
            created_at=context.now,
        )
    return None


def _next_counter(juminhyo_code: str) -> int:
    counters = MyNumberAssignment.objects.filter(juminhyo_code=juminhyo_code).values_list(
        "counter", flat=True
    )
    return int(max([-1, *counters])) + 1


def _my_number_generate(context: Context, body: MyNumberGenerate) -> Result:
    active = _active_assignment(context, body.juminhyo_code)
    if active is None:
        active = _assign(
            context,
            body.juminhyo_code,
            _next_counter(body.juminhyo_code),
            MyNumberAssignment.Reason.GENERATE,
        )
    result = MyNumberResult(juminhyo_code=body.juminhyo_code, my_number=active.my_number)
    return Result(result.model_dump())


def _my_number_change(context: Context, body: MyNumberChange) -> Result:
    active = _active_assignment(context, body.juminhyo_code)
    if active is None:
        raise Refusal(
            "my_number.none",
            f"住民票コード {body.juminhyo_code} には個人番号が生成されていません。"
            "変更ではなく生成要求（my_number.generate）を送ってください。",
        )
    active.active = False
    active.deactivated_at = context.now
    active.save(update_fields=["active", "deactivated_at"])
    new = _assign(context, body.juminhyo_code, _next_counter(body.juminhyo_code), body.reason)
    IdentityRecord.objects.filter(juminhyo_code=body.juminhyo_code).update(
        my_number=new.my_number, updated_at=context.now
    )
    result = MyNumberResult(juminhyo_code=body.juminhyo_code, my_number=new.my_number)
    return Result(result.model_dump())


def _mailing_info(context: Context, body: MailingInfo) -> Result:
    if body.my_number:
        active = (
            MyNumberAssignment.objects.filter(juminhyo_code=body.juminhyo_code, active=True)
            .values_list("my_number", flat=True)
            .first()
        )
        if active is not None and active != body.my_number:
            raise Refusal(
                "mailing.my_number_mismatch",
                f"送付先情報の個人番号が、住民票コード {body.juminhyo_code} に指定された"
                "個人番号と一致しません。住民票に記載した個人番号を確認してください。",
            )
    MailingRecord.objects.create(
        juminhyo_code=body.juminhyo_code,
        municipality_code=context.envelope.sender,
        name=body.name,
        name_kana=body.name_kana,
        postal_code=body.postal_code,
        address=body.address,
        household_head=body.household_head,
        katagaki=body.katagaki,
        birth_date=body.birth_date,
        sex=body.sex or "",
        my_number=body.my_number or "",
        message_id=context.envelope.id,
        received_at=context.now,
    )
    return Result(Accepted().model_dump())


def _relay(context: Context, recipient: str) -> MailboxEntry:
    """Append the received envelope, as signed by its origin, to ``recipient``'s mailbox."""
    envelope = context.envelope
    MailboxCounter.objects.bulk_create(
        [MailboxCounter(recipient=recipient, last_seq=0)], ignore_conflicts=True
    )
    counter = MailboxCounter.objects.select_for_update().get(recipient=recipient)
    counter.last_seq += 1
    counter.save(update_fields=["last_seq"])
    entry = MailboxEntry.objects.create(
        recipient=recipient,
        seq=counter.last_seq,
        kind=envelope.kind,
        origin=envelope.sender,
        envelope=context.raw.decode("utf-8"),
        signature=context.signature,
        message_id=envelope.id,
        created_at=context.now,
    )
    store.log(
        direction=MessageLog.Direction.OUT,
        kind=envelope.kind,
        sender=envelope.sender,
        recipient=recipient,
        message_id=envelope.id,
        idempotency_key=envelope.idempotency_key,
        sent_at=envelope.sent_at,
        outcome=MessageLog.Outcome.RELAYED,
        body=mask(envelope.body),
        digest=context.digest,
        now=context.now,
    )
    return entry


def _move_out_info(context: Context, body: MoveOutInfo) -> Result:
    info = body.model_dump(mode="json")
    certificate = (
        MoveOutCertificate.objects.select_for_update()
        .filter(from_municipality=body.from_municipality, certificate_id=body.certificate_id)
        .first()
    )
    if certificate is None:
        certificate = MoveOutCertificate.objects.create(
            from_municipality=body.from_municipality,
            certificate_id=body.certificate_id,
            to_municipality=body.to_municipality or "",
            planned_on=body.planned_on,
            info=info,
            message_id=context.envelope.id,
            received_at=context.now,
            updated_at=context.now,
        )
    else:  # a corrected resend replaces the information (the id stays the city's)
        if certificate.consumed_by:
            raise Refusal(
                "move_out.consumed",
                f"転出証明書情報（証明書番号 {body.certificate_id}）は {certificate.consumed_by} の"
                "転入で使用済みのため、訂正できません。",
            )
        certificate.to_municipality = body.to_municipality or ""
        certificate.planned_on = body.planned_on
        certificate.info = info
        certificate.message_id = context.envelope.id
        certificate.updated_at = context.now
        certificate.save()
        MoveOutPerson.objects.filter(certificate=certificate).delete()
    MoveOutPerson.objects.bulk_create(
        [
            MoveOutPerson(certificate=certificate, juminhyo_code=person.juminhyo_code)
            for person in body.persons
        ]
    )
    destination = body.to_municipality
    if destination and Node.objects.filter(code=destination, kind=Node.Kind.CITY).exists():
        _relay(context, destination)
    return Result(Accepted().model_dump())


def _move_out_fetch(context: Context, body: MoveOutFetch) -> Result:
    person = (
        MoveOutPerson.objects.filter(juminhyo_code=body.juminhyo_code)
        .select_related("certificate")
        .order_by("-certificate__updated_at", "-id")
        .first()
    )
    if person is None:
        return Result(MoveOutFetchResult(found=False).model_dump(mode="json"))
    info = MoveOutInfo.model_validate(person.certificate.info)
    return Result(MoveOutFetchResult(found=True, info=info).model_dump(mode="json"))


def _move_in_notice(context: Context, body: MoveInNotice) -> Result:
    if body.certificate_id:
        certificate = (
            MoveOutCertificate.objects.select_for_update()
            .filter(from_municipality=body.to_municipality, certificate_id=body.certificate_id)
            .first()
        )
        if certificate is None:
            raise Refusal(
                "move_in.certificate_unknown",
                f"転出証明書情報（証明書番号 {body.certificate_id}、転出元 "
                f"{body.to_municipality}）が見つかりません。証明書番号と転出元を確認するか、"
                "紙の転出証明書による転入であれば証明書番号を空にして送ってください。",
            )
        listed = MoveOutPerson.objects.filter(
            certificate=certificate, juminhyo_code=body.juminhyo_code
        )
        if not listed.exists():
            raise Refusal(
                "move_in.person_not_on_certificate",
                f"住民票コード {body.juminhyo_code} の人は転出証明書情報"
                f"（証明書番号 {body.certificate_id}）に記載されていません。",
            )
        if certificate.consumed_by and certificate.consumed_by != body.from_municipality:
            raise Refusal(
                "move_in.certificate_consumed",
                f"転出証明書情報（証明書番号 {body.certificate_id}）は既に "
                f"{certificate.consumed_by} への転入で使用されています。",
            )
        if not certificate.consumed_by:
            certificate.consumed_by = body.from_municipality
            certificate.consumed_at = context.now
            certificate.save(update_fields=["consumed_by", "consumed_at"])
    _relay(context, body.to_municipality)
    return Result(Accepted().model_dump())


def _mailbox_fetch(context: Context, body: MailboxFetch) -> Result:
    entries = MailboxEntry.objects.filter(recipient=context.envelope.sender, seq__gt=body.after)
    items: list[MailboxItem] = []
    budget = MAX_BYTES - 4096  # the reply must stay one envelope
    for entry in entries.order_by("seq")[: body.limit]:
        size = len(entry.envelope.encode("utf-8")) + len(entry.signature) + 64
        if items and size > budget:
            break
        budget -= size
        items.append(
            MailboxItem(
                seq=entry.seq, envelope=json.loads(entry.envelope), signature=entry.signature
            )
        )
    last = items[-1].seq if items else body.after
    return Result(MailboxResult(items=items, last=last).model_dump(mode="json"))


MAY_REFUSE = frozenset({"my_number.change", "move_out.info", "move_in.notice"})
HANDLERS: dict[str, Callable[[Context, Any], Result]] = {
    "identity.update": _identity_update,
    "identity.query": _identity_query,
    "codes.request": _codes_request,
    "my_number.generate": _my_number_generate,
    "my_number.change": _my_number_change,
    "mailing.info": _mailing_info,
    "move_out.info": _move_out_info,
    "move_out.fetch": _move_out_fetch,
    "move_in.notice": _move_in_notice,
    "mailbox.fetch": _mailbox_fetch,
}
