"""Reads of the support-measure database (std 1.1.16 j160, 2.2.4 j380, 3.4 j440).

The cheap questions other parts of the system ask on every request:

- :func:`is_protected` / :func:`protected_among` — is this person (applicant or covered) under
  a measure that protects (provisional, active, extended)? One indexed query on
  ``SupportSubject.atena_no`` joined to the measure's status; no register data is read and
  nothing is logged (the caller logs its own read);
- :func:`matches_abuser` — does a requester match an abuser of a protecting measure (reading
  by the fuzzy key of std 2.1.2, and birth date)?

and the data of the screens (lists, details, banner, home alerts), which the services and the
screens log.

A measure ended or terminated protects no longer. A measure whose end date has passed without
an extension still protects until a support-measure officer records its end: the protection
fails closed, and the alert "期間が終了しています" asks the officer to extend or end it
(std 3.4: 期間が終了しても延長されないときは…アラートを表示).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from jumin.core.errors import CoreError
from jumin.core.names import kana_search_key
from jumin.core.wareki import format_wareki
from jumin.support import conf, period
from jumin.support.models import (
    PROTECTING,
    EndReason,
    SubjectRole,
    SupportAbuser,
    SupportEvent,
    SupportKind,
    SupportLift,
    SupportMeasure,
    SupportStatus,
    SupportSubject,
)

KIND_CHOICES = list(SupportKind.choices)
STATUS_CHOICES = list(SupportStatus.choices)
END_REASON_CHOICES = list(EndReason.choices)
ROLE_CHOICES = list(SubjectRole.choices)


def today() -> dt.date:
    return timezone.localdate()


def alert_days() -> int:
    return conf.alert_days()


# --------------------------------------------------------------------------- the gate's reads


def _protecting_subjects() -> QuerySet[SupportSubject]:
    return SupportSubject.objects.filter(measure__status__in=PROTECTING).exclude(atena_no="")


def is_protected(atena_no: str) -> bool:
    """True when the person is the applicant of, or covered by, a protecting measure."""
    if not atena_no:
        return False
    return _protecting_subjects().filter(atena_no=atena_no).exists()


def protected_among(atena_nos: Iterable[str]) -> frozenset[str]:
    """The protected persons among ``atena_nos`` (one query)."""
    wanted = {a for a in atena_nos if a}
    if not wanted:
        return frozenset()
    return frozenset(
        _protecting_subjects()
        .filter(atena_no__in=sorted(wanted))
        .values_list("atena_no", flat=True)
        .distinct()
    )


def protected_exists(ref: str = "atena_no") -> Exists:
    """``EXISTS`` a protecting measure for the outer query's ``ref`` column (an annotation that
    answers :func:`is_protected` within another query)."""
    return Exists(_protecting_subjects().filter(atena_no=OuterRef(ref)))


def protected_atena_nos() -> QuerySet[SupportSubject, Any]:
    """A subquery of every protected 宛名番号 (``atena_no__in=`` in another query)."""
    return _protecting_subjects().values("atena_no")


def _kana_key(name_kana: str) -> str:
    try:
        return kana_search_key(name_kana or "")
    except CoreError:
        return ""


def matches_abuser(name_kana: str, birth_date: dt.date | None) -> bool:
    """True when a person with this reading and birth date matches an abuser of a protecting
    measure: the fuzzy reading keys (std 2.1.2) are equal and the birth dates are equal, or the
    abuser's birth date is not known (a match on the reading alone: the request is refused and
    looked at by the support-measure officer). A blank reading never matches."""
    key = _kana_key(name_kana)
    if not key:
        return False
    qs = SupportAbuser.objects.filter(kana_key=key, measure__status__in=PROTECTING)
    if birth_date is not None:
        qs = qs.filter(Q(birth_date=birth_date) | Q(birth_date__isnull=True))
    return qs.exists()


# --------------------------------------------------------------------------- screens


@dataclass(frozen=True)
class PeriodState:
    """Where a measure stands on a day: what the banner and the alerts say."""

    code: str  # provisional | active | ending | expired | ended
    label: str
    days_left: int | None
    can_extend: bool
    extension_opens: dt.date | None


def period_state(measure: SupportMeasure, day: dt.date | None = None) -> PeriodState:
    day = day or today()
    if measure.status == SupportStatus.PROVISIONAL:
        return PeriodState("provisional", "仮支援措置中（必要性の確認中）", None, False, None)
    if measure.status not in PROTECTING or measure.end_on is None:
        return PeriodState("ended", measure.get_status_display(), None, False, None)
    left = period.days_left(measure.end_on, day)
    opens = period.extension_opens(measure.end_on)
    can = period.can_extend_on(measure.end_on, day)
    if left < 0:
        return PeriodState("expired", "期間終了（延長・終了の処理が必要）", left, can, opens)
    if can:
        return PeriodState("ending", f"期間終了まで{left}日", left, can, opens)
    return PeriodState("active", measure.get_status_display(), left, can, opens)


def measure_list(
    *, status: str = "", kind: str = "", atena_no: str = ""
) -> QuerySet[SupportMeasure]:
    qs = SupportMeasure.objects.all()
    if status == "protecting":
        qs = qs.filter(status__in=PROTECTING)
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if atena_no:
        qs = qs.filter(
            Q(atena_no=atena_no) | Q(subjects__atena_no=atena_no) | Q(abusers__atena_no=atena_no)
        ).distinct()
    return qs.order_by("end_on", "id")


def measure_detail(measure_id: int) -> SupportMeasure | None:
    return (
        SupportMeasure.objects.filter(pk=measure_id)
        .prefetch_related(
            Prefetch("subjects", queryset=SupportSubject.objects.order_by("role", "id")),
            Prefetch("abusers", queryset=SupportAbuser.objects.order_by("id")),
            Prefetch(
                "events",
                queryset=SupportEvent.objects.select_related("staff").order_by("id"),
            ),
        )
        .first()
    )


def measures_of(atena_no: str) -> list[SupportMeasure]:
    """The protecting measures whose subjects include the person."""
    return list(
        SupportMeasure.objects.filter(status__in=PROTECTING, subjects__atena_no=atena_no)
        .distinct()
        .order_by("id")
    )


def lifts_for(atena_nos: Iterable[str], limit: int = 20) -> list[SupportLift]:
    """Recent lifts naming any of the persons (newest first)."""
    wanted = sorted({a for a in atena_nos if a})
    rows = SupportLift.objects.select_related("officer", "used_by", "for_staff").order_by("-id")
    out = []
    for lift in rows[:500]:
        if set(lift.targets) & set(wanted):
            out.append(lift)
            if len(out) >= limit:
                break
    return out


def recent_lifts(limit: int = 30) -> list[SupportLift]:
    return list(
        SupportLift.objects.select_related("officer", "used_by", "for_staff").order_by("-id")[
            :limit
        ]
    )


def applicant_record_state(atena_no: str, day: dt.date | None = None) -> str:
    """Where the applicant's record stands, for the measure's screen (std 3.4: after a 転出 the
    city keeps the measure as the previous-address municipality): a short Japanese label."""
    from jumin.register import status as resident_status
    from jumin.register.models import Resident

    day = day or today()
    record = Resident.objects.filter(atena_no=atena_no).first()
    if record is None:
        return "住民記録なし"
    if resident_status.moving_out_on(record, day) is not None:
        return "転出予定（転出後も前住所地として支援措置を継続）"
    if resident_status.is_resident_on(record, day):
        return "住民"
    if record.removal_reason in resident_status.MOVE_OUT_REASONS:
        return "転出済み（前住所地市区町村として支援措置を継続）"
    return f"消除（{record.get_removal_reason_display()}）"


# --------------------------------------------------------------------------- banner


@dataclass(frozen=True)
class BannerMeasure:
    measure_id: int
    kind: str
    status: str
    role: str  # 申出者 / 併せて支援を求める者
    start_on: dt.date | None
    end_on: dt.date | None
    provisional_since: dt.date | None
    state: PeriodState


@dataclass(frozen=True)
class SupportBanner:
    """What the person screen shows of a protected person (std 2.2.4, j380): that a measure
    (or a provisional one) is in force, its period, the alerts of std 3.4, and the way to the
    measure's details."""

    atena_no: str
    measures: list[BannerMeasure]

    @property
    def provisional(self) -> bool:
        return any(m.state.code == "provisional" for m in self.measures)

    @property
    def alerts(self) -> list[str]:
        out = []
        for m in self.measures:
            if m.state.code == "ending" and m.end_on is not None:
                out.append(
                    f"支援措置 第{m.measure_id}号の期間は1か月以内（あと{m.state.days_left}日）に"
                    "終了します。延長の申出があれば延長の処理をしてください。"
                )
            elif m.state.code == "expired" and m.end_on is not None:
                out.append(
                    f"支援措置 第{m.measure_id}号の期間は終了しています（延長されていません）。"
                    "延長または終了の処理をしてください。処理するまで保護を続けます。"
                )
        return out


def banner(atena_no: str, day: dt.date | None = None) -> SupportBanner | None:
    """The banner for a person, or None when no measure protects them."""
    day = day or today()
    subjects = list(
        SupportSubject.objects.filter(atena_no=atena_no, measure__status__in=PROTECTING)
        .select_related("measure")
        .order_by("measure_id")
    )
    if not subjects:
        return None
    out = []
    for subject in subjects:
        m = subject.measure
        out.append(
            BannerMeasure(
                measure_id=m.pk,
                kind=m.get_kind_display(),
                status=m.get_status_display(),
                role=subject.get_role_display(),
                start_on=m.start_on,
                end_on=m.end_on,
                provisional_since=m.provisional_since,
                state=period_state(m, day),
            )
        )
    return SupportBanner(atena_no=atena_no, measures=out)


# --------------------------------------------------------------------------- home alerts


@dataclass(frozen=True)
class SupportAlert:
    """One line for the home page of a support-measure officer. No personal data: the
    measure's number, kind and dates only (the officer opens the measure to see more)."""

    code: str  # support.ending | support.expired | support.provisional
    measure_id: int
    message: str
    end_on: dt.date | None
    days_left: int | None


def alerts(day: dt.date | None = None, within_days: int | None = None) -> list[SupportAlert]:
    """Measures ending within ``within_days`` (default the setting, 30) and measures whose
    period is over without an extension, soonest first."""
    day = day or today()
    within = alert_days() if within_days is None else within_days
    limit = day + dt.timedelta(days=within)
    rows = SupportMeasure.objects.filter(
        status__in=(SupportStatus.ACTIVE, SupportStatus.EXTENDED), end_on__lte=limit
    ).order_by("end_on", "id")
    out: list[SupportAlert] = []
    for m in rows:
        assert m.end_on is not None
        left = period.days_left(m.end_on, day)
        label = f"支援措置 第{m.pk}号（{m.get_kind_display()}）"
        if left < 0:
            out.append(
                SupportAlert(
                    "support.expired",
                    m.pk,
                    f"{label}の期間は{format_wareki(m.end_on)}に終了しましたが、延長も終了の処理も"
                    "されていません。延長または終了の処理をしてください。",
                    m.end_on,
                    left,
                )
            )
        else:
            out.append(
                SupportAlert(
                    "support.ending",
                    m.pk,
                    f"{label}の期間は{format_wareki(m.end_on)}に終了します（あと{left}日）。"
                    "延長の申出の確認と、期間終了通知の出力をしてください。",
                    m.end_on,
                    left,
                )
            )
    return out
