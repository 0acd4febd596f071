"""The HTTP API root (django-ninja). OpenAPI 3 at ``/api/openapi.json``.

Each app adds one router. Errors are ``application/problem+json`` documents with a stable
``code`` (invariant 8).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

import jumin
from jumin.core.findings import FindingsError

api = NinjaAPI(
    title="Jumin 住民記録システム API",
    version=jumin.__version__,
    description="住民基本台帳システム Jumin の API。すべての操作は操作ログに記録されます。",
    auth=django_auth,
    urls_namespace="api",
)


def problem(request: HttpRequest, status: int, code: str, title: str, **extra: Any) -> HttpResponse:
    body = {"type": f"urn:jumin:problem:{code}", "title": title, "status": status, "code": code}
    body.update(extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(FindingsError)
def _findings(request: HttpRequest, exc: FindingsError) -> HttpResponse:
    return problem(
        request,
        422,
        "validation_failed",
        "入力内容に誤りがあります。各項目のメッセージを確認して修正してください。",
        findings=exc.findings.as_list(),
    )


@api.exception_handler(NinjaValidationError)
def _schema(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return problem(
        request,
        422,
        "schema_invalid",
        "リクエストの形式が正しくありません。",
        errors=exc.errors,
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(request, 401, "unauthenticated", "ログインしてください。")


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(request, exc.status_code, f"http_{exc.status_code}", str(exc))


class Health(Schema):
    status: str
    version: str
    mode: str
    database: str


@api.get("/health", auth=None, response=Health, tags=["system"], summary="稼働確認")
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness and database reachability. Returns no personal data."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {
        "status": "ok",
        "version": jumin.__version__,
        "mode": settings.JUMIN["MODE"],
        "database": connection.vendor,
    }
