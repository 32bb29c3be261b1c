"""Writes of what a shop tells its customers (called by the settings page, the admin and the demo)."""

from datetime import date

from django.db import transaction

from customers.models import Shop
from customers.services import shop_update
from shopinfo.hours import TimeRange
from shopinfo.models import FACT_KEYS, HoursException, ShopProfile
from shopinfo.selectors import ranges_to_json, weekly_to_json


@transaction.atomic
def profile_save(
    *,
    shop: Shop,
    weekly: tuple[tuple[TimeRange, ...], ...] | None,
    hours_note: str,
    signature: str,
    map_url: str,
    facts: dict[str, str],
    translations: dict[str, dict[str, str]],
) -> ShopProfile:
    """Save the owner's hours, facts and signature in one go. `weekly` None: no weekly hours given."""
    profile, _ = ShopProfile.objects.select_for_update().get_or_create(shop=shop)
    profile.weekly_hours = weekly_to_json(weekly) if weekly is not None else {}
    profile.signature = " ".join(signature.split())
    profile.map_url = map_url.strip()
    for key in FACT_KEYS:
        setattr(profile, key, facts.get(key, "").strip())
    profile.translations = _merged(profile.translations, translations)
    profile.save()
    # The free-text note stays a shop setting (the API has always exposed it as `opening_hours`).
    if hours_note.strip() != shop.opening_hours.strip():
        shop_update(shop=shop, fields={"opening_hours": hours_note.strip()})
    return profile


def hours_exception_add(
    *, shop: Shop, first_day: date, last_day: date, ranges: tuple[TimeRange, ...], label: str
) -> HoursException:
    if last_day < first_day:
        raise ValueError("The last day comes before the first.")
    return HoursException.objects.create(
        shop=shop,
        first_day=first_day,
        last_day=last_day,
        ranges=ranges_to_json(ranges),
        label=" ".join(label.split()),
    )


def hours_exception_delete(*, shop: Shop, exception_id: int) -> bool:
    """Delete one of the shop's exceptions; False when it is not one of theirs (or already gone)."""
    deleted, _ = HoursException.objects.filter(shop=shop, pk=exception_id).delete()
    return bool(deleted)


def _merged(stored: dict, submitted: dict[str, dict[str, str]]) -> dict:
    """The versions submitted replace (or, empty, delete) theirs; a language the form did not show (the
    shop's own since the owner changed it) keeps its version."""
    merged = {key: dict(stored.get(key) or {}) for key in FACT_KEYS}
    for key, versions in submitted.items():
        for lang, text in versions.items() if key in FACT_KEYS else ():
            if text.strip():
                merged[key][lang] = text.strip()
            else:
                merged[key].pop(lang, None)
    return {key: versions for key, versions in merged.items() if versions}
