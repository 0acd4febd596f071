from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "jumin.audit"
    label = "audit"
    verbose_name = "操作ログ (audit)"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from jumin.audit.events import record_unhandled_exception

        # エラーログ (std 10.2, j1370): every unhandled exception of a request
        got_request_exception.connect(
            record_unhandled_exception, dispatch_uid="jumin.audit.error_log"
        )
