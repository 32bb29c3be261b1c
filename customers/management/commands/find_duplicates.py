from django.core.management.base import BaseCommand

from customers.selectors import duplicate_groups
from customers.services import customer_merge

from ._shop import shop_from_slug


class Command(BaseCommand):
    help = "List customers who are probably the same person (same name, no conflicting phone or e-mail)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--merge", action="store_true", help="merge each group into its oldest record")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        groups = duplicate_groups(shop=shop)
        for group in groups:
            keep, others = group[0], group[1:]
            described = "; ".join(
                f"#{c.pk} {c.display_name} {c.phone or ''} {c.email or ''}".strip() for c in group
            )
            self.stdout.write(described)
            if opts["merge"]:
                customer_merge(keep=keep, others=others)
                self.stdout.write(f"  merged into #{keep.pk}")
        verb = "merged" if opts["merge"] else "found"
        self.stdout.write(f"{len(groups)} group(s) of duplicates {verb}.")
