from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EshopsConfig(AppConfig):
    name = "eshops"
    verbose_name = _("E-shops")  # French: "Boutiques en ligne" (reads well in "Administration de …")

    def ready(self):
        from eshops import checks  # noqa: F401  (registers the system checks)
