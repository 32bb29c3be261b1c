from django.core.management.base import BaseCommand, CommandError

from catalog.csv_io import import_products_csv
from customers.management.commands._shop import shop_from_slug


class Command(BaseCommand):
    help = (
        "Import products from a CSV with columns sku,name,size,color,price,stock (any order; category "
        "optional); lines with the same name are one product. Safe to run again: updates by SKU."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--shop", required=True, help="shop slug")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        try:
            # utf-8-sig: spreadsheets often save a byte-order mark first.
            with open(opts["file"], encoding="utf-8-sig", newline="") as stream:
                report = import_products_csv(shop=shop, stream=stream)
        except OSError as exc:
            raise CommandError(f"Cannot read {opts['file']}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{opts['file']} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV."
            ) from None
        for line, reason in report.rejected:
            self.stderr.write(f"line {line}: rejected: {reason}")
        self.stdout.write(report.summary)
        if report.rejected:
            # Non-zero so a script notices, after every good line went in.
            raise CommandError(
                f"{len(report.rejected)} line(s) rejected; the others were imported.", returncode=2
            )
