"""Reads of what a shop tells its customers, as the pure values the reply engine and analytics use."""

from datetime import date, time, timedelta
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from customers.models import Shop
from shopinfo.hours import Hours, HoursException, TimeRange
from shopinfo.models import FACT_KEYS, ShopProfile
from shopinfo.models import HoursException as ExceptionRow

# Exceptions that ended this long ago no longer change any answer (and are not loaded).
_PAST_EXCEPTIONS = timedelta(days=1)
# A shop entering every public holiday for years still loads in one small query.
MAX_EXCEPTIONS = 200
# Google Maps' documented search URL (developers.google.com/maps/documentation/urls): opens the app on
# a phone, the site elsewhere, with no API key.
MAP_SEARCH_URL = "https://www.google.com/maps/search/?api=1&query="


def shop_zone(shop: Shop) -> ZoneInfo:
    """The shop's time zone: what "today" means for its hours. The settings form refuses unknown zones;
    a row written otherwise still gets the server's."""
    try:
        return ZoneInfo(shop.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def shop_profile(shop: Shop) -> ShopProfile:
    """The shop's profile row, unsaved and empty when the owner never filled it in."""
    try:
        return shop.profile
    except ShopProfile.DoesNotExist:
        return ShopProfile(shop=shop)


def ranges_from_json(value) -> tuple[TimeRange, ...]:
    return tuple(TimeRange(time.fromisoformat(opens), time.fromisoformat(closes)) for opens, closes in value)


def ranges_to_json(ranges: tuple[TimeRange, ...]) -> list[list[str]]:
    return [[r.opens.strftime("%H:%M"), r.closes.strftime("%H:%M")] for r in ranges]


def weekly_from_json(value: dict) -> tuple[tuple[TimeRange, ...], ...] | None:
    if not value:
        return None
    return tuple(ranges_from_json(value.get(str(day), [])) for day in range(7))


def weekly_to_json(weekly: tuple[tuple[TimeRange, ...], ...]) -> dict:
    return {str(day): ranges_to_json(ranges) for day, ranges in enumerate(weekly)}


def shop_hours(shop: Shop, *, today: date | None = None) -> Hours | None:
    """The shop's hours with its exceptions from yesterday on; None when it gave no weekly hours
    and no exception."""
    weekly = weekly_from_json(shop_profile(shop).weekly_hours)
    rows = ExceptionRow.objects.filter(shop=shop)
    if today is not None:
        rows = rows.filter(last_day__gte=today - _PAST_EXCEPTIONS)
    exceptions = tuple(
        HoursException(row.first_day, row.last_day, ranges_from_json(row.ranges), row.label)
        for row in rows.order_by("first_day")[:MAX_EXCEPTIONS]
    )
    if weekly is None and not exceptions:
        return None
    return Hours(weekly=weekly or ((),) * 7, exceptions=exceptions)


def shop_facts(profile: ShopProfile) -> dict[str, dict[str, str]]:
    """{fact: {"": the owner's text, "en": their English version, ...}} for the facts given."""
    facts = {}
    for key in FACT_KEYS:
        versions = {lang: text.strip() for lang, text in (profile.translations.get(key) or {}).items()}
        versions[""] = getattr(profile, key).strip()
        versions = {lang: text for lang, text in versions.items() if text}
        if versions:
            facts[key] = versions
    return facts


def map_link(shop: Shop, map_url: str) -> str:
    """The owner's map link, else a map search for the address, else ""."""
    if map_url:
        return map_url
    address = " ".join(shop.address.split())
    return f"{MAP_SEARCH_URL}{quote_plus(address)}" if address else ""


def overlapping_exception(shop: Shop, first: date, last: date, exclude_pk=None) -> ExceptionRow | None:
    """One of the shop's exceptions sharing a day with [first, last], if any."""
    rows = ExceptionRow.objects.filter(shop=shop, first_day__lte=last, last_day__gte=first)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.order_by("first_day").first()
