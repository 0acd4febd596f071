"""J-LIS identity query (本人確認情報の照会) with a purpose: the service and its API route,
against the fake national side and once against the real netsim.

std 7.1.1 (j1090): 住基ネットへの照会; DESIGN invariant 1 (every operation logged).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from jumin.accounts.actor import Actor
from jumin.accounts.models import Role
from jumin.accounts.permissions import Perm
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry
from jumin.core.findings import FindingsError
from jumin.jukinet import queries
from jumin.jukinet.client import MASK
from jumin.jukinet.models import SentMessage
from jumin.jukinet.tests import helpers as h
from jumin.jukinet.tests.realnet import RealNetsim
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

PURPOSE = "転入届の本人確認"


def _cs_reader() -> Actor:
    """A member of staff who may query the CS but not see 個人番号."""
    role, _ = Role.objects.get_or_create(
        code="cs_reader",
        defaults={"name": "CS照会", "permissions": [Perm.JUKINET_IDENTITY_QUERY.value]},
    )
    staff = StaffFactory()
    staff.roles.add(role)
    return Actor.of(staff, None, "web")


def _delivered() -> tuple[str, str, str]:
    """A committed resident whose identity reached the national side: (atena, code, number)."""
    data = h.person()
    _, (resident,) = h.move_in(data)
    h.drain()
    return resident.atena_no, resident.juminhyo_code, data["my_number"]


def test_found_by_juminhyo_code_and_logged_with_the_purpose(fake):
    # std 7.1.1 (j1090): 本人確認情報の照会, logged with its purpose
    atena, code, number = _delivered()
    result = queries.query_identity(f.supervisor(), purpose=PURPOSE, juminhyo_code=code)
    assert result.answered
    assert [m["juminhyo_code"] for m in result.matches] == [code]
    assert result.matches[0]["my_number"] == number and result.my_number_shown
    sent = SentMessage.objects.get(kind="identity.query")
    assert sent.purpose == PURPOSE and sent.atena_no == atena and sent.outcome == "delivered"
    assert sent.request_body["juminhyo_code"] == code
    assert number not in json.dumps(sent.reply_body)  # 個人番号 never stored in clear
    entry = OperationLogEntry.objects.get(
        category=Category.COMMUNICATION, detail__kind="identity.query"
    )
    assert entry.detail["purpose"] == PURPOSE and atena in entry.targets
    assert number not in json.dumps(entry.detail)
    reveal = OperationLogEntry.objects.get(function=queries.REVEAL_FUNCTION)
    assert reveal.my_number_accessed and reveal.targets == [code]
    assert fake.received[-1].body["purpose"] == PURPOSE  # the national side gets it too


def test_my_number_masked_without_the_permission(fake):
    _, code, _number = _delivered()
    result = queries.query_identity(_cs_reader(), purpose=PURPOSE, juminhyo_code=code)
    assert result.matches[0]["my_number"] == MASK and not result.my_number_shown
    assert not OperationLogEntry.objects.filter(function=queries.REVEAL_FUNCTION).exists()


def test_query_by_my_number_is_logged_masked(fake):
    _, _code, number = _delivered()
    queries.query_identity(f.supervisor(), purpose=PURPOSE, my_number=number)
    sent = SentMessage.objects.get(kind="identity.query")
    assert sent.request_body["my_number"] == MASK
    assert fake.received[-1].body["my_number"] == number


def test_empty_purpose_is_refused_and_nothing_sent(fake):
    _, code, _ = _delivered()
    before = len(fake.received)
    with pytest.raises(FindingsError) as caught:
        queries.query_identity(f.supervisor(), purpose="  ", juminhyo_code=code)
    assert [x.field for x in caught.value.findings] == ["purpose"]
    assert len(fake.received) == before
    assert not SentMessage.objects.filter(kind="identity.query").exists()


def test_bad_or_missing_criteria_are_refused(fake):
    with pytest.raises(FindingsError) as caught:
        queries.query_identity(f.supervisor(), purpose=PURPOSE)
    assert caught.value.findings.as_list()[0]["code"] == "query.criteria_required"
    with pytest.raises(FindingsError) as caught:
        queries.query_identity(f.supervisor(), purpose=PURPOSE, juminhyo_code="12345")
    assert caught.value.findings.as_list()[0]["field"] == "juminhyo_code"
    assert not fake.received


def test_clerk_without_permission_is_refused_and_logged(fake):
    with pytest.raises(PermissionDenied):
        queries.query_identity(
            f.clerk(), purpose=PURPOSE, juminhyo_code=h.person()["juminhyo_code"]
        )
    assert OperationLogEntry.objects.filter(
        function=queries.QUERY_FUNCTION, outcome="denied"
    ).exists()
    assert not fake.received


def test_national_side_down_is_reported_not_raised(fake):
    fake.faults.append("503")
    result = queries.query_identity(
        f.supervisor(), purpose=PURPOSE, juminhyo_code=h.person()["juminhyo_code"]
    )
    assert result.outcome == "retry" and not result.matches and result.error_message
    assert SentMessage.objects.get(kind="identity.query").outcome == "retry"


# --- the API route ------------------------------------------------------------------------


def _api(client, body):
    return client.post("/api/cs/identity-query", json.dumps(body), content_type="application/json")


def test_api_query_found_and_refusals(client, fake):
    # std 7.1.1 (j1090): the query from the API, logged with its purpose
    _, code, number = _delivered()
    client.force_login(StaffFactory(roles=["supervisor"]))
    response = _api(client, {"purpose": PURPOSE, "juminhyo_code": code})
    assert response.status_code == 200, response.content
    data = response.json()
    assert [m["juminhyo_code"] for m in data["matches"]] == [code]
    assert data["matches"][0]["my_number"] == number
    assert SentMessage.objects.get(kind="identity.query").purpose == PURPOSE
    empty = _api(client, {"purpose": "", "juminhyo_code": code})
    assert empty.status_code == 422 and empty.json()["code"] == "validation_failed"
    assert empty.json()["findings"][0]["field"] == "purpose"
    fake.faults.append("503")
    down = _api(client, {"purpose": PURPOSE, "juminhyo_code": code})
    assert down.status_code == 503 and down.json()["code"] == "national_unreachable"


def test_api_clerk_without_permission_gets_403(client, fake):
    client.force_login(StaffFactory(roles=["counter_clerk"]))
    response = _api(client, {"purpose": PURPOSE, "juminhyo_code": h.person()["juminhyo_code"]})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not fake.received


# --- the real netsim ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def netsim(tmp_path_factory) -> Iterator[RealNetsim]:
    net = RealNetsim(tmp_path_factory.mktemp("netsim-query"))
    yield net
    net.stop()


def test_real_netsim_finds_a_delivered_resident(netsim, cs_env, monkeypatch, tmp_path):
    # std 7.1.1 (j1090): a committed resident, delivered, is found at J-LIS by 住民票コード
    monkeypatch.setenv("JUMIN_CS_KEY_FILE", str(tmp_path / "cs-key.json"))
    monkeypatch.setenv("JUMIN_NETSIM_URL", netsim.url)
    call_command("cs", "register", "--name", "相模原市", stdout=io.StringIO())
    atena, code, _ = _delivered()
    result = queries.query_identity(f.supervisor(), purpose=PURPOSE, juminhyo_code=code)
    assert result.answered, result.error_message
    assert [(m["juminhyo_code"], m["municipality_code"]) for m in result.matches] == [
        (code, "141500")
    ]
    rows = netsim.query(
        "SELECT COUNT(*) FROM netsim_messagelog WHERE kind = 'identity.query' AND direction = 'in'"
    )
    assert rows[0][0] >= 1
    assert SentMessage.objects.get(kind="identity.query", atena_no=atena).purpose == PURPOSE
