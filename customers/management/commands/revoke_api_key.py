from django.core.management.base import BaseCommand, CommandError

from customers.api_keys import api_key_revoke
from customers.models_keys import ApiKey

from ._shop import shop_from_slug


class Command(BaseCommand):
    help = "Revoke a shop's API key, found by the prefix shown on the API keys page (coc_…)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--prefix", required=True, help="the key's first characters, as listed")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        prefix = opts["prefix"].strip().rstrip("…")
        keys = list(ApiKey.objects.filter(shop=shop, prefix__startswith=prefix[:12]).order_by("pk")[:2])
        # At least "coc_" and four more: a shorter prefix would name any key.
        if len(prefix) < 8 or not keys:
            raise CommandError(f"No API key of {shop.slug} starts with “{prefix}”.")
        if len(keys) > 1:
            raise CommandError(f"Several keys of {shop.slug} start with “{prefix}”: give more characters.")
        key = keys[0]
        if key.revoked_at:
            self.stdout.write(
                f"Key “{key.name}” ({key.prefix}…) was already revoked on {key.revoked_at:%Y-%m-%d %H:%M}."
            )
            return
        api_key_revoke(key=key)
        self.stdout.write(f"Key “{key.name}” ({key.prefix}…) revoked: calls with it are refused from now on.")
