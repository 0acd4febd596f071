"""netsim's reads: nodes, a person's national file, the message log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from jumin.netsim.models import (
    IdentityHistory,
    IdentityRecord,
    IdentitySequence,
    IssuedCode,
    MailingRecord,
    MessageLog,
    MoveOutPerson,
    MyNumberAssignment,
    Node,
)


def node(code: str) -> Node | None:
    return Node.objects.filter(code=code).first()


def nodes() -> QuerySet[Node]:
    return Node.objects.order_by("kind", "code")


@dataclass(frozen=True)
class PersonFile:
    """Everything the national side holds on one 住民票コード (operator view)."""

    juminhyo_code: str
    record: IdentityRecord | None
    sequences: list[IdentitySequence]
    history: list[IdentityHistory]
    numbers: list[MyNumberAssignment]
    mailing: list[MailingRecord]
    move_outs: list[MoveOutPerson]
    issued_to: str | None


def person_file(juminhyo_code: str) -> PersonFile:
    issued = (
        IssuedCode.objects.filter(code=juminhyo_code)
        .values_list("municipality_code", flat=True)
        .first()
    )
    return PersonFile(
        juminhyo_code=juminhyo_code,
        record=IdentityRecord.objects.filter(juminhyo_code=juminhyo_code).first(),
        sequences=list(
            IdentitySequence.objects.filter(juminhyo_code=juminhyo_code).order_by(
                "municipality_code"
            )
        ),
        history=list(IdentityHistory.objects.filter(juminhyo_code=juminhyo_code).order_by("id")),
        numbers=list(MyNumberAssignment.objects.filter(juminhyo_code=juminhyo_code).order_by("id")),
        mailing=list(MailingRecord.objects.filter(juminhyo_code=juminhyo_code).order_by("id")),
        move_outs=list(
            MoveOutPerson.objects.filter(juminhyo_code=juminhyo_code)
            .select_related("certificate")
            .order_by("id")
        ),
        issued_to=issued,
    )


def messages(
    *, sender: str = "", kind: str = "", outcome: str = "", limit: int = 50
) -> list[MessageLog]:
    rows = MessageLog.objects.all()
    if sender:
        rows = rows.filter(sender=sender)
    if kind:
        rows = rows.filter(kind=kind)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return list(reversed(rows.order_by("-id")[:limit]))
