from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "jumin.support"
    verbose_name = "支援措置"
