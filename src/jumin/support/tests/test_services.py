"""支援措置の管理 (std 1.1.16 j160, 3.4 j440): registering a measure (provisional protection at
once), confirming it (the one-year period set automatically), extending it from one month
before the end, ending it; the alerts before and after the end; every change in the history
and the operation log, without the abuser's details or an address."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from jumin.audit.models import Category, OperationLogEntry
from jumin.core.findings import FindingsError
from jumin.register.models import Resident
from jumin.register.procedures import moves
from jumin.register.tests import factories as f
from jumin.support import selectors, services
from jumin.support.models import SupportEvent, SupportMeasure, SupportStatus
from jumin.support.schemas import ConfirmIn, ExtendIn, TerminateIn
from jumin.support.tests import factories as sf

pytestmark = pytest.mark.django_db

D = dt.date


def freeze(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def codes(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.code for x in exc.value.findings}


def fields(exc: pytest.ExceptionInfo[FindingsError]) -> set[str]:
    return {x.field for x in exc.value.findings}


def last_entry():
    return OperationLogEntry.objects.order_by("-seq").first()


@pytest.fixture
def officer():
    return sf.officer()


@pytest.fixture
def family():
    _, members = f.family()
    return members


# --------------------------------------------------------------------------- register


def test_registering_protects_at_once_as_provisional(officer, family):
    # std 3.4 (j440): 申出から支援措置開始までの期間も仮支援措置としてエラーとする
    head, wife, son, daughter = family
    measure = sf.provisional(
        wife,
        officer,
        covered=[
            {"atena_no": son.atena_no, "relationship": "子"},
            {"name": "相模 小太郎", "name_kana": "さがみ こたろう", "birth_date": "2020-02-02"},
        ],
    )
    assert measure.status == SupportStatus.PROVISIONAL
    assert measure.provisional_since == timezone.localdate()
    assert measure.start_on is None and measure.end_on is None
    assert measure.applicant_name == wife.name
    # std 1.1.16 (j160): the applicant, those covered (in or outside the register), the abuser
    subjects = {(s.role, s.atena_no, s.name) for s in measure.subjects.all()}
    assert ("applicant", wife.atena_no, wife.name) in subjects
    assert ("covered", son.atena_no, son.name) in subjects
    assert ("covered", "", "相模 小太郎") in subjects
    outside = measure.subjects.get(atena_no="")
    assert outside.name_kana == "サガミ　コタロウ"  # stored as the register stores readings
    abuser = measure.abusers.get()
    assert (abuser.name, abuser.relationship) == ("加害 次郎", "元配偶者")
    assert selectors.is_protected(wife.atena_no)
    assert selectors.is_protected(son.atena_no)
    assert not selectors.is_protected(head.atena_no)
    assert not selectors.is_protected(daughter.atena_no)
    assert selectors.protected_among([head.atena_no, wife.atena_no, son.atena_no]) == {
        wife.atena_no,
        son.atena_no,
    }
    event = measure.events.get()
    assert (event.action, event.status_after) == ("register", "provisional")
    entry = last_entry()
    assert entry.function == services.FUNCTION_REGISTER
    assert entry.category == Category.CHANGE_ADD
    assert sorted(entry.targets) == sorted([wife.atena_no, son.atena_no])
    assert entry.detail["measure_id"] == measure.pk
    logged = json.dumps([entry.detail, entry.targets], ensure_ascii=False)
    for secret in ("加害", "カガイ", "西新宿", "090-0000-0000", wife.address, head.atena_no):
        assert secret not in logged


def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(officer, family):
    head, *_ = family
    future = timezone.localdate() + dt.timedelta(days=3)
    with pytest.raises(FindingsError) as exc:
        sf.provisional(
            head,
            officer,
            applied_on=future,
            covered=[{"atena_no": "999999"}, {"name": "外部 花子"}, {"atena_no": head.atena_no}],
            abusers=[{"name": "", "name_kana": "kagai"}],
        )
    assert fields(exc) >= {
        "applied_on",
        "covered.0.atena_no",
        "covered.1.birth_date",
        "covered.2.atena_no",
        "abusers.0.name",
        "abusers.0.name_kana",
    }
    assert "support.future_date" in codes(exc)
    for finding in exc.value.findings:
        assert finding.message  # Japanese text for the clerk
    assert not SupportMeasure.objects.exists()
    with pytest.raises(FindingsError) as exc:
        services.register(officer, sf.measure_input(head, atena_no="000000"))
    assert codes(exc) == {"support.applicant_unknown"}


def test_only_support_officers_manage_measures(family):
    clerk = f.clerk()
    with pytest.raises(PermissionDenied):
        sf.provisional(family[0], clerk)
    with pytest.raises(PermissionDenied):
        services.list_measures(clerk)
    assert not SupportMeasure.objects.exists()


# --------------------------------------------------------------------------- period


def test_confirming_sets_the_end_one_year_minus_a_day(officer, family, monkeypatch):
    # std 3.4 (j440): 例）開始年月日が令和2年4月1日の場合、終了年月日が令和3年3月31日
    freeze(monkeypatch, D(2020, 4, 1))
    measure = sf.provisional(family[1], officer, applied_on=D(2020, 3, 25))
    measure = services.confirm(officer, measure.pk, ConfirmIn(start_on=D(2020, 4, 1)))
    assert measure.status == SupportStatus.ACTIVE
    assert (measure.start_on, measure.end_on) == (D(2020, 4, 1), D(2021, 3, 31))
    event = measure.events.order_by("-id").first()
    assert (event.action, event.status_before, event.status_after) == (
        "confirm",
        "provisional",
        "active",
    )
    assert (event.start_on, event.end_on) == (D(2020, 4, 1), D(2021, 3, 31))
    entry = last_entry()
    assert entry.function == services.FUNCTION_CONFIRM
    assert entry.detail["end_on"] == "2021-03-31"


def test_a_period_starting_on_a_leap_day(officer, family, monkeypatch):
    # std 3.4 (j440) with 民法第143条: 2024-02-29 → 2025-02-28
    freeze(monkeypatch, D(2024, 3, 4))
    measure = sf.provisional(family[1], officer, applied_on=D(2024, 2, 28))
    measure = services.confirm(officer, measure.pk, ConfirmIn(start_on=D(2024, 2, 29)))
    assert measure.end_on == D(2025, 2, 28)


def test_the_end_date_can_be_corrected_with_a_reason(officer, family):
    # std 3.4 (j440): 自動的に設定及び表示され、必要に応じて修正できること
    measure = sf.provisional(family[1], officer)
    start = timezone.localdate()
    corrected = start + dt.timedelta(days=200)
    with pytest.raises(FindingsError) as exc:
        services.confirm(officer, measure.pk, ConfirmIn(start_on=start, end_on=corrected))
    assert codes(exc) == {"support.adjustment_reason_required"}
    assert SupportMeasure.objects.get(pk=measure.pk).status == SupportStatus.PROVISIONAL
    with pytest.raises(FindingsError) as exc:
        services.confirm(
            officer,
            measure.pk,
            ConfirmIn(start_on=start, end_on=start - dt.timedelta(days=1), note="誤り"),
        )
    assert "support.end_before_start" in codes(exc)
    measure = services.confirm(
        officer, measure.pk, ConfirmIn(start_on=start, end_on=corrected, note="裁判所の命令の期間")
    )
    assert measure.end_on == corrected
    assert last_entry().detail["end_adjusted"] is True
    with pytest.raises(FindingsError) as exc:
        services.confirm(officer, measure.pk, ConfirmIn())
    assert codes(exc) == {"support.not_provisional"}


def test_extension_only_from_one_month_before_the_end(officer, family, monkeypatch):
    # std 3.4 (j440): 期間終了日の1か月前から延長処理; 延長後は終了日の翌日から1年間
    freeze(monkeypatch, D(2025, 4, 1))
    measure = sf.active(family[1], officer, start_on=D(2025, 4, 1))
    assert measure.end_on == D(2026, 3, 31)
    freeze(monkeypatch, D(2026, 2, 27))
    with pytest.raises(FindingsError) as exc:
        services.extend(officer, measure.pk, ExtendIn())
    assert codes(exc) == {"support.extend_too_early"}
    assert "令和8年2月28日" in exc.value.findings.items[0].message  # the day it opens
    assert SupportMeasure.objects.get(pk=measure.pk).end_on == D(2026, 3, 31)
    freeze(monkeypatch, D(2026, 2, 28))
    measure = services.extend(officer, measure.pk, ExtendIn())
    assert measure.status == SupportStatus.EXTENDED
    assert measure.end_on == D(2027, 3, 31)
    assert measure.extensions == 1
    event = measure.events.order_by("-id").first()
    assert (event.action, event.start_on, event.end_on) == ("extend", D(2026, 4, 1), D(2027, 3, 31))
    entry = last_entry()
    assert entry.function == services.FUNCTION_EXTEND
    assert entry.detail["previous_end_on"] == "2026-03-31"
    # a second extension waits for the next window
    with pytest.raises(FindingsError) as exc:
        services.extend(officer, measure.pk, ExtendIn())
    assert codes(exc) == {"support.extend_too_early"}


def test_extending_across_a_leap_year(officer, family, monkeypatch):
    # std 3.4 (j440): a year from the day after 2027-02-28 ends on 2028-02-29
    freeze(monkeypatch, D(2026, 3, 1))
    measure = sf.active(family[1], officer, start_on=D(2026, 3, 1))
    assert measure.end_on == D(2027, 2, 28)
    freeze(monkeypatch, D(2027, 2, 1))
    assert services.extend(officer, measure.pk, ExtendIn()).end_on == D(2028, 2, 29)


def test_a_provisional_measure_cannot_be_extended(officer, family):
    measure = sf.provisional(family[1], officer)
    with pytest.raises(FindingsError) as exc:
        services.extend(officer, measure.pk, ExtendIn())
    assert codes(exc) == {"support.not_active"}


def test_termination_ends_the_protection(officer, family, monkeypatch):
    # std 3.4 (j440): 申出、期間の経過、必要性がなくなったとき、支援措置を終了できる
    freeze(monkeypatch, D(2025, 4, 1))
    measure = sf.active(family[1], officer, start_on=D(2025, 4, 1))
    with pytest.raises(FindingsError) as exc:
        services.terminate(officer, measure.pk, TerminateIn(reason="expired"))
    assert codes(exc) == {"support.not_expired"}
    with pytest.raises(FindingsError) as exc:
        services.terminate(officer, measure.pk, TerminateIn(reason="other"))
    assert codes(exc) == {"support.note_required"}
    assert selectors.is_protected(family[1].atena_no)
    measure = services.terminate(officer, measure.pk, TerminateIn(reason="requested"))
    assert measure.status == SupportStatus.TERMINATED
    assert measure.ended_on == D(2025, 4, 1)
    assert not selectors.is_protected(family[1].atena_no)
    assert last_entry().function == services.FUNCTION_TERMINATE
    with pytest.raises(FindingsError) as exc:
        services.terminate(officer, measure.pk, TerminateIn(reason="requested"))
    assert codes(exc) == {"support.already_ended"}


def test_ending_after_the_period_without_an_extension(officer, family, monkeypatch):
    freeze(monkeypatch, D(2025, 4, 1))
    measure = sf.active(family[1], officer, start_on=D(2025, 4, 1))
    freeze(monkeypatch, D(2026, 4, 1))
    # std 3.4: the period is over but the protection holds until the officer records the end
    assert selectors.is_protected(family[1].atena_no)
    measure = services.terminate(officer, measure.pk, TerminateIn(reason="expired"))
    assert measure.status == SupportStatus.ENDED
    assert not selectors.is_protected(family[1].atena_no)


def test_every_change_is_in_the_history(officer, family, monkeypatch):
    freeze(monkeypatch, D(2025, 4, 1))
    measure = sf.active(family[1], officer, start_on=D(2025, 4, 1))
    freeze(monkeypatch, D(2026, 3, 15))
    services.extend(officer, measure.pk, ExtendIn())
    services.terminate(officer, measure.pk, TerminateIn(reason="not_needed", note="確認済み"))
    actions = list(
        SupportEvent.objects.filter(measure=measure).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["register", "confirm", "extend", "terminate"]
    assert all(
        e.operator_code == officer.staff.staff_id
        for e in SupportEvent.objects.filter(measure=measure)
    )


# --------------------------------------------------------------------------- alerts


def test_alerts_before_and_after_the_end(officer, family, monkeypatch, settings):
    # std 3.4 (j440): 1か月以内に期間が終了する旨のアラート / 期間が終了している旨のアラート
    freeze(monkeypatch, D(2025, 4, 1))
    measure = sf.active(family[1], officer, start_on=D(2025, 4, 1))  # ends 2026-03-31
    assert services.alerts_for(officer) == []
    freeze(monkeypatch, D(2026, 3, 11))
    (alert,) = services.alerts_for(officer)
    assert (alert.code, alert.measure_id, alert.days_left) == ("support.ending", measure.pk, 20)
    assert "令和8年3月31日" in alert.message
    assert family[1].name not in alert.message  # the home page shows no personal data
    settings.JUMIN = {**settings.JUMIN, "SUPPORT_ALERT_DAYS": 10}
    assert services.alerts_for(officer) == []
    freeze(monkeypatch, D(2026, 4, 1))
    (alert,) = services.alerts_for(officer)
    assert (alert.code, alert.days_left) == ("support.expired", -1)
    assert services.alerts_for(f.clerk()) == []  # only for those who may read measures
    banner = selectors.banner(family[1].atena_no)
    assert banner is not None
    assert any("終了しています" in text for text in banner.alerts)


def test_the_person_banner_warns_within_a_month(officer, family, monkeypatch):
    # std 3.4 (j440): 期間終了日の1か月前から…参照する際には…アラート
    freeze(monkeypatch, D(2025, 4, 1))
    sf.active(family[1], officer, start_on=D(2025, 4, 1))
    freeze(monkeypatch, D(2026, 2, 27))
    banner = selectors.banner(family[1].atena_no)
    assert banner is not None and banner.alerts == []
    freeze(monkeypatch, D(2026, 2, 28))
    banner = selectors.banner(family[1].atena_no)
    assert banner is not None
    assert ["1か月以内" in text for text in banner.alerts] == [True]


# --------------------------------------------------------------------------- moving out


def _move_out(person: Resident, planned_on: dt.date) -> None:
    inp = moves.MoveOutInput.model_validate(
        {
            "planned_on": planned_on,
            "notified_on": timezone.localdate(),
            "destination": {
                "kind": "domestic",
                "municipality_code": "131016",
                "address": "東京都千代田区霞が関一丁目1番1号",
            },
            "persons": [person.atena_no],
        }
    )
    clerk = f.clerk()
    try:
        change = moves.submit_move_out(clerk, inp, acknowledged=[])
    except FindingsError as exc:
        if exc.findings.has_errors:
            raise
        change = moves.submit_move_out(clerk, inp, acknowledged=[x.code for x in exc.findings])
    from jumin.register import services as register_services

    register_services.commit_change(f.reviewer(), change.pk)


def test_the_measure_follows_the_person_after_moving_out(officer, family, monkeypatch):
    # std 3.4 (j440): 支援対象者が転出した場合にも…支援措置が継続されるよう
    from jumin.register import reads

    wife = family[1]
    sf.active(wife, officer)
    _move_out(wife, timezone.localdate())
    assert Resident.objects.get(atena_no=wife.atena_no).status == "removed"
    assert selectors.is_protected(wife.atena_no)
    with pytest.raises(FindingsError) as exc:
        reads.get_resident(f.clerk(), wife.atena_no)
    assert codes(exc) == {"support.protected"}
    view = reads.get_resident(officer, wife.atena_no)
    assert view.is_removed and view.support_protected


def test_a_measure_can_be_registered_for_a_removed_record(officer, family):
    # std 1.1.16 (j160): 前住所地市区町村の場合 — the 除票 keeps its 宛名番号
    wife = family[1]
    _move_out(wife, timezone.localdate())
    measure = sf.provisional(wife, officer)
    assert selectors.is_protected(wife.atena_no)
    assert measure.atena_no == wife.atena_no
