"""Support-measure test data, made the way an officer makes it: through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory, TerminalFactory
from jumin.register.models import Resident
from jumin.support import services
from jumin.support.models import SupportMeasure
from jumin.support.schemas import ConfirmIn, MeasureIn

ABUSER = {
    "name": "加害 次郎",
    "name_kana": "カガイ ジロウ",
    "birth_date": "1975-05-05",
    "sex": "1",
    "address": "東京都新宿区西新宿九丁目9番9号",
    "relationship": "元配偶者",
}


def officer() -> Actor:
    staff = StaffFactory(roles=["support_measure_officer"])
    return Actor.of(staff, TerminalFactory(org_unit=staff.org_unit), "web")


def measure_input(applicant: Resident, **overrides: Any) -> MeasureIn:
    data: dict[str, Any] = {
        "atena_no": applicant.atena_no,
        "applied_on": timezone.localdate() - dt.timedelta(days=2),
        "kind": "dv",
        "contact": "090-0000-0000",
        "abusers": [dict(ABUSER)],
    }
    data.update(overrides)
    return MeasureIn.model_validate(data)


def provisional(
    applicant: Resident, actor: Actor | None = None, **overrides: Any
) -> SupportMeasure:
    return services.register(actor or officer(), measure_input(applicant, **overrides))


def active(
    applicant: Resident,
    actor: Actor | None = None,
    *,
    start_on: dt.date | None = None,
    **overrides: Any,
) -> SupportMeasure:
    actor = actor or officer()
    if start_on is not None:
        overrides.setdefault("applied_on", start_on)
        overrides.setdefault("provisional_since", start_on)
    measure = provisional(applicant, actor, **overrides)
    return services.confirm(actor, measure.pk, ConfirmIn.model_validate({"start_on": start_on}))
