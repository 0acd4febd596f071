"""Staff authentication (std 10.3, j1380): ID + password, then a WebAuthn assertion with user
verification required (the platform's biometric); enrolment through one-time links issued by
an administrator; lockout after repeated failures.

Every outcome is one operation-log entry (std 10.2, j1370): category 認証 for logins and
refusals (``detail``: the attempted staff id, a reason code, the factor), 設定変更 for
enrolment, removal, reset and unlock. Refusals shown to the person are generic: they never
say which part failed beyond what the person typed (no hint that helps an attacker).

The views keep the WebAuthn challenge in the session (``ChallengeState``), hand it here once
(single use) and never look inside the browser's answer themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from jumin.accounts import services as account_services
from jumin.accounts.actor import Actor
from jumin.accounts.models import Staff, Terminal
from jumin.accounts.permissions import Perm
from jumin.audit import services as audit
from jumin.audit.models import Category, Outcome
from jumin.authn.models import EnrolmentLink, LoginFailureState, WebAuthnCredential
from jumin.core.findings import FindingsError, error

CHALLENGE_SECONDS = 120  # a WebAuthn challenge is good for two minutes, once
PENDING_LOGIN_SECONDS = 300  # between the password and the authenticator
ENROLMENT_LINK_HOURS = 24
MAX_CREDENTIAL_JSON = 64 * 1024

# session keys (the views store, the services define)
SESSION_FACTOR_KEY = "jumin_login_factor"

FACTOR_WEBAUTHN = "password+webauthn"
FACTOR_PASSWORD_ONLY_DEMO = "password_only_demo"  # noqa: S105 - a factor name
FACTOR_PASSWORD = "password"  # noqa: S105 - a factor name

LOGIN_FUNCTION = "ログイン"
LOGIN_SCREEN = "web:login"

INVALID_LOGIN = (
    "職員IDまたはパスワードが正しくありません。入力を確認してもう一度お試しください。"
    "有効期間外の職員IDではログインできません。"
)
LOCKED = (
    "ログインの失敗が続いたため、この職員IDは一時的にロックされています。"
    "{minutes}分ほど待ってからお試しいただくか、システム管理者にロックの解除を依頼してください。"
)
UNKNOWN_TERMINAL = (
    "ログインできませんでした。端末の一覧から、この端末を選び直してください。"
    "一覧にない場合はシステム管理者に端末の登録を依頼してください。"
)
WEBAUTHN_REFUSED = (
    "生体認証を確認できませんでした。もう一度「生体認証でログイン」を押し、"
    "登録した認証器（指紋・顔など）で本人確認をしてください。"
    "続けて失敗する場合はシステム管理者に連絡してください。"
)
WEBAUTHN_EXPIRED = (
    "生体認証の確認に時間がかかりすぎたか、確認がすでに使われています。"
    "もう一度「生体認証でログイン」を押してください。"
)
NO_AUTHENTICATOR = (
    "この職員IDには生体認証の認証器が登録されていません。本番運用では生体認証が必須です。"
    "システム管理者に認証器登録用リンクの発行を依頼してください。"
)
ENROL_REFUSED = (
    "認証器を登録できませんでした。もう一度「認証器を登録」を押し、"
    "指紋・顔などで本人確認をしてください。続けて失敗する場合はシステム管理者に連絡してください。"
)
LINK_INVALID = (
    "この登録用リンクは使用できません（使用済み・期限切れ・取消済みのいずれかです）。"
    "システム管理者に新しい登録用リンクの発行を依頼してください。"
)

_CLIENT_ERROR = re.compile(r"^[A-Za-z]{1,40}$")


# --------------------------------------------------------------------------- configuration


def _conf() -> Mapping[str, Any]:
    return settings.JUMIN


def password_only_allowed() -> bool:
    """Password-only login (no authenticator enrolled): demo mode only, never production."""
    conf = _conf()
    return conf["MODE"] == "demo" and bool(conf.get("PASSWORD_ONLY_LOGIN", False))


def rp_id() -> str:
    return str(_conf().get("WEBAUTHN_RP_ID") or "localhost")


def expected_origins(request_origin: str) -> list[str]:
    """The origins a browser may sign for: the configured ones; in demo mode without a
    setting, the origin the request came to (``http://localhost:8000``)."""
    conf = _conf()
    configured = [str(o) for o in conf.get("WEBAUTHN_ORIGINS") or []]
    if configured:
        return configured
    if conf["MODE"] == "demo" and request_origin:
        return [request_origin]
    return []


def _max_failures() -> int:
    return int(_conf().get("LOGIN_MAX_FAILURES", 5))


def _lock_minutes() -> int:
    return int(_conf().get("LOGIN_LOCK_MINUTES", 30))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PasswordStep:
    """The outcome of ID + password (+ terminal, place). ``refusal`` is empty when it passed;
    ``needs_webauthn`` then says whether the second step follows, else the login is done
    (demo, password only: already logged)."""

    refusal: str
    staff: Staff | None = None
    terminal: Terminal | None = None
    needs_webauthn: bool = False
    factor: str = ""


@dataclass(frozen=True)
class ChallengeState:
    """What the session keeps between handing out options and receiving the answer."""

    challenge: str  # base64url
    issued_at: float
    staff_pk: int
    purpose: str  # "login" or "register"

    def as_session(self) -> dict[str, Any]:
        return {
            "challenge": self.challenge,
            "issued_at": self.issued_at,
            "staff_pk": self.staff_pk,
            "purpose": self.purpose,
        }

    @classmethod
    def from_session(cls, value: object) -> ChallengeState | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                challenge=str(value["challenge"]),
                issued_at=float(value["issued_at"]),
                staff_pk=int(value["staff_pk"]),
                purpose=str(value["purpose"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class IssuedLink:
    link: EnrolmentLink
    token: str  # shown once; only its hash is stored


class AuthenticationRefused(Exception):
    """A refused WebAuthn step; ``message`` is the generic Japanese text for the person."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


# --------------------------------------------------------------------------- logging


def _log(
    actor: Actor,
    *,
    outcome: Outcome,
    staff_id: str,
    reason: str,
    factor: str,
    function: str = LOGIN_FUNCTION,
    screen: str = LOGIN_SCREEN,
    extra: Mapping[str, Any] | None = None,
) -> None:
    detail: dict[str, Any] = {"staff_id": staff_id[:64], "reason": reason, "factor": factor}
    detail.update(extra or {})
    audit.record(
        actor,
        category=Category.AUTHENTICATION,
        function=function,
        screen=screen,
        outcome=outcome,
        detail=detail,
    )


def _anonymous() -> Actor:
    return Actor.system("web", "anonymous")


# --------------------------------------------------------------------------- lockout


def is_locked(staff_id: str) -> bool:
    state = LoginFailureState.objects.filter(staff_id=staff_id[:64]).first()
    return bool(state and state.locked_until and state.locked_until > timezone.now())


def _register_failure(staff_id: str) -> bool:
    """Count one failure; lock the id at the limit. Returns whether it is now locked.
    Runs inside the caller's transaction."""
    now = timezone.now()
    key = staff_id[:64]
    state = LoginFailureState.objects.select_for_update().filter(staff_id=key).first()
    if state is None:
        try:
            with transaction.atomic():
                state = LoginFailureState.objects.create(staff_id=key)
        except IntegrityError:  # a concurrent first failure created it
            state = LoginFailureState.objects.select_for_update().get(staff_id=key)
    if state.locked_until and state.locked_until <= now:
        state.locked_until = None
    state.failures += 1
    state.last_failure_at = now
    locked = False
    if state.failures >= _max_failures():
        state.locked_until = now + dt.timedelta(minutes=_lock_minutes())
        state.failures = 0
        locked = True
    state.save()
    return locked


def _clear_failures(staff_id: str) -> None:
    LoginFailureState.objects.filter(staff_id=staff_id[:64]).update(failures=0, locked_until=None)


def unlock(actor: Actor, *, staff_id: str) -> bool:
    """ロック解除 by an administrator. Returns whether the id was locked."""
    account_services.authorize(actor, Perm.STAFF_MANAGE, "ログインロックの解除")
    with transaction.atomic():
        was_locked = is_locked(staff_id)
        LoginFailureState.objects.filter(staff_id=staff_id[:64]).delete()
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="ログインロックの解除",
            detail={"staff_id": staff_id[:64], "was_locked": was_locked},
        )
    return was_locked


# --------------------------------------------------------------------------- step 1


def _terminal(terminal_id: str | int | None) -> tuple[bool, Terminal | None]:
    """(known, terminal): an empty choice is known (None); an id that is not an active
    registered terminal is not."""
    if terminal_id is None or terminal_id == "":
        return True, None
    try:
        pk = int(terminal_id)
    except (TypeError, ValueError):
        return False, None
    terminal = Terminal.objects.select_related("org_unit").filter(pk=pk, is_active=True).first()
    return terminal is not None, terminal


def active_credentials(staff: Staff) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(staff=staff, revoked_at__isnull=True))


def _refused_step(
    actor: Actor,
    *,
    staff_id: str,
    reason: str,
    refusal: str,
    extra: Mapping[str, Any] | None = None,
    count_failure: bool = False,
) -> PasswordStep:
    """Log a refused step 1 (counting it towards the lock when asked) and say why."""
    with transaction.atomic():
        if count_failure and _register_failure(staff_id):
            extra = {**(extra or {}), "locked": True}
        _log(
            actor,
            outcome=Outcome.FAILED,
            staff_id=staff_id,
            reason=reason,
            factor=FACTOR_PASSWORD,
            extra=extra,
        )
    return PasswordStep(refusal=refusal)


def password_step(
    *, staff_id: str, password: str, terminal_id: str | int | None, remote_addr: str
) -> PasswordStep:
    """Step 1 of a login: lock, terminal, ID + password, place. Logs every refusal and the
    password-only demo login; a login that needs the authenticator is logged at step 2."""
    staff_id = staff_id.strip()[:64]
    known, terminal = _terminal(terminal_id)
    if not known:
        return _refused_step(
            _anonymous(),
            staff_id=staff_id,
            reason="unknown_terminal",
            refusal=UNKNOWN_TERMINAL,
            extra={"terminal_id": str(terminal_id)[:32]},
        )
    if is_locked(staff_id):
        refusal = LOCKED.format(minutes=_lock_minutes())
        return _refused_step(_anonymous(), staff_id=staff_id, reason="locked", refusal=refusal)
    staff = authenticate(None, username=staff_id, password=password)
    if not isinstance(staff, Staff):
        return _refused_step(
            _anonymous(),
            staff_id=staff_id,
            reason="bad_password",
            refusal=INVALID_LOGIN,
            count_failure=True,
        )
    actor = Actor.of(staff, terminal, "web")
    place_refusal = account_services.check_login_place(staff, terminal, remote_addr)
    if place_refusal is not None:
        return _refused_step(
            actor, staff_id=staff_id, reason="place_refused", refusal=place_refusal
        )
    if active_credentials(staff):
        return PasswordStep(refusal="", staff=staff, terminal=terminal, needs_webauthn=True)
    if not password_only_allowed():
        return _refused_step(
            actor, staff_id=staff_id, reason="no_authenticator", refusal=NO_AUTHENTICATOR
        )
    with transaction.atomic():
        _clear_failures(staff_id)
        _log(
            actor,
            outcome=Outcome.SUCCESS,
            staff_id=staff_id,
            reason="ok",
            factor=FACTOR_PASSWORD_ONLY_DEMO,
        )
    return PasswordStep(
        refusal="", staff=staff, terminal=terminal, factor=FACTOR_PASSWORD_ONLY_DEMO
    )


# --------------------------------------------------------------------------- step 2


def _descriptor(credential: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = []
    for value in credential.transports or []:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(credential.credential_id), transports=transports or None
    )


def authentication_options(staff: Staff) -> tuple[str, ChallengeState]:
    """The browser's ``navigator.credentials.get`` options (JSON) and the challenge to keep."""
    options = generate_authentication_options(
        rp_id=rp_id(),
        timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=[_descriptor(c) for c in active_credentials(staff)],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    state = ChallengeState(
        challenge=bytes_to_base64url(options.challenge),
        issued_at=time.time(),
        staff_pk=staff.pk,
        purpose="login",
    )
    return options_to_json(options), state


def _parse_payload(credential_json: str) -> dict[str, Any]:
    if len(credential_json) > MAX_CREDENTIAL_JSON:
        raise AuthenticationRefused(WEBAUTHN_REFUSED, "malformed")
    try:
        payload = json.loads(credential_json)
    except ValueError as exc:
        raise AuthenticationRefused(WEBAUTHN_REFUSED, "malformed") from exc
    if not isinstance(payload, dict):
        raise AuthenticationRefused(WEBAUTHN_REFUSED, "malformed")
    return payload


def _reason_of(exc: Exception) -> str:
    """A stable reason code for the log from py_webauthn's message."""
    text = str(exc).lower()
    for needle, code in (
        ("user verification", "user_not_verified"),
        ("user was not present", "user_not_present"),
        ("sign count", "sign_count_regression"),
        ("origin", "origin_mismatch"),
        ("challenge", "challenge_mismatch"),
        ("rp id", "rp_id_mismatch"),
        ("signature", "bad_signature"),
    ):
        if needle in text:
            return code
    return "invalid_response"


def _check_challenge(state: ChallengeState | None, staff: Staff, purpose: str) -> ChallengeState:
    if state is None or state.staff_pk != staff.pk or state.purpose != purpose:
        raise AuthenticationRefused(WEBAUTHN_EXPIRED, "no_challenge")
    age = time.time() - state.issued_at
    if age < 0 or age > CHALLENGE_SECONDS:
        raise AuthenticationRefused(WEBAUTHN_EXPIRED, "challenge_expired")
    return state


def verify_login(
    *,
    staff: Staff,
    terminal: Terminal | None,
    credential_json: str,
    state: ChallengeState | None,
    request_origin: str,
) -> WebAuthnCredential:
    """Step 2: check the assertion against the challenge the session handed out (the caller
    has already removed it from the session: single use). On success the sign count and
    last use are stored and the login is logged; on refusal the failure is counted and
    logged, and ``AuthenticationRefused`` carries the generic message."""
    actor = Actor.of(staff, terminal, "web")
    try:
        with transaction.atomic():
            if is_locked(staff.staff_id):
                raise AuthenticationRefused(LOCKED.format(minutes=_lock_minutes()), "locked")
            staff.refresh_from_db(fields=["is_active", "valid_from", "valid_until"])
            if not staff.is_valid_on(timezone.localdate()):  # deactivated since the password
                raise AuthenticationRefused(INVALID_LOGIN, "staff_not_valid")
            current = _check_challenge(state, staff, "login")
            payload = _parse_payload(credential_json)
            client_error = payload.get("client_error")
            if client_error is not None:
                name = str(client_error)
                code = name if _CLIENT_ERROR.match(name) else "other"
                raise AuthenticationRefused(WEBAUTHN_REFUSED, f"client_error:{code}")
            credential = (
                WebAuthnCredential.objects.select_for_update()
                .filter(
                    staff=staff,
                    revoked_at__isnull=True,
                    credential_id=str(payload.get("id", ""))[:1400],
                )
                .first()
            )
            if credential is None:
                raise AuthenticationRefused(WEBAUTHN_REFUSED, "unknown_credential")
            origins = expected_origins(request_origin)
            if not origins:
                raise AuthenticationRefused(WEBAUTHN_REFUSED, "no_origin_configured")
            try:
                verified = verify_authentication_response(
                    credential=payload,
                    expected_challenge=base64url_to_bytes(current.challenge),
                    expected_rp_id=rp_id(),
                    expected_origin=origins,
                    credential_public_key=bytes(credential.public_key),
                    credential_current_sign_count=credential.sign_count,
                    require_user_verification=True,
                )
            except Exception as exc:  # malformed input of any kind: refused, never a traceback
                raise AuthenticationRefused(WEBAUTHN_REFUSED, _reason_of(exc)) from exc
            credential.sign_count = verified.new_sign_count
            credential.last_used_at = timezone.now()
            credential.save(update_fields=["sign_count", "last_used_at"])
            _clear_failures(staff.staff_id)
            _log(
                actor,
                outcome=Outcome.SUCCESS,
                staff_id=staff.staff_id,
                reason="ok",
                factor=FACTOR_WEBAUTHN,
                extra={"credential": credential.pk, "user_verified": True},
            )
            return credential
    except AuthenticationRefused as refusal:
        with transaction.atomic():
            locked = False
            if refusal.reason not in {"locked", "no_challenge", "challenge_expired"}:
                locked = _register_failure(staff.staff_id)
            _log(
                actor,
                outcome=Outcome.FAILED,
                staff_id=staff.staff_id,
                reason=refusal.reason,
                factor=FACTOR_WEBAUTHN,
                extra={"locked": True} if locked else None,
            )
        raise


def login_form_refused(*, staff_id: str, fields: list[str]) -> None:
    """Log a login form refused before any check (a field missing, over-long or unreadable)."""
    with transaction.atomic():
        _log(
            _anonymous(),
            outcome=Outcome.FAILED,
            staff_id=staff_id,
            reason="invalid_form",
            factor=FACTOR_PASSWORD,
            extra={"fields": sorted(fields)[:8]},
        )


def login_refused(*, staff: Staff | None, staff_id: str, reason: str) -> None:
    """Log a refusal the views detect themselves (an expired pending login, an over-long
    or malformed request)."""
    with transaction.atomic():
        _log(
            Actor.of(staff, None, "web") if staff is not None else _anonymous(),
            outcome=Outcome.FAILED,
            staff_id=staff_id,
            reason=reason,
            factor=FACTOR_WEBAUTHN,
        )


UNKNOWN_SESSION_LOG_SECONDS = 60


def unknown_session_refused(*, path: str, client: str) -> bool:
    """Log a request whose session cookie names no session: forged, or a session ended and
    removed on the server. The person is treated as signed out (generic: nothing tells a
    forger whether the key was ever valid). At most one entry per client address a minute
    (per server process): a client that keeps sending forged cookies cannot flood the log.
    Returns whether an entry was written."""
    if not cache.add(f"authn:unknown-session:{client}", 1, UNKNOWN_SESSION_LOG_SECONDS):
        return False
    with transaction.atomic():
        _log(
            _anonymous(),
            outcome=Outcome.FAILED,
            staff_id="",
            reason="session_unknown",
            factor="session",
            function="セッションの確認",
            screen=path[:200],
            extra={"client": client[:64]},
        )
    return True


# --------------------------------------------------------------------------- enrolment


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _staff(staff_id: str) -> Staff:
    staff = Staff.objects.filter(staff_id=staff_id.strip()).first()
    if staff is None:
        raise FindingsError(
            [
                error(
                    "staff.unknown",
                    f"職員ID「{staff_id[:32]}」は登録されていません。",
                    field="staff_id",
                    remedy="jumin staff list で職員IDを確認してください。",
                )
            ]
        )
    return staff


def _issue(actor: Actor, staff: Staff, function: str) -> IssuedLink:
    now = timezone.now()
    EnrolmentLink.objects.filter(staff=staff, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    link = EnrolmentLink.objects.create(
        staff=staff,
        token_hash=_hash(token),
        issued_by=actor.operator_code[:64],
        expires_at=now + dt.timedelta(hours=ENROLMENT_LINK_HOURS),
    )
    audit.record(
        actor,
        category=Category.SETTINGS_CHANGE,
        function=function,
        detail={
            "staff_id": staff.staff_id,
            "link": link.pk,
            "expires_at": link.expires_at.isoformat(),
        },
    )
    return IssuedLink(link=link, token=token)


def issue_enrolment_link(actor: Actor, *, staff_id: str) -> IssuedLink:
    """A one-time link (24 h) with which ``staff_id`` registers an authenticator. An earlier
    unused link of the same person stops working."""
    account_services.authorize(actor, Perm.STAFF_MANAGE, "認証器登録用リンクの発行")
    staff = _staff(staff_id)
    if not staff.is_active:
        raise FindingsError(
            [error("staff.inactive", "無効な職員IDにはリンクを発行できません。", field="staff_id")]
        )
    with transaction.atomic():
        return _issue(actor, staff, "認証器登録用リンクの発行")


def valid_link(token: str) -> EnrolmentLink | None:
    """The link of ``token`` if it can still be used (not used, revoked or expired)."""
    if not token or len(token) > 128:
        return None
    return (
        EnrolmentLink.objects.select_related("staff")
        .filter(
            token_hash=_hash(token),
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def link_refused(token: str) -> None:
    """Log the use of a link that cannot be used."""
    with transaction.atomic():
        _log(
            _anonymous(),
            outcome=Outcome.FAILED,
            staff_id="",
            reason="invalid_enrolment_link",
            factor=FACTOR_PASSWORD,
            function="認証器の登録",
            screen="web:auth_enrol",
            extra={"token_hash_prefix": _hash(token)[:12]},
        )


def enrolment_identify(*, token: str, staff_id: str, password: str) -> Staff:
    """The person who opened the link proves who they are with ID + password. Raises
    ``AuthenticationRefused`` (generic) when the link, the lock or the password says no."""
    link = valid_link(token)
    staff_id = staff_id.strip()[:64]
    if link is None:
        link_refused(token)
        raise AuthenticationRefused(LINK_INVALID, "invalid_enrolment_link")
    reason = ""
    staff: Staff | None = None
    if is_locked(staff_id):
        reason = "locked"
    else:
        found = authenticate(None, username=staff_id, password=password)
        if not isinstance(found, Staff) or found.pk != link.staff_id:
            reason = "bad_password"
        else:
            staff = found
    with transaction.atomic():
        locked = _register_failure(staff_id) if reason == "bad_password" else False
        _log(
            Actor.of(staff, None, "web") if staff is not None else _anonymous(),
            outcome=Outcome.FAILED if reason else Outcome.SUCCESS,
            staff_id=staff_id,
            reason=reason or "ok",
            factor=FACTOR_PASSWORD,
            function="認証器の登録（本人確認）",
            screen="web:auth_enrol",
            extra={"locked": True} if locked else None,
        )
    if staff is None:
        message = LOCKED.format(minutes=_lock_minutes()) if reason == "locked" else INVALID_LOGIN
        raise AuthenticationRefused(message, reason)
    return staff


def registration_options(staff: Staff) -> tuple[str, ChallengeState]:
    """``navigator.credentials.create`` options: user verification required, attestation
    "none", the person's existing authenticators excluded."""
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=str(_conf().get("WEBAUTHN_RP_NAME") or "住民記録システム"),
        user_id=hashlib.sha256(f"jumin-staff:{staff.pk}".encode()).digest()[:32],
        user_name=staff.staff_id,
        user_display_name=staff.name,
        timeout=CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(c) for c in active_credentials(staff)],
    )
    state = ChallengeState(
        challenge=bytes_to_base64url(options.challenge),
        issued_at=time.time(),
        staff_pk=staff.pk,
        purpose="register",
    )
    return options_to_json(options), state


def _label(staff: Staff, label: str) -> str:
    label = label.strip()
    if len(label) > 64:
        raise FindingsError(
            [
                error(
                    "authn.label.too_long",
                    f"認証器の名前は64文字以内で入力してください（現在{len(label)}文字）。",
                    field="label",
                    remedy="短い名前（例:「窓口端末の指紋」）にしてください。",
                )
            ]
        )
    if not label:
        count = WebAuthnCredential.objects.filter(staff=staff).count()
        label = f"認証器{count + 1}"
    return label


def register_credential(
    *,
    staff: Staff,
    credential_json: str,
    state: ChallengeState | None,
    request_origin: str,
    label: str,
    link_token: str | None,
) -> WebAuthnCredential:
    """Store a new authenticator after checking the attestation (user verification
    required). ``link_token``: the enrolment link used (marked used in the same
    transaction); None when a logged-in member of staff adds one of their own."""
    actor = Actor.of(staff, None, "web")
    clean_label = _label(staff, label)
    try:
        with transaction.atomic():
            link = None
            if link_token is not None:
                link = valid_link(link_token)
                if link is None or link.staff_id != staff.pk:
                    raise AuthenticationRefused(LINK_INVALID, "invalid_enrolment_link")
                link = EnrolmentLink.objects.select_for_update().get(pk=link.pk)
                if link.used_at is not None or link.revoked_at is not None:
                    raise AuthenticationRefused(LINK_INVALID, "invalid_enrolment_link")
            current = _check_challenge(state, staff, "register")
            payload = _parse_payload(credential_json)
            client_error = payload.get("client_error")
            if client_error is not None:
                name = str(client_error)
                code = name if _CLIENT_ERROR.match(name) else "other"
                raise AuthenticationRefused(ENROL_REFUSED, f"client_error:{code}")
            origins = expected_origins(request_origin)
            if not origins:
                raise AuthenticationRefused(ENROL_REFUSED, "no_origin_configured")
            try:
                verified = verify_registration_response(
                    credential=payload,
                    expected_challenge=base64url_to_bytes(current.challenge),
                    expected_rp_id=rp_id(),
                    expected_origin=origins,
                    require_user_verification=True,
                )
            except Exception as exc:  # malformed input of any kind: refused, never a traceback
                raise AuthenticationRefused(ENROL_REFUSED, _reason_of(exc)) from exc
            credential_id = bytes_to_base64url(verified.credential_id)
            if WebAuthnCredential.objects.filter(credential_id=credential_id).exists():
                raise AuthenticationRefused(ENROL_REFUSED, "duplicate_credential")
            response = payload.get("response")
            raw_transports = response.get("transports") if isinstance(response, dict) else None
            transports = [str(t)[:16] for t in (raw_transports or []) if isinstance(t, str)][:8]
            credential = WebAuthnCredential.objects.create(
                staff=staff,
                label=clean_label,
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=transports,
                aaguid=str(verified.aaguid)[:36],
            )
            if link is not None:
                link.used_at = timezone.now()
                link.save(update_fields=["used_at"])
            audit.record(
                actor,
                category=Category.SETTINGS_CHANGE,
                function="認証器の登録",
                screen="web:auth_enrol" if link is not None else "web:auth_authenticators",
                detail={
                    "staff_id": staff.staff_id,
                    "credential": credential.pk,
                    "label": clean_label,
                    "via": "link" if link is not None else "self",
                    "user_verified": True,
                },
            )
            return credential
    except AuthenticationRefused as refusal:
        with transaction.atomic():
            _log(
                actor,
                outcome=Outcome.FAILED,
                staff_id=staff.staff_id,
                reason=refusal.reason,
                factor=FACTOR_WEBAUTHN,
                function="認証器の登録",
                screen="web:auth_enrol",
            )
        raise


# --------------------------------------------------------------------------- removal, reset


def revoke_credential(actor: Actor, *, credential_pk: int) -> WebAuthnCredential:
    """Remove an authenticator: one's own (never the last one where password-only login is
    not allowed), or anyone's with 職員の管理 (recovery is by the administrator)."""
    credential = WebAuthnCredential.objects.select_related("staff").filter(pk=credential_pk).first()
    own = (
        credential is not None and actor.staff is not None and credential.staff_id == actor.staff.pk
    )
    if not own:
        account_services.authorize(actor, Perm.STAFF_MANAGE, "認証器の削除")
    if credential is None or credential.revoked_at is not None:
        raise FindingsError(
            [error("authn.credential.unknown", "その認証器は登録されていないか、削除済みです。")]
        )
    with transaction.atomic():
        credential = WebAuthnCredential.objects.select_for_update().get(pk=credential.pk)
        if own and not password_only_allowed():
            others = (
                WebAuthnCredential.objects.filter(
                    staff_id=credential.staff_id, revoked_at__isnull=True
                )
                .exclude(pk=credential.pk)
                .count()
            )
            if others == 0:
                raise FindingsError(
                    [
                        error(
                            "authn.credential.last",
                            "最後の認証器は削除できません（生体認証なしではログインできなくなります）。",
                            remedy="先に別の認証器を登録するか、システム管理者に依頼してください。",
                        )
                    ]
                )
        credential.revoked_at = timezone.now()
        credential.revoked_by = actor.operator_code[:64]
        credential.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="認証器の削除",
            detail={
                "staff_id": credential.staff.staff_id,
                "credential": credential.pk,
                "label": credential.label,
                "by": "self" if own else "administrator",
            },
        )
    return credential


def reset_authenticators(actor: Actor, *, staff_id: str) -> IssuedLink:
    """Recovery (an authenticator lost or replaced): revoke all of the person's
    authenticators and issue a new enrolment link. Administrators only."""
    account_services.authorize(actor, Perm.STAFF_MANAGE, "認証器のリセット")
    staff = _staff(staff_id)
    with transaction.atomic():
        now = timezone.now()
        revoked = WebAuthnCredential.objects.filter(staff=staff, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor.operator_code[:64]
        )
        audit.record(
            actor,
            category=Category.SETTINGS_CHANGE,
            function="認証器のリセット",
            detail={"staff_id": staff.staff_id, "revoked": revoked},
        )
        return _issue(actor, staff, "認証器登録用リンクの発行")


def require_staff_manage(actor: Actor, function: str) -> None:
    """The administration screens and commands read with 職員の管理 only (refusal logged)."""
    account_services.authorize(actor, Perm.STAFF_MANAGE, function)
