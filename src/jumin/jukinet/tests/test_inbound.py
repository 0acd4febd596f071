"""受信: the mailbox pulled from J-LIS (fake national side) — origin signatures checked,
転入通知 matched to moved-out residents, the rest listed (std 4.1.3.1, j680; 7.1.1, j1090).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import OperationLogEntry
from jumin.core.findings import FindingsError
from jumin.jukinet import inbound
from jumin.jukinet.client import CsClient, HttpTransport
from jumin.jukinet.models import CityKey, InboundMessage, MailboxCursor
from jumin.jukinet.tests import helpers as h
from jumin.jukinet.tests.conftest import new_code
from jumin.jukinet.tests.realnet import RealNetsim
from jumin.netproto.envelope import SIGNATURE_HEADER, NodeKey, canonical, public_key
from jumin.register import services as register
from jumin.register.models import Change, Resident
from jumin.register.procedures import move_in, registry
from jumin.register.procedures.common import today
from jumin.register.services import SYSTEM_OPERATOR_ID
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

State = InboundMessage.State
OTHER = "131016"


def _notice(code: str, *, to: str = "141500") -> dict[str, object]:
    return {
        "to_municipality": to,
        "from_municipality": OTHER,
        "juminhyo_code": code,
        "certificate_id": "",
        "moved_in_on": (today() - dt.timedelta(days=1)).isoformat(),
        "new_address": "東京都千代田区霞が関一丁目1番1号",
        "notified_on": today().isoformat(),
    }


def _moved_out() -> tuple[str, str]:
    _, (resident,) = h.move_in(h.person())
    h.commit_move_out(resident)
    return resident.atena_no, resident.juminhyo_code


def _system() -> Actor:
    return Actor.system("cli", "test")


def test_notice_for_a_moved_out_resident_becomes_a_draft_for_the_reviewer(fake):
    # std 4.1.3.1 (j680): 転入通知 for a person removed by 転出 — the CS enters 転入通知の受理
    # as a draft (system-enterable procedure); a member of staff with CHANGE_REVIEW commits it
    atena, code = _moved_out()
    other = fake.add_city(OTHER)
    fake.relay(other, "141500", "move_in.notice", _notice(code))
    drafts = Change.objects.count()
    assert inbound.receive(_system()) == 1
    row = InboundMessage.objects.get()
    assert (row.kind, row.origin, row.juminhyo_code, row.verified) == (
        "move_in.notice",
        OTHER,
        code,
        True,
    )
    assert row.state == State.DRAFTED and row.atena_no == atena
    assert "審査" in row.note and Change.objects.count() == drafts + 1
    change = Change.objects.get(pk=row.change_id)
    assert change.procedure == "move_in_notice_receipt"
    assert change.status == Change.Status.DRAFT
    assert change.created_by.staff_id == SYSTEM_OPERATOR_ID and not change.created_by.is_active
    assert CityKey.objects.get(code=OTHER).public_key == other.public_b64  # pinned
    assert MailboxCursor.objects.get().last_seq == 1
    entry = OperationLogEntry.objects.get(function=inbound.RECEIVE_FUNCTION)
    assert entry.targets == [atena] and entry.detail["states"] == {"drafted": 1}
    # invariant 3: the system cannot commit its own draft; a reviewer (staff) can
    with pytest.raises(FindingsError) as refused:
        register.commit_change(_system(), change.pk)
    assert {f.code for f in refused.value.findings} == {"review.system_draft"}
    reviewer = Actor.of(StaffFactory(roles=["supervisor"]), None, "web")
    assert register.commit_change(reviewer, change.pk).status == Change.Status.COMMITTED
    resident = Resident.objects.get(atena_no=atena)
    assert resident.history_no > 1 and resident.status == "removed"


def test_staff_only_procedures_still_refuse_the_system_actor():
    # invariant 3 / std 4.0.8 (j530): only registry-flagged procedures are system-enterable
    assert registry.system_enterable("move_in_notice_receipt")
    assert registry.system_enterable("my_number_record")
    assert not registry.system_enterable("move_in")
    with pytest.raises(PermissionDenied, match="職員として"):
        move_in.submit(_system(), f.move_in_input(h.person()), acknowledged=["duplicate.person"])


def test_forged_signature_is_refused_and_recorded_without_effect(fake):
    # bad input: a relayed envelope not signed by its origin is refused and logged
    _, code = _moved_out()
    fake.add_city(OTHER)
    forger = NodeKey.generate(OTHER)
    fake.relay(forger, "141500", "move_in.notice", _notice(code))
    assert inbound.receive(_system()) == 1
    row = InboundMessage.objects.get()
    assert row.state == State.REFUSED and not row.verified and row.atena_no == ""
    assert "署名" in row.note
    assert MailboxCursor.objects.get().last_seq == 1  # not fetched again


def test_unknown_person_is_listed_as_unmatched_and_receive_is_idempotent(fake):
    other = fake.add_city(OTHER)
    fake.relay(other, "141500", "move_in.notice", _notice(new_code()))
    _, (resident,) = h.move_in(h.person())  # a resident who never moved out
    fake.relay(other, "141500", "move_in.notice", _notice(resident.juminhyo_code))
    fake.relay(other, "141500", "move_in.notice", _notice(new_code(), to="999999"))
    assert inbound.receive(_system()) == 3
    states = list(InboundMessage.objects.order_by("seq").values_list("state", "atena_no"))
    assert states == [
        (State.UNMATCHED, ""),
        (State.UNMATCHED, resident.atena_no),
        (State.UNMATCHED, ""),
    ]
    assert inbound.receive(_system()) == 0  # nothing new: from the cursor
    assert InboundMessage.objects.count() == 3
    fetches = [e for e in fake.received if e.kind == "mailbox.fetch"]
    assert [e.body["after"] for e in fetches] == [0, 3]


def test_receive_refused_without_permission_and_failure_when_down(fake):
    clerk = Actor.of(StaffFactory(roles=["counter_clerk"]), None, "web")
    with pytest.raises(Exception, match="権限"):
        inbound.receive(clerk)
    fake.faults.append("503")
    with pytest.raises(inbound.ReceiveFailed):
        inbound.receive(_system())
    assert not InboundMessage.objects.exists()


def test_command_and_screen(client, fake):
    atena, code = _moved_out()
    other = fake.add_city(OTHER)
    fake.relay(other, "141500", "move_in.notice", _notice(code))
    fake.relay(other, "141500", "move_in.notice", _notice(new_code()))
    out = io.StringIO()
    call_command("cs", "receive", "--once", stdout=out)
    assert "受信 2件" in out.getvalue()
    client.force_login(StaffFactory(roles=["supervisor"]))
    html = client.get("/cs/inbound/").content.decode()
    drafted = InboundMessage.objects.get(state=State.DRAFTED)  # the system's draft
    assert drafted.atena_no == atena and drafted.change_id is not None
    assert "該当者なし" in html and f"/changes/{drafted.change_id}/" in html
    only = client.get("/cs/inbound/", {"state": "unmatched"}).content.decode()
    assert "該当者なし" in only and f"/changes/{drafted.change_id}/" not in only
    client.force_login(StaffFactory(roles=["counter_clerk"]))
    assert client.get("/cs/inbound/").status_code == 403


# --- the real netsim: another city sends a 転入通知, netsim relays it ------------------------


@pytest.fixture(scope="module")
def netsim(tmp_path_factory) -> Iterator[RealNetsim]:
    net = RealNetsim(tmp_path_factory.mktemp("netsim-inbound"))
    yield net
    net.stop()


def _other_city(url: str) -> CsClient:
    """City 131016 registered with the real netsim, sending with its own key."""
    key = NodeKey.generate(OTHER)
    transport = HttpTransport(url, 5)
    raw = canonical({"code": OTHER, "name": "千代田区", "public_key": key.public_b64})
    response = transport.request(
        "POST",
        "/v1/nodes",
        raw,
        {"Content-Type": "application/json", SIGNATURE_HEADER: key.sign(raw)},
    )
    assert response.status in {200, 201}, response.body
    jlis = public_key(json.loads(transport.request("GET", "/v1/nodes/jlis").body)["public_key"])
    return CsClient(key, transport, lambda code: jlis)


def test_real_netsim_relays_a_notice_that_is_verified(netsim, cs_env, monkeypatch, tmp_path):
    # std 4.1.3.1 (j680): the new city's 転入通知 reaches the old city through J-LIS
    monkeypatch.setenv("JUMIN_CS_KEY_FILE", str(tmp_path / "cs-key.json"))
    monkeypatch.setenv("JUMIN_NETSIM_URL", netsim.url)
    call_command("cs", "register", "--name", "相模原市", stdout=io.StringIO())
    atena, code = _moved_out()
    other = _other_city(netsim.url)
    try:
        sent = other.send(
            other.envelope("move_in.notice", _notice(code), idempotency_key=f"notice:{code}")
        )
    finally:
        other.close()
    assert sent.outcome == "delivered", sent.error_message
    assert inbound.receive(_system()) == 1
    row = InboundMessage.objects.get()
    assert row.verified and row.origin == OTHER and row.state == State.DRAFTED
    assert row.atena_no == atena and row.change_id is not None
