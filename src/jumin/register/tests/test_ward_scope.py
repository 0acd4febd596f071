"""Ward scope (issue 5 item 3; std 10.3 j1380 利用範囲): a member of staff limited to a ward
(``Staff.ward_scope``) finds and reads only residents whose address is in that ward — in the
search (a forced filter, not a default), the person, history and household reads, the 個人番号
and the API; other reads are refused in Japanese and the refusal is logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.findings import FindingsError
from jumin.register import reads, search
from jumin.register.search import SearchCriteria
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

MIDORI = "緑区"  # f.OTHER_ADDRESS_CODE lies in it; f.ADDRESS_CODE in 中央区


@pytest.fixture
def city():
    """Two 相模 households: one in 緑区, one in 中央区."""
    _, [green] = f.committed_move_in(
        f.person(family_name="相模", given_name="緑"),
        address={"address_code": f.OTHER_ADDRESS_CODE, "banchi": "1丁目2番3号"},
    )
    _, [central] = f.committed_move_in(f.person(family_name="相模", given_name="中央"))
    assert green.address_code.startswith(search.WARDS[MIDORI])
    assert not central.address_code.startswith(search.WARDS[MIDORI])
    return green, central


def scoped(ward: str = MIDORI, role: str = "counter_clerk") -> Actor:
    return Actor.of(StaffFactory(roles=[role], ward_scope=ward), None, "web")


def denials() -> list[OperationLogEntry]:
    return list(OperationLogEntry.objects.filter(outcome=Outcome.DENIED).order_by("seq"))


# --------------------------------------------------------------------------- search


def test_search_finds_only_the_wards_residents(city):
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    green, central = city
    everyone = search.search_residents(f.clerk(), SearchCriteria(name="相模"))
    assert {green.atena_no, central.atena_no} <= {r.atena_no for r in everyone.rows}
    found = search.search_residents(scoped(), SearchCriteria(name="相模"))
    assert [r.atena_no for r in found.rows] == [green.atena_no]
    assert found.total == 1
    # not even by an identifier of someone outside
    by_number = search.search_residents(scoped(), SearchCriteria(atena_no=central.atena_no))
    assert by_number.rows == [] and by_number.total == 0
    entry = OperationLogEntry.objects.filter(function=search.FUNCTION).order_by("-seq").first()
    assert entry is not None and entry.detail["ward_scope"] == MIDORI


def test_search_in_another_ward_is_refused_with_the_field(city):
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    with pytest.raises(FindingsError) as caught:
        search.search_residents(scoped(), SearchCriteria(name="相模", ward="中央区"))
    [finding] = list(caught.value.findings)
    assert finding.code == "search.outside_ward" and finding.field == "ward"
    assert MIDORI in finding.message


def test_the_ward_is_the_default_too():
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    assert search.default_ward(scoped()) == MIDORI


def test_an_unknown_ward_sees_nobody(city):
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    found = search.search_residents(scoped("北区"), SearchCriteria(name="相模"))
    assert found.rows == []


# --------------------------------------------------------------------------- reads


def test_reads_inside_the_ward(city):
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    green, _ = city
    actor = scoped()
    assert reads.get_resident(actor, green.atena_no).atena_no == green.atena_no
    assert reads.get_history(actor, green.atena_no)
    assert reads.get_household(actor, green.household_no).members


@pytest.mark.parametrize("read", ["resident", "history", "household", "my_number"])
def test_reads_outside_the_ward_are_refused_and_logged(city, read):
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    _, central = city
    actor = scoped(role="supervisor")
    calls = {
        "resident": lambda: reads.get_resident(actor, central.atena_no),
        "history": lambda: reads.get_history(actor, central.atena_no),
        "household": lambda: reads.get_household(actor, central.household_no),
        "my_number": lambda: reads.reveal_my_number(actor, central.atena_no, reason="確認"),
    }
    before = len(denials())
    with pytest.raises(PermissionDenied) as caught:
        calls[read]()
    assert "担当区（緑区）" in str(caught.value)
    entries = denials()
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.category == Category.EVENT
    assert entry.targets == [central.atena_no]
    assert entry.detail == {"ward_scope": MIDORI, "reason": "outside_ward"}
    staff = actor.staff
    assert staff is not None and entry.operator_id == staff.pk
    # and nothing was read: no 照会 entry by this member of staff
    assert not OperationLogEntry.objects.filter(
        category=Category.INQUIRY, operator_id=staff.pk, outcome=Outcome.SUCCESS
    ).exists()


# --------------------------------------------------------------------------- screens and API


def test_screens_refuse_in_japanese_and_offer_only_the_ward(client, city):
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    green, central = city
    client.force_login(StaffFactory(roles=["counter_clerk"], ward_scope=MIDORI))
    refused = client.get(f"/residents/{central.atena_no}/")
    assert refused.status_code == 403
    assert "担当区（緑区）" in refused.content.decode()
    assert central.name_kana not in refused.content.decode()
    assert client.get(f"/residents/{green.atena_no}/").status_code == 200
    assert client.get(f"/households/{central.household_no}/").status_code == 403
    form = client.get("/search/").content.decode()
    assert '<option value="緑区"' in form and '<option value="中央区"' not in form
    results = client.get("/search/", {"s": "1", "name": "相模"}).content.decode()
    assert green.atena_no in results and central.atena_no not in results


def test_api_refuses_outside_and_filters_the_search(client, city):
    # std 10.3 (j1380): 利用範囲 — the ward a member of staff may see
    green, central = city
    client.force_login(StaffFactory(roles=["counter_clerk"], ward_scope=MIDORI))
    refused = client.get(f"/api/register/residents/{central.atena_no}")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "担当区" in refused.json()["title"]
    assert client.get(f"/api/register/households/{central.household_no}").status_code == 403
    assert client.get(f"/api/register/residents/{green.atena_no}").status_code == 200
    rows = client.get("/api/register/search", {"name": "相模"}).json()["rows"]
    assert [r["atena_no"] for r in rows] == [green.atena_no]
