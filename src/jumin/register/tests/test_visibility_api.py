"""std 10.4 (j1390) on the API: 本籍・筆頭者, 住民票コード and 在留資格等 are ``null`` in every
response for staff without the permission (resident, as-of, history, household, change
detail and draft summaries), documented in the OpenAPI schema; the 個人番号 is never in a
record and is revealed only through its own operation with ``MY_NUMBER_READ``."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

import pytest

from jumin.accounts.models import Role
from jumin.accounts.permissions import Perm
from jumin.accounts.tests.factories import StaffFactory
from jumin.core.identifiers import generate_juminhyo_code
from jumin.register import crypto
from jumin.register.models import JuminhyoCodePool
from jumin.register.procedures import ex_officio as xo
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
BASE = "/api/register"
HONSEKI = f.HONSEKI
KOSEKI_HEAD = f.KOSEKI_HEAD
CARD = f.RESIDENCE_CARD_NO
READ = (Perm.RESIDENT_READ, Perm.RESIDENT_SEARCH, Perm.CHANGE_DRAFT)
_n = itertools.count(1)

ITEMS: dict[Perm, tuple[str, ...]] = {
    Perm.HONSEKI_READ: ("honseki", "koseki_head"),
    Perm.JUMINHYO_CODE_READ: ("juminhyo_code",),
    Perm.RESIDENCE_STATUS_READ: (
        "nationality",
        "foreign_category",
        "residence_status",
        "period_of_stay",
        "stay_expires_on",
        "residence_card_no",
    ),
}


@pytest.fixture(autouse=True)
def _environment(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "keys.json"
    settings.JUMIN = {**settings.JUMIN, "JUMINHYO_CODE_POOL_MINIMUM": 2}
    crypto.reset_keyring_cache()
    rng = random.Random(5)
    JuminhyoCodePool.objects.bulk_create(
        JuminhyoCodePool(code=c) for c in {generate_juminhyo_code(rng) for _ in range(40)}
    )
    yield
    crypto.reset_keyring_cache()


def api_client(client: Any, *perms: Perm) -> Any:
    role = Role.objects.create(
        code=f"api-test-{next(_n)}", name="試験", permissions=sorted(p.value for p in perms)
    )
    staff = StaffFactory()
    staff.roles.add(role)
    client.force_login(staff)
    return client


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content.decode()[:800]
    return response.json()


japanese = f.japanese_with_every_item
foreigner = f.foreigner_with_every_item


def records_of(client: Any, person: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every record of ``person`` the read operations return, named by where it came from."""
    out = [("resident", ok(client.get(f"{BASE}/residents/{person.atena_no}"))["record"])]
    as_of = (TODAY - dt.timedelta(days=1)).isoformat()
    out.append(
        ("as_of", ok(client.get(f"{BASE}/residents/{person.atena_no}?as_of={as_of}"))["record"])
    )
    out += [
        (f"history[{i}]", row)
        for i, row in enumerate(ok(client.get(f"{BASE}/residents/{person.atena_no}/history")))
    ]
    household = ok(client.get(f"{BASE}/households/{person.household_no}"))
    out += [
        (f"household[{i}]", m)
        for i, m in enumerate(household["members"])
        if m["atena_no"] == person.atena_no
    ]
    return out


@pytest.mark.parametrize("perm", list(ITEMS), ids=lambda p: p.value)
def test_items_are_null_without_the_permission_and_present_with_it(client, perm):
    # std 10.4 (j1390): per user, on every read operation of the API
    person = foreigner() if perm is Perm.RESIDENCE_STATUS_READ else japanese()
    with_it = records_of(api_client(client, *READ, perm), person)
    assert len(with_it) >= 4
    for where, record in with_it:
        for item in ITEMS[perm]:
            assert record[item] not in (None, ""), (where, item)
    client.logout()
    without = records_of(api_client(client, *READ), person)
    for where, record in without:
        for item in ITEMS[perm]:
            assert item in record and record[item] is None, (where, item)
        assert record["atena_no"] == person.atena_no  # the rest of the record is there
    raw = client.get(f"{BASE}/residents/{person.atena_no}").content.decode()
    for value in (HONSEKI, person.juminhyo_code, CARD, "技術・人文知識・国際業務"):
        if value and any(getattr(person, i) == value for i in ITEMS[perm]):
            assert value not in raw


def test_change_detail_and_draft_summary_hide_the_items_before_and_after(client):
    # std 10.4 (j1390) on the review of a draft (before/after) — 異動・審査の画面も含む
    person = japanese()
    data = xo.AmendmentInput.model_validate(
        {"atena_no": person.atena_no, "changes": {"honseki": "東京都千代田区千代田一番"}}
    )
    change = xo.submit_ex_officio_amendment(f.clerk(), data)
    reader = api_client(client, *READ, Perm.CHANGE_REVIEW)
    detail = ok(reader.get(f"{BASE}/changes/{change.pk}"))
    [p] = detail["persons"]
    assert p["before"]["honseki"] is None and p["after"]["honseki"] is None
    assert p["after"]["koseki_head"] is None
    drafts = ok(reader.get(f"{BASE}/drafts"))
    mine = next(d for d in drafts if d["id"] == change.pk)
    assert "東京都千代田区千代田一番" not in str(mine) and HONSEKI not in str(mine)
    client.logout()
    allowed = api_client(client, *READ, Perm.CHANGE_REVIEW, Perm.HONSEKI_READ)
    [p] = ok(allowed.get(f"{BASE}/changes/{change.pk}"))["persons"]
    assert p["before"]["honseki"] == HONSEKI
    assert p["after"]["honseki"] == "東京都千代田区千代田一番"


def test_the_openapi_schema_documents_the_nulls():
    # invariant 8 / DESIGN: the OpenAPI document says what the client gets
    from jumin.config.api import api

    schema = api.get_openapi_schema()
    record = schema["components"]["schemas"]["RecordOut"]["properties"]
    for items in ITEMS.values():
        for item in items:
            kinds = {k.get("type") for k in record[item]["anyOf"]}
            assert "null" in kinds, item
            assert "null" in record[item]["description"], item
    history = schema["components"]["schemas"]["HistoryOut"]["properties"]
    assert "null" in history["honseki"]["description"]


def test_my_number_only_through_its_own_operation_with_the_permission(client):
    # std 10.4 (j1390) 「個人番号」, invariant 6
    number = "123456789018"
    _, [person] = f.committed_move_in(f.person(my_number=number))
    without = api_client(client, *READ)
    body = without.get(f"{BASE}/residents/{person.atena_no}").content.decode()
    assert number not in body
    refused = without.post(
        f"{BASE}/residents/{person.atena_no}/my-number",
        {"reason": "本人確認"},
        content_type="application/json",
    )
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    client.logout()
    with_it = api_client(client, *READ, Perm.MY_NUMBER_READ)
    shown = with_it.post(
        f"{BASE}/residents/{person.atena_no}/my-number",
        {"reason": "本人確認"},
        content_type="application/json",
    )
    assert ok(shown)["my_number"] == number


@pytest.mark.parametrize(
    ("perm", "criterion"),
    [(Perm.JUMINHYO_CODE_READ, "juminhyo_code"), (Perm.RESIDENCE_STATUS_READ, "residence_card_no")],
)
def test_search_by_a_restricted_item_needs_its_permission(client, perm, criterion):
    # std 10.4 (j1390): a criterion (or "this item is empty") tells about the item
    person = foreigner()
    value = getattr(person, criterion)
    without = api_client(client, *READ)
    for params in ({criterion: value}, {"name": "SMITH", "empty_fields": [criterion]}):
        refused = without.get(f"{BASE}/search", params)
        assert refused.status_code == 403, params
        assert refused.json()["code"] == "permission_denied"
        assert person.atena_no not in refused.content.decode()
    client.logout()
    found = ok(api_client(client, *READ, perm).get(f"{BASE}/search", {criterion: value}))
    assert [r["atena_no"] for r in found["rows"]] == [person.atena_no]
