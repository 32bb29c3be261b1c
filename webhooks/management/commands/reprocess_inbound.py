"""Run stored inbound events through the pipeline again, in the foreground (ops)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_duration

from customers.management.commands._shop import shop_from_slug
from webhooks.inbound_events import BATCH, events_process, events_reset
from webhooks.models import InboundEvent


class Command(BaseCommand):
    help = (
        "Process stored inbound events again (all, or only --failed), oldest first, and print what became "
        "of them. Safe to repeat: a message already recorded is not recorded twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="only events that failed for good")
        parser.add_argument(
            "--since",
            help="only events received since then: an ISO date or time (2026-12-01, 2026-12-01T08:00) "
            "or a duration back from now (2h, 3d, 30m)",
        )
        parser.add_argument("--shop", help="only this shop's events (slug)")

    def handle(self, *args, **opts):
        events = InboundEvent.objects.all()
        if opts["failed"]:
            events = events.filter(state=InboundEvent.State.FAILED)
        if opts["since"]:
            events = events.filter(received_at__gte=_since(opts["since"]))
        if opts["shop"]:
            events = events.filter(shop=shop_from_slug(opts["shop"]))
        by_provider = events_reset(events)
        totals = {"processed": 0, "ignored": 0, "retrying": 0, "failed": 0}
        for provider, keys in by_provider.items():
            for start in range(0, len(keys), BATCH):
                report = events_process(provider=provider, keys=keys[start : start + BATCH])
                for name in totals:
                    totals[name] += getattr(report, name)
        self.stdout.write(
            f"{sum(len(k) for k in by_provider.values())} event(s): {totals['processed']} processed, "
            f"{totals['ignored']} ignored, {totals['retrying']} to retry, {totals['failed']} failed"
        )
        if totals["failed"] or totals["retrying"]:
            self.stdout.write("See the errors in the admin: Inbound events, filtered by state.")


_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _since(text: str):
    text = text.strip()
    if text[:-1].isdigit() and text[-1:] in _UNITS:
        return timezone.now() - timedelta(**{_UNITS[text[-1]]: int(text[:-1])})
    moment = parse_datetime(text) or parse_datetime(text + "T00:00")
    if moment is None:
        duration = parse_duration(text)
        if duration is None:
            raise CommandError(f"--since {text!r}: give an ISO date or time (2026-12-01) or a duration (3d).")
        return timezone.now() - duration
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
