"""The support-measure API (支援措置, std 1.1.16 j160, 3.4 j440, 20.5.1).

Mounted at ``/api/support/`` by ``jumin.config.api``. Every route declares its permission and
calls a service of :mod:`jumin.support.services` (which authorizes again and logs). Errors are
problem documents: ``validation_failed`` (422) with ``findings`` — e.g.
``support.extend_too_early`` — ``permission_denied`` (403), ``not_found`` (404).

A release for one request (``POST /lifts``) answers its number (``id``); the clerk's request
(a certificate, an inspection) passes it as ``lift_id`` to the gate, which uses it up.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from jumin.accounts.permissions import Perm
from jumin.config.api import actor_from_request, requires
from jumin.support import selectors, services
from jumin.support.schemas import (
    AbuserCheckIn,
    AbuserCheckOut,
    AlertOut,
    ConfirmIn,
    ExtendIn,
    LiftIn,
    LiftOut,
    MeasureIn,
    MeasureOut,
    MeasureSummaryOut,
    TerminateIn,
    lift_out,
    measure_out,
    summary_out,
)

router = Router(tags=["支援措置 (support)"])


class MeasureFilter(Schema):
    status: str = Field(
        "",
        description="状態（provisional / active / extended / ended / terminated、"
        "protecting は保護中のすべて）",
        max_length=16,
    )
    kind: str = Field("", description="区分（dv / stalker / child_abuse / other）", max_length=16)
    atena_no: str = Field("", description="支援対象者・加害者の宛名番号", max_length=10)


def _out(measure: Any) -> dict[str, Any]:
    return measure_out(measure, selectors.period_state(measure))


def _full(request: HttpRequest, measure_id: int) -> dict[str, Any]:
    return _out(services.read_measure(actor_from_request(request), measure_id))


@router.get(
    "/measures",
    response=list[MeasureSummaryOut],
    summary="支援措置の一覧",
    operation_id="support_measures",
)
@requires(Perm.SUPPORT_MEASURE_READ)
def measures(request: HttpRequest, filters: Query[MeasureFilter]) -> Any:
    """Measures, soonest end first, with where each stands (``state``: provisional / active /
    ending — within a month of the end / expired — over without an extension / ended)."""
    rows = services.list_measures(
        actor_from_request(request),
        status=filters.status,
        kind=filters.kind,
        atena_no=filters.atena_no,
    )
    return [summary_out(m, selectors.period_state(m)) for m in rows]


@router.post(
    "/measures",
    response={201: MeasureOut},
    summary="支援措置の申出の受付（仮支援措置）",
    operation_id="support_register",
)
@requires(Perm.SUPPORT_MEASURE_MANAGE)
def register(request: HttpRequest, payload: MeasureIn) -> Any:
    """Record an application: the applicant, those covered and the abusers. The persons are
    protected at once (仮支援措置) while the need is checked (std 3.4)."""
    actor = actor_from_request(request)
    measure = services.register(actor, payload)
    return _full(request, measure.pk)  # the only response model: 201


@router.get(
    "/measures/{int:measure_id}",
    response=MeasureOut,
    summary="支援措置の照会",
    operation_id="support_measure",
)
@requires(Perm.SUPPORT_MEASURE_READ)
def measure(request: HttpRequest, measure_id: int) -> Any:
    """The measure with its subjects, abusers and history (std 1.1.16, 2.2.4). Logged."""
    return _full(request, measure_id)


@router.post(
    "/measures/{int:measure_id}/confirm",
    response=MeasureOut,
    summary="支援措置の開始",
    operation_id="support_confirm",
)
@requires(Perm.SUPPORT_MEASURE_MANAGE)
def confirm(request: HttpRequest, measure_id: int, payload: ConfirmIn) -> Any:
    """Start the period: end = start + 1 year − 1 day unless ``end_on`` corrects it (with a
    ``note``)."""
    services.confirm(actor_from_request(request), measure_id, payload)
    return _full(request, measure_id)


@router.post(
    "/measures/{int:measure_id}/extend",
    response=MeasureOut,
    summary="支援措置の延長",
    operation_id="support_extend",
)
@requires(Perm.SUPPORT_MEASURE_MANAGE)
def extend(request: HttpRequest, measure_id: int, payload: ExtendIn) -> Any:
    """Extend by a year from the day after the end; possible from one month before the end
    (``support.extend_too_early`` before)."""
    services.extend(actor_from_request(request), measure_id, payload)
    return _full(request, measure_id)


@router.post(
    "/measures/{int:measure_id}/terminate",
    response=MeasureOut,
    summary="支援措置の終了",
    operation_id="support_terminate",
)
@requires(Perm.SUPPORT_MEASURE_MANAGE)
def terminate(request: HttpRequest, measure_id: int, payload: TerminateIn) -> Any:
    """End the measure (on request, period passed, need gone, other with a note)."""
    services.terminate(actor_from_request(request), measure_id, payload)
    return _full(request, measure_id)


@router.get(
    "/measures/{int:measure_id}/end-notice.pdf",
    response={200: None},
    summary="支援措置期間終了通知（PDF）",
    operation_id="support_end_notice",
    openapi_extra={
        "responses": {
            "200": {
                "description": "支援措置期間終了通知（A4 PDF）",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
@requires(Perm.SUPPORT_MEASURE_MANAGE)
def end_notice(request: HttpRequest, measure_id: int) -> HttpResponse:
    """The end-of-period notice of std 20.5.1 for an active or extended measure. Logged as a
    document issue."""
    content = services.notice_pdf(actor_from_request(request), measure_id)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="support-end-notice-{measure_id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/alerts", response=list[AlertOut], summary="支援措置のアラート", operation_id="support_alerts"
)
@requires(Perm.SUPPORT_MEASURE_READ)
def alerts(request: HttpRequest) -> Any:
    """Measures ending within the set number of days and measures whose period is over
    without an extension (std 3.4)."""
    return services.alerts_for(actor_from_request(request))


@router.post(
    "/lifts",
    response={201: LiftOut},
    summary="支援措置の個別解除",
    operation_id="support_lift",
)
@requires(Perm.SUPPORT_MEASURE_LIFT)
def lift(request: HttpRequest, payload: LiftIn) -> Any:
    """Release the protection for one request: all its persons (``atena_nos``) and its
    ``purpose``, with the ``reason`` of the decision. Valid for minutes, used once."""
    created = services.create_lift(actor_from_request(request), payload)
    return lift_out(created)  # the only response model: 201


@router.get(
    "/lifts", response=list[LiftOut], summary="個別解除の一覧", operation_id="support_lifts"
)
@requires(Perm.SUPPORT_MEASURE_READ)
def lifts(request: HttpRequest) -> Any:
    """The latest releases, newest first, with whether they were used."""
    return [lift_out(x) for x in services.list_lifts(actor_from_request(request))]


@router.post(
    "/abuser-check",
    response=AbuserCheckOut,
    summary="加害者の照合",
    operation_id="support_abuser_check",
)
@requires(Perm.RESIDENT_READ, any_of=(Perm.CERTIFICATE_ISSUE, Perm.SUPPORT_MEASURE_READ))
def abuser_check(request: HttpRequest, payload: AbuserCheckIn) -> Any:
    """Whether a requester (a third party asking for a copy) matches an abuser recorded in a
    protecting measure: reading (fuzzy, std 2.1.2) and birth date. Answers only yes or no."""
    matches = services.check_abuser(
        actor_from_request(request), payload.name_kana, payload.birth_date
    )
    return {"matches": matches}
