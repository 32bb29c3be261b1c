from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from analytics.aggregate import demo_stats_rebuild
        from customers import events

        # seed_demo announces its shop: the demo's months of messages and orders get their daily rows at
        # once, so that a new owner's first look at the analytics is not five empty minutes.
        events.subscribe(events.DEMO_SHOP_SEEDED, demo_stats_rebuild)
