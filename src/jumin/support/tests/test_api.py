"""The support-measure API (/api/support/): every route with its permission, the flow of a
measure, the errors as problem documents with stable codes, and the gate seen through the
register's API (std 1.1.16 j160, 3.4 j440, 20.5.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jumin.accounts.tests.factories import StaffFactory
from jumin.config.tests.test_api_routes import operations
from jumin.register.tests import factories as f
from jumin.support.models import SupportLift, SupportMeasure
from jumin.support.tests import factories as sf

pytestmark = pytest.mark.django_db

BASE = "/api/support"
PROBLEM = "application/problem+json"


def _client(*roles: str) -> Client:
    staff: Any = StaffFactory(roles=list(roles))
    client = Client()
    client.force_login(staff)
    client.staff = staff  # type: ignore[attr-defined]
    return client


def _problem(response, status: int, code: str) -> Any:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    return body


def _codes(body: dict) -> set[str]:
    return {x["code"] for x in body["findings"]}


@pytest.fixture
def officer() -> Client:
    return _client("support_measure_officer")


@pytest.fixture
def family():
    _, members = f.family()
    return members


def test_every_support_route_declares_a_permission():
    routes = {(m, p) for p, m, _ in operations() if p.startswith(BASE)}
    assert ("POST", f"{BASE}/measures") in routes
    assert ("POST", f"{BASE}/lifts") in routes
    assert len(routes) == 11


def test_the_flow_of_a_measure(officer, family, monkeypatch):
    # std 3.4 (j440): 仮支援措置 → 開始 (1 year − 1 day) → 延長 (from 1 month before) → 終了
    _, wife, son, _ = family
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2025, 4, 1))
    body = {
        "atena_no": wife.atena_no,
        "applied_on": "2025-03-30",
        "kind": "stalker",
        "covered": [{"atena_no": son.atena_no, "relationship": "子"}],
        "abusers": [
            {"name": "加害 次郎", "name_kana": "カガイ ジロウ", "birth_date": "1975-05-05"}
        ],
    }
    response = officer.post(f"{BASE}/measures", body, content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    mid = created["id"]
    assert (created["status"], created["state"]) == ("provisional", "provisional")
    assert {s["atena_no"] for s in created["subjects"]} == {wife.atena_no, son.atena_no}
    assert created["abusers"][0]["name_kana"] == "カガイ　ジロウ"
    response = officer.post(
        f"{BASE}/measures/{mid}/confirm",
        {"start_on": "2025-04-01"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["end_on"] == "2026-03-31"
    body = _problem(
        officer.post(f"{BASE}/measures/{mid}/extend", {}, content_type="application/json"),
        422,
        "validation_failed",
    )
    assert _codes(body) == {"support.extend_too_early"}
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 3, 10))
    listed = officer.get(f"{BASE}/measures").json()
    assert [(m["id"], m["state"], m["days_left"]) for m in listed] == [(mid, "ending", 21)]
    alerts = officer.get(f"{BASE}/alerts").json()
    assert [(a["code"], a["measure_id"]) for a in alerts] == [("support.ending", mid)]
    response = officer.post(f"{BASE}/measures/{mid}/extend", {}, content_type="application/json")
    assert response.json()["end_on"] == "2027-03-31"
    assert response.json()["status"] == "extended"
    pdf = officer.get(f"{BASE}/measures/{mid}/end-notice.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    response = officer.post(
        f"{BASE}/measures/{mid}/terminate", {"reason": "requested"}, content_type="application/json"
    )
    assert response.json()["status"] == "terminated"
    detail = officer.get(f"{BASE}/measures/{mid}").json()
    assert [e["action"] for e in detail["events"]] == [
        "register",
        "confirm",
        "extend",
        "notice",
        "terminate",
    ]


def test_schema_and_rule_errors(officer, family):
    _problem(
        officer.post(
            f"{BASE}/measures", {"atena_no": family[1].atena_no}, content_type="application/json"
        ),
        422,
        "schema_invalid",
    )
    body = _problem(
        officer.post(
            f"{BASE}/measures",
            {"atena_no": "000000", "applied_on": "2020-01-01", "kind": "dv"},
            content_type="application/json",
        ),
        422,
        "validation_failed",
    )
    assert _codes(body) == {"support.applicant_unknown"}
    _problem(officer.get(f"{BASE}/measures/999"), 422, "validation_failed")
    assert not SupportMeasure.objects.exists()


@pytest.mark.parametrize("role", ["counter_clerk", "reviewer", "supervisor", "auditor"])
def test_the_routes_need_the_support_permissions(role, family):
    measure = sf.provisional(family[1])
    client = _client(role)
    for method, url, data in (
        ("get", f"{BASE}/measures", None),
        ("get", f"{BASE}/measures/{measure.pk}", None),
        ("get", f"{BASE}/alerts", None),
        ("get", f"{BASE}/lifts", None),
        ("post", f"{BASE}/measures", {"atena_no": "1", "applied_on": "2020-01-01", "kind": "dv"}),
        ("post", f"{BASE}/measures/{measure.pk}/confirm", {}),
        ("post", f"{BASE}/measures/{measure.pk}/terminate", {"reason": "requested"}),
        (
            "post",
            f"{BASE}/lifts",
            {"atena_nos": [family[1].atena_no], "purpose": "x", "reason": "y"},
        ),
        ("get", f"{BASE}/measures/{measure.pk}/end-notice.pdf", None),
    ):
        call = getattr(client, method)
        response = (
            call(url, data, content_type="application/json") if data is not None else call(url)
        )
        _problem(response, 403, "permission_denied")
    assert SupportMeasure.objects.get(pk=measure.pk).status == "provisional"
    assert not SupportLift.objects.exists()


def test_the_register_api_refuses_a_protected_person(officer, family):
    # std 3.4 (j440) through the register's API: the clerk's inquiry is refused
    head, wife, _, _ = family
    sf.provisional(wife)
    clerk = _client("counter_clerk")
    body = _problem(clerk.get(f"/api/register/residents/{wife.atena_no}"), 422, "validation_failed")
    assert _codes(body) == {"support.protected"}
    assert wife.address not in str(body)
    assert clerk.get(f"/api/register/residents/{head.atena_no}").status_code == 200
    assert officer.get(f"/api/register/residents/{wife.atena_no}").status_code == 200


def test_a_lift_and_the_abuser_check(officer, family):
    wife = family[1]
    sf.provisional(wife)
    response = officer.post(
        f"{BASE}/lifts",
        {"atena_nos": [wife.atena_no], "purpose": "住民票の写しの交付", "reason": "本人請求"},
        content_type="application/json",
    )
    assert response.status_code == 201
    out = response.json()
    assert out["atena_nos"] == [wife.atena_no] and out["used_at"] is None
    assert [x["id"] for x in officer.get(f"{BASE}/lifts").json()] == [out["id"]]
    clerk = _client("counter_clerk")  # 証明書の交付 + 住民記録の照会
    check = {"name_kana": "かがい じろう", "birth_date": "1975-05-05"}
    response = clerk.post(f"{BASE}/abuser-check", check, content_type="application/json")
    assert response.json() == {"matches": True}
    check["birth_date"] = "1980-01-01"
    response = clerk.post(f"{BASE}/abuser-check", check, content_type="application/json")
    assert response.json() == {"matches": False}
    auditor = _client("auditor")
    _problem(
        auditor.post(f"{BASE}/abuser-check", check, content_type="application/json"),
        403,
        "permission_denied",
    )
