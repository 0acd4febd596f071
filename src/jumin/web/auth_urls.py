"""Staff authentication screens, mounted under ``auth/`` by ``jumin.web.urls``
(std 10.3, j1380)."""

from django.urls import path

from jumin.web import auth_views

urlpatterns = [
    path("verify/", auth_views.verify, name="auth_verify"),
    path("verify/options/", auth_views.verify_options, name="auth_verify_options"),
    path("enrol/<str:token>/", auth_views.enrol, name="auth_enrol"),
    path("register/options/", auth_views.register_options, name="auth_register_options"),
    path("register/", auth_views.register, name="auth_register"),
    path("authenticators/", auth_views.authenticators, name="auth_authenticators"),
    path("enrol-links/", auth_views.enrol_links, name="auth_enrol_links"),
]
