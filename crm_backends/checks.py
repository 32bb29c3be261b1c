from django.conf import settings
from django.core.checks import Warning, register


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
