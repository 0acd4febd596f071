"""Outbox message → envelope body: only the items each message needs (assessment §III).

Each CS topic is built from the register's history row of the change that caused it, so a
message carries the state *at that change* even when it is sent later:

=================  ==================  ====================================================
outbox topic       envelope kind       source
=================  ==================  ====================================================
identity_info      identity.update     ResidentHistory (atena_no, history_no) → Identity
move_out_info      move_out.info       the 転出's history row (atena_no, change) + payload
move_in_notice     move_in.notice      the 転入's history row (住民票コード) + payload + Change
mailing_info       mailing.info        ResidentHistory (atena_no, history_no) or the current
                                       record, with the payload's 送付先 overriding
my_number_generate my_number.generate  the payload's 住民票コード, checked against the current
                                       record (still that code, still no 個人番号)
=================  ==================  ====================================================

The 転入通知 carries the 転出証明書情報's ``certificate_id`` when the CS knows it: from the
payload, else from the move-out information this city received for that 住民票コード from
the old city (relayed to the mailbox, or fetched with ``move_out.fetch``); a move-in on a
paper 転出証明書 has none (the field stays empty).

個人番号 generation (std 7.1.2.1, j1130; 番号法第7条第1項): an ``identity.update`` of a person
who got a 住民票コード by a change that enters them (``GENERATION_REASONS``: 出生, 国外転入,
職権記載, 住民票コードの職権記載) and has no 個人番号 is marked ``needs_number``; the worker
then queues ``my_number_generate`` (see ``worker``).

The 個人番号 is decrypted only into the envelope body (never into the CS files or the log).
Topics that are not 住基ネット messages (``NOT_FOR_CS``) are never touched by the CS; an
unknown topic addressed to the CS raises a non-final ``BuildError`` (it stays pending with a
clear ``last_error``). A message that can never be built (no 住民票コード, no history row)
raises a final one (the message fails, with the reason, on the failures list).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from pydantic import ValidationError

from jumin.jukinet.models import InboundMessage, SentMessage
from jumin.netproto.messages import KINDS
from jumin.outbox.models import OutboxMessage
from jumin.register.crypto import DecryptionError, KeyRing, load_keyring
from jumin.register.models import Change, EncryptedMyNumber, Resident, ResidentHistory

CS_TOPICS: dict[str, str] = {
    "identity_info": "identity.update",
    "move_out_info": "move_out.info",
    "move_in_notice": "move_in.notice",
    "mailing_info": "mailing.info",
    "my_number_generate": "my_number.generate",
}
TOPIC_LABELS: dict[str, str] = {
    "identity_info": "本人確認情報",
    "move_out_info": "転出証明書情報",
    "move_in_notice": "転入通知",
    "mailing_info": "送付先情報",
    "my_number_generate": "個人番号の生成要求",
}
# Changes that give a person a 住民票コード for the first time in this city's register: the
# 個人番号 is then designated (番号法第7条第1項) unless the person already has one.
GENERATION_REASONS = frozenset(
    {
        "birth",
        "move_in_from_abroad",
        "ex_officio_entry",
        "ex_officio_entry_nationality_loss",
        "juminhyo_code_ex_officio_entry",
    }
)
CS_DESTINATION = "cs"
NOT_FOR_CS: dict[str, str] = {
    "juminhyo_code_notice": "住民票コード通知票の印刷（帳票）",
    "immigration_notice": "出入国在留管理庁への市町村通知（住基ネットではない）",
}

# What the builders read of a history row or the current record (the rest is not loaded).
BUILD_FIELDS: tuple[str, ...] = (
    "atena_no",
    "juminhyo_code",
    "my_number_id",
    "family_name",
    "given_name",
    "name_alphabet",
    "name_kana",
    "birth_date",
    "birth_date_text",
    "sex",
    "address",
    "katagaki",
    "postal_code",
    "status",
    "relationship",
    "head_name",
    "honseki",
    "koseki_head",
    "resident_type",
    "moved_out_planned_on",
)
HISTORY_FIELDS = (*BUILD_FIELDS, "history_no", "change_id", "change_reason", "occurred_on")

# The register columns an identity is made of, in the order ``identity_hash`` takes them.
IDENTITY_COLUMNS: tuple[str, ...] = (
    "juminhyo_code",
    "my_number_id",
    "family_name",
    "given_name",
    "name_alphabet",
    "name_kana",
    "birth_date",
    "birth_date_text",
    "sex",
    "address",
    "katagaki",
    "status",
)


class BuildError(Exception):
    """The message cannot be made into an envelope. ``final``: fail it; else keep it pending."""

    def __init__(self, code: str, message: str, *, final: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.final = final


@dataclass
class Built:
    kind: str
    body: dict[str, Any]  # JSON-ready; may hold a 個人番号 in clear: only for the envelope
    atena_no: str
    identity: dict[str, Any] | None = None  # IdentityRecord fields after delivery
    mailing: dict[str, Any] | None = None  # MailingRecord fields after delivery
    change_id: int | None = None  # the register change the message came from
    needs_number: bool = False  # identity.update of a person to number (j1130)
    generate: str = ""  # my_number.generate: the 住民票コード asked for


def is_cs_message(topic: str, destination: str) -> bool:
    """Whether the CS delivers this outbox message (and keeps it in per-person order)."""
    return topic in CS_TOPICS or (destination == CS_DESTINATION and topic not in NOT_FOR_CS)


def full_address(address: str, katagaki: str) -> str:
    return f"{address}　{katagaki}" if katagaki else address


def birth_text(birth_date: dt.date | str | None, birth_date_text: str) -> str:
    if birth_date_text:
        return birth_date_text
    if isinstance(birth_date, dt.date):
        return birth_date.isoformat()
    return str(birth_date or "")


def identity_hash(values: Sequence[Any]) -> str:
    """A digest of a person's identity items, from ``IDENTITY_COLUMNS`` values (a register
    row) — what the CS file keeps to compare with the register (reconciliation)."""
    (code, ref, family, given, alphabet, kana, birth, birth_txt, sex, addr, kata, status) = values
    text = "\x1f".join(
        (
            code or "",
            str(ref or ""),
            family or "",
            given or "",
            alphabet or "",
            kana or "",
            birth_text(birth, birth_txt or ""),
            sex or "",
            full_address(addr or "", kata or ""),
            status or "",
        )
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def row_hash(row: Resident | ResidentHistory) -> str:
    return identity_hash([getattr(row, c) for c in IDENTITY_COLUMNS])


def display_name(row: Resident | ResidentHistory) -> str:
    if row.family_name or row.given_name:
        return "　".join(p for p in (row.family_name, row.given_name) if p)
    return row.name_alphabet


# --------------------------------------------------------------------------- context


class _Context:
    """What a batch of messages needs from the register, read in a few queries."""

    def __init__(self, messages: Sequence[OutboxMessage]) -> None:
        by_history: list[tuple[str, int]] = []
        by_change: list[tuple[str, int]] = []
        current: list[str] = []
        changes: set[int] = set()
        for m in messages:
            payload = m.payload if isinstance(m.payload, dict) else {}
            atena = str(payload.get("atena_no") or m.ordering_key)
            if m.topic in {"identity_info", "mailing_info"} and isinstance(
                payload.get("history_no"), int
            ):
                by_history.append((atena, payload["history_no"]))
            elif m.topic in {"mailing_info", "my_number_generate"}:
                current.append(atena)
            elif m.topic in {"move_out_info", "move_in_notice"} and m.change_id:
                by_change.append((atena, m.change_id))
                changes.add(m.change_id)
        self.history: dict[tuple[str, int], ResidentHistory] = {}
        self.by_change: dict[tuple[str, int], ResidentHistory] = {}
        # a superset in two indexed queries, narrowed here (an OR of pairs is slow to build)
        wanted = set(by_history)
        if by_history:
            rows = ResidentHistory.objects.filter(
                atena_no__in={a for a, _ in by_history},
                history_no__in={n for _, n in by_history},
            ).only(*HISTORY_FIELDS)
            for row in rows:
                if (row.atena_no, row.history_no) in wanted:
                    self.history[(row.atena_no, row.history_no)] = row
        wanted = set(by_change)
        if by_change:
            rows = ResidentHistory.objects.filter(
                atena_no__in={a for a, _ in by_change}, change_id__in=changes
            ).only(*HISTORY_FIELDS)
            for row in rows:
                if (row.atena_no, row.change_id) in wanted:
                    self.by_change[(row.atena_no, row.change_id)] = row
        self.current = {
            r.atena_no: r
            for r in Resident.objects.filter(atena_no__in=current).only(*BUILD_FIELDS, "history_no")
        }
        self.changes = {c.pk: c for c in Change.objects.filter(pk__in=changes)}
        self.certificates = _certificates(
            {
                row.juminhyo_code
                for m in messages
                if m.topic == "move_in_notice"
                for row in [self.by_change.get((str(m.ordering_key), m.change_id or 0))]
                if row is not None and row.juminhyo_code
            }
        )
        refs = {r.my_number_id for r in self.history.values() if r.my_number_id}
        refs |= {r.my_number_id for r in self.by_change.values() if r.my_number_id}
        refs |= {r.my_number_id for r in self.current.values() if r.my_number_id}
        self.numbers = {n.pk: n for n in EncryptedMyNumber.objects.filter(pk__in=refs)}
        self._ring: KeyRing | None = None

    def my_number(self, ref: int | None) -> str | None:
        if not ref:
            return None
        row = self.numbers.get(ref)
        if row is None:
            raise BuildError("my_number.missing", f"個人番号（暗号化, #{ref}）が見つかりません。")
        try:
            if self._ring is None:
                self._ring = load_keyring()  # once per batch (it checks the key file)
            return self._ring.decrypt(row.key_id, row.ciphertext)
        except (DecryptionError, ImproperlyConfigured) as exc:
            raise BuildError(
                "my_number.decrypt",
                "個人番号を復号できません（暗号鍵ファイルを確認してください）。",
                final=False,
            ) from exc


def _certificates(codes: set[str]) -> dict[str, tuple[str, str]]:
    """住民票コード → (origin city, certificate_id) of the latest move-out information this
    city received for it (relayed to its mailbox, or fetched with ``move_out.fetch``)."""
    if not codes:
        return {}
    found: dict[str, tuple[str, str]] = {}
    fetched = (
        SentMessage.objects.filter(
            kind="move_out.fetch",
            outcome=SentMessage.Outcome.DELIVERED,
            request_body__juminhyo_code__in=sorted(codes),
        )
        .order_by("started_at", "id")
        .values_list("request_body", "reply_body")
    )
    for request, reply in fetched:
        info = (reply or {}).get("info") or {}
        if isinstance(info, dict) and info.get("certificate_id"):
            found[str(request.get("juminhyo_code"))] = (
                str(info.get("from_municipality") or ""),
                str(info["certificate_id"]),
            )
    relayed = (
        InboundMessage.objects.filter(kind="move_out.info", juminhyo_code__in=sorted(codes))
        .exclude(state=InboundMessage.State.REFUSED)
        .order_by("seq")
        .values_list("juminhyo_code", "origin", "body")
    )
    for code, origin, body in relayed:
        if isinstance(body, dict) and body.get("certificate_id"):
            found[code] = (origin, str(body["certificate_id"]))
    return found


# --------------------------------------------------------------------------- builders


def _validated(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        model = KINDS[kind].body.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise BuildError(
            "message.invalid",
            f"{kind} の項目 {where} が電文の形式に合いません（{first.get('msg', '')}）。"
            "住民記録の該当項目を確認してください。",
        ) from exc
    return model.model_dump(mode="json")


def _code(row: Resident | ResidentHistory, what: str) -> str:
    if not row.juminhyo_code:
        raise BuildError(
            "juminhyo_code.missing",
            f"宛名番号 {row.atena_no} に住民票コードが記載されていないため、{what}を住基ネットで"
            "送信できません。住民票コードを記載すると、その異動の本人確認情報が送信されます。",
        )
    return row.juminhyo_code


def _payload(message: OutboxMessage) -> dict[str, Any]:
    if not isinstance(message.payload, dict):
        raise BuildError("payload.invalid", "メッセージの内容（payload）が正しくありません。")
    return message.payload


def _identity(message: OutboxMessage, ctx: _Context, node: str) -> Built:
    payload = _payload(message)
    atena = str(payload.get("atena_no") or message.ordering_key)
    number = payload.get("history_no")
    row = ctx.history.get((atena, number)) if isinstance(number, int) else None
    if row is None:
        raise BuildError(
            "history.missing", f"宛名番号 {atena} の履歴番号 {number} の異動履歴がありません。"
        )
    code = _code(row, "本人確認情報")
    try:
        occurred = dt.date.fromisoformat(str(payload.get("occurred_on") or row.occurred_on))
    except ValueError:
        occurred = row.occurred_on
    items = {
        "juminhyo_code": code,
        "family_name": row.family_name,
        "given_name": row.given_name,
        "name_alphabet": row.name_alphabet,
        "name_kana": row.name_kana,
        "birth_date": birth_text(row.birth_date, row.birth_date_text),
        "sex": row.sex,
        "address": full_address(row.address, row.katagaki),
        "municipality_code": node,
        "status": row.status,
        "change_reason": str(payload.get("change_reason") or row.change_reason),
        "occurred_on": occurred.isoformat(),
        "sequence": row.history_no,
    }
    body = _validated(
        "identity.update", {"identity": items | {"my_number": ctx.my_number(row.my_number_id)}}
    )
    record = items | {
        "my_number_id": row.my_number_id,
        "occurred_on": occurred,
        "items_hash": row_hash(row),
    }
    needs = bool(
        row.juminhyo_code
        and not row.my_number_id
        and row.status == "resident"
        and row.change_reason in GENERATION_REASONS
        and not payload.get("reconcile")
        and not payload.get("resend_of")
    )
    return Built(
        "identity.update",
        body,
        atena,
        identity=record,
        change_id=message.change_id,
        needs_number=needs,
    )


def _change_row(message: OutboxMessage, ctx: _Context, what: str) -> ResidentHistory:
    atena = str(_payload(message).get("atena_no") or message.ordering_key)
    row = ctx.by_change.get((atena, message.change_id or 0))
    if row is None:
        raise BuildError(
            "history.missing",
            f"{what}の元になった異動（{message.change_id}）の宛名番号 {atena} の履歴がありません。",
        )
    return row


def _move_out(message: OutboxMessage, ctx: _Context, node: str) -> Built:
    payload = _payload(message)
    row = _change_row(message, ctx, "転出証明書情報")
    destination = payload.get("destination") or {}
    to = str(destination.get("municipality_code") or "")
    person = {
        "juminhyo_code": _code(row, "転出証明書情報"),
        "my_number": ctx.my_number(row.my_number_id),
        "family_name": row.family_name,
        "given_name": row.given_name,
        "name_alphabet": row.name_alphabet,
        "name_kana": row.name_kana,
        "birth_date": birth_text(row.birth_date, row.birth_date_text),
        "sex": row.sex,
        "relationship": row.relationship,
        "head_name": row.head_name,
        "honseki": row.honseki,
        "koseki_head": row.koseki_head,
        "resident_type": row.resident_type,
    }
    body = {
        "certificate_id": str(
            payload.get("certificate_id") or f"{node}-{message.change_id}-{row.atena_no}"
        ),
        "from_municipality": node,
        "to_municipality": to if len(to) == 6 and to.isdigit() else None,
        "previous_address": full_address(row.address, row.katagaki),
        "planned_on": payload.get("planned_on") or row.moved_out_planned_on,
        "destination_address": str(
            destination.get("planned_address") or destination.get("address") or ""
        ),
        "persons": [person],
    }
    return Built("move_out.info", _validated("move_out.info", body), row.atena_no)


def _move_in(message: OutboxMessage, ctx: _Context, node: str) -> Built:
    payload = _payload(message)
    row = _change_row(message, ctx, "転入通知")
    old_city = message.destination
    if not (len(old_city) == 6 and old_city.isdigit()):
        raise BuildError(
            "move_in_notice.destination",
            f"転入通知の送付先（転出元の市区町村コード {old_city!r}）が正しくありません。",
        )
    if not row.juminhyo_code:
        raise BuildError(
            "juminhyo_code.missing",
            f"宛名番号 {row.atena_no} に住民票コードが記載されていないため、転入通知を住基ネットで"
            f"送信できません。転出元（{old_city}）に紙の転入通知を送付してください。",
        )
    change = ctx.changes.get(message.change_id or 0)
    notified = (change.notified_on or change.occurred_on) if change else row.occurred_on
    certificate = str(payload.get("certificate_id") or "")
    if not certificate:
        origin, known = ctx.certificates.get(row.juminhyo_code, ("", ""))
        certificate = known if origin in {"", old_city} else ""
    body = {
        "to_municipality": old_city,
        "from_municipality": node,
        "juminhyo_code": row.juminhyo_code,
        "certificate_id": certificate,
        "moved_in_on": payload.get("moved_in_on") or row.occurred_on,
        "new_address": str(payload.get("new_address") or full_address(row.address, row.katagaki)),
        "notified_on": notified,
    }
    for key in ("moved_in_on", "notified_on"):
        value = body[key]
        if isinstance(value, dt.date):
            body[key] = value.isoformat()
    return Built("move_in.notice", _validated("move_in.notice", body), row.atena_no)


def _mailing(message: OutboxMessage, ctx: _Context, node: str) -> Built:
    payload = _payload(message)
    atena = str(payload.get("atena_no") or message.ordering_key)
    number = payload.get("history_no")
    row: Resident | ResidentHistory | None = (
        ctx.history.get((atena, number)) if isinstance(number, int) else ctx.current.get(atena)
    )
    if row is None:
        raise BuildError("history.missing", f"宛名番号 {atena} の住民記録がありません。")
    address = payload.get("address")
    body = {
        "juminhyo_code": _code(row, "送付先情報"),
        "my_number": ctx.my_number(row.my_number_id),
        "name": str(payload.get("name") or display_name(row)),
        "address": str(address or row.address),
        "katagaki": str(payload.get("katagaki") or ("" if address else row.katagaki)),
        # a 送付先 other than the address (居所, j1120) may come with its postal code
        "postal_code": str(payload.get("postal_code") or "") if address else "",
        "birth_date": birth_text(row.birth_date, row.birth_date_text),
        "sex": row.sex or None,
    }
    body = _validated("mailing.info", body)
    kept = {k: v for k, v in body.items() if k in MAILING_ITEMS}
    record = kept | {
        "sex": body["sex"] or "",
        "my_number_id": row.my_number_id,
        "name_kana": "",
        "postal_code": body["postal_code"],
        "household_head": "",
    }
    return Built("mailing.info", body, atena, mailing=record, change_id=message.change_id)


# what the 送付先情報ファイル keeps of a mailing.info body (the number: as a reference)
MAILING_ITEMS = ("juminhyo_code", "name", "address", "katagaki", "birth_date")


def _generate(message: OutboxMessage, ctx: _Context, node: str) -> Built:
    payload = _payload(message)
    atena = str(payload.get("atena_no") or message.ordering_key)
    code = str(payload.get("juminhyo_code") or "")
    row = ctx.current.get(atena)
    if row is None:
        raise BuildError("history.missing", f"宛名番号 {atena} の住民記録がありません。")
    if row.juminhyo_code != code:
        raise BuildError(
            "my_number_generate.code_changed",
            f"宛名番号 {atena} の住民票コードが要求時（{code}）から変わったため、個人番号の"
            "生成要求を送信しません。現在の住民票コードで生成要求が必要か確認してください。",
        )
    if row.my_number_id:
        raise BuildError(
            "my_number_generate.already_recorded",
            f"宛名番号 {atena} には既に個人番号が記載されているため、生成要求を送信しません。",
        )
    body = _validated("my_number.generate", {"juminhyo_code": code})
    return Built("my_number.generate", body, atena, change_id=message.change_id, generate=code)


_BUILDERS = {
    "identity_info": _identity,
    "move_out_info": _move_out,
    "move_in_notice": _move_in,
    "mailing_info": _mailing,
    "my_number_generate": _generate,
}


def build_batch(messages: Iterable[OutboxMessage], node: str) -> dict[int, Built | BuildError]:
    """Build every message; each gets a ``Built`` or the ``BuildError`` that stops it."""
    items = list(messages)
    ctx = _Context(items)
    out: dict[int, Built | BuildError] = {}
    for message in items:
        builder = _BUILDERS.get(message.topic)
        if builder is None:
            out[message.pk] = BuildError(
                "topic.unknown",
                f"種別 {message.topic!r} のメッセージはCSでは送信できません（対応する電文が"
                "ありません）。送信待ちのまま残します。システム管理者に連絡してください。",
                final=False,
            )
            continue
        try:
            out[message.pk] = builder(message, ctx, node)
        except BuildError as exc:
            out[message.pk] = exc
    return out
