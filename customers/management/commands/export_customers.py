from django.core.management.base import BaseCommand, CommandError

from customers.csv_io import write_customers_csv
from customers.models import Customer

from ._shop import shop_from_slug


class Command(BaseCommand):
    help = "Export a shop's customers as UTF-8 CSV (the format import_customers reads back)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--segment", choices=Customer.Segment.values)
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        customers = Customer.objects.filter(shop=shop)
        if opts["segment"]:
            customers = customers.filter(segment=opts["segment"])
        if not opts["output"]:
            self.stdout.ending = ""  # the csv module ends its own lines
            write_customers_csv(customers, self.stdout)
            return
        try:
            with open(opts["output"], "w", encoding="utf-8", newline="") as stream:
                count = write_customers_csv(customers, stream)
        except OSError as exc:
            raise CommandError(f"Cannot write {opts['output']}: {exc.strerror}") from None
        self.stderr.write(f"{count} customers written to {opts['output']}")
