"""Store every shop's receiving address in its one normalised spelling (issue 8, item 2).

Before this, `whatsapp:+33612345601`, `06 12 34 56 01` and `+33612345601` were three different rows, so a
shop could claim another shop's number and send as it. Each row is rewritten the way ChannelAddress.save()
now writes it. Where two rows become one number, the older (lower id) keeps it; the other is removed so
that the unique constraint holds, with a log line and an audit entry on its shop for ops. A row that
cannot be read at all is left as it is and logged: it matches no real webhook, and saving it again in
the admin says what is wrong with it.
"""

import logging

from django.db import migrations, models
from django.utils import timezone

# The one normaliser the model uses: a copy here could drift from what save() writes.
from customers.phones import InvalidChannelAddress, normalize_channel_address

logger = logging.getLogger("customers.migrations")


def _normalise(row):
    try:
        return normalize_channel_address(row.provider, row.address, row.shop.country or "FR")
    except InvalidChannelAddress as exc:
        logger.warning(
            "Channel address %s (%s %r, shop %s) left as it is: %s",
            row.pk, row.provider, row.address, row.shop.slug, exc,
        )
        return None


def _report_removed(AuditEntry, row, normalised, kept):
    same_shop = kept.shop_id == row.shop_id
    logger.warning(
        "Channel address %s (%s %r, shop %s) removed: it is %s, which address %s of shop %s has first",
        row.pk, row.provider, row.address, row.shop.slug, normalised, kept.pk, kept.shop.slug,
    )
    # On the shop that lost the address; the other shop is named in the log line only (ops), not here
    # where this shop's owners read it.
    AuditEntry.objects.create(
        shop_id=row.shop_id,
        action="address_removed",
        created_at=timezone.now(),
        details={
            "provider": row.provider,
            "address": row.address,
            "normalised": normalised,
            "reason": "the shop's own duplicate" if same_shop else "another shop receives on this number",
        },
    )


def normalise_channel_addresses(apps, schema_editor):
    ChannelAddress = apps.get_model("customers", "ChannelAddress")
    AuditEntry = apps.get_model("customers", "AuditEntry")
    keepers, changes = {}, {}
    for row in ChannelAddress.objects.select_related("shop").order_by("pk"):
        normalised = _normalise(row)
        if normalised is None:
            keepers.setdefault((row.provider, row.address), row)
            continue
        kept = keepers.setdefault((row.provider, normalised), row)
        if kept is not row:
            _report_removed(AuditEntry, row, normalised, kept)
            row.delete()
        elif normalised != row.address:
            changes[row.pk] = normalised
    # Two steps, so that no row ever takes a spelling another row still holds (the constraint stays on).
    for pk in changes:
        ChannelAddress.objects.filter(pk=pk).update(address=f"~normalising-{pk}")
    for pk, normalised in changes.items():
        ChannelAddress.objects.filter(pk=pk).update(address=normalised)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_autoreply_state"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("merge", "Merged"),
                    ("erase", "Erased (GDPR)"),
                    ("import", "Imported"),
                    ("segment", "Segment set by hand"),
                    ("address_removed", "Channel address removed"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="channeladdress",
            name="address",
            field=models.CharField(
                help_text=(
                    "Twilio: a phone number in any spelling (stored as +33612345678), a short code or a "
                    "messaging service SID (MG…). Meta: the phone number ID (digits)."
                ),
                max_length=64,
            ),
        ),
        migrations.AlterConstraint(  # the message only: the constraint itself stays as it is
            model_name="channeladdress",
            name="channel_address_unique",
            constraint=models.UniqueConstraint(
                fields=("provider", "address"),
                name="channel_address_unique",
                violation_error_message="This number already receives messages for a shop.",
            ),
        ),
        migrations.RunPython(normalise_channel_addresses, migrations.RunPython.noop),
    ]
