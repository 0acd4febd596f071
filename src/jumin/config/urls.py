from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path

from jumin.config.api import api


def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown /api/ paths answer with a problem document, like every other API error."""
    return JsonResponse(
        {
            "type": "urn:jumin:problem:not_found",
            "title": "指定された API はありません。URL を確認してください。",
            "status": 404,
            "code": "not_found",
        },
        status=404,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )


urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("", include("jumin.web.urls")),
]
