"""What automatic replies need of a shop's hours and facts, cached (see coccinelle/cache.py): the worker
decides a batch of turns at once, and reading the profile and the exceptions for each turn made the
statements grow with the batch.

The cached value is plain data (the weekly JSON, the exceptions as tuples of ISO dates, the facts, the
signature and map link); saving or deleting a profile or an exception forgets its shop's key.
"""

from datetime import date

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from coccinelle.cache import forget, remember
from customers.models import Shop
from shopinfo.hours import Hours, HoursException
from shopinfo.models import HoursException as ExceptionRow
from shopinfo.models import ShopProfile
from shopinfo.selectors import MAX_EXCEPTIONS, ranges_from_json, shop_facts, shop_profile, weekly_from_json


def reply_data(shop: Shop) -> dict:
    return remember(_key(shop.pk), lambda: _load(shop))


def cached_hours(data: dict, *, today: date) -> Hours | None:
    """The Hours of `reply_data`, with the exceptions from yesterday on."""
    weekly = weekly_from_json(data["weekly"])
    exceptions = tuple(
        HoursException(date.fromisoformat(first), date.fromisoformat(last), ranges_from_json(ranges), label)
        for first, last, ranges, label in data["exceptions"]
        if date.fromisoformat(last) >= date.fromordinal(today.toordinal() - 1)
    )
    if weekly is None and not exceptions:
        return None
    return Hours(weekly=weekly or ((),) * 7, exceptions=exceptions)


def _load(shop: Shop) -> dict:
    profile = shop_profile(shop)
    rows = ExceptionRow.objects.filter(shop=shop).order_by("-last_day")[:MAX_EXCEPTIONS]
    return {
        "weekly": profile.weekly_hours,
        "exceptions": sorted(
            (row.first_day.isoformat(), row.last_day.isoformat(), row.ranges, row.label) for row in rows
        ),
        "facts": shop_facts(profile),
        "signature": profile.signature,
        "map_url": profile.map_url,
    }


def _key(shop_id) -> str:
    return f"shopinfo-replies:{int(shop_id)}"


@receiver(post_save, sender=ShopProfile, dispatch_uid="shopinfo.cached.profile_saved")
@receiver(post_delete, sender=ShopProfile, dispatch_uid="shopinfo.cached.profile_deleted")
@receiver(post_save, sender=ExceptionRow, dispatch_uid="shopinfo.cached.exception_saved")
@receiver(post_delete, sender=ExceptionRow, dispatch_uid="shopinfo.cached.exception_deleted")
def _changed(sender, instance, **kwargs):
    forget([_key(instance.shop_id)])
