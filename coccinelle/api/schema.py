"""How drf-spectacular describes our authentication in the OpenAPI schema (imported by
coccinelle/api/urls.py, which registers the extensions), and the error responses every endpoint
documents (`error_responses`)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "coccinelle.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A shop's API key (coc_…), created by an owner on the shop settings page or "
            "with `manage.py create_api_key`.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "coccinelle.api.authentication.ShopSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# --- error responses, for every endpoint's documentation --------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The one shape of every error (coccinelle/api/errors.py)."""

    error = serializers.CharField(help_text="A stable code: invalid, not_found, permission_denied, …")
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name → messages (validation errors); empty otherwise.",
    )
    existing = serializers.URLField(
        required=False, help_text="409 only: the API URL of the object that already holds the value."
    )


_ERROR_EXAMPLES = {
    400: ("invalid", "Some fields are not valid.", {"phone": ["Enter a valid phone number."]}),
    401: ("not_authenticated", "Authentication credentials were not provided.", {}),
    403: ("permission_denied", "This needs the owner scope; this key has write.", {}),
    404: ("not_found", "Not found.", {}),
    409: ("conflict", "Another customer of this shop already has it.", {"phone": ["Already taken."]}),
    429: ("throttled", "Request was throttled. Expected available in 12 seconds.", {}),
}
_ERROR_DESCRIPTIONS = {
    400: "Invalid input: `fields` says which and why.",
    401: "No credentials, or an unknown or revoked key.",
    403: "The key's scope (or the user's role) does not allow this.",
    404: "No such object in the calling shop (another shop's objects are 404 too).",
    409: "The value belongs to another object: `existing` is its URL.",
    429: "Too many calls for this key: wait for `Retry-After` seconds.",
}


def error_responses(*statuses: int) -> dict:
    """{status: OpenApiResponse} in the error shape, for extend_schema(responses={…, **error_responses(…)}).
    401 and 429 apply to every call and are always included."""
    responses = {}
    for status in sorted({401, 429, *statuses}):
        code, detail, fields = _ERROR_EXAMPLES[status]
        example = {"error": code, "detail": detail, "fields": fields}
        if status == 409:
            example["existing"] = "https://crm.example.com/api/v1/customers/42/"
        responses[status] = OpenApiResponse(
            response=ErrorSerializer,
            description=_ERROR_DESCRIPTIONS[status],
            examples=[OpenApiExample(code, value=example, response_only=True, status_codes=[str(status)])],
        )
    return responses


def error_example(status: int, error: str, detail: str, fields=None, *, name: str = "") -> OpenApiExample:
    """One example of an error answer, for an endpoint whose refusals have codes of their own."""
    value = {"error": error, "detail": detail, "fields": fields or {}}
    return OpenApiExample(name or error, value=value, response_only=True, status_codes=[str(status)])


def error_response(status: int, description: str, examples: list[OpenApiExample]) -> dict:
    """{status: OpenApiResponse} in the error shape with these examples (instead of error_responses'
    generic one), e.g. a send's refusals by code; spread it after error_responses(…)."""
    return {status: OpenApiResponse(response=ErrorSerializer, description=description, examples=examples)}
