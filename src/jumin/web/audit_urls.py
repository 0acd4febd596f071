"""操作ログの画面 (std 10.2, j1370), mounted under ``audit/`` by ``jumin.web.urls``."""

from django.urls import path

from jumin.web import audit_views

urlpatterns = [
    path("", audit_views.search, name="audit_search"),
    path("entries/<int:seq>/", audit_views.entry, name="audit_entry"),
    path("export.csv", audit_views.export, name="audit_export"),
    path("reports/", audit_views.report_index, name="audit_reports"),
    path("reports/<str:key>/", audit_views.report, name="audit_report"),
    path("verify/", audit_views.verify, name="audit_verify"),
    path("settings/", audit_views.settings_view, name="audit_settings"),
    path("print-log/", audit_views.print_log, name="audit_print_log"),
]
