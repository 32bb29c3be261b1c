"""Recompute the analytics' daily rows from the raw tables: after an import of history, a fix of the
counting, or to fill the rows of days before the analytics existed."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.aggregate import stats_rebuild_all
from customers.models import Shop


class Command(BaseCommand):
    help = "Rebuild the analytics' daily figures of one shop or all, from a day (default: the first message)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="the shop's slug (default: every shop)")
        parser.add_argument("--since", help="first day to rebuild, YYYY-MM-DD (local day of the shop)")

    def handle(self, *args, shop=None, since=None, **options):
        first = self._day(since)
        shops = Shop.objects.order_by("pk")
        if shop:
            shops = shops.filter(slug=shop)
            if not shops.exists():
                raise CommandError(f"no shop with the slug {shop!r}")
        for one in shops:
            done = stats_rebuild_all(one, first)
            if done is None:
                self.stdout.write(f"{one.slug}: nothing to rebuild")
            else:
                days = (done[1] - done[0]).days + 1
                self.stdout.write(f"{one.slug}: {days} days rebuilt, {done[0]} to {done[1]}")

    def _day(self, value: str | None) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(f"--since: {value!r} is not a date (YYYY-MM-DD)") from exc
