"""Security headers of the dashboard and sign-in pages."""

# No inline script or style anywhere in these pages: everything comes from /static/, so a message body
# that slipped through escaping still could not run. The admin keeps Django's defaults (it needs inline
# scripts).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
PROTECTED_PREFIXES = ("/dashboard/", "/accounts/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(PROTECTED_PREFIXES):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
