from django.urls import include, path

from jumin.config.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("jumin.web.urls")),
]
