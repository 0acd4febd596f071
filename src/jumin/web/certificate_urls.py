"""URLs of the certificate screens (included under ``certificates/``) and of the public
verification page (``verify_urlpatterns``, included under ``verify/``)."""

from django.urls import path

from jumin.web import certificates

urlpatterns = [
    path("", certificates.start, name="certificates"),
    path("new/", certificates.new, name="certificate_new"),
    path("requests/<int:request_id>/", certificates.result, name="certificate_result"),
    path("issues/<str:issue_id>/", certificates.issue_detail, name="certificate_issue"),
    path("issues/<str:issue_id>/pdf/", certificates.issue_pdf, name="certificate_pdf"),
    path("issues/<str:issue_id>/revoke/", certificates.revoke, name="certificate_revoke"),
    path("log/", certificates.log, name="certificate_log"),
]

verify_urlpatterns = [
    path("", certificates.verify_form, name="verify_form"),
    path("<str:issue_id>", certificates.verify_page, name="verify"),
]
