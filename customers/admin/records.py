"""The records around customers: their messages (read-only), notes, orders and tags."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from customers import display
from customers.admin.base import OWNER, READ, STAFF, ShopScopedAdmin, pretty_json
from customers.admin.forms import OrderForm, TagForm
from customers.models import Interaction, Note, Order, Tag
from customers.phones import try_normalize_phone
from customers.selectors import cap_search, shops_for_user
from customers.services import NOTE_MAX_CHARS


def delivery_label(interaction: Interaction) -> str:
    """The delivery status; the demo's sandbox (webhooks/providers/sandbox.py) reaches no phone: say so."""
    if interaction.raw_payload.get("sandbox"):
        return f"{interaction.status} to the sandbox (not sent to a phone)"
    return interaction.status


@admin.register(Interaction)
class InteractionAdmin(ShopScopedAdmin):
    shop_path = "customer__shop"
    role_permissions = {OWNER: READ, STAFF: READ}
    superuser_permissions = frozenset({"view", "delete"})
    list_display = ["occurred_at", "customer", "direction", "channel", "short_body", "delivery"]
    list_filter = ["channel", "direction", "status"]
    list_select_related = ["customer"]
    search_fields = ["body", "customer__phone"]
    autocomplete_fields = ["customer"]
    fields = [
        "customer",
        "occurred_at",
        "direction",
        "channel",
        "body",
        "button_reply",
        "media_pretty",
        "location_pretty",
        "provider",
        "provider_message_id",
        "delivery",
        "error_code",
        "author",
        "created_at",
        "raw_payload_pretty",
    ]
    readonly_fields = ["media_pretty", "location_pretty", "raw_payload_pretty", "delivery"]

    @admin.display(description=_("delivery"), ordering="status")
    def delivery(self, obj):
        return delivery_label(obj)

    @admin.display(description=_("body"))
    def short_body(self, obj):
        return obj.body if len(obj.body) <= 80 else obj.body[:79] + "…"

    @admin.display(description=_("raw payload"))
    def raw_payload_pretty(self, obj):
        return pretty_json(obj.raw_payload)

    @admin.display(description=_("media"))
    def media_pretty(self, obj):
        return pretty_json(obj.media) if obj.media else "—"

    @admin.display(description=_("location"))
    def location_pretty(self, obj):
        return pretty_json(obj.location) if obj.location else "—"

    def get_search_results(self, request, queryset, search_term):
        search_term = cap_search(search_term)
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        countries = set(shops_for_user(request.user).values_list("country", flat=True))
        phones = {try_normalize_phone(search_term, country) for country in countries} - {None}
        if phones:
            results = results | queryset.filter(customer__phone__in=phones)
        return results, may_have_duplicates


@admin.register(Note)
class NoteAdmin(ShopScopedAdmin):
    shop_path = "customer__shop"
    list_display = ["created_at", "customer", "short_body", "author"]
    list_select_related = ["customer", "author"]
    search_fields = ["body", "customer__first_name", "customer__last_name"]
    autocomplete_fields = ["customer"]
    fields = ["customer", "body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]
    text_limits = {"body": NOTE_MAX_CHARS}

    @admin.display(description=_("note"))
    def short_body(self, obj):
        return str(obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "customer"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)


@admin.register(Order)
class OrderAdmin(ShopScopedAdmin):
    form = OrderForm
    list_display = ["reference", "customer", "amount_display", "placed_at"]
    list_select_related = ["customer", "shop"]
    search_fields = ["reference", "customer__first_name", "customer__last_name", "customer__phone"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "placed_at"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        # `1 916,10 €` rather than 1916.10 and EUR in two columns (customers/display.py).
        return display.money_display(obj.amount, obj.currency)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "shop"] if obj is not None else fields


@admin.register(Tag)
class TagAdmin(ShopScopedAdmin):
    form = TagForm
    list_display = ["name", "customers_count"]
    list_select_related = ["shop"]
    ordering = ["name"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(customers_count=Count("customers", distinct=True))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "shop"] if obj is not None else fields

    @admin.display(description=_("customers"), ordering="customers_count")
    def customers_count(self, obj):
        return obj.customers_count
