from django.core.management.base import BaseCommand

from catalog.csv_io import import_products_csv
from customers.management.commands._shop import csv_import, shop_from_slug


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
        csv_import(self, path=opts["file"], run=lambda stream: import_products_csv(shop=shop, stream=stream))
