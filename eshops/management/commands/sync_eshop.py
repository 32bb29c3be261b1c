from django.core.management.base import BaseCommand, CommandError

from eshops.models import EshopConnection
from eshops.services import connection_sync


class Command(BaseCommand):
    help = "Read the shop's whole catalogue from its e-shop(s) now and apply it; exit 2 if a sync stopped."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="the shop's slug")
        parser.add_argument("--provider", choices=EshopConnection.Provider.values)

    def handle(self, *args, shop, provider=None, **options):
        connections = EshopConnection.objects.select_related("shop").filter(shop__slug=shop, enabled=True)
        if provider:
            connections = connections.filter(provider=provider)
        if not connections:
            raise CommandError(f"no enabled e-shop connection for shop {shop!r}")
        failed = False
        for connection in connections:
            report = connection_sync(connection)
            self.stdout.write(f"{connection}: {report}")
            failed = failed or bool(report.error)
        if failed:
            raise SystemExit(2)
