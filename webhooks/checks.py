from django.conf import settings
from django.core.checks import Warning, register


@register()
def status_callback_check(app_configs, **kwargs):
    """Messages go out from the worker, which cannot know the public host: without PUBLIC_BASE_URL,
    Twilio is asked for no delivery reports, and the timeline shows sends as accepted, never delivered."""
    if settings.DEBUG or settings.PUBLIC_BASE_URL or not settings.TWILIO_ACCOUNT_SID:
        return []
    return [
        Warning(
            "PUBLIC_BASE_URL is not set: messages sent through Twilio get no delivery reports.",
            hint="Set PUBLIC_BASE_URL=https://crm.example.com (the public address Twilio reaches).",
            id="webhooks.W001",
        )
    ]
