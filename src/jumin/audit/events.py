"""Entries the log writes on its own behalf: エラーログ (unhandled exceptions), 画面ハードコピー
(a clerk printed a screen) and the auditors' verification. std 10.2 (j1370)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from jumin.audit import access, checkpoints
from jumin.audit.models import Category, Outcome
from jumin.audit.selectors import ChainReport, archive_state, verify_chain
from jumin.audit.services import record

logger = logging.getLogger(__name__)

ERROR_FUNCTION = "システムエラー"
SCREEN_COPY_FUNCTION = "画面の印刷（ハードコピー）"
VERIFY_FUNCTION = "操作ログの改ざん検査"


@dataclass(frozen=True)
class RequestActor:
    """Whoever made a request that failed: the signed-in member of staff, if any. (The log
    cannot use ``jumin.accounts.actor.Actor``: it depends on nothing but core.)"""

    staff: Any
    operator_code: str
    terminal_name: str = ""
    place: str = ""


def _request_actor(request: Any) -> RequestActor:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        org = getattr(user, "org_unit", None)
        return RequestActor(
            staff=user,
            operator_code=str(getattr(user, "staff_id", "") or user.get_username()),
            place=str(getattr(org, "code", "") or ""),
        )
    return RequestActor(staff=None, operator_code="web:anonymous")


def record_unhandled_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver (connected in ``AuditConfig.ready``)."""
    import sys

    record_error(request, sys.exc_info()[1])


def record_error(request: Any, exc: BaseException | None) -> None:
    """An エラー entry with the exception class and the route (its pattern, never the values
    in it), in its own transaction. Never raises: the error log must not hide the error.
    The API's catch-all handler (``config.api._unexpected``) calls this too."""
    try:
        match = getattr(request, "resolver_match", None)
        detail = {
            "exception": type(exc).__name__ if exc is not None else "unknown",
            "method": str(getattr(request, "method", "") or ""),
            "route": str(getattr(match, "route", "") or ""),
            "view": str(getattr(match, "view_name", "") or ""),
        }
        actor = _request_actor(request) if request is not None else RequestActor(None, "system")
        with transaction.atomic():
            record(
                actor,
                category=Category.ERROR,
                function=ERROR_FUNCTION,
                screen=detail["view"] or detail["route"],
                outcome=Outcome.ERROR,
                detail=detail,
            )
    except Exception:
        logger.exception("could not write the error entry of the operation log")


def record_screen_copy(
    actor: access.Actor,
    *,
    screen: str,
    title: str,
    targets: list[str],
    output: str,
    my_number_shown: bool = False,
) -> None:
    """画面ハードコピー / 印刷ログ: a clerk printed (or previewed) a screen. The page count is
    not known to the browser (``pages`` is null); a 個人番号 on the screen (revealed) is an
    access and an output of it."""
    with transaction.atomic():
        record(
            actor,
            category=Category.SCREEN_COPY,
            function=SCREEN_COPY_FUNCTION,
            screen=screen[:200],
            targets=targets,
            my_number_accessed=my_number_shown,
            detail={
                "title": title[:200],
                "terminal": actor.terminal_name,
                "printer": "ブラウザの印刷（端末のプリンタ）",
                "pages": None,
                "seal": False,
                "my_number_output": my_number_shown,
                "output": output,
            },
        )


@dataclass
class Verification:
    chain: ChainReport
    checkpoints: checkpoints.CheckpointReport

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.checkpoints.ok


def verify(actor: access.Actor | None = None) -> Verification:
    """The chain from the archive anchor, then every signed checkpoint against it.
    With an actor (the screen), AUDIT_LOG_VERIFY is required and the check is logged."""
    if actor is not None:
        access.require(actor, access.LOG_VERIFY, VERIFY_FUNCTION)
    chain = verify_chain()
    anchor = archive_state()
    cps = checkpoints.verify_checkpoints(
        last_seq=chain.last_seq,
        archived_through=anchor.archived_through,
        anchor_hash=anchor.anchor_hash,
    )
    if actor is not None:
        with transaction.atomic():
            record(
                actor,
                category=Category.INQUIRY,
                function=VERIFY_FUNCTION,
                screen="web:audit_verify",
                detail={
                    "checked": chain.checked,
                    "chain_problems": len(chain.problems),
                    "checkpoints": cps.checked,
                    "checkpoint_problems": len(cps.problems),
                    "ok": chain.ok and cps.ok,
                },
            )
    return Verification(chain, cps)
