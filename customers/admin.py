"""The back office. Every admin here is tenant-scoped by ShopScopedAdmin: a non-superuser sees and
changes only the rows of their own shops, and what they may do comes from their Membership role, not
from Django's model permissions. Business logic lives in services; the admin only calls it.
"""

import json

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import models
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html

from customers import admin_actions
from customers.models import (
    AuditEntry,
    ChannelAddress,
    Customer,
    Interaction,
    Membership,
    Note,
    Order,
    Shop,
    Tag,
)
from customers.phones import try_normalize_phone
from customers.privacy import customer_erase
from customers.selectors import customer_figures, customer_search_filter, shops_for_user
from customers.services import customers_set_segment, membership_add, note_add

OWNER, STAFF = Membership.Role.OWNER, Membership.Role.STAFF
READ = frozenset({"view"})
EDIT = frozenset({"view", "add", "change"})
ALL = frozenset({"view", "add", "change", "delete"})
TIMELINE_LENGTH = 50


def user_roles(request) -> dict:
    """{shop_id: role} for the signed-in user, read once per request."""
    roles = getattr(request, "_coccinelle_roles", None)
    if roles is None:
        user = request.user
        roles = {}
        if user.is_authenticated and user.is_active:
            roles = dict(Membership.objects.filter(user=user).values_list("shop_id", "role"))
        request._coccinelle_roles = roles
    return roles


def pretty_json(value):
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str),
    )


class RolePermissions:
    """Permissions from Membership roles. `role_permissions[role]` is what that role may do in its shop;
    superusers get `superuser_permissions`. Subclasses say how to find the shop of a row."""

    role_permissions = {OWNER: ALL, STAFF: EDIT}
    superuser_permissions = ALL

    def role_allows(self, request, perm, shop_id=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return perm in self.superuser_permissions
        roles = user_roles(request)
        shop_ids = roles.keys() if shop_id is None else [shop_id]
        return any(perm in self.role_permissions.get(roles.get(sid), ()) for sid in shop_ids)

    def shops_where(self, request, perm):
        if request.user.is_superuser:
            return Shop.objects.all() if perm in self.superuser_permissions else Shop.objects.none()
        ids = [
            sid for sid, role in user_roles(request).items() if perm in self.role_permissions.get(role, ())
        ]
        return Shop.objects.filter(pk__in=ids)

    def scoped_choices(self, request, model, perm):
        """Foreign-key and many-to-many choices limited to the user's shops (None: leave Django's)."""
        shops = self.shops_where(request, perm)
        if model is Shop:
            return shops
        if model in (Customer, Tag):
            return model.objects.filter(shop__in=shops)
        if model is get_user_model():
            if request.user.is_superuser:
                return model.objects.all()
            return model.objects.filter(memberships__shop__in=shops).distinct()
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = self.scoped_choices(request, db_field.related_model, self._write_perm)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = self.scoped_choices(request, db_field.related_model, self._write_perm)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    _write_perm = "change"


class ShopScopedAdmin(RolePermissions, admin.ModelAdmin):
    """A ModelAdmin whose rows are those of the user's shops, reached through `shop_path`."""

    shop_path = "shop"  # "pk" for Shop itself, "customer__shop" for rows hanging off a customer

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        lookup = "pk__in" if self.shop_path == "pk" else f"{self.shop_path}__in"
        return queryset.filter(**{lookup: shops_for_user(request.user)})

    def shop_id_of(self, obj):
        if self.shop_path == "pk":
            return obj.pk
        *path, last = self.shop_path.split("__")
        for part in path:
            obj = getattr(obj, part)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id")

    def _allowed_on(self, request, perm, obj):
        if obj is None:
            return self.role_allows(request, perm)
        shop_id = self.shop_id_of(obj)
        if shop_id is None:
            return request.user.is_superuser and perm in self.superuser_permissions
        return self.role_allows(request, perm, shop_id)

    def has_module_permission(self, request):
        return self.role_allows(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._allowed_on(request, "view", obj)

    def has_add_permission(self, request):
        return self.role_allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._allowed_on(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed_on(request, "delete", obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such record in your shops.")
        return obj

    def save_model(self, request, obj, form, change):
        if not self._allowed_on(request, "change" if change else "add", obj):
            raise PermissionDenied("You cannot save a record into a shop you are not a member of.")
        super().save_model(request, obj, form, change)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if self.shop_path == "shop" and (request.user.is_superuser or len(user_roles(request)) > 1):
            filters.append(("shop", admin.RelatedOnlyFieldListFilter))
        return filters

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        several = request.user.is_superuser or len(user_roles(request)) > 1
        if self.shop_path == "shop" and several and "shop" not in columns:
            columns.append("shop")
        return columns

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if self.shop_path == "shop" and "shop" not in initial:
            shops = list(self.shops_where(request, "add").values_list("pk", flat=True)[:2])
            if len(shops) == 1:
                initial["shop"] = shops[0]
        return initial


class ScopedInline(RolePermissions):
    """An inline whose permissions follow the role in the parent row's shop."""

    def _allowed_on(self, request, perm, parent):
        if parent is None or parent.pk is None:
            return self.role_allows(request, perm)
        shop_id = parent.pk if isinstance(parent, Shop) else parent.shop_id
        return self.role_allows(request, perm, shop_id)

    def has_view_permission(self, request, obj=None):
        return self._allowed_on(request, "view", obj)

    def has_add_permission(self, request, obj=None):
        return self._allowed_on(request, "add", obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed_on(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed_on(request, "delete", obj)


def _drop_constraint_errors(form, *names):
    """Drop Django's generic "Constraint … is violated" errors once a field error says it better."""
    messages = {
        c.get_violation_error_message() for c in form._meta.model._meta.constraints if c.name in names
    }
    errors = form._errors.get(NON_FIELD_ERRORS)
    if errors:
        kept = [e for e in errors if e not in messages]
        if kept:
            form._errors[NON_FIELD_ERRORS] = form.error_class(kept, error_class="nonfield")
        else:
            del form._errors[NON_FIELD_ERRORS]


def _taken(model, obj, **lookup) -> bool:
    return model.objects.filter(**lookup).exclude(pk=obj.pk).exists()


def _check_unique_in_shop(form, field, message, lookup=None):
    """A field error for a value already used in the row's shop.

    Django skips the per-shop UniqueConstraints when `shop` is not a form field (read-only on change,
    inline forms), and the database would then answer with an IntegrityError, a 500.
    """
    obj = form.instance
    value = getattr(obj, field)
    if not (obj.shop_id and value) or field in form._errors:
        return
    if _taken(type(obj), obj, shop_id=obj.shop_id, **{lookup or field: value}):
        form.add_error(field, message)


# --- customers --------------------------------------------------------------------------------------


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "shop",
            "first_name",
            "last_name",
            "phone",
            "email",
            "whatsapp_user_id",
            "segment",
            "segment_manual",
            "tags",
            "preferred_channel",
            "language",
            "needs_attention",
            "opted_out_at",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "country",
        ]

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop") or (self.instance.shop if self.instance.shop_id else None)
        tags = cleaned.get("tags")
        if shop and tags and any(tag.shop_id != shop.pk for tag in tags):
            self.add_error("tags", "Use tags of this customer's shop only.")
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # Customer.clean() normalises the phone and e-mail with the shop's country
        _check_unique_in_shop(self, "phone", "A customer of this shop already has this phone number.")
        _check_unique_in_shop(
            self, "email", "A customer of this shop already has this e-mail.", "email__iexact"
        )
        _check_unique_in_shop(
            self, "whatsapp_user_id", "A customer of this shop already has this WhatsApp id."
        )
        _drop_constraint_errors(
            self,
            "customer_phone_unique_per_shop",
            "customer_email_unique_per_shop",
            "customer_wa_user_unique_per_shop",
        )


class NoteInline(ScopedInline, admin.StackedInline):
    """Existing notes are read-only (no change permission); one empty form adds a note."""

    model = Note
    extra = 1
    fields = ["body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderInlineForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["reference", "amount", "currency", "placed_at"]

    def _post_clean(self):
        customer = getattr(self.instance, "customer", None)
        if customer is not None and customer.shop_id:
            self.instance.shop_id = customer.shop_id
        super()._post_clean()
        _check_unique_in_shop(self, "reference", "This shop already has an order with this reference.")
        _drop_constraint_errors(self, "order_reference_unique")


class OrderInline(ScopedInline, admin.TabularInline):
    model = Order
    form = OrderInlineForm
    extra = 0
    fields = ["reference", "amount", "currency", "placed_at"]


class LatestInteractionsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            self._queryset = super().get_queryset().order_by("-occurred_at", "-id")[:TIMELINE_LENGTH]
        return self._queryset


class InteractionTimelineInline(ScopedInline, admin.TabularInline):
    model = Interaction
    formset = LatestInteractionsFormSet
    fields = ["occurred_at", "direction", "channel", "body", "status"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = f"Timeline (latest {TIMELINE_LENGTH} interactions)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TagListFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        tags = Tag.objects.filter(shop__in=shops_for_user(request.user)).select_related("shop")
        several = request.user.is_superuser or len(user_roles(request)) > 1
        return [(str(t.pk), f"{t.name} ({t.shop.name})" if several else t.name) for t in tags]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(tags__pk=self.value())
        return queryset


class OptedOutFilter(admin.SimpleListFilter):
    title = "opted out"
    parameter_name = "opted_out"

    def lookups(self, request, model_admin):
        return [("yes", "Opted out"), ("no", "Reachable")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(opted_out_at__isnull=self.value() == "no")
        return queryset


@admin.register(Customer)
class CustomerAdmin(ShopScopedAdmin):
    form = CustomerForm
    role_permissions = {OWNER: ALL | {"merge", "export"}, STAFF: EDIT}
    superuser_permissions = ALL | {"merge", "export"}
    list_display = [
        "name",
        "phone",
        "email",
        "segment",
        "tag_list",
        "preferred_channel",
        "last_contact_at",
        "needs_attention",
    ]
    list_filter = ["segment", "preferred_channel", TagListFilter, "needs_attention", OptedOutFilter]
    list_select_related = ["shop"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    search_help_text = "Name, e-mail or phone in any format (06 98 76 54 32 finds +33698765432)."
    autocomplete_fields = ["tags"]
    inlines = [NoteInline, OrderInline, InteractionTimelineInline]
    actions = [
        admin_actions.merge_selected,
        admin_actions.export_selected_csv,
        admin_actions.set_segment,
        admin_actions.add_tag,
    ]
    figures = ["orders_count", "revenue", "average_basket", "customer_since", "all_interactions"]
    readonly_fields = [
        "name_source",
        # Consent changes only by the customer's own STOP and START, never by an edit.
        "opted_out_at",
        "first_contact_at",
        "last_contact_at",
        "source",
        "created_at",
        "updated_at",
        *figures,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "shop",
                    ("first_name", "last_name"),
                    "name_source",
                    "phone",
                    "email",
                    "whatsapp_user_id",
                ]
            },
        ),
        (
            "Relationship",
            {
                "fields": [
                    "segment",
                    "segment_manual",
                    "tags",
                    "preferred_channel",
                    "language",
                    "needs_attention",
                    "opted_out_at",
                ]
            },
        ),
        ("Address", {"fields": ["address_line1", "address_line2", ("postal_code", "city"), "country"]}),
        (
            "Figures",
            {
                "fields": [
                    *figures,
                    "first_contact_at",
                    "last_contact_at",
                    "source",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shop").prefetch_related("tags")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "shop"] if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.fieldsets[:-1]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        countries = set(shops_for_user(request.user).values_list("country", flat=True))
        return queryset.filter(customer_search_filter(search_term, countries)), False

    def has_merge_permission(self, request):
        return self.role_allows(request, "merge")

    def has_export_permission(self, request):
        return self.role_allows(request, "export")

    @admin.display(description="name", ordering="last_name")
    def name(self, obj):
        return obj.display_name

    @admin.display(description="tags")
    def tag_list(self, obj):
        return ", ".join(tag.name for tag in obj.tags.all())

    def _figures(self, obj):
        if obj is None or obj.pk is None:
            return {}
        if not hasattr(obj, "_admin_figures"):
            obj._admin_figures = customer_figures(obj)
        return obj._admin_figures

    @admin.display(description="orders")
    def orders_count(self, obj):
        return self._figures(obj).get("orders_count", "—")

    @admin.display(description="revenue")
    def revenue(self, obj):
        return self._figures(obj).get("revenue", "—")

    @admin.display(description="average basket")
    def average_basket(self, obj):
        return self._figures(obj).get("average_basket", "—")

    @admin.display(description="customer since")
    def customer_since(self, obj):
        return self._figures(obj).get("customer_since", "—")

    @admin.display(description="interactions")
    def all_interactions(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:customers_interaction_changelist")
        return format_html(
            '<a href="{}?customer__id__exact={}">All {} interactions</a>',
            url,
            obj.pk,
            obj.interactions.count(),
        )

    def save_model(self, request, obj, form, change):
        if {"first_name", "last_name"} & set(form.changed_data):
            obj.name_source = Customer.NameSource.HUMAN
        super().save_model(request, obj, form, change)
        if "segment" in form.changed_data:
            customers_set_segment(customers=[obj], segment=obj.segment, actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is Note:
            for note in formset.save(commit=False):
                if note.pk is None and note.body.strip():
                    note_add(customer=form.instance, body=note.body, author=request.user)
            return
        if formset.model is Order:
            for order_form in formset.forms:
                order_form.instance.shop_id = form.instance.shop_id
        super().save_formset(request, form, formset, change)

    def get_deleted_objects(self, objs, request):
        # Deleting a customer is a GDPR erasure: it takes their messages, notes and history with it, which
        # the customer delete permission covers even though those rows cannot be deleted one by one.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request, obj):
        customer_erase(customer=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            customer_erase(customer=customer, actor=request.user)


# --- conversations, notes, orders, tags ---------------------------------------------------------------


@admin.register(Interaction)
class InteractionAdmin(ShopScopedAdmin):
    shop_path = "customer__shop"
    role_permissions = {OWNER: READ, STAFF: READ}
    superuser_permissions = frozenset({"view", "delete"})
    list_display = ["occurred_at", "customer", "direction", "channel", "short_body", "status"]
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
        "status",
        "error_code",
        "author",
        "created_at",
        "raw_payload_pretty",
    ]
    readonly_fields = ["media_pretty", "location_pretty", "raw_payload_pretty"]

    @admin.display(description="body")
    def short_body(self, obj):
        return obj.body if len(obj.body) <= 80 else obj.body[:79] + "…"

    @admin.display(description="raw payload")
    def raw_payload_pretty(self, obj):
        return pretty_json(obj.raw_payload)

    @admin.display(description="media")
    def media_pretty(self, obj):
        return pretty_json(obj.media) if obj.media else "—"

    @admin.display(description="location")
    def location_pretty(self, obj):
        return pretty_json(obj.location) if obj.location else "—"

    def get_search_results(self, request, queryset, search_term):
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

    @admin.display(description="note")
    def short_body(self, obj):
        return str(obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "customer"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["shop", "customer", "reference", "amount", "currency", "placed_at"]

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop") or (self.instance.shop if self.instance.shop_id else None)
        customer = cleaned.get("customer")
        if shop and customer and customer.shop_id != shop.pk:
            self.add_error("customer", "This customer belongs to another shop.")
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        _check_unique_in_shop(self, "reference", "This shop already has an order with this reference.")


@admin.register(Order)
class OrderAdmin(ShopScopedAdmin):
    form = OrderForm
    list_display = ["reference", "customer", "amount", "currency", "placed_at"]
    list_select_related = ["customer", "shop"]
    search_fields = ["reference", "customer__first_name", "customer__last_name", "customer__phone"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "placed_at"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "shop"] if obj is not None else fields


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["shop", "name"]

    def _post_clean(self):
        super()._post_clean()
        _check_unique_in_shop(self, "name", "This shop already has this tag.")


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

    @admin.display(description="customers", ordering="customers_count")
    def customers_count(self, obj):
        return obj.customers_count


# --- shops and people ---------------------------------------------------------------------------------


class ChannelAddressInline(ScopedInline, admin.TabularInline):
    model = ChannelAddress
    role_permissions = {OWNER: ALL, STAFF: READ}
    extra = 0


class MembershipInline(ScopedInline, admin.TabularInline):
    model = Membership
    role_permissions = {OWNER: ALL, STAFF: READ}
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def get_readonly_fields(self, request, obj=None):
        # The person of an existing membership is fixed; only the role changes.
        return self.readonly_fields


@admin.register(Shop)
class ShopAdmin(ShopScopedAdmin):
    shop_path = "pk"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    role_permissions = {OWNER: frozenset({"view", "change"}), STAFF: READ}
    list_display = ["name", "slug", "country", "language", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [ChannelAddressInline, MembershipInline]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "slug"]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        for membership in formset.save(commit=False):
            if membership.pk is None:
                membership_add(shop=form.instance, user=membership.user, role=membership.role)
            else:
                membership.save(update_fields=["role"])
        for membership in formset.deleted_objects:
            membership.delete()


@admin.register(Membership)
class MembershipAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: ALL, STAFF: READ}
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "shop"]
    search_fields = ["user__username", "user__email"]
    _write_perm = "add"

    def get_readonly_fields(self, request, obj=None):
        fields = ["created_at"]
        return [*fields, "user", "shop"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not self._allowed_on(request, "change" if change else "add", obj):
            raise PermissionDenied("You cannot manage the people of a shop you do not own.")
        if change:
            obj.save(update_fields=["role"])
        else:
            obj.pk = membership_add(shop=obj.shop, user=obj.user, role=obj.role).pk


@admin.register(AuditEntry)
class AuditEntryAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: READ, STAFF: READ}
    superuser_permissions = READ
    list_display = ["created_at", "action", "customer", "actor"]
    list_filter = ["action"]
    list_select_related = ["customer", "actor", "shop"]
    fields = ["created_at", "shop", "action", "customer", "actor", "details_pretty"]
    readonly_fields = ["details_pretty"]

    @admin.display(description="details")
    def details_pretty(self, obj):
        return pretty_json(obj.details)
