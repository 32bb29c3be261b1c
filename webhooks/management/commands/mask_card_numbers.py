"""Mask card numbers and IBANs stored before the webhook edge masked them (ops, once after upgrading)."""

from django.core.management.base import BaseCommand

from customers.management.commands._shop import shop_from_slug
from webhooks.masking import stored_cards_mask


class Command(BaseCommand):
    help = (
        "Mask payment card numbers and IBANs in stored inbound events and customers' messages (written "
        "before they were masked on arrival). Safe to repeat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="only this shop's rows (slug)")
        parser.add_argument("--dry-run", action="store_true", help="count the rows, change nothing")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"]) if opts["shop"] else None
        report = stored_cards_mask(shop=shop, dry_run=opts["dry_run"])
        verb = "would be masked" if opts["dry_run"] else "masked"
        self.stdout.write(f"{report.events} event(s) and {report.messages} message(s) {verb}.")
