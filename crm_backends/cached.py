"""Whether a shop pushes to a CRM, cached (see coccinelle/cache.py): every change to a customer and every
message asks, and most shops have no CRM connection at all.

The cached value is the id of the shop's pushing connection, or 0 for "none pushes" (no connection,
disabled, or `native`): never the row, which holds encrypted credentials. Saving or deleting a
connection forgets its shop's key (and its previous shop's), and so does saving the shop.
"""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from coccinelle.cache import forget, remember
from crm_backends.models import CrmConnection
from customers.models import Shop


def pushing_connection_id(shop_id) -> int | None:
    """The id of the shop's connection when it pushes (enabled, not `native`), else None."""
    return remember(_key(shop_id), lambda: _pushing_connection_id(shop_id)) or None


def _pushing_connection_id(shop_id) -> int:
    connection = CrmConnection.objects.filter(shop_id=shop_id).only("pk", "backend", "enabled").first()
    return connection.pk if connection and connection.pushes else 0


def _key(shop_id) -> str:
    return f"crm-pushing-connection:{int(shop_id)}"


@receiver(pre_save, sender=CrmConnection, dispatch_uid="crm_backends.cached.connection_changing")
def _connection_changing(sender, instance: CrmConnection, update_fields=None, **kwargs):
    # Moved to another shop: the previous one no longer pushes through it. (Token refreshes save
    # named fields only: no need to look.)
    if instance.pk and (update_fields is None or "shop" in update_fields):
        before = CrmConnection.objects.filter(pk=instance.pk).values_list("shop_id", flat=True).first()
        if before is not None:
            forget([_key(before)])


@receiver(post_save, sender=CrmConnection, dispatch_uid="crm_backends.cached.connection_saved")
@receiver(post_delete, sender=CrmConnection, dispatch_uid="crm_backends.cached.connection_deleted")
def _connection_changed(sender, instance: CrmConnection, **kwargs):
    forget([_key(instance.shop_id)])


@receiver(post_save, sender=Shop, dispatch_uid="crm_backends.cached.shop_saved")
def _shop_saved(sender, instance: Shop, **kwargs):
    # A new shop may reuse the id of one rolled back (SQLite reuses ids): never inherit its answer.
    forget([_key(instance.pk)])
