"""The outbox's side of an erasure and a merge: `customers` announces them inside its transaction
(events.CUSTOMER_ERASING, CUSTOMER_MERGING), before the customer row is deleted, and the rows written
here carry what the push needs once that row and its sync state are gone.

Erase: one row per CRM contact that was pushed for the customer (on every connection of the shop,
pushing or paused: a paused one erases once it is enabled again), holding only the CRM's ids: the
contact, and the notes or tasks pushed for them. A customer never pushed leaves nothing to do.

Merge: what was queued for the merged customer follows the survivor. When both had a contact, a merge
row asks the CRM to merge them; when only the merged one had, the survivor adopts its contact.
"""

from django.db.models import Q

from crm_backends.models import CustomerSync, InteractionSync, SyncItem
from crm_backends.outbox import drain_after_commit


def outbox_erase(*, shop_id, customer_id) -> None:
    contacts = _contacts_of(customer_id)
    # A merge into this customer that has not gone out yet: the contact merged away is theirs too.
    pending_merges = SyncItem.objects.filter(customer_id=customer_id, kind=SyncItem.Kind.MERGE)
    for connection_id, external_id in pending_merges.values_list("connection_id", "external_id"):
        contacts.setdefault(connection_id, []).append(external_id)
    if not contacts:
        return  # never pushed: the CRM holds nothing on them
    activities = {}
    pushed = InteractionSync.objects.filter(interaction__customer_id=customer_id)
    for connection_id, external_id in pushed.values_list("connection_id", "external_id"):
        activities.setdefault(connection_id, []).append(external_id)
    rows = []
    for connection_id, ids in contacts.items():
        for n, external_id in enumerate(dict.fromkeys(ids)):
            # The activities go with the first contact's row: one deletion of them is enough.
            notes = sorted(activities.get(connection_id, [])) if n == 0 else []
            rows.append(
                SyncItem(
                    connection_id=connection_id,
                    kind=SyncItem.Kind.ERASE,
                    customer=None,
                    external_id=external_id,
                    payload={"activities": notes},
                )
            )
    SyncItem.objects.bulk_create(rows)
    for connection_id in contacts:
        drain_after_commit(connection_id)


def outbox_merge(*, shop_id, kept_id, merged_id) -> None:
    # What was queued for the merged customer goes to the survivor (its rows would be deleted with it);
    # its own contact pushes are not needed: the survivor is pushed after the merge anyway.
    SyncItem.objects.filter(customer_id=merged_id, kind=SyncItem.Kind.CUSTOMER).delete()
    SyncItem.objects.filter(customer_id=merged_id).update(customer_id=kept_id)
    merged = _contacts_of(merged_id)
    if not merged:
        return
    kept = _contacts_of(kept_id)
    adopt, merges = [], []
    for connection_id, (merged_contact,) in merged.items():
        kept_contact = (kept.get(connection_id) or [""])[0]
        if not kept_contact:
            adopt.append((connection_id, merged_contact))
        elif kept_contact != merged_contact:
            merges.append(
                SyncItem(
                    connection_id=connection_id,
                    kind=SyncItem.Kind.MERGE,
                    customer_id=kept_id,
                    external_id=merged_contact,
                )
            )
    for connection_id, contact in adopt:
        # The survivor had no contact: it takes the merged one's (its push updates it by id).
        CustomerSync.objects.update_or_create(
            connection_id=connection_id,
            customer_id=kept_id,
            defaults={"external_id": contact, "status": CustomerSync.Status.PENDING, "last_error": ""},
        )
    SyncItem.objects.bulk_create(merges)
    for connection_id in {row.connection_id for row in merges}:
        drain_after_commit(connection_id)


def _contacts_of(customer_id) -> dict[int, list[str]]:
    """{connection id: [the CRM contact id]} for every connection that pushed this customer."""
    syncs = CustomerSync.objects.filter(customer_id=customer_id).exclude(Q(external_id=""))
    return {
        connection_id: [external_id]
        for connection_id, external_id in syncs.values_list("connection_id", "external_id")
    }
