"""Read each shop's free-text opening hours into the weekly hours, where it can be read with confidence.

What the parser does not understand stays in the shop's free-text field (shown on the Hours and facts
page as "Anything else about your hours"); a text it cannot read at all stays whole, and the shop keeps
answering hours questions from it in its own language until the owner fills the week in. The parser is
imported, not copied: it is pure, and a later fix to it should reach shops migrated later too.
"""

from django.db import migrations


def _to_json(weekly):
    return {
        str(day): [[r.opens.strftime("%H:%M"), r.closes.strftime("%H:%M")] for r in ranges]
        for day, ranges in enumerate(weekly)
    }


def hours_from_text(apps, schema_editor):
    from shopinfo.hours_parse import parse_week

    Shop = apps.get_model("customers", "Shop")
    ShopProfile = apps.get_model("shopinfo", "ShopProfile")
    for shop in Shop.objects.exclude(opening_hours="").iterator():
        if ShopProfile.objects.filter(shop=shop).exclude(weekly_hours={}).exists():
            continue
        weekly, leftover = parse_week(shop.opening_hours)
        if weekly is None:
            continue
        ShopProfile.objects.update_or_create(shop=shop, defaults={"weekly_hours": _to_json(weekly)})
        Shop.objects.filter(pk=shop.pk).update(opening_hours=leftover)


def text_from_hours(apps, schema_editor):
    """Back: a shop whose week was read from its text gets a plain text week again (in English: the
    parser reads it back), so that nothing it said is lost."""
    Shop = apps.get_model("customers", "Shop")
    ShopProfile = apps.get_model("shopinfo", "ShopProfile")
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    for profile in ShopProfile.objects.exclude(weekly_hours={}).select_related("shop"):
        days = [
            f"{names[day]} "
            + ", ".join(f"{opens}-{closes}" for opens, closes in profile.weekly_hours.get(str(day), []))
            for day in range(7)
            if profile.weekly_hours.get(str(day))
        ]
        text = "; ".join(days)
        if profile.shop.opening_hours:
            text = f"{text}. {profile.shop.opening_hours}"
        Shop.objects.filter(pk=profile.shop_id).update(opening_hours=text)


class Migration(migrations.Migration):
    dependencies = [
        ("shopinfo", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [migrations.RunPython(hours_from_text, text_from_hours)]
