"""netsim settings: the national side of 住基ネット as its own service (own database, own port).

Used by ``jumin netsim <command>`` (the CLI sets ``DJANGO_SETTINGS_MODULE`` to this module).

| variable | meaning | default |
|---|---|---|
| JUMIN_MODE | ``demo`` or ``production`` | ``demo`` |
| JUMIN_NETSIM_VAR_DIR | runtime data (SQLite file, key file, secret) | ``./var/netsim`` |
| JUMIN_NETSIM_DATABASE_URL | ``sqlite:///path`` or ``postgres://…`` | SQLite under the var dir |
| JUMIN_NETSIM_SECRET_KEY | Django secret key; required in production | generated into the var dir |
| JUMIN_NETSIM_KEY_FILE | node signing keys, the 個人番号 derivation secret | ``<var>/keys.json`` |
| JUMIN_NETSIM_ALLOWED_HOSTS | comma-separated host names | ``localhost,127.0.0.1,[::1]`` |
| JUMIN_NETSIM_FAULTS | ``1``: the fault-injection endpoint ``/v1/_faults`` (tests) | off |
| JUMIN_NETSIM_OPEN_REGISTRATION | ``1``: cities may self-register (``POST /v1/nodes``) | off |
| JUMIN_NETSIM_PREFECTURES | prefecture numbers served (``01-47`` or ``13,14``) | ``01-47`` |
| JUMIN_LOG_LEVEL | log level | ``WARNING`` |
"""

from __future__ import annotations

import os
import secrets
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

VAR_DIR = Path(_env("JUMIN_NETSIM_VAR_DIR", str(Path.cwd() / "var" / "netsim"))).resolve()


def _secret_key() -> str:
    """From the environment; in demo mode generated once into the var dir (mode 0600)."""
    value = _env("JUMIN_NETSIM_SECRET_KEY")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            "JUMIN_NETSIM_SECRET_KEY を設定してください（本番モードでは必須です）。"
            " Set JUMIN_NETSIM_SECRET_KEY: production mode requires a secret key."
        )
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


SECRET_KEY = _secret_key()
DEBUG = False
ALLOWED_HOSTS = _env_list("JUMIN_NETSIM_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = ["jumin.netsim"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "jumin.netsim.urls"
WSGI_APPLICATION = None
TEMPLATES: list[dict[str, object]] = []


def _database() -> dict[str, object]:
    url = _env("JUMIN_NETSIM_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'netsim.sqlite3'}"
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"JUMIN_NETSIM_DATABASE_URL を解釈できません: {exc}. Use sqlite:///PATH or postgres://…"
        ) from exc
    engine = str(config["ENGINE"])
    if engine.endswith("sqlite3"):
        # One writer at a time (IMMEDIATE takes the lock at BEGIN); WAL lets reads run beside
        # it. Connections are kept per server thread: a keep-alive client reuses its thread.
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
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _prefectures(spec: str) -> tuple[str, ...]:
    numbers: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ImproperlyConfigured(
                f"JUMIN_NETSIM_PREFECTURES の「{part}」が解釈できません（例: 01-47 や 13,14）。"
            ) from None
        if not 1 <= first <= last <= 47:
            raise ImproperlyConfigured(
                f"JUMIN_NETSIM_PREFECTURES の「{part}」は 01 から 47 の範囲で指定してください。"
            )
        numbers.update(range(first, last + 1))
    return tuple(f"{n:02d}" for n in sorted(numbers))


NETSIM = {
    "MODE": MODE,
    "KEY_FILE": Path(_env("JUMIN_NETSIM_KEY_FILE", str(VAR_DIR / "keys.json"))),
    "FAULTS": _env("JUMIN_NETSIM_FAULTS") == "1",
    "OPEN_REGISTRATION": _env("JUMIN_NETSIM_OPEN_REGISTRATION") == "1",
    "PREFECTURES": _prefectures(_env("JUMIN_NETSIM_PREFECTURES", "01-47")),
    "QUERY_LIMIT": 20,
}

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = False
USE_TZ = True

SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _env("JUMIN_LOG_LEVEL", "WARNING")},
    # one line per request would drown the log at 500 messages/s; refusals are in the
    # message log (MessageLog), server errors still reach the console
    "loggers": {"django.server": {"level": "ERROR"}},
}
