"""The register's HTTP API: every route with a good call and its main errors, and the whole
flow a counter makes — draft, acknowledge, review, read, search, 個人番号 on request.

Errors are problem documents with a stable code (DESIGN invariant 8).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from jumin.accounts.tests.factories import StaffFactory, TerminalFactory
from jumin.audit.models import OperationLogEntry
from jumin.config.api import api
from jumin.register.models import Change, EditLock, Resident
from jumin.register.procedures import registry
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

BASE = "/api/register"
PROBLEM = "application/problem+json"
MY_NUMBER = "123456789018"


def _client(*roles: str, terminal: bool = False) -> Client:
    staff: Any = StaffFactory(roles=list(roles))
    client = Client()
    client.force_login(staff)
    client.staff = staff  # type: ignore[attr-defined]
    if terminal:
        session = client.session
        session["terminal_id"] = TerminalFactory(org_unit=staff.org_unit).name
        session.save()
    return client


@pytest.fixture
def clerk() -> Client:
    return _client("counter_clerk", terminal=True)


@pytest.fixture
def reviewer() -> Client:
    return _client("reviewer")


@pytest.fixture
def supervisor() -> Client:
    return _client("supervisor")


def _problem(response, status: int, code: str) -> Any:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"urn:jumin:problem:{code}"
    assert body["title"]
    return body


def _codes(body: dict) -> set[str]:
    return {x["code"] for x in body["findings"]}


def _post(client: Client, path: str, body: object = None, **extra):
    if body is None:  # no body at all, as fetch() sends it
        return client.post(BASE + path, "", content_type="application/json", **extra)
    return client.post(BASE + path, body, content_type="application/json", **extra)


def _move_in_data(*people: dict, **overrides) -> dict:
    return f.move_in_input(*people, **overrides).model_dump(mode="json")


def _draft(client: Client, data: dict, acknowledged=(), **extra):
    return _post(
        client,
        "/procedures/move_in/drafts",
        {"data": data, "acknowledged": list(acknowledged)},
        **extra,
    )


def _committed(clerk: Client, reviewer: Client, *people: dict, **overrides) -> Any:
    response = _draft(clerk, _move_in_data(*people, **overrides), ["duplicate.person"])
    assert response.status_code == 201, response.content.decode()
    change = response.json()
    response = _post(reviewer, f"/changes/{change['id']}/commit")
    assert response.status_code == 200, response.content.decode()
    return response.json()


def _denials(perm: str) -> int:
    return OperationLogEntry.objects.filter(
        outcome="denied", detail__missing_permission=perm
    ).count()


# --- authentication, CSRF, permissions --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/procedures"),
        ("post", "/procedures/move_in/drafts"),
        ("get", "/drafts"),
        ("get", "/changes/1"),
        ("post", "/changes/1/commit"),
        ("post", "/changes/bulk-commit"),
        ("get", "/residents/0000000000"),
        ("get", "/residents/0000000000/history"),
        ("get", "/households/0000000000"),
        ("post", "/residents/0000000000/my-number"),
        ("get", "/search?name_kana=サガミ"),
        ("get", "/search/history"),
        ("post", "/residents/0000000000/lock"),
        ("delete", "/residents/0000000000/lock"),
    ],
)
def test_unauthenticated_requests_get_401_problem(client, method, path):
    response = getattr(client, method)(BASE + path)
    _problem(response, 401, "unauthenticated")


def test_post_without_csrf_token_is_refused_with_a_problem():
    # ninja's session auth checks CSRF for unsafe methods; the test client skips it unless asked
    staff = StaffFactory(roles=["counter_clerk"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = _draft(client, _move_in_data())
    _problem(response, 403, "csrf_failed")
    assert not Change.objects.exists()
    token = "a1" * 16  # a CSRF secret: the cookie and the header must agree
    client.cookies["csrftoken"] = token
    response = _draft(client, _move_in_data(), HTTP_X_CSRFTOKEN="b2" * 16)
    _problem(response, 403, "csrf_failed")
    response = _draft(client, _move_in_data(), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    # safe methods need no token
    assert client.get(BASE + "/procedures").status_code == 200


def test_missing_permission_is_403_problem_and_logged(clerk, reviewer):
    # std 10.2 (j1370): refusals are in the operation log
    before = _denials("register:change:review")
    response = _post(clerk, "/changes/1/commit")
    body = _problem(response, 403, "permission_denied")
    assert "異動の審査・本登録" in body["title"]
    assert _denials("register:change:review") == before + 1
    entry = OperationLogEntry.objects.filter(outcome="denied").order_by("-seq").first()
    assert entry.operator_code == clerk.staff.staff_id
    assert entry.function == "本登録（審査・決裁）"
    # the reviewer may not enter drafts
    response = _draft(reviewer, _move_in_data())
    _problem(response, 403, "permission_denied")
    assert _denials("register:change:draft") >= 1


def test_drafts_are_hidden_from_staff_who_neither_enter_nor_review():
    # std 4.0.8 (j530): 他課から仮登録中のデータの参照ができないようにする
    contractor = _client("certificate_contractor")
    _problem(contractor.get(BASE + "/drafts"), 403, "permission_denied")
    _problem(contractor.get(BASE + "/changes/1"), 403, "permission_denied")
    assert _denials("register:change:draft") >= 2


def test_actor_carries_the_session_terminal(clerk):
    # std 1.3.1 (j230): the terminal an operation was entered on is recorded
    response = _draft(clerk, _move_in_data())
    assert response.status_code == 201
    change = Change.objects.get(pk=response.json()["id"])
    assert change.terminal is not None
    assert response.json()["terminal"] == change.terminal.name
    entry = OperationLogEntry.objects.filter(function__startswith="異動の仮登録").last()
    assert entry.terminal_name == change.terminal.name


# --- procedures and drafts --------------------------------------------------------------


def test_procedures_lists_every_registered_procedure_with_its_input_schema(clerk):
    response = clerk.get(BASE + "/procedures")
    assert response.status_code == 200
    listed = {p["name"]: p for p in response.json()}
    assert set(listed) == set(registry.all_specs())
    move_in = listed["move_in"]
    assert move_in["label"] == "転入"
    assert move_in["group"] == "4.1.1"
    assert "persons" in move_in["input_schema"]["properties"]
    assert move_in["draft_url"] == "/api/register/procedures/move_in/drafts"


def test_move_in_draft_alert_must_be_acknowledged(clerk):
    # std 11.1 (j1440): an alert blocks until acknowledged, and the acknowledgement is recorded
    today = dt.date.today()
    data = _move_in_data(
        occurred_on=today - dt.timedelta(days=20),
        certificate={"municipality_code": "131016", "planned_on": today - dt.timedelta(days=20)},
    )
    body = _problem(_draft(clerk, data), 422, "validation_failed")
    late = next(x for x in body["findings"] if x["code"] == "notification.late")
    assert late["severity"] == "alert"
    assert late["field"] == "notified_on"
    assert late["message"] and late["remedy"]
    assert not Change.objects.exists()
    response = _draft(clerk, data, ["notification.late"])
    assert response.status_code == 201
    change = response.json()
    assert change["status"] == "draft"
    assert change["status_label"] == "仮登録"
    assert change["acknowledged"] == ["notification.late"]
    assert change["procedure_label"] == "転入"
    assert change["created_by"]["staff_id"] == clerk.staff.staff_id
    assert change["persons"][0]["base_history_no"] is None


def test_draft_with_errors_is_422_with_finding_codes(clerk):
    data = _move_in_data(address={"address_code": "14152999999", "banchi": "1番"})
    body = _problem(_draft(clerk, data), 422, "validation_failed")
    assert "address_code.unknown" in _codes(body)
    finding = next(x for x in body["findings"] if x["code"] == "address_code.unknown")
    assert finding["severity"] == "error"
    assert finding["field"] == "address.address_code"
    assert not Change.objects.exists()


def test_draft_body_that_breaks_the_schema_is_422_schema_problem(clerk):
    data = _move_in_data()
    del data["persons"]
    data["unexpected"] = 1
    data["address"]["address_code"] = "123"
    body = _problem(_draft(clerk, data), 422, "schema_invalid")
    by_field = {e["field"]: e for e in body["errors"]}
    assert by_field["data.persons"]["code"] == "missing"
    assert by_field["data.persons"]["message"] == "必須項目です。入力してください。"
    assert by_field["data.unexpected"]["code"] == "extra_forbidden"
    assert by_field["data.address.address_code"]["message"] == "11文字以上で入力してください。"
    # the envelope itself is checked too
    response = _post(clerk, "/procedures/move_in/drafts", {"acknowledged": "x"})
    body = _problem(response, 422, "schema_invalid")
    assert {e["field"] for e in body["errors"]} >= {"data", "acknowledged"}
    # and a body that is not JSON
    response = clerk.post(
        BASE + "/procedures/move_in/drafts", "{not json", content_type="application/json"
    )
    _problem(response, 400, "bad_request")
    assert not Change.objects.exists()


def test_idempotency_key_returns_the_same_draft(clerk):
    data = _move_in_data()
    first = _draft(clerk, data, HTTP_IDEMPOTENCY_KEY="form-7f3a")
    second = _draft(clerk, data, HTTP_IDEMPOTENCY_KEY="form-7f3a")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Change.objects.count() == 1
    too_long = _draft(clerk, data, HTTP_IDEMPOTENCY_KEY="k" * 65)
    body = _problem(too_long, 422, "schema_invalid")
    assert body["errors"][0]["field"] == "Idempotency-Key"


def test_every_procedure_has_its_own_typed_draft_operation():
    schema = api.get_openapi_schema()
    for spec in registry.all_specs().values():
        operation = schema["paths"][f"{BASE}/procedures/{spec.name}/drafts"]["post"]
        assert operation["operationId"] == f"register_draft_{spec.name}"
        assert operation["x-jumin-permissions"] == ["register:change:draft"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(body["properties"]) == {"data", "acknowledged"}
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}


def test_drafts_list_and_change_detail(clerk, reviewer):
    # std 4.0.8 (j530): the 仮登録一覧 lists drafts for review
    _, (resident,) = f.committed_move_in(f.person())
    response = _post(
        clerk,
        "/procedures/move_within/drafts",
        {
            "data": {
                "occurred_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
                "notified_on": dt.date.today().isoformat(),
                "address": {"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1番1号"},
                "persons": [{"atena_no": resident.atena_no}],
            },
            "acknowledged": [],
        },
    )
    assert response.status_code == 201, response.content.decode()
    draft_id = response.json()["id"]
    listed = reviewer.get(BASE + "/drafts")
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == [draft_id]
    assert listed.json()[0]["persons"][0]["name"] == resident.name

    detail = reviewer.get(f"{BASE}/changes/{draft_id}")
    assert detail.status_code == 200
    person = detail.json()["persons"][0]
    assert person["atena_no"] == resident.atena_no
    assert person["base_history_no"] == 1
    assert person["before"]["address"] == resident.address
    assert person["before"]["address_code"] == f.ADDRESS_CODE
    assert person["after"]["address_code"] == f.OTHER_ADDRESS_CODE
    assert person["after"]["name"] == resident.name
    assert "my_number" not in person["after"] and "my_number_id" not in person["after"]
    # the reviewer saw a person: logged (invariant 5)
    entry = OperationLogEntry.objects.filter(function="異動の照会").last()
    assert entry.targets == [resident.atena_no]
    assert entry.operator_code == reviewer.staff.staff_id
    _problem(reviewer.get(f"{BASE}/changes/999999"), 404, "not_found")


def test_commit_reject_withdraw(clerk, reviewer):
    # std 4.0.8 (j530): draft → review → commit by another member of staff
    first = _draft(clerk, _move_in_data()).json()
    second = _draft(clerk, _move_in_data()).json()
    third = _draft(clerk, _move_in_data()).json()

    stale = _post(reviewer, f"/changes/{first['id']}/commit", {"version": first["version"] + 5})
    assert _codes(_problem(stale, 422, "validation_failed")) == {"change.stale"}
    bad = _post(reviewer, f"/changes/{first['id']}/commit", {"version": "one"})
    _problem(bad, 422, "schema_invalid")
    committed = _post(reviewer, f"/changes/{first['id']}/commit", {"version": first["version"]})
    assert committed.status_code == 200
    assert committed.json()["status"] == "committed"
    assert committed.json()["reviewed_by"]["staff_id"] == reviewer.staff.staff_id
    again = _post(reviewer, f"/changes/{first['id']}/commit")
    assert _codes(_problem(again, 422, "validation_failed")) == {"change.not_draft"}
    unknown = _post(reviewer, "/changes/999999/commit")
    assert _codes(_problem(unknown, 422, "validation_failed")) == {"change.unknown"}

    empty = _post(reviewer, f"/changes/{second['id']}/reject", {"reason": "   "})
    assert _codes(_problem(empty, 422, "validation_failed")) == {"review.reason_empty"}
    _problem(_post(reviewer, f"/changes/{second['id']}/reject", {}), 422, "schema_invalid")
    rejected = _post(
        reviewer, f"/changes/{second['id']}/reject", {"reason": "住所の番地が違います"}
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "住所の番地が違います"

    other_clerk = _client("counter_clerk")
    not_author = _post(other_clerk, f"/changes/{third['id']}/withdraw")
    assert _codes(_problem(not_author, 422, "validation_failed")) == {"change.not_author"}
    withdrawn = _post(clerk, f"/changes/{third['id']}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert reviewer.get(BASE + "/drafts").json() == []


def test_the_author_cannot_commit_through_the_api():
    # std 4.0.8 (j530): a different member of staff commits
    both = _client("counter_clerk", "reviewer")
    change = _draft(both, _move_in_data()).json()
    response = _post(both, f"/changes/{change['id']}/commit")
    assert _codes(_problem(response, 422, "validation_failed")) == {"review.same_person"}
    assert not Resident.objects.exists()


def test_bulk_commit(clerk, reviewer, supervisor):
    # std 4.0.8 (j530): 全部本登録, each change on its own, within a cap
    ok = _draft(clerk, _move_in_data()).json()
    done = _draft(clerk, _move_in_data()).json()
    _post(reviewer, f"/changes/{done['id']}/commit")
    response = _post(supervisor, "/changes/bulk-commit", {"change_ids": [ok["id"], done["id"]]})
    assert response.status_code == 200
    body = response.json()
    assert body["committed"] == [ok["id"]]
    assert body["failed"][0]["change_id"] == done["id"]
    assert body["failed"][0]["findings"][0]["code"] == "change.not_draft"
    _problem(_post(supervisor, "/changes/bulk-commit", {"change_ids": []}), 422, "schema_invalid")
    too_many = _post(supervisor, "/changes/bulk-commit", {"change_ids": list(range(1, 102))})
    assert _codes(_problem(too_many, 422, "validation_failed")) == {"review.bulk_cap"}
    # a reviewer without the bulk permission is refused
    _problem(
        _post(reviewer, "/changes/bulk-commit", {"change_ids": [ok["id"]]}),
        403,
        "permission_denied",
    )


# --- reads ------------------------------------------------------------------------------


def test_full_flow_from_counter_to_search(clerk, reviewer, supervisor):
    # std 4.0.8 (j530), 1.2.1 (j200), 2.2.1 (j350), 2.1.3 (j340); invariants 5 and 6
    today = dt.date.today()
    head = f.person(
        family_name="橋本", given_name="一", name_kana="ハシモト ハジメ", my_number=MY_NUMBER
    )
    wife = f.person(
        family_name="橋本",
        given_name="花",
        name_kana="ハシモト ハナ",
        sex="2",
        relationship="妻",
        birth_date="1985-05-05",
    )
    data = _move_in_data(head, wife)
    # the clerk enters it; nothing is visible before the review
    draft = _draft(clerk, data, ["duplicate.person"])
    assert draft.status_code == 201, draft.content.decode()
    change = draft.json()
    atena = change["persons"][0]["atena_no"]
    household_no = change["summary"]["household_no"]
    missing = reviewer.get(f"{BASE}/residents/{atena}")
    assert _codes(_problem(missing, 422, "validation_failed")) == {"resident.unknown"}
    # the reviewer commits
    committed = _post(reviewer, f"/changes/{change['id']}/commit")
    assert committed.json()["status"] == "committed"

    # the resident record: never the 個人番号
    response = clerk.get(f"{BASE}/residents/{atena}")
    assert response.status_code == 200
    body = response.json()
    assert body["history_no"] == 1
    assert body["is_removed"] is False
    record = body["record"]
    assert record["name"] == "橋本　一"
    assert record["name_kana"] == "ハシモト ハジメ"
    assert record["household_no"] == household_no
    assert record["relationship"] == "世帯主"
    assert record["sex_label"] == "男"
    assert record["status_label"] == "住民"
    assert record["my_number_recorded"] is True
    assert MY_NUMBER not in response.content.decode()
    assert not {"my_number", "my_number_id", "kana_key", "name_key"} & set(record)

    # as of a date: before the move-in there is no record; on the day there is
    occurred = dt.date.fromisoformat(data["occurred_on"])
    early = clerk.get(f"{BASE}/residents/{atena}?as_of={occurred - dt.timedelta(days=1)}")
    assert _codes(_problem(early, 422, "validation_failed")) == {"resident.not_yet_recorded"}
    on_day = clerk.get(f"{BASE}/residents/{atena}?as_of={occurred}")
    assert on_day.status_code == 200
    assert on_day.json()["as_of"] == occurred.isoformat()
    assert on_day.json()["history_no"] == 1
    _problem(clerk.get(f"{BASE}/residents/{atena}?as_of=yesterday"), 422, "schema_invalid")

    # the household, head first
    response = clerk.get(f"{BASE}/households/{household_no}")
    assert response.status_code == 200
    assert [m["relationship"] for m in response.json()["members"]] == ["世帯主", "妻"]
    assert MY_NUMBER not in response.content.decode()
    past = clerk.get(f"{BASE}/households/{household_no}?as_of={occurred - dt.timedelta(days=1)}")
    assert _codes(_problem(past, 422, "validation_failed")) == {"household.unknown"}

    # the history
    response = clerk.get(f"{BASE}/residents/{atena}/history")
    assert response.status_code == 200
    (row,) = response.json()
    assert row["history_no"] == 1
    assert row["change_reason"] == "domestic_move_in"
    assert row["change_reason_label"]
    assert row["change_id"] == change["id"]
    assert row["operator"]["staff_id"] == clerk.staff.staff_id
    assert row["reviewer"]["staff_id"] == reviewer.staff.staff_id
    assert row["terminal"]
    assert row["occurred_on"] == occurred.isoformat()
    assert MY_NUMBER not in response.content.decode()
    unknown = clerk.get(f"{BASE}/residents/0000000000/history")
    assert _codes(_problem(unknown, 422, "validation_failed")) == {"resident.unknown"}

    # every one of those reads was logged with the person (invariant 5)
    reads = list(
        OperationLogEntry.objects.filter(operator_code=clerk.staff.staff_id, category="inquiry")
    )
    assert len([e for e in reads if e.function == "住民照会" and atena in e.targets]) >= 2
    assert any(e.function == "世帯照会" and atena in e.targets for e in reads)
    assert any(e.function == "異動履歴照会" and e.targets == [atena] for e in reads)
    assert not any(e.my_number_accessed for e in reads)

    # search finds them, by reading and by birth date in 和暦
    response = clerk.get(BASE + "/search", {"name_kana": "ハシモト"})
    assert response.status_code == 200
    found = response.json()
    assert found["total"] == 2
    assert found["truncated"] is False
    assert {r["atena_no"] for r in found["rows"]} >= {atena}
    response = clerk.get(BASE + "/search", {"name_kana": "ﾊｼﾓﾄ ﾊｼﾞﾒ", "birth_date": "S55.4.1"})
    assert [r["atena_no"] for r in response.json()["rows"]] == [atena]
    history = clerk.get(BASE + "/search/history")
    assert history.status_code == 200
    assert history.json()[0]["criteria"]["name_kana"] == "ﾊｼﾓﾄ ﾊｼﾞﾒ"

    # the 個人番号: only with the permission, only with a reason, logged (invariant 6)
    _problem(
        _post(clerk, f"/residents/{atena}/my-number", {"reason": "本人確認"}),
        403,
        "permission_denied",
    )
    _problem(_post(supervisor, f"/residents/{atena}/my-number", {}), 422, "schema_invalid")
    no_reason = _post(supervisor, f"/residents/{atena}/my-number", {"reason": " "})
    assert _codes(_problem(no_reason, 422, "validation_failed")) == {"my_number.reason_required"}
    shown = _post(
        supervisor, f"/residents/{atena}/my-number", {"reason": "個人番号カード交付の本人確認"}
    )
    assert shown.status_code == 200
    assert shown.json() == {"atena_no": atena, "my_number": MY_NUMBER}
    entry = OperationLogEntry.objects.get(my_number_accessed=True)
    assert entry.targets == [atena]
    assert entry.operator_code == supervisor.staff.staff_id
    assert MY_NUMBER not in str(entry.detail)
    wife_atena = change["persons"][1]["atena_no"]
    not_recorded = _post(supervisor, f"/residents/{wife_atena}/my-number", {"reason": "確認"})
    assert _codes(_problem(not_recorded, 422, "validation_failed")) == {"my_number.not_recorded"}
    del today


def test_search_errors(clerk):
    # std 2.1.3 (j340): at least one criterion; bad values are field errors
    body = _problem(clerk.get(BASE + "/search", {"ward": "中央区"}), 422, "validation_failed")
    assert _codes(body) == {"search.no_criteria"}
    body = _problem(
        clerk.get(BASE + "/search", {"birth_date": "昭和99年"}), 422, "validation_failed"
    )
    assert body["findings"][0]["field"] == "birth_date"
    body = _problem(
        clerk.get(BASE + "/search", {"name": "相模", "limit": 0}), 422, "schema_invalid"
    )
    assert body["errors"][0]["field"] == "limit"
    body = _problem(clerk.get(BASE + "/search", {"sex": "3"}), 422, "schema_invalid")
    assert body["errors"][0]["field"] == "sex"
    response = clerk.get(
        BASE + "/search", {"name": "相模", "empty_fields": ["katagaki", "juminhyo_code"]}
    )
    assert response.status_code == 200
    _problem(clerk.get(BASE + "/search/history", {"limit": 99}), 422, "schema_invalid")
    # a member of staff without the search permission
    auditor = _client("auditor")
    _problem(auditor.get(BASE + "/search", {"name": "相模"}), 403, "permission_denied")
    _problem(auditor.get(BASE + "/residents/0000000000"), 403, "permission_denied")


# --- edit locks (std 10.3) ----------------------------------------------------------------


def test_edit_lock_acquire_refuse_release(clerk):
    # std 10.3 (j1380): while one clerk edits a person, others may only read
    _, (resident,) = f.committed_move_in(f.person())
    path = f"/residents/{resident.atena_no}/lock"
    response = _post(clerk, path)
    assert response.status_code == 200
    assert response.json()["holder"]["staff_id"] == clerk.staff.staff_id
    other = _client("counter_clerk")
    body = _problem(_post(other, path), 422, "validation_failed")
    assert _codes(body) == {"lock.held"}
    assert clerk.staff.staff_id in body["findings"][0]["message"]
    # the other clerk's release does not remove someone else's lock
    assert other.delete(BASE + path).status_code == 204
    assert EditLock.objects.filter(atena_no=resident.atena_no).exists()
    assert clerk.delete(BASE + path).status_code == 204
    assert not EditLock.objects.filter(atena_no=resident.atena_no).exists()
    assert _post(other, path).status_code == 200
    _problem(_client("reviewer").delete(BASE + path), 403, "permission_denied")


def test_an_unexpected_failure_is_a_500_problem(clerk, monkeypatch):
    # invariant 8: even an unforeseen error answers with a problem document, no traceback
    from jumin.register import services

    def broken(actor, atena_no):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "release_lock", broken)
    response = clerk.delete(f"{BASE}/residents/0000000019/lock")
    body = _problem(response, 500, "internal_error")
    assert "disk on fire" not in response.content.decode()
    assert "管理者" in body["title"]


# --- the OpenAPI document ------------------------------------------------------------------


def test_openapi_document_lists_every_route(client):
    from jumin.config.tests.test_api_routes import operations

    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    documented = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    routes = {(method, path) for path, method, _ in operations()}
    assert routes == documented
    assert ("POST", f"{BASE}/procedures/move_in/drafts") in documented
    assert ("GET", f"{BASE}/search") in documented
    assert ("DELETE", f"{BASE}/residents/{{atena_no}}/lock") in documented
    for path, ops in paths.items():
        for method, operation in ops.items():
            if path in {"/api/health", "/api/certificates/verify/{issue_id}"}:  # public
                continue
            assert operation["x-jumin-permissions"], (method, path)
            assert PROBLEM in operation["responses"]["403"]["content"], (method, path)
