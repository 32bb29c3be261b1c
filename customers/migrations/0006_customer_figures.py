# Per-customer figures as columns (customers/figures.py) and indexes in the list's sort orders (issue 12).

import django.db.models.functions.text
from decimal import Decimal
from django.db import migrations, models

import customers.models


def backfill_figures(apps, schema_editor):
    """Compute the new columns from the orders and messages already recorded (the same expressions as
    customers.figures, on this migration's models). Customers with neither keep the defaults, which are
    already right for them, so the UPDATE only touches those with something to count."""
    from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum, Value
    from django.db.models.functions import Coalesce, Substr

    Customer = apps.get_model("customers", "Customer")
    Order = apps.get_model("customers", "Order")
    Interaction = apps.get_model("customers", "Interaction")
    money = models.DecimalField(max_digits=12, decimal_places=2)

    def order_figure(aggregate, output_field=None):
        orders = Order.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
        return Subquery(orders.annotate(value=aggregate).values("value")[:1], output_field=output_field)

    inbound = Interaction.objects.filter(customer=OuterRef("pk"), direction="inbound")
    latest = inbound.order_by("-occurred_at", "-pk")
    concerned = Q(pk__in=Order.objects.filter(customer__isnull=False).values("customer_id")) | Q(
        pk__in=Interaction.objects.filter(direction="inbound").values("customer_id")
    )
    Customer.objects.filter(concerned).update(
        orders_count=Coalesce(order_figure(Count("pk"), models.IntegerField()), Value(0)),
        total_spent=Coalesce(order_figure(Sum("amount"), money), Value(Decimal("0")), output_field=money),
        first_order_at=order_figure(Min("placed_at")),
        last_order_at=order_figure(Max("placed_at")),
        last_message_preview=Coalesce(
            Subquery(latest.annotate(preview=Substr("body", 1, 200)).values("preview")[:1]), Value("")
        ),
        last_message_at=Subquery(latest.values("occurred_at")[:1]),
        last_inbound_id=Subquery(inbound.order_by("-pk").values("pk")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_unaccent"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="customer",
            options={
                "ordering": [
                    models.OrderBy(models.F("last_contact_at"), descending=True, nulls_last=True),
                    "-id",
                ]
            },
        ),
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_list_idx",
        ),
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_segment_idx",
        ),
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_attention_idx",
        ),
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_name_idx",
        ),
        migrations.AddField(
            model_name="customer",
            name="first_order_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="last_inbound_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="last_message_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="last_message_preview",
            field=models.CharField(blank=True, db_default="", default="", editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="customer",
            name="last_order_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="orders_count",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(
            model_name="customer",
            name="total_spent",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), editable=False, max_digits=12
            ),
        ),
        migrations.RunPython(backfill_figures, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="customer",
            index=customers.models.ListIndex(
                models.F("shop"),
                models.OrderBy(models.F("last_contact_at"), descending=True, nulls_last=True),
                models.OrderBy(models.F("id"), descending=True),
                name="customer_list_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                models.F("shop"),
                django.db.models.functions.text.Lower("last_name"),
                django.db.models.functions.text.Lower("first_name"),
                models.F("id"),
                name="customer_name_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                models.F("shop"),
                models.OrderBy(models.F("total_spent"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="customer_revenue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=customers.models.ListIndex(
                models.F("shop"),
                models.F("segment"),
                models.OrderBy(models.F("last_contact_at"), descending=True, nulls_last=True),
                models.OrderBy(models.F("id"), descending=True),
                name="customer_segment_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=customers.models.ListIndex(
                models.F("shop"),
                models.F("preferred_channel"),
                models.OrderBy(models.F("last_contact_at"), descending=True, nulls_last=True),
                models.OrderBy(models.F("id"), descending=True),
                name="customer_channel_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=customers.models.ListIndex(
                models.F("shop"),
                models.OrderBy(models.F("last_contact_at"), descending=True, nulls_last=True),
                models.OrderBy(models.F("id"), descending=True),
                condition=models.Q(("needs_attention", True)),
                name="customer_attention_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=customers.models.ListIndex(
                models.F("shop"),
                models.OrderBy(models.F("last_inbound_id"), descending=True, nulls_last=True),
                name="customer_inbound_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["shop", "created_at"], name="customer_stats_new_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["shop", "last_order_at"],
                include=("last_contact_at",),
                name="customer_stats_order_idx",
            ),
        ),
    ]
