"""Login, home page, and the API root."""

from __future__ import annotations

import pytest

from jumin.accounts.tests.factories import PASSWORD, StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_is_japanese_and_says_demo(client):
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in html
    assert "職員ID" in html and "パスワード" in html
    assert "デモモード" in html


def test_login_success_and_failure_are_logged(client):
    # std 10.2 (j1370): 認証ログ — logins and failed logins
    staff = StaffFactory(staff_id="clerk01", roles=["counter_clerk"])
    response = client.post("/login/", {"username": "clerk01", "password": "wrong"})
    assert response.status_code == 200
    assert "正しくありません" in response.content.decode()
    response = client.post("/login/", {"username": "clerk01", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert staff.name in home.content.decode()
    assert "窓口担当" in home.content.decode()
    entries = list(
        OperationLogEntry.objects.filter(category=Category.AUTHENTICATION).order_by("seq")
    )
    assert [(e.outcome, e.operator) for e in entries] == [
        (Outcome.FAILED, None),
        (Outcome.SUCCESS, staff),
    ]
    assert entries[0].detail == {
        "staff_id": "clerk01",
        "reason": "bad_password",
        "factor": "password",
    }


def test_logout(client):
    StaffFactory(staff_id="clerk01")
    client.post("/login/", {"username": "clerk01", "password": PASSWORD})
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_security_headers(client):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_api_health_and_openapi(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/health" in schema["paths"]


def test_api_errors_are_problem_documents(client):
    response = client.get("/api/no-such-route")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
