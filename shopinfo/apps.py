from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopInfoConfig(AppConfig):
    name = "shopinfo"
    verbose_name = _("Hours and facts")

    def ready(self):
        from customers import events
        from shopinfo import cached  # noqa: F401 - connects its signal handlers
        from shopinfo.demo import demo_profile_seed

        # seed_demo (a customers command) announces its shop; its hours and facts are filled from here.
        events.subscribe(events.DEMO_SHOP_SEEDED, demo_profile_seed)
