"""std 10.4 (j1390): 「戸籍の表示」「個人番号」「住民票コード」「在留資格等」 shown or hidden per
user on the clerk screens — absent from the HTML, not hidden by CSS.

Each item: a member of staff holding the permission sees it; one without does not (the label,
the value and any link built from it are gone), on the person screen, as of a past day, in the
change history and on the search form.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

import pytest

from jumin.accounts.models import Role, Staff
from jumin.accounts.permissions import Perm
from jumin.accounts.tests.factories import StaffFactory
from jumin.core.identifiers import generate_juminhyo_code
from jumin.jukinet.tests.conftest import cs_env  # noqa: F401 - fixture
from jumin.register import crypto, reads
from jumin.register.models import JuminhyoCodePool
from jumin.register.procedures import ex_officio as xo
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
HONSEKI = f.HONSEKI
NEW_HONSEKI = "東京都千代田区千代田一番"
KOSEKI_HEAD = f.KOSEKI_HEAD
BASE = (Perm.RESIDENT_READ, Perm.RESIDENT_SEARCH)
_roles = itertools.count(1)


@pytest.fixture(autouse=True)
def _environment(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "keys.json"
    settings.JUMIN = {**settings.JUMIN, "JUMINHYO_CODE_POOL_MINIMUM": 2}
    crypto.reset_keyring_cache()
    rng = random.Random(7)
    JuminhyoCodePool.objects.bulk_create(
        JuminhyoCodePool(code=c) for c in {generate_juminhyo_code(rng) for _ in range(40)}
    )
    yield
    crypto.reset_keyring_cache()


def staff_with(*perms: Perm) -> Staff:
    """A member of staff holding exactly ``perms`` (a role made for the test)."""
    role = Role.objects.create(
        code=f"test-role-{next(_roles)}",
        name="試験用ロール",
        permissions=sorted(p.value for p in perms),
    )
    staff: Any = StaffFactory()
    staff.roles.add(role)
    return staff


def login(client: Any, *perms: Perm) -> Any:
    client.force_login(staff_with(*BASE, *perms))
    return client


def html(response: Any) -> str:
    assert response.status_code == 200, response.content.decode()[:1000]
    return response.content.decode()


japanese = f.japanese_with_every_item
foreigner = f.foreigner_with_every_item


# --------------------------------------------------------------------------- the table


def test_the_item_table_names_the_three_permissions_and_the_api_schema_follows_it():
    # std 10.4 (j1390): one table decides for every screen, API response and export
    from jumin.register.schemas import RestrictedItems

    assert set(reads.ITEM_PERMISSIONS) == set(RestrictedItems.model_fields)
    assert set(reads.ITEM_PERMISSIONS.values()) == {
        Perm.HONSEKI_READ,
        Perm.JUMINHYO_CODE_READ,
        Perm.RESIDENCE_STATUS_READ,
    }


# --------------------------------------------------------------------------- 戸籍の表示


def test_honseki_shown_only_with_the_permission(client):
    # std 10.4 (j1390): 「戸籍の表示」
    person = japanese()
    url = f"/residents/{person.atena_no}/"
    shown = html(login(client, Perm.HONSEKI_READ).get(url))
    assert HONSEKI in shown and KOSEKI_HEAD in shown and "item-honseki" in shown
    assert ">本籍<" in shown and ">筆頭者<" in shown
    client.logout()
    hidden = html(login(client).get(url))
    assert HONSEKI not in hidden and "item-honseki" not in hidden
    assert ">本籍<" not in hidden and ">筆頭者<" not in hidden and "本籍・" not in hidden
    assert person.name_kana in hidden  # the rest of the record is there


def test_honseki_change_is_not_named_in_the_history_without_the_permission(client):
    # std 10.4 (j1390) on the history (std 2.2.1, j350) and the as-of view (std 1.2.1)
    person = japanese()
    data = xo.AmendmentInput.model_validate(
        {
            "atena_no": person.atena_no,
            "changes": {"honseki": NEW_HONSEKI},
            "occurred_on": TODAY - dt.timedelta(days=1),
        }
    )
    from jumin.register import services

    services.commit_change(f.reviewer(), xo.submit_ex_officio_amendment(f.clerk(), data).pk)
    url = f"/residents/{person.atena_no}/"
    shown = html(login(client, Perm.HONSEKI_READ).get(url))
    history = shown[shown.index('id="h-history"') :]
    assert HONSEKI in history and NEW_HONSEKI in history
    client.logout()
    for page in (url, f"{url}?as_of={(TODAY - dt.timedelta(days=2)).isoformat()}"):
        hidden = html(login(client).get(page))
        assert HONSEKI not in hidden and NEW_HONSEKI not in hidden, page
        history = hidden[hidden.index('id="h-history"') :]
        assert "本籍" not in history, page
        client.logout()


# --------------------------------------------------------------------------- 住民票コード


def test_juminhyo_code_shown_only_with_the_permission(client):
    # std 10.4 (j1390): 「住民票コード」 — the value and the J-LIS link built from it
    person = japanese()
    assert person.juminhyo_code
    url = f"/residents/{person.atena_no}/"
    shown = html(login(client, Perm.JUMINHYO_CODE_READ).get(url))
    assert person.juminhyo_code in shown and "item-juminhyo-code" in shown
    client.logout()
    hidden = html(login(client).get(url))
    assert person.juminhyo_code not in hidden
    assert "item-juminhyo-code" not in hidden and ">住民票コード<" not in hidden


def test_search_by_juminhyo_code_is_offered_only_with_the_permission(client):
    # std 10.4 (j1390): a criterion tells about the item, so it goes with it
    person = japanese()
    form = html(login(client, Perm.JUMINHYO_CODE_READ).get("/search/"))
    assert 'name="juminhyo_code"' in form and 'value="juminhyo_code"' in form
    found = html(client.get("/search/", {"s": "1", "juminhyo_code": person.juminhyo_code}))
    assert person.atena_no in found
    client.logout()
    login(client)
    form = html(client.get("/search/"))
    assert 'name="juminhyo_code"' not in form and 'value="juminhyo_code"' not in form
    refused = client.get("/search/", {"s": "1", "juminhyo_code": person.juminhyo_code})
    assert refused.status_code == 403
    assert person.atena_no not in refused.content.decode()
    refused = client.get("/search/", {"s": "1", "name": "相模", "empty_fields": "juminhyo_code"})
    assert refused.status_code == 403


# --------------------------------------------------------------------------- 在留資格等

STAY_VALUES = ("ニュージーランド", "技術・人文知識・国際業務", "3年", "AB12345678CD")
STAY_LABELS = (">国籍・地域<", ">在留資格<", ">在留期間<", ">在留カード等の番号<")


def test_residence_status_items_shown_only_with_the_permission(client):
    # std 10.4 (j1390): 「在留資格等」
    person = foreigner()
    url = f"/residents/{person.atena_no}/"
    shown = html(login(client, Perm.RESIDENCE_STATUS_READ).get(url))
    for value in (*STAY_VALUES, *STAY_LABELS, ">在留期間の満了の日<", ">法第30条の45の区分<"):
        assert value in shown, value
    client.logout()
    hidden = html(login(client).get(url))
    for value in (*STAY_VALUES, *STAY_LABELS, ">在留期間の満了の日<", ">法第30条の45の区分<"):
        assert value not in hidden, value
    assert "SMITH JOHN" in hidden and ">外国人住民となった日<" in hidden  # the rest stays


def test_search_by_residence_card_is_offered_only_with_the_permission(client):
    person = foreigner()
    form = html(login(client, Perm.RESIDENCE_STATUS_READ).get("/search/"))
    assert 'name="residence_card_no"' in form
    found = html(client.get("/search/", {"s": "1", "residence_card_no": "AB12345678CD"}))
    assert person.atena_no in found
    client.logout()
    form = html(login(client).get("/search/"))
    assert 'name="residence_card_no"' not in form and 'value="residence_card_no"' not in form
    refused = client.get("/search/", {"s": "1", "residence_card_no": "AB12345678CD"})
    assert refused.status_code == 403


# --------------------------------------------------------------------------- 個人番号


def test_my_number_is_masked_for_all_and_revealed_only_with_the_permission(client):
    # std 10.4 (j1390) 「個人番号」 with invariant 6: masked, revealed on request
    number = "123456789018"
    _, [person] = f.committed_move_in(f.person(my_number=number))
    url = f"/residents/{person.atena_no}/"
    without = html(login(client).get(url))
    assert "**** **** ****" in without and number not in without
    assert "/my-number/" not in without  # no reveal form
    refused = client.post(f"{url}my-number/", {"reason": "本人確認"})
    assert refused.status_code == 403 and number not in refused.content.decode()
    client.logout()
    login(client, Perm.MY_NUMBER_READ)
    masked = html(client.get(url))
    assert "/my-number/" in masked and number not in masked
    revealed = html(client.post(f"{url}my-number/", {"reason": "本人確認"}))
    assert "1234 5678 9018" in revealed


# --------------------------------------------------------------------------- together


def test_a_counter_clerk_sees_every_item_and_a_contractor_none_of_them(client):
    # the built-in roles: 窓口担当 holds the three item permissions; 委託事業者 none
    person = japanese()
    url = f"/residents/{person.atena_no}/"
    client.force_login(StaffFactory(roles=["counter_clerk"]))
    clerk = html(client.get(url))
    assert HONSEKI in clerk and person.juminhyo_code in clerk
    client.logout()
    client.force_login(StaffFactory(roles=["certificate_contractor"]))
    contractor = html(client.get(url))
    assert HONSEKI not in contractor and person.juminhyo_code not in contractor


# --------------------------------------------------------------------------- review (審査)


def test_review_screen_leaves_out_items_the_reviewer_may_not_see(client):
    # std 10.4 (j1390): 「異動・証明を含む全ての画面」 — the review's before/after too
    person = japanese()
    data = xo.AmendmentInput.model_validate(
        {"atena_no": person.atena_no, "changes": {"honseki": NEW_HONSEKI}}
    )
    change = xo.submit_ex_officio_amendment(f.clerk(), data)
    url = f"/changes/{change.pk}/"
    shown = html(login(client, Perm.CHANGE_REVIEW, Perm.HONSEKI_READ).get(url))
    assert HONSEKI in shown and NEW_HONSEKI in shown
    client.logout()
    hidden = html(login(client, Perm.CHANGE_REVIEW).get(url))
    assert HONSEKI not in hidden and NEW_HONSEKI not in hidden
    assert person.atena_no in hidden  # the change itself is shown


# --------------------------------------------------------------------------- CS lists and CSV


def test_unarrived_list_and_csv_leave_out_the_code_without_the_permission(client, cs_env):  # noqa: F811
    # std 10.4 (j1390) on a list and its CSV export (転入通知未着者一覧, std 4.1.3.1.4)
    from jumin.jukinet.tests import helpers as h

    _, [person] = h.move_in(h.person())
    h.commit_move_out(person, card=False)
    person.refresh_from_db()
    assert person.juminhyo_code
    as_of = (TODAY + dt.timedelta(days=30)).isoformat()
    reader = (Perm.JUKINET_MESSAGE_READ, Perm.DATA_EXTRACT)
    for perms, shown in ((reader, False), ((*reader, Perm.JUMINHYO_CODE_READ), True)):
        login(client, *perms)
        page = html(client.get("/cs/unarrived/", {"as_of": as_of}))
        export = client.get("/cs/unarrived/", {"as_of": as_of, "format": "csv"})
        text = export.content.decode("utf-8-sig")
        assert person.atena_no in page and person.atena_no in text
        for markup in (page, text):
            assert (person.juminhyo_code in markup) is shown
            assert ("住民票コード" in markup) is shown
        client.logout()


def test_cs_inbound_list_leaves_out_the_code_without_the_permission(client):
    # std 10.4 (j1390): 他課参照を含む全ての画面 — the CS's 受信メッセージ list too
    from django.utils import timezone

    from jumin.jukinet.models import InboundMessage

    code = generate_juminhyo_code(random.Random(7))
    InboundMessage.objects.create(
        seq=1,
        kind="move_in.notice",
        origin="131016",
        juminhyo_code=code,
        state=InboundMessage.State.UNMATCHED,
        note="該当者なし",
        received_at=timezone.now(),
    )
    for perms, shown in (
        ((Perm.JUKINET_MESSAGE_READ,), False),
        ((Perm.JUKINET_MESSAGE_READ, Perm.JUMINHYO_CODE_READ), True),
    ):
        login(client, *perms)
        page = html(client.get("/cs/inbound/"))
        assert "131016" in page
        assert (code in page) is shown
        assert ('<th scope="col">住民票コード</th>' in page) is shown
        client.logout()
