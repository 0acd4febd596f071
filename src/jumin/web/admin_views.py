"""職員・権限の管理 (administration): staff, roles and the 操作権限一覧表, terminals, org-unit
ward scopes, scheduled changes, the bulk role import, and every user's own password page —
std 10.3 (j1380), 10.4 (j1390).

Views call only :mod:`jumin.accounts.services` (which authorize and log, SETTINGS_CHANGE with
before/after) and :mod:`jumin.accounts.selectors`. A list or detail screen checks the same
permission through ``authorize`` (a refusal is logged). Every form re-renders with what was
typed and the error beside its field, nothing saved.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jumin.accounts import selectors, services
from jumin.accounts.permissions import Perm
from jumin.accounts.services import authorize
from jumin.core.errors import CoreError
from jumin.core.findings import Finding, FindingsError, error
from jumin.core.wareki import parse_date
from jumin.web.common import place, staff_view, web_actor

NAV = "admin"
DATE_HINT = "和暦・西暦（例：R8.4.1、2026-04-01）"
IMPORT_MAX_BYTES = 2_000_000
STATES = [("", "すべて"), ("active", "利用中"), ("inactive", "利用不可（無効・期間外）")]


@dataclass
class Field:
    """One control, drawn by ``web/admin/_field.html``."""

    name: str
    label: str
    kind: str = "text"  # text | select | checkbox | textarea | password
    hint: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    checked: bool = False
    maxlength: int | None = None
    readonly: bool = False
    errors: list[Finding] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)


def _ward_options() -> list[tuple[str, str]]:
    return [("", "市全域")] + [(w, w) for w in services.ward_names()]


def _unit_options() -> list[tuple[str, str]]:
    return [(u.code, f"{u.name}（{u.code}）") for u in selectors.org_unit_list()]


def _date(findings: list[Finding], name: str, label: str, text: str, required: bool) -> Any:
    text = text.strip()
    if not text:
        if required:
            findings.append(error(f"{name}.empty", f"{label}を入力してください。", field=name))
        return None
    try:
        return parse_date(text)
    except CoreError as exc:
        findings.append(
            error(
                f"{name}.format",
                f"{label}「{text}」を日付として読めません（{exc.message}）。",
                field=name,
                remedy=f"{DATE_HINT}の形で入力してください。",
            )
        )
        return None


def _attach(fields: Iterable[Field], findings: Iterable[Finding]) -> list[Finding]:
    """Put each finding beside its field; return those that belong to none."""
    fields = list(fields)
    placed = place(findings, [f.name for f in fields])
    for f in fields:
        f.errors = placed.for_field(f.name)
    return placed.general


def _renamed(findings: Iterable[Finding], names: dict[str, str]) -> list[Finding]:
    """Findings of a service field shown beside the form control of another name."""
    return [
        dataclasses.replace(f, field=names[f.field]) if f.field in names else f for f in findings
    ]


def _flag(post: Any, name: str) -> bool:
    return bool(post.get(name) == "1")


def _staff_or_404(staff_id: str) -> Any:
    staff = selectors.staff_by_staff_id(staff_id)
    if staff is None:
        raise Http404("職員が見つかりません。")
    return staff


# ------------------------------------------------------------------------------- staff


@staff_view
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    authorize(web_actor(request), Perm.STAFF_MANAGE, "職員の一覧")
    q = request.GET
    filters = {
        "text": q.get("text", "").strip()[:100],
        "org_unit": q.get("org_unit", ""),
        "role": q.get("role", ""),
        "state": q.get("state", ""),
    }
    rows = list(selectors.staff_search(**filters)[:500])
    return render(
        request,
        "web/admin/staff_list.html",
        {
            "nav": NAV,
            "rows": rows,
            "filters": filters,
            "units": _unit_options(),
            "roles": selectors.role_list(),
            "states": STATES,
            "today": timezone.localdate(),
        },
    )


def _staff_fields(data: Any, *, create: bool) -> list[Field]:
    fields = []
    if create:
        fields.append(
            Field("staff_id", "職員ID", hint="半角英数字・-・_ の3〜32文字", maxlength=32)
        )
    fields += [
        Field("name", "氏名", hint="例：相模 花子", maxlength=100),
        Field("name_kana", "氏名フリガナ", hint="例：サガミ ハナコ", maxlength=100),
        Field("org_unit", "所属", kind="select", options=_unit_options()),
        Field(
            "valid_from", "有効期間（開始）", hint=DATE_HINT + ("。空欄なら今日" if create else "")
        ),
        Field("valid_until", "有効期間（終了）", hint=DATE_HINT + "。空欄なら期限なし"),
        Field(
            "ward_scope",
            "管轄区（照会できる住民の範囲）",
            kind="select",
            options=_ward_options() if not create else [("*", "所属の既定"), *_ward_options()],
        ),
    ]
    for f in fields:
        f.value = str(data.get(f.name, "") or "")
    return fields


def _role_choices(selected: Iterable[str]) -> list[dict[str, Any]]:
    chosen = set(selected)
    return [
        {"code": r.code, "name": r.name, "checked": r.code in chosen, "builtin": r.is_builtin}
        for r in selectors.role_list()
    ]


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    authorize(actor, Perm.STAFF_MANAGE, "職員の登録")
    data: Any = request.POST if request.method == "POST" else {"ward_scope": "*"}
    fields = _staff_fields(data, create=True)
    role_codes = request.POST.getlist("roles") if request.method == "POST" else []
    general: list[Finding] = []
    if request.method == "POST":
        findings: list[Finding] = []
        valid_from = _date(
            findings, "valid_from", "有効期間の開始", data.get("valid_from", ""), False
        )
        valid_until = _date(
            findings, "valid_until", "有効期間の終了", data.get("valid_until", ""), False
        )
        ward = data.get("ward_scope", "*")
        password = services.generate_initial_password()
        try:
            if findings:
                raise FindingsError(findings)
            staff = services.create_staff(
                actor,
                staff_id=data.get("staff_id", ""),
                name=data.get("name", ""),
                name_kana=data.get("name_kana", ""),
                org_unit_code=data.get("org_unit", ""),
                role_codes=role_codes,
                password=password,
                valid_from=valid_from,
                valid_until=valid_until,
                ward_scope=None if ward == "*" else ward,
                must_change_password=True,
            )
        except FindingsError as exc:
            general = _attach(fields, exc.findings)
        else:
            return _password_shown(request, staff, password, "職員を登録しました。")
    return render(
        request,
        "web/admin/staff_form.html",
        {
            "nav": NAV,
            "create": True,
            "fields": fields,
            "roles": _role_choices(role_codes),
            "general": general,
        },
    )


def _password_shown(request: HttpRequest, staff: Any, password: str, headline: str) -> HttpResponse:
    """The initial password, shown once on this response and never again (not cached)."""
    response = render(
        request,
        "web/admin/password_shown.html",
        {"nav": NAV, "staff": staff, "password": password, "headline": headline},
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_view
@require_GET
def staff_detail(request: HttpRequest, staff_id: str) -> HttpResponse:
    authorize(web_actor(request), Perm.STAFF_MANAGE, "職員の詳細")
    staff = _staff_or_404(staff_id)
    perms = sorted(staff.permission_set(), key=lambda p: list(Perm).index(p))
    return render(
        request,
        "web/admin/staff_detail.html",
        {
            "nav": NAV,
            "staff": staff,
            "roles": list(staff.roles.all()),
            "perms": perms,
            "usable": staff.is_valid_on(timezone.localdate()),
            "scheduled": list(selectors.scheduled_changes(staff)),
            "limited_roles": [
                r for r in staff.roles.all() if r.on_premises_only or r.allowed_networks
            ],
        },
    )


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, staff_id: str) -> HttpResponse:
    actor = web_actor(request)
    authorize(actor, Perm.STAFF_MANAGE, "職員の変更")
    staff = _staff_or_404(staff_id)
    if request.method == "POST":
        data: Any = request.POST
        role_codes = request.POST.getlist("roles")
    else:
        data = {
            "name": staff.name,
            "name_kana": staff.name_kana,
            "org_unit": staff.org_unit.code,
            "valid_from": staff.valid_from.isoformat(),
            "valid_until": staff.valid_until.isoformat() if staff.valid_until else "",
            "ward_scope": staff.ward_scope,
        }
        role_codes = [r.code for r in staff.roles.all()]
    fields = _staff_fields(data, create=False)
    general: list[Finding] = []
    if request.method == "POST":
        findings: list[Finding] = []
        valid_from = _date(
            findings, "valid_from", "有効期間の開始", data.get("valid_from", ""), True
        )
        valid_until = _date(
            findings, "valid_until", "有効期間の終了", data.get("valid_until", ""), False
        )
        try:
            if findings:
                raise FindingsError(findings)
            services.update_staff(
                actor,
                staff_id=staff.staff_id,
                name=data.get("name", ""),
                name_kana=data.get("name_kana", ""),
                org_unit_code=data.get("org_unit", ""),
                role_codes=role_codes,
                valid_from=valid_from,
                valid_until=valid_until,
                ward_scope=data.get("ward_scope", ""),
            )
        except FindingsError as exc:
            general = _attach(fields, exc.findings)
        else:
            messages.success(request, f"{staff.name}（{staff.staff_id}）の登録内容を変更しました。")
            return redirect("web:admin_staff_detail", staff_id=staff.staff_id)
    return render(
        request,
        "web/admin/staff_form.html",
        {
            "nav": NAV,
            "create": False,
            "staff": staff,
            "fields": fields,
            "roles": _role_choices(role_codes),
            "general": general,
        },
    )


def _staff_action(request: HttpRequest, staff_id: str, call: Any, done: str) -> HttpResponse:
    try:
        call(web_actor(request), staff_id=staff_id)
    except FindingsError as exc:
        for f in exc.findings:
            messages.error(request, f.message + (f"（{f.remedy}）" if f.remedy else ""))
    else:
        messages.success(request, done)
    return redirect("web:admin_staff_detail", staff_id=staff_id)


@staff_view
@require_POST
def staff_deactivate(request: HttpRequest, staff_id: str) -> HttpResponse:
    return _staff_action(request, staff_id, services.deactivate_staff, "職員を無効にしました。")


@staff_view
@require_POST
def staff_reactivate(request: HttpRequest, staff_id: str) -> HttpResponse:
    return _staff_action(request, staff_id, services.reactivate_staff, "職員を有効に戻しました。")


@staff_view
@never_cache
@require_POST
def staff_reset_password(request: HttpRequest, staff_id: str) -> HttpResponse:
    try:
        password = services.reset_password(web_actor(request), staff_id=staff_id)
    except FindingsError as exc:
        raise Http404("職員が見つかりません。") from exc
    staff = _staff_or_404(staff_id)
    return _password_shown(request, staff, password, "パスワードを再発行しました。")


# ----------------------------------------------------------------- scheduled changes


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def staff_schedule(request: HttpRequest, staff_id: str) -> HttpResponse:
    actor = web_actor(request)
    authorize(actor, Perm.STAFF_MANAGE, "職員の予定変更の登録")
    staff = _staff_or_404(staff_id)
    data: Any = request.POST if request.method == "POST" else {}
    fields = [
        Field("effective_on", "適用日", hint=DATE_HINT + "。この日の処理で適用します"),
        Field(
            "change_roles",
            "ロールを変更する（下で選んだロールに置き換え）",
            kind="checkbox",
            checked=_flag(data, "change_roles"),
        ),
        Field("org_unit", "所属を変更する", kind="select", options=[("", "変更しない")]),
        Field(
            "set_valid_until",
            "有効期間の終了を変更する",
            kind="checkbox",
            checked=_flag(data, "set_valid_until"),
        ),
        Field("valid_until", "有効期間の終了（変更後）", hint=DATE_HINT + "。空欄なら期限なし"),
        Field(
            "set_ward_scope",
            "管轄区を変更する",
            kind="checkbox",
            checked=_flag(data, "set_ward_scope"),
        ),
        Field("ward_scope", "管轄区（変更後）", kind="select", options=_ward_options()),
        Field(
            "deactivate", "この日に無効にする", kind="checkbox", checked=_flag(data, "deactivate")
        ),
        Field("note", "備考", hint="例：4月1日付け人事異動", maxlength=200),
    ]
    fields[2].options += _unit_options()
    for f in fields:
        if f.kind != "checkbox":
            f.value = str(data.get(f.name, "") or "")
    role_codes = (
        request.POST.getlist("roles")
        if request.method == "POST"
        else [r.code for r in staff.roles.all()]
    )
    general: list[Finding] = []
    if request.method == "POST":
        findings: list[Finding] = []
        effective_on = _date(findings, "effective_on", "適用日", data.get("effective_on", ""), True)
        valid_until = _date(
            findings, "valid_until", "有効期間の終了", data.get("valid_until", ""), False
        )
        try:
            if findings:
                raise FindingsError(findings)
            services.schedule_staff_change(
                actor,
                staff_id=staff.staff_id,
                effective_on=effective_on,
                role_codes=role_codes if _flag(data, "change_roles") else None,
                org_unit_code=data.get("org_unit") or None,
                set_valid_until=_flag(data, "set_valid_until"),
                valid_until=valid_until,
                set_ward_scope=_flag(data, "set_ward_scope"),
                ward_scope=data.get("ward_scope", ""),
                deactivate=_flag(data, "deactivate"),
                note=data.get("note", ""),
            )
        except FindingsError as exc:
            general = _attach(
                fields,
                _renamed(exc.findings, {"role_codes": "change_roles", "roles": "change_roles"}),
            )
        else:
            messages.success(request, "予定変更を登録しました。適用日の処理で反映されます。")
            return redirect("web:admin_staff_detail", staff_id=staff.staff_id)
    return render(
        request,
        "web/admin/schedule_form.html",
        {
            "nav": NAV,
            "staff": staff,
            "fields": {f.name: f for f in fields},
            "roles": _role_choices(role_codes),
            "general": general,
        },
    )


@staff_view
@require_POST
def schedule_cancel(request: HttpRequest, change_id: int) -> HttpResponse:
    try:
        change = services.cancel_scheduled_change(web_actor(request), change_id=change_id)
    except FindingsError as exc:
        for f in exc.findings:
            messages.error(request, f.message)
        return redirect("web:admin_staff_list")
    messages.success(request, "予定変更を取り消しました。")
    return redirect("web:admin_staff_detail", staff_id=change.staff.staff_id)


# ------------------------------------------------------------------------ bulk import


def _read_upload(upload: Any) -> tuple[str | None, list[Finding]]:
    """The uploaded CSV as text, or the findings saying why not (never a truncated file)."""
    if upload is None:
        return None, [error("import.file", "CSV ファイルを選んでください。", field="file")]
    raw = upload.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        return None, [
            error(
                "import.too_large",
                f"ファイルが大きすぎます（{IMPORT_MAX_BYTES // 1_000_000}MBまで）。",
                field="file",
                remedy="分割するか、jumin staff import-roles で取り込んでください。",
            )
        ]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return None, [
            error(
                "import.encoding",
                "ファイルが UTF-8 ではありません。",
                field="file",
                remedy="表計算ソフトで「CSV UTF-8」形式で保存し直してください。",
            )
        ]


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def staff_import(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    authorize(actor, Perm.STAFF_MANAGE, "ロールの一括設定")
    problems: list[Finding] = []
    if request.method == "POST":
        text, problems = _read_upload(request.FILES.get("file"))
        if text is not None:
            try:
                count = services.import_roles(actor, text)
            except FindingsError as exc:
                problems = list(exc.findings)
            else:
                messages.success(request, f"{count}人のロールと有効期間を設定しました。")
                return redirect("web:admin_staff_list")
    return render(
        request,
        "web/admin/staff_import.html",
        {"nav": NAV, "problems": problems, "columns": services.IMPORT_COLUMNS},
    )


# ------------------------------------------------------------------------------- roles


@staff_view
@require_GET
def role_list(request: HttpRequest) -> HttpResponse:
    authorize(web_actor(request), Perm.ROLE_MANAGE, "ロールの一覧")
    return render(
        request, "web/admin/role_list.html", {"nav": NAV, "roles": list(selectors.role_list())}
    )


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    actor = web_actor(request)
    create = code is None
    authorize(actor, Perm.ROLE_MANAGE, "ロールの登録" if create else "ロールの変更")
    role = None if create else selectors.role_by_code(code or "")
    if not create and role is None:
        raise Http404("ロールが見つかりません。")
    if request.method == "POST":
        data: Any = request.POST
        chosen = set(request.POST.getlist("permissions"))
        on_premises = _flag(data, "on_premises_only")
        if role is not None and role.is_builtin:  # fixed: the form shows them disabled
            chosen, on_premises = set(role.permissions), role.on_premises_only
    elif role is not None:
        data = {"code": role.code, "name": role.name, "networks": "\n".join(role.allowed_networks)}
        chosen = set(role.permissions)
        on_premises = role.on_premises_only
    else:
        data, chosen, on_premises = {}, set(), False
    fields = [
        Field(
            "code",
            "ロールコード",
            hint="英小文字・数字・-・_ の2〜32文字（登録後は変更できません）",
            maxlength=32,
            readonly=not create,
        ),
        Field("name", "ロール名", maxlength=100, readonly=bool(role and role.is_builtin)),
        Field(
            "on_premises_only",
            "庁舎内の登録端末からのみ利用できる",
            kind="checkbox",
            checked=on_premises,
            readonly=bool(role and role.is_builtin),
        ),
        Field(
            "networks",
            "利用できる接続元アドレス範囲",
            kind="textarea",
            hint="CIDR 形式で1行に1つ（例：10.1.0.0/16）。空欄ならどこからでも",
        ),
        Field("permissions", "権限"),
    ]
    for f in fields:
        if f.kind != "checkbox":
            f.value = str(data.get(f.name, "") or "")
    general: list[Finding] = []
    if request.method == "POST":
        try:
            saved = services.save_role(
                actor,
                code=data.get("code", "") if create else str(code),
                name=data.get("name", ""),
                permissions=chosen,
                on_premises_only=on_premises,
                allowed_networks=[data.get("networks", "")],
                create=create,
            )
        except FindingsError as exc:
            general = _attach(fields, _renamed(exc.findings, {"allowed_networks": "networks"}))
        else:
            messages.success(request, f"ロール「{saved.name}」を保存しました。")
            return redirect("web:admin_role_list")
    groups = [
        (label, [{"perm": p, "checked": p.value in chosen} for p in perms])
        for label, perms in selectors.permission_groups()
    ]
    return render(
        request,
        "web/admin/role_form.html",
        {
            "nav": NAV,
            "create": create,
            "role": role,
            "fields": {f.name: f for f in fields},
            "groups": groups,
            "general": general,
            "permission_errors": fields[-1].errors,
        },
    )


@staff_view
@require_GET
def role_matrix(request: HttpRequest) -> HttpResponse:
    """操作権限一覧表 (std 10.3, j1380): roles × permissions, for the screen and print."""
    authorize(web_actor(request), Perm.ROLE_MANAGE, "操作権限一覧表")
    roles, groups = selectors.role_matrix()
    return render(
        request, "web/admin/role_matrix.html", {"nav": NAV, "roles": roles, "groups": groups}
    )


@staff_view
@require_GET
def role_matrix_csv(request: HttpRequest) -> HttpResponse:
    authorize(web_actor(request), Perm.ROLE_MANAGE, "操作権限一覧表（CSV）")
    roles, groups = selectors.role_matrix()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["区分", "権限", "権限コード", *(f"{r.name}（{r.code}）" for r in roles)])
    for label, rows in groups:
        for perm, held in rows:
            writer.writerow([label, perm.label, perm.value, *("○" if h else "" for h in held)])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="role-matrix.csv"'
    return response


# ---------------------------------------------------------------------------- terminals


@staff_view
@require_GET
def terminal_list(request: HttpRequest) -> HttpResponse:
    authorize(web_actor(request), Perm.TERMINAL_MANAGE, "端末の一覧")
    return render(
        request,
        "web/admin/terminal_list.html",
        {"nav": NAV, "terminals": list(selectors.terminal_list())},
    )


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def terminal_edit(request: HttpRequest, terminal_id: int | None = None) -> HttpResponse:
    actor = web_actor(request)
    create = terminal_id is None
    authorize(actor, Perm.TERMINAL_MANAGE, "端末の登録" if create else "端末の変更")
    terminal = None if create else selectors.terminal_for_admin(terminal_id or 0)
    if not create and terminal is None:
        raise Http404("端末が見つかりません。")
    if request.method == "POST":
        data: Any = request.POST
        flags = {k: _flag(data, k) for k in ("on_premises", "is_active")}
    elif terminal is not None:
        data = {
            "name": terminal.name,
            "location": terminal.location,
            "org_unit": terminal.org_unit.code,
            "networks": "\n".join(terminal.allowed_networks),
        }
        flags = {"on_premises": terminal.on_premises, "is_active": terminal.is_active}
    else:
        data, flags = {}, {"on_premises": True, "is_active": True}
    fields = [
        Field(
            "name",
            "端末名",
            hint="例：CHUO-01（登録後は変更できません）",
            maxlength=64,
            readonly=not create,
        ),
        Field("location", "設置場所", hint="例：中央区役所 1階 区民課", maxlength=200),
        Field("org_unit", "組織", kind="select", options=_unit_options()),
        Field("on_premises", "庁舎内の端末", kind="checkbox", checked=flags["on_premises"]),
        Field(
            "networks",
            "接続元アドレス範囲",
            kind="textarea",
            hint="CIDR 形式で1行に1つ（例：10.1.2.0/24）。空欄なら制限なし",
        ),
    ]
    if not create:
        fields.append(Field("is_active", "使用中", kind="checkbox", checked=flags["is_active"]))
    for f in fields:
        if f.kind != "checkbox":
            f.value = str(data.get(f.name, "") or "")
    general: list[Finding] = []
    if request.method == "POST":
        networks = [data.get("networks", "")]
        try:
            if create:
                services.create_terminal(
                    actor,
                    name=data.get("name", ""),
                    location=data.get("location", ""),
                    org_unit_code=data.get("org_unit", ""),
                    on_premises=flags["on_premises"],
                    allowed_networks=networks,
                )
            else:
                assert terminal is not None
                services.update_terminal(
                    actor,
                    terminal_id=terminal.pk,
                    location=data.get("location", ""),
                    org_unit_code=data.get("org_unit", ""),
                    on_premises=flags["on_premises"],
                    allowed_networks=networks,
                    is_active=flags["is_active"],
                )
        except FindingsError as exc:
            general = _attach(fields, _renamed(exc.findings, {"allowed_networks": "networks"}))
        else:
            messages.success(request, "端末を保存しました。")
            return redirect("web:admin_terminal_list")
    return render(
        request,
        "web/admin/terminal_form.html",
        {"nav": NAV, "create": create, "terminal": terminal, "fields": fields, "general": general},
    )


# ---------------------------------------------------------------------------- org units


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def org_units(request: HttpRequest) -> HttpResponse:
    """Org units with the ward given by default to staff registered there."""
    actor = web_actor(request)
    authorize(actor, Perm.ORG_UNIT_MANAGE, "組織の一覧")
    problems: dict[str, list[Finding]] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        code = request.POST.get("code", "")
        typed[code] = request.POST.get("ward_scope", "")
        try:
            unit = services.set_org_unit_ward_scope(actor, code=code, ward_scope=typed[code])
        except FindingsError as exc:
            problems[code] = list(exc.findings)
        else:
            messages.success(request, f"{unit.name}の管轄区（既定）を保存しました。")
            return redirect("web:admin_org_units")
    units = [
        {
            "unit": u,
            "value": typed.get(u.code, u.ward_scope),
            "errors": problems.get(u.code, []),
        }
        for u in selectors.org_unit_list()
    ]
    return render(
        request,
        "web/admin/org_units.html",
        {"nav": NAV, "units": units, "wards": _ward_options()},
    )


# ------------------------------------------------------------------ own password


@staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Every logged-in member of staff changes their own password here; one given an initial
    or reset password is sent here until they do."""
    actor = web_actor(request)
    if actor.staff is None:
        raise PermissionDenied
    fields = [
        Field("current", "現在のパスワード", kind="password"),
        Field(
            "new",
            "新しいパスワード",
            kind="password",
            hint="推測されにくい長いもの（氏名・職員IDを含まない）",
        ),
        Field("confirm", "新しいパスワード（確認）", kind="password"),
    ]
    general: list[Finding] = []
    if request.method == "POST":
        try:
            staff = services.change_own_password(
                actor,
                current=request.POST.get("current", ""),
                new=request.POST.get("new", ""),
                confirm=request.POST.get("confirm", ""),
            )
        except FindingsError as exc:
            general = _attach(fields, exc.findings)  # passwords are never typed back
        else:
            update_session_auth_hash(request, staff)
            messages.success(request, "パスワードを変更しました。")
            return redirect("web:home")
    return render(
        request,
        "web/admin/password_change.html",
        {
            "nav": "",
            "fields": fields,
            "general": general,
            "required": getattr(actor.staff, "must_change_password", False),
        },
    )
