"""The shop a receiving address belongs to, cached (see coccinelle/cache.py): every inbound event
starts with this lookup, and shops and their numbers change a few times a year.

The cached value is the shop's row as plain values (a Shop holds no secret), keyed by the address, so
one cache read gives the shop. Saving or deleting a channel address forgets its key (and its previous
spelling's); saving or deleting a shop forgets the keys of all its addresses.
"""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from coccinelle.cache import forget, remember
from customers.models import ChannelAddress, Shop

_SHOP_FIELDS = tuple(field.attname for field in Shop._meta.concrete_fields)


def shop_for_address(*, provider: str, address: str) -> Shop | None:
    """The shop receiving messages on `address` (as normalised by ChannelAddress), or None."""
    values = remember(_address_key(provider, address), lambda: _shop_values(provider, address))
    if not values or tuple(values) != _SHOP_FIELDS:
        # None, or kept by a version whose Shop had other fields (during a deploy): read it again.
        values = _shop_values(provider, address)
    if not values:
        return None
    return Shop.from_db("default", _SHOP_FIELDS, [values[name] for name in _SHOP_FIELDS])


def _shop_values(provider: str, address: str) -> dict | None:
    return (
        Shop.objects.filter(channel_addresses__provider=provider, channel_addresses__address=address)
        .values(*_SHOP_FIELDS)
        .first()
    )


def _address_key(provider: str, address: str) -> str:
    # Addresses are E.164 numbers, short codes, MG… SIDs or digits; keep the key printable anyway.
    return f"shop-for-address:{provider}:{address.encode().hex()}"


@receiver(pre_save, sender=ChannelAddress, dispatch_uid="customers.cached.address_changing")
def _address_changing(sender, instance: ChannelAddress, **kwargs):
    if instance.pk:  # the spelling it had before this save no longer leads to this shop
        before = ChannelAddress.objects.filter(pk=instance.pk).values_list("provider", "address").first()
        if before:
            forget([_address_key(*before)])


@receiver(post_save, sender=ChannelAddress, dispatch_uid="customers.cached.address_saved")
@receiver(post_delete, sender=ChannelAddress, dispatch_uid="customers.cached.address_deleted")
def _address_changed(sender, instance: ChannelAddress, **kwargs):
    forget([_address_key(instance.provider, instance.address)])


@receiver(post_save, sender=Shop, dispatch_uid="customers.cached.shop_saved")
def _shop_changed(sender, instance: Shop, **kwargs):
    addresses = ChannelAddress.objects.filter(shop_id=instance.pk).values_list("provider", "address")
    forget(_address_key(provider, address) for provider, address in addresses)
