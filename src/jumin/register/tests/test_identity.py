"""住民票コード (std 4.3: j870, j880, j890), 個人番号 (std 4.4, j900), 旧氏 (std 1.1.7, j70),
and ``jumin codes load|status``."""

from __future__ import annotations

import datetime as dt
import json
import random
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from jumin.audit.models import OperationLogEntry
from jumin.core.findings import FindingsError
from jumin.core.identifiers import generate_juminhyo_code
from jumin.outbox.models import OutboxMessage
from jumin.register import crypto, services
from jumin.register.models import Change, JuminhyoCodePool, Resident, ResidentHistory
from jumin.register.procedures import identity
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

NUMBER = "123456789018"
OTHER_NUMBER = "023456789013"
THIRD_NUMBER = "983205673214"
BAD_CHECK_DIGIT = "123456789017"


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


@pytest.fixture(autouse=True)
def pool_minimum(settings):
    settings.JUMIN = {**settings.JUMIN, "JUMINHYO_CODE_POOL_MINIMUM": 2}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # every factory-made member of staff hashes a password: argon2 would dominate the run
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def codes(count, seed=7):
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        code = generate_juminhyo_code(rng)
        if code not in out:
            out.append(code)
    return out


def fill_pool(count=10, seed=7):
    made = codes(count, seed)
    JuminhyoCodePool.objects.bulk_create(JuminhyoCodePool(code=c) for c in made)
    return made


def resident(**overrides):
    _, (person,) = f.committed_move_in(f.person(**overrides))
    return person


def codes_of(exc):
    return {x.code for x in exc.value.findings}


def commit(change):
    return services.commit_change(f.reviewer(), change.pk)


def latest(atena):
    return ResidentHistory.objects.filter(atena_no=atena).order_by("-history_no").first()


# --------------------------------------------------------------------------- 住民票コード


def test_assign_takes_a_pool_code_at_draft_time_and_commits_with_a_notice():
    # std 4.3.1 (j870): automatic assignment from the pool; std 4.3.3 (j890): the notice
    pool = fill_pool()
    person = resident()
    change = identity.submit_juminhyo_code_assign(
        f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
    )
    code = change.payload["summary"]["juminhyo_code"]
    assert code in pool
    row = JuminhyoCodePool.objects.get(code=code)
    assert row.assigned_to == person.atena_no and row.assigned_at is not None
    assert Resident.objects.get(atena_no=person.atena_no).juminhyo_code == ""  # draft only
    commit(change)
    person.refresh_from_db()
    assert person.juminhyo_code == code
    history = latest(person.atena_no)
    assert history.history_no == 2
    assert history.change_reason == "juminhyo_code_ex_officio_entry"
    assert history.juminhyo_code == code
    notice = OutboxMessage.objects.get(topic="juminhyo_code_notice")
    assert notice.payload == {
        "atena_no": person.atena_no,
        "kind": "assigned",
        "juminhyo_code": code,
    }
    identity_info = OutboxMessage.objects.filter(
        topic="identity_info", ordering_key=person.atena_no
    ).last()
    assert identity_info.payload["juminhyo_code"] == code


def test_assign_picks_a_random_free_code(monkeypatch):
    # std 4.3.1 (j870): 蓄積されたものから無作為で選択
    pool = fill_pool(10)
    first_id = JuminhyoCodePool.objects.order_by("id").first().id
    monkeypatch.setattr(identity.secrets, "randbelow", lambda n: 6)
    person = resident()
    change = identity.submit_juminhyo_code_assign(
        f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
    )
    code = change.payload["summary"]["juminhyo_code"]
    assert JuminhyoCodePool.objects.get(code=code).id == first_id + 6
    assert code == pool[6]
    # the pivot's row is taken now: the next draw at the same pivot takes the next free row
    other = resident()
    change = identity.submit_juminhyo_code_assign(
        f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=other.atena_no)
    )
    assert change.payload["summary"]["juminhyo_code"] == pool[7]


def test_a_code_is_never_handed_to_two_drafts_and_a_rejected_draft_keeps_it():
    fill_pool(10)
    one, two = resident(), resident()
    clerk = f.clerk()
    first = identity.submit_juminhyo_code_assign(
        clerk, identity.JuminhyoCodeAssignInput(atena_no=one.atena_no)
    )
    second = identity.submit_juminhyo_code_assign(
        clerk, identity.JuminhyoCodeAssignInput(atena_no=two.atena_no)
    )
    a = first.payload["summary"]["juminhyo_code"]
    b = second.payload["summary"]["juminhyo_code"]
    assert a != b
    services.reject_change(f.reviewer(), first.pk, reason="対象者誤り")
    # decision (module doc): the rejected draft's code stays used, never handed out again
    assert JuminhyoCodePool.objects.get(code=a).assigned_to == one.atena_no
    assert identity.free_code_count() == 8
    out = StringIO()
    call_command("codes", "status", stdout=out)
    assert "住民票に未記載 2件" in out.getvalue()  # the rejected one and the open draft


def test_a_refused_draft_returns_its_code_to_the_pool():
    # the code is marked inside the draft's transaction: a refusal rolls the mark back
    fill_pool(2)  # taking one leaves 1 < minimum 2: an alert the clerk has not acknowledged
    person = resident()
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_assign(
            f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
        )
    assert codes_of(exc) == {"juminhyo_code.pool_low"}
    assert identity.free_code_count() == 2
    assert not Change.objects.filter(procedure="juminhyo_code_assign").exists()


def test_pool_low_alert_and_empty_pool_error():
    # std 4.3.1 (j870): alert when the free codes fall below the city's minimum
    fill_pool(2)
    person = resident()
    change = identity.submit_juminhyo_code_assign(
        f.clerk(),
        identity.JuminhyoCodeAssignInput(atena_no=person.atena_no),
        acknowledged=["juminhyo_code.pool_low"],
    )
    assert change.acknowledged == ["juminhyo_code.pool_low"]
    alert = next(x for x in change.findings if x["code"] == "juminhyo_code.pool_low")
    assert "残り1件" in alert["message"]
    JuminhyoCodePool.objects.filter(assigned_to="").update(assigned_to="0000000000")
    other = resident()
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_assign(
            f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=other.atena_no)
        )
    assert codes_of(exc) == {"juminhyo_code.pool_empty"}


def test_assign_errors():
    fill_pool()
    person = resident()
    commit(
        identity.submit_juminhyo_code_assign(
            f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
        )
    )
    free = identity.free_code_count()
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_assign(
            f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
        )
    assert codes_of(exc) == {"juminhyo_code.already_assigned"}
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_assign(
            f.clerk(), identity.JuminhyoCodeAssignInput(atena_no="9999999999")
        )
    assert codes_of(exc) == {"atena_no.not_resident"}
    other = resident()
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_assign(
            f.clerk(),
            identity.JuminhyoCodeAssignInput(
                atena_no=other.atena_no, occurred_on=dt.date.today() + dt.timedelta(days=1)
            ),
        )
    assert codes_of(exc) == {"occurred_on.future"}
    assert identity.free_code_count() == free  # nothing taken by refused drafts


def test_resubmitted_form_takes_no_second_code():
    fill_pool()
    person = resident()
    clerk = f.clerk()
    data = identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
    first = identity.submit_juminhyo_code_assign(clerk, data, idempotency_key="form-1")
    second = identity.submit_juminhyo_code_assign(clerk, data, idempotency_key="form-1")
    assert first.pk == second.pk
    assert identity.free_code_count() == 9


def test_a_reviewer_cannot_enter_a_draft_and_the_refusal_stays_logged():
    # DESIGN invariant 1: the refusal is logged outside the draft's (rolled back) transaction
    fill_pool()
    person = resident()
    with pytest.raises(PermissionDenied):
        identity.submit_juminhyo_code_assign(
            f.reviewer(), identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
        )
    assert OperationLogEntry.objects.filter(outcome="denied", function="異動の入力").exists()
    assert identity.free_code_count() == 10


def test_code_assignment_is_a_permission_of_its_own():
    # std 10.3 (j1380): 4.3.1 住民票コード付番 is controlled independently of 異動の入力
    from jumin.accounts.actor import Actor
    from jumin.accounts.models import Role
    from jumin.accounts.permissions import Perm
    from jumin.accounts.tests.factories import StaffFactory

    fill_pool()
    person = resident()
    Role.objects.create(code="entry_only", name="入力のみ", permissions=[Perm.CHANGE_DRAFT.value])
    staff = StaffFactory()
    staff.roles.add(Role.objects.get(code="entry_only"))
    data = identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
    changes = Change.objects.count()
    with pytest.raises(PermissionDenied):
        identity.submit_juminhyo_code_assign(Actor.of(staff, None, "web"), data)
    assert OperationLogEntry.objects.filter(
        outcome="denied", detail__missing_permission=Perm.JUMINHYO_CODE_ASSIGN.value
    ).exists()
    assert identity.free_code_count() == 10 and Change.objects.count() == changes
    with pytest.raises(PermissionDenied):  # the confirmation screen's preview too
        services.preview(identity.submit_juminhyo_code_assign, Actor.of(staff, None, "web"), data)


def test_change_request_gives_a_new_code_and_keeps_the_my_number():
    # std 4.3.2 (j880); 法第30条の4: the 個人番号 stays
    fill_pool()
    person = resident(my_number=NUMBER)
    commit(
        identity.submit_juminhyo_code_assign(
            f.clerk(), identity.JuminhyoCodeAssignInput(atena_no=person.atena_no)
        )
    )
    person.refresh_from_db()
    old_code, number_row = person.juminhyo_code, person.my_number_id
    change = identity.submit_juminhyo_code_change(
        f.clerk(), identity.JuminhyoCodeChangeInput(atena_no=person.atena_no)
    )
    assert change.change_reason == "juminhyo_code_change_request"
    assert change.notified_on == dt.date.today()
    summary = change.payload["summary"]
    assert summary["previous_juminhyo_code"] == old_code
    commit(change)
    person.refresh_from_db()
    assert person.juminhyo_code == summary["juminhyo_code"] != old_code
    assert person.my_number_id == number_row
    assert latest(person.atena_no).change_reason == "juminhyo_code_change_request"
    kinds = list(
        OutboxMessage.objects.filter(topic="juminhyo_code_notice").values_list(
            "payload__kind", flat=True
        )
    )
    assert kinds == ["assigned", "changed"]
    # the old code is not returned to the pool
    assert JuminhyoCodePool.objects.get(code=old_code).assigned_to == person.atena_no


def test_change_request_errors():
    fill_pool()
    person = resident()
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_change(
            f.clerk(), identity.JuminhyoCodeChangeInput(atena_no=person.atena_no)
        )
    assert codes_of(exc) == {"juminhyo_code.not_assigned"}
    today = dt.date.today()
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_change(
            f.clerk(),
            identity.JuminhyoCodeChangeInput(
                atena_no=person.atena_no,
                notified_on=today,
                occurred_on=today - dt.timedelta(days=1),
            ),
        )
    assert "notified_on.after_occurred" in codes_of(exc)
    with pytest.raises(FindingsError) as exc:
        identity.submit_juminhyo_code_change(
            f.clerk(),
            identity.JuminhyoCodeChangeInput(
                atena_no=person.atena_no, notified_on=today + dt.timedelta(days=1)
            ),
        )
    assert "notified_on.future" in codes_of(exc)
    assert identity.free_code_count() == 10


def test_correction_records_the_right_code_and_takes_it_from_the_pool():
    # std 4.3.2 (j880): 住民票コードの修正
    pool = fill_pool()
    person = resident(juminhyo_code=codes(1, seed=99)[0])
    change = identity.submit_juminhyo_code_correction(
        f.clerk(),
        identity.JuminhyoCodeCorrectionInput(
            atena_no=person.atena_no, juminhyo_code=pool[3], reason="転出証明書の転記誤り"
        ),
    )
    assert change.change_reason == "ex_officio_amendment"
    assert JuminhyoCodePool.objects.get(code=pool[3]).assigned_to == person.atena_no
    commit(change)
    person.refresh_from_db()
    assert person.juminhyo_code == pool[3]
    notice = OutboxMessage.objects.get(topic="juminhyo_code_notice")
    assert notice.payload["kind"] == "corrected"


def test_correction_errors():
    pool = fill_pool()
    taken = codes(2, seed=99)
    person = resident(juminhyo_code=taken[0])
    other = resident(juminhyo_code=taken[1])
    JuminhyoCodePool.objects.filter(code=pool[0]).update(assigned_to="1234567890")

    def correct(code):
        with pytest.raises(FindingsError) as exc:
            identity.submit_juminhyo_code_correction(
                f.clerk(),
                identity.JuminhyoCodeCorrectionInput(
                    atena_no=person.atena_no, juminhyo_code=code, reason="誤り"
                ),
            )
        return codes_of(exc)

    assert correct(taken[0]) == {"juminhyo_code.unchanged"}
    assert correct(other.juminhyo_code) == {"duplicate.juminhyo_code"}
    assert correct(pool[0]) == {"juminhyo_code.pool_assigned"}
    assert correct("1234") == {"juminhyo_code.length"}
    bad = taken[0][:10] + str((int(taken[0][10]) + 1) % 10)
    assert correct(bad) == {"juminhyo_code.check_digit"}


# --------------------------------------------------------------------------- 個人番号


def _leaks(number):
    """Every place a 個人番号 must never appear in clear."""
    blobs = [
        json.dumps(list(Change.objects.values("payload", "findings", "acknowledged"))),
        json.dumps(list(OperationLogEntry.objects.values("detail", "targets"))),
        json.dumps(list(OutboxMessage.objects.values("payload"))),
    ]
    return [b for b in blobs if number in b]


def test_my_number_record_encrypts_and_commits():
    # std 4.4 (j900): 個人番号の指定 (職権記載); DESIGN invariant 6
    person = resident()
    change = identity.submit_my_number_record(
        f.clerk(), identity.MyNumberRecordInput(atena_no=person.atena_no, my_number=NUMBER)
    )
    assert change.change_reason == "my_number_ex_officio_entry"
    commit(change)
    person.refresh_from_db()
    assert crypto.reveal_my_number(person.my_number) == NUMBER
    assert person.my_number.lookup_hash == crypto.my_number_lookup_hash(NUMBER)
    history = latest(person.atena_no)
    assert history.change_reason == "my_number_ex_officio_entry"
    assert history.my_number_id == person.my_number_id
    assert _leaks(NUMBER) == []


def test_my_number_record_accepts_full_width_and_hyphens():
    person = resident()
    typed = "１２３４-５６７８-９０１８"
    commit(
        identity.submit_my_number_record(
            f.clerk(), identity.MyNumberRecordInput(atena_no=person.atena_no, my_number=typed)
        )
    )
    person.refresh_from_db()
    assert crypto.reveal_my_number(person.my_number) == NUMBER


def test_my_number_errors_never_echo_the_number():
    person = resident()
    for typed, code in (
        (BAD_CHECK_DIGIT, "my_number.check_digit"),
        ("12345678901x", "my_number.digits"),
        ("1234567890", "my_number.length"),
        ("", "my_number.empty"),
    ):
        with pytest.raises(FindingsError) as exc:
            identity.submit_my_number_record(
                f.clerk(), identity.MyNumberRecordInput(atena_no=person.atena_no, my_number=typed)
            )
        assert codes_of(exc) == {code}
        finding = next(iter(exc.value.findings))
        assert finding.field == "my_number"
        if typed:
            assert typed not in finding.message + finding.remedy
    assert not Change.objects.filter(procedure="my_number_record").exists()
    data = identity.MyNumberRecordInput(atena_no=person.atena_no, my_number=NUMBER)
    assert NUMBER not in repr(data) and NUMBER not in data.model_dump_json()


def test_my_number_duplicates_name_the_other_person_not_the_number():
    # duplicate check by lookup hash across every resident, current or removed
    holder = resident(my_number=NUMBER)
    person = resident()
    with pytest.raises(FindingsError) as exc:
        identity.submit_my_number_record(
            f.clerk(), identity.MyNumberRecordInput(atena_no=person.atena_no, my_number=NUMBER)
        )
    assert codes_of(exc) == {"duplicate.my_number"}
    finding = next(iter(exc.value.findings))
    assert holder.atena_no in finding.message and NUMBER not in finding.message
    # a number waiting in another draft
    third = resident()
    identity.submit_my_number_record(
        f.clerk(), identity.MyNumberRecordInput(atena_no=third.atena_no, my_number=OTHER_NUMBER)
    )
    with pytest.raises(FindingsError) as exc:
        identity.submit_my_number_record(
            f.clerk(),
            identity.MyNumberRecordInput(atena_no=person.atena_no, my_number=OTHER_NUMBER),
        )
    assert codes_of(exc) == {"duplicate.my_number_draft"}
    assert third.atena_no in next(iter(exc.value.findings)).message
    # already recorded
    with pytest.raises(FindingsError) as exc:
        identity.submit_my_number_record(
            f.clerk(),
            identity.MyNumberRecordInput(atena_no=holder.atena_no, my_number=THIRD_NUMBER),
        )
    assert codes_of(exc) == {"my_number.already_recorded"}
    assert _leaks(NUMBER) == [] and _leaks(OTHER_NUMBER) == []


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("request", "my_number_change_request"),
        ("ex_officio_change", "my_number_ex_officio_amendment"),
        ("correction", "my_number_ex_officio_amendment"),
    ],
)
def test_my_number_change(kind, reason):
    # std 4.4 (j900): 請求・職権による変更, 誤記の職権修正; std 1.2.2 (j210) reasons
    person = resident(my_number=NUMBER)
    old_row = person.my_number_id
    change = identity.submit_my_number_change(
        f.clerk(),
        identity.MyNumberChangeInput(atena_no=person.atena_no, my_number=OTHER_NUMBER, kind=kind),
    )
    assert change.change_reason == reason
    assert change.notified_on == (dt.date.today() if kind == "request" else None)
    commit(change)
    person.refresh_from_db()
    assert person.my_number_id != old_row
    assert crypto.reveal_my_number(person.my_number) == OTHER_NUMBER
    assert latest(person.atena_no).change_reason == reason
    # the previous snapshot still holds the previous number
    first = ResidentHistory.objects.get(atena_no=person.atena_no, history_no=1)
    assert crypto.reveal_my_number(first.my_number) == NUMBER
    assert _leaks(NUMBER) == [] and _leaks(OTHER_NUMBER) == []


def test_my_number_change_errors():
    person = resident(my_number=NUMBER)
    no_number = resident()
    holder = resident(my_number=THIRD_NUMBER)

    def change(atena, number, kind="request", **extra):
        with pytest.raises(FindingsError) as exc:
            identity.submit_my_number_change(
                f.clerk(),
                identity.MyNumberChangeInput(atena_no=atena, my_number=number, kind=kind, **extra),
            )
        return codes_of(exc)

    assert change(person.atena_no, NUMBER) == {"my_number.unchanged"}
    assert change(no_number.atena_no, OTHER_NUMBER) == {"my_number.not_recorded"}
    assert change(person.atena_no, THIRD_NUMBER) == {"duplicate.my_number"}
    assert change(person.atena_no, BAD_CHECK_DIGIT) == {"my_number.check_digit"}
    assert change(person.atena_no, OTHER_NUMBER, "correction", notified_on=dt.date.today()) == {
        "notified_on.not_applicable"
    }
    assert holder.atena_no
    assert _leaks(NUMBER) == [] and _leaks(BAD_CHECK_DIGIT) == []


# --------------------------------------------------------------------------- 旧氏


def test_former_family_name_entry_change_and_removal():
    # std 1.1.7 (j70): 請求に基づく旧氏の記載・変更・削除; std 1.1.18 (j180) 旧氏の振り仮名
    person = resident()
    clerk = f.clerk()
    change = identity.submit_former_family_name_entry(
        clerk,
        identity.FormerFamilyNameInput(
            atena_no=person.atena_no,
            former_family_name="髙橋",
            former_family_name_kana="たかはし",
        ),
    )
    assert change.change_reason == "former_family_name_entry"
    assert change.notified_on == change.occurred_on == dt.date.today()
    commit(change)
    person.refresh_from_db()
    assert person.former_family_name == "髙橋"
    assert person.former_family_name_kana == "タカハシ"
    assert person.former_kana_key
    commit(
        identity.submit_former_family_name_change(
            clerk,
            identity.FormerFamilyNameInput(
                atena_no=person.atena_no,
                former_family_name="高橋",
                former_family_name_kana="タカハシ",
            ),
        )
    )
    person.refresh_from_db()
    assert person.former_family_name == "高橋"
    assert latest(person.atena_no).change_reason == "former_family_name_change"
    commit(
        identity.submit_former_family_name_removal(
            clerk, identity.FormerFamilyNameRemovalInput(atena_no=person.atena_no)
        )
    )
    person.refresh_from_db()
    assert person.former_family_name == person.former_family_name_kana == ""
    reasons = list(
        ResidentHistory.objects.filter(atena_no=person.atena_no)
        .order_by("history_no")
        .values_list("change_reason", flat=True)
    )
    assert reasons == [
        "domestic_move_in",
        "former_family_name_entry",
        "former_family_name_change",
        "former_family_name_removal",
    ]


def test_former_family_name_errors_and_alerts():
    person = resident()
    clerk = f.clerk()

    def refused(submit, data):
        with pytest.raises(FindingsError) as exc:
            submit(clerk, data)
        return codes_of(exc)

    entry = identity.FormerFamilyNameInput
    assert refused(
        identity.submit_former_family_name_change,
        entry(
            atena_no=person.atena_no, former_family_name="高橋", former_family_name_kana="タカハシ"
        ),
    ) == {"former_family_name.none"}
    assert refused(
        identity.submit_former_family_name_removal,
        identity.FormerFamilyNameRemovalInput(atena_no=person.atena_no),
    ) == {"former_family_name.none"}
    assert refused(
        identity.submit_former_family_name_entry,
        entry(atena_no=person.atena_no, former_family_name="高橋", former_family_name_kana=""),
    ) == {"name_kana.empty"}
    assert refused(
        identity.submit_former_family_name_entry,
        entry(atena_no=person.atena_no, former_family_name="", former_family_name_kana="タカ"),
    ) == {"name.empty"}
    assert refused(
        identity.submit_former_family_name_entry,
        entry(atena_no=person.atena_no, former_family_name="高橋", former_family_name_kana="Taka"),
    ) == {"name_kana.script"}
    same = entry(
        atena_no=person.atena_no, former_family_name="相模", former_family_name_kana="サガミ"
    )
    assert refused(identity.submit_former_family_name_entry, same) == {
        "former_family_name.same_as_current"
    }
    commit(
        identity.submit_former_family_name_entry(
            clerk, same, acknowledged=["former_family_name.same_as_current"]
        )
    )
    # (the unacknowledged alert is listed with the error)
    assert "former_family_name.exists" in refused(identity.submit_former_family_name_entry, same)
    assert refused(identity.submit_former_family_name_change, same) == {
        "former_family_name.unchanged",
        "former_family_name.same_as_current",
    }
    foreigner = f.committed_move_in(
        f.person(
            resident_type="foreign",
            family_name="",
            given_name="",
            name_alphabet="SMITH JOHN",
            name_kana="スミス ジョン",
            honseki="",
            koseki_head="",
            nationality="米国",
        ),
        kind="abroad",
        certificate=None,
    )[1][0]
    assert refused(
        identity.submit_former_family_name_entry,
        entry(
            atena_no=foreigner.atena_no,
            former_family_name="高橋",
            former_family_name_kana="タカハシ",
        ),
    ) == {"former_family_name.foreign"}


# --------------------------------------------------------------------------- jumin codes


def test_codes_load_and_status(tmp_path):
    # std 4.3.1 (j870): codes obtained from the CS are stored
    good = codes(5)
    path = tmp_path / "codes.txt"
    path.write_text(
        "\ufeff# 空きコード\n" + "\n".join(good[:3]) + "\n\n" + " ".join(good[3:4]) + "\n"
    )
    out = StringIO()
    call_command("codes", "load", str(path), stdout=out)
    assert "4件の空きコードを取り込みました" in out.getvalue()
    assert set(JuminhyoCodePool.objects.values_list("code", flat=True)) == set(good[:4])
    path.write_text("\n".join(good))
    out = StringIO()
    call_command("codes", "load", str(path), stdout=out)
    assert "1件の空きコードを取り込みました（取込済みのため読み飛ばし 4件）" in out.getvalue()
    assert (
        OperationLogEntry.objects.filter(function="住民票コード（空きコード）の取込").count() == 2
    )
    out = StringIO()
    call_command("codes", "status", stdout=out)
    text = out.getvalue()
    assert "空きコード: 5件" in text and "合計: 5件" in text and "警告" not in text


def test_codes_load_loads_nothing_when_a_line_is_bad(tmp_path):
    good = codes(4)
    person = resident(juminhyo_code=good[3])
    bad = good[0][:10] + str((int(good[0][10]) + 1) % 10)
    path = tmp_path / "codes.txt"
    path.write_text("\n".join([good[1], bad, good[2], good[1], "abc", good[3]]) + "\n")
    err = StringIO()
    with pytest.raises(CommandError, match="4行に誤りがあるため、1件も取り込みませんでした"):
        call_command("codes", "load", str(path), stderr=err)
    report = err.getvalue()
    assert "2行目: 住民票コード" in report and "チェックデジット" in report
    assert "4行目: 住民票コード" in report and "1行目と重複" in report
    assert "5行目: 住民票コード「abc」" in report
    assert f"6行目: 住民票コード {good[3]} は宛名番号 {person.atena_no} に記載済み" in report
    assert not JuminhyoCodePool.objects.exists()


def test_codes_load_refuses_unreadable_files(tmp_path):
    with pytest.raises(CommandError, match="ありません"):
        call_command("codes", "load", str(tmp_path / "missing.txt"))
    path = tmp_path / "sjis.txt"
    path.write_bytes("空き".encode("shift_jis"))
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("codes", "load", str(path))


def test_codes_status_warns_below_the_minimum():
    fill_pool(1)
    out = StringIO()
    call_command("codes", "status", stdout=out)
    assert "空きコード: 1件" in out.getvalue()
    assert "警告: 空きコードが下限（2件）を下回っています" in out.getvalue()


def test_specs_are_listed():
    names = [s.name for s in identity.SPECS]
    assert names == [
        "juminhyo_code_assign",
        "juminhyo_code_change",
        "juminhyo_code_correction",
        "my_number_record",
        "my_number_change",
        "former_family_name_entry",
        "former_family_name_change",
        "former_family_name_removal",
    ]
