"""Every API error as JSON: {"error": code, "detail": text, "fields": {field: [messages]}}.

DRF's own errors (validation, authentication, permission, throttling, 404) are reshaped here; an
unexpected exception is logged and answered as a JSON 500, never Django's HTML page. Unknown URLs
under /api/ get the same shape (`not_found_view`, mounted last in coccinelle/urls.py).
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """A write that would duplicate an existing object (a phone or e-mail already on a customer)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail, *, existing_url: str | None = None, fields=None):
        super().__init__(detail)
        self.existing_url = existing_url
        self.fields = fields or {}


class RequestTooLarge(exceptions.APIException):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE: Django refuses to read it, and it is the client's doing."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = gettext_lazy("The request body is too large.")


def _fields(detail) -> dict:
    """A serializer's errors as {field: [messages]}; nested errors are flattened to dotted names."""
    out = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            out[prefix or "non_field_errors"] = [
                str(v) for v in (value if isinstance(value, list) else [value])
            ]

    walk("", detail)
    return out


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        log.exception("API error in %s", type(view).__name__ if view else "?", exc_info=exc)
        return Response(
            {"error": "server_error", "detail": _("Something went wrong on our side."), "fields": {}},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        body = {"error": "invalid", "detail": _("Some fields are not valid."), "fields": _fields(exc.detail)}
    else:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        body = {
            "error": codes if isinstance(codes, str) else "error",
            "detail": str(exc.detail),
            "fields": {},
        }
        if isinstance(exc, Conflict):
            body["fields"] = exc.fields
            if exc.existing_url:
                body["existing"] = exc.existing_url
    response.data = body
    return response


@csrf_exempt  # a POST to an unknown URL is a JSON 404, not the CSRF failure page (HTML)
def not_found_view(request, *args, **kwargs):
    return JsonResponse(
        {"error": "not_found", "detail": _("No such API endpoint."), "fields": {}}, status=404
    )
