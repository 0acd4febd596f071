"""An initial or reset password must be changed before anything else
(jumin.accounts.middleware.PasswordChangeRequiredMiddleware) — std 10.3 (j1380)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from jumin.accounts.tests.factories import PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db

MIDDLEWARE = "jumin.accounts.middleware.PasswordChangeRequiredMiddleware"


def _with_middleware() -> list[str]:
    chain = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    at = chain.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
    return [*chain[:at], MIDDLEWARE, *chain[at:]]


# std 10.3 (j1380)
def test_a_reset_password_sends_the_person_to_change_it(client):
    staff = StaffFactory(roles=["counter_clerk"], must_change_password=True)
    client.force_login(staff)
    with override_settings(MIDDLEWARE=_with_middleware()):
        response = client.get("/search/")
        assert response.status_code == 302 and response["Location"] == "/admin/password/"
        api = client.get("/api/register/search?name_kana=サトウ")
        assert api.status_code == 403
        assert api.json()["code"] == "password_change_required"
        html = client.get("/admin/password/").content.decode()
        assert 'id="password-required"' in html
        assert "data-cancel" not in html.split('id="password-form"')[1]
        response = client.post(
            "/admin/password/",
            {
                "current": PASSWORD,
                "new": "another-horse-staple-77",
                "confirm": "another-horse-staple-77",
            },
        )
        assert response.status_code == 302
        assert client.get("/search/").status_code == 200


def test_others_pass(client):
    client.force_login(StaffFactory(roles=["counter_clerk"]))
    with override_settings(MIDDLEWARE=_with_middleware()):
        assert client.get("/search/").status_code == 200
