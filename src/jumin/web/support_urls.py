"""支援措置の管理 screens, mounted under ``support/`` by ``jumin.web.urls`` (names in the
``web`` namespace: ``web:support_list`` …)."""

from django.urls import path

from jumin.web import support

urlpatterns = [
    path("", support.index, name="support_list"),
    path("new/", support.new, name="support_new"),
    path("lifts/", support.lifts, name="support_lifts"),
    path("<int:measure_id>/", support.detail, name="support_detail"),
    path("<int:measure_id>/confirm/", support.confirm, name="support_confirm"),
    path("<int:measure_id>/extend/", support.extend, name="support_extend"),
    path("<int:measure_id>/terminate/", support.terminate, name="support_terminate"),
    path("<int:measure_id>/end-notice.pdf", support.notice, name="support_notice"),
]
