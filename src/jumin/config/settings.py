"""Jumin settings: one module, driven by environment variables.

| variable | meaning | default |
|---|---|---|
| JUMIN_MODE | ``demo`` or ``production`` | ``demo`` |
| JUMIN_DATABASE_URL | ``sqlite:///path`` or ``postgres://…`` | SQLite under JUMIN_VAR_DIR |
| JUMIN_VAR_DIR | runtime data (SQLite file, key file, generated data) | ``./var`` |
| JUMIN_SECRET_KEY | Django secret key; required in production | demo key, demo only |
| JUMIN_ALLOWED_HOSTS | comma-separated host names | ``localhost,127.0.0.1`` in demo |
| JUMIN_KEY_FILE | field-encryption key file, outside the database | ``$JUMIN_VAR_DIR/keys.json`` |
| JUMIN_AUDIT_CHECKPOINT_KEY | key signing the log's checkpoints | ``$VAR/audit-checkpoint.key`` |
| JUMIN_AUDIT_CHECKPOINT_DIR | the log's signed checkpoints | ``$VAR/audit-checkpoints`` |
| JUMIN_AUDIT_ARCHIVE_DIR | archived operation-log files | ``$VAR/audit-archive`` |
| JUMIN_CSRF_TRUSTED_ORIGINS | comma-separated origins (production behind a proxy) | empty |
| JUMIN_WEBAUTHN_RP_ID | WebAuthn relying-party id (the site's host name) | ``localhost`` |
| JUMIN_WEBAUTHN_ORIGINS | comma-separated origins signed for; required in production | demo: own |
| JUMIN_LOGIN_MAX_FAILURES | failed logins before a staff id is locked | ``5`` |
| JUMIN_LOGIN_LOCK_MINUTES | how long a lock lasts (an administrator may unlock) | ``30`` |
| JUMIN_IDLE_TIMEOUT_MINUTES | a session unused this long is logged out | ``15`` |
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


MODE = _env("JUMIN_MODE", "demo")
if MODE not in {"demo", "production"}:
    raise ImproperlyConfigured(
        f"JUMIN_MODE は demo か production のどちらかです（指定値: {MODE!r}）。"
        f" JUMIN_MODE must be 'demo' or 'production', got {MODE!r}."
    )
PRODUCTION = MODE == "production"

VAR_DIR = Path(_env("JUMIN_VAR_DIR", str(Path.cwd() / "var"))).resolve()

_DEMO_SECRET = "jumin-demo-secret-key-not-for-production-use-0123456789abcdefghijklmnop"  # noqa: S105
SECRET_KEY = _env("JUMIN_SECRET_KEY") or ("" if PRODUCTION else _DEMO_SECRET)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEMO_SECRET):
    raise ImproperlyConfigured(
        "JUMIN_SECRET_KEY を設定してください（本番モードでは必須です）。"
        " Set JUMIN_SECRET_KEY: production mode requires a secret key."
    )

DEBUG = False
ALLOWED_HOSTS = _env_list(
    "JUMIN_ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver"
)
CSRF_TRUSTED_ORIGINS = _env_list("JUMIN_CSRF_TRUSTED_ORIGINS")
KEY_FILE = Path(_env("JUMIN_KEY_FILE", str(VAR_DIR / "keys.json")))
# the operation log outside the database (docs/adr/0011, docs/guide/operation-log.md)
AUDIT_CHECKPOINT_KEY = Path(
    _env("JUMIN_AUDIT_CHECKPOINT_KEY", str(VAR_DIR / "audit-checkpoint.key"))
)
AUDIT_CHECKPOINT_DIR = Path(_env("JUMIN_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))
AUDIT_ARCHIVE_DIR = Path(_env("JUMIN_AUDIT_ARCHIVE_DIR", str(VAR_DIR / "audit-archive")))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "jumin.accounts",
    "jumin.audit",
    "jumin.outbox",
    "jumin.register",
    "jumin.jukinet",
    "jumin.support",
    "jumin.certificates",
    "jumin.authn",
    "jumin.web",
]

MIDDLEWARE = [
    # Content-Security-Policy and Permissions-Policy on every response (static files too)
    "jumin.authn.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # static files (CSS, JS) straight from the installed package: no web server to configure
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jumin.web.middleware.RoutePermissionMiddleware",  # jumin.web.route_perms (std 10.3)
    "jumin.accounts.middleware.PasswordChangeRequiredMiddleware",  # initial password (std 10.3)
    "django.contrib.messages.middleware.MessageMiddleware",
    # a session unused for JUMIN_IDLE_TIMEOUT_MINUTES is logged out (std 10.3, j1380)
    "jumin.authn.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "jumin.config.urls"
WSGI_APPLICATION = "jumin.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jumin.web.context.jumin",
            ]
        },
    }
]


def _database() -> dict[str, object]:
    url = _env("JUMIN_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'jumin.sqlite3'}"
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"JUMIN_DATABASE_URL を解釈できません: {exc}. Use sqlite:///PATH or postgres://…"
        ) from exc
    engine = str(config["ENGINE"])
    if engine.endswith("sqlite3"):
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
            ),
        }
        name = str(config.get("NAME") or "")
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
    elif "postgresql" in engine:
        config.setdefault("OPTIONS", {})
    config["ATOMIC_REQUESTS"] = False
    config["TEST"] = {"NAME": _env("JUMIN_TEST_DATABASE_NAME") or None}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Staff"
AUTHENTICATION_BACKENDS = ["jumin.accounts.backends.StaffBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12 if PRODUCTION else 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Static files are served from the installed package by WhiteNoise (few small files, no build
# step, no collectstatic); JUMIN_STATIC_ROOT only for a site that wants `collectstatic`.
STATIC_ROOT = _env("JUMIN_STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_AGE = 8 * 60 * 60  # absolute: a login lasts one working day at most
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "jumin.web.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env("JUMIN_SSL_REDIRECT", "1") != "0"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# No inline script or style anywhere: every script and stylesheet is a static file.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
PERMISSIONS_POLICY = (
    "publickey-credentials-get=(self), publickey-credentials-create=(self), camera=(), "
    "microphone=(), geolocation=(), payment=(), usb=(), serial=()"
)


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} は整数で指定してください（指定値: {raw!r}）。") from exc
    if value < minimum:
        raise ImproperlyConfigured(
            f"{name} は {minimum} 以上で指定してください（指定値: {value}）。"
        )
    return value


WEBAUTHN_ORIGINS = _env_list("JUMIN_WEBAUTHN_ORIGINS")
if PRODUCTION and not WEBAUTHN_ORIGINS:
    raise ImproperlyConfigured(
        "JUMIN_WEBAUTHN_ORIGINS を設定してください（本番モードでは必須です。例: "
        "https://jumin.city.example.lg.jp）。 Set JUMIN_WEBAUTHN_ORIGINS in production."
    )

# Timing-sensitive and user-facing defaults for the register; later issues add to this.
JUMIN: dict[str, Any] = {
    "MODE": MODE,
    # staff authentication (std 10.3, j1380; docs/guide/staff-authentication.md)
    "WEBAUTHN_RP_ID": _env("JUMIN_WEBAUTHN_RP_ID", "localhost"),
    "WEBAUTHN_RP_NAME": _env("JUMIN_WEBAUTHN_RP_NAME", "住民記録システム"),
    "WEBAUTHN_ORIGINS": WEBAUTHN_ORIGINS,  # empty: the request's own origin (demo only)
    # password-only login (no authenticator enrolled) exists in demo mode only; the system
    # check authn.E001 refuses it in production
    "PASSWORD_ONLY_LOGIN": not PRODUCTION,
    "LOGIN_MAX_FAILURES": _env_int("JUMIN_LOGIN_MAX_FAILURES", 5),
    "LOGIN_LOCK_MINUTES": _env_int("JUMIN_LOGIN_LOCK_MINUTES", 30),
    "IDLE_TIMEOUT_MINUTES": _env_int("JUMIN_IDLE_TIMEOUT_MINUTES", 15),
    "MUNICIPALITY_CODE": _env("JUMIN_MUNICIPALITY_CODE", "141500"),
    "MUNICIPALITY_NAME": _env("JUMIN_MUNICIPALITY_NAME", "相模原市"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _env("JUMIN_LOG_LEVEL", "WARNING")},
}
