from django.apps import AppConfig


class CrmBackendsConfig(AppConfig):
    name = "crm_backends"
    verbose_name = "External CRMs"

    def ready(self):
        from crm_backends import checks, services  # noqa: F401 - checks register themselves
        from customers import events

        # Every change to a customer or a new interaction writes an outbox row in the same transaction.
        events.subscribe(events.CUSTOMERS_CHANGED, services.outbox_add_customers)
        events.subscribe(events.INTERACTIONS_RECORDED, services.outbox_add_interactions)
