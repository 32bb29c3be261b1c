from django.apps import AppConfig


class CrmBackendsConfig(AppConfig):
    name = "crm_backends"
    verbose_name = "External CRMs"
