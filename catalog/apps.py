from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalogue")

    def ready(self):
        from catalog import cached  # noqa: F401 - connects its signal handlers
        from catalog.alerts import alerts_follow_merge
        from catalog.conversation import answer_turn
        from catalog.demo import demo_catalogue_seed
        from catalog.holds import holds_follow_merge
        from catalog.llm_tool import register as register_llm_tool
        from customers import events
        from webhooks import answerers

        # seed_demo (a customers command) announces its shop; the catalogue fills it from here, so that
        # customers never imports catalog and the two-command set-up still shows products.
        events.subscribe(events.DEMO_SHOP_SEEDED, demo_catalogue_seed)
        # A merge deletes the merged record: its holds follow the kept one instead of going with it.
        events.subscribe(events.CUSTOMER_MERGING, holds_follow_merge)
        events.subscribe(events.CUSTOMER_MERGING, alerts_follow_merge)
        # The reply engine asks the catalogue first: stock questions, and the "oui" to what it offered.
        answerers.register(answer_turn)
        # The LLM reply engine's stock lookup: webhooks keeps the registry, never imports catalog.
        register_llm_tool()
