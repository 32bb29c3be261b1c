from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from crm_backends.outgoing.models import WebhookDelivery
from crm_backends.outgoing.services import deliveries_redrive
from customers.management.commands._shop import shop_from_slug


class Command(BaseCommand):
    help = "Queue a shop's outgoing webhook deliveries again (all, or --failed, or since a date)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--failed", action="store_true", help="only deliveries that failed for good")
        parser.add_argument(
            "--since", help="only events since this ISO 8601 date or time (shop-local if naive)"
        )

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        since = self._since(opts["since"], shop) if opts["since"] else None
        before = WebhookDelivery.objects.filter(endpoint__shop=shop)
        failed_before = before.filter(state=WebhookDelivery.State.FAILED).count()
        count = deliveries_redrive(shop=shop, failed_only=opts["failed"], since=since)
        endpoints = before.filter(state=WebhookDelivery.State.PENDING).values("endpoint").distinct().count()
        self.stdout.write(
            f"{count} delivery(ies) of shop “{shop.slug}” queued again "
            f"({failed_before} were failed; {endpoints} endpoint(s) with pending deliveries)"
        )

    def _since(self, text, shop):
        value = parse_datetime(text) or parse_datetime(f"{text}T00:00:00")
        if value is None:
            raise CommandError(f"--since: {text!r} is not an ISO 8601 date or time")
        return make_aware(value, ZoneInfo(shop.time_zone)) if is_naive(value) else value
