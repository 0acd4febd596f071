"""Staff authentication: ID + password, then WebAuthn with user verification required
(std 10.3, j1380); every outcome in the operation log (std 10.2, j1370)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.checks import run_checks
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import PASSWORD, StaffFactory, TerminalFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.authn import services
from jumin.authn.middleware import LAST_SEEN_KEY
from jumin.authn.models import EnrolmentLink, LoginFailureState, WebAuthnCredential
from jumin.authn.tests.softkey import SoftKey
from jumin.core.findings import FindingsError

pytestmark = pytest.mark.django_db

BANNER = "デモモード：パスワードのみでログインしています（本番では生体認証が必要です）"


def auth_entries():
    return list(OperationLogEntry.objects.filter(category=Category.AUTHENTICATION).order_by("seq"))


def last_auth():
    return auth_entries()[-1]


def production(settings, **extra):
    settings.JUMIN = {
        **settings.JUMIN,
        "MODE": "production",
        "PASSWORD_ONLY_LOGIN": False,
        "WEBAUTHN_ORIGINS": ["http://testserver"],
        **extra,
    }


@pytest.fixture
def admin():
    return StaffFactory(staff_id="admin01", name="管理 一郎", roles=["administrator"])


@pytest.fixture
def clerk():
    return StaffFactory(staff_id="clerk01", name="窓口 一郎", roles=["counter_clerk"])


def enrol(staff, key=None, label="指紋"):
    """Enrol ``key`` for ``staff`` through a link, as the services see it."""
    key = key or SoftKey()
    issued = services.issue_enrolment_link(Actor.system("cli"), staff_id=staff.staff_id)
    services.enrolment_identify(token=issued.token, staff_id=staff.staff_id, password=PASSWORD)
    options, state = services.registration_options(staff)
    services.register_credential(
        staff=staff,
        credential_json=json.dumps(key.register(json.loads(options))),
        state=state,
        request_origin="http://testserver",
        label=label,
        link_token=issued.token,
    )
    return key


def step1(client, staff, password=PASSWORD, **extra):
    return client.post("/login/", {"username": staff.staff_id, "password": password, **extra})


def get_options(client):
    response = client.post("/auth/verify/options/")
    assert response.status_code == 200, response.content
    return response.json()


def answer(client, payload):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post("/auth/verify/", data=body, content_type="application/json")


# --------------------------------------------------------------------------- demo: password only


# std 10.3 (j1380): demo mode without an authenticator — password only, said on every page
def test_demo_password_only_login_is_logged_and_shown_on_every_page(client, clerk):
    response = step1(client, clerk)
    assert response.status_code == 302 and response["Location"] == "/"
    entry = last_auth()
    assert entry.outcome == Outcome.SUCCESS and entry.operator == clerk
    assert entry.detail["factor"] == "password_only_demo"
    for url in ("/", "/search/", "/auth/authenticators/"):
        assert BANNER in client.get(url).content.decode(), url


# std 10.3 (j1380): production refuses password-only login
def test_production_refuses_password_only(client, clerk, settings):
    production(settings)
    response = step1(client, clerk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "登録用リンクの発行を依頼してください" in html
    assert client.get("/").status_code == 302
    entry = last_auth()
    assert entry.outcome == Outcome.FAILED
    assert entry.detail == {
        "staff_id": "clerk01",
        "reason": "no_authenticator",
        "factor": "password",
    }
    assert not services.password_only_allowed()


def test_production_settings_check_refuses_password_only_and_plain_http(settings):
    production(settings, PASSWORD_ONLY_LOGIN=True, WEBAUTHN_ORIGINS=["http://jumin.example"])
    ids = {e.id for e in run_checks(tags=["security"])}
    assert {"authn.E001", "authn.E002"} <= ids
    production(settings, WEBAUTHN_ORIGINS=["https://jumin.example"])
    ids = {e.id for e in run_checks(tags=["security"])}
    assert not ids & {"authn.E001", "authn.E002"}


def test_production_settings_module_refuses_missing_origins(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import jumin.config.settings as module

    monkeypatch.setenv("JUMIN_MODE", "production")
    monkeypatch.setenv("JUMIN_SECRET_KEY", "x" * 60)
    monkeypatch.setenv("JUMIN_ALLOWED_HOSTS", "jumin.example")
    monkeypatch.delenv("JUMIN_WEBAUTHN_ORIGINS", raising=False)
    try:
        with pytest.raises(ImproperlyConfigured, match="JUMIN_WEBAUTHN_ORIGINS"):
            importlib.reload(module)
        monkeypatch.setenv("JUMIN_WEBAUTHN_ORIGINS", "https://jumin.example")
        reloaded = importlib.reload(module)
        assert reloaded.JUMIN["PASSWORD_ONLY_LOGIN"] is False
    finally:
        monkeypatch.undo()
        importlib.reload(module)


# --------------------------------------------------------------------------- WebAuthn login


# std 10.3 (j1380): password, then the authenticator with user verification
def test_login_with_an_enrolled_authenticator(client, clerk, settings):
    production(settings)
    key = enrol(clerk)
    response = step1(client, clerk)
    assert response.status_code == 302 and response["Location"] == "/auth/verify/"
    assert client.get("/").status_code == 302  # not signed in yet
    page = client.get("/auth/verify/").content.decode()
    assert "生体認証でログイン" in page and "webauthn.js" in page
    options = get_options(client)
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    response = answer(client, key.sign(options))
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "redirect": "/"}
    home = client.get("/")
    assert home.status_code == 200
    assert BANNER not in home.content.decode()
    entry = last_auth()
    assert entry.outcome == Outcome.SUCCESS and entry.operator == clerk
    assert entry.detail["factor"] == "password+webauthn"
    assert entry.detail["user_verified"] is True
    credential = WebAuthnCredential.objects.get(staff=clerk)
    assert credential.sign_count == 1 and credential.last_used_at is not None


def test_the_next_page_is_kept_through_the_second_step(client, clerk):
    key = enrol(clerk)
    response = client.post(
        "/login/?next=/search/", {"username": clerk.staff_id, "password": PASSWORD}
    )
    assert response["Location"] == "/auth/verify/"
    response = answer(client, key.sign(get_options(client)))
    assert response.json()["redirect"] == "/search/"


# std 10.3 (j1380): a challenge is used once — a replayed answer is refused and logged
def test_replayed_assertion_is_refused(client, clerk):
    key = enrol(clerk)
    step1(client, clerk)
    options = get_options(client)
    payload = key.sign(options)
    first_client = Client()
    # the first use on another session would need its own challenge; here: use, log out, replay
    assert answer(client, payload).json()["ok"] is True
    client.post("/logout/")
    step1(client, clerk)
    response = answer(client, payload)  # no challenge handed out in this session
    assert response.status_code == 400
    assert response.json() == {"ok": False, "message": services.WEBAUTHN_EXPIRED}
    assert last_auth().detail["reason"] == "no_challenge"
    # with a fresh challenge, the old answer signs the wrong one
    get_options(client)
    response = answer(client, payload)
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "challenge_mismatch"
    assert client.get("/").status_code == 302
    assert first_client.get("/").status_code == 302


def test_a_challenge_answered_twice_in_one_session_is_refused(client, clerk):
    key = enrol(clerk)
    step1(client, clerk)
    options = get_options(client)
    refused = key.sign(options, origin="https://evil.example")
    assert answer(client, refused).json()["ok"] is False
    # the challenge went with the first answer: a correct answer to it is now refused
    response = answer(client, key.sign(options))
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "no_challenge"


# std 10.3 (j1380): the challenge expires after two minutes
def test_expired_challenge_is_refused(client, clerk, monkeypatch):
    key = enrol(clerk)
    step1(client, clerk)
    options = get_options(client)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + services.CHALLENGE_SECONDS + 5)
    response = answer(client, key.sign(options))
    assert response.json() == {"ok": False, "message": services.WEBAUTHN_EXPIRED}
    assert last_auth().detail["reason"] == "challenge_expired"
    assert last_auth().outcome == Outcome.FAILED


# std 10.3 (j1380): user verification is required (the biometric, not a mere touch)
def test_user_not_verified_is_refused(client, clerk):
    key = enrol(clerk)
    key.user_verified = False
    step1(client, clerk)
    response = answer(client, key.sign(get_options(client)))
    assert response.json() == {"ok": False, "message": services.WEBAUTHN_REFUSED}
    assert last_auth().detail["reason"] == "user_not_verified"
    assert client.get("/").status_code == 302


def test_registration_without_user_verification_is_refused(clerk):
    issued = services.issue_enrolment_link(Actor.system("cli"), staff_id=clerk.staff_id)
    options, state = services.registration_options(clerk)
    assert json.loads(options)["authenticatorSelection"]["userVerification"] == "required"
    key = SoftKey(user_verified=False)
    with pytest.raises(services.AuthenticationRefused) as refused:
        services.register_credential(
            staff=clerk,
            credential_json=json.dumps(key.register(json.loads(options))),
            state=state,
            request_origin="http://testserver",
            label="",
            link_token=issued.token,
        )
    assert refused.value.reason == "user_not_verified"
    assert not WebAuthnCredential.objects.exists()
    assert services.valid_link(issued.token) is not None  # the link was not used up


# std 10.3 (j1380): a cloned authenticator (sign count going back) is refused
def test_sign_count_regression_is_refused(client, clerk):
    key = enrol(clerk)
    WebAuthnCredential.objects.filter(staff=clerk).update(sign_count=10)
    key.sign_count = 4
    step1(client, clerk)
    response = answer(client, key.sign(get_options(client)))
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "sign_count_regression"
    assert WebAuthnCredential.objects.get(staff=clerk).sign_count == 10


def test_wrong_origin_is_refused(client, clerk, settings):
    key = enrol(clerk)
    step1(client, clerk)
    response = answer(client, key.sign(get_options(client), origin="http://127.0.0.1:8000"))
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "origin_mismatch"
    # a configured origin list is what counts, not the request's host
    settings.JUMIN = {**settings.JUMIN, "WEBAUTHN_ORIGINS": ["https://jumin.example"]}
    response = answer(client, key.sign(get_options(client)))
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "origin_mismatch"


def test_another_persons_authenticator_is_refused(client, clerk):
    enrol(clerk)
    other = StaffFactory(staff_id="clerk02")
    other_key = enrol(other)
    step1(client, clerk)
    response = answer(client, other_key.sign(get_options(client)))
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "unknown_credential"


def test_revoked_authenticator_is_refused(client, clerk, admin):
    key = enrol(clerk)
    enrol(clerk)  # a second one, so that the first can go
    credential = WebAuthnCredential.objects.filter(staff=clerk).first()
    services.revoke_credential(Actor.of(admin, None, "web"), credential_pk=credential.pk)
    step1(client, clerk)
    options = get_options(client)
    assert key.id not in [c["id"] for c in options["allowCredentials"]]
    response = answer(client, key.sign(options))
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "unknown_credential"


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[1, 2]",
        "{}",
        '{"id": 5}',
        '{"client_error": "NotAllowedError"}',
        '{"client_error": "<script>"}',
        "x" * (70 * 1024),
    ],
)
def test_malformed_answers_are_refused_generically(client, clerk, payload):
    key = enrol(clerk)
    step1(client, clerk)
    get_options(client)
    broken = payload
    response = answer(client, broken)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "message": services.WEBAUTHN_REFUSED}
    entry = last_auth()
    assert entry.outcome == Outcome.FAILED and entry.detail["factor"] == "password+webauthn"
    assert entry.detail["reason"] in {
        "malformed",
        "unknown_credential",
        "client_error:NotAllowedError",
        "client_error:other",
    }
    assert key.id  # the real key was never used


def test_garbage_inside_a_real_credential_is_refused(client, clerk):
    key = enrol(clerk)
    step1(client, clerk)
    payload = key.sign(get_options(client))
    payload["response"]["authenticatorData"] = "!!!"
    response = answer(client, payload)
    assert response.json() == {"ok": False, "message": services.WEBAUTHN_REFUSED}
    assert last_auth().detail["reason"] in {"invalid_response", "bad_signature", "malformed"}


def test_step_two_without_step_one_is_refused(client, clerk):
    response = client.get("/auth/verify/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.post("/auth/verify/options/").status_code == 400
    response = answer(client, {"id": "x"})
    assert response.status_code == 400
    assert last_auth().detail["reason"] == "no_pending_login"


# std 10.3 (j1380): a member of staff deactivated between the password and the
# authenticator is not signed in (nor logged as signed in)
def test_staff_deactivated_during_the_second_step_is_refused(client, clerk, admin):
    from jumin.accounts import services as account_services

    key = enrol(clerk)
    step1(client, clerk)
    options = get_options(client)
    account_services.deactivate_staff(Actor.of(admin, None, "web"), staff_id="clerk01")
    response = answer(client, key.sign(options))
    assert response.status_code == 400
    assert "正しくありません" in response.json()["message"]
    entry = last_auth()
    assert entry.outcome == Outcome.FAILED and entry.detail["reason"] == "staff_not_valid"
    assert client.get("/").status_code == 302


def test_webauthn_posts_need_the_csrf_token(clerk):
    enrol(clerk)
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    client.post(
        "/login/",
        {"username": clerk.staff_id, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    response = client.post("/auth/verify/options/")
    # refused by the CSRF check (a signed-out browser is sent to the login page)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "jumin_webauthn_challenge" not in client.session


# --------------------------------------------------------------------------- terminal, lockout


def test_unknown_terminal_is_refused_and_logged(client, clerk):
    TerminalFactory(name="MADO-01")
    response = step1(client, clerk, terminal="999999")
    assert response.status_code == 200
    assert "端末の一覧から" in response.content.decode()
    assert last_auth().detail["reason"] == "unknown_terminal"
    assert client.get("/").status_code == 302


def test_over_long_or_missing_fields_are_refused_and_logged(client):
    response = client.post("/login/", {"username": "x" * 500, "password": "p"})
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    entry = last_auth()
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["reason"] == "invalid_form" and entry.detail["fields"] == ["username"]
    assert len(entry.detail["staff_id"]) == 64
    client.post("/login/", {"username": "clerk01"})
    assert last_auth().detail["fields"] == ["password"]


def test_terminal_is_kept_after_the_second_step(client, clerk):
    terminal = TerminalFactory(name="MADO-01")
    key = enrol(clerk)
    step1(client, clerk, terminal=str(terminal.pk))
    response = answer(client, key.sign(get_options(client)))
    assert response.json()["ok"] is True
    assert response.cookies["jumin_terminal"].value == str(terminal.pk)
    assert last_auth().terminal_name == "MADO-01"
    assert "MADO-01" in client.get("/").content.decode()


# std 10.3 (j1380): lockout after JUMIN_LOGIN_MAX_FAILURES failures
def test_lockout_after_repeated_failures_and_unlock(client, clerk, admin, settings):
    settings.JUMIN = {**settings.JUMIN, "LOGIN_MAX_FAILURES": 3, "LOGIN_LOCK_MINUTES": 30}
    for _ in range(3):
        step1(client, clerk, password="wrong-password")
    assert last_auth().detail.get("locked") is True
    response = step1(client, clerk)  # the right password, but locked
    assert "ロックされています" in response.content.decode()
    assert last_auth().detail["reason"] == "locked"
    assert client.get("/").status_code == 302
    # an administrator unlocks
    assert services.unlock(Actor.of(admin, None, "web"), staff_id=clerk.staff_id) is True
    assert step1(client, clerk).status_code == 302
    assert client.get("/").status_code == 200
    entry = OperationLogEntry.objects.filter(function="ログインロックの解除").get()
    assert entry.category == Category.SETTINGS_CHANGE and entry.operator == admin


def test_lock_ends_by_itself_and_success_resets_the_count(client, clerk, settings):
    settings.JUMIN = {**settings.JUMIN, "LOGIN_MAX_FAILURES": 2, "LOGIN_LOCK_MINUTES": 30}
    step1(client, clerk, password="wrong-password")
    step1(client, clerk)  # success: the count starts again
    assert LoginFailureState.objects.get(staff_id="clerk01").failures == 0
    client.post("/logout/")
    step1(client, clerk, password="wrong-password")
    step1(client, clerk, password="wrong-password")
    assert services.is_locked("clerk01")
    LoginFailureState.objects.filter(staff_id="clerk01").update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert not services.is_locked("clerk01")
    assert step1(client, clerk).status_code == 302


def test_unknown_ids_lock_the_same_way(client, settings):
    settings.JUMIN = {**settings.JUMIN, "LOGIN_MAX_FAILURES": 2}
    for _ in range(3):
        response = client.post("/login/", {"username": "nobody", "password": "x"})
    assert "ロックされています" in response.content.decode()


def test_authenticator_failures_count_towards_the_lock(client, clerk, settings):
    settings.JUMIN = {**settings.JUMIN, "LOGIN_MAX_FAILURES": 2}
    key = enrol(clerk)
    key.user_verified = False
    step1(client, clerk)
    answer(client, key.sign(get_options(client)))
    answer(client, key.sign(get_options(client)))
    assert services.is_locked(clerk.staff_id)
    key.user_verified = True
    response = answer(client, key.sign(get_options(client)))
    assert response.json()["ok"] is False
    assert last_auth().detail["reason"] == "locked"


def test_unlock_needs_staff_manage(clerk):
    with pytest.raises(PermissionDenied):
        services.unlock(Actor.of(clerk, None, "web"), staff_id="clerk01")


# --------------------------------------------------------------------------- enrolment


def test_enrolment_link_is_single_use_and_logged(clerk, admin):
    issued = services.issue_enrolment_link(Actor.of(admin, None, "web"), staff_id="clerk01")
    link = EnrolmentLink.objects.get()
    assert link.token_hash != issued.token and issued.token not in link.token_hash
    assert abs(link.expires_at - link.created_at - dt.timedelta(hours=24)) < dt.timedelta(seconds=5)
    enrol_with = SoftKey()
    services.enrolment_identify(token=issued.token, staff_id="clerk01", password=PASSWORD)
    options, state = services.registration_options(clerk)
    services.register_credential(
        staff=clerk,
        credential_json=json.dumps(enrol_with.register(json.loads(options))),
        state=state,
        request_origin="http://testserver",
        label="窓口の指紋",
        link_token=issued.token,
    )
    assert WebAuthnCredential.objects.get().label == "窓口の指紋"
    assert services.valid_link(issued.token) is None
    with pytest.raises(services.AuthenticationRefused) as refused:
        services.enrolment_identify(token=issued.token, staff_id="clerk01", password=PASSWORD)
    assert refused.value.message == services.LINK_INVALID
    functions = list(
        OperationLogEntry.objects.filter(category=Category.SETTINGS_CHANGE).values_list(
            "function", flat=True
        )
    )
    assert functions == ["認証器登録用リンクの発行", "認証器の登録"]


def test_enrolment_link_expires(clerk):
    issued = services.issue_enrolment_link(Actor.system("cli"), staff_id="clerk01")
    EnrolmentLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.valid_link(issued.token) is None
    with pytest.raises(services.AuthenticationRefused):
        services.enrolment_identify(token=issued.token, staff_id="clerk01", password=PASSWORD)
    assert last_auth().detail["reason"] == "invalid_enrolment_link"


def test_a_new_link_replaces_the_unused_one(clerk):
    first = services.issue_enrolment_link(Actor.system("cli"), staff_id="clerk01")
    second = services.issue_enrolment_link(Actor.system("cli"), staff_id="clerk01")
    assert services.valid_link(first.token) is None
    assert services.valid_link(second.token) is not None


def test_link_of_one_person_does_not_enrol_another(clerk):
    issued = services.issue_enrolment_link(Actor.system("cli"), staff_id="clerk01")
    StaffFactory(staff_id="clerk02")
    with pytest.raises(services.AuthenticationRefused) as refused:
        services.enrolment_identify(token=issued.token, staff_id="clerk02", password=PASSWORD)
    assert refused.value.reason == "bad_password"


def test_issuing_a_link_needs_staff_manage(clerk):
    with pytest.raises(PermissionDenied):
        services.issue_enrolment_link(Actor.of(clerk, None, "web"), staff_id="clerk01")
    entry = OperationLogEntry.objects.get()
    assert entry.outcome == Outcome.DENIED
    assert not EnrolmentLink.objects.exists()


def test_enrolment_through_the_screens(client, clerk, admin):
    issued = services.issue_enrolment_link(Actor.system("cli"), staff_id="clerk01")
    url = f"/auth/enrol/{issued.token}/"
    page = client.get(url).content.decode()
    assert "本人確認" in page
    response = client.post(url, {"username": "clerk01", "password": "wrong-password"})
    assert "正しくありません" in response.content.decode()
    response = client.post(url, {"username": "clerk01", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "認証器を登録" in page and "窓口 一郎" in page
    options = client.post(f"/auth/register/options/?link={issued.token}").json()
    key = SoftKey()
    body = {"label": "窓口の指紋", "credential": key.register(options)}
    response = client.post(
        f"/auth/register/?link={issued.token}",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.json() == {"ok": True, "redirect": "/login/"}
    assert WebAuthnCredential.objects.get(staff=clerk).label == "窓口の指紋"
    # the link is used up
    assert client.get(url).status_code == 404
    # and the person now logs in with it
    step1(client, clerk)
    assert answer(client, key.sign(get_options(client))).json()["ok"] is True


def _planted_session(client):
    """A session key already in the browser before the person proves who they are."""
    session = client.session
    session["planted"] = True
    session.save()
    return session.session_key


# session fixation: a key planted before the password (or the link's ID + password) step is
# not the one that carries the person's identity afterwards
def test_the_session_key_changes_when_the_person_is_identified(client, clerk):
    enrol(clerk)
    planted = _planted_session(client)
    assert step1(client, clerk)["Location"] == "/auth/verify/"
    pending_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert pending_key != planted
    issued = services.issue_enrolment_link(Actor.system("cli"), staff_id="clerk01")
    fresh = Client()
    planted = _planted_session(fresh)
    url = f"/auth/enrol/{issued.token}/"
    assert fresh.post(url, {"username": "clerk01", "password": PASSWORD}).status_code == 302
    assert fresh.cookies[django_settings.SESSION_COOKIE_NAME].value != planted
    attacker = Client()
    attacker.cookies[django_settings.SESSION_COOKIE_NAME] = planted
    assert attacker.post(f"/auth/register/options/?link={issued.token}").status_code == 403


def test_enrol_link_page_for_a_bad_token(client):
    response = client.get("/auth/enrol/not-a-token/")
    assert response.status_code == 404
    assert "使用できません" in response.content.decode()
    assert last_auth().detail["reason"] == "invalid_enrolment_link"
    assert client.post("/auth/register/options/?link=not-a-token").status_code == 403


# --------------------------------------------------------------------------- my authenticators


def test_my_authenticators_add_and_remove(client, clerk, settings):
    production(settings)
    key = enrol(clerk, label="一つ目")
    step1(client, clerk)
    answer(client, key.sign(get_options(client)))
    page = client.get("/auth/authenticators/").content.decode()
    assert "一つ目" in page
    # add a second one while signed in
    options = client.post("/auth/register/options/").json()
    assert [c["id"] for c in options["excludeCredentials"]] == [key.id]
    second = SoftKey()
    response = client.post(
        "/auth/register/",
        data=json.dumps({"label": "二つ目", "credential": second.register(options)}),
        content_type="application/json",
    )
    assert response.json() == {"ok": True, "redirect": "/auth/authenticators/"}
    first, other = WebAuthnCredential.objects.filter(staff=clerk).order_by("pk")
    client.post("/auth/authenticators/", {"credential": first.pk})
    first.refresh_from_db()
    assert first.revoked_at is not None
    # the last one stays in production
    response = client.post("/auth/authenticators/", {"credential": other.pk}, follow=True)
    assert "最後の認証器は削除できません" in response.content.decode()
    other.refresh_from_db()
    assert other.revoked_at is None


def test_one_cannot_remove_anothers_authenticator(client, clerk):
    enrol(clerk)
    other = StaffFactory(staff_id="clerk02")
    enrol(other)
    theirs = WebAuthnCredential.objects.get(staff=other)
    client.force_login(clerk)
    response = client.post("/auth/authenticators/", {"credential": theirs.pk})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


# std 10.3 (j1380): recovery only by an administrator — reset revokes all and issues a link
def test_reset_revokes_all_and_issues_a_link(clerk, admin):
    enrol(clerk)
    enrol(clerk)
    issued = services.reset_authenticators(Actor.of(admin, None, "web"), staff_id="clerk01")
    assert not WebAuthnCredential.objects.filter(staff=clerk, revoked_at__isnull=True).exists()
    assert services.valid_link(issued.token).staff == clerk
    with pytest.raises(PermissionDenied):
        services.reset_authenticators(Actor.of(clerk, None, "web"), staff_id="clerk01")


def test_admin_screen(client, clerk, admin):
    client.force_login(clerk)
    assert client.get("/auth/enrol-links/").status_code == 403
    client.force_login(admin)
    page = client.get("/auth/enrol-links/")
    assert page.status_code == 200 and "clerk01" in page.content.decode()
    response = client.post("/auth/enrol-links/", {"staff_id": "clerk01", "action": "issue"})
    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "http://testserver/auth/enrol/" in html
    token = html.split("http://testserver/auth/enrol/")[1].split("/")[0]
    assert services.valid_link(token).staff == clerk
    assert token not in client.get("/auth/enrol-links/").content.decode()  # shown once
    response = client.post("/auth/enrol-links/", {"staff_id": "nobody", "action": "issue"})
    assert "登録されていません" in response.content.decode()


def test_label_too_long_is_refused(clerk):
    options, state = services.registration_options(clerk)
    with pytest.raises(FindingsError):
        services.register_credential(
            staff=clerk,
            credential_json=json.dumps(SoftKey().register(json.loads(options))),
            state=state,
            request_origin="http://testserver",
            label="あ" * 65,
            link_token=None,
        )


# --------------------------------------------------------------------------- sessions, headers


# std 10.3 (j1380): an idle session is logged out
def test_idle_session_is_logged_out(client, clerk, settings):
    settings.JUMIN = {**settings.JUMIN, "IDLE_TIMEOUT_MINUTES": 15}
    step1(client, clerk)
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 16 * 60
    session.save()
    response = client.get("/search/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/search/"
    page = client.get(response["Location"]).content.decode()
    assert "操作のない状態が15分続いたため" in page
    entry = last_auth()
    assert entry.function == "ログアウト（無操作時間切れ）" and entry.operator == clerk
    assert client.get("/").status_code == 302


def test_an_active_session_stays(client, clerk):
    step1(client, clerk)
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 14 * 60
    session.save()
    assert client.get("/").status_code == 200
    assert client.get("/search/").status_code == 200


# std 10.3 (j1380): a login lasts SESSION_COOKIE_AGE (8 h) at most, however busy the session
def test_a_busy_session_still_ends_at_its_absolute_age(client, clerk, monkeypatch):
    step1(client, clerk)
    assert client.get("/").status_code == 200
    login_at = timezone.now()
    age = dt.timedelta(seconds=django_settings.SESSION_COOKIE_AGE)

    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        session = client.session
        session[LAST_SEEN_KEY] = int(time.time()) - 60  # busy: the idle clock is rewritten
        session.save()

    at(login_at + age - dt.timedelta(hours=1))
    response = client.get("/")
    assert response.status_code == 200
    max_age = int(response.cookies[django_settings.SESSION_COOKIE_NAME]["max-age"])
    assert max_age <= 3600  # the cookie ends with the login, not 8 h after this request
    at(login_at + age + dt.timedelta(minutes=1))
    response = client.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_security_headers_on_every_response(client, clerk, settings):
    # outside WhiteNoise, so that static files carry the headers too
    order = settings.MIDDLEWARE
    assert order.index("jumin.authn.middleware.SecurityHeadersMiddleware") < order.index(
        "whitenoise.middleware.WhiteNoiseMiddleware"
    )
    responses = [client.get("/login/"), client.get("/auth/enrol/nothing/")]
    client.force_login(clerk)
    responses.append(client.get("/"))
    for response in responses:
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert "publickey-credentials-get=(self)" in response["Permissions-Policy"]
        assert response["X-Frame-Options"] == "DENY"


# --------------------------------------------------------------------------- CLI


def test_cli_enrol_link_list_revoke_reset_unlock(clerk, capsys):
    from django.core.management import call_command

    call_command("authn", "enrol-link", "clerk01", "--base-url", "https://jumin.example")
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://jumin.example/auth/enrol/")
    assert services.valid_link(url.rsplit("/", 2)[1]).staff == clerk
    enrol(clerk, label="指紋A")
    call_command("authn", "list", "clerk01")
    listing = capsys.readouterr().out
    assert "指紋A" in listing and "clerk01" in listing
    pk = int(listing.split("\t")[0])
    call_command("authn", "revoke", str(pk))
    assert "削除しました" in capsys.readouterr().out
    assert WebAuthnCredential.objects.get(pk=pk).revoked_at is not None
    call_command("authn", "reset", "clerk01")
    assert "/auth/enrol/" in capsys.readouterr().out
    LoginFailureState.objects.create(
        staff_id="clerk01", locked_until=timezone.now() + dt.timedelta(minutes=5)
    )
    call_command("authn", "unlock", "clerk01")
    assert "解除しました" in capsys.readouterr().out
    assert not services.is_locked("clerk01")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="登録されていません"):
        call_command("authn", "enrol-link", "nobody")


def test_a_forged_session_cookie_is_refused_logged_once_and_removed(client, clerk):
    # std 10.3 (j1380); issue 5 bad input: forged session cookies
    cache.clear()  # the log throttle starts afresh
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "forged0123456789abcdefghijklmnop"
    response = client.get("/search/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    entries = list(
        OperationLogEntry.objects.filter(
            category=Category.AUTHENTICATION, detail__reason="session_unknown"
        )
    )
    assert len(entries) == 1 and entries[0].outcome == Outcome.FAILED
    assert "forged" not in json.dumps(entries[0].detail)  # the key itself is not kept
    cookie = response.cookies.get(django_settings.SESSION_COOKIE_NAME)
    assert cookie is not None and cookie.value == ""  # deleted
    client.get("/search/")
    assert OperationLogEntry.objects.filter(detail__reason="session_unknown").count() == 1


def test_forged_cookies_sent_again_and_again_are_logged_once_a_minute(client, clerk):
    # issue 5 bad input: a client that keeps its forged cookie cannot flood the log
    cache.clear()
    for n in range(5):
        client.cookies[django_settings.SESSION_COOKIE_NAME] = (
            f"forged{n:02d}0123456789abcdefghijklm"
        )
        assert client.get("/search/").status_code == 302
    assert OperationLogEntry.objects.filter(detail__reason="session_unknown").count() == 1
    cache.clear()  # a minute later (the throttle's window has passed)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "forged990123456789abcdefghijklm"
    client.get("/search/")
    assert OperationLogEntry.objects.filter(detail__reason="session_unknown").count() == 2
