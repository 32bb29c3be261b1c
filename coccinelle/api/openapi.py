"""The error shape in the OpenAPI schema: every endpoint lists its error answers with this body
(coccinelle/api/errors.py writes it), each with an example, so that a client generated from the
schema knows what a refusal looks like."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ApiErrorSerializer(serializers.Serializer):
    error = serializers.CharField(
        help_text="A stable code: invalid, not_authenticated, authentication_failed, permission_denied, "
        "not_found, conflict, throttled, or the refusal's own (e.g. opted_out)."
    )
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    existing = serializers.CharField(
        required=False, help_text="409 only: the URL of the existing object the write would duplicate."
    )


# `fields` is also the name of Serializer's own attribute: declared here rather than in the class body.
ApiErrorSerializer._declared_fields["fields"] = serializers.DictField(
    child=serializers.ListField(child=serializers.CharField()),
    help_text="Per field, its messages (400); empty otherwise.",
)

_DEFAULTS = {
    400: ("invalid", "Some fields are not valid.", {"amount": ["A valid number is required."]}),
    401: ("not_authenticated", "Authentication credentials were not provided.", {}),
    403: ("permission_denied", "This needs the write scope; this key has read.", {}),
    404: ("not_found", "Not found.", {}),
    409: ("conflict", "This would duplicate an existing object.", {}),
    429: ("throttled", "Request was throttled. Expected available in 12 seconds.", {}),
}
_DESCRIPTIONS = {
    400: "Invalid input: `fields` says which and why.",
    401: "No credentials, or an unknown or revoked key.",
    403: "The key's scope is not enough.",
    404: "No such object in the calling shop (another shop's objects are not found either).",
    409: "Refused: see `error`.",
    429: "Too many calls for this key: wait for the `Retry-After` header's seconds.",
}


def error_example(status: int, error: str, detail: str, fields=None, name: str = "") -> OpenApiExample:
    return OpenApiExample(
        name or f"{status} {error}",
        value={"error": error, "detail": detail, "fields": fields or {}},
        status_codes=[str(status)],
        response_only=True,
    )


def error_responses(*statuses: int, extra: dict | None = None) -> dict:
    """{status: OpenApiResponse} for these error statuses, each with the default example; `extra`
    maps a status to its own examples (which replace the default)."""
    extra = extra or {}
    out = {}
    for status in statuses:
        examples = extra.get(status) or [error_example(status, *_DEFAULTS[status])]
        out[status] = OpenApiResponse(
            ApiErrorSerializer, description=_DESCRIPTIONS[status], examples=examples
        )
    return out


# Every call may be refused these ways, whatever it does.
COMMON_ERRORS = (401, 403, 429)
