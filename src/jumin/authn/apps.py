from django.apps import AppConfig


class AuthnConfig(AppConfig):
    name = "jumin.authn"
    label = "authn"
    verbose_name = "職員認証 (WebAuthn, lockout)"

    def ready(self) -> None:
        from jumin.authn import checks  # noqa: F401 - registers the system checks
