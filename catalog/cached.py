"""Whether a shop has a catalogue at all, cached (see coccinelle/cache.py): the reply engine asks the
catalogue about every turn, and most shops' turns come from shops without one.

The cached value is True or False. Creating a variant forgets its shop's key (a shop's first product
is read at once); a shop whose variants are all deleted keeps True until the cache drops it, which only
costs the reply engine one empty read of its catalogue.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from catalog.models import Variant
from coccinelle.cache import forget, remember


def shop_has_catalogue(shop_id) -> bool:
    return remember(_key(shop_id), lambda: Variant.objects.filter(shop_id=shop_id).exists())


def _key(shop_id) -> str:
    return f"catalog-has-variants:{int(shop_id)}"


@receiver(post_save, sender=Variant, dispatch_uid="catalog.cached.variant_saved")
def _variant_saved(sender, instance: Variant, created=False, **kwargs):
    if created:
        forget([_key(instance.shop_id)])
