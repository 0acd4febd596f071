"""The J-LIS identity query screen (/cs/query/) and its link from the person screen
(std 7.1.1, j1090): purpose required, 住民票コード prefilled, matches shown, logged."""

from __future__ import annotations

import pytest

from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry
from jumin.jukinet.models import SentMessage
from jumin.jukinet.tests.conftest import cs_env, fake  # noqa: F401 - fixtures
from jumin.jukinet.tests.helpers import drain, move_in, person

pytestmark = pytest.mark.django_db

PURPOSE = "転入届の本人確認"


def _html(response) -> str:
    return response.content.decode()


def test_person_screen_links_to_the_query_with_the_code(client, fake):  # noqa: F811
    _, (resident,) = move_in(person())
    client.force_login(StaffFactory(roles=["supervisor"]))
    html = _html(client.get(f"/residents/{resident.atena_no}/"))
    assert f'href="/cs/query/?juminhyo_code={resident.juminhyo_code}"' in html
    assert "J-LIS照会" in html
    form = _html(client.get("/cs/query/", {"juminhyo_code": resident.juminhyo_code}))
    assert f'value="{resident.juminhyo_code}"' in form and "照会の目的（必須）" in form
    assert not fake.received  # opening the form sends nothing


def test_query_shows_the_match_and_is_logged(client, fake):  # noqa: F811
    # std 7.1.1 (j1090): query by 住民票コード, logged with the purpose
    _, (resident,) = move_in(person(family_name="照会", given_name="一郎"))
    drain()
    client.force_login(StaffFactory(roles=["supervisor"]))
    response = client.post(
        "/cs/query/", {"purpose": PURPOSE, "juminhyo_code": resident.juminhyo_code}
    )
    html = _html(response)
    assert response.status_code == 200
    assert "1 件該当" in html and "照会 一郎" in html and resident.juminhyo_code in html
    assert SentMessage.objects.get(kind="identity.query").purpose == PURPOSE
    entry = OperationLogEntry.objects.get(detail__kind="identity.query")
    assert entry.detail["purpose"] == PURPOSE


def test_empty_purpose_is_refused_on_the_screen(client, fake):  # noqa: F811
    _, (resident,) = move_in(person())
    client.force_login(StaffFactory(roles=["supervisor"]))
    response = client.post("/cs/query/", {"purpose": "", "juminhyo_code": resident.juminhyo_code})
    assert response.status_code == 422
    assert "照会の目的が入力されていません" in _html(response)
    assert not SentMessage.objects.filter(kind="identity.query").exists()


def test_clerk_without_permission_gets_403(client, fake):  # noqa: F811
    client.force_login(StaffFactory(roles=["counter_clerk"]))
    assert client.get("/cs/query/").status_code == 403
    response = client.post("/cs/query/", {"purpose": PURPOSE, "juminhyo_code": "12345678901"})
    assert response.status_code == 403
    assert not fake.received
    assert (
        # refused at the door (jumin.web.route_perms) before the service is reached
        OperationLogEntry.objects.filter(
            function="画面の表示（web:cs_query）",
            outcome="denied",
            detail__missing_permission="jukinet:identity:query",
        ).count()
        == 2
    )
