from django.core.management.base import BaseCommand, CommandError

from customers.csv_io import EXCEL_FR, STANDARD, write_customers_csv
from customers.models import Customer

from ._shop import shop_from_slug


class Command(BaseCommand):
    help = "Export a shop's customers as UTF-8 CSV (the format import_customers reads back, either dialect)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--segment", choices=Customer.Segment.values)
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument(
            "--excel",
            action="store_true",
            help="for Excel in French: `;` separators, decimal commas and a UTF-8 BOM",
        )

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        customers = Customer.objects.filter(shop=shop)
        if opts["segment"]:
            customers = customers.filter(segment=opts["segment"])
        dialect = EXCEL_FR if opts["excel"] else STANDARD
        if not opts["output"]:
            self.stdout.ending = ""  # the csv module ends its own lines
            write_customers_csv(customers, self.stdout, dialect)
            return
        try:
            with open(opts["output"], "w", encoding="utf-8", newline="") as stream:
                count = write_customers_csv(customers, stream, dialect)
        except OSError as exc:
            raise CommandError(f"Cannot write {opts['output']}: {exc.strerror}") from None
        self.stderr.write(f"{count} customers written to {opts['output']}")
