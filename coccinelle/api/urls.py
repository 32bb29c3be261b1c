"""/api/schema/ (OpenAPI 3, generated), /api/docs/ (Swagger UI served from our own static files, no
CDN) and a JSON 404 for any other /api/ URL. The resources themselves are mounted by coccinelle/urls.py."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coccinelle.api import schema  # noqa: F401  (registers the authentication schemes)
from coccinelle.api.errors import not_found_view

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: our Content-Security-Policy forbids inline ones.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", not_found_view),
]
