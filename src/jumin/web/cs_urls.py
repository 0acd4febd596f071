"""住基ネット（CS）の画面, mounted under ``cs/`` by ``jumin.web.urls``."""

from django.urls import path

from jumin.web import cs

urlpatterns = [
    path("", cs.status, name="cs_status"),
    path("manual/", cs.manual, name="cs_manual"),
    path("sent/", cs.sent, name="cs_sent"),
    path("failures/", cs.failures, name="cs_failures"),
    path("messages/<int:outbox_id>/", cs.message, name="cs_message"),
    path("messages/<int:outbox_id>/resend/", cs.resend, name="cs_resend"),
    path("query/", cs.query, name="cs_query"),
    path("inbound/", cs.inbound_list, name="cs_inbound"),
    path("unarrived/", cs.unarrived, name="cs_unarrived"),
    path("numbers/", cs.numbers, name="cs_numbers"),
]
