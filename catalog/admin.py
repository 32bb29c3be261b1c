"""Products with their variants inline, scoped per shop exactly as the customers' admin: a non-superuser
sees the products of their shops, owners and staff edit them (owners delete too), from their role in
the product's shop (customers/admin/base.py)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from catalog.alerts import alert_cancel
from catalog.holds import HoldRefused, hold_release
from catalog.models import CatalogSettings, Hold, Product, StockAlert, Variant
from catalog.selectors import variants_with_available
from customers.admin.base import ScopedInline, ShopScopedAdmin


class VariantInline(ScopedInline, admin.TabularInline):
    model = Variant
    extra = 0
    # The e-shop's ids are the sync's, read-only here (changing one would detach the variant from its
    # e-shop); kept to one narrow column so that the row fits a laptop screen.
    fields = ["sku", "size", "color", "price", "stock", "active", "source"]
    readonly_fields = ["source"]
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 12})},
        models.DecimalField: {"widget": forms.NumberInput(attrs={"style": "width: 6em", "step": "0.01"})},
        models.PositiveIntegerField: {"widget": forms.NumberInput(attrs={"style": "width: 5em"})},
    }

    @admin.display(description=_("e-shop"))
    def source(self, obj):
        if not obj.external_source:
            return "—"
        return f"{obj.get_external_source_display()} {obj.external_id}"


@admin.register(Product)
class ProductAdmin(ShopScopedAdmin):
    inlines = [VariantInline]
    list_display = ["name", "category", "variants_count", "stock_total", "active", "updated_at"]
    list_filter = ["active", "category"]
    list_select_related = ["shop"]
    search_fields = ["name", "variants__sku"]
    fields = ["shop", "name", "category", "description", "active"]
    text_limits = {"description": 5000}  # the API's limit too

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("variants")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A product stays in its shop: its variants' SKUs are unique there.
        return [*fields, "shop"] if obj is not None else fields

    @admin.display(description=_("variants"))
    def variants_count(self, obj):
        return len(obj.variants.all())

    @admin.display(description=_("stock"))
    def stock_total(self, obj):
        return sum(v.stock for v in obj.variants.all())

    def save_formset(self, request, form, formset, change):
        # The variant's own shop column is not on the form: it is the product's.
        variants = formset.save(commit=False)
        for variant in variants:
            if variant.pk is not None and variant.shop_id != form.instance.shop_id:
                raise PermissionDenied("This variant belongs to another shop.")
            variant.shop_id = form.instance.shop_id
            variant.save()
        for variant in formset.deleted_objects:
            variant.delete()
        formset.save_m2m()


@admin.register(Variant)
class VariantAdmin(ShopScopedAdmin):
    """Every variant of the shop's products in one list: find a SKU, see what is available."""

    # What an owner counts from the shop floor comes first: on a phone the row is cut on the right.
    list_display = ["sku", "stock", "available", "product", "size", "color", "price", "active"]
    list_filter = ["active", "product__category"]
    list_select_related = ["product", "shop"]
    list_editable = ["stock", "price", "active"]
    search_fields = ["sku", "product__name"]
    autocomplete_fields = ["product"]
    fields = ["product", "sku", "size", "color", "price", "stock", "active", "external_source", "external_id"]
    readonly_fields = ["external_source", "external_id"]  # the e-shop sync's: see VariantInline
    formfield_overrides = VariantInline.formfield_overrides

    def get_queryset(self, request):
        return variants_with_available(super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "product":  # only the products of the shops where the role may change rows
            kwargs["queryset"] = Product.objects.filter(shop__in=self.shops_where(request, "change"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("available"), ordering="available")
    def available(self, obj):
        return obj.available

    def save_model(self, request, obj, form, change):
        obj.shop_id = obj.product.shop_id  # the variant's shop is its product's
        super().save_model(request, obj, form, change)


@admin.register(CatalogSettings)
class CatalogSettingsAdmin(ShopScopedAdmin):
    """The shop's hold duration; a shop without a row holds for 24 hours."""

    list_display = ["shop", "hold_hours"]
    fields = ["shop", "hold_hours"]


@admin.action(description=_("Release selected holds"), permissions=["change"])
def release_selected(modeladmin, request, queryset):
    released = 0
    for hold in queryset.filter(state=Hold.State.ACTIVE):
        try:
            hold_release(hold=hold, actor=request.user)
        except HoldRefused:  # converted or expired meanwhile
            continue
        released += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)d hold released.", "%(count)d holds released.", released) % {"count": released}
        if released
        else gettext("No active hold was selected."),
        messages.SUCCESS if released else messages.WARNING,
    )


@admin.register(Hold)
class HoldAdmin(ShopScopedAdmin):
    """Holds are read here; they change through catalog.holds (the pages, the API), except the one
    action that needs no input: release."""

    actions = [release_selected]
    list_display = [
        "variant",
        "customer",
        "quantity",
        "state",
        "expires_at",
        "reminder_sent_at",
        "created_by",
    ]
    list_filter = ["state"]
    list_select_related = ["variant__product", "customer", "shop", "created_by"]
    search_fields = ["variant__sku", "customer__first_name", "customer__last_name", "customer__phone"]
    fields = [
        "shop",
        "variant",
        "customer",
        "quantity",
        "state",
        "expires_at",
        "reminder_sent_at",
        "order",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Stop waiting (no message when back in stock)"), permissions=["change"])
def cancel_selected(modeladmin, request, queryset):
    cancelled = sum(alert_cancel(alert=alert) for alert in queryset)
    modeladmin.message_user(
        request,
        ngettext("%(count)d alert cancelled.", "%(count)d alerts cancelled.", cancelled)
        % {"count": cancelled}
        if cancelled
        else gettext("No waiting alert was selected."),
        messages.SUCCESS if cancelled else messages.WARNING,
    )


@admin.register(StockAlert)
class StockAlertAdmin(ShopScopedAdmin):
    """Customers waiting for a variant to be back; made by the conversation, sent by beat
    (catalog.alerts). Read here; the one change is to stop waiting."""

    actions = [cancel_selected]
    list_display = ["variant", "customer", "state", "created_at", "sent_at"]
    list_filter = ["state"]
    list_select_related = ["variant__product", "customer", "shop"]
    search_fields = ["variant__sku", "customer__first_name", "customer__last_name", "customer__phone"]
    fields = ["shop", "variant", "customer", "state", "created_at", "sent_at", "message"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
