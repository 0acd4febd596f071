"""受信: pull this city's mailbox from J-LIS and act on what other cities sent through it.

``receive`` sends ``mailbox.fetch{after}`` (``after`` = the last seq kept in
``MailboxCursor``), then for each relayed item, in seq order, in its own transaction:

1. checks the origin city's Ed25519 signature over the envelope as the origin sent it — the
   origin's public key is fetched once from netsim (``GET /v1/nodes/<code>``) and pinned in
   ``CityKey`` (trust on first use; a key published later is not taken). A bad signature, an
   origin that is not a city, an unknown kind or a malformed body is stored as ``refused``
   with the reason and has no effect;
2. stores the item (``InboundMessage``: kind, origin, 住民票コード, body with any 個人番号
   masked, verified, state);
3. for a ``move_in.notice`` (転入通知, std 4.1.3.1, j680) addressed to this city: finds the
   resident by 住民票コード. Not found, or not removed by a 転出 → ``unmatched`` (listed on
   /cs/inbound/). Found → the register procedure ``move_in_notice_receipt`` (転入通知の受理)
   is entered as a DRAFT by the system actor — the registry flags it ``system_enterable``,
   so ``save_draft`` records it with the system operator account (``batch:cs``) — and the
   notice is kept as ``drafted`` with the change's id and the plan's alerts (acknowledged on
   the clerk's behalf and shown in the note). A member of staff with CHANGE_REVIEW reviews
   and commits it like any other draft (invariant 3: every member of staff differs from the
   system account; the system itself cannot commit it). Only when the plan has an error (for
   example the record changed since the 転出) is the notice kept as ``needs_clerk`` with the
   findings, for a clerk to enter from the screen.

The cursor moves past an item only once it is stored, so nothing is lost when the network
fails midway: the next run fetches again from there (a seq already stored is skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from jumin.accounts.actor import Actor
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.core.change_reasons import ChangeReason
from jumin.core.errors import CoreError
from jumin.core.findings import Findings, FindingsError, error
from jumin.core.identifiers import validate_juminhyo_code, validate_local_government_code
from jumin.jukinet import services
from jumin.jukinet.client import CsClient, PeerKeys, TransportError, masked
from jumin.jukinet.conf import config
from jumin.jukinet.models import CityKey, InboundMessage, MailboxCursor
from jumin.netproto.envelope import Envelope, ProtocolError, canonical, public_key, verify
from jumin.netproto.messages import (
    KINDS,
    RELAYED,
    MailboxItem,
    MailboxResult,
    MoveInNotice,
    MoveOutFetchResult,
    MoveOutInfo,
    MoveOutPerson,
)
from jumin.register.models import Resident, ResidentStatus
from jumin.register.procedures import moves

RECEIVE_FUNCTION = "住基ネットからの受信"
FETCH_PURPOSE = "受信メッセージの取得"
State = InboundMessage.State
_MOVED_OUT = {
    ChangeReason.DOMESTIC_MOVE_OUT.value,
    ChangeReason.MOVE_OUT_ABROAD.value,
    ChangeReason.EX_OFFICIO_REMOVAL.value,
}


class ReceiveFailed(Exception):
    """The mailbox could not be fetched (the national side unreachable or refusing)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class _Outcome:
    state: str
    note: str = ""
    atena_no: str = ""
    change_id: int | None = None


def _cursor() -> MailboxCursor:
    cursor, _ = MailboxCursor.objects.get_or_create(pk=1)
    return cursor


def receive(actor: Actor, *, client: CsClient | None = None, limit: int = 100) -> int:
    """Fetch and process the mailbox once (one ``mailbox.fetch``). Returns how many new items
    were stored. Raises ``ReceiveFailed`` when the mailbox could not be fetched, and
    ``PermissionDenied`` (logged) without ``Perm.JUKINET_MESSAGE_RETRY``."""
    authorize(actor, Perm.JUKINET_MESSAGE_RETRY, RECEIVE_FUNCTION)
    own = client is None
    client = client or CsClient.from_config()
    try:
        return _receive(actor, client, limit)
    finally:
        if own:
            client.close()


def _receive(actor: Actor, client: CsClient, limit: int) -> int:
    after = _cursor().last_seq
    exchange = services.call(
        actor,
        "mailbox.fetch",
        {"after": after, "limit": limit},
        purpose=FETCH_PURPOSE,
        client=client,
    )
    if exchange.outcome != "delivered" or exchange.reply is None:
        raise ReceiveFailed(
            exchange.error_code or "mailbox.fetch",
            exchange.error_message or "受信メッセージを取得できませんでした。",
        )
    result = MailboxResult.model_validate(exchange.reply.body)
    peers = PeerKeys(config(), client.transport)
    stored: list[InboundMessage] = []
    for item in sorted(result.items, key=lambda i: i.seq):
        if item.seq <= after:
            continue
        try:
            row = _store(actor, client.node, peers, item)
        except TransportError as exc:
            if exc.code.startswith("network."):
                break  # try again from this item next time
            raise
        if row is not None:
            stored.append(row)
    if stored:
        counts: dict[str, int] = {}
        for row in stored:
            counts[row.state] = counts.get(row.state, 0) + 1
        audit.record(
            actor,
            category=Category.COMMUNICATION,
            function=RECEIVE_FUNCTION,
            targets=sorted({r.atena_no for r in stored if r.atena_no}),
            outcome=Outcome.SUCCESS,
            detail={
                "received": len(stored),
                "states": counts,
                "seqs": [stored[0].seq, stored[-1].seq],
            },
        )
    return len(stored)


def _store(actor: Actor, node: str, peers: PeerKeys, item: MailboxItem) -> InboundMessage | None:
    data = item.envelope
    origin = str(data.get("sender", ""))[:32]
    kind = str(data.get("kind", ""))[:40]
    raw_body = data.get("body")
    body: dict[str, Any] = raw_body if isinstance(raw_body, dict) else {}
    verified, problem = _verify(peers, origin, item)
    with transaction.atomic():
        cursor = MailboxCursor.objects.select_for_update().get(pk=1)
        if InboundMessage.objects.filter(seq=item.seq).exists():
            cursor.last_seq = max(cursor.last_seq, item.seq)
            cursor.save(update_fields=["last_seq"])
            return None
        now = timezone.now()
        row = InboundMessage(
            seq=item.seq,
            kind=kind,
            origin=origin,
            envelope_id=str(data.get("id", ""))[:64],
            juminhyo_code=_code(body)[:11],
            body=masked(body),
            verified=verified,
            received_at=now,
            processed_at=now,
        )
        if not verified:
            outcome = _Outcome(State.REFUSED, problem)
        else:
            outcome = _act(actor, node, kind, body, item.seq)
        row.state = outcome.state
        row.note = outcome.note
        row.atena_no = outcome.atena_no
        row.change_id = outcome.change_id
        row.save()
        cursor.last_seq = max(cursor.last_seq, item.seq)
        cursor.fetched_at = now
        cursor.save(update_fields=["last_seq", "fetched_at"])
    return row


def _code(body: dict[str, Any]) -> str:
    code = body.get("juminhyo_code")
    if not code and isinstance(body.get("persons"), list) and body["persons"]:
        first = body["persons"][0]
        code = first.get("juminhyo_code") if isinstance(first, dict) else ""
    return str(code or "")


def _city_key(peers: PeerKeys, code: str) -> Ed25519PublicKey:
    pinned = CityKey.objects.filter(code=code).values_list("public_key", flat=True).first()
    if pinned is None:
        pinned = peers.fetch(code)
        CityKey.objects.get_or_create(
            code=code, defaults={"public_key": pinned, "pinned_at": timezone.now()}
        )
        pinned = CityKey.objects.values_list("public_key", flat=True).get(code=code)
    return public_key(pinned)


def _verify(peers: PeerKeys, origin: str, item: MailboxItem) -> tuple[bool, str]:
    """Whether ``item`` is signed by the city it names as sender, and why not."""
    if not (len(origin) == 6 and origin.isdigit()):
        return False, f"送信元「{origin}」は市区町村のノードではありません。"
    try:
        key = _city_key(peers, origin)
    except TransportError as exc:
        if exc.code.startswith("network."):
            raise
        return False, f"送信元 {origin} の公開鍵を確認できません（{exc.message}）。"
    try:
        raw = canonical(item.envelope)
        verify(raw, item.signature, key)
        envelope = Envelope.parse(raw)
    except ProtocolError as exc:
        return False, f"送信元 {origin} の署名を確認できません（{exc.code}: {exc.message}）。"
    except (TypeError, ValueError) as exc:
        return False, f"電文の形式が正しくありません（{type(exc).__name__}）。"
    if envelope.kind not in RELAYED:
        return False, f"中継される電文ではありません（種別 {envelope.kind}）。"
    try:
        KINDS[envelope.kind].body.model_validate(envelope.body)
    except ValidationError:
        return False, "電文の本文が正しくありません。"
    return True, ""


def _act(actor: Actor, node: str, kind: str, body: dict[str, Any], seq: int) -> _Outcome:
    if kind != "move_in.notice":
        return _Outcome(
            State.NOT_HANDLED,
            "転出証明書情報は転入届の入力時に参照します（自動処理の対象外）。",
        )
    notice = MoveInNotice.model_validate(body)
    if notice.to_municipality != node:
        return _Outcome(
            State.UNMATCHED,
            f"この市区町村（{node}）宛ての転入通知ではありません"
            f"（宛先 {notice.to_municipality}）。",
        )
    resident = (
        Resident.objects.filter(juminhyo_code=notice.juminhyo_code)
        .only("atena_no", "status", "removal_reason")
        .first()
    )
    if resident is None:
        return _Outcome(
            State.UNMATCHED,
            f"住民票コード {notice.juminhyo_code} の住民記録はありません。",
        )
    if resident.status != ResidentStatus.REMOVED or resident.removal_reason not in _MOVED_OUT:
        return _Outcome(
            State.UNMATCHED,
            f"宛名番号 {resident.atena_no} は転出による消除の記録がありません。",
            atena_no=resident.atena_no,
        )
    data = moves.MoveInNoticeInput(
        atena_no=resident.atena_no,
        move_in_notice_on=notice.notified_on,
        moved_out_on=notice.moved_in_on,
        moved_out_address=notice.new_address,
        municipality_code=notice.from_municipality,
    )
    plan = moves.plan_move_in_notice_receipt(actor, data)
    remarks = [f.message for f in plan.findings.errors] + [f.message for f in plan.findings.alerts]
    try:
        with transaction.atomic():
            change = moves.submit_move_in_notice_receipt(
                actor,
                data,
                acknowledged=[f.code for f in plan.findings.alerts],
                idempotency_key=f"cs-inbound:{seq}",
            )
    except (PermissionDenied, FindingsError) as exc:
        reason = (
            "; ".join(f.message for f in exc.findings)
            if isinstance(exc, FindingsError)
            else str(exc)
        )
        note = "自動で仮登録できませんでした（" + reason + "）。転入通知の受理を入力してください。"
        if remarks:
            note += " 確認事項: " + " / ".join(remarks)
        return _Outcome(State.NEEDS_CLERK, note, atena_no=resident.atena_no)
    note = "転入通知の受理を仮登録しました。審査してください。"
    if remarks:
        note += " 確認事項: " + " / ".join(remarks)
    return _Outcome(State.DRAFTED, note, atena_no=resident.atena_no, change_id=change.pk)


LIST_FUNCTION = "住基ネット受信メッセージの照会"


def inbound_messages(
    actor: Actor, *, state: str | None = None, limit: int = 200
) -> list[InboundMessage]:
    """受信メッセージの一覧 (newest first), optionally of one state; the read is logged."""
    authorize(actor, Perm.JUKINET_MESSAGE_READ, LIST_FUNCTION)
    rows = InboundMessage.objects.select_related("change").order_by("-seq")
    if state:
        rows = rows.filter(state=state)
    items = list(rows[:limit])
    audit.record(
        actor,
        category=Category.INQUIRY,
        function=LIST_FUNCTION,
        targets=sorted({r.atena_no for r in items if r.atena_no}),
        detail={"state": state or "", "shown": len(items)},
    )
    return items


# --- 転出証明書情報の取得 (特例転入, std 4.1.1 / 4.1.3.0.4 j670) ---------------------------------

FETCH_MOVE_OUT_FUNCTION = "転出証明書情報の取得"
FETCH_MOVE_OUT_PURPOSE = "転入届の入力（特例転入）"
MAX_FETCH_CODES = 30


class FetchUnavailable(Exception):
    """The national side could not be asked (down, refusing, keys not set up)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class FetchedMoveOut:
    """What the CS fetched for a 特例転入: one certificate per person as the old city sent it."""

    from_municipality: str
    infos: list[MoveOutInfo]
    codes: list[str]

    @property
    def persons(self) -> list[tuple[MoveOutInfo, MoveOutPerson]]:
        return [(info, p) for info in self.infos for p in info.persons]

    def source(self) -> dict[str, Any]:
        """A short record of the fetch (no 個人番号), carried to the confirmation screen."""
        return {
            "from_municipality": self.from_municipality,
            "certificates": [i.certificate_id for i in self.infos],
            "codes": self.codes,
            "fetched_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        }


def _fetch_error(message: str, remedy: str, code: str = "move_out.fetch") -> FindingsError:
    return FindingsError(Findings([error(code, message, field="_cs_codes", remedy=remedy)]))


def fetch_move_out_info(
    actor: Actor,
    juminhyo_codes: Sequence[str],
    from_municipality: str,
    *,
    client: CsClient | None = None,
) -> FetchedMoveOut:
    """Ask J-LIS (``move_out.fetch``) for the 転出証明書情報 of each 住民票コード, for the clerk
    entering a 特例転入. Raises ``FindingsError`` (Japanese: which code, why, what to do) for
    a malformed code, a certificate J-LIS does not know, or one from another municipality
    than the one the resident names; ``FetchUnavailable`` when netsim cannot be asked. Each
    call is logged (送信記録 and the operation log, with its purpose)."""
    authorize(actor, Perm.CHANGE_DRAFT, FETCH_MOVE_OUT_FUNCTION)
    codes = list(dict.fromkeys(c.strip() for c in juminhyo_codes if c.strip()))
    origin = from_municipality.strip()
    if not codes:
        raise _fetch_error(
            "住民票コードが入力されていません。",
            "転出証明書情報を取得する人の住民票コード（11桁）を入力してください。",
        )
    if len(codes) > MAX_FETCH_CODES:
        raise _fetch_error(
            f"一度に取得できるのは {MAX_FETCH_CODES} 人までです（{len(codes)} 件）。",
            "世帯ごとに分けて取得してください。",
        )
    for code in codes:
        try:
            validate_juminhyo_code(code)
        except CoreError as exc:
            raise _fetch_error(
                f"住民票コード「{code}」が正しくありません（{exc.message}）。",
                "11桁の住民票コードを確認してください。",
                "juminhyo_code.invalid",
            ) from exc
    try:
        validate_local_government_code(origin)
    except CoreError as exc:
        raise FindingsError(
            Findings(
                [
                    error(
                        "municipality_code.invalid",
                        f"転出元の市区町村コード「{origin}」が正しくありません（{exc.message}）。",
                        field="_cs_from",
                        remedy="転出元の全国地方公共団体コード（6桁）を入力してください。",
                    )
                ]
            )
        ) from exc
    try:
        exchanges = services.call_many(
            actor,
            "move_out.fetch",
            [({"juminhyo_code": code}, "") for code in codes],
            purpose=FETCH_MOVE_OUT_PURPOSE,
            client=client,
        )
    except (TransportError, ProtocolError, OSError, ValueError) as exc:
        raise FetchUnavailable(
            f"住基ネット（全国側）に接続できないため、転出証明書情報を取得できません（{exc}）。"
        ) from exc
    infos: dict[str, MoveOutInfo] = {}
    missing: list[str] = []
    for code, exchange in zip(codes, exchanges, strict=True):
        if exchange.outcome != "delivered" or exchange.reply is None:
            raise FetchUnavailable(
                "住基ネット（全国側）から応答がないため、転出証明書情報を取得できません"
                f"（{exchange.error_code}: {exchange.error_message}）。"
                "入力内容はそのままです。時間をおいてもう一度「転出証明書情報を取得」を押すか、"
                "転出証明書（紙）の内容を入力してください。"
            )
        result = MoveOutFetchResult.model_validate(exchange.reply.body)
        if not result.found or result.info is None:
            missing.append(code)
            continue
        info = result.info
        if info.from_municipality != origin:
            raise _fetch_error(
                f"住民票コード {code} の転出証明書情報は、転出元 {info.from_municipality} から"
                f"送られたものです（入力された転出元は {origin}）。",
                "転出元の市区町村コードを本人に確認してください。",
                "move_out.other_municipality",
            )
        infos.setdefault(info.certificate_id, info)
    if missing:
        raise _fetch_error(
            "次の住民票コードの転出証明書情報は住基ネットにありません: "
            + "、".join(missing)
            + f"（転出元 {origin}）。転出元で特例転出（マイナンバーカードによる転出届）が"
            "処理されていないか、住民票コードが違う可能性があります。",
            "住民票コードと転出元を確認してください。転出証明書（紙）を持参している場合は、"
            "その内容を入力して通常の転入として処理してください。",
            "move_out.unknown_certificate",
        )
    return FetchedMoveOut(origin, list(infos.values()), codes)
