"""The hard gate of 支援措置 (std 3.4 j440, 2.2.4 j380): any read or issue that would show a
protected person (applicant or covered) is refused with ``support.protected`` unless a
support-measure officer released it for exactly that request, with a reason — usable once,
within minutes; everything logged. Inquiry, household, history and search of the register go
through it; the certificates call it before issuing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.findings import FindingsError
from jumin.register import reads
from jumin.register.search import SearchCriteria, search_residents
from jumin.register.tests import factories as f
from jumin.support import selectors, services
from jumin.support.models import SupportLift
from jumin.support.schemas import LiftIn, TerminateIn
from jumin.support.tests import factories as sf

pytestmark = pytest.mark.django_db

CERT = services.Purpose.CERTIFICATE


def codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def last_entry():
    return OperationLogEntry.objects.order_by("-seq").first()


@pytest.fixture
def officer():
    return sf.officer()


@pytest.fixture
def clerk():
    return f.clerk()


@pytest.fixture
def family():
    _, members = f.family()
    return members


@pytest.fixture
def protected(officer, family):
    """The wife protected, the son covered with her; the head and the daughter not."""
    _, wife, son, _ = family
    return sf.provisional(wife, officer, covered=[{"atena_no": son.atena_no}])


def lift(officer, atena_nos, purpose=CERT, **extra):
    return services.create_lift(
        officer,
        LiftIn(
            atena_nos=list(atena_nos), purpose=purpose, reason="審査の結果、交付を認める", **extra
        ),
    )


# --------------------------------------------------------------------------- the register's reads


def test_inquiry_of_a_protected_person_is_refused_without_the_permission(clerk, family, protected):
    # std 3.4 (j440): 支援対象者…の住民票…エラーとすることができる
    head, wife, son, daughter = family
    for who in (wife, son):
        with pytest.raises(FindingsError) as exc:
            reads.get_resident(clerk, who.atena_no)
        assert codes(exc) == {"support.protected"}
        finding = exc.value.findings.items[0]
        assert "支援措置担当者" in finding.remedy
        text = finding.message + finding.remedy
        assert wife.address not in text and "中央区" not in text  # never where they live
        entry = last_entry()
        assert (entry.function, entry.outcome, entry.category) == (
            services.FUNCTION_GATE,
            Outcome.DENIED,
            Category.EVENT,
        )
        assert entry.targets == [who.atena_no]
        assert entry.detail == {"purpose": "住民照会", "code": "support.protected"}
    with pytest.raises(FindingsError):
        reads.get_history(clerk, wife.atena_no)
    with pytest.raises(FindingsError) as exc:
        reads.get_household(clerk, head.household_no)  # the household shows the wife
    assert codes(exc) == {"support.protected"}
    # the others are read as before
    assert reads.get_resident(clerk, head.atena_no).support_protected is False
    assert reads.get_resident(clerk, daughter.atena_no).record.atena_no == daughter.atena_no


def test_a_support_officer_reads_the_record_with_the_flag(officer, family, protected):
    # std 2.2.4 (j380): 支援措置期間中又は仮支援措置期間中である旨が明示的に確認できる
    head, wife, son, _ = family
    view = reads.get_resident(officer, wife.atena_no)
    assert view.support_protected is True
    assert last_entry().detail["support_protected"] is True
    assert reads.get_resident(officer, head.atena_no).support_protected is False
    household = reads.get_household(officer, head.household_no)
    assert household.support_protected == {wife.atena_no, son.atena_no}
    assert len(reads.get_history(officer, wife.atena_no)) >= 1


def test_an_ended_measure_no_longer_blocks(officer, clerk, family, protected):
    services.terminate(officer, protected.pk, TerminateIn(reason="not_needed"))
    assert reads.get_resident(clerk, family[1].atena_no).support_protected is False


def test_search_lists_protected_persons_without_their_address(clerk, officer, family, protected):
    # std 2.2.4 (j380) / 3.4 (j440): found with the flag; the address withheld from the clerk
    head, wife, son, _ = family
    rows = {r.atena_no: r for r in search_residents(clerk, SearchCriteria(name_kana="サガミ")).rows}
    assert rows[wife.atena_no].support_protected is True
    assert rows[wife.atena_no].address == "" and rows[wife.atena_no].katagaki == ""
    assert rows[son.atena_no].support_protected is True and rows[son.atena_no].address == ""
    assert rows[head.atena_no].support_protected is False
    assert rows[head.atena_no].address == head.address
    assert last_entry().detail["support_protected"] == 2
    # a search by address must not confirm where a protected person lives
    found = search_residents(clerk, SearchCriteria(address=head.address[-6:])).rows
    atenas = {r.atena_no for r in found}
    assert head.atena_no in atenas
    assert wife.atena_no not in atenas and son.atena_no not in atenas
    # the support officer sees the address, flagged
    rows = {
        r.atena_no: r for r in search_residents(officer, SearchCriteria(name_kana="サガミ")).rows
    }
    assert rows[wife.atena_no].support_protected is True
    assert rows[wife.atena_no].address == wife.address
    found = search_residents(officer, SearchCriteria(address=head.address[-6:])).rows
    assert wife.atena_no in {r.atena_no for r in found}


# --------------------------------------------------------------------- requests (certificates)


def test_a_certificate_request_is_refused_then_released_once(clerk, officer, family, protected):
    # std 3.4 (j440): 審査の結果…交付を行う場合には、エラーを解除できること
    head, wife, son, daughter = family
    request = [head.atena_no, wife.atena_no, son.atena_no, daughter.atena_no]
    with pytest.raises(FindingsError) as exc:
        services.check_access(clerk, request, purpose=CERT)
    assert codes(exc) == {"support.protected"}
    services.check_access(
        clerk, [head.atena_no, daughter.atena_no], purpose=CERT
    )  # no one protected
    released = lift(officer, request)
    entry = last_entry()
    assert (entry.function, entry.detail["lift_id"]) == (services.FUNCTION_LIFT, released.pk)
    assert "審査の結果" not in json.dumps(entry.detail, ensure_ascii=False)
    services.check_access(clerk, reversed(request), purpose=CERT, lift_id=released.pk)
    entry = last_entry()
    assert entry.function == services.FUNCTION_GATE
    assert entry.outcome == Outcome.SUCCESS
    assert entry.detail == {"purpose": CERT, "lift_id": released.pk, "lifted": True}
    assert sorted(entry.targets) == sorted([wife.atena_no, son.atena_no])
    used = SupportLift.objects.get(pk=released.pk)
    assert used.used_at is not None and used.used_by == clerk.staff
    # used once: the same request again is refused
    with pytest.raises(FindingsError) as exc:
        services.check_access(clerk, request, purpose=CERT, lift_id=released.pk)
    assert codes(exc) == {"support.protected", "support.lift_used"}
    assert last_entry().outcome == Outcome.DENIED


def test_a_release_is_for_exactly_that_request(clerk, officer, family, protected):
    head, wife, son, _ = family
    released = lift(officer, [wife.atena_no])
    for atena_nos, purpose in (
        ([wife.atena_no, son.atena_no], CERT),  # other persons
        ([wife.atena_no, head.atena_no], CERT),
        ([wife.atena_no], services.Purpose.INSPECTION),  # another purpose
    ):
        with pytest.raises(FindingsError) as exc:
            services.check_access(clerk, atena_nos, purpose=purpose, lift_id=released.pk)
        assert codes(exc) == {"support.protected", "support.lift_mismatch"}
    assert SupportLift.objects.get(pk=released.pk).used_at is None
    # the purpose is compared as text, width and spacing folded
    services.check_access(clerk, [wife.atena_no], purpose=f" {CERT} ", lift_id=released.pk)
    with pytest.raises(FindingsError) as exc:
        services.check_access(clerk, [wife.atena_no], purpose=CERT, lift_id=987654)
    assert codes(exc) == {"support.protected", "support.lift_unknown"}


def test_a_release_expires(clerk, officer, family, protected, monkeypatch):
    released = lift(officer, [family[1].atena_no])
    later = released.expires_at + dt.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with pytest.raises(FindingsError) as exc:
        services.check_access(clerk, [family[1].atena_no], purpose=CERT, lift_id=released.pk)
    assert codes(exc) == {"support.protected", "support.lift_expired"}
    assert SupportLift.objects.get(pk=released.pk).used_at is None


def test_a_release_for_one_member_of_staff(clerk, officer, family, protected):
    other = f.clerk()
    released = lift(officer, [family[1].atena_no], for_staff_id=clerk.staff.staff_id)
    with pytest.raises(FindingsError) as exc:
        services.check_access(other, [family[1].atena_no], purpose=CERT, lift_id=released.pk)
    assert codes(exc) == {"support.protected", "support.lift_other_staff"}
    services.check_access(clerk, [family[1].atena_no], purpose=CERT, lift_id=released.pk)


def test_a_release_needs_a_protected_person_a_purpose_and_a_reason(
    officer, clerk, family, protected
):
    with pytest.raises(FindingsError) as exc:
        services.create_lift(
            officer, LiftIn(atena_nos=[family[0].atena_no], purpose="  ", reason=" ")
        )
    assert codes(exc) == {
        "support.lift_not_needed",
        "support.lift_purpose_required",
        "support.lift_reason_required",
    }
    with pytest.raises(FindingsError) as exc:
        services.create_lift(
            officer,
            LiftIn(atena_nos=["12a"], purpose=CERT, reason="x", for_staff_id="nobody"),
        )
    assert codes(exc) == {"support.lift_targets_invalid", "support.lift_staff_unknown"}
    with pytest.raises(Exception, match="支援措置の個別解除"):
        lift(clerk, [family[1].atena_no])
    assert not SupportLift.objects.exists()


def test_a_system_operator_is_not_stopped_by_the_read_gate(family, protected):
    # operator-run commands (CLI) hold every permission and read the record marked
    view = reads.get_resident(Actor.system("cli", "test"), family[1].atena_no)
    assert view.support_protected is True


# --------------------------------------------------------------------------- the abuser


def test_the_abuser_is_recognised_by_reading_and_birth_date(officer, family, protected):
    # std 1.1.16 (j160): 加害者に関する項目 — a third party's request is checked against them
    birth = dt.date(1975, 5, 5)
    assert selectors.matches_abuser("カガイ ジロウ", birth)
    assert selectors.matches_abuser("かがい　じろう", birth)  # hiragana, full-width space
    assert selectors.matches_abuser("ｶｶﾞｲｼﾞﾛｰ", birth)  # half-width, fuzzy long vowel
    assert not selectors.matches_abuser("カガイ ジロウ", dt.date(1975, 5, 6))
    assert not selectors.matches_abuser("サガミ タロウ", birth)
    assert not selectors.matches_abuser("", birth)
    services.terminate(officer, protected.pk, TerminateIn(reason="requested"))
    assert not selectors.matches_abuser("カガイ ジロウ", birth)


def test_an_abuser_without_a_known_birth_date_matches_on_the_reading(officer, family):
    sf.provisional(
        family[1], officer, abusers=[{"name": "不明 太郎", "name_kana": "フメイ タロウ"}]
    )
    assert selectors.matches_abuser("フメイ タロウ", dt.date(1990, 1, 1))
    assert selectors.matches_abuser("フメイ タロウ", None)


def test_the_abuser_check_is_logged_without_the_reading(clerk, officer, family, protected):
    assert services.check_abuser(clerk, "カガイ ジロウ", dt.date(1975, 5, 5)) is True
    entry = last_entry()
    assert entry.function == services.FUNCTION_ABUSER_CHECK
    assert entry.detail == {"matched": True}
    auditor = Actor.of(StaffFactory(roles=["auditor"]), None, "web")
    with pytest.raises(Exception, match="住民記録の照会"):
        services.check_abuser(auditor, "カガイ ジロウ", None)


def test_a_cleared_request_reads_its_persons_and_nothing_more(clerk, officer, family, protected):
    # std 3.4 (j440): the release covers every read of that one request (household, persons)
    head, wife, son, daughter = family
    request = [head.atena_no, wife.atena_no, son.atena_no, daughter.atena_no]
    released = lift(officer, request)
    clearance = services.check_access(clerk, request, purpose=CERT, lift_id=released.pk)
    assert clearance.lift_id == released.pk
    view = reads.get_household(clerk, head.household_no, clearance=clearance)
    assert view.support_protected == {wife.atena_no, son.atena_no}
    assert reads.get_resident(clerk, wife.atena_no, clearance=clearance).support_protected
    assert reads.get_history(clerk, son.atena_no, clearance=clearance)
    # not for another member of staff, not without it, not for persons outside the request
    with pytest.raises(FindingsError):
        reads.get_resident(f.clerk(), wife.atena_no, clearance=clearance)
    with pytest.raises(FindingsError):
        reads.get_resident(clerk, wife.atena_no)
    narrow = services.check_access(
        clerk, [wife.atena_no], purpose=CERT, lift_id=lift(officer, [wife.atena_no]).pk
    )
    with pytest.raises(FindingsError) as exc:
        reads.get_household(clerk, head.household_no, clearance=narrow)  # shows the son too
    assert codes(exc) == {"support.protected"}


def test_the_certificate_path_is_refused(clerk, family, protected):
    # std 3.4 (j440): 住民票の写し等の交付を実施しようとする際に、エラー — through the
    # certificates' own request check, before anything is read or charged
    from jumin.certificates import services as certificates
    from jumin.certificates.schemas import CertificateRequestIn

    _, wife, _, _ = family
    data = CertificateRequestIn.model_validate(
        {
            "kind": "record_copy",
            "atena_nos": [wife.atena_no],
            "requester": {"kind": "self", "name": "相模　花子", "atena_no": wife.atena_no},
            "purpose": "勤務先への提出",
            "identity_document": {"kind": "driver_license", "number": "AB12345678"},
        }
    )
    before = OperationLogEntry.objects.count()
    with pytest.raises(FindingsError) as exc:
        certificates.plan(clerk, data, function="証明書の交付", preview=False)
    assert "support.protected" in codes(exc)
    entry = last_entry()
    assert (entry.function, entry.outcome) == (services.FUNCTION_GATE, Outcome.DENIED)
    assert entry.detail["purpose"] == "住民票の写しの交付"
    assert OperationLogEntry.objects.count() == before + 1  # the refusal only: nothing read
