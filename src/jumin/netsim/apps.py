from django.apps import AppConfig


class NetsimConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jumin.netsim"
    label = "netsim"
    verbose_name = "住基ネット全国センター（模擬） (netsim)"
