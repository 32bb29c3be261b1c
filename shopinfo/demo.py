"""The demo boutique's hours and facts, added when seed_demo tells that its shop exists
(customers.events.DEMO_SHOP_SEEDED; see apps.py)."""

from datetime import date

from django.db import transaction

from customers.models import Shop
from shopinfo.models import HoursException, ShopProfile

_OPEN = [["10:00", "19:00"]]
DEMO_WEEK = {"0": [], "1": _OPEN, "2": _OPEN, "3": _OPEN, "4": _OPEN, "5": _OPEN, "6": [["14:00", "18:00"]]}
DEMO_FACTS = {
    "delivery": "Livraison en France en 48 h (5,90 €, offerte dès 80 €), en Europe en 3 à 5 jours (12 €).",
    "payment": "Carte bancaire, espèces et Apple Pay ; paiement en 3 fois sans frais dès 150 €.",
    "services": "Retouches offertes sur les pantalons et les robes (sous 3 jours), emballage cadeau gratuit.",
    "returns": "Échange sous 30 jours avec le ticket de caisse ; les achats en ligne sont remboursés sous 14"
    " jours.",
    "parking": "Parking Saint-Georges à 2 minutes, métro ligne 12 station Notre-Dame-de-Lorette.",
}
DEMO_TRANSLATIONS = {
    "delivery": {"en": "Delivery in France in 48 h (€5.90, free from €80), in Europe in 3 to 5 days (€12)."},
}


def demo_profile_seed(*, shop_id: int) -> bool:
    """Give the demo shop its hours, holidays and facts unless the owner already set them (seed_demo runs
    at every start: their own changes stay). True when added."""
    shop = Shop.objects.get(pk=shop_id)
    if ShopProfile.objects.filter(shop=shop).exists():
        return False
    with transaction.atomic():
        ShopProfile.objects.create(
            shop=shop,
            weekly_hours=DEMO_WEEK,
            signature=shop.name,
            translations=DEMO_TRANSLATIONS,
            **DEMO_FACTS,
        )
        for year in (date.today().year, date.today().year + 1):
            HoursException.objects.bulk_create(
                [
                    HoursException(
                        shop=shop,
                        first_day=date(year, 12, 24),
                        last_day=date(year, 12, 24),
                        ranges=[["10:00", "17:00"]],
                        label="Veille de Noël",
                    ),
                    HoursException(
                        shop=shop, first_day=date(year, 12, 25), last_day=date(year, 12, 25), label="Noël"
                    ),
                    HoursException(
                        shop=shop, first_day=date(year, 1, 1), last_day=date(year, 1, 1), label="Jour de l'an"
                    ),
                ]
            )
    return True
