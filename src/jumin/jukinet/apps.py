from django.apps import AppConfig


class JukinetConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jumin.jukinet"
    verbose_name = "住基ネット CS"
