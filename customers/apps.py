from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self):
        from customers import (
            cached,  # noqa: F401 - forgets cached shops when a shop or number changes
            events,  # noqa: F401 - connects the signal handlers that report changes
        )
