"""How drf-spectacular describes our authentication in the OpenAPI schema (imported by
coccinelle/api/urls.py, which registers the extensions)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
