from django.apps import AppConfig


class EshopsConfig(AppConfig):
    name = "eshops"
    verbose_name = "E-shops"

    def ready(self):
        from eshops import checks  # noqa: F401  (registers the system checks)
