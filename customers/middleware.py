"""Security headers of the dashboard and sign-in pages; the back office's language."""

from django.conf import settings
from django.urls import reverse

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


class AdminLanguageMiddleware:
    """The back office speaks the shop's language, as the dashboard pages do (customers/access.py),
    unless the user chose one with the language switcher: a French owner whose browser asks for English
    got an English admin with US dates. After AuthenticationMiddleware (it reads request.user)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = None

    def __call__(self, request):
        self.prefix = self.prefix or reverse("admin:index")
        if request.path.startswith(self.prefix) and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
            from customers.access import activate_shop_language, admin_shop  # models are ready by now

            shop = admin_shop(request)
            if shop is not None:
                activate_shop_language(request, shop)
        return self.get_response(request)
