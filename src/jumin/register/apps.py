from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "jumin.register"
    label = "register"
    verbose_name = "住民基本台帳 (register)"
