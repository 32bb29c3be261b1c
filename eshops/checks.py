from django.conf import settings
from django.core.checks import Warning, register


@register()
def allowed_hosts_check(app_configs, **kwargs):
    """ESHOPS_ALLOWED_HOSTS and ESHOPS_SHOPIFY_BASE_URL let e-shop credentials go to other hosts than the
    vendors': for tests and staging, and worth a warning in production."""
    if settings.DEBUG or not (settings.ESHOPS_ALLOWED_HOSTS or settings.ESHOPS_SHOPIFY_BASE_URL):
        return []
    return [
        Warning(
            "ESHOPS_ALLOWED_HOSTS or ESHOPS_SHOPIFY_BASE_URL is set outside DEBUG.",
            hint="E-shop tokens may then travel to hosts other than *.myshopify.com and https sites.",
            id="eshops.W001",
        )
    ]
