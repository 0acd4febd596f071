"""Demo organisation, terminals and staff for ``jumin demo`` (demo mode only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from jumin.accounts import services
from jumin.accounts.actor import Actor
from jumin.accounts.models import OrgUnit, Staff, Terminal

DEMO_PASSWORD = "jumin-demo-2026"  # noqa: S105 - printed to the demo user on purpose

ORG_UNITS = (
    ("shimin", "市民局 区政支援課", "division", None),
    ("midori-kumin", "緑区役所 区民課", "ward_office", "shimin"),
    ("chuo-kumin", "中央区役所 区民課", "ward_office", "shimin"),
    ("minami-kumin", "南区役所 区民課", "ward_office", "shimin"),
    ("tsukui", "津久井出張所", "branch", "midori-kumin"),
)
TERMINALS = (
    ("CHUO-MADO-01", "中央区役所 1階 窓口1番", "chuo-kumin", True),
    ("CHUO-MADO-02", "中央区役所 1階 窓口2番", "chuo-kumin", True),
    ("MIDORI-MADO-01", "緑区役所 1階 窓口1番", "midori-kumin", True),
    ("MINAMI-MADO-01", "南区役所 1階 窓口1番", "minami-kumin", True),
    ("SHIMIN-KANRI-01", "市役所本庁舎 3階 区政支援課", "shimin", True),
)


@dataclass(frozen=True)
class DemoAccount:
    staff_id: str
    name: str
    kana: str
    org_unit: str
    roles: tuple[str, ...]
    purpose: str
    ward_scope: str = ""  # blank: the whole city


ACCOUNTS = (
    DemoAccount(
        "clerk01", "窓口 一郎", "マドグチ イチロウ", "chuo-kumin", ("counter_clerk",), "窓口担当"
    ),
    DemoAccount(
        "midori01",
        "緑 七海",
        "ミドリ ナナミ",
        "midori-kumin",
        ("counter_clerk",),
        "窓口担当（緑区の住民のみ）",
        ward_scope="緑区",
    ),
    DemoAccount("review01", "審査 花子", "シンサ ハナコ", "chuo-kumin", ("reviewer",), "審査担当"),
    DemoAccount("super01", "監督 次郎", "カントク ジロウ", "chuo-kumin", ("supervisor",), "監督者"),
    DemoAccount(
        "contract01",
        "委託 三子",
        "イタク ミツコ",
        "chuo-kumin",
        ("certificate_contractor",),
        "委託事業者",
    ),
    DemoAccount(
        "support01",
        "支援 四郎",
        "シエン シロウ",
        "shimin",
        ("support_measure_officer",),
        "支援措置担当",
    ),
    DemoAccount("audit01", "監査 五月", "カンサ サツキ", "shimin", ("auditor",), "監査担当"),
    DemoAccount(
        "admin01", "管理 六郎", "カンリ ロクロウ", "shimin", ("administrator",), "システム管理者"
    ),
)


def setup_demo(actor: Actor) -> list[DemoAccount]:
    """Create what is missing (idempotent) and return the demo accounts."""
    if settings.JUMIN["MODE"] != "demo":
        raise ImproperlyConfigured(
            "デモ用の職員はデモモード（JUMIN_MODE=demo）でのみ作成できます。"
        )
    services.ensure_builtin_roles(actor)
    for code, name, kind, parent in ORG_UNITS:
        if not OrgUnit.objects.filter(code=code).exists():
            services.create_org_unit(actor, code=code, name=name, kind=kind, parent_code=parent)
    for name, location, unit, on_premises in TERMINALS:
        if not Terminal.objects.filter(name=name).exists():
            services.create_terminal(
                actor, name=name, location=location, org_unit_code=unit, on_premises=on_premises
            )
    for account in ACCOUNTS:
        if not Staff.objects.filter(staff_id=account.staff_id).exists():
            services.create_staff(
                actor,
                staff_id=account.staff_id,
                name=account.name,
                name_kana=account.kana,
                org_unit_code=account.org_unit,
                role_codes=account.roles,
                password=DEMO_PASSWORD,
                ward_scope=account.ward_scope,
            )
    return list(ACCOUNTS)
