from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "jumin.outbox"
    label = "outbox"
    verbose_name = "送信待ち (outbox)"
