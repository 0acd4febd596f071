from django.urls import include, path

from jumin.web import addresses, certificate_urls, inquiry, procedure_views, review, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # search and inquiry (std 2.1, 2.2)
    path("search/", inquiry.search, name="search"),
    path("residents/<str:atena_no>/", inquiry.person, name="person"),
    path("residents/<str:atena_no>/my-number/", inquiry.reveal_my_number, name="reveal_my_number"),
    path("households/<str:household_no>/", inquiry.household, name="household"),
    # procedures (std 4)
    path("procedures/", procedure_views.index, name="procedures"),
    path("procedures/<str:name>/", procedure_views.form, name="procedure"),
    path("locks/<str:atena_no>/", procedure_views.lock, name="lock"),
    path("addresses/lookup/", addresses.lookup, name="address_lookup"),
    # review (std 4.0.8)
    path("review/", review.queue, name="review"),
    path("review/bulk/", review.bulk_commit, name="bulk_commit"),
    path("changes/<int:change_id>/", review.detail, name="change"),
    path("changes/<int:change_id>/commit/", review.commit, name="commit"),
    path("changes/<int:change_id>/reject/", review.reject, name="reject"),
    path("changes/<int:change_id>/withdraw/", review.withdraw, name="withdraw"),
    path("support/", include("jumin.web.support_urls")),
    path("cs/", include("jumin.web.cs_urls")),  # 住基ネット（CS） (std 7.1.1)  # 支援措置 (std 3.4)
    path("certificates/", include("jumin.web.certificate_urls")),  # 証明書 (std 5)
    path("audit/", include("jumin.web.audit_urls")),  # 操作ログ (std 10.2)
    path("auth/", include("jumin.web.auth_urls")),  # 職員認証 (std 10.3)
    path("admin/", include("jumin.web.admin_urls")),  # 職員・権限の管理 (std 10.3)
    path("verify/", include(certificate_urls.verify_urlpatterns)),  # 証明書の検証（公開）
]
