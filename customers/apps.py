from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from django.db.backends.signals import connection_created

        from customers import (
            cached,  # noqa: F401 - forgets cached shops when a shop or number changes
            events,  # noqa: F401 - connects the signal handlers that report changes
            figures,  # noqa: F401 - keeps the per-customer figures with the orders and messages
        )

        connection_created.connect(_sqlite_unaccent, dispatch_uid="customers.sqlite_unaccent")
        from customers.inbox import person_messages_failed

        # A person's answer that did not reach the customer is no answer: they wait again (the inbox).
        events.subscribe(events.INTERACTION_STATUSES_CHANGED, person_messages_failed)


def _sqlite_unaccent(sender, connection, **kwargs):
    """SQLite has no `unaccent`: the search's (customers/search.py) is this Python function, which folds
    accents as PostgreSQL's extension does."""
    if connection.vendor == "sqlite":
        from customers.search import fold

        connection.connection.create_function("UNACCENT", 1, fold, deterministic=True)
