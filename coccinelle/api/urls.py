"""/api/schema/ (OpenAPI 3, generated), /api/docs/ (Swagger UI served from our own static files, no
CDN) and a JSON 404 for any other /api/ URL. The resources themselves are mounted by coccinelle/urls.py."""

import base64
import hashlib
import re
from functools import wraps

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coccinelle.api import schema  # noqa: F401  (registers the authentication schemes)
from coccinelle.api.errors import not_found_view
from customers.middleware import CONTENT_SECURITY_POLICY

_INLINE_STYLE = re.compile(rb"<style>(.*?)</style>", re.S)


def _with_pages_policy(view):
    """The pages' Content-Security-Policy on the docs (customers.middleware sets it on /dashboard/ and
    /accounts/ only). drf-spectacular's template keeps one small inline <style>: it is allowed by its
    hash, taken from the page as rendered, so that no other inline style, and no inline script, runs."""

    def add_policy(response):
        hashes = [
            f"'sha256-{base64.b64encode(hashlib.sha256(block).digest()).decode()}'"
            for block in _INLINE_STYLE.findall(response.content)
        ]
        style = " ".join(["style-src 'self'", *hashes])
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace("style-src 'self'", style)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.add_post_render_callback(add_policy)
        return response

    return wrapped


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the policy forbids inline ones.
    path(
        "docs/",
        _with_pages_policy(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    re_path(r"^.*$", not_found_view),
]
