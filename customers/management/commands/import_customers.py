from django.core.management.base import BaseCommand

from customers.csv_io import import_customers_csv

from ._shop import csv_import, shop_from_slug


class Command(BaseCommand):
    help = "Import customers from a CSV with export_customers' columns; safe to run again on the same file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--shop", required=True, help="shop slug")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        csv_import(self, path=opts["file"], run=lambda stream: import_customers_csv(shop=shop, stream=stream))
