from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Messaging providers")

    def ready(self):
        from customers import events
        from webhooks import checks, inbound_events  # noqa: F401 - checks register themselves

        # An erased customer's raw webhook events (their number, their words) go with them.
        events.subscribe(events.CUSTOMER_ERASING, inbound_events.events_erase_customer)
