"""HTTP endpoints of netsim (plain Django views: the request path stays lean).

- ``POST /v1/messages``: one signed envelope in, one signed reply envelope out.
- ``POST /v1/messages:batch``: several, each signed and answered on its own (``netproto.batch``).
- ``GET /v1/nodes/<code>``: a node's public key (public).
- ``POST /v1/nodes``: a city registers itself (only with JUMIN_NETSIM_OPEN_REGISTRATION=1).
- ``GET /v1/health``: liveness and database.
- ``GET|POST|DELETE /v1/_faults``: fault injection (only with JUMIN_NETSIM_FAULTS=1).
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from jumin.netproto import batch
from jumin.netproto.envelope import MAX_BYTES, SIGNATURE_HEADER, ProtocolError, canonical
from jumin.netsim import conf, faults, selectors, services

CONTENT_TYPE = "application/json"


def _json(status: int, data: dict[str, Any], signature: str | None = None) -> HttpResponse:
    return _bytes(status, canonical(data), signature)


def _bytes(status: int, content: bytes, signature: str | None = None) -> HttpResponse:
    response = HttpResponse(content, status=status, content_type=CONTENT_TYPE)
    response["Content-Length"] = str(len(content))
    if signature:
        response[SIGNATURE_HEADER] = signature
    return response


def _error(status: int, code: str, message: str) -> HttpResponse:
    return _json(status, {"code": code, "message": message})


def _method_not_allowed(allowed: str) -> HttpResponse:
    response = _error(405, "http.method", f"このURLは {allowed} で呼び出してください。")
    response["Allow"] = allowed
    return response


def _too_large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BYTES
    except ValueError:
        return True


def messages(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    plan = faults.take() if conf.faults_enabled() else faults.Plan()
    if plan.unavailable:
        return _error(503, "fault.unavailable", "netsim は停止中です（障害の模擬）。")
    if plan.delay_ms:
        time.sleep(plan.delay_ms / 1000)
    if _too_large(request):
        return _error(413, "envelope.too_large", "メッセージが大きすぎます。")
    answer = services.receive(request.body, request.headers.get(SIGNATURE_HEADER))
    if plan.drop:
        request.META[faults.DROP_REPLY] = True
    return _bytes(answer.status, answer.content, answer.signature)


def messages_batch(request: HttpRequest) -> HttpResponse:
    """``POST /v1/messages:batch`` (``jumin.netproto.batch``): several signed envelopes, each
    answered as if sent alone. Faults apply to the batch as a whole (one HTTP request)."""
    if request.method != "POST":
        return _method_not_allowed("POST")
    plan = faults.take() if conf.faults_enabled() else faults.Plan()
    if plan.unavailable:
        return _error(503, "fault.unavailable", "netsim は停止中です（障害の模擬）。")
    if plan.delay_ms:
        time.sleep(plan.delay_ms / 1000)
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > batch.MAX_BATCH_BYTES:
            return _error(413, "batch.too_large", "一括送信が大きすぎます。")
    except ValueError:
        return _error(400, "batch.malformed", "Content-Length が正しくありません。")
    try:
        answers = services.receive_batch(request.body)
    except ProtocolError as exc:
        return _error(400, exc.code, exc.message)
    if plan.drop:
        request.META[faults.DROP_REPLY] = True
    return _bytes(200, batch.encode_reply(answers))


def _node_json(node: Any) -> dict[str, Any]:
    return {
        "code": node.code,
        "name": node.name,
        "kind": node.kind,
        "public_key": node.public_key,
        "active": node.active,
    }


def node(request: HttpRequest, code: str) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed("GET")
    found = selectors.node(code)
    if found is None:
        return _error(404, "node.unknown", f"ノード {code} は登録されていません。")
    return _json(200, _node_json(found))


def nodes(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    if not conf.open_registration():
        return _error(
            403,
            "registration.closed",
            "自己登録は無効です。netsim の運用者が `jumin netsim node add` で登録します。",
        )
    if _too_large(request):
        return _error(413, "registration.too_large", "登録要求が大きすぎます。")
    try:
        registered = services.self_register(request.body, request.headers.get(SIGNATURE_HEADER))
    except services.NodeError as exc:
        status = 409 if exc.code in {"node.key_conflict", "node.reserved"} else 400
        if exc.code.startswith("signature."):
            status = 401
        return _error(status, exc.code, exc.message)
    return _json(201, _node_json(registered))


def health(request: HttpRequest) -> HttpResponse:
    try:
        database = "ok" if selectors.node("jlis") is not None else "no-nodes"
    except DatabaseError:
        return _error(503, "health.database", "データベースに接続できません。")
    return _json(
        200,
        {
            "status": "ok",
            "service": "netsim",
            "database": database,
            "time": timezone.now().isoformat(),
        },
    )


def fault_control(request: HttpRequest) -> HttpResponse:
    if not conf.faults_enabled():
        return _error(404, "http.not_found", "このURLはありません。")
    if request.method == "DELETE":
        faults.clear()
    elif request.method == "POST":
        try:
            faults.arm(json.loads(request.body or b"null"))
        except (ValueError, faults.FaultError) as exc:
            return _error(400, "fault.invalid", str(exc))
    elif request.method != "GET":
        return _method_not_allowed("GET, POST, DELETE")
    state = faults.snapshot()
    return _json(
        200,
        {
            "unavailable": state.unavailable,
            "delay_ms": state.delay_ms,
            "delay_count": state.delay_count,
            "drop": state.drop,
        },
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(404, "http.not_found", "このURLはありません。")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(400, "http.bad_request", "要求を解釈できません。")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(500, "server.error", "netsim の内部エラーです。時間をおいて再送してください。")
