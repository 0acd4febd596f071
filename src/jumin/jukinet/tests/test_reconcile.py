"""整合性確認 (std 7.1.1.2, j1100): CS側の本人確認情報との整合性を定期的に確認できること."""

from __future__ import annotations

import pytest

from jumin.accounts.actor import Actor
from jumin.audit.models import OperationLogEntry
from jumin.jukinet import reconcile
from jumin.jukinet.models import IdentityRecord
from jumin.jukinet.tests import helpers as h
from jumin.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _system() -> Actor:
    return Actor.system("cli", "test")


def _three_delivered(fake):
    people = [h.move_in()[1][0] for _ in range(3)]
    h.drain()
    return people


def test_clean_after_delivery(fake):
    _three_delivered(fake)
    report = reconcile.reconcile(_system())
    assert report.clean and report.register_count == 3 and report.cs_count == 3
    assert "不一致はありません。" in report.lines()
    entry = OperationLogEntry.objects.filter(function=reconcile.RECONCILE_FUNCTION).get()
    assert entry.detail["register"] == 3 and entry.targets == []


def test_every_kind_of_difference_is_found(fake):
    a, b, c = _three_delivered(fake)
    IdentityRecord.objects.filter(atena_no=a.atena_no).delete()  # missing in CS
    IdentityRecord.objects.filter(atena_no=b.atena_no).update(family_name="改ざん")
    IdentityRecord.objects.filter(atena_no=b.atena_no).update(items_hash="0" * 32)  # differs
    IdentityRecord.objects.create(  # a row the register does not have
        **{
            f.name: getattr(IdentityRecord.objects.get(atena_no=c.atena_no), f.name)
            for f in IdentityRecord._meta.concrete_fields
            if f.name not in {"id", "atena_no", "my_number"}
        }
        | {"atena_no": "9999999999", "my_number_id": None}
    )
    h.commit_move_within(c)  # a newer change, still pending: in flight
    report = reconcile.compare()
    assert dict(report.counts) == {"missing_in_cs": 1, "differs": 1, "not_in_register": 1}
    assert report.in_flight == 1
    assert [d.atena_no for d in report.samples["missing_in_cs"]] == [a.atena_no]
    assert report.samples["differs"][0].register_history_no == 1
    assert sorted(report.repair) == sorted([a.atena_no, b.atena_no])
    text = "\n".join(report.lines())
    assert "CSに本人確認情報がない: 1件" in text and a.atena_no in text


def test_stale_without_a_pending_message_is_repaired(fake):
    a, b, _c = _three_delivered(fake)
    h.commit_move_within(a)
    # the message was lost (e.g. cleared by hand): the CS is behind with nothing in flight
    OutboxMessage.objects.filter(ordering_key=a.atena_no, status="pending").update(status="failed")
    IdentityRecord.objects.filter(atena_no=b.atena_no).delete()
    report = reconcile.reconcile(_system(), repair=True)
    assert dict(report.counts) == {"stale_in_cs": 1, "missing_in_cs": 1}
    assert report.repaired == 2
    queued = OutboxMessage.objects.filter(idempotency_key__startswith="reconcile:")
    assert sorted(queued.values_list("ordering_key", flat=True)) == sorted([a.atena_no, b.atena_no])
    repaired_a = queued.get(ordering_key=a.atena_no)
    assert repaired_a.payload["history_no"] == 2 and repaired_a.topic == "identity_info"
    h.drain()
    assert reconcile.compare().clean
    assert fake.identities[a.juminhyo_code]["sequence"] == 2


# std 7.1.1.2 (j1100) with the national side: unknown there, or different
def test_national_check_finds_unknown_and_different(fake):
    a, b, _c = _three_delivered(fake)
    del fake.identities[a.juminhyo_code]
    fake.identities[b.juminhyo_code] = fake.identities[b.juminhyo_code] | {"address": "違う住所"}
    report = reconcile.reconcile(_system(), national=True)
    assert report.national_checked == 3
    assert dict(report.counts) == {"unknown_at_national": 1, "national_differs": 1}
    assert "address" in report.samples["national_differs"][0].note
    queries = [e for e in fake.received if e.kind == "identity.query"]
    assert len(queries) == 3 and all(q.body["purpose"] for q in queries)
    report = reconcile.reconcile(_system(), national=True, repair=True)
    assert report.repaired == 2
    h.drain()
    assert reconcile.reconcile(_system(), national=True).clean
