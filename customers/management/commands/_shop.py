"""Shared by the commands that take --shop SLUG."""

from django.core.management.base import CommandError

from customers.models import Shop


def shop_from_slug(slug: str) -> Shop:
    try:
        return Shop.objects.get(slug=slug)
    except Shop.DoesNotExist:
        known = ", ".join(Shop.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
        raise CommandError(f"No shop with slug “{slug}”. Known shops: {known}.") from None
