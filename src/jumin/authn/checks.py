"""System checks: production refuses password-only login (std 10.3, j1380)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register("security", deploy=False)
def password_only_refused_in_production(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    conf = settings.JUMIN
    errors: list[Error] = []
    if conf["MODE"] != "production":
        return errors
    if conf.get("PASSWORD_ONLY_LOGIN"):
        errors.append(
            Error(
                "本番モードではパスワードのみのログインは許可されません。",
                hint="JUMIN['PASSWORD_ONLY_LOGIN'] を False にしてください（生体認証が必須です）。",
                id="authn.E001",
            )
        )
    raw = conf.get("WEBAUTHN_ORIGINS") or []
    origins = [str(o) for o in raw] if isinstance(raw, list | tuple) else [str(raw)]
    if not origins or any(not o.startswith("https://") for o in origins):
        errors.append(
            Error(
                "本番モードでは JUMIN_WEBAUTHN_ORIGINS に https:// のオリジンを指定してください。",
                hint="例: JUMIN_WEBAUTHN_ORIGINS=https://jumin.city.example.lg.jp",
                id="authn.E002",
            )
        )
    return errors
