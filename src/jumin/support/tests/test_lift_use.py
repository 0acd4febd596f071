"""A support-measure release (個別解除) is checked by a preview and used by the issue alone
(std 3.4 j440): a preview of a protected person's certificate followed by its issue needs one
release; the issue uses it in its own transaction (a failed issue leaves it unused); a second
issue is refused; checks, the use and refusals are in the operation log."""

from __future__ import annotations

import pytest
from django.db import transaction

from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.certificates import services as certificates
from jumin.certificates import signing
from jumin.certificates.models import CertificateRequest, IssuedCertificate
from jumin.certificates.tests.helpers import request
from jumin.core.findings import FindingsError
from jumin.register import crypto
from jumin.register.tests import factories as f
from jumin.support import services
from jumin.support.models import SupportLift
from jumin.support.schemas import LiftIn
from jumin.support.tests import factories as sf

pytestmark = pytest.mark.django_db

CERT = services.Purpose.CERTIFICATE


@pytest.fixture(autouse=True)
def _demo_signing(settings, tmp_path):
    """Issuing signs the PDF: demo mode, own key files under a temporary directory."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    settings.VAR_DIR = tmp_path / "var"
    settings.JUMIN = {**settings.JUMIN, "MODE": "demo", "CERT_VERIFY_BASE_URL": "http://testserver"}
    crypto.reset_keyring_cache()
    signing.reset_cache()
    yield
    crypto.reset_keyring_cache()
    signing.reset_cache()


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
    """The wife protected (active measure)."""
    return sf.active(family[1])


def codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def gate_entries(since: int) -> list[OperationLogEntry]:
    return list(
        OperationLogEntry.objects.filter(seq__gt=since, function=services.FUNCTION_GATE).order_by(
            "seq"
        )
    )


def last_seq() -> int:
    last = OperationLogEntry.objects.order_by("-seq").first()
    return last.seq if last is not None else 0


def release(officer, atena_nos, purpose=CERT):
    return services.create_lift(
        officer,
        LiftIn(atena_nos=list(atena_nos), purpose=purpose, reason="本人からの請求であることを確認"),
    )


def household_request(family, lift_id):
    head, wife = family[0], family[1]
    return request(
        "record_copy",
        head.atena_no,
        wife.atena_no,
        options={"household_form": True},
        lift_id=lift_id,
    )


def act(actor, clearance, ran):
    """An action in the transaction that uses the release."""
    with services.lift_used_with(actor, clearance):
        ran.append(True)


def test_a_preview_then_the_issue_with_one_release(clerk, officer, family, protected):
    # std 3.4 (j440): 審査の結果…交付を行う場合には、エラーを解除できること — the preview
    # (std 10.7 j1420) checks the release, the issue uses it, once
    head, wife = family[0], family[1]
    lift = release(officer, [head.atena_no, wife.atena_no])
    data = household_request(family, lift.pk)
    seq = last_seq()
    preview = certificates.preview(clerk, data)
    assert preview.pdf.startswith(b"%PDF") and preview.pages >= 1
    lift.refresh_from_db()
    assert lift.used_at is None  # the preview did not use it
    (checked,) = gate_entries(seq)
    assert checked.outcome == Outcome.SUCCESS
    assert checked.detail == {"purpose": CERT, "lift_id": lift.pk, "lifted": True, "used": False}
    assert checked.targets == [wife.atena_no]
    assert OperationLogEntry.objects.filter(seq__gt=seq, category=Category.PRINT).count() == 1

    seq = last_seq()
    issued = certificates.issue(clerk, data)
    assert issued.decision == "issued"
    assert IssuedCertificate.objects.filter(request=issued).count() == 1
    lift.refresh_from_db()
    assert lift.used_at is not None and lift.used_by == clerk.staff
    entries = gate_entries(seq)
    assert [e.detail for e in entries][-1] == {"purpose": CERT, "lift_id": lift.pk, "lifted": True}
    assert entries[-1].outcome == Outcome.SUCCESS
    assert OperationLogEntry.objects.filter(seq__gt=seq, category=Category.DOCUMENT_ISSUE).exists()

    # a second issue (and a second preview) with the used release is refused and logged
    seq = last_seq()
    with pytest.raises(FindingsError) as exc:
        certificates.issue(clerk, data.model_copy(update={"copies": 2}))
    assert codes(exc) == {"support.protected", "support.lift_used"}
    assert CertificateRequest.objects.count() == 1
    (refused,) = gate_entries(seq)
    assert refused.outcome == Outcome.DENIED and refused.detail["code"] == "support.lift_used"
    with pytest.raises(FindingsError) as exc:
        certificates.preview(clerk, data)
    assert "support.lift_used" in codes(exc)


def test_a_failed_issue_leaves_the_release_unused(clerk, officer, family, protected, monkeypatch):
    # the release is used in the issue's transaction: no certificate, no use
    head, wife = family[0], family[1]
    lift = release(officer, [head.atena_no, wife.atena_no])
    data = household_request(family, lift.pk)

    def broken(*args, **kwargs):
        raise signing.SigningUnavailable("テスト")

    monkeypatch.setattr(signing, "sign_pdf", broken)
    with pytest.raises(FindingsError) as exc:
        certificates.issue(clerk, data)
    assert codes(exc) == {"certificate.signing_unavailable"}
    lift.refresh_from_db()
    assert lift.used_at is None
    assert not CertificateRequest.objects.exists()
    monkeypatch.undo()
    assert certificates.issue(clerk, data).decision == "issued"
    lift.refresh_from_db()
    assert lift.used_at is not None


def test_a_release_used_meanwhile_stops_the_action(clerk, officer, family, protected):
    # two requests on one release: the second to commit is refused, writes nothing, is logged
    wife = family[1]
    lift = release(officer, [wife.atena_no])
    pending = services.check_access(
        clerk, [wife.atena_no], purpose=CERT, lift_id=lift.pk, consume=False
    )
    assert pending.pending and pending.lift_id == lift.pk
    assert SupportLift.objects.get(pk=lift.pk).used_at is None
    used = services.check_access(clerk, [wife.atena_no], purpose=CERT, lift_id=lift.pk)
    assert not used.pending
    seq = last_seq()
    ran = []
    with pytest.raises(services.LiftRefused) as exc:
        act(clerk, pending, ran)
    assert ran == []  # the action did not run
    assert codes(exc) == {"support.protected", "support.lift_used"}
    (refused,) = gate_entries(seq)
    assert refused.outcome == Outcome.DENIED and refused.targets == [wife.atena_no]


def test_a_pending_release_is_used_by_whoever_checked_it(clerk, officer, family, protected):
    wife = family[1]
    lift = release(officer, [wife.atena_no])
    pending = services.check_access(
        clerk, [wife.atena_no], purpose=CERT, lift_id=lift.pk, consume=False
    )
    with pytest.raises(services.LiftRefused) as exc:
        act(f.clerk(), pending, [])
    assert "support.lift_other_staff" in codes(exc)
    assert SupportLift.objects.get(pk=lift.pk).used_at is None
    with transaction.atomic():
        assert not services.use_lift(clerk, pending).pending
    assert SupportLift.objects.get(pk=lift.pk).used_by == clerk.staff


def test_a_check_without_use_refuses_a_wrong_release(clerk, officer, family, protected):
    wife, son = family[1], family[2]
    lift = release(officer, [wife.atena_no])
    with pytest.raises(FindingsError) as exc:
        services.check_access(
            clerk, [wife.atena_no, son.atena_no], purpose=CERT, lift_id=lift.pk, consume=False
        )
    assert codes(exc) == {"support.protected", "support.lift_mismatch"}
    with pytest.raises(FindingsError) as exc:
        services.check_access(clerk, [wife.atena_no], purpose=CERT, consume=False)
    assert codes(exc) == {"support.protected"}
    assert SupportLift.objects.get(pk=lift.pk).used_at is None
