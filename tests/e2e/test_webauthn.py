"""WebAuthn end to end in Chromium with the DevTools virtual authenticator (a platform
authenticator with user verification, as a fingerprint reader would be): enrolment through
an administrator's link, then login with ID + password + the authenticator (std 10.3, j1380).

The relying-party id is "localhost": the live server is reached as http://localhost:PORT."""

from __future__ import annotations

import re
from typing import Any

import pytest

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import PASSWORD, StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.authn import services
from jumin.authn.models import WebAuthnCredential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BANNER = "パスワードのみでログインしています"
HOME = re.compile(r"^http://localhost:\d+/$")


def virtual_authenticator(page: Any, *, verified: bool = True) -> tuple[Any, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": verified,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, result["authenticatorId"]


def enrol_in_browser(page: Any, staff: Any, look: Any = None) -> None:
    issued = services.issue_enrolment_link(Actor.system("cli"), staff_id=staff.staff_id)
    page.goto(f"/auth/enrol/{issued.token}/")
    if look:
        look(page, "enrol-identify")
    page.get_by_label("職員ID").fill(staff.staff_id)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="本人確認").click()
    page.wait_for_load_state()
    page.get_by_label("認証器の名前（任意）").fill("窓口端末の指紋")
    if look:
        look(page, "enrol-register")
    page.get_by_role("button", name="認証器を登録").click()
    page.wait_for_url("**/login/")
    assert "認証器を登録しました" in page.inner_text("main")
    assert WebAuthnCredential.objects.filter(staff=staff, revoked_at__isnull=True).count() == 1


def password_step(page: Any, staff: Any) -> None:
    page.goto("/login/")
    page.get_by_label("職員ID").fill(staff.staff_id)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/auth/verify/")


def last_auth() -> Any:
    return OperationLogEntry.objects.filter(category=Category.AUTHENTICATION).order_by("seq").last()


# std 10.3 (j1380): enrol through the link, then ID + password + biometric → in
def test_enrol_through_a_link_then_log_in(browser_page, look):
    page = browser_page
    clerk = StaffFactory(staff_id="clerk01", name="窓口 一郎", roles=["counter_clerk"])
    virtual_authenticator(page)
    enrol_in_browser(page, clerk, look)
    look(page, "login-after-enrol")
    password_step(page, clerk)
    look(page, "verify")
    page.get_by_role("button", name="生体認証でログイン").click()
    page.wait_for_url(HOME)
    body = page.inner_text("body")
    assert "窓口 一郎 さん" in body
    assert BANNER not in body
    entry = last_auth()
    assert entry.outcome == Outcome.SUCCESS and entry.detail["factor"] == "password+webauthn"
    # the person's own authenticators
    page.get_by_role("link", name="自分の認証器").click()
    page.wait_for_url("**/auth/authenticators/")
    assert "窓口端末の指紋" in page.inner_text("main")
    look(page, "authenticators")


# std 10.3 (j1380): an authenticator that did not verify the user → refused
def test_user_not_verified_is_refused(browser_page, look):
    page = browser_page
    clerk = StaffFactory(staff_id="clerk01", name="窓口 一郎", roles=["counter_clerk"])
    cdp, authenticator = virtual_authenticator(page)
    enrol_in_browser(page, clerk)
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    password_step(page, clerk)
    page.get_by_role("button", name="生体認証でログイン").click()
    alert = page.locator("[data-webauthn-message]")
    alert.wait_for(state="visible")
    assert "生体認証を確認できませんでした" in alert.inner_text()
    look(page, "refused")
    assert page.url.endswith("/auth/verify/")
    page.goto("/")
    assert "/login/" in page.url
    entry = last_auth()
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["reason"] in {"user_not_verified", "client_error:NotAllowedError"}


# std 10.3 (j1380): an answer signed for another origin → refused
def test_wrong_origin_is_refused(browser_page, live_server, settings):
    page = browser_page
    clerk = StaffFactory(staff_id="clerk01", name="窓口 一郎", roles=["counter_clerk"])
    virtual_authenticator(page)
    enrol_in_browser(page, clerk)
    # the server expects another origin than the one the browser is on
    settings.JUMIN = {**settings.JUMIN, "WEBAUTHN_ORIGINS": ["https://jumin.example.lg.jp"]}
    password_step(page, clerk)
    page.get_by_role("button", name="生体認証でログイン").click()
    page.locator("[data-webauthn-message]").wait_for(state="visible")
    assert last_auth().detail["reason"] == "origin_mismatch"
    page.goto("/")
    assert "/login/" in page.url
    # and 127.0.0.1 is not the relying party "localhost": the browser itself refuses
    settings.JUMIN = {**settings.JUMIN, "WEBAUTHN_ORIGINS": []}
    other = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{other}/login/")
    page.get_by_label("職員ID").fill(clerk.staff_id)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/auth/verify/")
    page.get_by_role("button", name="生体認証でログイン").click()
    page.locator("[data-webauthn-message]").wait_for(state="visible")
    entry = last_auth()
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["reason"].startswith("client_error:")
    page.goto(f"{other}/")
    assert "/login/" in page.url
