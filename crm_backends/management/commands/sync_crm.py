from django.core.management.base import BaseCommand, CommandError

from crm_backends.base import CrmError
from crm_backends.models import CrmConnection
from crm_backends.services import due_count, sync_drain, sync_full, sync_pull, sync_retry_failed
from customers.management.commands._shop import shop_from_slug


class Command(BaseCommand):
    help = "Push a shop's pending changes to its CRM now; --retry-failed, --full and --pull re-drive it."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--retry-failed", action="store_true", help="queue failed pushes again")
        parser.add_argument("--full", action="store_true", help="queue every customer and interaction")
        parser.add_argument("--pull", action="store_true", help="import the CRM's contacts first")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        connection = CrmConnection.objects.filter(shop=shop).first()
        if connection is None or not connection.pushes:
            raise CommandError(
                f"Shop “{shop.slug}” has no enabled HubSpot or Salesforce connection (admin: CRM connection)."
            )
        if opts["pull"]:
            try:
                counts = sync_pull(connection)
            except CrmError as exc:
                raise CommandError(f"pull failed: {exc}") from None
            self.stdout.write(
                f"pulled: {counts['linked']} linked, {counts['created']} created, {counts['skipped']} skipped"
            )
        if opts["retry_failed"]:
            self.stdout.write(f"{sync_retry_failed(connection)} failed item(s) queued again")
        if opts["full"]:
            self.stdout.write(f"{sync_full(connection)} customer(s) queued")
        self._drain(connection)

    def _drain(self, connection):
        """Run the queue here, in the foreground, so the operator sees the outcome."""
        totals = {"pushed": 0, "failed": 0, "retrying": 0}
        while due_count(connection):
            report = sync_drain(connection)
            for key in totals:
                totals[key] += getattr(report, key)
            for error in report.errors:
                self.stderr.write(f"error: {error}")
            if report.pushed == 0:
                break  # what is left is failing or waiting for its backoff
        left = due_count(connection)
        self.stdout.write(
            f"{totals['pushed']} pushed, {totals['failed']} failed, {totals['retrying']} to retry later, "
            f"{left} still due"
        )
        if totals["failed"]:
            raise CommandError("some items failed; see the admin (CRM sync) for the reasons", returncode=2)
