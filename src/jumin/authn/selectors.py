"""Reads of the authentication state (the caller has checked the permission)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from jumin.accounts.models import Staff
from jumin.authn.models import EnrolmentLink, LoginFailureState, WebAuthnCredential


def credentials_of(staff: Staff, *, include_revoked: bool = False) -> QuerySet[WebAuthnCredential]:
    qs = WebAuthnCredential.objects.filter(staff=staff)
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    return qs.order_by("created_at", "pk")


def credential_list(staff_id: str | None = None) -> QuerySet[WebAuthnCredential]:
    qs = WebAuthnCredential.objects.select_related("staff").order_by("staff__staff_id", "pk")
    if staff_id:
        qs = qs.filter(staff__staff_id=staff_id)
    return qs


def staff_by_pk(pk: int) -> Staff | None:
    return Staff.objects.filter(pk=pk).first()


@dataclass(frozen=True)
class StaffAuthRow:
    staff: Staff
    active_credentials: int
    locked: bool
    open_link_expires: object  # datetime | None


def overview() -> list[StaffAuthRow]:
    """Every member of staff with their authenticators, lock and open link."""
    now = timezone.now()
    staff = Staff.objects.order_by("staff_id").annotate(
        active=Count(
            "webauthn_credentials", filter=Q(webauthn_credentials__revoked_at__isnull=True)
        )
    )
    locked = set(
        LoginFailureState.objects.filter(locked_until__gt=now).values_list("staff_id", flat=True)
    )
    links = {
        link.staff_id: link.expires_at
        for link in EnrolmentLink.objects.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        )
    }
    return [
        StaffAuthRow(
            staff=s,
            active_credentials=int(getattr(s, "active", 0)),
            locked=s.staff_id in locked,
            open_link_expires=links.get(s.pk),
        )
        for s in staff
    ]


def lock_states() -> QuerySet[LoginFailureState]:
    return LoginFailureState.objects.order_by("staff_id")
