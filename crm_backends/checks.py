from django.conf import settings
from django.core.checks import Warning, register

from crm_backends import transport


@register()
def encryption_key_check(app_configs, **kwargs):
    if settings.DEBUG or settings.CRM_ENCRYPTION_KEYS:
        return []
    return [
        Warning(
            "CRM credentials are encrypted with a key derived from SECRET_KEY.",
            hint="Set CRM_ENCRYPTION_KEYS so that changing SECRET_KEY does not make them unreadable.",
            id="crm_backends.W001",
        )
    ]


@register()
def login_url_check(app_configs, **kwargs):
    """Salesforce connections without a login_url of their own sign in here: say so at start-up
    rather than on the first push, if the calls would refuse it."""
    problem = transport.url_problem(settings.SALESFORCE_LOGIN_URL, "salesforce")
    if problem is None:
        return []
    return [
        Warning(
            f"SALESFORCE_LOGIN_URL: {problem}.",
            hint="Use https://login.salesforce.com, https://test.salesforce.com or your My Domain.",
            id="crm_backends.W002",
        )
    ]
