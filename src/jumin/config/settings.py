"""Jumin settings: one module, driven by environment variables.

| variable | meaning | default |
|---|---|---|
| JUMIN_MODE | ``demo`` or ``production`` | ``demo`` |
| JUMIN_DATABASE_URL | ``sqlite:///path`` or ``postgres://…`` | SQLite under JUMIN_VAR_DIR |
| JUMIN_VAR_DIR | runtime data (SQLite file, key file, generated data) | ``./var`` |
| JUMIN_SECRET_KEY | Django secret key; required in production | demo key, demo only |
| JUMIN_ALLOWED_HOSTS | comma-separated host names | ``localhost,127.0.0.1`` in demo |
| JUMIN_KEY_FILE | field-encryption key file, outside the database | ``$JUMIN_VAR_DIR/keys.json`` |
| JUMIN_CSRF_TRUSTED_ORIGINS | comma-separated origins (production behind a proxy) | empty |
"""

from __future__ import annotations

import os
from pathlib import Path

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
    "jumin.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # static files (CSS, JS) straight from the installed package: no web server to configure
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
SESSION_COOKIE_AGE = 8 * 60 * 60
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

# Timing-sensitive and user-facing defaults for the register; later issues add to this.
JUMIN = {
    "MODE": MODE,
    "MUNICIPALITY_CODE": _env("JUMIN_MUNICIPALITY_CODE", "141500"),
    "MUNICIPALITY_NAME": _env("JUMIN_MUNICIPALITY_NAME", "相模原市"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _env("JUMIN_LOG_LEVEL", "WARNING")},
}
