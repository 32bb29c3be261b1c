from django.core.management.base import BaseCommand

from customers.api_keys import api_key_create
from customers.models_keys import ApiKey

from ._shop import shop_from_slug


class Command(BaseCommand):
    help = (
        "Create an API key for a shop. The key is printed once, alone on the last line (for scripts: "
        "`| tail -n 1`); only its prefix is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--name", required=True, help="who uses it, e.g. “E-shop orders”")
        parser.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.READ)

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        key, raw = api_key_create(shop=shop, name=opts["name"], scope=opts["scope"])
        self.stdout.write(
            f"API key “{key.name}” ({key.scope}) created for {shop.slug}, starting with {key.prefix}. "
            "It is shown once, below; store it now."
        )
        self.stdout.write(raw)
