from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmBackendsConfig(AppConfig):
    name = "crm_backends"
    verbose_name = _("External CRMs")

    def ready(self):
        from django.db.models.signals import pre_delete

        from crm_backends import checks, outbox_contacts, revoke, services  # noqa: F401 - checks register
        from crm_backends.models import CrmConnection
        from customers import events

        # Every change to a customer or a new interaction writes an outbox row in the same transaction.
        events.subscribe(events.CUSTOMERS_CHANGED, services.outbox_add_customers)
        events.subscribe(events.INTERACTIONS_RECORDED, services.outbox_add_interactions)
        events.subscribe(events.INTERACTION_STATUSES_CHANGED, services.outbox_add_statuses)
        # Erasures and merges reach the CRM too: rows written before the customer row is deleted.
        events.subscribe(events.CUSTOMER_ERASING, outbox_contacts.outbox_erase)
        events.subscribe(events.CUSTOMER_MERGING, outbox_contacts.outbox_merge)
        # Outgoing webhooks: an event row and its deliveries in the same transaction, for subscribed shops.
        from crm_backends.outgoing import cached as _outgoing_cached  # noqa: F401 - its signal handlers
        from crm_backends.outgoing import outbox as outgoing

        events.subscribe(events.CUSTOMERS_CREATED, outgoing.customers_created)
        events.subscribe(events.CUSTOMERS_CHANGED, outgoing.customers_changed)
        events.subscribe(events.INTERACTIONS_RECORDED, outgoing.interactions_recorded)
        events.subscribe(events.INTERACTION_STATUSES_CHANGED, outgoing.interaction_statuses_changed)
        events.subscribe(events.ORDERS_CREATED, outgoing.orders_created)
        events.subscribe(events.CUSTOMER_ERASING, outgoing.customer_erasing)
        events.subscribe(events.CUSTOMER_MERGING, outgoing.customer_merging)
        # A deleted connection gives its OAuth refresh token back (after the commit, best effort).
        pre_delete.connect(revoke.connection_deleted, sender=CrmConnection, dispatch_uid="crm-revoke")
