"""Connect a shop to its Shopify store or WooCommerce site (create or update the connection).

Secrets are read from the environment variables named on the command line's options (never typed as
arguments, which shell history and `ps` would show)."""

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from customers.models import Shop
from eshops.models import EshopConnection
from eshops.services import connection_save


class Command(BaseCommand):
    help = "Connect a shop to Shopify or WooCommerce; prints the webhook URL to give the e-shop."

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=EshopConnection.Provider.values)
        parser.add_argument("--shop", required=True, help="the shop's slug")
        parser.add_argument("--domain", default="", help="Shopify: xxx.myshopify.com")
        parser.add_argument("--api-version", default="", help="Shopify: e.g. 2026-10 (the default)")
        parser.add_argument("--site", default="", help="WooCommerce: https://your-site.example")
        parser.add_argument("--token-env", default="SHOPIFY_ACCESS_TOKEN", help="variable holding the token")
        parser.add_argument("--key-env", default="WC_CONSUMER_KEY")
        parser.add_argument("--secret-env", default="WC_CONSUMER_SECRET")
        parser.add_argument("--webhook-secret-env", default="ESHOP_WEBHOOK_SECRET")
        parser.add_argument("--disable", action="store_true")

    def handle(self, *args, provider, shop, **options):
        shop_row = Shop.objects.filter(slug=shop).first()
        if shop_row is None:
            raise CommandError(f"no shop with slug {shop!r}")
        fields = {"enabled": not options["disable"]}
        if provider == "shopify":
            fields["shopify_domain"] = options["domain"].strip().lower()
            if options["api_version"]:
                fields["api_version"] = options["api_version"]
            secrets = {"access_token": os.environ.get(options["token_env"], "")}
        else:
            fields["site_url"] = options["site"].strip()
            secrets = {
                "consumer_key": os.environ.get(options["key_env"], ""),
                "consumer_secret": os.environ.get(options["secret_env"], ""),
            }
        secrets["webhook_secret"] = os.environ.get(options["webhook_secret_env"], "")
        try:
            connection = connection_save(shop=shop_row, provider=provider, fields=fields, secrets=secrets)
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        stored = sorted(name for name, value in connection.secrets.items() if value)
        self.stdout.write(f"{connection}: saved; credentials set: {', '.join(stored) or 'none'}")
        # A command knows no host: PUBLIC_BASE_URL when set, else the path (prefix it with the public host).
        path = reverse("eshops:webhook", args=[provider, connection.webhook_token])
        self.stdout.write(f"webhook URL: {settings.PUBLIC_BASE_URL.rstrip('/')}{path}")
