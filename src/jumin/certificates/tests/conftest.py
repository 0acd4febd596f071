"""Fixtures for the certificate tests: own key files, own signing CA, fast passwords."""

from __future__ import annotations

import pytest

from jumin.certificates import signing
from jumin.register import crypto


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    settings.VAR_DIR = tmp_path / "var"
    settings.JUMIN = {**settings.JUMIN, "MODE": "demo", "CERT_VERIFY_BASE_URL": "http://testserver"}
    crypto.reset_keyring_cache()
    signing.reset_cache()
    yield
    crypto.reset_keyring_cache()
    signing.reset_cache()
